"""What `chalice package --stage prod` ships: the Lambda bundle holds the runtime data, every dependency with its native
modules built for Lambda, and no dev tool; the SAM template has every function with its handler and rendered settings.

Chalice ships only app.py, chalicelib/ and requirements.txt (resolved to manylinux wheels from the package index); a
dependency without such a wheel is skipped with nothing but a warning, so only the zip tells. The package is built once
per module from a copy of the project whose .chalice/ was rendered by `make config` from stacks deployed into moto (the
settings an operator deploys), egress included, so the functions' VPC settings and policy are in the template too.
Building takes about 30 s: chalice downloads the wheels every time, because its own cache is keyed on the app's code.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from chalice.config import Config
from infra_stacks import deploy
from moto import mock_aws
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from qungui_cli import render_config

REPO = Path(__file__).resolve().parents[2]
STAGE = "prod"
REGION = "us-east-1"
# Import names (or distribution names) that must never reach Lambda: test and dev tooling, the CLI, the repo's own
# non-runtime folders.
DEV_TOOLS = frozenset(
    {
        "moto",
        "pytest",
        "_pytest",
        "hypothesis",
        "ruff",
        "mypy",
        "cfn_lint",
        "cfnlint",
        "wechatpy",
        "flask",
        "qungui_cli",
        "tests",
        "bench",
        "qungui",
    }
)
# The ABI tags a CPython extension module may carry to load in the runtime chalice targets (this interpreter's).
EXTENSION_TAGS = (f".cpython-{sys.version_info.major}{sys.version_info.minor}-x86_64-linux-gnu.so", ".abi3.so", ".so")
ELF_MAGIC = b"\x7fELF"
# The chalice CLI of this interpreter (chalice has no __main__; the console script may not be on PATH).
CHALICE = (sys.executable, "-c", "import sys; from chalice.cli import main; sys.exit(main())")
EM_X86_64 = 62


@dataclass(frozen=True)
class Package:
    project: Path
    zip_path: Path
    sam: dict[str, Any]
    rendered: render_config.StageResources
    seconds: float

    def names(self) -> set[str]:
        with zipfile.ZipFile(self.zip_path) as bundle:
            return set(bundle.namelist())

    def read(self, name: str) -> bytes:
        with zipfile.ZipFile(self.zip_path) as bundle:
            return bundle.read(name)


def _copy_project(project: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copy(REPO / "app.py", project / "app.py")
    shutil.copy(REPO / "requirements.txt", project / "requirements.txt")
    shutil.copytree(REPO / "chalicelib", project / "chalicelib", ignore=ignore)
    if (REPO / "vendor").is_dir():
        shutil.copytree(REPO / "vendor", project / "vendor", ignore=ignore)
    (project / ".chalice").mkdir()
    for source in (REPO / ".chalice").glob("*.json"):
        shutil.copy(source, project / ".chalice" / source.name)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Package:
    root = tmp_path_factory.mktemp("package")
    project, out = root / "project", root / "out"
    project.mkdir()
    _copy_project(project)
    # The module-scoped build happens before the per-test moto fuse starts, so it brings its own.
    with mock_aws():
        for kind in ("tables", "queues", "egress"):
            deploy(kind, STAGE, region=REGION)
        rendered = render_config.read_deployment(STAGE, region=REGION)
        render_config.write_stage(project, rendered)

    started = time.monotonic()
    result = subprocess.run(
        [*CHALICE, "--project-dir", str(project), "package", "--stage", STAGE, str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # Chalice reports a dependency it could not install for Lambda only as a message, and still succeeds.
    assert "Could not install dependencies" not in result.stdout + result.stderr, result.stdout
    sam = json.loads((out / "sam.json").read_text(encoding="utf-8"))
    print(f"chalice package took {seconds:.1f} s")  # shown with -s, for the record
    return Package(project, out / "deployment.zip", sam, rendered, seconds)


# --- helpers ----------------------------------------------------------------------------------------------------------


def requirements() -> list[Requirement]:
    lines = (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [Requirement(line.split(" #", 1)[0].strip()) for line in lines if line.strip() and not line.startswith("#")]


def runtime_closure() -> dict[str, importlib.metadata.Distribution]:
    """requirements.txt and everything it pulls in, as installed here (markers evaluated for this Linux CPython)."""
    found: dict[str, importlib.metadata.Distribution] = {}
    pending = [(req, frozenset(req.extras)) for req in requirements()]
    while pending:
        req, extras = pending.pop()
        name = canonicalize_name(req.name)
        if name in found:
            continue
        found[name] = importlib.metadata.distribution(req.name)
        for spec in found[name].requires or []:
            dependency = Requirement(spec)
            wanted = (
                any(dependency.marker.evaluate({"extra": e}) for e in extras or {""}) if dependency.marker else True
            )
            if wanted:
                pending.append((dependency, frozenset(dependency.extras)))
    return found


def _module_of(path: str) -> str | None:
    """The dotted module an extension file provides (None for anything else, e.g. auditwheel's vendored libraries)."""
    posix = PurePosixPath(path)
    if posix.suffix != ".so" or any(part.endswith(".libs") for part in posix.parts):
        return None
    stem = next((posix.name[: -len(tag)] for tag in EXTENSION_TAGS if posix.name.endswith(tag)), posix.name[:-3])
    stem = stem.split(".", 1)[0]
    return ".".join([*posix.parts[:-1], stem])


def top_level_imports(dist: importlib.metadata.Distribution) -> set[str]:
    listed = dist.read_text("top_level.txt")
    if listed:
        return {line.strip() for line in listed.splitlines() if line.strip()}
    names = set()
    for file in dist.files or []:
        first = file.parts[0]
        if first.endswith((".dist-info", ".data", ".pth")) or first in {"..", "__pycache__", "bin"}:
            continue
        names.add(first.split(".", 1)[0] if len(file.parts) == 1 else first)
    return names


def provides(names: set[str], top_level: str) -> bool:
    return (
        any(name.startswith(f"{top_level}/") for name in names)
        or f"{top_level}.py" in names
        or any(re.fullmatch(rf"{re.escape(top_level)}(\.[\w-]+)?\.so", name) for name in names)
    )


def functions(sam: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in sam["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}


# --- the zip ----------------------------------------------------------------------------------------------------------


def test_package_ships_the_app_and_every_chalicelib_file(package: Package) -> None:
    names = package.names()
    assert package.read("app.py") == (package.project / "app.py").read_bytes()
    # Only the runtime half of chalice goes to Lambda; the CLI and deployer stay behind.
    assert {"chalice/app.py", "chalice/__init__.py"} <= names
    assert not any(n.startswith(("chalice/cli/", "chalice/deploy/")) for n in names)

    shipped = {n for n in names if n.startswith("chalicelib/") and not n.endswith("/")}
    local = {
        path.relative_to(package.project).as_posix(): path
        for path in (package.project / "chalicelib").rglob("*")
        if path.is_file()
    }
    assert shipped == set(local)
    changed = [name for name, path in local.items() if package.read(name) != path.read_bytes()]
    assert changed == []
    # Runtime data (policies, lexicons, templates) rides along with the code: no data file may be left out.
    data = {name for name in local if not name.endswith(".py")}
    assert data <= shipped, sorted(data - shipped)


def test_package_holds_every_runtime_dependency(package: Package) -> None:
    names = package.names()
    missing = [
        f"{req.name} (import {top})"
        for req in requirements()
        for top in sorted(top_level_imports(importlib.metadata.distribution(req.name)))
        if not provides(names, top)
    ]
    assert missing == []


def test_package_holds_every_native_module_built_for_lambda(package: Package) -> None:
    names = package.names()
    shipped = {module for name in names if (module := _module_of(name))}
    needed = {
        f"{dist_name}: {module}"
        for dist_name, dist in runtime_closure().items()
        for file in dist.files or []
        if (module := _module_of(file.as_posix()))
    }
    assert {entry for entry in needed if entry.split(": ", 1)[1] not in shipped} == set()
    assert "cryptography.hazmat.bindings._rust" in shipped

    for name in sorted(n for n in names if n.endswith(".so") or ".so." in n):
        header = package.read(name)[:20]
        # ELF, 64-bit, little-endian, x86-64: what the Lambda x86_64 runtime loads (a macOS or arm64 build would not).
        assert header[:4] == ELF_MAGIC, name
        assert (header[4], header[5], int.from_bytes(header[18:20], "little")) == (2, 1, EM_X86_64), name
        module = _module_of(name)
        if module:
            assert name.endswith(EXTENSION_TAGS), f"{name}: built for another Python than the runtime"
            assert not re.search(r"\.cpython-(?!311-)\d+", name), f"{name}: built for another Python"


def test_package_carries_no_dev_tool(package: Package) -> None:
    top_levels = set()
    for name in package.names():
        first = name.split("/", 1)[0]
        if first.endswith(".dist-info"):
            top_levels.add(canonicalize_name(first[: -len(".dist-info")].rsplit("-", 1)[0]).replace("-", "_"))
        else:
            top_levels.add(first.split(".", 1)[0])
    assert top_levels & DEV_TOOLS == set()


def test_bundle_imports_on_its_own(package: Package, tmp_path: Path) -> None:
    # The zip alone, as Lambda sees it: no site-packages, no repo on the path; every chalicelib module must import.
    with zipfile.ZipFile(package.zip_path) as bundle:
        bundle.extractall(tmp_path)
    env = Config(
        chalice_stage=STAGE,
        function_name="api_handler",
        config_from_disk=json.loads((package.project / ".chalice" / "config.json").read_text(encoding="utf-8")),
    ).environment_variables
    script = (
        "import importlib, pkgutil, sys; sys.path.insert(0, sys.argv[1]); import app, chalicelib;"
        "[importlib.import_module(m.name) for m in pkgutil.walk_packages(chalicelib.__path__, 'chalicelib.')];"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in {'moto', 'pytest', 'qungui_cli'}))"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script, str(tmp_path)],
        cwd=tmp_path,
        env={**env, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "[]"


# --- the SAM template -------------------------------------------------------------------------------------------------


def _app_as_deployed(package: Package, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """app.py as Chalice loads it for this stage: with the stage's env vars set, which decide the stream handler."""
    import importlib

    import app

    for name, value in package.rendered.environment.items():
        monkeypatch.setenv(name, value)
    importlib.reload(app)
    return app


def test_template_has_every_function_with_its_handler(package: Package, monkeypatch: pytest.MonkeyPatch) -> None:
    app = _app_as_deployed(package, monkeypatch)

    expected = {"app.app"} | {source.handler_string for source in app.app.event_sources}
    expected |= {function.handler_string for function in app.app.pure_lambda_functions}
    found = functions(package.sam)

    assert {props["Handler"] for props in found.values()} == expected
    assert found["APIHandler"]["Handler"] == "app.app"
    runtime = f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert {props["Runtime"] for props in found.values()} == {runtime}
    assert {props["CodeUri"] for props in found.values()} == {"./deployment.zip"}


def test_template_carries_the_rendered_settings(package: Package, monkeypatch: pytest.MonkeyPatch) -> None:
    app = _app_as_deployed(package, monkeypatch)

    rendered = package.rendered
    policy = render_config.policy_document(rendered)
    config_from_disk = json.loads((package.project / ".chalice" / "config.json").read_text(encoding="utf-8"))
    names_by_handler = {source.handler_string: source.name for source in app.app.event_sources}
    names_by_handler |= {fn.handler_string: fn.name for fn in app.app.pure_lambda_functions}
    names_by_handler["app.app"] = "api_handler"

    for resource, props in functions(package.sam).items():
        config = Config(
            chalice_stage=STAGE, function_name=names_by_handler[props["Handler"]], config_from_disk=config_from_disk
        )
        assert props["Environment"]["Variables"] == config.environment_variables, resource
        assert (
            props["Environment"]["Variables"]["QUNGUI_DELIVER_QUEUE_URL"]
            == rendered.environment["QUNGUI_DELIVER_QUEUE_URL"]
        )
        assert props["VpcConfig"] == {
            "SecurityGroupIds": list(rendered.security_group_ids),
            "SubnetIds": list(rendered.subnet_ids),
        }, resource
        role = package.sam["Resources"][props["Role"]["Fn::GetAtt"][0]]["Properties"]
        assert [p["PolicyDocument"] for p in role["Policies"]] == [policy], resource

        for event in props.get("Events", {}).values():
            if event["Type"] == "SQS":
                queue = event["Properties"]["Queue"]
                arn = queue if isinstance(queue, str) else queue["Fn::Sub"]
                assert arn.rsplit(":", 1)[-1] in {a.rsplit(":", 1)[-1] for a in rendered.queue_arns}, resource
            elif event["Type"] == "DynamoDB":
                assert event["Properties"]["Stream"] == rendered.stream_arn, resource

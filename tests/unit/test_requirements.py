"""requirements.txt is the Lambda bundle (chalice installs it into the deployment package): it must carry exactly the
runtime pins of pyproject.toml, and no dev tool, or the bundle silently grows or drifts from what the tests ran."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
# Named even when absent from the `dev` extra, so that a tool moved into [project].dependencies is still caught.
DEV_TOOLS = {"moto", "pytest", "hypothesis", "ruff", "mypy", "cfn-lint", "flask", "wechatpy"}
# Chalice ships its own runtime (chalice/app.py) into every package; listing it would also bundle its CLI and that
# CLI's dependencies (click, inquirer, pip, setuptools, wheel …), megabytes the Lambda never imports.
PROVIDED_BY_CHALICE = {"chalice"}


def _project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _bundle() -> list[Requirement]:
    lines = (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()
    # Requirement() rejects pip options (-r, -e, --index-url): the bundle is plain pins only.
    return [Requirement(line.split(" #", 1)[0].strip()) for line in lines if line.strip() and not line.startswith("#")]


def _by_name(requirements: list[Requirement]) -> dict[str, tuple[str, frozenset[str], str]]:
    pins: dict[str, tuple[str, frozenset[str], str]] = {}
    for req in requirements:
        name = canonicalize_name(req.name)
        assert name not in pins, f"{req.name} listed twice"
        pins[name] = (str(req.specifier), frozenset(req.extras), str(req.marker or ""))
    return pins


def _pin(req: Requirement) -> str | None:
    specs = list(req.specifier)
    return specs[0].version if len(specs) == 1 and specs[0].operator == "==" else None


def test_runtime_dependencies_are_exact_pins() -> None:
    unpinned = [str(r) for r in map(Requirement, _project()["dependencies"]) if _pin(r) is None]
    assert unpinned == []


def test_bundle_mirrors_project_dependencies() -> None:
    project = _by_name([Requirement(d) for d in _project()["dependencies"]])
    for name in PROVIDED_BY_CHALICE:
        project.pop(name)
    bundle = _by_name(_bundle())

    assert bundle == project
    assert all(_pin(r) is not None for r in _bundle())


def test_bundle_holds_no_dev_dependency() -> None:
    dev_extra = {canonicalize_name(Requirement(d).name) for d in _project()["optional-dependencies"]["dev"]}
    dev = dev_extra | {canonicalize_name(t) for t in DEV_TOOLS}
    bundle = {canonicalize_name(r.name) for r in _bundle()}
    runtime = {canonicalize_name(Requirement(d).name) for d in _project()["dependencies"]}

    assert bundle & dev == set()
    assert runtime & dev == set()


def test_bundle_is_documented_as_such() -> None:
    first = (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("#")
    assert "Lambda bundle" in first
    assert "pyproject" in first

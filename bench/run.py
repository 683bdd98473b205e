"""qungui benchmarks (DESIGN.md §5), each measurement beside its baseline from the same run.

(a) cold start to first answer: a fresh interpreter imports the Lambda handler module and answers one API Gateway
    REST proxy event (GET URL verification, or POST 帮助 with an encrypted passive reply), against a moto server;
    baseline: bench/baseline_app.py, the same work by hand on bare Chalice + PynamoDB.
(b) `import app` vs `import chalice, pynamodb.models` in fresh interpreters, and where the import time goes.
(c) AWS API calls per warm ordinary callback (in-process moto, chalice.test.Client), and for a replay.

Usage: python bench/run.py [--runs N] [--messages K] [--output docs/benchmarks.md]. Prints the report and writes it
into the output file as section `callbacks` (bench/doc.py), leaving the other scripts' sections as they are.
Reported values are medians of N runs, with min-max in brackets.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from doc import write_section
from peer import CLI_ADD, TENANT, Callback, Peer

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# This checkout's code for what this process imports (the children get it through PYTHONPATH), whichever checkout
# `pip install -e` last pointed the environment at.
sys.path.insert(0, str(ROOT))
DEFAULT_OUTPUT = ROOT / "docs" / "benchmarks.md"

RATIO_TARGET = 1.3
CALLS_TARGET = 2
MODULES = {"qungui": "app", "baseline": "baseline_app"}
PACKAGES = ("chalice", "pynamodb", "boto3", "botocore", "aws-lambda-powertools", "cryptography", "defusedxml", "moto")

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    # A developer's ~/.aws could name a profile, region or endpoint that overrides the above.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
# What the Lambda runtime puts in the environment besides the stage's own variables.
LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "qungui-dev-api_handler",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
}


# ---- environment ------------------------------------------------------------------------------------------------


def stage_env() -> dict[str, str]:
    """The dev stage's environment_variables from .chalice/config.json, as Lambda would set them."""
    env = {"QUNGUI_STAGE": "dev", "QUNGUI_TABLE": "qungui-dev", "QUNGUI_SSM_PREFIX": "/qungui/dev"}
    with contextlib.suppress(OSError, ValueError, KeyError):
        config = json.loads((ROOT / ".chalice" / "config.json").read_text())
        env.update(config["stages"]["dev"].get("environment_variables", {}))
    return env


def child_env(pycache: Path, *, endpoint: str | None = None, write_bytecode: bool = True) -> dict[str, str]:
    """A clean environment for a child interpreter: fake AWS, the dev stage, and a bytecode cache this bench owns.

    The bytecode cache is a PYTHONPYCACHEPREFIX directory, so every child (ours and baseline alike) reads .pyc files
    written by the same interpreter under the same rules, whatever the caller's PYTHONDONTWRITEBYTECODE says.
    """
    prefixes = ("AWS_", "PYTHON", "POWERTOOLS_", "QUNGUI_", "LAMBDA_")
    env = {name: value for name, value in os.environ.items() if not name.startswith(prefixes)}
    env.update(FAKE_AWS)
    env.update(stage_env())
    env.update(LAMBDA_ENV)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(BENCH)])
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    if not write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


def bench_result(proc: subprocess.CompletedProcess[str], what: str) -> dict[str, Any]:
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("BENCH_RESULT "):
            return dict(json.loads(line.removeprefix("BENCH_RESULT ")))
    raise SystemExit(f"{what} failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


# ---- statistics and formatting ----------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


def ms(values: list[float]) -> str:
    return f"{median(values) * 1000:.0f} ms ({min(values) * 1000:.0f}–{max(values) * 1000:.0f})"


def ratio_cell(ours: list[float], base: list[float]) -> tuple[float, str]:
    """median(ours) / median(base), and in brackets the median of the per-round ratios: each round measures both
    back to back, so the paired ratio moves less when the machine's load drifts during the run."""
    ratio = median(ours) / median(base)
    paired = median([mine / theirs for mine, theirs in zip(ours, base, strict=True)])
    return ratio, f"{ratio:.2f}× ({paired:.2f}×)"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# ---- (a) cold start ---------------------------------------------------------------------------------------------


def proxy_event(call: Callback) -> dict[str, Any]:
    """An API Gateway REST proxy integration event, shaped as API Gateway sends it for a WeCom callback."""
    resource = "/wecom/{tenant}/callback"
    headers = {
        "Accept": "*/*",
        "Host": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "Mozilla/4.0",
        "X-Amzn-Trace-Id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}",
        "X-Forwarded-For": "101.226.103.61",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    if call.content_type:
        headers["Content-Type"] = call.content_type
        headers["Content-Length"] = str(len(call.body.encode()))
    now = datetime.now(UTC)
    request_id = str(uuid.uuid4())
    return {
        "resource": resource,
        "path": call.path,
        "httpMethod": call.method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": dict(call.query),
        "multiValueQueryStringParameters": {name: [value] for name, value in call.query.items()},
        "pathParameters": {"tenant": TENANT},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "x1y2z3",
            "resourcePath": resource,
            "httpMethod": call.method,
            "extendedRequestId": uuid.uuid4().hex[:16] + "=",
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/dev{call.path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": "dev",
            "domainPrefix": "a1b2c3d4e5",
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "sourceIp": "101.226.103.61",
                "userAgent": "Mozilla/4.0",
                "accountId": None,
                "caller": None,
                "user": None,
                "userArn": None,
                "cognitoIdentityId": None,
            },
            "domainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
            "apiId": "a1b2c3d4e5",
        },
        "body": call.body or None,
        "isBase64Encoded": False,
    }


class ColdStart:
    """Fresh child interpreters answering their first request, against one moto server started here."""

    def __init__(self, workdir: Path, pycache: Path) -> None:
        self.workdir = workdir
        self.pycache = pycache
        self.peer = Peer()
        self.endpoint = ""
        self._server: Any = None
        self._msg_id = 7_100_000_000
        self._echo = 0

    def __enter__(self) -> ColdStart:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        # Before chalicelib is imported: the models read the table name and region once, at import.
        os.environ.update({**FAKE_AWS, **stage_env(), "AWS_ENDPOINT_URL": self.endpoint})
        os.environ.pop("AWS_PROFILE", None)
        from chalicelib.store.models import Item
        from qungui_cli.main import main as qungui

        Item.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        with contextlib.redirect_stdout(io.StringIO()):
            if qungui(CLI_ADD) != 0:
                raise SystemExit("bench: `qungui tenant add` failed")
        return self

    def __exit__(self, *_: object) -> None:
        self._server.stop()

    def request(self, scenario: str) -> tuple[Callback, Callable[[str], None]]:
        """A new callback (new MsgId, current timestamp) and the check its answer must pass."""
        now = int(time.time())
        if scenario == "get":
            self._echo += 1
            echo = f"{now}{self._echo:06d}"

            def check_get(body: str) -> None:
                if body != echo:
                    raise SystemExit(f"GET answered {body[:80]!r}, expected the echo {echo!r}")

            return self.peer.app_verify(echo, now, str(now % 1_000_000)), check_get
        self._msg_id += 1
        sender = f"user{self._msg_id}"

        def check_post(body: str) -> None:
            # Both apps answer the command list (the baseline keeps a frozen copy of it): its opening is the check.
            reply = self.peer.open_app_reply(body)
            if reply.get("ToUserName") != sender or not str(reply.get("Content", "")).startswith("群规助手可用的指令"):
                raise SystemExit(f"POST answered an unexpected reply: {reply}")

        return self.peer.app_text(sender, "帮助", self._msg_id, now, str(now % 1_000_000)), check_post

    def once(
        self, module: str, scenario: str, *, write_bytecode: bool = True, pycache: Path | None = None
    ) -> dict[str, float]:
        call, check = self.request(scenario)
        event_file = self.workdir / f"event-{uuid.uuid4().hex}.json"
        event_file.write_text(json.dumps(proxy_event(call), ensure_ascii=False), encoding="utf-8")
        env = child_env(pycache or self.pycache, endpoint=self.endpoint, write_bytecode=write_bytecode)
        spawned_wall = time.time()
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(BENCH / "cold_child.py"), module, str(event_file)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        process = time.perf_counter() - started
        result = bench_result(proc, f"cold start of {module} ({scenario})")
        if result["status"] != 200 or result["base64"]:
            raise SystemExit(f"{module} {scenario}: status {result['status']}: {str(result['body'])[:200]}")
        check(result["body"])
        return {
            "startup": result["first_line_wall"] - spawned_wall,
            "import": result["import"],
            "request": result["answer"] - result["import"],
            "answer": result["answer"],
            "from_spawn": result["answer_wall"] - spawned_wall,
            "process": process,
        }


def measure_cold(runs: int, no_pyc_runs: int, workdir: Path, pycache: Path) -> dict[str, Any]:
    samples: dict[str, dict[str, list[dict[str, float]]]] = {}
    with ColdStart(workdir, pycache) as cold:
        # Round 0 fills the bytecode cache and the page cache for both apps; it is not counted.
        for round_ in range(runs + 1):
            order = list(MODULES.items())
            if round_ % 2:
                order.reverse()  # alternate who goes first, so a drift in machine load hits both alike
            for scenario in ("get", "post"):
                for who, module in order:
                    sample = cold.once(module, scenario)
                    if round_:
                        samples.setdefault(scenario, {}).setdefault(who, []).append(sample)
        empty_cache = workdir / "empty-pycache"
        empty_cache.mkdir()
        for round_ in range(no_pyc_runs):
            order = list(MODULES.items()) if round_ % 2 == 0 else list(reversed(MODULES.items()))
            for who, module in order:
                sample = cold.once(module, "post", write_bytecode=False, pycache=empty_cache)
                samples.setdefault("post_no_pyc", {}).setdefault(who, []).append(sample)
    return samples


# ---- (b) imports ------------------------------------------------------------------------------------------------

IMPORTS = {
    "qungui": "import app",
    "baseline": "import chalice, pynamodb.models",
    "baseline_app": "import baseline_app",
}


def measure_imports(runs: int, pycache: Path) -> dict[str, Any]:
    env = child_env(pycache)
    samples: dict[str, dict[str, list[float]]] = {name: {"import": [], "process": []} for name in IMPORTS}
    for round_ in range(runs + 1):
        names = list(IMPORTS) if round_ % 2 == 0 else list(reversed(IMPORTS))
        for name in names:
            code = f"import time\nstarted = time.perf_counter()\n{IMPORTS[name]}\nprint(time.perf_counter() - started)"
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-c", code],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            elapsed = time.perf_counter() - t0
            if proc.returncode:
                raise SystemExit(f"{IMPORTS[name]} failed:\n{proc.stderr[-3000:]}")
            if round_:
                samples[name]["import"].append(float(proc.stdout.strip().splitlines()[-1]))
                samples[name]["process"].append(elapsed)
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return {"samples": samples, "importtime": parse_importtime(proc.stderr)}


_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def parse_importtime(stderr: str) -> list[tuple[str, int, int, int]]:
    """(module, self µs, cumulative µs, nesting depth) per line of `-X importtime` output."""
    rows = []
    for line in stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match:
            rows.append((match[4], int(match[1]), int(match[2]), (len(match[3]) - 1) // 2))
    return rows


# ---- (c) API calls per message ----------------------------------------------------------------------------------


def measure_calls(messages: int, pycache: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(BENCH / "ddb_calls.py"), str(messages)],
        cwd=ROOT,
        env=child_env(pycache),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return bench_result(proc, "ddb_calls.py")


# ---- report -----------------------------------------------------------------------------------------------------


def machine_info() -> list[list[str]]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = []
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{name} {metadata.version(name)}")
    return [
        ["date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")],
        ["nproc", str(os.cpu_count())],
        ["CPU", cpu],
        ["Python", f"{platform.python_implementation()} {platform.python_version()}"],
        ["OS", platform.platform()],
        ["packages", ", ".join(versions)],
    ]


def load_average() -> str:
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


COLD_ROWS = [
    ("answer", "exec → answer (child's perf_counter from its first line)"),
    ("from_spawn", "spawn → answer (parent's clock, includes interpreter start)"),
    ("startup", "of which: spawn → first line (interpreter start)"),
    ("import", "of which: import of the handler module"),
    ("request", "of which: the first request (tenant load, clients, verify, reply)"),
    ("process", "process wall time, spawn → exit (parent)"),
]
SCENARIOS = {
    "get": "GET URL verification",
    "post": "POST 帮助 → encrypted reply",
    "post_no_pyc": "POST, no .pyc (as a chalice zip)",
}


def report_cold(samples: dict[str, Any], runs: int, no_pyc_runs: int) -> tuple[str, list[str]]:
    rows = []
    summary = []
    for scenario, title in SCENARIOS.items():
        if scenario not in samples:
            continue
        ours, base = samples[scenario]["qungui"], samples[scenario]["baseline"]
        for key, label in COLD_ROWS:
            ours_values = [sample[key] for sample in ours]
            base_values = [sample[key] for sample in base]
            ratio, cell = ratio_cell(ours_values, base_values)
            target = ""
            if key == "answer" and scenario in ("get", "post"):
                target = f"≤ {RATIO_TARGET}×: {verdict(ratio <= RATIO_TARGET)}"
                summary.append(f"(a) {title}: {ms(ours_values)} vs baseline {ms(base_values)} = {cell} ({target})")
            rows.append([title if key == "answer" else "", label, ms(ours_values), ms(base_values), cell, target])
    text = [
        "### (a) Cold start to first answer",
        "",
        f"A fresh `python` process per sample ({runs} samples per cell, plus one uncounted round that fills the "
        "bytecode cache): `bench/cold_child.py` records `time.perf_counter()` on its first line, imports the handler "
        "module, and calls it as the Lambda runtime does, `module.app(event, context)`, with an API Gateway REST proxy "
        "event for `/wecom/{tenant}/callback` and a Lambda-like context. DynamoDB and SSM are a moto server "
        "(`ThreadedMotoServer`) in the bench process, reached through `AWS_ENDPOINT_URL`; the tenant was registered "
        "with `qungui tenant add`. Every POST carries a new MsgId and the current timestamp; every answer is checked "
        "(the echo for GET; for POST the reply is decrypted and verified with wechatpy and must carry the help text). "
        "qungui is `import app`; the baseline is `bench/baseline_app.py` (bare Chalice + PynamoDB + boto3 SSM, the "
        "same reads, crypto, XML and conditional PutItem by hand; it keeps both items in one PynamoDB model, so it "
        "creates one DynamoDB client, where qungui creates one per model class it touches, see (c)). The baseline "
        "imports boto3 with the module, qungui on its first request: compare the totals, not only the import rows.",
        "",
        table(["first request", "measure", "qungui", "baseline", "ratio", "target"], rows),
        "",
    ]
    if "post_no_pyc" in samples:
        text += [
            f"The last block ({no_pyc_runs} samples) runs with an empty bytecode cache and "
            "`PYTHONDONTWRITEBYTECODE=1`, so every module is compiled from source, as on Lambda when the bundle "
            "carries no `.pyc` (chalice's packager does not compile, and `/var/task` is read-only). It is there to "
            "show the size of that effect, not as a target.",
            "",
        ]
    return "\n".join(text), summary


def report_imports(result: dict[str, Any], runs: int) -> tuple[str, list[str]]:
    samples = result["samples"]
    ours, base = samples["qungui"], samples["baseline"]
    ratio, cell = ratio_cell(ours["import"], base["import"])
    target = f"≤ {RATIO_TARGET}×: {verdict(ratio <= RATIO_TARGET)}"
    _, process_cell = ratio_cell(ours["process"], base["process"])
    rows = [
        ["import (perf_counter around the statement)", ms(ours["import"]), ms(base["import"]), cell, target],
        ["process wall time (parent)", ms(ours["process"]), ms(base["process"]), process_cell, ""],
    ]
    importtime = result["importtime"]
    top = sorted(importtime, key=lambda row: row[2], reverse=True)[:10]
    top_rows = [
        [f"{cumulative / 1000:.1f}", f"{own / 1000:.1f}", "&nbsp;" * 2 * depth + f"`{name}`"]
        for name, own, cumulative, depth in top
    ]
    by_package: dict[str, int] = {}
    for name, own, _, _ in importtime:
        package = name.split(".")[0]
        by_package[package] = by_package.get(package, 0) + own
    total = sum(by_package.values())
    package_rows = [
        [f"`{package}`", f"{own / 1000:.1f}", f"{own / total:.0%}"]
        for package, own in sorted(by_package.items(), key=lambda item: item[1], reverse=True)[:12]
    ]
    text = [
        "### (b) Import time",
        "",
        f"Fresh interpreters, {runs} samples each, same bytecode cache as (a). For scale, `import baseline_app` "
        f"(the whole baseline handler module) takes {ms(samples['baseline_app']['import'])}.",
        "",
        table(["measure", "`import app`", "`import chalice, pynamodb.models`", "ratio", "target"], rows),
        "",
        f'Top 10 cumulative imports of one `python -X importtime -c "import app"` run ({len(importtime)} modules, '
        f"{total / 1000:.0f} ms of self time in all), in ms:",
        "",
        table(["cumulative", "self", "module"], top_rows),
        "",
        "Self time summed per top-level package (same run):",
        "",
        table(["package", "self ms", "share"], package_rows),
        "",
    ]
    return "\n".join(text), [f"(b) import app: {ms(ours['import'])} vs {ms(base['import'])} = {cell} ({target})"]


def _calls(calls: dict[str, int], messages: int, service: str) -> tuple[float, str]:
    mine = {name.split(".", 1)[1]: count for name, count in calls.items() if name.startswith(service + ".")}
    total = sum(mine.values()) / messages
    detail = ", ".join(f"{operation} {count / messages:g}" for operation, count in sorted(mine.items()))
    return total, detail or "none"


def report_calls(result: dict[str, Any], messages: int) -> tuple[str, list[str]]:
    labels = {
        "bot_group_mention": "bot group @-mention (records activity, passive reply)",
        "app_text": "app 1:1 text (passive reply)",
    }
    rows = []
    summary = []
    for kind, label in labels.items():
        entry = result["per_kind"][kind]
        count = entry["messages"]
        dynamodb, detail = _calls(entry["calls"], count, "dynamodb")
        ssm, _ = _calls(entry["calls"], count, "ssm")
        ok = dynamodb <= CALLS_TARGET and ssm == 0
        target = f"≤ {CALLS_TARGET} DynamoDB, 0 SSM: {verdict(ok)}"
        rows.append([f"{label}, ×{count}", f"{dynamodb:g}", detail, f"{ssm:g}", target])
        summary.append(f"(c) {label}: {dynamodb:g} DynamoDB ({detail}), {ssm:g} SSM per message ({target})")
    for kind, label in labels.items():
        entry = result["replay"][kind]
        dynamodb, detail = _calls(entry["calls"], 1, "dynamodb")
        ssm, _ = _calls(entry["calls"], 1, "ssm")
        same = "same reply as the first time" if entry["same_reply"] else "**a different reply**"
        rows.append([f"replay of one {label.split(' (')[0]}", f"{dynamodb:g}", detail, f"{ssm:g}", same])
        summary.append(f"(c) replayed {label.split(' (')[0]}: {dynamodb:g} DynamoDB ({detail}), {same}")
    dynamodb, detail = _calls(result["first"], 1, "dynamodb")
    ssm, _ = _calls(result["first"], 1, "ssm")
    rows.append(["first message after start (tenant not cached yet)", f"{dynamodb:g}", detail, f"{ssm:g}", ""])
    clients = ", ".join(f"{service} {count}" for service, count in result["clients"].items())
    connections = result["dynamodb_connections"]
    text = [
        "### (c) AWS API calls per ordinary message (warm)",
        "",
        f"In one process: moto (`mock_aws`), the real Chalice routing (`chalice.test.Client`) and the default object "
        f"graph (`chalicelib.runtime`). A tenant is registered with the CLI, one message warms the container, then "
        f"{messages} distinct messages follow (half bot group @-mentions, half app 1:1 texts), then one replay of "
        "each kind. Calls are counted by a botocore `before-call` handler installed in `BUILTIN_HANDLERS` before any "
        "session exists, so it is on every client (PynamoDB's shared client, boto3's, Powertools'); retries are "
        "not counted twice.",
        "",
        table(["callback", "DynamoDB calls / msg", "by operation", "SSM calls / msg", "target"], rows),
        "",
        f"Clients that made calls after start: {clients}. Distinct PynamoDB connections across all models: "
        f"{connections} (`chalicelib.store.models.share_connection`: one botocore client for the whole table).",
        "",
    ]
    return "\n".join(text), summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="samples per measurement, median reported (min 5)")
    parser.add_argument("--messages", type=int, default=20, help="warm messages sent in (c)")
    parser.add_argument("--no-pyc-runs", type=int, default=5, help="cold POST samples without any .pyc (0: skip)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="Markdown report to write")
    args = parser.parse_args(argv)
    if args.runs < 5:
        parser.error("--runs must be at least 5")
    if args.messages < 2:
        parser.error("--messages must be at least 2")
    if args.no_pyc_runs != 0 and args.no_pyc_runs < 5:
        parser.error("--no-pyc-runs must be 0 or at least 5")

    started = time.perf_counter()
    load_before = load_average()
    print(f"qungui bench: {args.runs} runs, {args.messages} warm messages; load average {load_before}", flush=True)
    with tempfile.TemporaryDirectory(prefix="qungui-bench-") as tmp:
        workdir = Path(tmp)
        pycache = workdir / "pycache"
        print("(a) cold starts ...", flush=True)
        cold = measure_cold(args.runs, args.no_pyc_runs, workdir, pycache)
        print("(b) imports ...", flush=True)
        imports = measure_imports(args.runs, pycache)
        print("(c) API calls per message ...", flush=True)
        calls = measure_calls(args.messages, pycache)
    elapsed = time.perf_counter() - started

    sections = [
        report_cold(cold, args.runs, args.no_pyc_runs),
        report_imports(imports, args.runs),
        report_calls(calls, args.messages),
    ]
    machine = [
        *machine_info(),
        ["load average (1/5/15 min) before / after", f"{load_before} / {load_average()}"],
        ["bench wall time", f"{elapsed:.0f} s"],
    ]
    summary = [line for _, lines in sections for line in lines]
    document = "\n".join(
        [
            "## Callbacks: cold start, imports, AWS calls per message",
            "",
            f"Written by `python bench/run.py --runs {args.runs} --messages {args.messages}`; budgets in DESIGN.md "
            "§5. Values are medians over the samples, min–max in brackets; every qungui value "
            "stands beside its baseline from the same run. Ratios are median(qungui) / median(baseline); in "
            "brackets, the median of the per-round ratios (each round runs both back to back, so it drifts less with "
            "the machine's load). Numbers from a shared 2-core box move with its load: compare ratios, and rerun "
            "before reading much into a few ms.",
            "",
            table(["machine", ""], machine),
            "",
            "Summary:",
            "",
            *[f"- {line}" for line in summary],
            "",
            *[text for text, _ in sections],
        ]
    )
    write_section(args.output, "callbacks", document)
    print()
    print(document)
    print(f"written to {args.output} (section callbacks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

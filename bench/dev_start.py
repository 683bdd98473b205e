"""Local stack start-up benchmark (issue 3): how long `qungui dev` takes from spawn to its ready line and to the first
answered HTTP request, as a newcomer starts it.

Each run spawns `python -m qungui_cli.main dev --no-schedules --port P` in the project folder with a clean
environment: nothing AWS_* or QUNGUI_* inherited (so no endpoint, profile or running stack is picked up) and a fresh
QUNGUI_DEV_STATE in a temporary folder. The parent timestamps every output line as it arrives; once the ready line is
there it sends one GET to an unknown tenant's callback URL (any HTTP answer counts; 404 is what it should be), then
stops the stack with SIGINT, as Ctrl-C does, and checks that it exits 0 and removes its state file.

Usage: python bench/dev_start.py [--runs N] [--output docs/benchmarks.md]. Prints the report and writes it into the
output file as section `local-stack` (bench/doc.py).
"""

from __future__ import annotations

import argparse
import os
import platform
import queue
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from doc import write_section

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "docs" / "benchmarks.md"
TARGET_SECONDS = 20.0
READY = "qungui dev ready on"
# The stack reports its own start time (moto, fake WeCom, CloudFormation stacks, API server) at the end of the line.
STACK_TOOK = re.compile(r", ([\d.]+)s\)\s*$")
# A syntactically complete URL verification for a tenant nobody registered: the stack must look it up to refuse it.
PROBE = "/wecom/benchnobody/callback?msg_signature=0&timestamp=1700000000&nonce=1&echostr=AAAA"
START_TIMEOUT = 120.0
STACK_ROW = (
    "of which: the stack's start as it reports it (moto server, fake WeCom, infra/ stacks, API server, with the "
    "imports each needs)"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_env(state: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "QUNGUI_"))}
    env["QUNGUI_DEV_STATE"] = str(state)
    return env


def _pump(stream: IO[str], lines: queue.Queue[tuple[float, str | None]]) -> None:
    """Timestamp each line as it arrives, and keep the pipe drained so the stack never blocks on a full pipe."""
    for line in stream:
        lines.put((time.perf_counter(), line))
    lines.put((time.perf_counter(), None))


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - a fixed http://127.0.0.1 URL
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as answer:  # an HTTP status is an answer too
        answer.read()
        return int(answer.code)


def once(workdir: Path) -> dict[str, Any]:
    port = free_port()
    state = workdir / f"dev-{port}.json"
    output: list[str] = []
    lines: queue.Queue[tuple[float, str | None]] = queue.Queue()
    spawned = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "qungui_cli.main", "dev", "--no-schedules", "--port", str(port)],
        cwd=ROOT,
        env=clean_env(state),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    try:
        ready_at, ready_line = None, ""
        while ready_at is None:
            try:
                at, line = lines.get(timeout=max(0.1, spawned + START_TIMEOUT - time.perf_counter()))
            except queue.Empty:
                raise SystemExit(f"qungui dev was not ready in {START_TIMEOUT:.0f} s:\n{''.join(output)}") from None
            if line is None:
                raise SystemExit(f"qungui dev exited with {process.wait()} before ready:\n{''.join(output)}")
            output.append(line)
            if READY in line:
                ready_at, ready_line = at, line
        if f"http://127.0.0.1:{port}" not in ready_line:
            raise SystemExit(f"the ready line names another address: {ready_line!r}")
        status = get(f"http://127.0.0.1:{port}{PROBE}")
        answered_at = time.perf_counter()
        if status >= 500:
            raise SystemExit(f"the first GET was answered {status}:\n{''.join(output)}")
        took = STACK_TOOK.search(ready_line)
        stopping = time.perf_counter()
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
        stopped = time.perf_counter()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if code != 0:
        raise SystemExit(f"qungui dev exited {code} on SIGINT:\n{''.join(output)}")
    if state.exists():
        raise SystemExit(f"qungui dev left its state file {state} behind")
    return {
        "ready": ready_at - spawned,
        "answered": answered_at - spawned,
        "stack": float(took[1]) if took else None,
        "status": status,
        "stop": stopped - stopping,
    }


def seconds(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({min(values):.2f}–{max(values):.2f})"


def load_average() -> str:
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def report(args: argparse.Namespace) -> str:
    load_before = load_average()
    samples = []
    with tempfile.TemporaryDirectory(prefix="qungui-dev-bench-") as tmp:
        for run in range(args.runs):
            print(f"run {run + 1}/{args.runs} ...", file=sys.stderr, flush=True)
            samples.append(once(Path(tmp)))
    ready = [s["ready"] for s in samples]
    answered = [s["answered"] for s in samples]
    stack = [s["stack"] for s in samples if s["stack"] is not None]
    met = max(answered) < TARGET_SECONDS
    verdict = f"< {TARGET_SECONDS:g} s: {'met' if met else '**missed**'} (every run)"
    rows = [
        ["spawn → ready line", seconds(ready), ""],
        ["spawn → first answered GET", seconds(answered), verdict],
        ["ready line → that answer", seconds([a - r for a, r in zip(answered, ready, strict=True)]), ""],
    ]
    if len(stack) == len(samples):
        before = [r - s for r, s in zip(ready, stack, strict=True)]
        rows += [
            [STACK_ROW, seconds(stack), ""],
            ["of which: interpreter start and CLI, before the stack starts", seconds(before), ""],
        ]
    rows.append(["SIGINT → exit 0, state file removed", seconds([s["stop"] for s in samples]), ""])
    statuses = sorted({s["status"] for s in samples})
    lines = [
        "## Local stack start-up",
        "",
        f"Written by `python bench/dev_start.py --runs {args.runs}`; issue 3 target. "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {load_before} before / {load_average()} after.",
        "",
        f"Each of {args.runs} runs spawns `python -m qungui_cli.main dev --no-schedules --port P` in the project "
        "folder with no AWS_* or QUNGUI_* variable inherited and a fresh QUNGUI_DEV_STATE, as a newcomer starts it. "
        "The parent's clock runs from the spawn to the ready line's arrival, and to the answer of one GET to an "
        f"unknown tenant's callback URL sent right after it (answered HTTP {', '.join(map(str, statuses))}: the "
        "stack looked the tenant up in its embedded DynamoDB and refused it). Then SIGINT, as Ctrl-C; every run "
        "exited 0 and removed its state file. Median (min–max):",
        "",
        "| measure | seconds | target |",
        "|---|---|---|",
        *[f"| {name} | {value} | {target} |" for name, value, target in rows],
        "",
        "Per run, spawn → first answered GET: " + ", ".join(f"{a:.2f} s" for a in answered) + ".",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="stack starts to time (median reported, min 3)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="Markdown file to update")
    args = parser.parse_args(argv)
    if args.runs < 3:
        parser.error("--runs must be at least 3")
    section = report(args)
    print(section)
    write_section(args.output, "local-stack", section)
    print(f"written to {args.output} (section local-stack)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

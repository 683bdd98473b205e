"""`qungui job NAME [--now ISO8601]`: run a scheduled job once, through the code EventBridge calls."""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime
from typing import Any

from qungui_cli.errors import CliError

KNOWN = ("deliver", "reconcile", "digest", "ack-check", "inactivity-sweep", "pull", "retention")


def register(subparsers: Any) -> None:
    job = subparsers.add_parser("job", help="run a scheduled job once")
    job.add_argument("name", choices=KNOWN)
    job.add_argument("--now", help="the job's clock, with an offset: 2026-12-01T09:05:00+08:00 (default: now)")
    job.set_defaults(handler=run_job)


def parse_now(text: str | None) -> float:
    if text is None:
        return time.time()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CliError(f"--now: not an ISO 8601 time: {text!r}") from exc
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CliError("--now needs an offset (e.g. 2026-12-01T09:05:00+08:00): a naive time is ambiguous")
    return moment.timestamp()


def run_job(args: argparse.Namespace) -> int:
    from chalicelib import jobs

    now = parse_now(args.now)
    job = jobs.JOBS.get(args.name.replace("-", "_"))
    if job is None:
        raise CliError(f"job {args.name!r} is part of a later release: available now: {', '.join(sorted(jobs.JOBS))}")
    print(json.dumps({"job": args.name, "now": datetime.fromtimestamp(now).astimezone().isoformat(), **job(now)}))
    return 0

"""The `qungui` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from qungui_cli import target
from qungui_cli.errors import CliError


def build_parser() -> argparse.ArgumentParser:
    from qungui_cli import (
        alert_cmd,
        callback_cmd,
        demo,
        dev,
        group_cmd,
        job_cmd,
        ledger_cmd,
        outbox_cmd,
        policy_cmd,
        tenant_cmd,
    )

    parser = argparse.ArgumentParser(prog="qungui", description="qungui (群规): group rulebook enforcement for WeCom.")
    parser.add_argument("--stage", help="act on a deployed stage (dev, prod) with the usual AWS credentials")
    commands = parser.add_subparsers(dest="command", required=True)
    tenant_cmd.register(commands)
    dev.register(commands)
    callback_cmd.register(commands)
    group_cmd.register(commands)
    demo.register(commands)
    job_cmd.register(commands)
    outbox_cmd.register(commands)
    alert_cmd.register(commands)
    policy_cmd.register(commands)
    ledger_cmd.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "needs_target", True):
            target.select(args.stage)
        return int(args.handler(args))
    except CliError as exc:
        print(f"qungui: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        # AWS or the local stack went away mid-command (PynamoDB and botocore errors): say so in one line.
        if type(exc).__module__.split(".")[0] not in ("pynamodb", "botocore", "boto3"):
            raise
        print(f"qungui: an AWS call failed: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

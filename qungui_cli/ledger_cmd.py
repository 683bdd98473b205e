"""`qungui ledger --tenant ID [--json]`: the append-only ledger (DESIGN.md §4)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from qungui_cli.errors import CliError


def register(subparsers: Any) -> None:
    ledger = subparsers.add_parser("ledger", help="warnings, fines and what settled them")
    ledger.add_argument("--tenant", required=True)
    ledger.add_argument("--json", action="store_true")
    ledger.set_defaults(handler=show_ledger)


def entry_view(entry: Any, timezone: str) -> dict[str, Any]:
    at = datetime.fromtimestamp(int(entry.at), tz=UTC).astimezone(ZoneInfo(timezone))
    return {
        "id": entry.entry_id,
        "kind": entry.kind,
        "member": entry.member,
        "group": entry.group,
        "rule": entry.rule,
        "clause": entry.clause,
        "amount": float(entry.amount) if entry.amount is not None else None,
        "status": entry.status,
        "ref": entry.ref,
        "evidence": entry.evidence,
        "excerpt": entry.excerpt,
        "policy_version": entry.policy_version,
        "at": at.isoformat(),
    }


def show_ledger(args: argparse.Namespace) -> int:
    from chalicelib import ledger
    from qungui_cli import aws

    record = aws.get_tenant_record(args.tenant)
    if record is None:
        raise CliError(f"unknown tenant {args.tenant!r}")
    views = [entry_view(entry, record.timezone or "Asia/Shanghai") for entry in ledger.entries(args.tenant)]
    if args.json:
        print(json.dumps(views, ensure_ascii=False, indent=2))
        return 0
    if not views:
        print(f"the ledger of {args.tenant} is empty")
    for view in views:
        amount = f" ¥{view['amount']:g}" if view["amount"] is not None else ""
        print(f"{view['at']}  {view['id']}  {view['kind']}{amount}  {view['status']}  {view['member']}  "
              f"{view['rule']}  {view['excerpt'] or ''}")  # fmt: skip
    return 0

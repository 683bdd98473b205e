"""`qungui group add|list`: enrol groups (needed when a tenant governs only listed groups) and see what is known."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from qungui_cli.errors import CliError

KINDS = ("customer", "appchat", "internal", "unknown")


def register(subparsers: Any) -> None:
    group = subparsers.add_parser("group", help="enrol and list a tenant's groups")
    actions = group.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="enrol a group (re-adding updates it)")
    add.add_argument("chat_id")
    add.add_argument("--tenant", required=True)
    add.add_argument("--kind", choices=KINDS, help="customer group, app-created group, internal group")
    add.add_argument("--name")
    add.add_argument("--owner", help="the owner's UserID")
    add.add_argument("--policy", help="a policy YAML file for this group (validated before it is stored)")
    add.add_argument("--ungoverned", action="store_true", help="known, but no rule runs there")
    add.set_defaults(handler=add_group)
    listing = actions.add_parser("list", help="the tenant's groups")
    listing.add_argument("--tenant", required=True)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_groups)


def add_group(args: argparse.Namespace) -> int:
    from chalicelib.store import keys
    from chalicelib.store.models import GroupRecord
    from qungui_cli import aws

    if aws.get_tenant_record(args.tenant) is None:
        raise CliError(f"unknown tenant {args.tenant!r}")
    if not args.chat_id.isascii() or not 1 <= len(args.chat_id) <= 128 or any(c.isspace() for c in args.chat_id):
        raise CliError("CHATID: the group's chat id as WeCom reports it (ASCII, no spaces)")
    record = aws.get_group_record(args.tenant, args.chat_id) or GroupRecord(
        keys.tenant_pk(args.tenant), keys.group_sk(args.chat_id), chat_id=args.chat_id, enrolled_at=int(time.time())
    )
    if args.kind:
        record.kind = args.kind
    if args.name is not None:
        record.name = args.name
    if args.owner is not None:
        record.owner = args.owner
    record.governed = not args.ungoverned
    if args.policy:
        record.policy = _read_policy(args.policy)
    record.save()
    print(json.dumps(_view(record), ensure_ascii=False))
    return 0


def _read_policy(path_text: str) -> str:
    path = Path(path_text)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from exc


def list_groups(args: argparse.Namespace) -> int:
    from qungui_cli import aws

    groups = [_view(record) for record in aws.list_group_records(args.tenant)]
    if args.json:
        print(json.dumps(groups, ensure_ascii=False, indent=2))
        return 0
    if not groups:
        print(f"no groups enrolled for {args.tenant}")
        return 0
    for group in groups:
        status = "governed" if group["governed"] else "not governed"
        print(f"{group['chat_id']}\t{group['kind']}\t{status}\t{group['name'] or ''}")
    return 0


def _view(record: Any) -> dict[str, Any]:
    return {
        "chat_id": record.chat_id,
        "kind": record.kind,
        "governed": bool(record.governed),
        "name": record.name,
        "owner": record.owner,
        "has_policy": record.policy is not None,
    }

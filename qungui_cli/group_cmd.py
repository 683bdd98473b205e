"""`qungui group add|list`: enrol groups (needed when a tenant governs only listed groups) and see what is known.

`group list` also says, per group, which rules of the policy it runs can be enforced there and why not
(chalicelib.rules.enforceability: what the platforms let us see per kind of group, DESIGN.md §1)."""

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
    add.add_argument("--name", help="the group's name; the group_name rule holds the group to it")
    add.add_argument("--owner", help="the owner's UserID")
    add.add_argument("--policy", help="a policy YAML file for this group (validated before it is stored)")
    add.add_argument("--ungoverned", action="store_true", help="known, but no rule runs there")
    add.set_defaults(handler=add_group)
    listing = actions.add_parser("list", help="the tenant's groups")
    listing.add_argument("--tenant", required=True)
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--now", help="judge rulebook effective dates at this time, with an offset (default: now)")
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
        keys.tenant_pk(args.tenant), keys.group_sk(args.chat_id), chat_id=args.chat_id
    )
    if record.enrolled_at is None:  # new, or a record qungui made itself from an event: enrolling it is the point
        record.enrolled_at = int(time.time())
    if args.kind:
        record.kind = args.kind
    if args.name is not None:
        # The name an admin enrols a group with is the one the group_name rule holds it to (篇三 1).
        record.name = args.name
        record.locked_name = args.name
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
    from chalicelib.tenants import tenant_from
    from qungui_cli import aws
    from qungui_cli.job_cmd import parse_now

    tenant_record = aws.get_tenant_record(args.tenant)
    if tenant_record is None:
        raise CliError(f"unknown tenant {args.tenant!r}")
    tenant = tenant_from(tenant_record, {})  # settings only: listing needs no secret
    today = _local_date(parse_now(args.now), tenant.timezone)
    groups = [_listing(record, tenant, today) for record in aws.list_group_records(args.tenant)]
    if args.json:
        print(json.dumps(groups, ensure_ascii=False, indent=2))
        return 0
    if not groups:
        print(f"no groups known for {args.tenant}")
        return 0
    print("\n\n".join(_text(group) for group in groups))
    return 0


STATUS_MARKS = {"enforced": "✓", "partial": "◐", "shadow": "◌", "not_applicable": "·", "unenforceable": "✗"}


def _text(group: dict[str, Any]) -> str:
    """One header line, then one indented line per rule and per clause the policy leaves unenforced."""
    status = "governed" if group["governed"] else "not governed"
    header = [group["chat_id"], group["kind"], status, group["name"] or ""]
    if not group["enrolled"]:
        header.append("not enrolled")
    header.append(f"policy {group['policy']}")
    lines = ["\t".join(header)]
    lines += [f"  ! {note}" for note in group["notes"]]
    for rule in group["rules"]:
        mark = STATUS_MARKS.get(rule["status"], "?")
        reason = f"  {rule['reason']}" if rule["reason"] else ""
        lines.append(f"  {mark} {rule['status']:<14} {rule['rule']:<24} {rule['clause']:<8}{reason}".rstrip())
        lines += [f"      - {note}" for note in rule["notes"]]
    for entry in group["unenforceable"]:  # the policy's own list: clauses (or parts) no rule enforces
        mark, label = ("–", "declarative") if entry["declarative"] else ("✗", "unenforceable")
        part = f"（{entry['part']}）" if entry["part"] else ""
        lines.append(f"  {mark} {label:<14} {'(policy)':<24} {entry['clause']:<8}  {part}{entry['reason']}")
    return "\n".join(lines)


def _listing(record: Any, tenant: Any, today: str) -> dict[str, Any]:
    """The existing fields of a group, plus what its policy can enforce there (chalicelib.rules.enforceability)."""
    from chalicelib import groups
    from chalicelib.rules.enforceability import assess
    from chalicelib.texts import enforceability as texts

    view = groups.view_of(record)
    policy = groups.policy_for(tenant, view)
    governed = groups.is_governed(tenant, view)
    assessment = assess(
        policy,
        view.kind,
        bot_enabled=tenant.bot_enabled,
        governed=governed,
        ungoverned_reason=texts.UNGOVERNED_SET if not view.governed else texts.UNGOVERNED_UNLISTED,
        today=today,
    )
    notes = list(assessment.notes) + ([] if view.enrolled else [texts.NOT_ENROLLED])
    return {
        **_view(record),
        "enrolled": view.enrolled,
        "policy": assessment.policy,
        "notes": notes,
        "rules": [rule.to_json() for rule in assessment.rules],
        "unenforceable": [
            {"clause": str(entry.get("clause")), "part": entry.get("part"), "reason": str(entry.get("reason") or ""),
             "declarative": bool(entry.get("declarative"))}
            for entry in assessment.unenforceable
        ],
    }  # fmt: skip


def _local_date(now: float, timezone: str) -> str:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("Asia/Shanghai")
    return datetime.fromtimestamp(now, tz=UTC).astimezone(zone).date().isoformat()


def _view(record: Any) -> dict[str, Any]:
    return {
        "chat_id": record.chat_id,
        "kind": record.kind,
        "governed": bool(record.governed),
        "name": record.name,
        "owner": record.owner,
        "has_policy": record.policy is not None,
    }

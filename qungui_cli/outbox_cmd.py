"""`qungui outbox --tenant ID [--json] [--status S] [--requeue ITEM]`: what qungui sent, is sending, or gave up on."""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from typing import Any

from qungui_cli.errors import CliError

STATUSES = ("pending", "retrying", "sent", "dead")


def register(subparsers: Any) -> None:
    outbox = subparsers.add_parser("outbox", help="list outbound messages; re-queue a dead one")
    outbox.add_argument("--tenant", required=True)
    outbox.add_argument("--json", action="store_true")
    outbox.add_argument("--status", choices=STATUSES)
    outbox.add_argument("--requeue", metavar="ITEM", help="give a dead item another full set of attempts")
    outbox.set_defaults(handler=show_outbox)


def _iso(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat() if epoch else None


def item_view(item: Any) -> dict[str, Any]:
    waiting = item.status in ("pending", "retrying")
    return {
        "id": item.sk.split("#", 1)[1],
        "to": item.to,
        "channel": item.channel,
        "status": item.status,
        "attempts": int(item.attempts or 0),
        "last_error": item.last_error,
        "next_attempt_at": _iso(item.next_attempt_at) if waiting else None,
        "created_at": _iso(item.created_at),
        "sent_at": _iso(item.sent_at),
        "source": item.source,
    }


def show_outbox(args: argparse.Namespace) -> int:
    from pynamodb.exceptions import DoesNotExist, PynamoDBException, UpdateError

    from chalicelib.jobs.deliver import requeue
    from chalicelib.store import keys
    from chalicelib.store.models import OutboxItem

    if args.requeue:
        try:
            requeue(args.tenant, args.requeue, time.time())
        except DoesNotExist as exc:
            raise CliError(f"no outbox item {args.requeue!r} for tenant {args.tenant!r}") from exc
        except UpdateError as exc:
            raise CliError(f"item {args.requeue!r} is not dead; only dead items are re-queued") from exc
        print(f"re-queued {args.requeue}")
        return 0
    try:
        items = [
            item_view(item)
            for item in OutboxItem.query(keys.tenant_pk(args.tenant), OutboxItem.sk.startswith(keys.outbox_sk("")))
            if args.status is None or item.status == args.status
        ]
    except PynamoDBException as exc:
        raise CliError(f"cannot read the outbox: {exc.msg}") from exc
    items.sort(key=lambda view: view["created_at"] or "")
    if args.json:
        print(json.dumps(items, ensure_ascii=False, indent=2))
        return 0
    if not items:
        print(f"the outbox of {args.tenant} is empty")
    for view in items:
        detail = view["last_error"] or view["next_attempt_at"] or view["sent_at"] or ""
        print(f"{view['id']}\t{view['status']}\t{view['channel']}:{view['to']}\tattempts={view['attempts']}\t{detail}")
    return 0

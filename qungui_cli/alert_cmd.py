"""`qungui alert test --tenant ID [--to USERID] [--wait]`: the first thing an admin runs after connecting a tenant —
a test alert through the real outbox and the real WeCom API, and what became of it."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from qungui_cli.errors import CliError


def register(subparsers: Any) -> None:
    alert = subparsers.add_parser("alert", help="send a test alert")
    actions = alert.add_subparsers(dest="action", required=True)
    test = actions.add_parser("test", help="send a test alert to the tenant's admins (or --to) through the outbox")
    test.add_argument("--tenant", required=True)
    test.add_argument("--to", help="a UserID (default: the tenant's admins)")
    test.add_argument("--wait", action="store_true", help="wait until it is sent or has failed, and say which")
    test.add_argument("--timeout", type=float, default=90.0, help="seconds --wait waits (default 90)")
    test.set_defaults(handler=send_test_alert)


def send_test_alert(args: argparse.Namespace) -> int:
    from chalicelib.effects import outbox
    from chalicelib.store import keys
    from chalicelib.store.models import OutboxItem
    from chalicelib.texts import alerts
    from qungui_cli import aws

    record = aws.get_tenant_record(args.tenant)
    if record is None:
        raise CliError(f"unknown tenant {args.tenant!r}")
    recipients = [args.to] if args.to else list(record.admins or [])
    if not recipients:
        raise CliError("the tenant has no admins: pass --to USERID, or set them with `qungui tenant add ID --admins …`")
    now = time.time()
    source = f"alert-test:{int(now * 1000)}"
    ids = []
    for to in recipients:
        item_id = outbox.message_id(args.tenant, source, "AlertTest", None, to, "")
        content = alerts.connection_test_alert(tenant=args.tenant, ref=item_id)
        message = outbox.Message("app", to, "markdown", content, "AlertTest", None, item_id)
        outbox.new_item(args.tenant, source, item_id, message, now).save()
        ids.append(item_id)
    print(json.dumps({"queued": ids, "to": recipients}))
    if not args.wait:
        return 0
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        states = [OutboxItem.get(keys.tenant_pk(args.tenant), keys.outbox_sk(i), consistent_read=True) for i in ids]
        if all(item.status in ("sent", "dead") for item in states):
            for item in states:
                status = "已送达 sent" if item.status == "sent" else f"失败 dead: {item.last_error}"
                print(f"{item.to}: {status}")
            return 0 if all(item.status == "sent" for item in states) else 1
        time.sleep(1)
    raise CliError(
        f"not delivered within {args.timeout:.0f}s: is delivery running? (`qungui dev` delivers by itself; "
        "a deployed stage delivers from the table stream and the `deliver` schedule; `qungui job deliver` runs it once)"
    )

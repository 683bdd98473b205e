"""The outbox: outbound messages as items written in the same transaction as the decision that caused them.

Identity: an item's id is a hash of (tenant, source event, decision kind, clause, recipient, ref), so the same
decision planned twice is one item, while two genuine reminders (different events) are two. The id is also the
message's visible reference (编号) and the platform's stable id where there is one (Official Account
client_msg_id), so a re-send after a crash is recognisable as the same message.

States: pending → sent | retrying (next attempt with exponential backoff and jitter) → dead after MAX_ATTEMPTS or on
a permanent error. Nothing is dropped: dead items stay until an admin re-queues them.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.decisions import AlertAdmins, Decision, PostToGroup, RemindMember, SendDigest
from chalicelib.events import Event
from chalicelib.rules.decisions_membership import RemoveMember, RestoreGroupName
from chalicelib.store import keys
from chalicelib.store.models import OutboxItem
from chalicelib.texts import alerts

SHARDS = 4  # GSI1 partitions for due items; the delivery job reads them all
MAX_ATTEMPTS = 8
BASE_BACKOFF = 30.0  # seconds; doubles per attempt: 30 s, 1 min, 2 min … ~1 h before the 8th
MAX_BACKOFF = 3600.0
SENT_RETENTION = 30 * 24 * 3600  # sent items are kept a month for audit, then expire


@dataclass(frozen=True, slots=True)
class Message:
    """One outbound message before it becomes an item."""

    channel: str  # app | appchat | robot | mp
    to: str
    msgtype: str  # text | markdown
    content: str
    kind: str
    clause: str | None
    ref: str


def message_id(tenant: str, source: str, kind: str, clause: str | None, to: str, ref: str) -> str:
    digest = hashlib.sha256("\x1f".join((tenant, source, kind, clause or "", to, ref)).encode()).hexdigest()
    return digest[:20]


def shard_of(item_id: str) -> int:
    return int(item_id[:4], 16) % SHARDS


def messages_for(event: Event, decisions: Iterable[Decision], timezone: str) -> list[tuple[str, Message]]:
    """Pure: the messages an event's decisions send, with their ids (duplicates collapsed)."""
    planned: dict[str, Message] = {}
    for decision in decisions:
        for channel, to, msgtype, render in _recipients(decision):
            item_id = message_id(event.tenant, event.event_id, decision.kind, decision.clause, to, _ref(decision))
            planned[item_id] = Message(channel, to, msgtype, render(item_id, timezone), decision.kind,
                                       decision.clause, item_id)  # fmt: skip
    return list(planned.items())


def _ref(decision: Decision) -> str:
    if isinstance(decision, RemoveMember):
        return decision.member  # two removals from one group in one event are two actions
    return str(getattr(decision, "ref", "") or "")


def _recipients(decision: Decision) -> list[tuple[str, str, str, Any]]:
    if isinstance(decision, AlertAdmins):

        def render_alert(ref: str, timezone: str) -> str:
            return alerts.admin_alert(
                what=decision.what, clause=decision.clause, ref=ref, group=decision.group,
                group_name=decision.group_name, member=decision.member, evidence_at=decision.evidence_at,
                action=decision.action, waivable=decision.ref, timezone=timezone,
            )  # fmt: skip

        return [("app", admin, "markdown", render_alert) for admin in dict.fromkeys(decision.recipients)]
    if isinstance(decision, RemindMember):

        def render_reminder(ref: str, timezone: str) -> str:
            return alerts.member_reminder(what=decision.what, clause=decision.clause, ref=ref)

        return [(decision.via, decision.member, "text", render_reminder)]
    if isinstance(decision, RemoveMember | RestoreGroupName):
        # Not a message but an app-chat change: the same outbox gives it retries, dead letters and an audit trail.
        action = (
            {"action": "remove", "member": decision.member}
            if isinstance(decision, RemoveMember)
            else {"action": "rename", "name": decision.name}
        )

        def render_action(ref: str, timezone: str) -> str:
            return json.dumps(action, ensure_ascii=False)

        return [("appchat_action", decision.chat_id, "action", render_action)]
    if isinstance(decision, PostToGroup):

        def render_post(ref: str, timezone: str) -> str:
            return alerts.group_post(text=decision.text, clause=decision.clause, ref=ref)

        to = decision.robot if decision.via == "robot" else decision.chat_id
        return [(decision.via, to, "text", render_post)]
    if isinstance(decision, SendDigest):

        def render_digest(ref: str, timezone: str) -> str:
            return alerts.report(text=decision.text, ref=ref)

        return [("app", to, "markdown", render_digest) for to in dict.fromkeys(decision.recipients)]
    return []


def new_item(tenant: str, source: str, item_id: str, message: Message, now: float) -> OutboxItem:
    due = int(now)
    return OutboxItem(
        keys.tenant_pk(tenant),
        keys.outbox_sk(item_id),
        tenant=tenant,
        channel=message.channel,
        to=message.to,
        payload=json.dumps(
            {"msgtype": message.msgtype, message.msgtype: {"content": message.content}}, ensure_ascii=False
        ),
        source=source,
        status="pending",
        attempts=0,
        next_attempt_at=due,
        created_at=due,
        gsi1pk=keys.outbox_due_pk(shard_of(item_id)),
        gsi1sk=keys.due_sk(due, f"{tenant}#{item_id}"),
    )


def backoff(attempts: int, rng: random.Random) -> float:
    """Exponential backoff with full jitter in [base/2, base] so that a WeCom outage does not end in a stampede."""
    base = min(MAX_BACKOFF, BASE_BACKOFF * 2 ** max(0, attempts - 1))
    return base / 2 + rng.random() * base / 2

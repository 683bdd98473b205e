"""Delivers due outbox items: at least once, paced to the platforms' limits, never silently dropped.

Per item: claim it (a lease, so two workers never send it at once) together with a pacing slot in one transaction;
send; record the outcome. A crash after the send and before the record leaves the item claimed: when the lease runs
out it is sent again (at-least-once), and WeCom's duplicate check drops the identical re-send (the content carries the
item's unique reference); the Official Account gets the item id as client_msg_id. A robot webhook has no such check,
so there a crash can repeat a message: it cannot lose one.

Pacing "by waiting in the outbox": WeCom drops without error whatever exceeds 30 app messages per member per minute
and a robot's 20 per minute, so each bucket (member, robot, app chat) hands out send slots T seconds apart; an item
that finds its bucket busy reserves the next slot and waits for it (without using up an attempt).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from pynamodb.exceptions import PynamoDBException, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.effects import outbox
from chalicelib.store import keys
from chalicelib.store.models import Item, OutboxItem, RateWindow
from chalicelib.tenants import Tenant, TenantDirectory, TenantError
from chalicelib.wecom.errors import PermanentError, RetryableError, WeComError

LEASE_SECONDS = 60
# Seconds between two sends in one bucket: 60/30 per member (message/send), 60/20 per robot, 200/min per app chat.
PACING = {"app": 2.0, "robot": 3.0, "appchat": 0.3}
BATCH = 100
STALE_SLOT_SECONDS = 3600


class Sender(Protocol):
    def send(self, tenant: Tenant, item: OutboxItem) -> str | None:
        """Send one item; the platform's message id if it gives one. Raises WeComError subclasses."""


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    deferred: int = 0  # waiting for a pacing slot
    skipped: int = 0  # claimed by another worker, or no longer due
    errors: list[str] = field(default_factory=list)


def pacing_bucket(item: OutboxItem) -> tuple[str, float] | None:
    interval = PACING.get(item.channel)
    return (f"{item.channel}#{item.to}", interval) if interval else None


class Deliverer:
    def __init__(
        self,
        tenants: TenantDirectory,
        sender: Sender,
        clock: Callable[[], float],
        rng: random.Random | None = None,
        on_dead: Callable[[OutboxItem], None] | None = None,
    ) -> None:
        self._tenants = tenants
        self._sender = sender
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._on_dead = on_dead or (lambda item: None)

    def due(self, now: float, limit: int = BATCH) -> Iterator[OutboxItem]:
        """Items due at `now`, oldest first within each shard: a GSI query per shard, never a scan."""
        upper = keys.due_sk(int(now), "~")
        for shard in range(outbox.SHARDS):
            query = OutboxItem.due.query(keys.outbox_due_pk(shard), OutboxItem.gsi1sk <= upper, limit=limit)
            yield from query

    def run(self, now: float | None = None, limit: int = BATCH) -> DeliveryReport:
        moment = self._clock() if now is None else now
        report = DeliveryReport()
        for item in self.due(moment, limit):
            self.deliver(item, moment, report)
        return report

    def deliver(self, item: OutboxItem, now: float, report: DeliveryReport) -> None:
        claim = self._claim(item, now)
        if claim != "claimed":
            setattr(report, claim, getattr(report, claim) + 1)
            return
        try:
            tenant = self._tenants.get(item.tenant)
        except TenantError as exc:
            self._retry(item, now, f"tenant unavailable: {exc}", report)
            return
        if tenant is None:
            self._dead(item, now, "tenant removed", report)
            return
        try:
            msgid = self._sender.send(tenant, item)
        except RetryableError as exc:
            self._retry(item, now, str(exc), report)
        except PermanentError as exc:
            self._dead(item, now, str(exc), report)
        except WeComError as exc:  # an unclassified platform answer: retry, the attempts cap still ends it
            self._retry(item, now, str(exc), report)
        else:
            self._sent(item, now, msgid, report)

    # --- claiming and pacing ----------------------------------------------------------------------------------

    def _claim(self, item: OutboxItem, now: float) -> str:
        claimable = (
            OutboxItem.status.is_in("pending", "retrying")
            & (OutboxItem.next_attempt_at <= int(now))
            & (OutboxItem.lease_until < int(now))
        )
        lease: list[Action] = [OutboxItem.lease_until.set(int(now) + LEASE_SECONDS)]
        bucket = pacing_bucket(item)
        try:
            if bucket is None or (item.slot_at is not None and item.slot_at <= now):
                item.update(actions=lease, condition=claimable)
                return "claimed"
            name, interval = bucket
            window = RateWindow(keys.tenant_pk(item.tenant), keys.rate_sk(name))
            # A slot far ahead means the job's clock went back (`qungui job --now` in the past, then now): no job may
            # assume time only moves forward, so such a window counts as free rather than blocking for days.
            free = (
                RateWindow.next_free_at.does_not_exist()
                | (RateWindow.next_free_at <= now)
                | (RateWindow.next_free_at > now + STALE_SLOT_SECONDS)
            )
            with TransactWrite(connection=Item._get_connection().connection) as tx:
                tx.update(item, actions=lease, condition=claimable)
                tx.update(window, actions=[RateWindow.next_free_at.set(now + interval)], condition=free,
                          return_values="ALL_OLD")  # fmt: skip
            return "claimed"
        except UpdateError:
            return "skipped"
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            if len(reasons) > 1 and reasons[0] is None and reasons[1] is not None and bucket is not None:
                return self._reserve_slot(item, bucket, reasons[1].raw_item, now)
            return "skipped"

    def _reserve_slot(self, item: OutboxItem, bucket: tuple[str, float], raw: Any, now: float) -> str:
        """The bucket is busy until `taken`: take the slot after it, and make the item wait for it."""
        name, interval = bucket
        taken = float((raw or {}).get("next_free_at", {}).get("N", now))
        window = RateWindow(keys.tenant_pk(item.tenant), keys.rate_sk(name))
        slot = max(taken, now)
        due = int(slot + 0.999)
        try:
            with TransactWrite(connection=Item._get_connection().connection) as tx:
                tx.update(window, actions=[RateWindow.next_free_at.set(slot + interval)],
                          condition=RateWindow.next_free_at == taken)  # fmt: skip
                tx.update(
                    item,
                    actions=[
                        OutboxItem.next_attempt_at.set(due),
                        OutboxItem.gsi1sk.set(keys.due_sk(due, f"{item.tenant}#{_item_id(item)}")),
                        OutboxItem.slot_at.set(due),
                    ],
                    condition=OutboxItem.status.is_in("pending", "retrying") & (OutboxItem.lease_until < int(now)),
                )
        except (TransactWriteError, PynamoDBException):
            return "skipped"  # somebody else moved first; the next run tries again
        return "deferred"

    # --- outcomes ---------------------------------------------------------------------------------------------

    def _sent(self, item: OutboxItem, now: float, msgid: str | None, report: DeliveryReport) -> None:
        from datetime import UTC, datetime

        item.update(
            actions=[
                OutboxItem.status.set("sent"),
                OutboxItem.attempts.add(1),
                OutboxItem.sent_at.set(int(now)),
                OutboxItem.platform_msgid.set(msgid) if msgid else OutboxItem.platform_msgid.remove(),
                OutboxItem.lease_until.set(0),
                OutboxItem.slot_at.remove(),
                OutboxItem.gsi1pk.remove(),
                OutboxItem.gsi1sk.remove(),
                OutboxItem.expires_at.set(datetime.fromtimestamp(now + outbox.SENT_RETENTION, tz=UTC)),
            ]
        )
        report.sent += 1

    def _retry(self, item: OutboxItem, now: float, error: str, report: DeliveryReport) -> None:
        attempts = int(item.attempts or 0) + 1
        if attempts >= outbox.MAX_ATTEMPTS:
            self._dead(item, now, f"gave up after {attempts} attempts: {error}", report)
            return
        due = int(now + outbox.backoff(attempts, self._rng))
        item.update(
            actions=[
                OutboxItem.status.set("retrying"),
                OutboxItem.attempts.set(attempts),
                OutboxItem.last_error.set(error[:500]),
                OutboxItem.next_attempt_at.set(due),
                OutboxItem.lease_until.set(0),
                OutboxItem.slot_at.remove(),
                OutboxItem.gsi1sk.set(keys.due_sk(due, f"{item.tenant}#{_item_id(item)}")),
            ]
        )
        report.retried += 1

    def _dead(self, item: OutboxItem, now: float, error: str, report: DeliveryReport) -> None:
        item.update(
            actions=[
                OutboxItem.status.set("dead"),
                OutboxItem.attempts.add(1),
                OutboxItem.last_error.set(error[:500]),
                OutboxItem.lease_until.set(0),
                OutboxItem.gsi1pk.remove(),
                OutboxItem.gsi1sk.remove(),
            ]
        )
        report.dead += 1
        report.errors.append(error)
        self._on_dead(item)


def _item_id(item: OutboxItem) -> str:
    return item.sk.removeprefix(keys.outbox_sk(""))


def requeue(tenant: str, item_id: str, now: float) -> OutboxItem:
    """An admin's second chance for a dead item: pending again, attempts reset, due now."""
    item = OutboxItem.get(keys.tenant_pk(tenant), keys.outbox_sk(item_id), consistent_read=True)
    due = int(now)
    item.update(
        actions=[
            OutboxItem.status.set("pending"),
            OutboxItem.attempts.set(0),
            OutboxItem.next_attempt_at.set(due),
            OutboxItem.lease_until.set(0),
            OutboxItem.gsi1pk.set(keys.outbox_due_pk(outbox.shard_of(item_id))),
            OutboxItem.gsi1sk.set(keys.due_sk(due, f"{tenant}#{item_id}")),
        ],
        condition=OutboxItem.status == "dead",
    )
    return item


def payload_of(item: OutboxItem) -> tuple[str, str]:
    """(msgtype, content) of an item's stored payload."""
    data = json.loads(item.payload)
    msgtype = str(data.get("msgtype", "text"))
    return msgtype, str((data.get(msgtype) or {}).get("content", ""))

"""The weekly digest job: for every tenant, every governed group whose digest is due, the report of the past week
goes into the outbox (one markdown message per recipient) and the group is marked sent for the week.

Meant to run often (hourly): a group's digest is due from its slot (policy `digest.weekday` + `digest.at`, the
tenant's time zone) until GroupRecord.digest_sent_for names the week. Each group commits alone, through the
executor, with a Tick whose event id names the group and the ISO week: the dedup marker, the outbox items and the
mark are one transaction, so a second run in the same week writes nothing, and after the marker has expired
(3 days) the mark still stops it. Cost per tenant: one Query for the group records, and, only when some group is
due, one Query for the ledger (recent entries and open money; filtered on the server, read once for all groups).
A failure (tenant, ledger or one group's commit) is counted and the job goes on with the others.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pynamodb.exceptions import PynamoDBException

from chalicelib import groups
from chalicelib.decisions import SendDigest
from chalicelib.effects.executor import Executor, StoreUnavailable, plan
from chalicelib.events import Channel, Tick
from chalicelib.rules import digest
from chalicelib.store import keys
from chalicelib.store.models import LedgerEntry, TenantRecord
from chalicelib.tenants import TenantError

if TYPE_CHECKING:
    from chalicelib.groups import GroupView
    from chalicelib.tenants import Tenant, TenantDirectory

logger = logging.getLogger(__name__)

JOB = "digest"


def send_digests(
    now: float, *, tenants: TenantDirectory | None = None, executor: Executor | None = None
) -> dict[str, int]:
    """Every due digest at `now`. Counts: tenants seen; groups whose digest was due; sent (a report went into the
    outbox), quiet (nothing to report: marked only), skipped (nobody to send it to: left unmarked, so it goes out
    once someone holds a role), failed (a tenant or group that hit a store error; the next run retries it)."""
    if tenants is None:
        from chalicelib import runtime

        tenants = runtime.tenants()
    executor = executor or Executor()
    counts = {"tenants": 0, "groups": 0, "sent": 0, "quiet": 0, "skipped": 0, "failed": 0}
    try:
        tenant_ids = [
            record.pk.removeprefix(keys.tenant_pk("")) for record in TenantRecord.due.query(keys.tenants_gsi_pk())
        ]
    except PynamoDBException:
        logger.exception("digest: cannot list tenants")
        counts["failed"] += 1
        return counts
    for tenant_id in tenant_ids:
        counts["tenants"] += 1
        try:
            tenant = tenants.get(tenant_id)
            if tenant is None:
                continue
            _tenant_digests(tenant, now, executor, counts)
        except (TenantError, PynamoDBException):
            logger.exception("digest: tenant %s failed", tenant_id)
            counts["failed"] += 1
    return counts


class _Due:
    def __init__(self, view: GroupView, settings: digest.DigestSettings, period: digest.Period, to: tuple[str, ...]):
        self.view = view
        self.settings = settings
        self.period = period
        self.to = to


def _tenant_digests(tenant: Tenant, now: float, executor: Executor, counts: dict[str, int]) -> None:
    due: list[_Due] = []
    for record in groups.records(tenant.id):
        view = groups.view_of(record)
        if not groups.is_governed(tenant, view):
            continue
        settings = digest.settings_of(groups.policy_for(tenant, view).digest)
        if not settings.enabled:
            continue
        period = digest.period_at(now, tenant.timezone, settings.weekday, settings.at)
        if not digest.is_due(period, now, record.digest_sent_for):
            continue
        counts["groups"] += 1
        to = digest.recipients(settings, view, tenant.admins)
        if not to:
            counts["skipped"] += 1
            continue
        due.append(_Due(view, settings, period, to))
    if not due:
        return
    try:
        entries = _ledger(tenant.id, since=min(item.period.start for item in due))
    except PynamoDBException:
        logger.exception("digest: ledger of %s unavailable", tenant.id)
        counts["failed"] += len(due)
        return
    for item in due:
        decisions = digest.decide(
            entries, item.view, item.period, item.settings,
            policy=groups.policy_for(tenant, item.view), tenant_admins=tenant.admins, timezone=tenant.timezone,
        )  # fmt: skip
        tick = Tick(tenant=tenant.id, channel=Channel.JOB, event_id=f"{JOB}:{item.view.chat_id}:{item.period.week}",
                    at=item.period.end, sender="sys", job=JOB, chat_id=item.view.chat_id)  # fmt: skip
        try:
            outcome = executor.commit(plan(tick, decisions, None, now, tenant.timezone))
        except StoreUnavailable:
            logger.exception("digest: commit for %s/%s failed", tenant.id, item.view.chat_id)
            counts["failed"] += 1
            continue
        if outcome.duplicate:
            continue  # another run committed this week's digest between our read and our write
        counts["sent" if any(isinstance(d, SendDigest) for d in decisions) else "quiet"] += 1


def _ledger(tenant: str, since: int) -> list[LedgerEntry]:
    """The tenant's entries since `since`, and its open fines and red packets of any age: one Query."""
    wanted = (LedgerEntry.at >= since) | (
        LedgerEntry.kind.is_in(*digest.MONEY) & LedgerEntry.status.is_in(*digest.OPEN)
    )
    return list(
        LedgerEntry.query(
            keys.tenant_pk(tenant),
            LedgerEntry.sk.between(keys.ledger_sk(0, ""), keys.ledger_sk(10**12 - 1, "~")),
            filter_condition=wanted,
            consistent_read=True,
        )
    )

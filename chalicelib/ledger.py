"""Reading the ledger: a member's offences within the escalation window, entries by id, a tenant's whole ledger.
Writing happens only through the effects executor (RecordLedger decisions), in the event's transaction."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.store import keys
from chalicelib.store.models import LedgerEntry, OffenceLog


def entries(tenant: str, since: int = 0) -> Iterator[LedgerEntry]:
    return LedgerEntry.query(
        keys.tenant_pk(tenant),
        LedgerEntry.sk.between(keys.ledger_sk(since, ""), keys.ledger_sk(10**12 - 1, "~")),
        consistent_read=True,
    )


def prior_offences(tenant: str, member: str, rule: str, since: int) -> int:
    """Offences against `rule` since `since` (the escalation window): one GetItem on the member's offence log."""
    from pynamodb.exceptions import DoesNotExist

    try:
        log = OffenceLog.get(keys.tenant_pk(tenant), keys.offence_sk(member, rule), consistent_read=True)
    except DoesNotExist:
        return 0
    return sum(1 for at in log.times or () if at >= since)


def of_member(tenant: str, member: str) -> list[LedgerEntry]:
    return list(
        LedgerEntry.query(
            keys.tenant_pk(tenant),
            LedgerEntry.sk.startswith(keys.ledger_sk(0, "")[: len("LEDGER#")]),
            filter_condition=LedgerEntry.member == member,
            consistent_read=True,
        )
    )


def by_id(tenant: str, entry_id: str) -> LedgerEntry | None:
    found = list(LedgerEntry.due.query(keys.ledger_id_gsi_pk(tenant), LedgerEntry.gsi1sk == entry_id, limit=1))
    return found[0] if found else None


def voice_count(tenant: str, chat_id: str, member: str, week_start: int) -> int:
    """Voice messages `member` sent in `chat_id` in the week from `week_start` (one GetItem on the counter)."""
    from pynamodb.exceptions import DoesNotExist

    from chalicelib.store.models import VoiceCounter

    try:
        counter = VoiceCounter.get(keys.tenant_pk(tenant), keys.voice_sk(chat_id, member, week_start))
    except DoesNotExist:
        return 0
    return len(counter.msg_ids or ())

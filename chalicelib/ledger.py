"""Reading the ledger: a member's offences within the escalation window, entries by id, a tenant's whole ledger.
Writing happens only through the effects executor (RecordLedger decisions), in the event's transaction."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.store import keys
from chalicelib.store.models import LedgerEntry

COUNTED = ("warning", "fine", "red_packet")
SETTLED_AWAY = ("waived", "reversed", "expired")


def entries(tenant: str, since: int = 0) -> Iterator[LedgerEntry]:
    return LedgerEntry.query(
        keys.tenant_pk(tenant),
        LedgerEntry.sk.between(keys.ledger_sk(since, ""), keys.ledger_sk(10**12 - 1, "~")),
        consistent_read=True,
    )


def prior_offences(tenant: str, member: str, rule: str, since: int) -> int:
    """Offences that still count: a waived or reversed warning does not push a member up the ladder."""
    return sum(
        1
        for entry in LedgerEntry.query(
            keys.tenant_pk(tenant),
            LedgerEntry.sk.between(keys.ledger_sk(since, ""), keys.ledger_sk(10**12 - 1, "~")),
            filter_condition=(LedgerEntry.member == member) & (LedgerEntry.rule == rule),
            consistent_read=True,
        )
        if entry.kind in COUNTED and entry.status not in SETTLED_AWAY
    )


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

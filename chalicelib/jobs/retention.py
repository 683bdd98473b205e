"""Evidence retention: a ledger entry keeps its message id and hash for good, but the excerpt of the member's words
only for the tenant's `retention_days` (default 180). Daily; reads only entries past the cutoff (a key range per
tenant), never scans the table."""

from __future__ import annotations

from chalicelib.store import keys
from chalicelib.store.models import LedgerEntry, TenantRecord

DAY = 86400


def expire_evidence(now: float) -> dict[str, int]:
    cleared = 0
    tenants = 0
    for tenant in TenantRecord.due.query(keys.tenants_gsi_pk()):
        tenants += 1
        cutoff = int(now) - int(tenant.retention_days or 180) * DAY
        old = LedgerEntry.query(
            tenant.pk,
            LedgerEntry.sk.between(keys.ledger_sk(0, ""), keys.ledger_sk(cutoff, "~")),
            filter_condition=LedgerEntry.excerpt.exists(),
        )
        for entry in old:
            entry.update(actions=[LedgerEntry.excerpt.remove()])
            cleared += 1
    return {"tenants": tenants, "excerpts_cleared": cleared}

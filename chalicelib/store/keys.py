"""Every key of the single table is built here, and nowhere else.

Partition per tenant (`T#{tenant}`) so that a tenant's data can be listed and purged with one query; the sort key
names the entity. Keep prefixes short: they are stored on every item.
"""

from __future__ import annotations


def tenant_pk(tenant: str) -> str:
    return f"T#{tenant}"


def tenant_profile_sk() -> str:
    return "PROFILE"


def dedup_sk(channel: str, event_id: str) -> str:
    return f"DEDUP#{channel}#{event_id}"


def member_sk(chat_id: str, member: str) -> str:
    return f"MEMBER#{chat_id}#{member}"


def verify_code_pk(code: str) -> str:
    """The 可信域名 file is looked up by its code alone (GET /WW_verify_{code}.txt carries no tenant)."""
    return f"WWVERIFY#{code}"


def verify_code_sk() -> str:
    return "CODE"


def activity_gsi_pk(tenant: str, chat_id: str) -> str:
    return f"ACT#{tenant}#{chat_id}"


def activity_gsi_sk(last_active_at: int, member: str) -> str:
    # Zero-padded epoch so that the string order is the time order.
    return f"{last_active_at:012d}#{member}"

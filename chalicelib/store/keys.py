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


def token_pk(api: str, app_id: str) -> str:
    """One cached access token per app credential: api is "wecom" (corp_id:agent_id) or "mp" (AppID)."""
    return f"TOKEN#{api}#{app_id}"


def token_sk() -> str:
    return "TOKEN"


def outbox_sk(message_id: str) -> str:
    return f"OUT#{message_id}"


def outbox_due_pk(shard: int) -> str:
    """GSI1 partition of outbox items waiting for delivery; sharded so a burst does not make one hot partition."""
    return f"DUE#OUT#{shard}"


def due_sk(due_at: int, item_id: str) -> str:
    return f"{due_at:012d}#{item_id}"


def rate_sk(bucket: str) -> str:
    """A sending-rate window (per member, per robot) that the outbox consults before delivering; it lives in the
    tenant's partition, so a purge erases it too."""
    return f"RATE#{bucket}"


def group_sk(chat_id: str) -> str:
    return f"GROUP#{chat_id}"


def ledger_sk(at: int, entry_id: str) -> str:
    """Ledger entries sort by time within the tenant's partition (the ledger reads in order)."""
    return f"LEDGER#{at:012d}#{entry_id}"


def ledger_id_gsi_pk(tenant: str) -> str:
    """GSI1 finds an entry by its short id (the one admins type: 豁免 L7K2M4QX)."""
    return f"LEDGERID#{tenant}"


def audit_sk(at: int, audit_id: str) -> str:
    return f"AUDIT#{at:012d}#{audit_id}"


def offence_sk(member: str, rule: str) -> str:
    return f"OFFENCE#{member}#{rule}"


def tenants_gsi_pk() -> str:
    return "TENANTS"


def voice_sk(chat_id: str, member: str, week_start: int) -> str:
    return f"VOICE#{chat_id}#{member}#{week_start:012d}"


def user_sk(userid: str) -> str:
    """A directory user (staff); external contacts have no directory entry."""
    return f"USER#{userid}"


def department_sk(department_id: int) -> str:
    return f"DEPT#{department_id:09d}"


def member_prefix(chat_id: str) -> str:
    """Every roster item of one group (member_sk(chat_id, ...) starts with it)."""
    return f"MEMBER#{chat_id}#"

"""The Context the rules get: built the same way for a callback (chalicelib.gateway) and for a reconciliation
(chalicelib.jobs.reconcile), so a rule cannot behave differently depending on who noticed the event.

What the rules may know: the group's kind and policy (its override merged onto the tenant's default, else the
tenant's, else the shipped default), who the admins are and who gets alerts, everyone's roles in the group, and
lookups that cost a DynamoDB request, made only when a rule asks (a failure there becomes a 503 / a retried job).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib import ledger
from chalicelib.effects.executor import StoreUnavailable
from chalicelib.events import Event
from chalicelib.groups import GroupView, is_governed, policy_for
from chalicelib.rules.context import Context
from chalicelib.tenants import Tenant

DAY = 86400


def build(tenant: Tenant, event: Event, group: GroupView | None, **extra: Any) -> Context:
    policy = policy_for(tenant, group)
    view = group or GroupView(chat_id="")  # a 1:1 message: no owner, no group admins
    admins = view.holders(("tenant_admin", "owner", "admin"), tenant.admins)
    alert_to = tuple(dict.fromkeys((*view.holders(policy.alerts_to, tenant.admins), *policy.alert_userids)))

    def roles_of(member: str) -> frozenset[str]:
        roles = view.roles_of(member, tenant.admins)
        return roles | {"leader"} if member in policy.leader_userids else roles

    window_days = int((policy.escalation or {}).get("window_days", 30))
    since = event.at - window_days * DAY
    return Context(
        policy=policy,
        admins=admins,
        alert_to=alert_to,
        timezone=tenant.timezone,
        governed=is_governed(tenant, group),
        member_roles=roles_of(event.sender),
        roles_of=roles_of,
        group_kind=group.kind if group else "unknown",
        group_name=group.name if group else "",
        member_version=group.member_version if group else "",
        reported_missing=group.required_missing if group else (),
        prior_offences=store_read(lambda member, rule: ledger.prior_offences(tenant.id, member, rule, since)),
        member_ledger=store_read(lambda member: ledger.of_member(tenant.id, member)),
        ledger_since=store_read(lambda start: list(ledger.entries(tenant.id, start))),
        ledger_entry=store_read(lambda entry_id: ledger.by_id(tenant.id, entry_id)),
        voice_count=store_read(lambda chat, member, week: ledger.voice_count(tenant.id, chat, member, week)),
        **extra,
    )


def store_read(read: Callable[..., Any]) -> Callable[..., Any]:
    """A store read for a rule: a DynamoDB failure becomes StoreUnavailable (a 503 that WeCom retries), never a 500."""

    def guarded(*args: Any) -> Any:
        from pynamodb.exceptions import PynamoDBException

        try:
            return read(*args)
        except PynamoDBException as exc:
            raise StoreUnavailable("store unavailable") from exc

    return guarded

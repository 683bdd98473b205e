"""Groups on the request path: kind, name, owner, governed flag and policy of the group a message came from, cached
per warm container (one GetItem per group a minute at most; an unknown group costs the same and is cached too)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from chalicelib.record import Record
from chalicelib.rules import compiled
from chalicelib.rules.compiled import CompiledPolicy
from chalicelib.store import keys
from chalicelib.store.models import GroupRecord
from chalicelib.tenants import TenantError

if TYPE_CHECKING:
    from chalicelib.tenants import Tenant

CACHE_SECONDS = 60


class GroupView(Record):
    chat_id: str
    kind: str = "unknown"
    name: str = ""
    owner: str | None = None
    governed: bool = True
    enrolled: bool = False  # an admin enrolled it (`qungui group add`); False also for records qungui made itself
    policy: CompiledPolicy | None = None  # the tenant default merged with this group's override, if it has one
    admins: tuple[str, ...] = ()  # group admins (customer groups' admin_list), as last reconciled
    leaders: tuple[str, ...] = ()  # members who are leaders (policy list or directory), as last reconciled
    locked_name: str = ""
    member_version: str = ""
    reconciled_at: int | None = None
    required_missing: tuple[str, ...] = ()

    def holders(self, roles: Iterable[str], tenant_admins: Iterable[str] = ()) -> tuple[str, ...]:
        """Who holds `roles` (owner, admin, tenant_admin) in this group, in the roles' order, each once: the people an
        alert or a digest addressed to those roles reaches."""
        by_role = {"owner": (self.owner,) if self.owner else (), "admin": self.admins, "tenant_admin": tenant_admins}
        return tuple(dict.fromkeys(userid for role in roles for userid in by_role.get(role, ()) if userid))

    def roles_of(self, member: str, tenant_admins: tuple[str, ...] = ()) -> frozenset[str]:
        """owner, admin, leader, tenant_admin: what `member` is in this group."""
        holds = (
            ("owner", member == self.owner),
            ("admin", member in self.admins),
            ("leader", member in self.leaders),
            ("tenant_admin", member in tenant_admins),
        )
        return frozenset(role for role, held in holds if held)


def view_of(record: GroupRecord) -> GroupView:
    return GroupView(
        chat_id=record.chat_id,
        kind=record.kind or "unknown",
        name=record.name or "",
        owner=record.owner,
        governed=bool(record.governed),
        enrolled=record.enrolled_at is not None,
        policy=compiled.loads(record.policy_compiled) if record.policy_compiled else None,
        admins=tuple(str(userid) for userid in record.admins or ()),
        leaders=tuple(str(userid) for userid in record.leaders or ()),
        locked_name=record.locked_name or "",
        member_version=record.member_version or "",
        reconciled_at=int(record.reconciled_at) if record.reconciled_at is not None else None,
        required_missing=tuple(str(userid) for userid in record.required_missing or ()),
    )


def records(tenant: str) -> Iterator[GroupRecord]:
    """Every group record of a tenant: one Query on the tenant's partition, never a Scan."""
    return GroupRecord.query(keys.tenant_pk(tenant), GroupRecord.sk.startswith(keys.group_sk("")), consistent_read=True)


def policy_for(tenant: Tenant, group: GroupView | None) -> CompiledPolicy:
    """The policy a group runs: its own override merged onto the tenant default, else the tenant's, else shipped."""
    return (group.policy if group else None) or tenant.policy or compiled.shipped("default")


def is_governed(tenant: Tenant, group: GroupView | None) -> bool:
    return group is None or (group.governed and (group.enrolled or tenant.govern != "listed"))


class GroupDirectory:
    def __init__(self, clock: Callable[[], float], cache_seconds: int = CACHE_SECONDS) -> None:
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._cache: dict[tuple[str, str], tuple[float, GroupView]] = {}

    def get(self, tenant: str, chat_id: str) -> GroupView:
        key = (tenant, chat_id)
        cached = self._cache.get(key)
        if cached and self._clock() - cached[0] < self._cache_seconds:
            return cached[1]
        try:
            view = view_of(GroupRecord.get(keys.tenant_pk(tenant), keys.group_sk(chat_id)))
        except DoesNotExist:
            view = GroupView(chat_id=chat_id)
        except PynamoDBException as exc:
            raise TenantError(f"group store unavailable ({type(exc.cause or exc).__name__})") from exc
        self._cache[key] = (self._clock(), view)
        return view

    def forget(self, tenant: str, chat_id: str) -> None:
        self._cache.pop((tenant, chat_id), None)

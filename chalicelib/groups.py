"""Groups on the request path: kind, name, owner, governed flag and policy of the group a message came from, cached
per warm container (one GetItem per group a minute at most; an unknown group costs the same and is cached too)."""

from __future__ import annotations

from collections.abc import Callable

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from chalicelib.record import Record
from chalicelib.rules import compiled
from chalicelib.rules.compiled import CompiledPolicy
from chalicelib.store import keys
from chalicelib.store.models import GroupRecord
from chalicelib.tenants import TenantError

CACHE_SECONDS = 60


class GroupView(Record):
    chat_id: str
    kind: str = "unknown"
    name: str = ""
    owner: str | None = None
    governed: bool = True
    enrolled: bool = False
    policy: CompiledPolicy | None = None  # the tenant default merged with this group's override, if it has one


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
            record = GroupRecord.get(keys.tenant_pk(tenant), keys.group_sk(chat_id))
            view = GroupView(
                chat_id=chat_id,
                kind=record.kind or "unknown",
                name=record.name or "",
                owner=record.owner,
                governed=bool(record.governed),
                enrolled=True,
                policy=compiled.loads(record.policy_compiled) if record.policy_compiled else None,
            )
        except DoesNotExist:
            view = GroupView(chat_id=chat_id)
        except PynamoDBException as exc:
            raise TenantError(f"group store unavailable ({type(exc.cause or exc).__name__})") from exc
        self._cache[key] = (self._clock(), view)
        return view

    def forget(self, tenant: str, chat_id: str) -> None:
        self._cache.pop((tenant, chat_id), None)

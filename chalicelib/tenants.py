"""Tenants: non-secret settings in DynamoDB, secrets in SSM Parameter Store (SecureString, read through Powertools
Parameters with its cache), both cached in the warm container so that an ordinary callback costs no lookup.

Re-keying: `qungui tenant add` on an existing tenant moves the old secrets to `previous` and bumps the generation.
Callbacks verify with the current secrets first, then the previous ones until a callback verifies with the current
ones (the tenant record then marks `previous_retired`). A signature failure refetches both once, rate-limited per
tenant, so that a re-key is picked up at once without letting forged requests hammer SSM.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from chalicelib.config import Settings
from chalicelib.rules import compiled
from chalicelib.rules.compiled import CompiledPolicy
from chalicelib.store import keys
from chalicelib.store.models import TenantRecord

TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
SECRET_FIELDS = (
    "token",
    "aes_key",
    "secret",
    "bot_token",
    "bot_aes_key",
    "mp_token",
    "mp_aes_key",
    "mp_secret",
    "archive_secret",
)
CACHE_SECONDS = 60
REFETCH_INTERVAL = 10


class TenantError(Exception):
    """The tenant store or secret store failed (a dependency, not bad input): callers answer 503."""


@dataclass(frozen=True, slots=True)
class Secrets:
    token: str = ""
    aes_key: str = ""
    secret: str = ""
    bot_token: str = ""
    bot_aes_key: str = ""
    mp_token: str = ""
    mp_aes_key: str = ""
    mp_secret: str = ""
    archive_secret: str = ""  # 会话内容存档 Secret: msgaudit/* (internal groups' members and names)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Secrets:
        data = data or {}
        return cls(**{name: str(data.get(name) or "") for name in SECRET_FIELDS})

    def to_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in SECRET_FIELDS}


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    corp_id: str
    agent_id: int | None
    admins: tuple[str, ...]
    secrets: Secrets
    previous: Secrets | None  # still accepted: the re-key has not been confirmed by a callback yet
    generation: int
    bot_enabled: bool = False
    mp_app_id: str | None = None
    mp_mode: str = "safe"
    max_skew: int = 300
    govern: str = "all"
    timezone: str = "Asia/Shanghai"
    verify_code: str | None = None
    mp_template_id: str | None = None  # template message used when a follower's 48 h service window is closed
    robots: dict[str, str] = field(default_factory=dict)  # group-robot name → webhook key (a credential)
    policy: CompiledPolicy | None = None  # None: the shipped default


def secrets_parameter_name(settings: Settings, tenant_id: str) -> str:
    return f"{settings.ssm_prefix}/tenants/{tenant_id}"


class SecretSource:
    """Reads a tenant's secrets document from SSM through Powertools Parameters (cached, force-fetchable)."""

    def __init__(self, provider: Any | None = None, max_age: int = 300) -> None:
        self._provider = provider
        self._max_age = max_age

    def provider(self) -> Any:
        """The Powertools SSMProvider (its `.client` is the boto3 SSM client), created on first use."""
        if self._provider is None:
            from aws_lambda_powertools.utilities.parameters import SSMProvider

            self._provider = SSMProvider()
        return self._provider

    def load(self, name: str, *, refresh: bool = False) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            value = self.provider().get(name, decrypt=True, max_age=self._max_age, force_fetch=refresh)
        except GetParameterError as exc:
            raise TenantError(f"secrets unavailable ({type(exc.__cause__ or exc).__name__})") from exc
        try:
            document = json.loads(value)
        except (TypeError, ValueError) as exc:
            raise TenantError("secrets parameter is not JSON") from exc
        if not isinstance(document, dict):
            raise TenantError("secrets parameter is not a JSON object")
        return document


class TenantDirectory:
    """Tenant lookups for the request path, cached per warm container."""

    def __init__(self, secrets: SecretSource, clock: Callable[[], float], cache_seconds: int = CACHE_SECONDS) -> None:
        self._secrets = secrets
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Tenant | None]] = {}
        self._last_refetch: dict[str, float] = {}

    def get(self, tenant_id: str) -> Tenant | None:
        """The tenant, or None when unknown. Raises TenantError when DynamoDB or SSM fails."""
        if not TENANT_ID.match(tenant_id):
            return None
        cached = self._cache.get(tenant_id)
        if cached and self._clock() - cached[0] < self._cache_seconds:
            return cached[1]
        return self._load(tenant_id, refresh=False)

    def refetch(self, tenant_id: str) -> Tenant | None:
        """Reload bypassing every cache, at most once per REFETCH_INTERVAL; None if refetched too recently."""
        now = self._clock()
        if now - self._last_refetch.get(tenant_id, float("-inf")) < REFETCH_INTERVAL:
            return None
        self._last_refetch[tenant_id] = now
        return self._load(tenant_id, refresh=True)

    def retire_previous(self, tenant: Tenant) -> Tenant:
        """A callback verified with the current secrets: stop accepting the previous ones, everywhere."""
        record = TenantRecord(keys.tenant_pk(tenant.id), keys.tenant_profile_sk())
        try:
            record.update(
                actions=[TenantRecord.previous_retired.set(True)],
                condition=TenantRecord.secrets_generation == tenant.generation,
            )
        except PynamoDBException:
            return tenant  # a lost race or a throttle only delays retirement to the next callback
        retired = replace(tenant, previous=None)
        self._cache[tenant.id] = (self._clock(), retired)
        return retired

    def forget(self, tenant_id: str) -> None:
        self._cache.pop(tenant_id, None)

    def _load(self, tenant_id: str, *, refresh: bool) -> Tenant | None:
        try:
            record = TenantRecord.get(keys.tenant_pk(tenant_id), keys.tenant_profile_sk(), consistent_read=refresh)
        except DoesNotExist:
            self._cache[tenant_id] = (self._clock(), None)
            return None
        except PynamoDBException as exc:
            raise TenantError(f"tenant store unavailable ({type(exc.cause or exc).__name__})") from exc
        document = self._secrets.load(record.secrets_parameter, refresh=refresh)
        tenant = tenant_from(record, document)
        self._cache[tenant_id] = (self._clock(), tenant)
        return tenant


def tenant_from(record: TenantRecord, document: dict[str, Any]) -> Tenant:
    generation = int(record.secrets_generation or 1)
    previous = None
    # The SSM document and the record are written in that order by the CLI; only trust `previous` when both
    # agree on the generation, so a half-finished re-key never resurrects retired credentials.
    if not record.previous_retired and int(document.get("generation", 1)) == generation:
        previous = Secrets.from_dict(document.get("previous")) if document.get("previous") else None
    return Tenant(
        id=record.pk.removeprefix(keys.tenant_pk("")),
        corp_id=record.corp_id,
        agent_id=int(record.agent_id) if record.agent_id is not None else None,
        admins=tuple(str(admin) for admin in record.admins or ()),
        secrets=Secrets.from_dict(document.get("current")),
        previous=previous,
        generation=generation,
        bot_enabled=bool(record.bot_enabled),
        mp_app_id=record.mp_app_id,
        mp_mode=record.mp_mode or "safe",
        max_skew=int(record.max_skew if record.max_skew is not None else 300),
        govern=record.govern or "all",
        timezone=record.timezone or "Asia/Shanghai",
        verify_code=record.verify_code,
        mp_template_id=record.mp_template_id,
        robots={str(name): str(key) for name, key in (document.get("robots") or {}).items()},
        policy=compiled.loads(record.policy_compiled) if record.policy_compiled else None,
    )

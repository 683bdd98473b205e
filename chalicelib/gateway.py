"""One way through for every callback: check transport, find the tenant, open the envelope, map to an Event, decide,
commit exactly once, answer. Pure of Chalice: app.py adapts requests and responses.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib import rule_context
from chalicelib.channels import envelopes, replies
from chalicelib.channels.envelopes import Opened, Rejected, SignatureMismatch
from chalicelib.channels.mp import mp_event
from chalicelib.channels.wecom_app import app_event
from chalicelib.channels.wecom_bot import bot_event
from chalicelib.decisions import ReplyToMember
from chalicelib.effects import executor as effects
from chalicelib.events import Channel, Event, MessagePosted
from chalicelib.groups import GroupDirectory
from chalicelib.rules import engine
from chalicelib.rules.context import Context
from chalicelib.tenants import Tenant, TenantDirectory, TenantError
from chalicelib.wecom.xml import XmlError, parse_xml

MAX_BODY = 64 * 1024


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    tenant_id: str
    query: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


class Telemetry(Protocol):
    def accepted(self, channel: Channel, tenant: str, event: Event, duplicate: bool) -> None: ...
    def rejected(self, channel: Channel, tenant: str, reason: str, status: int) -> None: ...
    def unavailable(self, channel: Channel, tenant: str, reason: str) -> None: ...


class Gateway:
    def __init__(
        self,
        tenants: TenantDirectory,
        executor: effects.Executor,
        clock: Callable[[], float],
        telemetry: Telemetry,
        groups: GroupDirectory | None = None,
    ) -> None:
        self._tenants = tenants
        self._groups = groups or GroupDirectory(clock)
        self._executor = executor
        self._clock = clock
        self._telemetry = telemetry

    def handle(self, channel: Channel, request: HttpRequest) -> HttpResponse:
        try:
            return self._handle(channel, request)
        except Rejected as exc:
            self._telemetry.rejected(channel, request.tenant_id, exc.metric, exc.status)
            return HttpResponse(exc.status, exc.reason)
        except (TenantError, effects.StoreUnavailable) as exc:
            # A dependency failed, not the caller: 503 makes WeCom retry, and nothing was half-written.
            self._telemetry.unavailable(channel, request.tenant_id, str(exc))
            return HttpResponse(503, "temporarily unavailable, retry")

    def _handle(self, channel: Channel, request: HttpRequest) -> HttpResponse:
        if len(request.body) > MAX_BODY:
            raise Rejected(413, "body larger than 64 KiB", "too_large")
        tenant = self._tenant(channel, request.tenant_id)
        if request.method == "GET":
            return self._with_refetch(channel, tenant, lambda t: self._verify_url(channel, t, request))
        timestamp = self._check_timestamp(tenant, request.query)
        return self._with_refetch(channel, tenant, lambda t: self._post(channel, t, request, timestamp))

    def _tenant(self, channel: Channel, tenant_id: str) -> Tenant:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            raise Rejected(404, "unknown tenant", "unknown_tenant")
        if not envelopes.configured(channel, tenant):
            raise Rejected(404, f"the {channel.value} channel is not configured for this tenant", "not_configured")
        return tenant

    def _with_refetch(
        self, channel: Channel, tenant: Tenant, attempt: Callable[[Tenant], HttpResponse]
    ) -> HttpResponse:
        try:
            return attempt(tenant)
        except SignatureMismatch:
            # Perhaps the tenant was re-keyed after this container cached it: look again, once.
            fresh = self._tenants.refetch(tenant.id)
            if fresh is None or not envelopes.configured(channel, fresh):
                raise
            return attempt(fresh)

    def _verify_url(self, channel: Channel, tenant: Tenant, request: HttpRequest) -> HttpResponse:
        plaintext, used_previous = envelopes.verify_url(channel, tenant, request.query)
        self._retire_previous_if_confirmed(tenant, used_previous)
        return HttpResponse(200, plaintext)

    def _check_timestamp(self, tenant: Tenant, query: Mapping[str, str]) -> int:
        raw = query.get("timestamp") or ""
        if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
            raise Rejected(400, "timestamp must be epoch seconds", "malformed")
        timestamp = int(raw)
        if tenant.max_skew and abs(self._clock() - timestamp) > tenant.max_skew:
            raise Rejected(400, "timestamp outside the allowed skew", "stale")
        return timestamp

    def _post(self, channel: Channel, tenant: Tenant, request: HttpRequest, timestamp: int) -> HttpResponse:
        opened = envelopes.open_post(channel, tenant, request.query, request.body)
        self._retire_previous_if_confirmed(tenant, opened.used_previous_secrets)
        event, addressee = _to_event(channel, tenant, opened, timestamp)
        decisions = engine.decide(event, _context(tenant, event, self._groups))
        nonce = request.query.get("nonce") or ""
        reply = _passive_reply(channel, opened, event, decisions, addressee, timestamp, nonce)
        outcome = self._executor.commit(effects.plan(event, decisions, reply, self._clock(), tenant.timezone))
        self._telemetry.accepted(channel, tenant.id, event, outcome.duplicate)
        if outcome.reply is None:
            return HttpResponse(200, "")
        return HttpResponse(200, outcome.reply.body, outcome.reply.content_type)

    def _retire_previous_if_confirmed(self, tenant: Tenant, used_previous: bool) -> None:
        if tenant.previous is not None and not used_previous:
            self._tenants.retire_previous(tenant)


def _passive_reply(
    channel: Channel, opened: Opened, event: Event, decisions: list[Any], addressee: str, timestamp: int, nonce: str
) -> effects.Reply | None:
    """The member-facing answers, sealed in the channel's envelope (reusing the request's timestamp and nonce)."""
    texts = [d.text for d in decisions if isinstance(d, ReplyToMember)]
    if not texts:
        return None
    plaintext = replies.render(channel, event, "\n\n".join(texts), addressee, timestamp)
    body, content_type = envelopes.seal_reply(channel, opened, plaintext, str(timestamp), nonce)
    return effects.Reply(body, content_type)


def _context(tenant: Tenant, event: Event, groups: GroupDirectory) -> Context | None:
    """Messages and group events get a Context (chalicelib.rule_context); other events need none."""
    chat_id = getattr(event, "chat_id", None)
    if not isinstance(event, MessagePosted) and chat_id is None:
        return None
    return rule_context.build(tenant, event, groups.get(tenant.id, chat_id) if chat_id else None)


def _plaintext_key(plaintext: bytes) -> str:
    # Events without a MsgId: FromUserName+CreateTime collides for "sys" events, so the whole plaintext is the key.
    return "h" + hashlib.sha256(plaintext).hexdigest()[:40]


def _to_event(channel: Channel, tenant: Tenant, opened: Opened, timestamp: int) -> tuple[Event, str]:
    """The Event, and who a passive reply comes from (CorpID, or the Official Account's original id)."""
    if channel is Channel.BOT:
        try:
            payload = json.loads(opened.plaintext)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Rejected(400, "decrypted payload is not JSON", "malformed") from exc
        if not isinstance(payload, dict):
            raise Rejected(400, "decrypted payload is not a JSON object", "malformed")
        msg_id = payload.get("msgid")
        event_id = str(msg_id) if isinstance(msg_id, str | int) and msg_id != "" else _plaintext_key(opened.plaintext)
        return bot_event(tenant.id, payload, event_id, timestamp), ""
    try:
        fields = parse_xml(opened.plaintext)
    except XmlError as exc:
        raise Rejected(400, f"decrypted payload: {exc.reason}", "malformed") from exc
    msg_id = fields.get("MsgId")
    event_id = msg_id if isinstance(msg_id, str) and msg_id else _plaintext_key(opened.plaintext)
    if channel is Channel.MP:
        account = fields.get("ToUserName")
        return mp_event(tenant.id, fields, event_id), account if isinstance(account, str) else ""
    return app_event(tenant.id, fields, event_id), tenant.corp_id

"""Sends one outbox item through the right platform client. Clients are built per tenant (and per secrets
generation, so a re-key takes effect) and kept for the warm container, with their tokens."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from chalicelib.store.models import OutboxItem
from chalicelib.tenants import Tenant
from chalicelib.wecom.client import Markdown, Message, RobotClient, Text, WeComClient
from chalicelib.wecom.errors import OutsideServiceWindow, PermanentError


class PlatformSender:
    def __init__(
        self,
        wecom_base: str | None = None,
        mp_base: str | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._wecom_base = wecom_base
        self._mp_base = mp_base
        self._clock = clock
        self._sleep = sleep
        self._wecom: dict[tuple[str, int], WeComClient] = {}
        self._archive: dict[tuple[str, int], WeComClient] = {}
        self._mp: dict[tuple[str, int], Any] = {}
        self._robot: RobotClient | None = None

    def send(self, tenant: Tenant, item: OutboxItem) -> str | None:
        if item.channel == "appchat_action":
            self._appchat_action(tenant, item)
            return None
        message = _message(item)
        if item.channel == "app":
            # The duplicate check drops a re-send of this same item after a crash: its content carries the item id.
            result = self.wecom_client(tenant).send_message(item.to, message, enable_duplicate_check=True)
            if result.invaliduser and item.to in result.invaliduser:
                raise PermanentError(60111, f"not a valid recipient: {item.to}", "wecom:message/send")
            return result.msgid or None
        if item.channel == "appchat":
            return self.wecom_client(tenant).appchat_send(item.to, message).msgid or None
        if item.channel == "robot":
            key = tenant.robots.get(item.to)
            if not key:
                raise PermanentError(93000, f"no robot named {item.to!r} is configured", "wecom:webhook/send")
            self._robot_client().send(key, message)
            return None
        if item.channel == "mp":
            return self._send_mp(tenant, item, message)
        raise PermanentError(-2, f"unknown channel {item.channel!r}", "outbox")

    def _appchat_action(self, tenant: Tenant, item: OutboxItem) -> None:
        data = json.loads(item.payload)
        action = json.loads(data["action"]["content"])
        client = self.wecom_client(tenant)
        if action["action"] == "remove":
            client.appchat_update(item.to, del_user_list=[action["member"]])
        else:
            client.appchat_update(item.to, name=action["name"])

    def _send_mp(self, tenant: Tenant, item: OutboxItem, message: Message) -> str | None:
        client = self._mp_client(tenant)
        text = message.content if isinstance(message, Text | Markdown) else ""
        try:
            client.send_custom_text(item.to, text)
            return None
        except OutsideServiceWindow:
            if not tenant.mp_template_id:
                raise
        item_id = item.sk.split("#", 1)[1]
        data = {"first": text[:200], "remark": "群规助手"}
        msgid = client.send_template(item.to, tenant.mp_template_id, data, client_msg_id=item_id)
        return str(msgid) if msgid is not None else None

    def wecom_client(self, tenant: Tenant) -> WeComClient:
        key = (tenant.id, tenant.generation)
        client = self._wecom.get(key)
        if client is None:
            if not tenant.secrets.secret or tenant.agent_id is None:
                raise PermanentError(40001, "the tenant has no app Secret or AgentID for outbound messages", "wecom")
            client = WeComClient(tenant.corp_id, tenant.agent_id, tenant.secrets.secret, base_url=self._wecom_base,
                                 clock=self._clock, sleep=self._sleep)  # fmt: skip
            self._wecom[key] = client
        return client

    def group_reader(self, tenant: Tenant, kind: str) -> WeComClient:
        """The client that reads a group of `kind`: internal groups through the chat archive's API."""
        return self.archive_client(tenant) if kind == "internal" else self.wecom_client(tenant)

    def archive_client(self, tenant: Tenant) -> WeComClient:
        """The chat archive's API (msgaudit/*): the same corp, its own Secret and so its own token."""
        key = (tenant.id, tenant.generation)
        client = self._archive.get(key)
        if client is None:
            if not tenant.secrets.archive_secret:
                raise PermanentError(48002, "the tenant has no chat archive Secret (--archive-secret)", "msgaudit")
            client = WeComClient(tenant.corp_id, tenant.agent_id or 0, tenant.secrets.archive_secret,
                                 base_url=self._wecom_base, clock=self._clock, sleep=self._sleep,
                                 credential="msgaudit")  # fmt: skip
            self._archive[key] = client
        return client

    def _mp_client(self, tenant: Tenant) -> Any:
        from chalicelib.mp.client import MpClient

        key = (tenant.id, tenant.generation)
        client = self._mp.get(key)
        if client is None:
            if not tenant.mp_app_id or not tenant.secrets.mp_secret:
                raise PermanentError(40001, "the tenant has no Official Account AppID/AppSecret", "mp")
            client = MpClient(tenant.mp_app_id, tenant.secrets.mp_secret, base_url=self._mp_base, clock=self._clock,
                              sleep=self._sleep)  # fmt: skip
            self._mp[key] = client
        return client

    def _robot_client(self) -> RobotClient:
        if self._robot is None:
            self._robot = RobotClient(base_url=self._wecom_base)
        return self._robot


def _message(item: OutboxItem) -> Message:
    data = json.loads(item.payload)
    msgtype = data.get("msgtype", "text")
    content = str((data.get(msgtype) or {}).get("content", ""))
    return Markdown(content=content) if msgtype == "markdown" else Text(content=content)

"""Sends callbacks exactly as WeCom, the intelligent bot and the Official Account platform do: signed, encrypted,
POSTed over HTTP; and opens the passive reply. Used by `qungui callback send` and `qungui demo`."""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from chalicelib.wecom.crypto import CryptoError, WeComCrypto, sign
from chalicelib.wecom.xml import XmlError, parse_xml, render_xml
from qungui_cli.errors import CliError

PATHS = {"app": "wecom/{t}/callback", "bot": "wecom/{t}/bot", "mp": "mp/{t}/callback"}


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    reply: str | None  # the decrypted reply text, when there is one


@dataclass(frozen=True)
class TenantKeys:
    tenant: str
    corp_id: str
    mp_app_id: str
    secrets: dict[str, str]


class Sender:
    def __init__(self, base_url: str, keys: TenantKeys, clock: Callable[[], float] = time.time) -> None:
        self.base_url = base_url.rstrip("/")
        self.keys = keys
        self._clock = clock

    def crypto(self, channel: str) -> WeComCrypto:
        names = {"app": ("token", "aes_key"), "bot": ("bot_token", "bot_aes_key"), "mp": ("mp_token", "mp_aes_key")}
        token_name, key_name = names[channel]
        token, aes_key = self.keys.secrets.get(token_name), self.keys.secrets.get(key_name)
        if not token or not aes_key:
            raise CliError(f"the tenant has no {channel} token and EncodingAESKey")
        receive_id = {"app": self.keys.corp_id, "bot": "", "mp": self.keys.mp_app_id}[channel]
        return WeComCrypto(token, aes_key, receive_id)

    def text(
        self, channel: str, content: str, sender: str, chat: str | None = None, msg_id: str | None = None
    ) -> Answer:
        now = int(self._clock())
        if channel == "bot":
            payload: dict[str, Any] = {
                "msgid": msg_id or secrets.token_hex(12),
                "aibotid": "local",
                "chattype": "group" if chat else "single",
                "from": {"userid": sender},
                "msgtype": "text",
                "text": {"content": content},
            }
            if chat:
                payload["chatid"] = chat
            return self.post("bot", json.dumps(payload, ensure_ascii=False).encode(), now)
        fields: dict[str, str | int] = {
            "ToUserName": self.keys.corp_id if channel == "app" else self.keys.mp_app_id,
            "FromUserName": sender,
            "CreateTime": now,
            "MsgType": "text",
            "Content": content,
            "MsgId": int(msg_id) if msg_id and msg_id.isdigit() else secrets.randbits(62),
        }
        return self.post(channel, render_xml(fields).encode(), now)

    def event(self, name: str, fields: dict[str, str | list[str]]) -> Answer:
        now = int(self._clock())
        head: dict[str, str | int] = {"ToUserName": self.keys.corp_id, "FromUserName": "sys", "CreateTime": now,
                                      "MsgType": "event", "Event": name}  # fmt: skip
        flat = {key: value for key, value in fields.items() if isinstance(value, str)}
        lists = "".join(
            f"<{key}>" + "".join(f"<Item>{item}</Item>" for item in value) + f"</{key}>"
            for key, value in fields.items()
            if isinstance(value, list)
        )
        document = render_xml({**head, **flat}).replace("</xml>", lists + "</xml>")
        return self.post("app", document.encode(), now)

    def post(self, channel: str, plaintext: bytes, now: int, nonce: str | None = None) -> Answer:
        crypto = self.crypto(channel)
        nonce = nonce or str(secrets.randbelow(10**9))
        envelope = crypto.seal(plaintext, str(now), nonce)
        query = {"msg_signature": envelope.signature, "timestamp": str(now), "nonce": nonce}
        if channel == "mp":
            query |= {"encrypt_type": "aes", "signature": sign(crypto.token, str(now), nonce)}
        body = (
            json.dumps({"encrypt": envelope.encrypted}).encode()
            if channel == "bot"
            else render_xml({"ToUserName": self.keys.corp_id, "Encrypt": envelope.encrypted}).encode()
        )
        status, text = self._http("POST", self._url(channel, query), body)
        reply = open_reply(channel, crypto, text) if status == 200 and text else None
        return Answer(status, text, reply)

    def verify_url(self, channel: str = "app", echo: str | None = None) -> Answer:
        now = str(int(self._clock()))
        nonce = str(secrets.randbelow(10**9))
        crypto = self.crypto(channel)
        echo = echo or str(secrets.randbits(60))
        envelope = crypto.seal(echo.encode(), now, nonce)
        query = {"msg_signature": envelope.signature, "timestamp": now, "nonce": nonce, "echostr": envelope.encrypted}
        status, text = self._http("GET", self._url(channel, query), None)
        return Answer(status, text, text if status == 200 else None)

    def _url(self, channel: str, query: dict[str, str]) -> str:
        return f"{self.base_url}/{PATHS[channel].format(t=self.keys.tenant)}?{urlencode(query)}"

    @staticmethod
    def _http(method: str, url: str, body: bytes | None) -> tuple[int, str]:
        headers = {"Content-Type": "text/xml"} if body is not None else {}
        request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the operator's own URL
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")
        except (urllib.error.URLError, OSError) as exc:
            raise CliError(f"cannot reach {url.split('?')[0]}: {getattr(exc, 'reason', exc)}") from exc


def open_reply(channel: str, crypto: WeComCrypto, reply: str) -> str:
    """Verify and decrypt a passive reply the way the platform would; the member-visible text."""
    try:
        if channel == "bot":
            data = json.loads(reply)
            encrypted, signature = data["encrypt"], data["msgsignature"]
            timestamp, nonce = str(data["timestamp"]), data["nonce"]
        else:
            envelope = parse_xml(reply)
            encrypted, signature = str(envelope["Encrypt"]), str(envelope["MsgSignature"])
            timestamp, nonce = str(envelope["TimeStamp"]), str(envelope["Nonce"])
        if not crypto.verify(signature, timestamp, nonce, encrypted):
            raise CliError("the reply's signature does not verify")
        plaintext = crypto.decrypt(encrypted).decode()
    except (ValueError, KeyError, XmlError, CryptoError) as exc:
        raise CliError(f"cannot open the reply: {exc}") from exc
    if channel == "bot":
        return str(json.loads(plaintext)["stream"]["content"])
    return str(parse_xml(plaintext).get("Content", plaintext))


def keys_for(tenant: str) -> TenantKeys:
    """The tenant's callback credentials, from the stage or local stack the CLI points at."""
    from qungui_cli import aws

    record = aws.get_tenant_record(tenant)
    if record is None:
        raise CliError(f"unknown tenant {tenant!r}")
    current = aws.get_secrets_document(record.secrets_parameter).get("current") or {}
    return TenantKeys(tenant, record.corp_id, record.mp_app_id or "", {k: str(v) for k, v in current.items()})

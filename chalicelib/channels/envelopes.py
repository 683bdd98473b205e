"""The wire envelopes of the three channels: authenticate and open what arrives, seal what we answer.

- app (WeCom self-built app): XML `<xml><Encrypt/>…</xml>`, receiveid = CorpID; reply is the 4-field XML envelope.
- bot (WeCom intelligent bot): JSON `{"encrypt": …}`, receiveid = ""; reply `{"encrypt","msgsignature","timestamp",
  "nonce"}` with the request's nonce (智能机器人 加解密 path/101033).
- mp (Official Account): plaintext mode signs sha1(token, timestamp, nonce) only and sends plain XML; safe mode
  (`encrypt_type=aes`) is the WeCom scheme with receiveid = AppID. The mode is pinned per tenant.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.events import Channel
from chalicelib.tenants import Secrets, Tenant
from chalicelib.wecom.crypto import CryptoError, WeComCrypto, sign, signature_matches
from chalicelib.wecom.xml import XmlError, parse_xml, render_xml


class Rejected(Exception):
    """Bad input: answered with `status` and a short `reason`, stored nowhere. `metric` names the reason."""

    def __init__(self, status: int, reason: str, metric: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.metric = metric


class SignatureMismatch(Rejected):
    def __init__(self) -> None:
        super().__init__(403, "signature mismatch", "signature")


@dataclass(frozen=True, slots=True)
class Opened:
    """An authenticated callback: the decrypted plaintext, and how to seal the answer (None: answer in plaintext)."""

    plaintext: bytes
    sealer: WeComCrypto | None
    used_previous_secrets: bool


def _credentials(channel: Channel, tenant: Tenant, secrets: Secrets) -> tuple[str, str, str] | None:
    if channel is Channel.APP:
        return secrets.token, secrets.aes_key, tenant.corp_id
    if channel is Channel.BOT:
        return secrets.bot_token, secrets.bot_aes_key, ""
    return secrets.mp_token, secrets.mp_aes_key, tenant.mp_app_id or ""


def configured(channel: Channel, tenant: Tenant) -> bool:
    creds = _credentials(channel, tenant, tenant.secrets)
    if creds is None or not creds[0]:
        return False
    if channel is Channel.MP and not tenant.mp_app_id:
        return False
    return (channel is Channel.MP and tenant.mp_mode == "plain") or bool(creds[1])


def _candidates(channel: Channel, tenant: Tenant) -> list[tuple[Secrets, bool]]:
    found = [(tenant.secrets, False)]
    if tenant.previous is not None:
        found.append((tenant.previous, True))
    return found


def _crypto(channel: Channel, tenant: Tenant, secrets: Secrets) -> WeComCrypto | None:
    token, aes_key, receive_id = _credentials(channel, tenant, secrets) or ("", "", "")
    if not token or not aes_key:
        return None
    try:
        return WeComCrypto(token, aes_key, receive_id)
    except CryptoError:
        return None


def _require(query: Mapping[str, str], *names: str) -> list[str]:
    values = [query.get(name) or "" for name in names]
    missing = [name for name, value in zip(names, values, strict=True) if not value]
    if missing:
        raise Rejected(400, f"missing query parameter {missing[0]}", "malformed")
    return values


def _open_encrypted(
    channel: Channel, tenant: Tenant, signature: str, timestamp: str, nonce: str, encrypted: str
) -> Opened:
    for secrets, is_previous in _candidates(channel, tenant):
        crypto = _crypto(channel, tenant, secrets)
        if crypto is None or not crypto.verify(signature, timestamp, nonce, encrypted):
            continue
        try:
            plaintext = crypto.decrypt(encrypted)
        except CryptoError as exc:
            status, metric = (403, "receiveid") if exc.reason == "receiveid mismatch" else (400, "decrypt")
            raise Rejected(status, exc.reason, metric) from exc
        return Opened(plaintext, crypto, is_previous)
    raise SignatureMismatch


def verify_url(channel: Channel, tenant: Tenant, query: Mapping[str, str]) -> tuple[str, bool]:
    """Answer a GET URL verification: the plaintext to return, and whether the previous secrets verified it."""
    if channel is Channel.MP:
        signature, timestamp, nonce, echostr = _require(query, "signature", "timestamp", "nonce", "echostr")
        return echostr, _verify_plain(tenant, signature, timestamp, nonce)
    signature, timestamp, nonce, echostr = _require(query, "msg_signature", "timestamp", "nonce", "echostr")
    opened = _open_encrypted(channel, tenant, signature, timestamp, nonce, echostr)
    try:
        return opened.plaintext.decode(), opened.used_previous_secrets
    except UnicodeDecodeError as exc:
        raise Rejected(400, "echostr is not text", "decrypt") from exc


def _verify_plain(tenant: Tenant, signature: str, timestamp: str, nonce: str) -> bool:
    for secrets, is_previous in _candidates(Channel.MP, tenant):
        if secrets.mp_token and signature_matches(sign(secrets.mp_token, timestamp, nonce), signature):
            return is_previous
    raise SignatureMismatch


def open_post(channel: Channel, tenant: Tenant, query: Mapping[str, str], body: bytes) -> Opened:
    if channel is Channel.MP:
        return _open_mp(tenant, query, body)
    signature, timestamp, nonce = _require(query, "msg_signature", "timestamp", "nonce")
    encrypted = _bot_encrypt_field(body) if channel is Channel.BOT else _xml_encrypt_field(body)
    return _open_encrypted(channel, tenant, signature, timestamp, nonce, encrypted)


def _xml_encrypt_field(body: bytes) -> str:
    try:
        fields = parse_xml(body)
    except XmlError as exc:
        raise Rejected(400, exc.reason, "malformed") from exc
    encrypted = fields.get("Encrypt")
    if not isinstance(encrypted, str) or not encrypted:
        raise Rejected(400, "no Encrypt field", "malformed")
    return encrypted


def _bot_encrypt_field(body: bytes) -> str:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Rejected(400, "malformed JSON", "malformed") from exc
    encrypted = payload.get("encrypt") if isinstance(payload, dict) else None
    if not isinstance(encrypted, str) or not encrypted:
        raise Rejected(400, "no encrypt field", "malformed")
    return encrypted


def _open_mp(tenant: Tenant, query: Mapping[str, str], body: bytes) -> Opened:
    encrypted_mode = (query.get("encrypt_type") or "").lower() == "aes"
    if tenant.mp_mode == "safe":
        if not encrypted_mode:
            raise Rejected(400, "this Official Account is in safe mode: plaintext bodies are refused", "mp_mode")
        signature, timestamp, nonce = _require(query, "msg_signature", "timestamp", "nonce")
        return _open_encrypted(Channel.MP, tenant, signature, timestamp, nonce, _xml_encrypt_field(body))
    if encrypted_mode:
        raise Rejected(400, "this Official Account is in plaintext mode: encrypted bodies are refused", "mp_mode")
    signature, timestamp, nonce = _require(query, "signature", "timestamp", "nonce")
    used_previous = _verify_plain(tenant, signature, timestamp, nonce)
    return Opened(body, None, used_previous)


def seal_reply(channel: Channel, opened: Opened, plaintext: str, timestamp: str, nonce: str) -> tuple[str, str]:
    """The response body and content type carrying `plaintext` back to the platform."""
    if opened.sealer is None:
        return plaintext, "application/xml"
    envelope = opened.sealer.seal(plaintext.encode(), timestamp, nonce)
    if channel is Channel.BOT:
        body: dict[str, Any] = {
            "encrypt": envelope.encrypted,
            "msgsignature": envelope.signature,
            "timestamp": int(timestamp),
            "nonce": envelope.nonce,
        }
        return json.dumps(body), "application/json"
    # TimeStamp is a bare number on the wire (Tencent's AES_TEXT_RESPONSE_TEMPLATE); the gateway checked it is digits.
    fields: dict[str, str | int] = {
        "Encrypt": envelope.encrypted,
        "MsgSignature": envelope.signature,
        "TimeStamp": int(timestamp),
        "Nonce": envelope.nonce,
    }
    return render_xml(fields), "application/xml"

"""Cold-start baseline for bench/run.py: qungui's app callback route written by hand, bare Chalice + PynamoDB.

It does the same work as `app.py` for GET URL verification and a text message with a passive reply, honestly:
a PynamoDB get of the tenant record, a boto3 SSM get_parameter(WithDecryption) of the tenant's secrets document,
SHA-1 signature check, AES-256-CBC with `cryptography`, stdlib ElementTree, one conditional PutItem dedup marker that
carries the reply (so a retry gets it back), and an encrypted reply. No Powertools, no abstractions, no logging.
One model class serves both items, so one DynamoDB client is created (see docs/benchmarks.md for why that matters).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
import time
from xml.etree import ElementTree

import boto3
from chalice import Chalice, Response
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

app = Chalice(app_name="qungui-baseline")

HELP = (
    "群规助手可用的指令（直接发送即可）：\n"
    "· 帮助 —— 显示本说明\n"
    "· 改昵称 —— 如何设置“我在本群的昵称”（群成员一律实名制）\n"
    "· 免打扰 —— 如何对本群开启“消息免打扰”\n"
    "在群里使用时请先 @群规助手。"
)


class Row(Model):
    class Meta:
        table_name = os.environ.get("QUNGUI_TABLE", "qungui-dev")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    corp_id = UnicodeAttribute(null=True)
    secrets_parameter = UnicodeAttribute(null=True)
    reply_body = UnicodeAttribute(null=True)
    processed_at = NumberAttribute(null=True)


_ssm = None
_tenants: dict[str, tuple[str, str, str]] = {}  # tenant -> (corp_id, token, aes_key), per warm container


def _tenant(tenant_id: str) -> tuple[str, str, str]:
    global _ssm
    if tenant_id not in _tenants:
        record = Row.get(f"T#{tenant_id}", "PROFILE")
        if _ssm is None:
            _ssm = boto3.client("ssm")
        value = _ssm.get_parameter(Name=record.secrets_parameter, WithDecryption=True)["Parameter"]["Value"]
        current = json.loads(value)["current"]
        _tenants[tenant_id] = (record.corp_id or "", current["token"], current["aes_key"])
    return _tenants[tenant_id]


def _signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def _key(aes_key: str) -> bytes:
    return base64.b64decode(aes_key + "=")


def _decrypt(aes_key: str, encrypted: str, receive_id: str) -> bytes:
    key = _key(aes_key)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    body = plain[16 : -plain[-1]]
    (length,) = struct.unpack(">I", body[:4])
    if body[4 + length :] != receive_id.encode():
        raise ValueError("receiveid mismatch")
    return body[4 : 4 + length]


def _encrypt(aes_key: str, message: bytes, receive_id: str) -> str:
    key = _key(aes_key)
    text = os.urandom(16) + struct.pack(">I", len(message)) + message + receive_id.encode()
    pad = 32 - len(text) % 32
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(text + bytes([pad]) * pad) + encryptor.finalize()).decode()


@app.route("/wecom/{tenant}/callback", methods=["GET", "POST"], content_types=["*/*"])
def callback(tenant: str) -> Response:
    request = app.current_request
    assert request is not None
    query = request.query_params or {}
    corp_id, token, aes_key = _tenant(tenant)
    signature, timestamp, nonce = query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", "")
    if request.method == "GET":
        echostr = query.get("echostr", "")
        if not hmac.compare_digest(_signature(token, timestamp, nonce, echostr), signature):
            return Response("signature mismatch", status_code=403, headers={"Content-Type": "text/plain"})
        return Response(_decrypt(aes_key, echostr, corp_id).decode(), headers={"Content-Type": "text/plain"})

    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return Response("stale timestamp", status_code=400, headers={"Content-Type": "text/plain"})
    # Stdlib ElementTree on purpose: the baseline is the bare minimum (qungui parses with defusedxml).
    encrypted = ElementTree.fromstring(request.raw_body).findtext("Encrypt") or ""  # noqa: S314
    if not hmac.compare_digest(_signature(token, timestamp, nonce, encrypted), signature):
        return Response("signature mismatch", status_code=403, headers={"Content-Type": "text/plain"})
    message = ElementTree.fromstring(_decrypt(aes_key, encrypted, corp_id))  # noqa: S314
    sender, msg_id = message.findtext("FromUserName") or "", message.findtext("MsgId") or ""

    reply = (
        f"<xml><ToUserName><![CDATA[{sender}]]></ToUserName><FromUserName><![CDATA[{corp_id}]]></FromUserName>"
        f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{HELP}]]></Content></xml>"
    )
    sealed = _encrypt(aes_key, reply.encode(), corp_id)
    body = (
        f"<xml><Encrypt><![CDATA[{sealed}]]></Encrypt>"
        f"<MsgSignature><![CDATA[{_signature(token, timestamp, nonce, sealed)}]]></MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
    )
    marker = Row(f"T#{tenant}", f"BASEDEDUP#app#{msg_id}", reply_body=body, processed_at=int(time.time()))
    try:
        marker.save(condition=Row.pk.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        body = Row.get(marker.pk, marker.sk, consistent_read=True).reply_body or ""
    return Response(body, headers={"Content-Type": "application/xml"})

"""The platform side of the benchmarks: signed, encrypted WeCom callbacks built with wechatpy (an implementation
independent of chalicelib.wecom.crypto), and the checks that an answer really is the expected passive reply."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from wechatpy.enterprise.crypto import WeChatCrypto

TENANT = "bench"
CORP_ID = "ww5be4c1b3e9a2d7f0"
TOKEN = "Bq7Lr2Vx9Kd4Hs1Nw6Tz3Jm8Pc5Yf0Ga"  # noqa: S105 - a bench tenant in a throwaway moto account
AES_KEY = "e0hTFyMQS4tPqVCQLr0mz9MpPEUz6zC1LP8LXpwHVUc"
BOT_TOKEN = "Bt4Kq9Wz2Lm7"  # noqa: S105
BOT_AES_KEY = "ebINRJk8xFybuVlVCU07Ykd1MleTkU54vYLuuF1ddi1"

CLI_ADD = [
    "--stage", "dev", "tenant", "add", TENANT, "--corp-id", CORP_ID, "--token", TOKEN, "--aes-key", AES_KEY,
    "--agent-id", "1000002", "--secret", "bench-app-secret", "--admins", "boss",
    "--bot-token", BOT_TOKEN, "--bot-aes-key", BOT_AES_KEY,
]  # fmt: skip


@dataclass(frozen=True)
class Callback:
    method: str
    path: str  # without the query string
    query: dict[str, str]
    body: str
    content_type: str | None


def _envelope(xml_text: str) -> dict[str, str]:
    # Only our own answers and wechatpy's output are parsed here.
    return {child.tag: child.text or "" for child in ElementTree.fromstring(xml_text)}  # noqa: S314


class Peer:
    def __init__(self, tenant: str = TENANT) -> None:
        self.tenant = tenant
        self.app = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
        self.bot = WeChatCrypto(BOT_TOKEN, BOT_AES_KEY, "")

    def app_verify(self, echo: str, timestamp: int, nonce: str) -> Callback:
        sealed = _envelope(self.app.encrypt_message(echo, nonce, timestamp))
        query = {
            "msg_signature": sealed["MsgSignature"],
            "timestamp": str(timestamp),
            "nonce": nonce,
            "echostr": sealed["Encrypt"],
        }
        return Callback("GET", f"/wecom/{self.tenant}/callback", query, "", None)

    def app_text(self, sender: str, content: str, msg_id: int, timestamp: int, nonce: str) -> Callback:
        plaintext = (
            f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
            f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId><AgentID>1000002</AgentID></xml>"
        )
        sealed = _envelope(self.app.encrypt_message(plaintext, nonce, timestamp))
        body = (
            f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{sealed['Encrypt']}]]></Encrypt>"
            "<AgentID><![CDATA[1000002]]></AgentID></xml>"
        )
        query = {"msg_signature": sealed["MsgSignature"], "timestamp": str(timestamp), "nonce": nonce}
        return Callback("POST", f"/wecom/{self.tenant}/callback", query, body, "text/xml")

    def bot_group_mention(
        self, sender: str, chat_id: str, content: str, msg_id: str, timestamp: int, nonce: str
    ) -> Callback:
        payload = {
            "msgid": msg_id, "aibotid": "AIBOTBENCH", "chattype": "group", "chatid": chat_id,
            "from": {"userid": sender}, "msgtype": "text", "text": {"content": content},
            "response_url": "https://example.invalid/cgi-bin/aibot/response?response_code=bench",
        }  # fmt: skip
        sealed = _envelope(self.bot.encrypt_message(json.dumps(payload, ensure_ascii=False), nonce, timestamp))
        query = {"msg_signature": sealed["MsgSignature"], "timestamp": str(timestamp), "nonce": nonce}
        return Callback(
            "POST", f"/wecom/{self.tenant}/bot", query, json.dumps({"encrypt": sealed["Encrypt"]}), "application/json"
        )

    def open_app_reply(self, body: str) -> dict[str, str]:
        """The decrypted reply fields; raises if the envelope is not signed and sealed for this tenant."""
        sealed = _envelope(body)
        plaintext = self.app.decrypt_message(body, sealed["MsgSignature"], sealed["TimeStamp"], sealed["Nonce"])
        return _envelope(plaintext)

    def open_bot_reply(self, body: str) -> dict[str, Any]:
        reply = json.loads(body)
        plaintext = self.bot.decrypt_message(
            {"Encrypt": reply["encrypt"]}, reply["msgsignature"], str(reply["timestamp"]), reply["nonce"]
        )
        return dict(json.loads(plaintext))

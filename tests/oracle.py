"""An independent WeCom / Official Account peer for tests, built on wechatpy (not on chalicelib.wecom.crypto): it
signs and encrypts callbacks the way the platforms do, and decrypts and verifies our passive replies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

import xmltodict
from wechatpy.crypto import WeChatCrypto as MpCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WorkCrypto
from wechatpy.utils import check_signature

CORP_ID = "ww1436e0e65a779aee"
TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
BOT_TOKEN = "QDG6eK"
BOT_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
MP_APP_ID = "wx134c8103faa5a59e"
MP_TOKEN = "AAAAA"
MP_AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
MP_ACCOUNT = "gh_97417a04a28d"


@dataclass(frozen=True)
class Call:
    path: str  # with the query string
    body: bytes


class Peer:
    """One tenant's platform side: all three channels, with configurable credentials."""

    def __init__(
        self,
        tenant: str = "acme",
        *,
        token: str = TOKEN,
        aes_key: str = AES_KEY,
        corp_id: str = CORP_ID,
        bot_token: str = BOT_TOKEN,
        bot_aes_key: str = BOT_AES_KEY,
        mp_token: str = MP_TOKEN,
        mp_aes_key: str = MP_AES_KEY,
        mp_app_id: str = MP_APP_ID,
    ) -> None:
        self.tenant = tenant
        self.corp_id = corp_id
        self.app = WorkCrypto(token, aes_key, corp_id)
        self.bot = WorkCrypto(bot_token, bot_aes_key, "")
        self.mp = MpCrypto(mp_token, mp_aes_key, mp_app_id)
        self.mp_token = mp_token

    # ---- app (XML) ----
    def app_post(self, plaintext_xml: str, timestamp: int, nonce: str = "1372623149") -> Call:
        envelope = xmltodict.parse(self.app.encrypt_message(plaintext_xml, nonce, timestamp))["xml"]
        body = (
            f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
            f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>"
        )
        query = {"msg_signature": envelope["MsgSignature"], "timestamp": str(timestamp), "nonce": nonce}
        return Call(f"/wecom/{self.tenant}/callback?{urlencode(query)}", body.encode())

    def app_verify(self, echo: str, timestamp: int, nonce: str = "47744683") -> Call:
        envelope = xmltodict.parse(self.app.encrypt_message(echo, nonce, timestamp))["xml"]
        query = {
            "msg_signature": envelope["MsgSignature"],
            "timestamp": str(timestamp),
            "nonce": nonce,
            "echostr": envelope["Encrypt"],
        }
        return Call(f"/wecom/{self.tenant}/callback?{urlencode(query)}", b"")

    def open_app_reply(self, body: str, timestamp: int, nonce: str) -> dict[str, str]:
        envelope = xmltodict.parse(body)["xml"]
        assert envelope["TimeStamp"] == str(timestamp)
        assert envelope["Nonce"] == nonce
        plaintext = self.app.decrypt_message(body, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"])
        return dict(xmltodict.parse(plaintext)["xml"])

    # ---- bot (JSON) ----
    def bot_post(self, payload: dict[str, object], timestamp: int, nonce: str = "1372623149") -> Call:
        text = json.dumps(payload, ensure_ascii=False)
        envelope = xmltodict.parse(self.bot.encrypt_message(text, nonce, timestamp))["xml"]
        query = {"msg_signature": envelope["MsgSignature"], "timestamp": str(timestamp), "nonce": nonce}
        return Call(
            f"/wecom/{self.tenant}/bot?{urlencode(query)}", json.dumps({"encrypt": envelope["Encrypt"]}).encode()
        )

    def open_bot_reply(self, body: str, nonce: str) -> dict[str, object]:
        reply = json.loads(body)
        assert reply["nonce"] == nonce
        plaintext = self.bot.decrypt_message(
            {"Encrypt": reply["encrypt"]}, reply["msgsignature"], str(reply["timestamp"]), reply["nonce"]
        )
        return dict(json.loads(plaintext))

    # ---- Official Account ----
    def mp_post_safe(self, plaintext_xml: str, timestamp: int, nonce: str = "1590219412") -> Call:
        envelope = xmltodict.parse(self.mp.encrypt_message(plaintext_xml, nonce, timestamp))["xml"]
        body = (
            f"<xml><ToUserName><![CDATA[{MP_ACCOUNT}]]></ToUserName>"
            f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
        )
        query = {
            "signature": _plain_signature(self.mp_token, str(timestamp), nonce),
            "timestamp": str(timestamp),
            "nonce": nonce,
            "openid": "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
            "encrypt_type": "aes",
            "msg_signature": envelope["MsgSignature"],
        }
        return Call(f"/mp/{self.tenant}/callback?{urlencode(query)}", body.encode())

    def mp_post_plain(self, plaintext_xml: str, timestamp: int, nonce: str = "1590219412") -> Call:
        query = {
            "signature": _plain_signature(self.mp_token, str(timestamp), nonce),
            "timestamp": str(timestamp),
            "nonce": nonce,
            "openid": "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
        }
        return Call(f"/mp/{self.tenant}/callback?{urlencode(query)}", plaintext_xml.encode())

    def mp_verify(self, echo: str, timestamp: int, nonce: str = "1590219412") -> Call:
        query = {
            "signature": _plain_signature(self.mp_token, str(timestamp), nonce),
            "timestamp": str(timestamp),
            "nonce": nonce,
            "echostr": echo,
        }
        return Call(f"/mp/{self.tenant}/callback?{urlencode(query)}", b"")

    def open_mp_reply(self, body: str) -> dict[str, str]:
        envelope = xmltodict.parse(body)["xml"]
        plaintext = self.mp.decrypt_message(body, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"])
        return dict(xmltodict.parse(plaintext)["xml"])


def _plain_signature(token: str, timestamp: str, nonce: str) -> str:
    import hashlib

    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    check_signature(token, signature, timestamp, nonce)  # wechatpy agrees, or raises
    return signature


def app_text(sender: str, content: str, created: int, msg_id: int, corp_id: str = CORP_ID) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
        f"<MsgId>{msg_id}</MsgId><AgentID>1000002</AgentID></xml>"
    )


def bot_text(sender: str, content: str, msg_id: str, chat_id: str | None = None) -> dict[str, object]:
    payload: dict[str, object] = {
        "msgid": msg_id,
        "aibotid": "AIBOTID",
        "chattype": "group" if chat_id else "single",
        "from": {"userid": sender},
        "response_url": "https://example.invalid/cgi-bin/aibot/response?response_code=x",
        "msgtype": "text",
        "text": {"content": content},
    }
    if chat_id:
        payload["chatid"] = chat_id
    return payload


def mp_text(openid: str, content: str, created: int, msg_id: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{MP_ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )

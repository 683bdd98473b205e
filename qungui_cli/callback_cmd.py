"""`qungui callback send`: sign, encrypt and POST a callback exactly as WeCom (or the Official Account platform) would,
then print the decrypted reply. Aimed at the local stack by default, or at any deployed URL with --url."""

from __future__ import annotations

import argparse
import json
import secrets
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

from chalicelib.wecom.crypto import CryptoError, WeComCrypto, sign
from chalicelib.wecom.xml import XmlError, parse_xml, render_xml
from qungui_cli.errors import CliError


def register(subparsers: Any) -> None:
    callback = subparsers.add_parser("callback", help="send callbacks as the platform would")
    actions = callback.add_subparsers(dest="action", required=True)
    send = actions.add_parser("send", help="sign, encrypt and POST one callback; print the decrypted reply")
    send.add_argument("--tenant", required=True)
    send.add_argument("--url", help="base URL of qungui (default: the running local stack)")
    send.add_argument("--channel", choices=("app", "bot", "mp"), default="app")
    kinds = send.add_subparsers(dest="kind", required=True)
    text = kinds.add_parser("text", help="a text message from a member")
    text.add_argument("content")
    text.add_argument("--from", dest="sender", default="zhangsan", help="UserID (app, bot) or OpenID (mp)")
    text.add_argument("--chat", help="bot only: the group chat id (an @-mention in a group)")
    text.add_argument("--msg-id", help="default: a new random id (reuse one to simulate WeCom's retry)")
    event = kinds.add_parser("event", help="a platform event, e.g. change_external_chat ChatId=wr1 ChangeType=dismiss")
    event.add_argument("name")
    event.add_argument("fields", nargs="*", metavar="TAG=VALUE", help="extra tags; a,b,c becomes <Item> list")
    send.set_defaults(handler=send_callback)


def send_callback(args: argparse.Namespace) -> int:
    from qungui_cli import aws

    record = aws.get_tenant_record(args.tenant)
    if record is None:
        raise CliError(f"unknown tenant {args.tenant!r}")
    current = aws.get_secrets_document(record.secrets_parameter).get("current") or {}
    base = (args.url or _local_url()).rstrip("/")
    now = int(time.time())
    nonce = str(secrets.randbelow(10**9))
    if args.channel == "bot":
        crypto = _crypto(current.get("bot_token"), current.get("bot_aes_key"), "", "bot")
        body_plain = json.dumps(_bot_payload(args), ensure_ascii=False).encode()
    elif args.channel == "mp":
        crypto = _crypto(current.get("mp_token"), current.get("mp_aes_key"), record.mp_app_id or "", "mp")
        body_plain = _xml_payload(args, record.mp_app_id or "gh_account", now).encode()
    else:
        crypto = _crypto(current.get("token"), current.get("aes_key"), record.corp_id, "app")
        body_plain = _xml_payload(args, record.corp_id, now).encode()
    envelope = crypto.seal(body_plain, str(now), nonce)
    path = {"app": "wecom/{t}/callback", "bot": "wecom/{t}/bot", "mp": "mp/{t}/callback"}[args.channel]
    query: dict[str, str] = {"msg_signature": envelope.signature, "timestamp": str(now), "nonce": nonce}
    if args.channel == "mp":
        query |= {"encrypt_type": "aes", "signature": sign(crypto.token, str(now), nonce)}
    body = (
        json.dumps({"encrypt": envelope.encrypted}).encode()
        if args.channel == "bot"
        else render_xml({"ToUserName": record.corp_id, "Encrypt": envelope.encrypted}).encode()
    )
    status, reply = _post(f"{base}/{path.format(t=args.tenant)}?{urlencode(query)}", body)
    print(f"HTTP {status}")
    if status == 200 and reply:
        print(_open_reply(args.channel, crypto, reply))
    elif reply:
        print(reply)
    return 0 if status == 200 else 1


def _local_url() -> str:
    from qungui_cli import target

    state = target.read_state()
    if state is None:
        raise CliError("no local stack running: start `qungui dev`, or pass --url")
    return str(state["url"])


def _crypto(token: str | None, aes_key: str | None, receive_id: str, channel: str) -> WeComCrypto:
    if not token or not aes_key:
        raise CliError(f"the tenant has no {channel} token and EncodingAESKey")
    return WeComCrypto(token, aes_key, receive_id)


def _xml_payload(args: argparse.Namespace, to: str, now: int) -> str:
    fields: dict[str, str | int] = {"ToUserName": to}
    if args.kind == "text":
        fields |= {"FromUserName": args.sender, "CreateTime": now, "MsgType": "text", "Content": args.content,
                   "MsgId": int(args.msg_id or secrets.randbits(62))}  # fmt: skip
        return render_xml(fields)
    fields |= {"FromUserName": "sys", "CreateTime": now, "MsgType": "event", "Event": args.name}
    lists: dict[str, list[str]] = {}
    for pair in args.fields:
        name, sep, value = pair.partition("=")
        if not sep or not name.isidentifier():
            raise CliError(f"expected TAG=VALUE, got {pair!r}")
        if "," in value:
            lists[name] = value.split(",")
        else:
            fields[name] = value
    document = render_xml(fields)
    items = "".join(f"<{n}>" + "".join(f"<Item>{v}</Item>" for v in vs) + f"</{n}>" for n, vs in lists.items())
    return document.replace("</xml>", items + "</xml>")


def _bot_payload(args: argparse.Namespace) -> dict[str, Any]:
    if args.kind != "text":
        return {"msgid": secrets.token_hex(8), "msgtype": "event", "event": {"eventtype": args.name}}
    payload: dict[str, Any] = {
        "msgid": args.msg_id or secrets.token_hex(12),
        "aibotid": "local",
        "chattype": "group" if args.chat else "single",
        "from": {"userid": args.sender},
        "msgtype": "text",
        "text": {"content": args.content},
    }
    if args.chat:
        payload["chatid"] = args.chat
    return payload


def _post(url: str, body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "text/xml"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the URL is the operator's own
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as exc:
        raise CliError(f"cannot reach {url.split('?')[0]}: {getattr(exc, 'reason', exc)}") from exc


def _open_reply(channel: str, crypto: WeComCrypto, reply: str) -> str:
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

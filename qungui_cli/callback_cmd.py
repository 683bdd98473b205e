"""`qungui callback send`: sign, encrypt and POST a callback exactly as WeCom (or the Official Account platform) would,
then print the decrypted reply. Aimed at the local stack by default, or at any deployed URL with --url."""

from __future__ import annotations

import argparse
from typing import Any

from qungui_cli.errors import CliError
from qungui_cli.sender import Sender, keys_for


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
    event = kinds.add_parser("event", help="an app event, e.g. change_external_chat ChatId=wr1 ChangeType=dismiss")
    event.add_argument("name")
    event.add_argument("fields", nargs="*", metavar="TAG=VALUE", help="extra tags; a,b,c becomes an <Item> list")
    send.set_defaults(handler=send_callback)


def send_callback(args: argparse.Namespace) -> int:
    sender = Sender(args.url or _local_url(), keys_for(args.tenant))
    if args.kind == "text":
        answer = sender.text(args.channel, args.content, args.sender, chat=args.chat, msg_id=args.msg_id)
    else:
        answer = sender.event(args.name, _fields(args.fields))
    print(f"HTTP {answer.status}")
    if answer.reply is not None:
        print(answer.reply)
    elif answer.body:
        print(answer.body)
    return 0 if answer.status == 200 else 1


def _fields(pairs: list[str]) -> dict[str, str | list[str]]:
    fields: dict[str, str | list[str]] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.isidentifier():
            raise CliError(f"expected TAG=VALUE, got {pair!r}")
        fields[name] = value.split(",") if "," in value else value
    return fields


def _local_url() -> str:
    from qungui_cli import target

    state = target.read_state()
    if state is None:
        raise CliError("no local stack running: start `qungui dev`, or pass --url")
    return str(state["url"])

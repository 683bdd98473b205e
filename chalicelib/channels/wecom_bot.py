"""WeCom intelligent bot (智能机器人) callbacks: a decrypted JSON payload becomes one Event.

Shapes from the bot docs (接收消息 path/100719, 接收事件 path/101027):
- every callback: `msgid`, `aibotid`, `chattype` "single"|"group", `chatid` (groups only), `from.userid`, `msgtype`;
- messages: text `text.content` (in groups it starts with the @-mention of the bot), mixed `mixed.msg_item[]` of
  text/image items, image/file `…url` (AES-encrypted, valid 5 minutes), voice `voice.content` (the ASR text);
  text and mixed may carry `quote` (msgtype + the quoted text/image/mixed/voice/file). image/voice/file arrive only
  in 1:1 chats. `stream` is a refresh poll for a streamed reply, not something a person said;
- events: `msgtype` "event", `event.eventtype` enter_chat | template_card_event (`event.template_card_event`:
  card_type, event_key, task_id) | feedback_event (`event.feedback_event`: id, type 1/2/3).

JSON has no schema the platform promises us, so every value is type-checked before use: a correctly signed but
hostile payload still maps to some Event, never to an exception.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chalicelib.channels.wecom_app import Attachments, Common, small_int, type_name
from chalicelib.events import (
    BotEntered,
    BotFeedback,
    CardClicked,
    Channel,
    Event,
    MessagePosted,
    Unrecognized,
)

# One or more leading "@name" tokens, each followed by whitespace (\s covers U+3000) or the end of the text.
_LEADING_MENTIONS = re.compile(r"\s*(?:@\S+(?:\s+|$))+")
_INT_MAX = 10**12


def bot_event(tenant: str, payload: dict[str, Any], event_id: str, at: int) -> Event:
    """The Event for one decrypted bot callback; `at` is the callback's query timestamp. Never raises."""
    if not isinstance(payload, dict):  # json.loads can hand us a list or a scalar
        return Unrecognized(tenant=tenant, channel=Channel.BOT, event_id=event_id, at=at, sender="", type_name="bot:")
    common = Common(
        tenant=tenant, channel=Channel.BOT, event_id=event_id, at=at, sender=_dig(payload, "from", "userid")
    )
    msg_type = _str(payload.get("msgtype"))
    if msg_type == "event":
        event = _obj(payload.get("event"))
        name = _str(event.get("eventtype"))
        handler = _EVENTS.get(name)
        if handler is None:
            return _unrecognized(type_name("bot:event", name), payload, common)
        return handler(payload, event, common)
    content = _CONTENT.get(msg_type)
    if content is None:
        return _unrecognized(type_name("bot", msg_type), payload, common)
    return _message(msg_type, payload, common, *content(payload))


# -- reading untrusted JSON ------------------------------------------------------------------------------------------


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dig(value: Any, *path: str) -> str:
    for key in path:
        value = _obj(value).get(key)
    return _str(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):  # bool is an int subclass; true is not feedback type 1
        return None
    if isinstance(value, int):
        return value if 0 <= value <= _INT_MAX else None
    return small_int(value) if isinstance(value, str) else None


def _chat_id(payload: dict[str, Any]) -> str | None:
    return (_str(payload.get("chatid")) or None) if _is_group(payload) else None


def _is_group(payload: dict[str, Any]) -> bool:
    return payload.get("chattype") == "group"


def _unrecognized(name: str, payload: dict[str, Any], common: Common) -> Unrecognized:
    return Unrecognized(**common, type_name=name, fields=tuple(sorted(key for key in payload if isinstance(key, str))))


# -- messages ---------------------------------------------------------------------------------------------------------


def strip_mentions(content: str) -> str:
    """`"@RobotA hello"` -> `"hello"`. The bot's own name is not in the payload, so every leading @-token goes."""
    match = _LEADING_MENTIONS.match(content)
    return content[match.end() :] if match else content


def _mixed_items(mixed: Any) -> list[dict[str, Any]]:
    if isinstance(mixed, str):
        # Seen in a third-party SDK's types: `mixed` as a JSON string rather than an object. Cheap to accept.
        try:
            mixed = json.loads(mixed)
        except (ValueError, RecursionError):
            return []
    items = _obj(mixed).get("msg_item")
    return [_obj(item) for item in items] if isinstance(items, list) else []


def _mixed(mixed: Any) -> tuple[str, Attachments]:
    texts: list[str] = []
    files: list[tuple[str, str]] = []
    for item in _mixed_items(mixed):
        kind = _str(item.get("msgtype"))
        if kind == "text" and _dig(item, "text", "content"):
            texts.append(_dig(item, "text", "content"))
        elif kind == "image" and _dig(item, "image", "url"):
            files.append(("image.url", _dig(item, "image", "url")))
    return "\n".join(texts), tuple(files)


def _media(kind: str) -> Callable[[dict[str, Any]], tuple[str, Attachments]]:
    # Named by JSON path: these URLs are encrypted blobs valid for minutes, not PicUrl-style plain links.
    def read(payload: dict[str, Any]) -> tuple[str, Attachments]:
        url = _dig(payload, kind, "url")
        return "", ((f"{kind}.url", url),) if url else ()

    return read


_CONTENT: dict[str, Callable[[dict[str, Any]], tuple[str, Attachments]]] = {
    "text": lambda payload: (_dig(payload, "text", "content"), ()),
    "mixed": lambda payload: _mixed(payload.get("mixed")),
    "image": _media("image"),
    # The ASR transcript is what the member said; rules read it like typed text.
    "voice": lambda payload: (_dig(payload, "voice", "content"), ()),
    "file": _media("file"),
    # Not in the 2025-12 docs (path/100719); kept in case video arrives the way image and file do.
    "video": _media("video"),
}


def _quote(payload: dict[str, Any]) -> str:
    quote = _obj(payload.get("quote"))
    kind = _str(quote.get("msgtype"))
    if kind in ("text", "voice"):
        return _dig(quote, kind, "content")
    if kind == "mixed":
        return _mixed(quote.get("mixed"))[0]
    return ""


def _message(msg_type: str, payload: dict[str, Any], common: Common, text: str, files: Attachments) -> MessagePosted:
    return MessagePosted(
        **common,
        chat_id=_chat_id(payload),
        msg_type=msg_type,
        text=strip_mentions(text) if _is_group(payload) else text,
        msg_id=_str(payload.get("msgid")),
        quote=_quote(payload),
        attachments=files,
    )


# -- events -----------------------------------------------------------------------------------------------------------


def _response_code(url: str) -> str:
    # response_url is .../cgi-bin/aibot/response?response_code=…; the code alone survives a configurable API base.
    try:
        query = urlsplit(url).query
    except ValueError:
        return ""
    codes = parse_qs(query).get("response_code")
    return codes[0] if codes else ""


def _card_clicked(payload: dict[str, Any], event: dict[str, Any], common: Common) -> Event:
    card = _obj(event.get("template_card_event"))
    # The examples say card_type/event_key, the field table cardtype/eventkey: take whichever is there.
    return CardClicked(
        **common,
        event_key=_str(card.get("event_key")) or _str(card.get("eventkey")),
        task_id=_str(card.get("task_id")),
        card_type=_str(card.get("card_type")) or _str(card.get("cardtype")),
        chat_id=_chat_id(payload),
        response_code=_response_code(_str(payload.get("response_url"))),
    )


def _feedback(_payload: dict[str, Any], event: dict[str, Any], common: Common) -> Event:
    feedback = _obj(event.get("feedback_event"))
    return BotFeedback(**common, feedback_id=_str(feedback.get("id")), feedback_type=_int(feedback.get("type")))


_EVENTS: dict[str, Callable[[dict[str, Any], dict[str, Any], Common], Event]] = {
    "enter_chat": lambda payload, _event, common: BotEntered(**common, chat_id=_chat_id(payload)),
    "template_card_event": _card_clicked,
    "feedback_event": _feedback,
}

__all__ = ["bot_event", "strip_mentions"]

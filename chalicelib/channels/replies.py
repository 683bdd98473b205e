"""The plaintext of a passive reply, per channel, before it is sealed into the channel's envelope."""

from __future__ import annotations

import json

from chalicelib.events import Channel, Event
from chalicelib.wecom.xml import render_xml

APP_TEXT_LIMIT = 2048  # bytes, message/send and passive text replies (path/96469)
BOT_STREAM_LIMIT = 20480  # bytes, intelligent-bot stream content (path/101031)


def fit(text: str, limit: int) -> str:
    """Cut to `limit` UTF-8 bytes on a character boundary, marking the cut, so a long answer is never rejected."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - len("…".encode())].decode(errors="ignore") + "…"


def render(channel: Channel, event: Event, text: str, corp_or_account: str, timestamp: int) -> str:
    """`corp_or_account`: the CorpID (app), or the Official Account's original id that the message was sent to."""
    if channel is Channel.BOT:
        stream = {"id": event.event_id, "finish": True, "content": fit(text, BOT_STREAM_LIMIT)}
        return json.dumps({"msgtype": "stream", "stream": stream}, ensure_ascii=False)
    return render_xml(
        {
            "ToUserName": event.sender,
            "FromUserName": corp_or_account,
            "CreateTime": timestamp,
            "MsgType": "text",
            "Content": fit(text, APP_TEXT_LIMIT),
        }
    )

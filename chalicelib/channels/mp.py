"""Official Account (公众号) callbacks: a plaintext or decrypted payload (parsed by `parse_xml`) becomes one Event.

Same shape as the WeCom app mapping (the WeCom format was copied from this one), so the field helpers are shared.
Messages: text, image, voice (+ Recognition when speech recognition is on), video, shortvideo, location, link.
Events: subscribe (EventKey `qrscene_…` for a parametric QR code), unsubscribe, SCAN, LOCATION, CLICK, VIEW,
TEMPLATESENDJOBFINISH (MsgID, Status). Event names arrive in mixed case (SCAN, LOCATION, CLICK, VIEW upper-case,
subscribe lower-case; wechatpy lowercases them all), so they are compared case-insensitively.
"""

from __future__ import annotations

from chalicelib.channels.wecom_app import (
    Common,
    Fields,
    Handler,
    attachments,
    epoch,
    location_reported,
    menu_clicked,
    text,
    type_name,
    unrecognized,
)
from chalicelib.events import (
    Channel,
    DeliveryReported,
    Event,
    MessagePosted,
    Subscribed,
    Unsubscribed,
)
from chalicelib.wecom.xml import XmlValue


def mp_event(tenant: str, fields: dict[str, XmlValue], event_id: str) -> Event:
    """The Event for one Official Account payload; never raises."""
    common = Common(
        tenant=tenant,
        channel=Channel.MP,
        event_id=event_id,
        at=epoch(text(fields, "CreateTime")),
        sender=text(fields, "FromUserName"),
    )
    msg_type = text(fields, "MsgType")
    if msg_type.lower() == "event":
        name = text(fields, "Event")
        handler = _EVENTS.get(name.lower())
        return handler(fields, common) if handler else unrecognized(type_name("event", name), fields, common)
    handler = _MESSAGES.get(msg_type.lower())
    return handler(fields, common) if handler else unrecognized(type_name("msg", msg_type), fields, common)


def _posted(msg_type: str, text_tag: str) -> Handler:
    def build(fields: Fields, common: Common) -> Event:
        return MessagePosted(
            **common,
            chat_id=None,
            msg_type=msg_type,
            text=text(fields, text_tag) if text_tag else "",
            msg_id=text(fields, "MsgId"),
            attachments=attachments(fields),
        )

    return build


_MESSAGES: dict[str, Handler] = {
    "text": _posted("text", "Content"),
    "image": _posted("image", ""),
    # The speech-recognition result is what the follower said; rules read it like typed text.
    "voice": _posted("voice", "Recognition"),
    "video": _posted("video", ""),
    "shortvideo": _posted("shortvideo", ""),
    "location": _posted("location", ""),
    "link": _posted("link", ""),
}


_EVENTS: dict[str, Handler] = {
    # EventKey is kept whole ("qrscene_123"): the scene is whatever the QR code was made with.
    "subscribe": lambda fields, common: Subscribed(**common, scene=text(fields, "EventKey")),
    "unsubscribe": lambda _fields, common: Unsubscribed(**common),
    # A follower scanned a parametric QR code; EventKey is the scene value without the qrscene_ prefix.
    "scan": menu_clicked("scan"),
    "location": location_reported,
    "click": menu_clicked("click"),
    "view": menu_clicked("view"),
    "templatesendjobfinish": lambda fields, common: DeliveryReported(
        **common, job_id=text(fields, "MsgID"), status=text(fields, "Status")
    ),
}

__all__ = ["mp_event"]

"""WeCom self-built app callbacks: a decrypted payload (parsed by `wecom.xml.parse_xml`) becomes one Event.

Pure mapping, wechatpy-style: a table keyed by MsgType / Event name, with `Unrecognized` as the fallback. A payload
is authenticated before it gets here, but authenticated is not well-formed: every field is read defensively, so a
missing tag, a nested element where text was expected, or a number that is not one yields a default, never an
exception.

Formats: messages path/90239 (代开发 copy path/96467); events path/90240 (enter_agent, subscribe, LOCATION,
click/view/scancode_*, batch_job_result, template_card_event); change_contact path/96302 (the third-party copy
path/90639 documents the party and tag fields Id/Name/ParentId/Order and TagId/AddUserItems/…); change_external_chat
path/92130 (代开发 copy path/96361); change_external_contact as in wechatpy `work/events.py` (msg_audit_approved from
path/92005, secondary); msgaudit_notify path/95039. The helpers below are shared with `channels.mp`: the Official
Account XML is the format WeCom's was copied from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TypedDict

from chalicelib.events import (
    AgentEntered,
    ArchiveReady,
    CardClicked,
    Channel,
    DeliveryReported,
    DirectoryChanged,
    Event,
    ExternalContactChanged,
    GroupCreated,
    GroupDismissed,
    GroupNoticeChanged,
    GroupOwnerChanged,
    GroupRenamed,
    LocationReported,
    MemberJoined,
    MemberLeft,
    MenuClicked,
    MessagePosted,
    Subscribed,
    Unrecognized,
    Unsubscribed,
)
from chalicelib.wecom.xml import XmlValue

Fields = Mapping[str, XmlValue]
Attachments = tuple[tuple[str, str], ...]


class Common(TypedDict):
    """The fields every Event shares, unpacked into each constructor."""

    tenant: str
    channel: Channel
    event_id: str
    at: int
    sender: str


# Media and link/location details a rule or a reply may need; kept as received, in this order.
ATTACHMENT_TAGS = (
    "MediaId",
    "PicUrl",
    "Format",
    "ThumbMediaId",
    "Location_X",
    "Location_Y",
    "Scale",
    "Label",
    "Title",
    "Description",
    "Url",
)

# Latest epoch a datetime can hold (9999-12-31T23:59:59Z): a later "time" would fail downstream, so it is garbage.
_EPOCH_MAX = 253_402_300_799
# ASCII digits only: int() would also take " 12", "1_000" and full-width digits, and raise past 4300 digits.
_DIGITS = re.compile(r"[0-9]{1,12}")
# Plain decimals only: float() would also take "nan", "inf" and "1e999", which break comparisons and arithmetic.
_DECIMAL = re.compile(r"[+-]?[0-9]{1,10}(?:\.[0-9]{1,20})?")
# Type names end up in logs and metric dimensions; a hostile payload must not mint unbounded ones.
_NAME_MAX = 64


def text(fields: Fields, tag: str) -> str:
    value = fields.get(tag)
    return value if isinstance(value, str) else ""


def small_int(raw: str) -> int | None:
    return int(raw) if _DIGITS.fullmatch(raw) else None


def epoch(raw: str) -> int:
    """Seconds since the epoch, or 0 when `raw` is missing or not a plausible epoch."""
    value = small_int(raw)
    return value if value is not None and value <= _EPOCH_MAX else 0


def coordinate(raw: str) -> float:
    return float(raw) if _DECIMAL.fullmatch(raw) else 0.0


def items(value: XmlValue | None) -> tuple[str, ...]:
    """`<X><Item>a</Item>…</X>` or a comma-separated "a,b"; WeCom uses both shapes for lists of ids."""
    if isinstance(value, list):
        parts = value
    elif isinstance(value, str):
        parts = value.split(",")
    else:
        return ()
    return tuple(part.strip() for part in parts if part.strip())


def int_items(value: XmlValue | None) -> tuple[int, ...]:
    # All or nothing: dropping one bad entry would silently misalign Department with IsLeaderInDept.
    numbers = [small_int(part) for part in items(value)]
    if None in numbers:
        return ()
    return tuple(number for number in numbers if number is not None)


def attachments(fields: Fields) -> Attachments:
    return tuple((tag, text(fields, tag)) for tag in ATTACHMENT_TAGS if text(fields, tag))


def type_name(prefix: str, name: str) -> str:
    return f"{prefix}:{name[:_NAME_MAX]}"


def unrecognized(name: str, fields: Fields, common: Common) -> Unrecognized:
    return Unrecognized(**common, type_name=name, fields=tuple(sorted(fields)))


Handler = Callable[[Fields, Common], Event]


def app_event(tenant: str, fields: dict[str, XmlValue], event_id: str) -> Event:
    """The Event for one decrypted self-built-app payload; never raises."""
    msg_type = text(fields, "MsgType")
    if not msg_type and text(fields, "InfoType"):
        # Third-party (suite) variant of the same events: name in InfoType, time in TimeStamp, no sender.
        suite = Common(
            tenant=tenant, channel=Channel.APP, event_id=event_id, at=epoch(text(fields, "TimeStamp")), sender="sys"
        )
        return _event(text(fields, "InfoType"), fields, suite)
    common = Common(
        tenant=tenant,
        channel=Channel.APP,
        event_id=event_id,
        at=epoch(text(fields, "CreateTime")),
        sender=text(fields, "FromUserName"),
    )
    if msg_type.lower() == "event":
        return _event(text(fields, "Event"), fields, common)
    if msg_type.lower() in _MESSAGE_TYPES:
        return _message(msg_type.lower(), fields, common)
    return unrecognized(type_name("msg", msg_type), fields, common)


def _event(name: str, fields: Fields, common: Common) -> Event:
    # wechatpy lowercases work event names too: WeCom sends LOCATION upper-case and samples show CLICK/VIEW.
    handler = _EVENTS.get(name.lower())
    if handler is None:
        return unrecognized(type_name("event", name), fields, common)
    return handler(fields, common)


# -- messages sent to the app's 1:1 chat (no group messages ever arrive here) --------------------------------------

_MESSAGE_TYPES = frozenset({"text", "image", "voice", "video", "location", "link"})


def _message(msg_type: str, fields: Fields, common: Common) -> MessagePosted:
    return MessagePosted(
        **common,
        chat_id=None,
        msg_type=msg_type,
        text=text(fields, "Content"),
        msg_id=text(fields, "MsgId"),
        attachments=attachments(fields),
    )


# -- change_external_chat: customer groups --------------------------------------------------------------------------


def _member_joined(fields: Fields, common: Common, chat_id: str) -> Event:
    return MemberJoined(
        **common,
        chat_id=chat_id,
        members=items(fields.get("MemChangeList")),
        join_scene=small_int(text(fields, "JoinScene")),
        member_version_before=text(fields, "LastMemVer"),
        member_version_after=text(fields, "CurMemVer"),
    )


def _member_left(fields: Fields, common: Common, chat_id: str) -> Event:
    return MemberLeft(
        **common,
        chat_id=chat_id,
        members=items(fields.get("MemChangeList")),
        quit_scene=small_int(text(fields, "QuitScene")),
        member_version_before=text(fields, "LastMemVer"),
        member_version_after=text(fields, "CurMemVer"),
    )


_CHAT_UPDATES: dict[str, Callable[[Fields, Common, str], Event]] = {
    "add_member": _member_joined,
    "del_member": _member_left,
    "change_owner": lambda _fields, common, chat_id: GroupOwnerChanged(**common, chat_id=chat_id),
    "change_name": lambda _fields, common, chat_id: GroupRenamed(**common, chat_id=chat_id),
    "change_notice": lambda _fields, common, chat_id: GroupNoticeChanged(**common, chat_id=chat_id),
}


def _external_chat(fields: Fields, common: Common) -> Event:
    chat_id = text(fields, "ChatId")
    change = text(fields, "ChangeType")
    detail = text(fields, "UpdateDetail")
    if chat_id and change == "create":
        return GroupCreated(**common, chat_id=chat_id)
    if chat_id and change == "dismiss":
        return GroupDismissed(**common, chat_id=chat_id)
    handler = _CHAT_UPDATES.get(detail) if change == "update" else None
    if chat_id and handler is not None:
        return handler(fields, common, chat_id)
    # No chat id means no group to act on, whatever the rest says.
    return unrecognized(type_name("event", f"change_external_chat:{detail or change}"), fields, common)


# -- change_contact: the corp directory -----------------------------------------------------------------------------

_USER_CHANGES = frozenset({"create_user", "update_user", "delete_user"})
_PARTY_CHANGES = frozenset({"create_party", "update_party", "delete_party"})


def _user_changed(change: str, fields: Fields, common: Common) -> DirectoryChanged:
    departments = int_items(fields.get("Department"))
    leader = int_items(fields.get("IsLeaderInDept"))
    return DirectoryChanged(
        **common,
        change_type=change,
        user_id=text(fields, "UserID"),
        new_user_id=text(fields, "NewUserID"),
        name=text(fields, "Name"),
        departments=departments,
        main_department=small_int(text(fields, "MainDepartment")),
        # Leader flags mean something only position by position; a list that does not line up is dropped.
        leader_in_departments=leader if len(leader) == len(departments) else (),
        position=text(fields, "Position"),
    )


def _contact(fields: Fields, common: Common) -> Event:
    change = text(fields, "ChangeType")
    if change in _USER_CHANGES:
        return _user_changed(change, fields, common)
    if change in _PARTY_CHANGES:
        return DirectoryChanged(**common, change_type=change, party_id=text(fields, "Id"), name=text(fields, "Name"))
    if change == "update_tag":
        return DirectoryChanged(**common, change_type=change, tag_id=text(fields, "TagId"))
    return unrecognized(type_name("event", f"change_contact:{change}"), fields, common)


# -- everything else ------------------------------------------------------------------------------------------------


def _external_contact(fields: Fields, common: Common) -> Event:
    # One shape for every ChangeType (add/edit/del_external_contact, del_follow_user, transfer_fail,
    # msg_audit_approved, …), so a new ChangeType still maps; rules branch on change_type.
    change = text(fields, "ChangeType")
    if not change:
        return unrecognized(type_name("event", "change_external_contact:"), fields, common)
    return ExternalContactChanged(
        **common,
        change_type=change,
        user_id=text(fields, "UserID"),
        external_user_id=text(fields, "ExternalUserID"),
    )


def _card_clicked(fields: Fields, common: Common) -> Event:
    return CardClicked(
        **common,
        event_key=text(fields, "EventKey"),
        task_id=text(fields, "TaskId"),
        card_type=text(fields, "CardType"),
        response_code=text(fields, "ResponseCode"),
    )


def location_reported(fields: Fields, common: Common) -> Event:
    return LocationReported(
        **common,
        latitude=coordinate(text(fields, "Latitude")),
        longitude=coordinate(text(fields, "Longitude")),
        precision=coordinate(text(fields, "Precision")),
    )


def _batch_job(fields: Fields, common: Common) -> Event:
    job = fields.get("BatchJob")
    job = job if isinstance(job, dict) else {}
    code = text(job, "ErrCode")
    return DeliveryReported(
        **common, job_id=text(job, "JobId"), status="success" if code == "0" else f"failed:{code[:_NAME_MAX]}"
    )


def menu_clicked(kind: str) -> Handler:
    return lambda fields, common: MenuClicked(**common, kind=kind, event_key=text(fields, "EventKey"))


_EVENTS: dict[str, Handler] = {
    "change_external_chat": _external_chat,
    "change_contact": _contact,
    "change_external_contact": _external_contact,
    "msgaudit_notify": lambda _fields, common: ArchiveReady(**common),
    "enter_agent": lambda _fields, common: AgentEntered(**common),
    "template_card_event": _card_clicked,
    "subscribe": lambda _fields, common: Subscribed(**common),
    "unsubscribe": lambda _fields, common: Unsubscribed(**common),
    "click": menu_clicked("click"),
    "view": menu_clicked("view"),
    "scancode_push": menu_clicked("scan"),
    "scancode_waitmsg": menu_clicked("scan"),
    "location": location_reported,
    "batch_job_result": _batch_job,
}

__all__ = [
    "ATTACHMENT_TAGS",
    "Attachments",
    "Common",
    "Fields",
    "Handler",
    "app_event",
    "attachments",
    "coordinate",
    "epoch",
    "int_items",
    "items",
    "location_reported",
    "menu_clicked",
    "small_int",
    "text",
    "type_name",
    "unrecognized",
]

"""Normalized events: what every channel turns a platform payload into, and all the rules ever see.

Immutable keyword-only records (chalicelib/record.py) with plain values only, so that rules stay pure and events
compare and hash. Every event
carries where it came from (`tenant`, `channel`), its dedup key (`event_id`, see gateway._to_event) and its time in
UTC epoch seconds (`at`) taken from the payload, never from a clock.
"""

from __future__ import annotations

from enum import StrEnum

from chalicelib.record import Record


class Channel(StrEnum):
    APP = "app"  # WeCom self-built app callback (XML)
    BOT = "bot"  # WeCom intelligent bot (JSON)
    MP = "mp"  # WeChat Official Account
    ARCHIVE = "archive"  # WeCom chat archive
    JOB = "job"  # a scheduled job or a reconciliation (jobs/): no platform payload, the job's tick is the time


class Event(Record):
    tenant: str
    channel: Channel
    event_id: str
    at: int
    sender: str  # member UserID, external userid, OpenID, or "sys" for platform events


class MessagePosted(Event):
    """A message a person sent: to the app's 1:1 chat, to the bot (1:1 or @-mention in a group), or to the OA."""

    chat_id: str | None  # None for 1:1 conversations
    msg_type: str  # text, image, voice, video, shortvideo, location, link, mixed, file, ...
    text: str = ""  # the text a person wrote (bot: with the leading @-mention removed)
    msg_id: str = ""
    quote: str = ""  # bot: the quoted message's text, if any
    attachments: tuple[tuple[str, str], ...] = ()  # (name, value) pairs: MediaId, PicUrl, Url, Title, Label, ...


class MemberJoined(Event):
    chat_id: str
    members: tuple[str, ...]
    join_scene: int | None = None
    member_version_before: str = ""
    member_version_after: str = ""


class MemberLeft(Event):
    chat_id: str
    members: tuple[str, ...]
    quit_scene: int | None = None  # 0 left by themselves, 1 removed by owner/admin
    member_version_before: str = ""
    member_version_after: str = ""


class GroupCreated(Event):
    chat_id: str


class GroupDismissed(Event):
    chat_id: str


class GroupRenamed(Event):
    """The event says only that the name changed; the new name comes from groupchat/get."""

    chat_id: str


class GroupOwnerChanged(Event):
    chat_id: str


class GroupNoticeChanged(Event):
    chat_id: str


class DirectoryChanged(Event):
    """change_contact: a member or department was created, updated or deleted in the corp directory."""

    change_type: str  # create_user, update_user, delete_user, create_party, update_party, delete_party, update_tag
    user_id: str = ""
    new_user_id: str = ""
    name: str = ""
    departments: tuple[int, ...] = ()
    main_department: int | None = None
    leader_in_departments: tuple[int, ...] = ()  # IsLeaderInDept, aligned with `departments`
    position: str = ""
    party_id: str = ""
    tag_id: str = ""


class ExternalContactChanged(Event):
    change_type: str  # add_external_contact, del_external_contact, del_follow_user, ...
    user_id: str = ""
    external_user_id: str = ""


class ArchiveReady(Event):
    """msgaudit_notify: new chat-archive data can be pulled; carries no content."""


class AgentEntered(Event):
    """enter_agent: a member opened the app's conversation."""


class BotEntered(Event):
    """Intelligent bot enter_chat: a member opened a 1:1 chat with the bot."""

    chat_id: str | None = None


class CardClicked(Event):
    """A button on a template card was clicked (app template_card_event or bot template_card_event)."""

    event_key: str
    task_id: str = ""
    card_type: str = ""
    chat_id: str | None = None
    response_code: str = ""


class Subscribed(Event):
    """A member was added to the app's visible range (app), or a user followed the Official Account (mp)."""

    scene: str = ""  # mp: qrscene_... EventKey of a parametric QR code


class Unsubscribed(Event):
    pass


class MenuClicked(Event):
    """A menu entry was used: click (event_key) or view (the URL, as event_key)."""

    kind: str  # click | view | scan
    event_key: str = ""


class LocationReported(Event):
    latitude: float
    longitude: float
    precision: float = 0.0


class DeliveryReported(Event):
    """An outbound job finished: mp TEMPLATESENDJOBFINISH (msg id + status) or app batch_job_result."""

    job_id: str
    status: str


class BotFeedback(Event):
    feedback_id: str = ""
    feedback_type: int | None = None


class Unrecognized(Event):
    """A payload we could authenticate but do not know; kept only as its type name for logs and metrics."""

    type_name: str
    fields: tuple[str, ...] = ()  # the payload's top-level field names, never their values


class GroupReconciled(Event):
    """The shell read the group from the platform (groupchat/get, appchat/get, msgaudit/groupchat/get) and compared
    it with the stored roster: what was found is in the Context (roster, member states, names). Joins and departures
    it found arrive as their own MemberJoined / MemberLeft events first; this one runs the state checks (nicknames,
    required members, the group's name). `at` is the job's tick."""

    chat_id: str


class Tick(Event):
    """A scheduled job's turn for one group (the weekly digest, ...): `event_id` names the job, the group and the
    period (e.g. "digest:wrX:2026-W48"), so a job run twice for the same period commits once. `sender` is "sys"."""

    job: str
    chat_id: str | None = None

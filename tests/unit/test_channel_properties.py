"""Whatever a correctly signed payload holds, the three mappers return an Event and never raise.

Keys and values are drawn partly from the names the mappers dispatch on, so that generated payloads reach the deep
branches (a group member change with garbage in every field) instead of stopping at "unknown MsgType".
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.channels.mp import mp_event
from chalicelib.channels.wecom_app import app_event
from chalicelib.channels.wecom_bot import bot_event, strip_mentions
from chalicelib.events import Channel, Event
from chalicelib.wecom.xml import XmlValue

XML_TAGS = [
    "ToUserName", "FromUserName", "CreateTime", "MsgType", "Event", "InfoType", "TimeStamp", "Content", "MsgId",
    "MediaId", "PicUrl", "Format", "Recognition", "ThumbMediaId", "Location_X", "Location_Y", "Scale", "Label",
    "Title", "Description", "Url", "EventKey", "ChatId", "ChangeType", "UpdateDetail", "JoinScene", "QuitScene",
    "MemChangeList", "LastMemVer", "CurMemVer", "UserID", "NewUserID", "Name", "Department", "MainDepartment",
    "IsLeaderInDept", "Position", "Id", "TagId", "ExternalUserID", "TaskId", "CardType", "ResponseCode", "Latitude",
    "Longitude", "Precision", "BatchJob", "JobId", "ErrCode", "MsgID", "Status",
]  # fmt: skip
XML_WORDS = [
    "event", "text", "image", "voice", "video", "shortvideo", "location", "link", "change_external_chat",
    "change_contact", "change_external_contact", "msgaudit_notify", "enter_agent", "template_card_event",
    "subscribe", "unsubscribe", "click", "view", "scancode_push", "LOCATION", "SCAN", "CLICK", "batch_job_result",
    "TEMPLATESENDJOBFINISH", "create", "update", "dismiss", "add_member", "del_member", "change_owner",
    "change_name", "change_notice", "create_user", "update_user", "delete_user", "create_party", "update_tag",
    "1,2,3", "1,0,0", "1", "0", "23.5", "nan", "1e999", "9" * 5000, "qrscene_1", "@bot hi",
]  # fmt: skip

XML_EVENTS = [
    "change_external_chat", "change_contact", "change_external_contact", "msgaudit_notify", "enter_agent",
    "template_card_event", "subscribe", "unsubscribe", "click", "view", "scancode_push", "scancode_waitmsg",
    "LOCATION", "batch_job_result", "SCAN", "CLICK", "VIEW", "TEMPLATESENDJOBFINISH",
]  # fmt: skip


def mostly(usual: st.SearchStrategy[Any], other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    # one_of picks its branches evenly (and merges equal ones), so the 3:1 weight is drawn explicitly.
    return st.integers(0, 3).flatmap(lambda roll: other if roll == 0 else usual)


words = st.sampled_from(XML_WORDS) | st.text(max_size=16)
xml_values: st.SearchStrategy[XmlValue] = (
    words
    | st.lists(words, max_size=4)
    | st.dictionaries(st.sampled_from(XML_TAGS) | st.text(max_size=8), words, max_size=4)
)


def either(*choices: str) -> st.SearchStrategy[XmlValue]:
    """Three times in four a value the mapper dispatches on, else anything."""
    return mostly(st.sampled_from(choices), xml_values)


# The keys the mappers branch on, so that most payloads get past the first dispatch into the deep branches.
# "event" repeats on purpose: events hold most of the branches.
xml_dispatch = st.fixed_dictionaries(
    {
        "MsgType": either("event", "event", "event", "EVENT", "text", "image", "voice", "location", "link"),
        "Event": either(*XML_EVENTS),
    },
    optional={
        "InfoType": either("change_contact", "change_external_chat", "suite_ticket"),
        "ChangeType": either("create", "update", "dismiss", "create_user", "update_user", "create_party", "update_tag"),
        "UpdateDetail": either("add_member", "del_member", "change_owner", "change_name", "change_notice"),
        "ChatId": xml_values,
    },
)
xml_fields = st.builds(
    lambda extra, dispatch: {**extra, **dispatch},
    st.dictionaries(st.sampled_from(XML_TAGS) | st.text(max_size=12), xml_values, max_size=12),
    xml_dispatch,
)


# Group and directory events, whose fields carry the most parsing (lists, scenes, aligned department flags).
app_change_fields = st.builds(
    lambda extra, dispatch: {**extra, **dispatch},
    st.dictionaries(st.sampled_from(XML_TAGS), xml_values, max_size=12),
    st.fixed_dictionaries(
        {
            "MsgType": st.just("event"),
            "Event": st.sampled_from(["change_external_chat", "change_contact", "change_external_contact"]),
            "ChangeType": either("create", "update", "dismiss", "create_user", "update_user", "create_party"),
            "UpdateDetail": either("add_member", "del_member", "change_owner", "change_name", "change_notice"),
            "ChatId": mostly(st.text(min_size=1, max_size=8), xml_values),
        }
    ),
)


def check(event: Event, channel: Channel) -> None:
    assert isinstance(event, Event)
    assert (event.tenant, event.channel, event.event_id) == ("acme", channel, "evt-1")
    assert isinstance(event.at, int)
    hash(event)  # events are frozen values: a list or dict leaking into a field would make this fail


@settings(deadline=None, database=None, max_examples=300)
@given(xml_fields)
def test_app_mapper_never_raises(fields: dict[str, XmlValue]) -> None:
    check(app_event("acme", fields, "evt-1"), Channel.APP)


@settings(deadline=None, database=None, max_examples=300)
@given(app_change_fields)
def test_app_mapper_never_raises_on_group_and_directory_events(fields: dict[str, XmlValue]) -> None:
    check(app_event("acme", fields, "evt-1"), Channel.APP)


@settings(deadline=None, database=None, max_examples=300)
@given(xml_fields)
def test_mp_mapper_never_raises(fields: dict[str, XmlValue]) -> None:
    check(mp_event("acme", fields, "evt-1"), Channel.MP)


@settings(deadline=None, database=None, max_examples=300)
@given(st.dictionaries(st.text(), st.text() | st.lists(st.text())))
def test_xml_mappers_take_any_str_or_list_values(fields: dict[str, XmlValue]) -> None:
    check(app_event("acme", fields, "evt-1"), Channel.APP)
    check(mp_event("acme", fields, "evt-1"), Channel.MP)


BOT_KEYS = [
    "msgid", "aibotid", "chatid", "chattype", "from", "userid", "response_url", "msgtype", "text", "content",
    "mixed", "msg_item", "image", "url", "voice", "file", "video", "quote", "stream", "event", "eventtype",
    "template_card_event", "card_type", "cardtype", "event_key", "eventkey", "task_id", "feedback_event", "id",
    "type",
]  # fmt: skip
BOT_WORDS = [
    "group", "single", "text", "mixed", "image", "voice", "file", "video", "stream", "event", "enter_chat",
    "template_card_event", "feedback_event", "@RobotA\u3000hi", "@", "https://x/?response_code=1", "http://[::1",
    '{"msg_item": [{"msgtype": "text", "text": {"content": "hi"}}]}',
]  # fmt: skip

json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats() | st.sampled_from(BOT_WORDS) | st.text(max_size=16)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(BOT_KEYS) | st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)


def one_of_or_any(*choices: str) -> st.SearchStrategy[Any]:
    return mostly(st.sampled_from(choices), json_values)


def some(**keys: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Three times in four an object with any subset of `keys`, else any JSON value in its place."""
    return mostly(st.fixed_dictionaries({}, optional=keys), json_values)


content = some(content=one_of_or_any("@RobotA\u3000hi", "hi", "@"))
msg_item = some(msgtype=one_of_or_any("text", "image"), text=content, image=some(url=json_scalars))
mixed = some(msg_item=st.lists(msg_item, max_size=4) | json_values) | st.sampled_from(BOT_WORDS)
bot_dispatch = st.fixed_dictionaries(
    {
        "msgtype": one_of_or_any(
            "text", "mixed", "image", "voice", "file", "video", "stream", "event", "event", "event"
        ),
        "chattype": one_of_or_any("group", "single"),
    },
    optional={
        "chatid": json_scalars,
        "from": some(userid=json_scalars),
        "text": content,
        "voice": content,
        "mixed": mixed,
        "quote": some(msgtype=one_of_or_any("text", "mixed", "voice", "image"), text=content, mixed=mixed),
        "response_url": json_scalars,
        "event": st.fixed_dictionaries(
            {"eventtype": one_of_or_any("enter_chat", "template_card_event", "feedback_event")},
            optional={
                "template_card_event": some(event_key=json_scalars, eventkey=json_scalars, card_type=json_scalars),
                "feedback_event": some(id=json_scalars, type=json_scalars),
            },
        )
        | json_values,
    },
)
bot_payloads = st.builds(
    lambda extra, dispatch: {**extra, **dispatch},
    st.dictionaries(st.sampled_from(BOT_KEYS) | st.text(max_size=8), json_values, max_size=6),
    bot_dispatch,
)


@settings(deadline=None, database=None, max_examples=200)
@given(bot_payloads, st.integers(min_value=0, max_value=2**33))
def test_bot_mapper_never_raises(payload: dict[str, Any], at: int) -> None:
    event = bot_event("acme", payload, "evt-1", at)
    check(event, Channel.BOT)
    assert event.at == at


@settings(deadline=None, database=None, max_examples=200)
@given(json_values)
def test_bot_mapper_takes_any_json(payload: Any) -> None:
    check(bot_event("acme", payload, "evt-1", 0), Channel.BOT)


@settings(deadline=None, database=None, max_examples=200)
@given(st.dictionaries(st.text(), st.text() | st.lists(st.text())))
def test_bot_mapper_takes_any_str_or_list_values(payload: dict[str, Any]) -> None:
    check(bot_event("acme", payload, "evt-1", 0), Channel.BOT)


@settings(deadline=None, database=None, max_examples=500)
@given(st.text(alphabet=st.sampled_from(["@", " ", "\u3000", "\n", "a", "机", "\t"]) | st.characters()))
def test_strip_mentions_leaves_a_suffix_without_a_leading_mention(content: str) -> None:
    stripped = strip_mentions(content)
    assert content.endswith(stripped)
    assert re.match(r"\s*@\S", stripped) is None

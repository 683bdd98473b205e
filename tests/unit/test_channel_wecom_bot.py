"""WeCom intelligent-bot JSON -> Events, one documented example per message/event type, plus hostile variants.

Fixtures under tests/fixtures/bot are the docs' examples (接收消息 path/100719, 接收事件 path/101027), except
text_single.json and quote_mixed.json (the documented shapes in another combination) and video.json (shape guessed:
the docs list no video message).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.channels.wecom_bot import bot_event, strip_mentions
from chalicelib.events import (
    BotEntered,
    BotFeedback,
    CardClicked,
    Channel,
    Event,
    MessagePosted,
    Unrecognized,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "bot"
TENANT = "acme"
EVENT_ID = "evt-1"
AT = 1700000123  # the callback's query timestamp: bot messages carry no time of their own


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def common(sender: str = "USERID") -> dict[str, object]:
    return {"tenant": TENANT, "channel": Channel.BOT, "event_id": EVENT_ID, "at": AT, "sender": sender}


def mapped(payload: Any) -> Event:
    return bot_event(TENANT, payload, EVENT_ID, AT)


COS = "https://ww-aibot-img-1258476243.cos.ap-guangzhou.myqcloud.com/BHoPdA3/"
SIGNED = COS + "7571665296904772241?sign=q-sign-algorithm%3Dsha1"
DOC_MSGID = "CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI="

CASES: dict[str, Event] = {
    "text_group.json": MessagePosted(
        **common(),
        chat_id="CHATID",
        msg_type="text",
        text="hello robot",
        msg_id=DOC_MSGID,
        quote="这是今日的测试情况",
    ),
    "text_single.json": MessagePosted(
        **common(), chat_id=None, msg_type="text", text="@RobotA hello robot", msg_id=DOC_MSGID
    ),
    "image.json": MessagePosted(
        **common(),
        chat_id=None,
        msg_type="image",
        msg_id="CAIQz7/MjQYY/NGagIOAgAMgl8jK/gI=",
        attachments=(("image.url", SIGNED),),
    ),
    "mixed.json": MessagePosted(
        **common(),
        chat_id="CHATID",
        msg_type="mixed",
        text="这是今日的测试情况",
        msg_id="CAIQrcjMjQYY/NGagIOAgAMg6PDc/w0=",
        quote="这是今日的测试情况",
        attachments=(("image.url", SIGNED),),
    ),
    "voice.json": MessagePosted(
        **common(),
        chat_id=None,
        msg_type="voice",
        text="这是语音转成文本的内容",
        msg_id="CAIQrcjMjQYY/NGagIOAgAMg6PDc/w0=",
    ),
    "file.json": MessagePosted(
        **common(),
        chat_id=None,
        msg_type="file",
        msg_id="CAIQrcjMjQYY/NGagIOAgAMg6PDc/w0=",
        attachments=(("file.url", SIGNED),),
    ),
    "video.json": MessagePosted(
        **common(),
        chat_id=None,
        msg_type="video",
        msg_id="CAIQrcjMjQYY/NGagIOAgAMg6PDc/w1=",
        attachments=(("video.url", COS + "7571665296904772242"),),
    ),
    "quote_mixed.json": MessagePosted(
        **common(),
        chat_id="CHATID",
        msg_type="text",
        text="这条违规吗",
        msg_id="CAIQ16HMjQYY/NGagIOAgAMgq4KM0AJ=",
        quote="@机器人 这是今日的测试情况",
    ),
    # A refresh poll for our own streamed reply: nothing a member said, so nothing for the rules.
    "stream.json": Unrecognized(
        **common(),
        type_name="bot:stream",
        fields=("aibotid", "chatid", "chattype", "from", "msgid", "msgtype", "stream"),
    ),
    "enter_chat.json": BotEntered(**common()),
    "template_card_event.json": CardClicked(
        **common(),
        event_key="button_replace_text",
        task_id="fBmjTL7ErRCQSNA6GZKMlcFiWX1shOvg",
        card_type="button_interaction",
        chat_id="CHATID",
    ),
    "feedback_event.json": BotFeedback(**common(), feedback_id="FEEDBACKID", feedback_type=2),
}


@pytest.mark.parametrize(("fixture", "expected"), CASES.items(), ids=list(CASES))
def test_documented_payload_maps_to_event(fixture: str, expected: Event) -> None:
    assert mapped(load(fixture)) == expected


def test_every_fixture_has_a_case() -> None:
    assert sorted(path.name for path in FIXTURES.glob("*.json")) == sorted(CASES)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("@RobotA hello robot", "hello robot"),
        ("@RobotA\u3000你好", "你好"),  # full-width space after the mention
        ("@群规助手\u3000\u3000我的记录", "我的记录"),
        ("@RobotA @张三 看看这条", "看看这条"),
        ("  @RobotA\n第二行", "第二行"),
        ("@RobotA", ""),
        ("@RobotA   ", ""),
        ("hello @RobotA", "hello @RobotA"),
        ("@ hello", "@ hello"),  # a bare @ is not a mention
        ("a@b.com hi", "a@b.com hi"),
        ("", ""),
    ],
)
def test_strip_mentions(content: str, expected: str) -> None:
    assert strip_mentions(content) == expected


# -- hostile but correctly signed ------------------------------------------------------------------------------------


def group_text(**overrides: Any) -> dict[str, Any]:
    payload = load("text_group.json")
    payload.update(overrides)
    return payload


def test_text_that_is_a_list_reads_as_empty() -> None:
    event = mapped(group_text(text=["@RobotA", "hi"]))
    assert isinstance(event, MessagePosted)
    assert event.text == ""


def test_content_that_is_a_number_reads_as_empty() -> None:
    event = mapped(group_text(text={"content": 12}))
    assert isinstance(event, MessagePosted)
    assert event.text == ""


@pytest.mark.parametrize("sender", ["USERID", 7, None, ["USERID"], {"userid": {"id": "x"}}])
def test_from_of_the_wrong_shape_means_no_sender(sender: Any) -> None:
    assert mapped(group_text(**{"from": sender})).sender == ""


def test_from_without_userid_means_no_sender() -> None:
    assert mapped(group_text(**{"from": {"corpid": "wpxxxx"}})).sender == ""


def test_group_without_chat_id_still_loses_the_mention() -> None:
    payload = group_text()
    del payload["chatid"]
    event = mapped(payload)
    assert isinstance(event, MessagePosted)
    assert event.chat_id is None
    assert event.text == "hello robot"


@pytest.mark.parametrize("chatid", [123, None, "", ["CHATID"]])
def test_chat_id_of_the_wrong_shape_is_none(chatid: Any) -> None:
    event = mapped(group_text(chatid=chatid))
    assert isinstance(event, MessagePosted)
    assert event.chat_id is None


def test_chat_id_outside_a_group_is_ignored() -> None:
    event = mapped(group_text(chattype="single"))
    assert isinstance(event, MessagePosted)
    assert event.chat_id is None
    assert event.text == "@RobotA hello robot"


def test_msgid_of_the_wrong_shape_is_empty() -> None:
    event = mapped(group_text(msgid=4561255354251345929))
    assert isinstance(event, MessagePosted)
    assert event.msg_id == ""


@pytest.mark.parametrize("quote", ["这是", ["x"], {"msgtype": "text", "text": "x"}, {"msgtype": "image"}, None])
def test_quote_of_the_wrong_shape_reads_as_empty(quote: Any) -> None:
    event = mapped(group_text(quote=quote))
    assert isinstance(event, MessagePosted)
    assert event.quote == ""


def test_quoted_voice_is_its_transcript() -> None:
    event = mapped(group_text(quote={"msgtype": "voice", "voice": {"content": "语音"}}))
    assert isinstance(event, MessagePosted)
    assert event.quote == "语音"


@pytest.mark.parametrize("msgtype", [None, 1, ["text"], ""])
def test_msgtype_missing_or_of_the_wrong_shape_is_unrecognized(msgtype: Any) -> None:
    event = mapped(group_text(msgtype=msgtype))
    assert isinstance(event, Unrecognized)
    assert event.type_name == "bot:"


def test_unknown_msgtype_is_unrecognized() -> None:
    event = mapped(group_text(msgtype="location"))
    assert isinstance(event, Unrecognized)
    assert event.type_name == "bot:location"
    assert event.fields == (
        "aibotid",
        "chatid",
        "chattype",
        "from",
        "msgid",
        "msgtype",
        "quote",
        "response_url",
        "text",
    )


@pytest.mark.parametrize("payload", [[], "text", 3, None])
def test_payload_that_is_not_an_object_is_unrecognized(payload: Any) -> None:
    assert mapped(payload) == Unrecognized(**common(""), type_name="bot:")


def test_empty_object_is_unrecognized() -> None:
    assert mapped({}) == Unrecognized(**common(""), type_name="bot:")


def mixed(value: Any) -> dict[str, Any]:
    payload = load("mixed.json")
    payload["mixed"] = value
    return payload


def test_mixed_as_a_json_string_is_read() -> None:
    event = mapped(mixed(json.dumps(load("mixed.json")["mixed"], ensure_ascii=False)))
    assert isinstance(event, MessagePosted)
    assert event.text == "这是今日的测试情况"
    assert event.attachments == (("image.url", SIGNED),)


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        "[" * 100_000,  # nesting deep enough to exhaust the recursion limit
        "1" * 5000,  # beyond int()'s digit limit
        {"msg_item": "text"},
        {"msg_item": [1, None, "x", {"msgtype": 5}, {"msgtype": "text", "text": []}, {"msgtype": "image"}]},
        [],
    ],
)
def test_mixed_of_the_wrong_shape_reads_as_empty(value: Any) -> None:
    event = mapped(mixed(value))
    assert isinstance(event, MessagePosted)
    assert (event.text, event.attachments) == ("", ())


def test_mixed_text_parts_are_joined_by_newlines() -> None:
    items = [{"msgtype": "text", "text": {"content": c}} for c in ("@机器人 第一段", "第二段")]
    event = mapped(mixed({"msg_item": items}))
    assert isinstance(event, MessagePosted)
    assert event.text == "第一段\n第二段"


@pytest.mark.parametrize("event_value", [None, "enter_chat", [], {"eventtype": 3}])
def test_event_of_the_wrong_shape_is_unrecognized(event_value: Any) -> None:
    payload = load("enter_chat.json")
    payload["event"] = event_value
    event = mapped(payload)
    assert isinstance(event, Unrecognized)
    assert event.type_name == "bot:event:"


def test_unknown_event_is_unrecognized() -> None:
    payload = load("enter_chat.json")
    payload["event"] = {"eventtype": "leave_chat"}
    event = mapped(payload)
    assert isinstance(event, Unrecognized)
    assert event.type_name == "bot:event:leave_chat"


def card(card_event: Any, **overrides: Any) -> dict[str, Any]:
    payload = load("template_card_event.json")
    payload["event"]["template_card_event"] = card_event
    payload.update(overrides)
    return payload


def test_card_event_spelled_as_in_the_field_table() -> None:
    event = mapped(card({"cardtype": "vote_interaction", "eventkey": "k", "task_id": "t"}))
    assert event == CardClicked(**common(), event_key="k", task_id="t", card_type="vote_interaction", chat_id="CHATID")


def test_card_event_carries_the_response_code_of_its_response_url() -> None:
    url = "https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=RC123&x=1"
    event = mapped(card({"event_key": "k"}, response_url=url))
    assert isinstance(event, CardClicked)
    assert event.response_code == "RC123"


@pytest.mark.parametrize("url", ["http://[::1/x?response_code=a", 5, "no query", ""])
def test_card_event_with_a_bad_response_url_has_no_response_code(url: Any) -> None:
    event = mapped(card({"event_key": "k"}, response_url=url))
    assert isinstance(event, CardClicked)
    assert event.response_code == ""


def test_card_event_of_the_wrong_shape_still_maps() -> None:
    assert mapped(card("button")) == CardClicked(**common(), event_key="", chat_id="CHATID")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(1, 1), ("3", 3), (True, None), (-1, None), (10**20, None), ("abc", None), (2.0, None), (None, None)],
)
def test_feedback_type(raw: Any, expected: int | None) -> None:
    payload = load("feedback_event.json")
    payload["event"]["feedback_event"]["type"] = raw
    event = mapped(payload)
    assert isinstance(event, BotFeedback)
    assert event.feedback_type == expected


def test_feedback_event_of_the_wrong_shape_still_maps() -> None:
    payload = load("feedback_event.json")
    payload["event"]["feedback_event"] = ["FEEDBACKID"]
    assert mapped(payload) == BotFeedback(**common())

"""Official Account payloads -> Events, one documented example per message/event type, plus hostile variants.

Fixtures under tests/fixtures/mp are the official examples (接收普通消息 / 接收事件推送, as copied by wechatpy's tests;
debug_demo.xml is the decrypted plaintext of the end-to-end encryption example, [D-mp-push]).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.channels.mp import mp_event
from chalicelib.events import (
    Channel,
    DeliveryReported,
    Event,
    LocationReported,
    MenuClicked,
    MessagePosted,
    Subscribed,
    Unrecognized,
    Unsubscribed,
)
from chalicelib.wecom.xml import XmlValue, parse_xml

FIXTURES = Path(__file__).parents[1] / "fixtures" / "mp"
TENANT = "acme"
EVENT_ID = "evt-1"
MSG_ID = "1234567890123456"


def load(name: str) -> dict[str, XmlValue]:
    return parse_xml((FIXTURES / name).read_bytes())


def common(at: int, sender: str) -> dict[str, object]:
    return {"tenant": TENANT, "channel": Channel.MP, "event_id": EVENT_ID, "at": at, "sender": sender}


def mapped(fields: dict[str, XmlValue]) -> Event:
    return mp_event(TENANT, fields, EVENT_ID)


MEDIA = ("MediaId", "media_id")
FOLLOWER = common(123456789, "FromUser")

CASES: dict[str, Event] = {
    "text.xml": MessagePosted(
        **common(1348831860, "fromUser"), chat_id=None, msg_type="text", text="this is a test", msg_id=MSG_ID
    ),
    "image.xml": MessagePosted(
        **common(1348831860, "fromUser"),
        chat_id=None,
        msg_type="image",
        msg_id=MSG_ID,
        attachments=(MEDIA, ("PicUrl", "this is a url")),
    ),
    "voice.xml": MessagePosted(
        **common(1357290913, "fromUser"),
        chat_id=None,
        msg_type="voice",
        msg_id=MSG_ID,
        attachments=(MEDIA, ("Format", "Format")),
    ),
    "voice_recognition.xml": MessagePosted(
        **common(1357290913, "fromUser"),
        chat_id=None,
        msg_type="voice",
        text="腾讯微信团队",
        msg_id=MSG_ID,
        attachments=(MEDIA, ("Format", "Format")),
    ),
    "video.xml": MessagePosted(
        **common(1357290913, "fromUser"),
        chat_id=None,
        msg_type="video",
        msg_id=MSG_ID,
        attachments=(MEDIA, ("ThumbMediaId", "thumb_media_id")),
    ),
    "shortvideo.xml": MessagePosted(
        **common(1357290913, "fromUser"),
        chat_id=None,
        msg_type="shortvideo",
        msg_id=MSG_ID,
        attachments=(MEDIA, ("ThumbMediaId", "thumb_media_id")),
    ),
    "location.xml": MessagePosted(
        **common(1351776360, "fromUser"),
        chat_id=None,
        msg_type="location",
        msg_id=MSG_ID,
        attachments=(
            ("Location_X", "23.134521"),
            ("Location_Y", "113.358803"),
            ("Scale", "20"),
            ("Label", "位置信息"),
        ),
    ),
    "link.xml": MessagePosted(
        **common(1351776360, "fromUser"),
        chat_id=None,
        msg_type="link",
        msg_id=MSG_ID,
        attachments=(("Title", "公众平台官网链接"), ("Description", "公众平台官网链接"), ("Url", "url")),
    ),
    "subscribe.xml": Subscribed(**FOLLOWER),
    "subscribe_qrscene.xml": Subscribed(**FOLLOWER, scene="qrscene_123123"),
    "unsubscribe.xml": Unsubscribed(**FOLLOWER),
    "scan.xml": MenuClicked(**FOLLOWER, kind="scan", event_key="123123"),
    "location_event.xml": LocationReported(
        **common(123456789, "fromUser"), latitude=23.137466, longitude=113.352425, precision=119.38504
    ),
    "click.xml": MenuClicked(**FOLLOWER, kind="click", event_key="EVENTKEY"),
    "view.xml": MenuClicked(**FOLLOWER, kind="view", event_key="www.qq.com"),
    "templatesendjobfinish.xml": DeliveryReported(
        **common(1395658920, "fromuser"), job_id="200163836", status="success"
    ),
    "debug_demo.xml": Unrecognized(
        **common(1715943329, "o9AgO5Kd5ggOC-bXrbNODIiE3bGY"),
        type_name="event:debug_demo",
        fields=("CreateTime", "Event", "FromUserName", "MsgType", "ToUserName", "debug_str"),
    ),
    "unknown_msgtype.xml": Unrecognized(
        **common(1348831860, "fromUser"),
        type_name="msg:notsure",
        fields=("CreateTime", "FromUserName", "MsgId", "MsgType", "ToUserName"),
    ),
}


@pytest.mark.parametrize(("fixture", "expected"), CASES.items(), ids=list(CASES))
def test_documented_payload_maps_to_event(fixture: str, expected: Event) -> None:
    assert mapped(load(fixture)) == expected


def test_every_fixture_has_a_case() -> None:
    assert sorted(path.name for path in FIXTURES.glob("*.xml")) == sorted(CASES)


@pytest.mark.parametrize(
    ("name", "kind"), [("scan", "scan"), ("Scan", "scan"), ("click", "click"), ("View", "view"), ("CLICK", "click")]
)
def test_event_names_are_case_insensitive(name: str, kind: str) -> None:
    fields = load("click.xml")
    fields["Event"] = name
    event = mapped(fields)
    assert isinstance(event, MenuClicked)
    assert event.kind == kind


@pytest.mark.parametrize("name", ["location", "Location", "LOCATION"])
def test_location_event_name_in_any_case(name: str) -> None:
    fields = load("location_event.xml")
    fields["Event"] = name
    assert isinstance(mapped(fields), LocationReported)


def test_subscribe_to_upper_case_still_subscribes() -> None:
    fields = load("subscribe_qrscene.xml")
    fields["Event"] = "SUBSCRIBE"
    assert mapped(fields) == Subscribed(**FOLLOWER, scene="qrscene_123123")


def test_failed_template_delivery_keeps_the_status() -> None:
    fields = load("templatesendjobfinish.xml")
    fields["Status"] = "failed:user block"
    assert mapped(fields) == DeliveryReported(
        **common(1395658920, "fromuser"), job_id="200163836", status="failed:user block"
    )


# -- hostile but correctly signed ------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "soon", "-1", "9" * 5000, "１３４８８３１８６０"])
def test_garbage_create_time_is_epoch_zero(raw: str) -> None:
    fields = load("text.xml")
    fields["CreateTime"] = raw
    assert mapped(fields).at == 0


def test_empty_recognition_is_an_empty_text() -> None:
    fields = load("voice_recognition.xml")
    fields["Recognition"] = ""
    event = mapped(fields)
    assert isinstance(event, MessagePosted)
    assert event.text == ""


def test_recognition_on_a_non_voice_message_is_not_text() -> None:
    fields = load("image.xml")
    fields["Recognition"] = "腾讯微信团队"
    event = mapped(fields)
    assert isinstance(event, MessagePosted)
    assert event.text == ""


def test_event_key_of_the_wrong_shape_is_empty() -> None:
    fields = load("subscribe_qrscene.xml")
    fields["EventKey"] = ["qrscene_1", "qrscene_2"]
    assert mapped(fields) == Subscribed(**FOLLOWER)


def test_location_that_is_not_a_decimal_reads_as_zero() -> None:
    fields = load("location_event.xml")
    fields["Precision"] = "NaN"
    event = mapped(fields)
    assert isinstance(event, LocationReported)
    assert event.precision == 0.0


def test_event_without_a_name_is_unrecognized() -> None:
    fields = load("click.xml")
    del fields["Event"]
    event = mapped(fields)
    assert isinstance(event, Unrecognized)
    assert event.type_name == "event:"


def test_empty_payload_is_unrecognized() -> None:
    assert mapped({}) == Unrecognized(**common(0, ""), type_name="msg:")

"""WeCom self-built app payloads -> Events, one documented example per message/event type, plus hostile variants.

Fixtures under tests/fixtures/app are the decrypted plaintexts of the docs' examples (path/90239, 90240, 96302,
92130, 95039; Tencent's sample V2 for text). Where a doc shows only the third-party (InfoType) copy, the fixture puts
the same fields under the self-built header; del_member, change_owner and change_notice are built from the
change_external_chat field table (the docs show one update example, add_member).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.channels.wecom_app import app_event
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
from chalicelib.wecom.xml import XmlValue, parse_xml

FIXTURES = Path(__file__).parents[1] / "fixtures" / "app"
TENANT = "acme"
EVENT_ID = "evt-1"


def load(name: str) -> dict[str, XmlValue]:
    return parse_xml((FIXTURES / name).read_bytes())


def common(at: int, sender: str) -> dict[str, object]:
    return {"tenant": TENANT, "channel": Channel.APP, "event_id": EVENT_ID, "at": at, "sender": sender}


def by_sys(at: int = 1403610513) -> dict[str, object]:
    return common(at, "sys")


def mapped(fields: dict[str, XmlValue]) -> Event:
    return app_event(TENANT, fields, EVENT_ID)


CHAT = "CHAT_ID"
MEDIA = ("MediaId", "media_id")

CASES: dict[str, Event] = {
    "text.xml": MessagePosted(
        **common(1409659813, "mycreate"), chat_id=None, msg_type="text", text="hello", msg_id="4561255354251345929"
    ),
    "image.xml": MessagePosted(
        **common(1348831860, "fromUser"),
        chat_id=None,
        msg_type="image",
        msg_id="1234567890123456",
        attachments=(MEDIA, ("PicUrl", "this is a url")),
    ),
    "voice.xml": MessagePosted(
        **common(1357290913, "fromUser"),
        chat_id=None,
        msg_type="voice",
        msg_id="1234567890123456",
        attachments=(MEDIA, ("Format", "Format")),
    ),
    "video.xml": MessagePosted(
        **common(1357290913, "fromUser"),
        chat_id=None,
        msg_type="video",
        msg_id="1234567890123456",
        attachments=(MEDIA, ("ThumbMediaId", "thumb_media_id")),
    ),
    "location.xml": MessagePosted(
        **common(1351776360, "fromUser"),
        chat_id=None,
        msg_type="location",
        msg_id="1234567890123456",
        attachments=(("Location_X", "23.134"), ("Location_Y", "113.358"), ("Scale", "20"), ("Label", "位置信息")),
    ),
    "link.xml": MessagePosted(
        **common(1348831860, "fromUser"),
        chat_id=None,
        msg_type="link",
        msg_id="1234567890123456",
        attachments=(
            ("PicUrl", "this is a url"),
            ("Title", "this is a title！"),
            ("Description", "this is a description！"),
            ("Url", "URL"),
        ),
    ),
    "enter_agent.xml": AgentEntered(**common(1408091189, "FromUser")),
    "subscribe.xml": Subscribed(**common(1348831860, "UserID")),
    "unsubscribe.xml": Unsubscribed(**common(1348831860, "UserID")),
    "location_event.xml": LocationReported(
        **common(123456789, "FromUser"), latitude=23.104, longitude=113.32, precision=65.0
    ),
    "click.xml": MenuClicked(**common(123456789, "FromUser"), kind="click", event_key="EVENTKEY"),
    "view.xml": MenuClicked(**common(123456789, "FromUser"), kind="view", event_key="www.qq.com"),
    "scancode_push.xml": MenuClicked(**common(1408090502, "FromUser"), kind="scan", event_key="6"),
    "scancode_waitmsg.xml": MenuClicked(**common(1408090606, "FromUser"), kind="scan", event_key="6"),
    "batch_job_result.xml": DeliveryReported(
        **common(1425284517, "FromUser"), job_id="S0MrnndvRG5fadSlLwiBqiDDbM143UqTmKP3152FZk4", status="success"
    ),
    "template_card_event.xml": CardClicked(
        **common(123456789, "FromUser"),
        event_key="key111",
        task_id="taskid111",
        card_type="text_notice",
        response_code="ResponseCode",
    ),
    "msgaudit_notify.xml": ArchiveReady(**by_sys(1629101687)),
    "change_external_chat_create.xml": GroupCreated(**by_sys(), chat_id=CHAT),
    "change_external_chat_dismiss.xml": GroupDismissed(**by_sys(), chat_id=CHAT),
    "change_external_chat_add_member.xml": MemberJoined(
        **by_sys(),
        chat_id=CHAT,
        members=("Jack", "Rose"),
        join_scene=1,
        member_version_before="9c3f97c2ada667dfb5f6d03308d963e1",
        member_version_after="71217227bbd112ecfe3a49c482195cb4",
    ),
    "change_external_chat_del_member.xml": MemberLeft(
        **by_sys(),
        chat_id=CHAT,
        members=("wmEXTERNAL0001",),
        quit_scene=1,
        member_version_before="71217227bbd112ecfe3a49c482195cb4",
        member_version_after="2e0e7b4f1f3b2c8e9e0b6f0d3a1c5b7e",
    ),
    "change_external_chat_change_owner.xml": GroupOwnerChanged(**by_sys(), chat_id=CHAT),
    "change_external_chat_change_name.xml": GroupRenamed(
        **by_sys(1700642907), chat_id="wree9uDgAAfxkLu5-lEbsmQBjsb7V8Cg"
    ),
    "change_external_chat_change_notice.xml": GroupNoticeChanged(**by_sys(), chat_id=CHAT),
    "change_contact_create_user.xml": DirectoryChanged(
        **by_sys(),
        change_type="create_user",
        user_id="zhangsan",
        name="张三",
        departments=(1, 2, 3),
        main_department=1,
        leader_in_departments=(1, 0, 0),
        position="产品经理",
    ),
    "change_contact_update_user.xml": DirectoryChanged(
        **by_sys(),
        change_type="update_user",
        user_id="zhangsan",
        new_user_id="zhangsan001",
        name="张三",
        departments=(1, 2, 3),
        main_department=1,
        leader_in_departments=(1, 0, 0),
        position="产品经理",
    ),
    "change_contact_delete_user.xml": DirectoryChanged(**by_sys(), change_type="delete_user", user_id="zhangsan"),
    "change_contact_create_party.xml": DirectoryChanged(
        **by_sys(1559661734), change_type="create_party", party_id="20", name="综合车间党支部"
    ),
    "change_contact_update_party.xml": DirectoryChanged(
        **by_sys(), change_type="update_party", party_id="2", name="张三"
    ),
    "change_contact_delete_party.xml": DirectoryChanged(**by_sys(), change_type="delete_party", party_id="2"),
    "change_contact_update_tag.xml": DirectoryChanged(**by_sys(), change_type="update_tag", tag_id="1"),
    "change_external_contact_add_external_contact.xml": ExternalContactChanged(
        **by_sys(),
        change_type="add_external_contact",
        user_id="zhangsan",
        external_user_id="woAJ2GCAAAXtWyujaWJHDDGi0mACH71w",
    ),
    "change_external_contact_del_follow_user.xml": ExternalContactChanged(
        **by_sys(),
        change_type="del_follow_user",
        user_id="zhangsan",
        external_user_id="woAJ2GCAAAXtWyujaWJHDDGi0mACH71w",
    ),
    "change_external_contact_msg_audit_approved.xml": ExternalContactChanged(
        **by_sys(),
        change_type="msg_audit_approved",
        user_id="zhangsan",
        external_user_id="woAJ2GCAAABiuyujaWJHDDGi0mACHAAA",
    ),
    # Third-party suite copy: InfoType instead of MsgType/Event, TimeStamp instead of CreateTime, no FromUserName.
    "suite_change_contact_create_party.xml": DirectoryChanged(
        **by_sys(), change_type="create_party", party_id="2", name="张三"
    ),
    "modify_calendar.xml": Unrecognized(
        **common(1348831860, "fromUser"),
        type_name="event:modify_calendar",
        fields=("CalId", "CreateTime", "Event", "FromUserName", "MsgType", "ToUserName"),
    ),
    "unknown_msgtype.xml": Unrecognized(
        **common(1348831860, "fromUser"),
        type_name="msg:notsure",
        fields=("AgentID", "CreateTime", "FromUserName", "MsgId", "MsgType", "ToUserName"),
    ),
}


@pytest.mark.parametrize(("fixture", "expected"), CASES.items(), ids=list(CASES))
def test_documented_payload_maps_to_event(fixture: str, expected: Event) -> None:
    assert mapped(load(fixture)) == expected


def test_every_fixture_has_a_case() -> None:
    assert sorted(path.name for path in FIXTURES.glob("*.xml")) == sorted(CASES)


# -- hostile but correctly signed ------------------------------------------------------------------------------------


def text_message(**overrides: XmlValue) -> dict[str, XmlValue]:
    fields = load("text.xml")
    fields.update(overrides)
    return fields


def test_missing_create_time_is_epoch_zero() -> None:
    fields = text_message()
    del fields["CreateTime"]
    assert mapped(fields).at == 0


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "yesterday",
        "-5",
        "+5",
        "1e9",
        "1_000",
        "１２３",  # full-width digits: int() accepts them, WeCom never sends them
        "12.5",
        "9" * 5000,  # beyond int()'s digit limit: would raise ValueError
        "999999999999",  # after 9999-12-31: no datetime can hold it
    ],
)
def test_garbage_create_time_is_epoch_zero(raw: str) -> None:
    assert mapped(text_message(CreateTime=raw)).at == 0


@pytest.mark.parametrize("raw", [["1", "2"], {"Item": "1"}])
def test_create_time_of_the_wrong_shape_is_epoch_zero(raw: XmlValue) -> None:
    assert mapped(text_message(CreateTime=raw)).at == 0


def test_latest_representable_create_time_is_kept() -> None:
    assert mapped(text_message(CreateTime="253402300799")).at == 253402300799


def test_empty_content_is_an_empty_message() -> None:
    event = mapped(parse_xml(b"<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><Content></Content></xml>"))
    assert event == MessagePosted(**common(0, "u"), chat_id=None, msg_type="text", text="")


def test_content_that_is_a_list_reads_as_empty() -> None:
    assert mapped(text_message(Content=["a", "b"])) == MessagePosted(
        **common(1409659813, "mycreate"), chat_id=None, msg_type="text", msg_id="4561255354251345929"
    )


def test_msg_type_case_does_not_matter() -> None:
    assert isinstance(mapped(text_message(MsgType="TEXT")), MessagePosted)


def test_msg_type_that_is_an_element_is_unrecognized() -> None:
    event = mapped(parse_xml(b"<xml><MsgType><a>text</a></MsgType></xml>"))
    assert event == Unrecognized(**common(0, ""), type_name="msg:", fields=("MsgType",))


def test_empty_payload_is_unrecognized() -> None:
    assert mapped({}) == Unrecognized(**common(0, ""), type_name="msg:")


def test_unknown_event_name_is_capped_in_the_type_name() -> None:
    event = mapped({"MsgType": "event", "Event": "x" * 500})
    assert isinstance(event, Unrecognized)
    assert event.type_name == "event:" + "x" * 64


def member_change(**overrides: XmlValue) -> dict[str, XmlValue]:
    fields = load("change_external_chat_add_member.xml")
    fields.update(overrides)
    return fields


def test_mem_change_list_absent_means_no_members_known() -> None:
    fields = member_change()
    del fields["MemChangeList"]
    event = mapped(fields)
    assert isinstance(event, MemberJoined)
    assert event.members == ()
    assert event.join_scene == 1


def test_mem_change_list_empty_element_means_no_members_known() -> None:
    event = mapped(member_change(MemChangeList=""))
    assert isinstance(event, MemberJoined)
    assert event.members == ()


def test_mem_change_list_as_text_is_split_on_commas() -> None:
    event = mapped(member_change(MemChangeList="Jack, Rose,"))
    assert isinstance(event, MemberJoined)
    assert event.members == ("Jack", "Rose")


def test_mem_change_list_of_the_wrong_shape_is_ignored() -> None:
    event = mapped(member_change(MemChangeList={"Item": {"Deep": "x"}}))
    assert isinstance(event, MemberJoined)
    assert event.members == ()


@pytest.mark.parametrize("raw", ["", "x", "-1", "1.0"])
def test_garbage_join_scene_is_unknown(raw: str) -> None:
    event = mapped(member_change(JoinScene=raw))
    assert isinstance(event, MemberJoined)
    assert event.join_scene is None


def test_member_change_without_chat_id_is_unrecognized() -> None:
    fields = member_change()
    del fields["ChatId"]
    event = mapped(fields)
    assert isinstance(event, Unrecognized)
    assert event.type_name == "event:change_external_chat:add_member"


@pytest.mark.parametrize(
    ("change", "detail", "type_name"),
    [
        ("update", "change_avatar", "event:change_external_chat:change_avatar"),
        ("update", "", "event:change_external_chat:update"),
        ("archive", "", "event:change_external_chat:archive"),
        ("", "", "event:change_external_chat:"),
    ],
)
def test_unknown_group_change_is_unrecognized(change: str, detail: str, type_name: str) -> None:
    event = mapped(member_change(ChangeType=change, UpdateDetail=detail))
    assert isinstance(event, Unrecognized)
    assert event.type_name == type_name


def user_change(**overrides: XmlValue) -> dict[str, XmlValue]:
    fields = load("change_contact_create_user.xml")
    fields.update(overrides)
    return fields


def test_department_with_a_bad_entry_is_dropped_whole() -> None:
    event = mapped(user_change(Department="1,x,3"))
    assert isinstance(event, DirectoryChanged)
    assert event.departments == ()
    # Nothing left to align the leader flags with.
    assert event.leader_in_departments == ()


def test_leader_flags_that_do_not_line_up_are_dropped() -> None:
    event = mapped(user_change(IsLeaderInDept="1,0"))
    assert isinstance(event, DirectoryChanged)
    assert event.departments == (1, 2, 3)
    assert event.leader_in_departments == ()


def test_sparse_user_update_keeps_what_is_there() -> None:
    # After 2022-08-15 newly configured callbacks carry only UserID and Department.
    fields = parse_xml(
        b"<xml><FromUserName>sys</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType>"
        b"<Event>change_contact</Event><ChangeType>update_user</ChangeType><UserID>u1</UserID>"
        b"<Department>7</Department></xml>"
    )
    assert mapped(fields) == DirectoryChanged(**by_sys(1), change_type="update_user", user_id="u1", departments=(7,))


def test_unknown_contact_change_is_unrecognized() -> None:
    event = mapped(user_change(ChangeType="merge_user"))
    assert isinstance(event, Unrecognized)
    assert event.type_name == "event:change_contact:merge_user"


def test_external_contact_change_without_change_type_is_unrecognized() -> None:
    fields = load("change_external_contact_del_follow_user.xml")
    del fields["ChangeType"]
    assert isinstance(mapped(fields), Unrecognized)


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "1e999", "23,1", "", "0x10"])
def test_location_that_is_not_a_decimal_reads_as_zero(raw: str) -> None:
    fields = load("location_event.xml")
    fields["Latitude"] = raw
    event = mapped(fields)
    assert isinstance(event, LocationReported)
    assert event.latitude == 0.0
    assert event.longitude == 113.32


def test_event_names_are_case_insensitive() -> None:
    fields = load("location_event.xml")
    fields["Event"] = "Location"
    assert isinstance(mapped(fields), LocationReported)


def test_batch_job_without_job_is_a_failed_delivery() -> None:
    fields = load("batch_job_result.xml")
    fields["BatchJob"] = ""
    assert mapped(fields) == DeliveryReported(**common(1425284517, "FromUser"), job_id="", status="failed:")


def test_batch_job_error_keeps_its_code() -> None:
    fields = load("batch_job_result.xml")
    fields["BatchJob"] = {"JobId": "j1", "ErrCode": "60123"}
    assert mapped(fields) == DeliveryReported(**common(1425284517, "FromUser"), job_id="j1", status="failed:60123")

"""change_contact → UpdateDirectoryUser / UpdateDirectoryDepartment: the documented payloads (through the real channel
parser), and the sparse ones real callbacks send."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chalicelib.channels.wecom_app import app_event
from chalicelib.events import Channel, DirectoryChanged
from chalicelib.rules import directory_sync
from chalicelib.rules.decisions_membership import UpdateDirectoryDepartment, UpdateDirectoryUser
from chalicelib.wecom.xml import parse_xml

FIXTURES = Path(__file__).parents[1] / "fixtures" / "app"
AT = 1_790_000_000


def event(change_type: str, **fields: Any) -> DirectoryChanged:
    return DirectoryChanged(
        tenant="acme", channel=Channel.APP, event_id="e1", at=AT, sender="sys", change_type=change_type, **fields
    )


def from_xml(xml: str) -> DirectoryChanged:
    parsed = app_event("acme", parse_xml(xml.encode()), "e1")
    assert isinstance(parsed, DirectoryChanged)
    return parsed


def fixture(name: str) -> DirectoryChanged:
    parsed = app_event("acme", parse_xml((FIXTURES / name).read_bytes()), "e1")
    assert isinstance(parsed, DirectoryChanged)
    return parsed


def contact_xml(change: str, body: str) -> str:
    return (
        "<xml><ToUserName>toUser</ToUserName><FromUserName>sys</FromUserName><CreateTime>1790000000</CreateTime>"
        f"<MsgType>event</MsgType><Event>change_contact</Event><ChangeType>{change}</ChangeType>{body}</xml>"
    )


# --- the documented payloads ---------------------------------------------------------------------------------------


def test_documented_create_user_carries_every_field() -> None:
    assert directory_sync.decide(fixture("change_contact_create_user.xml")) == [
        UpdateDirectoryUser(
            user_id="zhangsan",
            at=1403610513,
            name="张三",
            departments=(1, 2, 3),
            leader_in=(1,),
            position="产品经理",
        )
    ]


def test_documented_update_user_with_a_new_userid_carries_both_ids() -> None:
    [decision] = directory_sync.decide(fixture("change_contact_update_user.xml"))

    assert isinstance(decision, UpdateDirectoryUser)
    assert (decision.user_id, decision.new_user_id) == ("zhangsan", "zhangsan001")
    assert (decision.name, decision.departments, decision.leader_in) == ("张三", (1, 2, 3), (1,))
    assert decision.deleted is False


def test_documented_delete_user_marks_deleted_and_says_nothing_else() -> None:
    assert directory_sync.decide(fixture("change_contact_delete_user.xml")) == [
        UpdateDirectoryUser(user_id="zhangsan", at=1403610513, deleted=True)
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "change_contact_create_party.xml",
            UpdateDirectoryDepartment(department_id=20, at=1559661734, name="综合车间党支部"),
        ),
        ("change_contact_update_party.xml", UpdateDirectoryDepartment(department_id=2, at=1403610513, name="张三")),
        ("change_contact_delete_party.xml", UpdateDirectoryDepartment(department_id=2, at=1403610513, deleted=True)),
        (
            "suite_change_contact_create_party.xml",
            UpdateDirectoryDepartment(department_id=2, at=1403610513, name="张三"),
        ),
    ],
)
def test_documented_party_changes(name: str, expected: UpdateDirectoryDepartment) -> None:
    [decision] = directory_sync.decide(fixture(name))

    assert decision == expected
    # The channel does not map ParentId: the parent is left to department/get.
    assert isinstance(decision, UpdateDirectoryDepartment)
    assert decision.parent_id is None


def test_update_tag_decides_nothing() -> None:
    assert directory_sync.decide(fixture("change_contact_update_tag.xml")) == []


# --- sparse callbacks ----------------------------------------------------------------------------------------------


def test_update_with_only_userid_and_main_department_changes_nothing_stored() -> None:
    sparse = from_xml(contact_xml("update_user", "<UserID>lisi</UserID><MainDepartment>2</MainDepartment>"))

    [decision] = directory_sync.decide(sparse)

    assert decision == UpdateDirectoryUser(user_id="lisi", at=AT)
    assert isinstance(decision, UpdateDirectoryUser)
    assert (decision.name, decision.departments, decision.leader_in, decision.position) == (None, None, None, None)


def test_update_with_userid_and_departments_only_keeps_name_position_and_leader_unsaid() -> None:
    sparse = from_xml(contact_xml("update_user", "<UserID>lisi</UserID><Department>5,6</Department>"))

    assert directory_sync.decide(sparse) == [UpdateDirectoryUser(user_id="lisi", at=AT, departments=(5, 6))]


def test_empty_name_and_position_count_as_not_said() -> None:
    sparse = from_xml(contact_xml("update_user", "<UserID>lisi</UserID><Name></Name><Position></Position>"))

    assert directory_sync.decide(sparse) == [UpdateDirectoryUser(user_id="lisi", at=AT)]


def test_leader_flags_without_departments_are_not_applied() -> None:
    # The flags mean something only beside the department list they line up with.
    assert directory_sync.decide(event("update_user", user_id="lisi", leader_in_departments=(1, 0))) == [
        UpdateDirectoryUser(user_id="lisi", at=AT)
    ]


def test_leader_flags_that_do_not_line_up_are_not_applied() -> None:
    assert directory_sync.decide(
        event("update_user", user_id="lisi", departments=(1, 2), leader_in_departments=(1,))
    ) == [UpdateDirectoryUser(user_id="lisi", at=AT, departments=(1, 2))]


def test_departments_with_all_flags_zero_say_the_member_leads_nothing() -> None:
    [decision] = directory_sync.decide(
        event("update_user", user_id="lisi", departments=(1, 2), leader_in_departments=(0, 0))
    )

    assert isinstance(decision, UpdateDirectoryUser)
    assert decision.leader_in == ()  # said: leads nothing (not None: unknown)


def test_leader_in_lists_every_flagged_department() -> None:
    [decision] = directory_sync.decide(
        event("create_user", user_id="lisi", departments=(3, 4, 5), leader_in_departments=(0, 1, 1))
    )

    assert isinstance(decision, UpdateDirectoryUser)
    assert decision.leader_in == (4, 5)


def test_create_user_never_carries_a_new_userid() -> None:
    [decision] = directory_sync.decide(event("create_user", user_id="lisi", new_user_id="lisi2", name="李四"))

    assert isinstance(decision, UpdateDirectoryUser)
    assert (decision.user_id, decision.new_user_id, decision.name) == ("lisi", "", "李四")


def test_new_userid_equal_to_the_old_one_is_no_rename() -> None:
    [decision] = directory_sync.decide(event("update_user", user_id="lisi", new_user_id="lisi"))

    assert isinstance(decision, UpdateDirectoryUser)
    assert decision.new_user_id == ""


def test_rename_from_the_wire_with_nothing_else() -> None:
    renamed = from_xml(contact_xml("update_user", "<UserID>lisi</UserID><NewUserID>li.si</NewUserID>"))

    assert directory_sync.decide(renamed) == [UpdateDirectoryUser(user_id="lisi", at=AT, new_user_id="li.si")]


def test_delete_user_ignores_any_other_field() -> None:
    assert directory_sync.decide(event("delete_user", user_id="lisi", name="李四", departments=(1,))) == [
        UpdateDirectoryUser(user_id="lisi", at=AT, deleted=True)
    ]


@pytest.mark.parametrize("change", ["create_user", "update_user", "delete_user"])
def test_user_change_without_userid_decides_nothing(change: str) -> None:
    assert directory_sync.decide(event(change, name="无名")) == []


@pytest.mark.parametrize("party_id", ["", "abc", "0", "-3"])
@pytest.mark.parametrize("change", ["create_party", "update_party", "delete_party"])
def test_party_change_without_a_usable_id_decides_nothing(change: str, party_id: str) -> None:
    assert directory_sync.decide(event(change, party_id=party_id, name="部门")) == []


def test_update_party_without_a_name_changes_nothing_but_says_the_department_exists() -> None:
    sparse = from_xml(contact_xml("update_party", "<Id>7</Id><ParentId>3</ParentId>"))

    assert directory_sync.decide(sparse) == [UpdateDirectoryDepartment(department_id=7, at=AT)]


def test_delete_party_ignores_the_name() -> None:
    assert directory_sync.decide(event("delete_party", party_id="7", name="旧名")) == [
        UpdateDirectoryDepartment(department_id=7, at=AT, deleted=True)
    ]


@pytest.mark.parametrize("change", ["update_tag", "create_tag", "something_new", ""])
def test_other_changes_decide_nothing(change: str) -> None:
    assert directory_sync.decide(event(change, user_id="lisi", party_id="2", tag_id="1")) == []


def test_decisions_cite_no_clause() -> None:
    decisions = directory_sync.decide(event("create_user", user_id="lisi", name="李四"))
    decisions += directory_sync.decide(event("create_party", party_id="2", name="研发"))

    assert [d.clause for d in decisions] == [None, None]

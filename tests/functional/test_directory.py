"""The directory (chalicelib/directory.py) against the fake WeCom server over real HTTP and moto DynamoDB.

API calls are counted from the fake's request log; DynamoDB calls by a botocore `before-call` handler on the models'
shared client. Time is the fake clock, shared by the directory, the client and the fake.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import NOW, FakeClock

from chalicelib.directory import DEFAULT_MAX_AGE, Directory, MemberRef
from chalicelib.rules.roster import MemberFacts
from chalicelib.store import keys
from chalicelib.store.models import DirectoryDepartment, DirectoryUser, Item
from chalicelib.wecom.client import GroupMember, WeComClient
from chalicelib.wecom.errors import RetryableError
from qungui_cli.fake_wecom import FakeWeCom

TENANT = "acme"
USER_GET = "/cgi-bin/user/get"
DEPT_GET = "/cgi-bin/department/get"
TAG_LIST = "/cgi-bin/tag/list"
TAG_GET = "/cgi-bin/tag/get"
EXTERNAL_GET = "/cgi-bin/externalcontact/get"
DIRECTORY_APIS = (USER_GET, DEPT_GET, TAG_LIST, TAG_GET, EXTERNAL_GET)


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeWeCom]:
    with FakeWeCom(clock=clock) as server:
        server.add_department(1, "示例公司", 0)
        server.add_department(2, "研发中心", 1)
        server.add_department(3, "后端组", 2)
        server.add_department(4, "市场部", 1)
        server.add_user("zhangsan", "张三", department=(3,), is_leader_in_dept=[1], position="组长")
        server.add_user("lisi", "李四", department=(3, 4), position="工程师")
        server.add_user("wangwu", "王五", department=(4,))
        server.add_tag(1, "党员", ["zhangsan", "wangwu"])
        server.add_tag(2, "值班", ["zhangsan"])
        yield server


@pytest.fixture
def client(table: Any, fake: FakeWeCom, clock: FakeClock) -> WeComClient:
    return WeComClient("wwcorp", 1000002, "secret", base_url=fake.base_url, clock=clock, sleep=lambda _: None)


@pytest.fixture
def make_directory(client: WeComClient, clock: FakeClock) -> Callable[..., Directory]:
    """A fresh Directory each call: a new reconciliation run, sharing only DynamoDB and the platform."""

    def make(**options: Any) -> Directory:
        return Directory(client, clock=clock, **options)

    return make


@pytest.fixture
def directory(make_directory: Callable[..., Directory]) -> Directory:
    return make_directory()


@pytest.fixture
def ddb_calls(table: Any, client: WeComClient) -> Iterator[Counter[str]]:
    """DynamoDB calls by operation, once the client holds its token (the token cache has its own items)."""
    client.access_token()
    calls: Counter[str] = Counter()

    def count(event_name: str, **_: Any) -> None:
        calls[event_name.rsplit(".", 1)[-1]] += 1

    events = Item._get_connection().connection.client.meta.events
    events.register("before-call.dynamodb", count, unique_id="count-directory")
    yield calls
    events.unregister("before-call.dynamodb", unique_id="count-directory")


def api_calls(fake: FakeWeCom) -> Counter[str]:
    return Counter(r.path for r in fake.requests() if r.path in DIRECTORY_APIS)


def staff(userid: str, **fields: Any) -> MemberRef:
    return MemberRef(userid=userid, **fields)


def stored_user(userid: str) -> DirectoryUser:
    return DirectoryUser.get(keys.tenant_pk(TENANT), keys.user_sk(userid))


# --- staff ---------------------------------------------------------------------------------------------------------


def test_staff_facts_name_departments_with_ancestors_position_leader_and_tags(directory, fake) -> None:
    member = staff("zhangsan", nickname="张三-后端", invitor="boss", joined_at=NOW - 60)

    facts = directory.facts(TENANT, member)

    assert facts == MemberFacts(
        userid="zhangsan",
        nickname="张三-后端",
        invitor="boss",
        joined_at=NOW - 60,
        in_directory=True,
        name="张三",
        departments=("后端组", "研发中心", "示例公司"),
        department_ids=(3, 2, 1),
        position="组长",
        tags=("党员", "值班"),
        leader=True,
    )


def test_a_member_of_two_departments_gets_each_ancestor_once(directory) -> None:
    facts = directory.facts(TENANT, staff("lisi"))

    assert facts.department_ids == (3, 4, 2, 1)
    assert facts.departments == ("后端组", "研发中心", "示例公司", "市场部")
    assert (facts.leader, facts.tags, facts.position) == (False, (), "工程师")


def test_what_was_read_is_stored(directory, clock) -> None:
    directory.facts(TENANT, staff("zhangsan"))

    item = stored_user("zhangsan")
    assert (item.userid, item.name, item.departments, item.leader_in, item.position) == (
        "zhangsan",
        "张三",
        [3],
        [3],
        "组长",
    )
    assert (item.tags, item.deleted, item.fetched_at) == (["党员", "值班"], False, NOW)
    department = DirectoryDepartment.get(keys.tenant_pk(TENANT), keys.department_sk(2))
    assert (department.department_id, department.name, department.parent_id, department.fetched_at) == (
        2,
        "研发中心",
        1,
        NOW,
    )
    root = DirectoryDepartment.get(keys.tenant_pk(TENANT), keys.department_sk(1))
    assert root.parent_id is None


def test_within_max_age_another_run_reads_only_dynamodb(make_directory, fake, clock) -> None:
    first = make_directory().facts(TENANT, staff("zhangsan"))
    assert api_calls(fake) == Counter({USER_GET: 1, DEPT_GET: 3, TAG_LIST: 1, TAG_GET: 2})
    fake.clear()
    clock.now += DEFAULT_MAX_AGE - 1

    again = make_directory().facts(TENANT, staff("zhangsan"))

    assert again == first
    assert api_calls(fake) == Counter()


def test_one_run_reads_each_user_and_department_once(directory, fake, ddb_calls) -> None:
    directory.facts(TENANT, staff("zhangsan"))
    directory.facts(TENANT, staff("lisi"))
    calls_after_two = (api_calls(fake), ddb_calls.copy())

    directory.facts(TENANT, staff("zhangsan"))
    directory.facts(TENANT, staff("lisi"))

    # Departments 3, 2, 1 once for both users, 4 once; the tags once per run.
    assert calls_after_two[0] == Counter({USER_GET: 2, DEPT_GET: 4, TAG_LIST: 1, TAG_GET: 2})
    # GetItem per user, one Query of the departments, a PutItem per user and department read from the API.
    assert calls_after_two[1] == Counter({"GetItem": 2, "Query": 1, "PutItem": 6})
    assert (api_calls(fake), ddb_calls) == calls_after_two


def test_a_warm_run_costs_one_batch_read_and_one_query(make_directory, fake, ddb_calls) -> None:
    members = [staff("zhangsan"), staff("lisi"), staff("wangwu")]
    cold = make_directory().facts_all(TENANT, members)
    fake.clear()
    ddb_calls.clear()

    warm = make_directory().facts_all(TENANT, members)

    assert warm == cold
    assert [f.name for f in warm] == ["张三", "李四", "王五"]
    assert api_calls(fake) == Counter()
    assert ddb_calls == Counter({"BatchGetItem": 1, "Query": 1})


def test_after_max_age_the_user_and_departments_are_read_again(make_directory, fake, clock) -> None:
    make_directory().facts(TENANT, staff("zhangsan"))
    fake.add_user("zhangsan", "张三丰", department=(4,), position="顾问")
    fake.add_department(4, "市场与品牌部", 1)
    fake.add_tag(2, "值班", [])
    fake.clear()
    clock.now += DEFAULT_MAX_AGE

    facts = make_directory().facts(TENANT, staff("zhangsan"))

    assert (facts.name, facts.position, facts.leader) == ("张三丰", "顾问", False)
    assert facts.departments == ("市场与品牌部", "示例公司")
    assert facts.tags == ("党员",)
    assert api_calls(fake)[USER_GET] == 1
    assert stored_user("zhangsan").fetched_at == NOW + DEFAULT_MAX_AGE


def test_a_shorter_max_age_is_honoured(make_directory, fake, clock) -> None:
    make_directory(max_age=60).facts(TENANT, staff("zhangsan"))
    clock.now += 59
    make_directory(max_age=60).facts(TENANT, staff("zhangsan"))
    assert api_calls(fake)[USER_GET] == 1
    clock.now += 1
    make_directory(max_age=60).facts(TENANT, staff("zhangsan"))
    assert api_calls(fake)[USER_GET] == 2


def test_a_long_lived_directory_reads_again_after_max_age(directory, fake, clock) -> None:
    directory.facts(TENANT, staff("wangwu"))
    fake.add_user("wangwu", "王五二", department=(4,))
    clock.now += DEFAULT_MAX_AGE

    assert directory.facts(TENANT, staff("wangwu")).name == "王五二"
    assert api_calls(fake)[TAG_LIST] == 2


def test_an_item_a_change_contact_event_touched_is_read_again(make_directory, fake) -> None:
    make_directory().facts(TENANT, staff("lisi"))
    # What the executor does for an UpdateDirectoryUser: the event's fields, and fetched_at 0.
    stored_user("lisi").update(actions=[DirectoryUser.name.set("李四(事件)"), DirectoryUser.fetched_at.set(0)])
    fake.clear()

    facts = make_directory().facts(TENANT, staff("lisi"))

    assert facts.name == "李四"
    assert api_calls(fake)[USER_GET] == 1


def test_a_userid_the_directory_does_not_know_is_not_in_the_directory(make_directory, fake, clock) -> None:
    facts = make_directory().facts(TENANT, staff("ghost", display_name="访客"))

    assert facts == MemberFacts(userid="ghost", display_name="访客", in_directory=False)
    assert stored_user("ghost").deleted is True
    fake.clear()
    clock.now += DEFAULT_MAX_AGE - 1
    assert make_directory().facts(TENANT, staff("ghost")).in_directory is False
    assert api_calls(fake) == Counter()  # remembered for max_age


def test_a_member_who_left_is_not_in_the_directory(directory, fake) -> None:
    fake.add_user("zhaoliu", "赵六", department=(3,), status=5)

    facts = directory.facts(TENANT, staff("zhaoliu"))

    assert (facts.in_directory, facts.name, facts.departments) == (False, "", ())
    assert stored_user("zhaoliu").deleted is True


@pytest.mark.parametrize("status", [2, 4])
def test_disabled_and_not_activated_members_are_still_in_the_directory(directory, fake, status) -> None:
    fake.add_user("zhaoliu", "赵六", department=(3,), status=status)

    assert directory.facts(TENANT, staff("zhaoliu")).in_directory is True


def test_a_member_deleted_by_an_event_is_not_asked_about(make_directory, fake) -> None:
    make_directory().facts(TENANT, staff("lisi"))
    stored_user("lisi").update(actions=[DirectoryUser.deleted.set(True), DirectoryUser.fetched_at.set(0)])
    fake.clear()

    assert make_directory().facts(TENANT, staff("lisi")).in_directory is False
    assert api_calls(fake) == Counter()


def test_tenants_are_kept_apart(directory, fake) -> None:
    directory.facts("acme", staff("zhangsan"))
    fake.add_user("zhangsan", "张三(另一家)", department=(4,))

    assert directory.facts("other", staff("zhangsan")).name == "张三(另一家)"
    assert directory.facts("acme", staff("zhangsan")).name == "张三"
    assert api_calls(fake)[TAG_LIST] == 2  # the tag map is per tenant


def test_a_cycle_in_the_department_tree_ends_the_chain(directory, fake) -> None:
    fake.add_department(7, "甲", 8)
    fake.add_department(8, "乙", 7)
    fake.add_user("loop", "循环", department=(7,))

    facts = directory.facts(TENANT, staff("loop"))

    assert facts.department_ids == (7, 8)
    assert facts.departments == ("甲", "乙")


def test_a_chain_ends_after_16_departments(directory, fake) -> None:
    for department in range(100, 120):
        fake.add_department(department, f"第{department}层", department + 1)
    fake.add_user("deep", "深", department=(100,))

    facts = directory.facts(TENANT, staff("deep"))

    assert facts.department_ids == tuple(range(100, 116))
    assert api_calls(fake)[DEPT_GET] == 16


def test_an_unknown_department_keeps_its_id_and_stops_its_chain(directory, fake) -> None:
    fake.add_user("orphan", "孤", department=(99, 2))

    facts = directory.facts(TENANT, staff("orphan"))

    assert facts.department_ids == (99, 2, 1)
    assert facts.departments == ("研发中心", "示例公司")


def test_tags_unreadable_leave_tags_empty(directory, fake) -> None:
    fake.fail(TAG_LIST, 48002, "api forbidden")

    facts = directory.facts(TENANT, staff("zhangsan"))

    assert (facts.in_directory, facts.tags, facts.leader) == (True, (), True)


def test_load_tags_off_asks_no_tag_api(make_directory, fake) -> None:
    facts = make_directory(load_tags=False).facts(TENANT, staff("zhangsan"))

    assert (facts.name, facts.tags) == ("张三", ())
    assert api_calls(fake)[TAG_LIST] == api_calls(fake)[TAG_GET] == 0


# --- failures ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("errcode", [-1, 45009])
def test_a_temporary_user_get_failure_propagates(directory, fake, errcode) -> None:
    fake.fail(USER_GET, errcode)

    with pytest.raises(RetryableError) as raised:
        directory.facts(TENANT, staff("zhangsan"))
    assert raised.value.errcode == errcode


def test_a_temporary_department_failure_propagates(directory, fake) -> None:
    fake.fail(DEPT_GET, -1)

    with pytest.raises(RetryableError):
        directory.facts(TENANT, staff("zhangsan"))


def test_a_temporary_tag_failure_propagates(directory, fake) -> None:
    fake.fail(TAG_GET, 45033)

    with pytest.raises(RetryableError):
        directory.facts(TENANT, staff("zhangsan"))


def test_after_a_temporary_failure_the_same_directory_tries_again(directory, fake) -> None:
    fake.fail(USER_GET, -1)
    with pytest.raises(RetryableError):
        directory.facts(TENANT, staff("zhangsan"))

    assert directory.facts(TENANT, staff("zhangsan")).name == "张三"


@pytest.mark.parametrize("errcode", [60011, 48002, 60020])
def test_no_permission_for_a_user_never_seen_degrades_to_unknown(directory, fake, errcode) -> None:
    fake.fail(USER_GET, errcode)

    facts = directory.facts(TENANT, staff("zhangsan", nickname="老张"))

    assert facts == MemberFacts(userid="zhangsan", nickname="老张", in_directory=False)
    with pytest.raises(DirectoryUser.DoesNotExist):
        stored_user("zhangsan")


def test_no_permission_for_a_known_user_keeps_the_stored_facts(make_directory, fake, clock) -> None:
    before = make_directory().facts(TENANT, staff("zhangsan"))
    clock.now += DEFAULT_MAX_AGE + 1
    fake.fail(USER_GET, 60020)  # the deployment's IP fell out of the trusted list

    facts = make_directory().facts(TENANT, staff("zhangsan"))

    assert facts == before
    assert stored_user("zhangsan").fetched_at == NOW  # not renewed


# --- external contacts ---------------------------------------------------------------------------------------------


def test_external_contact_company_and_corp_tags(directory, fake) -> None:
    fake.add_external_contact(
        "wmEXT001",
        "客户甲",
        corp_name="腾讯",
        tags=["VIP", {"tag_name": "我的备注标签", "type": 2}, {"tag_name": "VIP", "group_name": "等级"}],
        follow_user="zhangsan",
    )
    member = MemberRef(userid="wmEXT001", external=True, nickname="甲-腾讯", joined_at=NOW)

    facts = directory.facts(TENANT, member)

    assert facts == MemberFacts(
        userid="wmEXT001",
        external=True,
        nickname="甲-腾讯",
        display_name="客户甲",
        joined_at=NOW,
        company="腾讯",
        tags=("VIP",),
    )
    assert fake.requests(EXTERNAL_GET)[-1].query["external_userid"] == "wmEXT001"


def test_external_contact_keeps_the_name_the_group_listing_gave(directory, fake) -> None:
    fake.add_external_contact("wmEXT002", "微信名", follow_user="lisi")

    facts = directory.facts(TENANT, MemberRef(userid="wmEXT002", external=True, display_name="群里的名字"))

    assert (facts.display_name, facts.company, facts.tags) == ("群里的名字", "", ())


def test_external_contact_is_read_once_per_run_and_not_stored(directory, fake, ddb_calls) -> None:
    fake.add_external_contact("wmEXT003", "客户丙", corp_name="某公司")
    member = MemberRef(userid="wmEXT003", external=True)

    assert directory.facts(TENANT, member) == directory.facts(TENANT, member)
    assert api_calls(fake) == Counter({EXTERNAL_GET: 1})
    assert ddb_calls == Counter()


@pytest.mark.parametrize("errcode", [60011, 48002, 84061])
def test_external_contact_without_permission_degrades_to_what_is_known(directory, fake, errcode) -> None:
    fake.add_external_contact("wmEXT004", "客户丁", corp_name="某公司", tags=["VIP"])
    fake.fail(EXTERNAL_GET, errcode)
    member = MemberRef(userid="wmEXT004", external=True, nickname="丁", display_name="丁丁", invitor="lisi")

    facts = directory.facts(TENANT, member)

    assert facts == MemberFacts(userid="wmEXT004", external=True, nickname="丁", display_name="丁丁", invitor="lisi")


def test_external_contact_nobody_added_degrades_to_what_is_known(directory) -> None:
    facts = directory.facts(TENANT, MemberRef(userid="wmSTRANGER", external=True, display_name="路人"))

    assert (facts.external, facts.display_name, facts.company, facts.in_directory) == (True, "路人", "", False)


def test_external_contact_temporary_failure_propagates(directory, fake) -> None:
    fake.add_external_contact("wmEXT005", "客户戊")
    fake.fail(EXTERNAL_GET, -1)

    with pytest.raises(RetryableError):
        directory.facts(TENANT, MemberRef(userid="wmEXT005", external=True))


def test_members_of_a_customer_group_listing(directory, fake, client) -> None:
    fake.add_external_contact("wmEXT006", "客户己", corp_name="某公司")
    fake.add_customer_group(
        "wrchat",
        "客户群",
        "zhangsan",
        [
            {"userid": "zhangsan", "name": "张三", "group_nickname": "群主张三", "join_time": NOW - 100},
            {"userid": "wmEXT006", "type": 2, "name": "客户己", "invitor": {"userid": "zhangsan"}, "join_time": NOW},
        ],
    )
    members = [MemberRef.of(m) for m in client.groupchat_get("wrchat").members]

    owner, customer = directory.facts_all(TENANT, members)

    assert (owner.in_directory, owner.nickname, owner.joined_at, owner.leader) == (True, "群主张三", NOW - 100, True)
    assert (customer.external, customer.invitor, customer.company) == (True, "zhangsan", "某公司")


def test_member_ref_of_a_group_member() -> None:
    member = GroupMember(userid="wm1", type=2, join_time=5, join_scene=3, invitor="a", group_nickname="n", name="x")

    assert MemberRef.of(member) == MemberRef(
        userid="wm1", external=True, nickname="n", display_name="x", invitor="a", joined_at=5
    )


# --- known staff ---------------------------------------------------------------------------------------------------


def test_known_staff_lists_stored_members_without_asking_the_platform(make_directory, fake, ddb_calls) -> None:
    make_directory().facts_all(TENANT, [staff("zhangsan"), staff("lisi"), staff("wangwu"), staff("ghost")])
    stored_user("wangwu").update(actions=[DirectoryUser.deleted.set(True)])
    fake.clear()
    ddb_calls.clear()

    known = make_directory().known_staff(TENANT)

    assert sorted((f.userid, f.name, f.departments, f.tags, f.leader) for f in known) == [
        ("lisi", "李四", ("后端组", "研发中心", "示例公司", "市场部"), (), False),
        ("zhangsan", "张三", ("后端组", "研发中心", "示例公司"), ("党员", "值班"), True),
    ]
    assert all(f.in_directory and not f.external for f in known)
    assert api_calls(fake) == Counter()
    assert ddb_calls == Counter({"Query": 2})


def test_known_staff_uses_stored_items_however_old(make_directory, fake, clock) -> None:
    make_directory().facts(TENANT, staff("zhangsan"))
    clock.now += 10 * DEFAULT_MAX_AGE
    fake.clear()

    [known] = make_directory().known_staff(TENANT)

    assert (known.userid, known.department_ids) == ("zhangsan", (3, 2, 1))
    assert api_calls(fake) == Counter()


def test_known_staff_expands_only_departments_already_stored(make_directory) -> None:
    # Known only from a change_contact event: departments whose names were never read.
    DirectoryUser(keys.tenant_pk(TENANT), keys.user_sk("newbie"), userid="newbie", name="新人", departments=[3]).save()
    DirectoryDepartment(
        keys.tenant_pk(TENANT), keys.department_sk(3), department_id=3, name="后端组", parent_id=2
    ).save()

    [known] = make_directory().known_staff(TENANT)

    assert (known.userid, known.name, known.departments, known.department_ids) == (
        "newbie",
        "新人",
        ("后端组",),
        (3, 2),
    )


def test_known_staff_of_a_tenant_with_no_directory_is_empty(directory) -> None:
    assert directory.known_staff("nobody") == []


def test_after_known_staff_facts_need_no_more_dynamodb_reads(directory, make_directory, fake, ddb_calls) -> None:
    make_directory().facts(TENANT, staff("zhangsan"))
    ddb_calls.clear()
    fake.clear()

    directory.known_staff(TENANT)
    facts = directory.facts(TENANT, staff("zhangsan"))

    assert facts.name == "张三"
    assert ddb_calls == Counter({"Query": 2})
    assert api_calls(fake) == Counter()

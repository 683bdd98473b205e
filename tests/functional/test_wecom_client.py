"""The WeCom client over real HTTP against the fake WeCom server, with its token cache in (moto) DynamoDB.

Time is the fake clock shared by the client and the fake; waiting is an injected sleep. The only real waits are a
read timeout of 0.1 s and threads parked on events.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import NOW, FakeClock

from chalicelib.observability import logger
from chalicelib.store import keys
from chalicelib.store.models import AccessToken
from chalicelib.wecom import errors
from chalicelib.wecom.client import (
    AppChat,
    Button,
    Department,
    ExternalContact,
    Markdown,
    Tag,
    TemplateCard,
    Text,
    TextCard,
    WeComClient,
    wecom_api_base,
)
from chalicelib.wecom.errors import ConfigurationError, PermanentError, RetryableError
from chalicelib.wecom.http import JsonHttp, Timeouts, redact_url
from chalicelib.wecom.tokens import TokenPolicy
from qungui_cli.fake_wecom import FakeWeCom, Fault

CORP = "wwcorp0001"
AGENT = 1000002
SECRET = "app-secret-0001"
ROBOT_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
GETTOKEN = "/cgi-bin/gettoken"
SEND = "/cgi-bin/message/send"


class FakeSleep:
    """Sleeping moves the fake clock; nothing waits."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.now += seconds


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeWeCom]:
    with FakeWeCom(clock=clock) as server:
        yield server


@pytest.fixture
def sleep(clock: FakeClock) -> FakeSleep:
    return FakeSleep(clock)


@pytest.fixture
def make_client(table: Any, fake: FakeWeCom, clock: FakeClock, sleep: FakeSleep) -> Callable[..., WeComClient]:
    """A fresh client instance each call: a new Lambda container, sharing only DynamoDB and the platform."""

    def make(**overrides: Any) -> WeComClient:
        options: dict[str, Any] = {"base_url": fake.base_url, "clock": clock, "sleep": sleep}
        options.update(overrides)
        return WeComClient(CORP, AGENT, SECRET, **options)

    return make


@pytest.fixture
def client(make_client: Callable[..., WeComClient]) -> WeComClient:
    return make_client()


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    level = logger.log_level
    logger.setLevel("DEBUG")
    yield stream
    logger.setLevel(level)
    logger.removeHandler(handler)


def sent_tokens(fake: FakeWeCom) -> list[str | None]:
    return [r.access_token for r in fake.requests(SEND)]


# --- tokens --------------------------------------------------------------------------------------------------------


def test_token_is_fetched_once_and_shared_through_dynamodb(make_client, fake) -> None:
    make_client().send_message("zhangsan", Text("一"))
    make_client().send_message("zhangsan", Text("二"))

    [gettoken] = fake.requests(GETTOKEN)
    assert gettoken.method == "GET"
    assert gettoken.query == {"corpid": CORP, "corpsecret": SECRET}
    assert len(set(sent_tokens(fake))) == 1
    stored = AccessToken.get(keys.token_pk("wecom", f"{CORP}:{AGENT}"), keys.token_sk())
    assert stored.token == sent_tokens(fake)[0]
    assert stored.token_expires_at == NOW + 7200
    assert stored.lease_until == 0
    assert stored.lease_owner is None


def test_token_is_kept_in_memory_until_the_refresh_margin(client, fake, clock) -> None:
    client.send_message("zhangsan", Text("一"))
    clock.now += 7200 - 301
    client.send_message("zhangsan", Text("二"))

    assert len(fake.requests(GETTOKEN)) == 1


def test_token_is_refreshed_before_it_expires(client, fake, clock) -> None:
    client.send_message("zhangsan", Text("一"))
    clock.now += 7200 - 299  # inside the 300 s margin
    client.send_message("zhangsan", Text("二"))
    assert len(fake.requests(GETTOKEN)) == 2  # refreshed early...

    # ...but WeCom hands out the same token until it expires, so the client uses it rather than ask on every call.
    client.send_message("zhangsan", Text("三"))
    assert len(fake.requests(GETTOKEN)) == 2
    clock.now += 299
    client.send_message("zhangsan", Text("四"))

    assert len(fake.requests(GETTOKEN)) == 3
    first, *_, last = sent_tokens(fake)
    assert first != last
    assert [r.errcode for r in fake.requests(SEND)] == [0, 0, 0, 0]


@pytest.mark.parametrize(("invalidate", "errcode"), [("expire_tokens", 42001), ("revoke_tokens", 40014)])
def test_rejected_token_is_refetched_once_and_the_call_retried(client, fake, invalidate, errcode) -> None:
    client.send_message("zhangsan", Text("一"))
    getattr(fake, invalidate)()

    result = client.send_message("zhangsan", Text("二"))

    assert result.msgid
    assert [r.errcode for r in fake.requests(SEND)] == [0, errcode, 0]
    assert len(fake.requests(GETTOKEN)) == 2
    second = [d for d in fake.deliveries("message/send", to="zhangsan") if d.body["text"]["content"] == "二"]
    assert len(second) == 1


def test_token_rejected_again_after_the_refetch_is_retryable(client, fake) -> None:
    client.access_token()
    fake.fail(SEND, 40014, "invalid access_token", times=2)

    with pytest.raises(RetryableError) as raised:
        client.send_message("zhangsan", Text("一"))

    assert raised.value.errcode == 40014
    assert len(fake.requests(SEND)) == 2  # one retry, no more
    assert fake.deliveries() == []


def test_another_instance_picks_up_a_token_refetched_after_rejection(make_client, fake) -> None:
    first, second = make_client(), make_client()
    first.send_message("zhangsan", Text("一"))
    second.send_message("zhangsan", Text("二"))
    fake.revoke_tokens()

    first.send_message("zhangsan", Text("三"))  # 40014, refetch, retry
    second.send_message("zhangsan", Text("四"))  # 40014, finds the refetched token in DynamoDB

    assert len(fake.requests(GETTOKEN)) == 2
    assert [r.errcode for r in fake.requests(SEND)] == [0, 0, 40014, 0, 40014, 0]


def test_concurrent_clients_fetch_one_token(make_client, fake) -> None:
    """Eight Lambdas need a token at once: one refreshes, the others wait for it; exactly one gettoken."""
    n = 8
    platform_answers = threading.Event()
    fake.inject(GETTOKEN, Fault(gate=platform_answers))
    parked = threading.Semaphore(0)
    refreshed = threading.Event()

    def wait_for_refresher(seconds: float) -> None:
        # A waiter parks until the refresher is done, instead of sleeping on the wall clock.
        parked.release()
        refreshed.wait(timeout=10)

    clients = [make_client(sleep=wait_for_refresher) for _ in range(n)]
    tokens: dict[int, str] = {}

    def run(i: int) -> None:
        tokens[i] = clients[i].access_token()

    refresher = threading.Thread(target=run, args=(0,))
    refresher.start()
    fake.wait_for(GETTOKEN, 1)  # the refresher holds the lease and waits on the platform
    waiters = [threading.Thread(target=run, args=(i,)) for i in range(1, n)]
    for thread in waiters:
        thread.start()
    for _ in waiters:
        assert parked.acquire(timeout=10)  # each found the lease taken and no usable token
    platform_answers.set()
    refresher.join(timeout=10)
    refreshed.set()
    for thread in waiters:
        thread.join(timeout=10)

    assert len(fake.requests(GETTOKEN)) == 1
    assert len(tokens) == n
    assert len(set(tokens.values())) == 1


def test_a_crashed_refresher_delays_others_only_until_its_lease_expires(client, fake, clock, sleep) -> None:
    AccessToken(
        keys.token_pk("wecom", f"{CORP}:{AGENT}"), keys.token_sk(), lease_owner="crashed", lease_until=int(NOW) + 15
    ).save()

    token = client.access_token()

    assert token
    assert len(fake.requests(GETTOKEN)) == 1
    assert 15 <= sum(sleep.calls) <= 15 + TokenPolicy().poll_max
    assert max(sleep.calls) <= TokenPolicy().poll_max


def test_while_another_lambda_refreshes_the_current_token_is_used_without_waiting(client, fake, sleep) -> None:
    AccessToken(
        keys.token_pk("wecom", f"{CORP}:{AGENT}"),
        keys.token_sk(),
        token="still-valid",
        token_expires_at=int(NOW) + 100,  # inside the refresh margin, not expired
        lease_owner="someone-else",
        lease_until=int(NOW) + 15,
    ).save()

    assert client.access_token() == "still-valid"
    assert fake.requests(GETTOKEN) == []
    assert sleep.calls == []


def test_a_failed_refresh_releases_the_lease(make_client, fake, sleep) -> None:
    fake.fail(GETTOKEN, -1, "system busy")

    with pytest.raises(RetryableError):
        make_client().access_token()
    assert make_client().access_token()

    assert sleep.calls == []  # the second instance did not wait for a lease nobody holds
    assert len(fake.requests(GETTOKEN)) == 2


def test_bad_secret_is_a_configuration_error(client, fake) -> None:
    fake.add_app(CORP, "the-real-secret")

    with pytest.raises(ConfigurationError) as raised:
        client.send_message("zhangsan", Text("一"))

    assert raised.value.errcode == 40001
    assert raised.value.api == "wecom:gettoken"
    assert SECRET not in str(raised.value)
    assert fake.requests(SEND) == []


# --- message payloads ----------------------------------------------------------------------------------------------


def last_body(fake: FakeWeCom, path: str) -> dict[str, Any]:
    return fake.requests(path)[-1].body


def test_text_payload(client, fake) -> None:
    client.send_message(["zhangsan", "lisi"], Text("请注意群规第4条"))

    assert last_body(fake, SEND) == {
        "agentid": AGENT,
        "msgtype": "text",
        "text": {"content": "请注意群规第4条"},
        "touser": "zhangsan|lisi",
        "safe": 0,
        "enable_id_trans": 0,
        "enable_duplicate_check": 0,
        "duplicate_check_interval": 1800,
    }


def test_markdown_payload_with_parties_tags_and_duplicate_check(client, fake) -> None:
    client.send_message(
        (),
        Markdown('**警告** <font color="warning">1.4.2</font>'),
        toparty=["2", "3"],
        totag="7",
        enable_duplicate_check=True,
        duplicate_check_interval=600,
    )

    body = last_body(fake, SEND)
    assert "touser" not in body
    assert body["toparty"] == "2|3"
    assert body["totag"] == "7"
    assert body["msgtype"] == "markdown"
    assert body["markdown"] == {"content": '**警告** <font color="warning">1.4.2</font>'}
    assert (body["enable_duplicate_check"], body["duplicate_check_interval"]) == (1, 600)


def test_textcard_payload(client, fake) -> None:
    client.send_message("zhangsan", TextCard("违规提醒", "<div>请于24小时内确认</div>", "https://example.com/ack/1"))

    assert last_body(fake, SEND)["textcard"] == {
        "title": "违规提醒",
        "description": "<div>请于24小时内确认</div>",
        "url": "https://example.com/ack/1",
        "btntxt": "详情",
    }


def test_template_card_payload_with_buttons_and_task_id(client, fake) -> None:
    card = TemplateCard(
        title="罚款待确认",
        desc="张三 · 1.4.2",
        task_id="fine-acme-42",
        sub_title_text="请管理员确认",
        horizontal_content=(("成员", "张三"), ("金额", "10元")),
        buttons=(Button("确认", "confirm:42", style=1), Button("免除", "waive:42", style=2)),
        extra={"replace_text": "已处理"},
    )

    result = client.send_message("boss", card)

    assert result.response_code
    assert last_body(fake, SEND)["msgtype"] == "template_card"
    assert last_body(fake, SEND)["template_card"] == {
        "card_type": "button_interaction",
        "main_title": {"title": "罚款待确认", "desc": "张三 · 1.4.2"},
        "sub_title_text": "请管理员确认",
        "horizontal_content_list": [{"keyname": "成员", "value": "张三"}, {"keyname": "金额", "value": "10元"}],
        "task_id": "fine-acme-42",
        "button_list": [
            {"text": "确认", "style": 1, "key": "confirm:42"},
            {"text": "免除", "style": 2, "key": "waive:42"},
        ],
        "replace_text": "已处理",
    }


def test_duplicate_check_lets_wecom_drop_a_repeated_send(client, fake) -> None:
    for _ in range(2):
        client.send_message("zhangsan", Text("提醒 #ref-1"), enable_duplicate_check=True)

    assert len(fake.deliveries("message/send", to="zhangsan")) == 1
    assert len(fake.duplicates) == 1


def test_send_result_lists_invalid_recipients(client, fake) -> None:
    fake.add_user("zhangsan", "张三")

    result = client.send_message(["zhangsan", "ghost"], Text("一"))

    assert result.invaliduser == ("ghost",)
    assert result.msgid is not None


def test_recipient_limits_are_checked_before_sending(client, fake) -> None:
    with pytest.raises(ValueError, match="at most 1000"):
        client.send_message([f"u{i}" for i in range(1001)], Text("一"))
    with pytest.raises(ValueError, match="recipient"):
        client.send_message((), Text("一"))
    with pytest.raises(ValueError, match="duplicate_check_interval"):
        client.send_message("zhangsan", Text("一"), duplicate_check_interval=4 * 3600 + 1)
    with pytest.raises(ValueError, match="robot"):
        client.send_message("zhangsan", Text("一", mentioned_list=("lisi",)))
    assert fake.requests(SEND) == []


# --- app-created groups, customer groups, archive rooms, members ---------------------------------------------------


def test_appchat_send_update_get(client, fake) -> None:
    fake.add_appchat("wrgroup1", "ART精英交流群", "boss", ["boss", "zhangsan", "lisi"])

    client.appchat_send("wrgroup1", Text("请勿发广告"))
    client.appchat_update("wrgroup1", name="ART精英交流群", del_user_list=["lisi"], add_user_list=["wangwu"])
    chat = client.appchat_get("wrgroup1")

    assert last_body(fake, "/cgi-bin/appchat/send") == {
        "chatid": "wrgroup1",
        "msgtype": "text",
        "text": {"content": "请勿发广告"},
        "safe": 0,
    }
    assert last_body(fake, "/cgi-bin/appchat/update") == {
        "chatid": "wrgroup1",
        "name": "ART精英交流群",
        "add_user_list": ["wangwu"],
        "del_user_list": ["lisi"],
    }
    assert fake.requests("/cgi-bin/appchat/get")[-1].query["chatid"] == "wrgroup1"
    assert chat == AppChat("wrgroup1", "ART精英交流群", "boss", ("boss", "zhangsan", "wangwu"))
    assert [d.to for d in fake.deliveries("appchat/send")] == ["wrgroup1"]


def test_appchat_create(client, fake) -> None:
    chatid = client.appchat_create("新群", "boss", ["boss", "zhangsan"], chatid="wrnew")

    assert chatid == "wrnew"
    assert client.appchat_get("wrnew").userlist == ("boss", "zhangsan")


def test_appchat_send_refuses_template_cards(client) -> None:
    with pytest.raises(ValueError, match="template_card"):
        client.appchat_send("wrgroup1", TemplateCard(title="x"))


def test_groupchat_get_with_names(client, fake) -> None:
    fake.add_customer_group(
        "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA",
        "酒神公司客户群",
        "boss",
        [
            {"userid": "boss", "join_time": 1_700_000_000, "join_scene": 1, "name": "老板"},
            {
                "userid": "wmext01",
                "type": 2,
                "unionid": "ozynqsulJFCZ2z1aYeS8h-nuasdAAA",
                "join_time": 1_700_000_100,
                "join_scene": 3,
                "invitor": {"userid": "boss"},
                "group_nickname": "客户A",
                "name": "王先生",
            },
        ],
        admins=["boss"],
        notice="文明发言",
        create_time=1_699_999_999,
    )

    group = client.groupchat_get("wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA")

    assert last_body(fake, "/cgi-bin/externalcontact/groupchat/get") == {
        "chat_id": "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA",
        "need_name": 1,
    }
    assert (group.name, group.owner, group.notice, group.create_time) == (
        "酒神公司客户群",
        "boss",
        "文明发言",
        1_699_999_999,
    )
    assert group.admins == ("boss",)
    external = group.members[1]
    assert (external.userid, external.type, external.join_scene, external.invitor) == ("wmext01", 2, 3, "boss")
    assert (external.name, external.group_nickname, external.unionid) == (
        "王先生",
        "客户A",
        "ozynqsulJFCZ2z1aYeS8h-nuasdAAA",
    )
    assert client.groupchat_get("wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA", need_name=False).members[1].name == ""


def test_msgaudit_groupchat_get(client, fake) -> None:
    fake.add_archive_room(
        "wrNplhCgAAIVZohLe57zKnvIV7xBKrig", "五七五同窗再聚首", "zhangsan", [("zhangsan", 1_700_000_000)]
    )

    room = client.msgaudit_groupchat_get("wrNplhCgAAIVZohLe57zKnvIV7xBKrig")

    assert last_body(fake, "/cgi-bin/msgaudit/groupchat/get") == {"roomid": "wrNplhCgAAIVZohLe57zKnvIV7xBKrig"}
    assert (room.roomname, room.creator, room.members) == (
        "五七五同窗再聚首",
        "zhangsan",
        (("zhangsan", 1_700_000_000),),
    )


def test_user_get(client, fake) -> None:
    fake.add_user("zhangsan", "张三", department=(2, 3), is_leader_in_dept=[1, 0], position="经理")

    user = client.user_get("zhangsan")

    assert fake.requests("/cgi-bin/user/get")[-1].query["userid"] == "zhangsan"
    assert (user.userid, user.name, user.department, user.is_leader_in_dept) == ("zhangsan", "张三", (2, 3), (1, 0))
    assert (user.main_department, user.position, user.status) == (2, "经理", 1)


def test_department_get(client, fake) -> None:
    fake.add_department(2, "广州研发中心", 1)
    fake.add_department(1, "示例公司", 0)

    department = client.department_get(2)
    root = client.department_get(1)

    assert fake.requests("/cgi-bin/department/get")[0].query["id"] == "2"
    assert department == Department(id=2, name="广州研发中心", parentid=1)
    assert root == Department(id=1, name="示例公司", parentid=0)


def test_department_without_a_name_the_app_may_see(client, fake) -> None:
    # 代开发 apps without the grant get ids only: the record says "" rather than failing.
    fake.inject("/cgi-bin/department/get", Fault(body='{"errcode":0,"errmsg":"ok","department":{"id":5,"parentid":2}}'))

    assert client.department_get(5) == Department(id=5, name="", parentid=2)


def test_unknown_department_is_permanent(client) -> None:
    with pytest.raises(PermanentError) as raised:
        client.department_get(404)

    assert raised.value.errcode == 60123
    assert raised.value.api == "wecom:department/get"


def test_tag_list_and_tag_users(client, fake) -> None:
    fake.add_user("zhangsan", "张三")
    fake.add_tag(1, "党员", ["zhangsan", "lisi"])
    fake.add_tag(12, "值班", [])

    tags = client.tag_list()
    users = client.tag_users(1)

    assert tags == (Tag(tagid=1, tagname="党员"), Tag(tagid=12, tagname="值班"))
    assert users == ("zhangsan", "lisi")
    assert client.tag_users(12) == ()
    assert fake.requests("/cgi-bin/tag/get")[0].query["tagid"] == "1"
    assert set(fake.requests("/cgi-bin/tag/list")[0].query) == {"access_token"}


def test_tag_users_from_the_documented_answer(client, fake) -> None:
    # path/90349: tagname, userlist [{userid, name}], partylist [ids] (departments are not expanded into users).
    documented = (
        '{"errcode":0,"errmsg":"ok","tagname":"乒乓球协会","userlist":[{"userid":"zhangsan","name":"李四"}],'
        '"partylist":[2]}'
    )
    fake.inject("/cgi-bin/tag/get", Fault(body=documented))

    assert client.tag_users(1) == ("zhangsan",)


def test_unknown_tag_is_permanent(client) -> None:
    with pytest.raises(PermanentError) as raised:
        client.tag_users(404)

    assert raised.value.errcode == 40068


def test_external_contact_get_from_the_documented_answer(client, fake) -> None:
    # path/96315, trimmed: corp tags (type 1) of every following member, deduplicated; a member's own tags (type 2)
    # and rule-group tags (type 3) are not the corp's customer tags.
    documented = {
        "errcode": 0,
        "errmsg": "ok",
        "external_contact": {
            "external_userid": "woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA",
            "name": "李四",
            "position": "Manager",
            "corp_name": "腾讯",
            "corp_full_name": "腾讯科技有限公司",
            "type": 2,
            "gender": 1,
        },
        "follow_user": [
            {
                "userid": "rocky",
                "remark": "李部长",
                "tags": [
                    {"group_name": "标签分组名称", "tag_name": "标签名称", "tag_id": "etAJ2GCAAA", "type": 1},
                    {"group_name": "", "tag_name": "自定义标签", "type": 2},
                    {"group_name": "规则组标签", "tag_name": "规则组标签", "tag_id": "stAJ2GCAAA", "type": 3},
                ],
            },
            {
                "userid": "tommy",
                "tags": [
                    {"group_name": "等级", "tag_name": "VIP", "tag_id": "etVIP", "type": 1},
                    {"group_name": "标签分组名称", "tag_name": "标签名称", "tag_id": "etAJ2GCAAA", "type": 1},
                ],
            },
        ],
        "next_cursor": "",
    }
    fake.inject("/cgi-bin/externalcontact/get", Fault(body=json.dumps(documented, ensure_ascii=False)))

    contact = client.external_contact_get("woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA")

    assert fake.requests("/cgi-bin/externalcontact/get")[0].query["external_userid"] == (
        "woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA"
    )
    assert contact == ExternalContact(
        external_userid="woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA",
        name="李四",
        corp_name="腾讯",
        tag_names=("标签名称", "VIP"),
        type=2,
    )


def test_external_contact_get_from_the_fake_registry(client, fake) -> None:
    fake.add_external_contact("wmWECHAT", "微信用户", tags=["老客户"], follow_user="zhangsan")

    contact = client.external_contact_get("wmWECHAT")

    assert (contact.name, contact.corp_name, contact.tag_names, contact.type) == ("微信用户", "", ("老客户",), 1)


@pytest.mark.parametrize(("errcode", "kind"), [(40096, PermanentError), (84061, PermanentError),
                                               (60011, PermanentError), (48002, ConfigurationError)])  # fmt: skip
def test_external_contact_failures_are_permanent(client, fake, errcode, kind) -> None:
    fake.add_external_contact("wmKNOWN", "客户")
    if errcode != 40096:
        fake.fail("/cgi-bin/externalcontact/get", errcode)

    with pytest.raises(kind) as raised:
        client.external_contact_get("wmKNOWN" if errcode != 40096 else "wmUNKNOWN")

    assert raised.value.errcode == errcode
    assert not raised.value.retryable


def test_any_other_api_through_call(client, fake) -> None:
    # Paths the client has no method for still get the token handling (the fake answers 404 for this one).
    with pytest.raises(ConfigurationError) as raised:
        client.call("GET", "department/list", query={"id": 1})
    assert raised.value.http_status == 404
    assert fake.requests("/cgi-bin/department/list")[-1].query == {"access_token": client.access_token(), "id": "1"}


# --- robot webhook -------------------------------------------------------------------------------------------------


def test_webhook_text_payload(client, fake) -> None:
    client.webhook_send(ROBOT_KEY, Text("今日违规统计", mentioned_list=("zhangsan", "@all")))

    [request] = fake.requests("/cgi-bin/webhook/send")
    assert request.query == {"key": ROBOT_KEY}
    assert request.body == {
        "msgtype": "text",
        "text": {"content": "今日违规统计", "mentioned_list": ["zhangsan", "@all"]},
    }
    assert fake.requests(GETTOKEN) == []  # a robot needs no app token


def test_webhook_raw_payload(client, fake) -> None:
    payload = {"msgtype": "markdown_v2", "markdown_v2": {"content": "# 周报"}}
    client.webhook_send(ROBOT_KEY, payload)

    assert fake.requests("/cgi-bin/webhook/send")[-1].body == payload


def test_robot_key_never_reaches_errors_or_logs(make_client, fake, log_lines) -> None:
    fake.add_robot("another-robot")
    with pytest.raises(PermanentError) as invalid:
        make_client().webhook_send(ROBOT_KEY, Text("x"))
    unreachable = make_client(base_url=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(RetryableError) as refused:
        unreachable.webhook_send(ROBOT_KEY, Text("x"))
    make_client().webhook_send("another-robot", Text("ok"))  # a successful call logs its URL at DEBUG

    assert invalid.value.errcode == 93000
    assert refused.value.errcode == errors.ERR_CONNECTION
    output = log_lines.getvalue()
    assert "webhook/send?key=***" in output
    for text in (str(invalid.value), repr(invalid.value), str(refused.value), repr(refused.value), output):
        assert ROBOT_KEY not in text
        assert "another-robot" not in text
    assert refused.value.__cause__ is None
    assert refused.value.__suppress_context__


def test_redact_url_hides_every_credential() -> None:
    url = f"https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid={CORP}&corpsecret={SECRET}"
    assert redact_url(url) == f"https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid={CORP}&corpsecret=***"
    assert redact_url("http://h/cgi-bin/webhook/send?key=abc") == "http://h/cgi-bin/webhook/send?key=***"
    assert redact_url("http://h/cgi-bin/user/get?access_token=t&userid=u") == (
        "http://h/cgi-bin/user/get?access_token=***&userid=u"
    )


# --- failures ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("errcode", [-1, 45009, 45033])
def test_busy_and_throttled_are_retryable(client, fake, errcode) -> None:
    client.access_token()
    fake.fail(SEND, errcode, "busy")

    with pytest.raises(RetryableError) as raised:
        client.send_message("zhangsan", Text("一"))

    assert raised.value.errcode == errcode
    assert raised.value.errmsg == "busy"
    assert len(fake.requests(SEND)) == 1  # the outbox retries, not the client


def test_http_500_is_retryable(client, fake) -> None:
    client.access_token()
    fake.inject(SEND, Fault(status=500))

    with pytest.raises(RetryableError) as raised:
        client.send_message("zhangsan", Text("一"))

    assert (raised.value.errcode, raised.value.http_status) == (errors.ERR_HTTP_SERVER, 500)


def test_malformed_answer_is_retryable(client, fake) -> None:
    client.access_token()
    fake.inject(SEND, Fault(body="<html>502 Bad Gateway</html>"))

    with pytest.raises(RetryableError) as raised:
        client.send_message("zhangsan", Text("一"))

    assert raised.value.errcode == errors.ERR_MALFORMED


def test_timeout_is_retryable_and_may_hide_a_delivered_message(make_client, fake) -> None:
    client = make_client(http=JsonHttp(Timeouts(connect=1.0, read=0.1)))
    client.access_token()
    fake.inject(SEND, Fault(delay=0.5))  # processed at once, answered too late

    with pytest.raises(RetryableError) as raised:
        client.send_message("zhangsan", Text("一"))

    assert raised.value.errcode == errors.ERR_TIMEOUT
    assert "0.1s" in raised.value.errmsg
    assert len(fake.deliveries("message/send", to="zhangsan")) == 1  # what at-least-once delivery must live with


def test_connection_refused_is_retryable(make_client) -> None:
    client = make_client(base_url=f"http://127.0.0.1:{closed_port()}")

    with pytest.raises(RetryableError) as raised:
        client.access_token()

    assert raised.value.errcode == errors.ERR_CONNECTION
    assert SECRET not in str(raised.value)


def test_all_recipients_invalid_is_permanent(client, fake) -> None:
    fake.add_user("zhangsan", "张三")

    with pytest.raises(PermanentError) as raised:
        client.send_message("ghost", Text("一"))

    assert raised.value.errcode == 81013
    assert raised.value.errmsg.startswith("user & party & tag all invalid")
    assert raised.value.api == "wecom:message/send"


def test_unknown_appchat_is_permanent(client) -> None:
    with pytest.raises(PermanentError) as raised:
        client.appchat_send("wrmissing", Text("一"))

    assert raised.value.errcode == 86003
    assert raised.value.errmsg.startswith("chatid not exist")


def test_unknown_user_is_permanent(client) -> None:
    with pytest.raises(PermanentError) as raised:
        client.user_get("ghost")

    assert raised.value.errcode == 60111
    assert raised.value.errmsg.startswith("userid not found")


def test_untrusted_ip_is_a_configuration_error(client, fake) -> None:
    client.access_token()
    fake.fail(SEND, 60020, "not allow to access from your ip, from ip: 203.0.113.7")

    with pytest.raises(ConfigurationError) as raised:
        client.send_message("zhangsan", Text("一"))

    assert raised.value.errmsg == "not allow to access from your ip, from ip: 203.0.113.7"
    assert "企业可信IP" in str(raised.value)


# --- transport and configuration -----------------------------------------------------------------------------------


def test_base_url_comes_from_the_environment(monkeypatch, table, fake, clock) -> None:
    monkeypatch.delenv("QUNGUI_WECOM_API_BASE", raising=False)
    assert wecom_api_base() == "https://qyapi.weixin.qq.com"
    monkeypatch.setenv("QUNGUI_WECOM_API_BASE", fake.base_url + "/")

    client = WeComClient(CORP, AGENT, SECRET, clock=clock)
    client.send_message("zhangsan", Text("一"))

    assert client.base_url == fake.base_url
    assert len(fake.deliveries("message/send")) == 1


def test_a_base_url_with_a_wrong_prefix_is_a_configuration_error(make_client, fake) -> None:
    with pytest.raises(ConfigurationError) as raised:
        make_client(base_url=fake.base_url + "/proxy").access_token()

    assert raised.value.http_status == 404
    assert fake.requests()[0].path == "/proxy/cgi-bin/gettoken"


def test_default_timeouts_and_one_shared_connection_pool(client) -> None:
    assert JsonHttp().timeouts == Timeouts(connect=2.0, read=5.0)
    assert client.http is JsonHttp.shared()
    assert client.robot.http is client.http


def test_kept_alive_connection_closed_by_the_server_is_replaced(make_client, clock) -> None:
    with FakeWeCom(clock=clock) as first:
        port = first.port
        client = make_client(base_url=first.base_url)
        client.send_message("zhangsan", Text("一"))
    with FakeWeCom(port=port, clock=clock) as restarted:
        client.send_message("zhangsan", Text("二"))  # pooled connection is dead; a new token too (40014)

        assert [d.body["text"]["content"] for d in restarted.deliveries("message/send")] == ["二"]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

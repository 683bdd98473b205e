"""The fake WeCom / Official Account server on its own, through plain HTTP (not our client), so that the client tests
stand on a fake that itself speaks the documented formats."""

from __future__ import annotations

import http.client
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import NOW, FakeClock

from qungui_cli.fake_wecom import FakeWeCom, Fault


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeWeCom]:
    with FakeWeCom(clock=clock) as server:
        yield server


def call(fake: FakeWeCom, path: str, body: Any = None, *, raw: bytes | None = None) -> tuple[int, Any]:
    return request(fake.base_url, path, body, raw=raw)


def request(base_url: str, path: str, body: Any = None, *, raw: bytes | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else (None if body is None else json.dumps(body, ensure_ascii=False).encode())
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    try:
        connection.request("POST" if data is not None else "GET", path, body=data)
        answer = connection.getresponse()
        status, payload = answer.status, answer.read()
    finally:
        connection.close()
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, payload


def wecom_token(fake: FakeWeCom, *, corp: str = "wwcorp", credential: str = "s") -> str:
    _, answer = call(fake, f"/cgi-bin/gettoken?corpid={corp}&corpsecret={credential}")
    assert answer["errcode"] == 0, answer
    return str(answer["access_token"])


def mp_token(fake: FakeWeCom, *, app_id: str = "wxapp", credential: str = "s") -> str:
    _, answer = call(fake, f"/cgi-bin/token?grant_type=client_credential&appid={app_id}&secret={credential}")
    assert answer["errcode"] == 0, answer
    return str(answer["access_token"])


def text(content: str, **extra: Any) -> dict[str, Any]:
    return {"msgtype": "text", "text": {"content": content}, **extra}


# --- tokens --------------------------------------------------------------------------------------------------------


def test_gettoken_answers_the_same_token_until_it_expires(fake, clock) -> None:
    status, first = call(fake, "/cgi-bin/gettoken?corpid=wwcorp&corpsecret=s")
    clock.now += 1000
    _, again = call(fake, "/cgi-bin/gettoken?corpid=wwcorp&corpsecret=s")
    clock.now += 6200
    _, renewed = call(fake, "/cgi-bin/gettoken?corpid=wwcorp&corpsecret=s")

    assert status == 200
    assert first == {"errcode": 0, "errmsg": "ok", "access_token": first["access_token"], "expires_in": 7200}
    assert (again["access_token"], again["expires_in"]) == (first["access_token"], 6200)
    assert renewed["access_token"] != first["access_token"]


def test_token_ttl_is_configurable(clock) -> None:
    with FakeWeCom(clock=clock, token_ttl=60) as fake:
        _, answer = call(fake, "/cgi-bin/gettoken?corpid=wwcorp&corpsecret=s")
    assert answer["expires_in"] == 60


def test_tokens_are_checked(fake) -> None:
    token = wecom_token(fake)
    send = text("hi", touser="zhangsan", agentid=1)

    assert call(fake, "/cgi-bin/message/send", send)[1]["errcode"] == 41001
    assert call(fake, "/cgi-bin/message/send?access_token=forged", send)[1]["errcode"] == 40014
    assert call(fake, f"/cgi-bin/message/custom/send?access_token={token}", text("x", touser="o"))[1]["errcode"] == (
        40014  # a WeCom token is not an Official Account token
    )
    assert call(fake, f"/cgi-bin/message/send?access_token={token}", send)[1]["errcode"] == 0
    fake.expire_tokens()
    assert call(fake, f"/cgi-bin/message/send?access_token={token}", send)[1]["errcode"] == 42001
    fake.revoke_tokens()
    assert call(fake, f"/cgi-bin/message/send?access_token={token}", send)[1]["errcode"] == 40014


def test_registered_credentials_are_enforced(fake) -> None:
    fake.add_app("wwcorp", "right")
    fake.add_mp_app("wxapp", "right")

    assert call(fake, "/cgi-bin/gettoken?corpid=wwcorp&corpsecret=wrong")[1]["errcode"] == 40001
    assert call(fake, "/cgi-bin/gettoken?corpid=wwother&corpsecret=right")[1]["errcode"] == 40013
    assert call(fake, "/cgi-bin/gettoken?corpid=wwcorp")[1]["errcode"] == 41004
    assert call(fake, "/cgi-bin/token?grant_type=client_credential&appid=wxapp&secret=wrong")[1]["errcode"] == 40001
    assert call(fake, "/cgi-bin/token?grant_type=password&appid=wxapp&secret=right")[1]["errcode"] == 40002
    assert wecom_token(fake, credential="right")
    assert mp_token(fake, credential="right")


def test_official_account_token_is_new_each_time_and_the_old_one_retires(fake, clock) -> None:
    old = mp_token(fake)
    new = mp_token(fake)
    body = text("x", touser="o1")

    assert old != new
    assert call(fake, f"/cgi-bin/message/custom/send?access_token={old}", body)[1]["errcode"] == 0
    clock.now += 300
    assert call(fake, f"/cgi-bin/message/custom/send?access_token={old}", body)[1]["errcode"] == 40001
    assert call(fake, f"/cgi-bin/message/custom/send?access_token={new}", body)[1]["errcode"] == 0


# --- requests, faults ----------------------------------------------------------------------------------------------


def test_requests_are_recorded(fake, clock) -> None:
    token = wecom_token(fake)
    clock.now += 5
    call(fake, f"/cgi-bin/message/send?access_token={token}", text("你好", touser="zhangsan", agentid=1))

    gettoken, send = fake.requests()
    assert (gettoken.method, gettoken.path, gettoken.query) == (
        "GET",
        "/cgi-bin/gettoken",
        {"corpid": "wwcorp", "corpsecret": "s"},
    )
    assert (send.method, send.path, send.access_token, send.at) == ("POST", "/cgi-bin/message/send", token, NOW + 5)
    assert send.body == {"msgtype": "text", "text": {"content": "你好"}, "touser": "zhangsan", "agentid": 1}
    assert (send.status, send.errcode) == (200, 0)
    assert fake.requests("/cgi-bin/message/send") == [send]
    fake.clear()
    assert fake.requests() == []


def test_injected_faults_apply_in_order_one_request_each(fake) -> None:
    token = wecom_token(fake)
    path = f"/cgi-bin/message/send?access_token={token}"
    body = text("x", touser="zhangsan", agentid=1)
    fake.fail("/cgi-bin/message/send", -1, "system busy")
    fake.inject(
        "/cgi-bin/message/send",
        Fault(status=500),
        Fault(body="<html>bad gateway</html>"),
        Fault(errcode=45009, errmsg="api freq out of limit", status=200),
    )

    answers = [call(fake, path, body) for _ in range(5)]

    assert answers[0] == (200, {"errcode": -1, "errmsg": "system busy"})
    assert answers[1][0] == 500
    assert answers[2] == (200, b"<html>bad gateway</html>")
    assert answers[3][1]["errcode"] == 45009
    assert answers[4][1]["errcode"] == 0
    assert [r.errcode for r in fake.requests("/cgi-bin/message/send")] == [-1, None, None, 45009, 0]
    assert len(fake.deliveries("message/send")) == 1  # refused requests deliver nothing


def test_a_gate_holds_a_request_until_released(fake) -> None:
    gate = threading.Event()
    fake.inject("/cgi-bin/gettoken", Fault(gate=gate))
    answers: list[Any] = []
    caller = threading.Thread(target=lambda: answers.append(call(fake, "/cgi-bin/gettoken?corpid=c&corpsecret=s")))
    caller.start()

    [held] = fake.wait_for("/cgi-bin/gettoken", 1)
    assert held.status is None
    assert answers == []
    gate.set()
    caller.join(timeout=5)

    assert answers[0][1]["errcode"] == 0
    assert fake.wait_for("/cgi-bin/gettoken", 1, answered=True)[0].status == 200


def test_protocol_errors(fake) -> None:
    token = wecom_token(fake)

    assert call(fake, f"/cgi-bin/message/send?access_token={token}")[1]["errcode"] == 43002  # GET on a POST API
    bad_json = call(fake, f"/cgi-bin/message/send?access_token={token}", raw=b"{not json")
    assert bad_json[1]["errcode"] == 47001
    assert call(fake, "/cgi-bin/nonexistent")[0] == 404
    wrong_type = text("x", touser="zhangsan", agentid=1, duplicate_check_interval="soon")
    assert call(fake, f"/cgi-bin/message/send?access_token={token}", wrong_type)[1]["errcode"] == 40035


# --- message/send --------------------------------------------------------------------------------------------------


def test_message_send_validates_the_documented_payloads(fake) -> None:
    url = f"/cgi-bin/message/send?access_token={wecom_token(fake)}"

    def errcode(body: dict[str, Any]) -> int:
        return int(call(fake, url, {"touser": "zhangsan", "agentid": 1, **body})[1]["errcode"])

    assert errcode(text("ok")) == 0
    assert errcode({"msgtype": "markdown", "markdown": {"content": "**ok**"}}) == 0
    assert errcode({"msgtype": "textcard", "textcard": {"title": "t", "description": "d", "url": "u"}}) == 0
    card = {"card_type": "button_interaction", "main_title": {"title": "t"}, "task_id": "t1",
            "button_list": [{"text": "确认", "style": 1, "key": "k"}]}  # fmt: skip
    assert errcode({"msgtype": "template_card", "template_card": card}) == 0
    assert errcode({"msgtype": "template_card", "template_card": {**card, "task_id": ""}}) == 40035
    assert errcode({"msgtype": "textcard", "textcard": {"title": "t"}}) == 40035
    assert errcode({"msgtype": "sticker"}) == 40008
    assert errcode(text("")) == 40035
    assert errcode(text("字" * 683)) == 45002  # 2049 bytes of UTF-8
    assert int(call(fake, url, text("no agent", touser="zhangsan"))[1]["errcode"]) == 40035


def test_message_send_reports_invalid_users_and_81013(fake) -> None:
    url = f"/cgi-bin/message/send?access_token={wecom_token(fake)}"
    fake.add_user("zhangsan", "张三")

    _, partly = call(fake, url, text("x", touser="zhangsan|ghost", agentid=1))
    _, none = call(fake, url, text("x", touser="ghost", agentid=1))

    assert partly["errcode"] == 0
    assert partly["invaliduser"] == "ghost"
    assert partly["msgid"]
    assert none["errcode"] == 81013
    assert [d.to for d in fake.deliveries("message/send")] == ["zhangsan"]


def test_more_than_30_messages_a_minute_to_one_member_are_silently_dropped(fake, clock) -> None:
    url = f"/cgi-bin/message/send?access_token={wecom_token(fake)}"

    answers = [call(fake, url, text(str(i), touser="zhangsan", agentid=1))[1]["errcode"] for i in range(31)]
    clock.now += 60
    call(fake, url, text("later", touser="zhangsan", agentid=1))

    assert answers == [0] * 31  # the platform does not tell
    assert len(fake.dropped) == 1
    assert fake.dropped[0].body["text"]["content"] == "30"
    assert len(fake.deliveries("message/send", to="zhangsan")) == 31


def test_duplicate_check(fake, clock) -> None:
    url = f"/cgi-bin/message/send?access_token={wecom_token(fake)}"
    body = text("same", touser="zhangsan", agentid=1, enable_duplicate_check=1, duplicate_check_interval=60)

    call(fake, url, body)
    call(fake, url, body)
    clock.now += 61
    call(fake, url, body)
    call(fake, url, {**body, "enable_duplicate_check": 0})

    assert len(fake.deliveries("message/send")) == 3
    assert len(fake.duplicates) == 1


# --- registries ----------------------------------------------------------------------------------------------------


def test_appchat_lifecycle(fake) -> None:
    token = wecom_token(fake)
    q = f"?access_token={token}"

    _, created = call(fake, f"/cgi-bin/appchat/create{q}", {"name": "群", "owner": "a", "userlist": ["a", "b"]})
    chatid = created["chatid"]
    assert (
        call(fake, f"/cgi-bin/appchat/create{q}", {"name": "群", "userlist": ["a", "b"], "chatid": chatid})[1][
            "errcode"
        ]
        == 86215
    )
    assert (
        call(fake, f"/cgi-bin/appchat/update{q}", {"chatid": chatid, "name": "新名", "add_user_list": ["c"]})[1][
            "errcode"
        ]
        == 0
    )
    _, got = call(fake, f"/cgi-bin/appchat/get{q}&chatid={chatid}")
    assert got["chat_info"] == {
        "chatid": chatid,
        "name": "新名",
        "owner": "a",
        "userlist": ["a", "b", "c"],
        "chat_type": 0,
    }
    assert call(fake, f"/cgi-bin/appchat/send{q}", text("hi", chatid=chatid))[1]["errcode"] == 0
    assert call(fake, f"/cgi-bin/appchat/send{q}", text("hi", chatid="nope"))[1]["errcode"] == 86003
    assert call(fake, f"/cgi-bin/appchat/get{q}&chatid=nope")[1]["errcode"] == 86003
    assert call(fake, f"/cgi-bin/appchat/update{q}", {"chatid": "nope", "name": "x"})[1]["errcode"] == 86003
    card = {"msgtype": "template_card", "template_card": {"card_type": "text_notice"}, "chatid": chatid}
    assert call(fake, f"/cgi-bin/appchat/send{q}", card)[1]["errcode"] == 40008


def test_customer_group_and_archive_room_and_user(fake) -> None:
    q = f"?access_token={wecom_token(fake)}"
    fake.add_customer_group("wrchat", "客户群", "boss", [{"userid": "boss", "name": "老板"}], admins=["boss"])
    fake.add_archive_room("wrroom", "内部群", "boss", [("boss", 1)])
    fake.add_user("boss", "老板", department=(2,))

    _, named = call(fake, f"/cgi-bin/externalcontact/groupchat/get{q}", {"chat_id": "wrchat", "need_name": 1})
    _, unnamed = call(fake, f"/cgi-bin/externalcontact/groupchat/get{q}", {"chat_id": "wrchat", "need_name": 0})
    _, room = call(fake, f"/cgi-bin/msgaudit/groupchat/get{q}", {"roomid": "wrroom"})
    _, user = call(fake, f"/cgi-bin/user/get{q}&userid=boss")

    chat = named["group_chat"]
    assert (chat["chat_id"], chat["name"], chat["owner"], chat["admin_list"]) == (
        "wrchat",
        "客户群",
        "boss",
        [{"userid": "boss"}],
    )
    assert chat["member_list"] == [{"userid": "boss", "name": "老板", "type": 1, "join_time": 0, "join_scene": 1}]
    assert "name" not in unnamed["group_chat"]["member_list"][0]
    assert room["members"] == [{"memberid": "boss", "jointime": 1}]
    assert room["roomname"] == "内部群"
    assert (user["userid"], user["name"], user["department"], user["main_department"]) == ("boss", "老板", [2], 2)
    assert call(fake, f"/cgi-bin/user/get{q}&userid=ghost")[1]["errcode"] == 60111
    assert call(fake, f"/cgi-bin/externalcontact/groupchat/get{q}", {"chat_id": "nope"})[1]["errcode"] == 40050


def test_departments_tags_and_external_contacts(fake) -> None:
    q = f"?access_token={wecom_token(fake)}"
    fake.add_department(1, "示例公司", 0)
    fake.add_department(2, "研发中心")
    fake.add_user("zhangsan", "张三")
    fake.add_tag(7, "党员", ["zhangsan", "lisi"])
    fake.add_external_contact(
        "wmEXT", "客户", corp_name="腾讯", tags=["VIP", {"tag_name": "自定义", "type": 2}], follow_user="zhangsan"
    )

    _, root = call(fake, f"/cgi-bin/department/get{q}&id=1")
    _, department = call(fake, f"/cgi-bin/department/get{q}&id=2")
    _, tags = call(fake, f"/cgi-bin/tag/list{q}")
    _, members = call(fake, f"/cgi-bin/tag/get{q}&tagid=7")
    _, contact = call(fake, f"/cgi-bin/externalcontact/get{q}&external_userid=wmEXT")

    assert (root["department"]["id"], root["department"]["name"], root["department"]["parentid"]) == (1, "示例公司", 0)
    assert (department["department"]["id"], department["department"]["parentid"]) == (2, 1)
    assert tags["taglist"] == [{"tagid": 7, "tagname": "党员"}]
    assert members["tagname"] == "党员"
    assert members["userlist"] == [{"userid": "zhangsan", "name": "张三"}, {"userid": "lisi", "name": "lisi"}]
    assert members["partylist"] == []
    external = contact["external_contact"]
    assert (external["external_userid"], external["name"], external["corp_name"], external["type"]) == (
        "wmEXT",
        "客户",
        "腾讯",
        2,
    )
    [follow] = contact["follow_user"]
    assert follow["userid"] == "zhangsan"
    assert [(t["tag_name"], t["type"]) for t in follow["tags"]] == [("VIP", 1), ("自定义", 2)]
    assert all(t["tag_id"] for t in follow["tags"])


def test_a_wechat_customer_has_no_company(fake) -> None:
    q = f"?access_token={wecom_token(fake)}"
    fake.add_external_contact("wmWX", "微信用户")

    _, contact = call(fake, f"/cgi-bin/externalcontact/get{q}&external_userid=wmWX")

    assert contact["external_contact"]["type"] == 1
    assert "corp_name" not in contact["external_contact"]
    assert contact["follow_user"][0]["tags"] == []


def test_directory_reads_of_unknown_ids_answer_the_documented_errors(fake) -> None:
    q = f"?access_token={wecom_token(fake)}"

    assert call(fake, f"/cgi-bin/department/get{q}&id=99")[1]["errcode"] == 60123
    assert call(fake, f"/cgi-bin/department/get{q}&id=abc")[1]["errcode"] == 40035
    assert call(fake, f"/cgi-bin/tag/get{q}&tagid=99")[1]["errcode"] == 40068
    assert call(fake, f"/cgi-bin/externalcontact/get{q}&external_userid=wmNOBODY")[1]["errcode"] == 40096
    assert call(fake, f"/cgi-bin/externalcontact/get{q}")[1]["errcode"] == 41035
    assert call(fake, "/cgi-bin/tag/list")[1]["errcode"] == 41001  # a token is required
    assert call(fake, f"/cgi-bin/tag/list{q}")[1] == {"errcode": 0, "errmsg": "ok", "taglist": []}


# --- robot, Official Account ---------------------------------------------------------------------------------------


def test_robot_webhook(fake, clock) -> None:
    fake.add_robot("key-1")

    assert call(fake, "/cgi-bin/webhook/send?key=key-1", text("hi"))[1] == {"errcode": 0, "errmsg": "ok"}
    assert call(fake, "/cgi-bin/webhook/send?key=key-2", text("hi"))[1]["errcode"] == 93000
    answers = [call(fake, "/cgi-bin/webhook/send?key=key-1", text(str(i)))[1]["errcode"] for i in range(20)]
    assert answers == [0] * 19 + [45009]  # 20 a minute, the first one included
    clock.now += 60
    assert call(fake, "/cgi-bin/webhook/send?key=key-1", text("later"))[1]["errcode"] == 0
    assert len(fake.deliveries("webhook/send", to="key-1")) == 21


def test_official_account_window_and_template_dedup(fake, clock) -> None:
    q = f"?access_token={mp_token(fake)}"
    fake.add_follower("o-quiet")
    fake.follower_interacted("o-active")
    template = {"touser": "o-quiet", "template_id": "tpl", "data": {"first": {"value": "x"}}, "client_msg_id": "m1"}

    assert call(fake, f"/cgi-bin/message/custom/send{q}", text("x", touser="o-quiet"))[1]["errcode"] == 45015
    assert call(fake, f"/cgi-bin/message/custom/send{q}", text("x", touser="o-active"))[1]["errcode"] == 0
    assert call(fake, f"/cgi-bin/message/custom/send{q}", text("x", touser="o-none"))[1]["errcode"] == 40003
    first = call(fake, f"/cgi-bin/message/template/send{q}", template)[1]
    again = call(fake, f"/cgi-bin/message/template/send{q}", template)[1]
    clock.now += 601
    later = call(fake, f"/cgi-bin/message/template/send{q}", template)[1]

    assert first["errcode"] == 0
    assert first["msgid"] == again["msgid"] != later["msgid"]
    assert len(fake.deliveries("message/template/send")) == 2
    fake.add_template("tpl-known")
    assert call(fake, f"/cgi-bin/message/template/send{q}", template)[1]["errcode"] == 40037


# --- the local stack's view ----------------------------------------------------------------------------------------


def test_print_sends_shows_each_message_on_one_line(clock) -> None:
    out = io.StringIO()
    with FakeWeCom(clock=clock, print_sends=True, out=out) as fake:
        q = f"?access_token={wecom_token(fake)}"
        mq = f"?access_token={mp_token(fake)}"
        fake.add_appchat("wrgroup", "ART精英交流群", "boss", ["boss"])
        call(fake, f"/cgi-bin/message/send{q}", text("请注意\n群规", touser="zhangsan|lisi", agentid=1))
        card = {"card_type": "button_interaction", "main_title": {"title": "罚款待确认"}, "task_id": "t1",
                "button_list": [{"text": "确认", "key": "k1"}, {"text": "免除", "key": "k2"}]}  # fmt: skip
        call(
            fake,
            f"/cgi-bin/message/send{q}",
            {"msgtype": "template_card", "template_card": card, "touser": "boss", "agentid": 1},
        )
        call(
            fake,
            f"/cgi-bin/appchat/send{q}",
            {"chatid": "wrgroup", "msgtype": "markdown", "markdown": {"content": "**警告**"}},
        )
        call(fake, "/cgi-bin/webhook/send?key=0123456789-secret", text("日报"))
        call(fake, f"/cgi-bin/message/custom/send{mq}", text("您好", touser="o1"))
        template = {"touser": "o1", "template_id": "tpl", "data": {"first": {"value": "提醒"}}}
        call(fake, f"/cgi-bin/message/template/send{mq}", template)
        call(fake, "/cgi-bin/user/get" + q + "&userid=x")  # not a send: not printed

    assert out.getvalue().splitlines() == [
        "[fake wecom] message/send → zhangsan|lisi  text: 请注意 ⏎ 群规",
        "[fake wecom] message/send → boss  template_card: 罚款待确认 [确认] [免除] (task t1)",
        "[fake wecom] appchat/send → group wrgroup (ART精英交流群)  markdown: **警告**",
        "[fake wecom] webhook/send → robot 0123…  text: 日报",
        "[fake wecom] message/custom/send → o1  text: 您好",
        "[fake wecom] message/template/send → o1  template: template tpl: first=提醒",
    ]


def test_runs_standalone() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "qungui_cli.fake_wecom", "--port", "0"],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        encoding="utf-8",
    ) as process:
        try:
            assert process.stdout is not None
            banner = process.stdout.readline()
            assert banner.startswith("fake WeCom/OA API on http://127.0.0.1:")
            base_url = banner.rsplit(" ", 1)[1].strip()
            _, answer = request(base_url, "/cgi-bin/gettoken?corpid=c&corpsecret=s")
            _, sent = request(
                base_url,
                f"/cgi-bin/message/send?access_token={answer['access_token']}",
                text("你好", touser="zhangsan", agentid=1),
            )
            assert sent["errcode"] == 0
            assert process.stdout.readline().strip() == "[fake wecom] message/send → zhangsan  text: 你好"
        finally:
            process.terminate()
            process.wait(timeout=5)

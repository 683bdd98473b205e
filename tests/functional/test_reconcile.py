"""Reconciliation end to end: the fake WeCom holds the groups' real state, qungui reads it (groupchat/get, appchat/get,
msgaudit/groupchat/get and the directory), repairs what events lost and runs the membership rules — Events →
decisions → roster / ledger / outbox on moto, nothing patched."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from conftest import NOW, register
from oracle import CORP_ID

from chalicelib.directory import Directory
from chalicelib.effects.senders import PlatformSender
from chalicelib.jobs.reconcile import Reconciler
from chalicelib.store.models import GroupRecord, LedgerEntry, MemberActivity, OutboxItem
from qungui_cli.fake_wecom import FakeWeCom
from qungui_cli.main import main as qungui

HOUR = 3600

POLICY = """\
schema_version: 1
id: roster_test
version: "1"
rules:
  - id: join.welcome
    kind: welcome
    clause: "3.10"
    send_rules: true
    brief_inviter: true
  - id: join.eligibility
    kind: join_eligibility
    clause: "3.5"
    departments: ["销售部"]
    external: deny
    actions: [alert_admins, remove_member]
  - id: member.quit
    kind: quit
    clause: "2.3.7"
    actions: [warn, alert_admins]
  - id: nickname.format
    kind: nickname_format
    clause: "2.3.3"
    see_also: ["2.3.2"]
    pattern: "{department}-{name}"
    grace_minutes: 60
    recheck_hours: 24
    actions:
      - {at: 1, do: [remind]}
      - {at: 2, do: [warn]}
  - id: group.name
    kind: group_name
    clause: "3.1"
    renamers: [owner]
    restore: true
    actions: [alert_admins]
  - id: members.required
    kind: required_members
    clause: "1.2.2"
    positions: [店长]
    actions: [remind, alert_admins]
"""


def cli(*args: str) -> None:
    assert qungui(["--stage", "dev", *args]) == 0


@pytest.fixture
def fake(clock, tenant) -> Iterator[FakeWeCom]:
    server = FakeWeCom(clock=clock).start()
    server.add_app(CORP_ID, "app-secret")
    server.add_archive_secret(CORP_ID, "archive-secret")
    cli("tenant", "add", "acme", "--archive-secret", "archive-secret")
    server.add_department(1, "总公司", 0)
    server.add_department(2, "销售部", 1)
    server.add_department(3, "财务部", 1)
    for userid, name, department, position in (
        ("owner1", "王总", 2, "总监"),
        ("lisi", "李四", 2, ""),
        ("wangwu", "王五", 2, ""),
        ("zhaoliu", "赵六", 3, ""),
        ("dianzhang", "钱店长", 2, "店长"),
    ):
        server.add_user(userid, name, department=[department], position=position)
    yield server
    server.stop()


@pytest.fixture
def reconciler(directory, fake, clock) -> Reconciler:
    platform = PlatformSender(wecom_base=fake.base_url, clock=clock, sleep=lambda _: None)
    return Reconciler(
        directory,
        client_for=platform.group_reader,
        facts=lambda tenant: Directory(platform.wecom_client(tenant), clock=clock),
        clock=clock,
    )


@pytest.fixture
def policy(tmp_path) -> str:
    path = tmp_path / "roster.yaml"
    path.write_text(POLICY, encoding="utf-8")
    return str(path)


def member(userid: str, *, at: int, nickname: str = "", invitor: str | None = None, external: bool = False) -> dict:
    found = {
        "userid": userid,
        "type": 2 if external else 1,
        "join_time": at,
        "join_scene": 1,
        "group_nickname": nickname,
    }
    if invitor:
        found["invitor"] = {"userid": invitor}
    return found


def roster(chat: str) -> dict[str, MemberActivity]:
    items = MemberActivity.query("T#acme", MemberActivity.sk.startswith(f"MEMBER#{chat}#"), consistent_read=True)
    return {item.member: item for item in items}


def outbox() -> list[OutboxItem]:
    return list(OutboxItem.query("T#acme", OutboxItem.sk.startswith("OUT#"), consistent_read=True))


def messages_to(userid: str) -> list[str]:
    found = []
    for item in outbox():
        if item.to == userid and item.channel == "app":
            payload = json.loads(item.payload)
            found.append(payload[payload["msgtype"]]["content"])
    return found


def ledger() -> list[LedgerEntry]:
    return list(LedgerEntry.query("T#acme", LedgerEntry.sk.startswith("LEDGER#"), consistent_read=True))


def enrol_customer_group(fake: FakeWeCom, policy: str, chat: str = "wrC") -> None:
    fake.add_customer_group(
        chat,
        "销售群",
        "owner1",
        [
            member("owner1", at=NOW - 9000, nickname="销售部-王总"),
            member("lisi", at=NOW - 8000, nickname="销售部-李四"),
        ],
        admins=["lisi"],
        member_version="v1",
    )
    cli("group", "add", chat, "--tenant", "acme", "--kind", "customer", "--owner", "owner1", "--name", "销售群")
    cli("policy", "apply", policy, "--tenant", "acme", "--group", chat)


def add_to_fake(fake: FakeWeCom, chat: str, entry: dict, version: str) -> None:
    group = fake.customer_groups[chat]
    group["member_list"].append({"join_scene": 1, **entry})
    group["member_version"] = version


def test_first_reading_seeds_the_roster_silently_and_records_roles(tenant, fake, reconciler, policy):
    enrol_customer_group(fake, policy)
    outcome = reconciler.reconcile("acme", "wrC", NOW)
    assert (outcome.status, outcome.seeded, outcome.joined) == ("reconciled", 2, ())
    members = roster("wrC")
    assert {m: (item.present, item.joins) for m, item in members.items()} == {"owner1": (True, 1), "lisi": (True, 1)}
    record = GroupRecord.get("T#acme", "GROUP#wrC")
    assert (list(record.admins), record.member_version, record.reconciled_at) == (["lisi"], "v1", NOW)
    assert record.locked_name == "销售群"  # the group_name rule holds the group to its enrolled name
    assert messages_to("owner1") == []
    assert messages_to("lisi") == []


def test_a_lost_add_member_event_is_repaired_by_reconciliation(tenant, fake, reconciler, policy, clock):
    enrol_customer_group(fake, policy)
    reconciler.reconcile("acme", "wrC", NOW)
    # wangwu joins; WeCom's change_external_chat never arrives.
    add_to_fake(fake, "wrC", member("wangwu", at=NOW + 100, invitor="lisi"), "v2")
    # The hourly safety net finds him.
    clock.now = NOW + HOUR
    report = reconciler.run(NOW + HOUR)
    assert report["reconciled"] == 1
    assert roster("wrC")["wangwu"].present is True
    assert roster("wrC")["wangwu"].invitor == "lisi"
    [welcome] = messages_to("wangwu")
    assert "欢迎" in welcome
    assert any("王五" in text or "wangwu" in text for text in messages_to("lisi"))  # 篇三 10: brief the newcomer
    assert GroupRecord.get("T#acme", "GROUP#wrC").member_version == "v2"
    # The same tick again changes nothing: its events are already committed.
    before = len(outbox())
    reconciler.reconcile("acme", "wrC", NOW + HOUR)
    assert len(outbox()) == before


def change_external_chat(peer, chat: str, detail: str, members: list[str], *, last: str, cur: str, at: int) -> str:
    scene = "<JoinScene>0</JoinScene>" if detail == "add_member" else "<QuitScene>0</QuitScene>"
    items = "".join(f"<Item>{m}</Item>" for m in members)
    return (
        f"<xml><ToUserName><![CDATA[{peer.corp_id}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
        f"<CreateTime>{at}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[change_external_chat]]></Event>"
        f"<ChatId><![CDATA[{chat}]]></ChatId><ChangeType><![CDATA[update]]></ChangeType>"
        f"<UpdateDetail><![CDATA[{detail}]]></UpdateDetail>{scene}"
        f"<MemChangeCnt>{len(members)}</MemChangeCnt><MemChangeList>{items}</MemChangeList>"
        f"<LastMemVer>{last}</LastMemVer><CurMemVer>{cur}</CurMemVer></xml>"
    )


def test_a_version_gap_in_a_later_event_asks_for_reconciliation_at_once(
    tenant, fake, reconciler, policy, client, peer, clock
):
    enrol_customer_group(fake, policy)
    reconciler.reconcile("acme", "wrC", NOW)
    add_to_fake(fake, "wrC", member("wangwu", at=NOW + 10, invitor="lisi"), "v2")  # its event is lost
    add_to_fake(fake, "wrC", member("zhaoliu", at=NOW + 20, invitor="lisi"), "v3")
    clock.now = NOW + 30
    call = peer.app_post(change_external_chat(peer, "wrC", "add_member", ["zhaoliu"], last="v2", cur="v3", at=NOW + 20),
                         NOW + 30)  # fmt: skip
    assert client.http.post(call.path, body=call.body).status_code == 200
    record = GroupRecord.get("T#acme", "GROUP#wrC")
    assert record.reconcile_requested_at == NOW + 20
    # Due at the next minute's tick, long before the hourly poll.
    report = reconciler.run(NOW + 60)
    assert report["reconciled"] == 1
    assert {m for m, item in roster("wrC").items() if item.present} == {"owner1", "lisi", "wangwu", "zhaoliu"}
    # zhaoliu is in 财务部: the policy admits 销售部 only, so the admins hear of it (customer groups cannot remove).
    alerts = messages_to("boss")
    assert any("赵六" in text or "zhaoliu" in text for text in alerts)


def test_a_member_who_leaves_and_rejoins_is_one_member(tenant, fake, reconciler, policy, client, peer, clock):
    enrol_customer_group(fake, policy)
    reconciler.reconcile("acme", "wrC", NOW)
    add_to_fake(fake, "wrC", member("wangwu", at=NOW + 100, invitor="lisi", nickname="销售部-王五"), "v2")
    reconciler.reconcile("acme", "wrC", NOW + 200)
    # He leaves by himself; the callback reports it (篇二 3.7 is judged from QuitScene).
    fake.customer_groups["wrC"]["member_list"] = [
        m for m in fake.customer_groups["wrC"]["member_list"] if m["userid"] != "wangwu"
    ]
    clock.now = NOW + 300
    call = peer.app_post(change_external_chat(peer, "wrC", "del_member", ["wangwu"], last="v2", cur="v3", at=NOW + 300),
                         NOW + 300)  # fmt: skip
    assert client.http.post(call.path, body=call.body).status_code == 200
    assert roster("wrC")["wangwu"].present is False
    [warning] = [entry for entry in ledger() if entry.member == "wangwu"]
    assert (warning.kind, warning.rule) == ("warning", "member.quit")
    reconciler.reconcile("acme", "wrC", NOW + 400)
    # ... and comes back.
    add_to_fake(fake, "wrC", member("wangwu", at=NOW + 500, invitor="lisi", nickname="销售部-王五"), "v4")
    reconciler.reconcile("acme", "wrC", NOW + 600)
    items = [item for item in roster("wrC").values() if item.member == "wangwu"]
    assert len(items) == 1
    assert (items[0].present, items[0].joins, items[0].joined_at) == (True, 2, NOW + 500)
    assert any("欢迎回" in text for text in messages_to("wangwu"))  # welcomed back, not as a stranger
    # Still one member on the ledger, with the one warning.
    assert len([entry for entry in ledger() if entry.member == "wangwu"]) == 1


def test_a_departure_only_reconciliation_sees_is_told_to_the_admins(tenant, fake, reconciler, policy):
    fake.add_appchat("wrApp", "项目群", "owner1", ["owner1", "lisi", "wangwu"])
    cli("group", "add", "wrApp", "--tenant", "acme", "--kind", "appchat", "--owner", "owner1", "--name", "项目群")
    cli("policy", "apply", policy, "--tenant", "acme", "--group", "wrApp")
    reconciler.reconcile("acme", "wrApp", NOW)
    fake.appchats["wrApp"]["userlist"].remove("wangwu")
    outcome = reconciler.reconcile("acme", "wrApp", NOW + 600)
    assert outcome.left == ("wangwu",)
    assert roster("wrApp")["wangwu"].present is False
    assert not [entry for entry in ledger() if entry.member == "wangwu"]  # how he left is unknown: no warning
    assert any("王五" in text or "wangwu" in text for text in messages_to("boss"))


def test_an_ineligible_newcomer_is_removed_from_an_app_created_group(tenant, fake, reconciler, policy, clock):
    fake.add_appchat("wrApp", "项目群", "owner1", ["owner1", "lisi"])
    cli("group", "add", "wrApp", "--tenant", "acme", "--kind", "appchat", "--owner", "owner1", "--name", "项目群")
    cli("policy", "apply", policy, "--tenant", "acme", "--group", "wrApp")
    reconciler.reconcile("acme", "wrApp", NOW)
    fake.appchats["wrApp"]["userlist"].append("zhaoliu")  # 财务部
    reconciler.reconcile("acme", "wrApp", NOW + 600)
    [action] = [item for item in outbox() if item.channel == "appchat_action"]
    assert json.loads(json.loads(action.payload)["action"]["content"]) == {"action": "remove", "member": "zhaoliu"}


def test_an_app_created_group_renamed_without_consent_is_renamed_back(tenant, fake, reconciler, policy):
    fake.add_appchat("wrApp", "项目群", "owner1", ["owner1", "lisi"])
    cli("group", "add", "wrApp", "--tenant", "acme", "--kind", "appchat", "--owner", "owner1", "--name", "项目群")
    cli("policy", "apply", policy, "--tenant", "acme", "--group", "wrApp")
    reconciler.reconcile("acme", "wrApp", NOW)
    fake.appchats["wrApp"]["name"] = "摸鱼群"
    outcome = reconciler.reconcile("acme", "wrApp", NOW + 600)
    assert outcome.renamed
    [action] = [item for item in outbox() if item.channel == "appchat_action"]
    assert json.loads(json.loads(action.payload)["action"]["content"]) == {"action": "rename", "name": "项目群"}
    assert any("摸鱼群" in text for text in messages_to("boss"))
    # The next reading of the same wrong name does not alert again.
    before = len(outbox())
    reconciler.reconcile("acme", "wrApp", NOW + 1200)
    assert len(outbox()) == before


def test_a_customer_group_rename_is_reported_but_cannot_be_undone(tenant, fake, reconciler, policy):
    enrol_customer_group(fake, policy)
    reconciler.reconcile("acme", "wrC", NOW)
    fake.customer_groups["wrC"]["name"] = "随便聊"
    reconciler.reconcile("acme", "wrC", NOW + 600)
    assert not [item for item in outbox() if item.channel == "appchat_action"]
    assert any("随便聊" in text for text in messages_to("boss"))


def test_a_wrong_nickname_is_reminded_after_the_grace_and_warned_at_the_recheck(tenant, fake, reconciler, policy):
    enrol_customer_group(fake, policy)
    reconciler.reconcile("acme", "wrC", NOW)
    add_to_fake(fake, "wrC", member("wangwu", at=NOW + 100, invitor="lisi", nickname="小王"), "v2")
    reconciler.reconcile("acme", "wrC", NOW + 200)
    assert not [text for text in messages_to("wangwu") if "昵称" in text]  # within the 60-minute grace
    reconciler.reconcile("acme", "wrC", NOW + 100 + HOUR)
    [reminder] = [text for text in messages_to("wangwu") if "昵称" in text]
    assert "销售部-王五" in reminder
    assert "小王" in reminder
    assert "我在本群的昵称" in reminder  # 篇二 3.2's how-to
    reconciler.reconcile("acme", "wrC", NOW + 100 + HOUR + 24 * HOUR)
    [warning] = [entry for entry in ledger() if entry.member == "wangwu"]
    assert (warning.kind, warning.rule) == ("warning", "nickname.format")
    # Fixed: the next reading clears the state and nothing more happens.
    fake.customer_groups["wrC"]["member_list"][-1]["group_nickname"] = "销售部-王五"
    reconciler.reconcile("acme", "wrC", NOW + 100 + HOUR + 48 * HOUR)
    state = roster("wrC")["wangwu"]
    assert (state.name_due_at, state.name_wrong_since) == (None, None)
    reconciler.reconcile("acme", "wrC", NOW + 100 + HOUR + 72 * HOUR)
    assert len([entry for entry in ledger() if entry.member == "wangwu"]) == 1


def change_contact_create(peer, userid: str, name: str, department: int, position: str, at: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{peer.corp_id}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
        f"<CreateTime>{at}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_contact]]></Event>"
        f"<ChangeType><![CDATA[create_user]]></ChangeType><UserID><![CDATA[{userid}]]></UserID>"
        f"<Name><![CDATA[{name}]]></Name><Department><![CDATA[{department}]]></Department>"
        f"<MainDepartment>{department}</MainDepartment><Position><![CDATA[{position}]]></Position></xml>"
    )


def test_required_members_missing_are_reported_once_until_that_changes(
    tenant, fake, reconciler, policy, client, peer, clock
):
    enrol_customer_group(fake, policy)
    # The directory learns of the new store manager (店长) from change_contact.
    call = peer.app_post(change_contact_create(peer, "dianzhang", "钱店长", 2, "店长", NOW - 50), NOW)
    assert client.http.post(call.path, body=call.body).status_code == 200
    reconciler.reconcile("acme", "wrC", NOW)
    assert len([text for text in messages_to("boss") if "钱店长" in text or "dianzhang" in text]) == 1
    assert any("加入" in text for text in messages_to("dianzhang"))
    assert list(GroupRecord.get("T#acme", "GROUP#wrC").required_missing) == ["dianzhang"]
    reconciler.reconcile("acme", "wrC", NOW + HOUR)  # still missing: not reported again
    assert len([text for text in messages_to("boss") if "钱店长" in text or "dianzhang" in text]) == 1
    add_to_fake(fake, "wrC", member("dianzhang", at=NOW + HOUR + 5, invitor="owner1", nickname="销售部-钱店长"), "v2")
    reconciler.reconcile("acme", "wrC", NOW + 2 * HOUR)
    assert list(GroupRecord.get("T#acme", "GROUP#wrC").required_missing) == []


# ------------------------------------------------------------------------------- every kind where the clause applies


class Platform:
    """One group of one kind in the fake WeCom, changed the way members change it."""

    def __init__(self, fake: FakeWeCom, kind: str, chat: str) -> None:
        self.fake, self.kind, self.chat = fake, kind, chat

    def create(self, name: str, members: list[str], at: int) -> None:
        if self.kind == "customer":
            self.fake.add_customer_group(self.chat, name, "owner1", [member(m, at=at) for m in members])
        elif self.kind == "appchat":
            self.fake.add_appchat(self.chat, name, "owner1", members)
        else:
            self.fake.add_archive_room(self.chat, name, "owner1", [(m, at) for m in members])

    def join(self, userid: str, at: int, invitor: str = "lisi") -> None:
        if self.kind == "customer":
            add_to_fake(self.fake, self.chat, member(userid, at=at, invitor=invitor), f"v{at}")
        elif self.kind == "appchat":
            self.fake.appchats[self.chat]["userlist"].append(userid)
        else:
            self.fake.archive_rooms[self.chat]["members"].append({"memberid": userid, "jointime": at})

    def leave(self, userid: str) -> None:
        if self.kind == "customer":
            group = self.fake.customer_groups[self.chat]
            group["member_list"] = [m for m in group["member_list"] if m["userid"] != userid]
        elif self.kind == "appchat":
            self.fake.appchats[self.chat]["userlist"].remove(userid)
        else:
            room = self.fake.archive_rooms[self.chat]
            room["members"] = [m for m in room["members"] if m["memberid"] != userid]

    def rename(self, name: str) -> None:
        found = {"customer": self.fake.customer_groups, "appchat": self.fake.appchats}.get(self.kind)
        if found is None:
            self.fake.archive_rooms[self.chat]["roomname"] = name
        else:
            found[self.chat]["name"] = name


KINDS = ("customer", "appchat", "internal")


@pytest.mark.parametrize("kind", KINDS)
def test_membership_clauses_in_every_kind_of_group(kind, tenant, fake, reconciler, policy, client, peer):
    platform = Platform(fake, kind, f"wr{kind}")
    platform.create("项目群", ["owner1", "lisi"], at=NOW - 9000)
    cli("group", "add", platform.chat, "--tenant", "acme", "--kind", kind, "--owner", "owner1", "--name", "项目群")
    cli("policy", "apply", policy, "--tenant", "acme", "--group", platform.chat)
    call = peer.app_post(change_contact_create(peer, "dianzhang", "钱店长", 2, "店长", NOW - 50), NOW)
    assert client.http.post(call.path, body=call.body).status_code == 200
    reconciler.reconcile("acme", platform.chat, NOW)
    # 篇一 二(2): the store manager the directory knows is not in the group.
    assert any("钱店长" in text for text in messages_to("boss"))

    # 篇三 10 / 篇三 5: a newcomer is welcomed; an ineligible one is reported (and removed where the API can).
    platform.join("wangwu", NOW + 100)
    platform.join("zhaoliu", NOW + 110)
    reconciler.reconcile("acme", platform.chat, NOW + 600)
    assert any("欢迎" in text for text in messages_to("wangwu"))
    assert any("赵六" in text or "zhaoliu" in text for text in messages_to("boss"))
    removals = [item for item in outbox() if item.channel == "appchat_action" and "remove" in item.payload]
    assert len(removals) == (1 if kind == "appchat" else 0)

    # 篇二 3.7: a departure only reconciliation sees is told to the admins (how they left is unknown: no warning).
    platform.leave("wangwu")
    outcome = reconciler.reconcile("acme", platform.chat, NOW + 1200)
    assert "wangwu" in outcome.left
    assert roster(platform.chat)["wangwu"].present is False
    assert not [entry for entry in ledger() if entry.member == "wangwu"]

    # 篇三 1: a rename is reported everywhere, renamed back only in an app-created group.
    platform.rename("闲聊群")
    reconciler.reconcile("acme", platform.chat, NOW + 1800)
    assert any("闲聊群" in text for text in messages_to("boss"))
    renames = [item for item in outbox() if item.channel == "appchat_action" and "rename" in item.payload]
    assert len(renames) == (1 if kind == "appchat" else 0)


def test_two_ineligible_newcomers_of_one_reading_are_both_removed(tenant, fake, reconciler, policy):
    fake.add_appchat("wrApp", "项目群", "owner1", ["owner1", "lisi"])
    cli("group", "add", "wrApp", "--tenant", "acme", "--kind", "appchat", "--owner", "owner1", "--name", "项目群")
    cli("policy", "apply", policy, "--tenant", "acme", "--group", "wrApp")
    fake.add_user("sunqi", "孙七", department=[3])
    reconciler.reconcile("acme", "wrApp", NOW)
    fake.appchats["wrApp"]["userlist"] += ["zhaoliu", "sunqi"]  # both 财务部
    reconciler.reconcile("acme", "wrApp", NOW + 600)
    removed = [
        json.loads(json.loads(item.payload)["action"]["content"])["member"]
        for item in outbox()
        if item.channel == "appchat_action"
    ]
    assert sorted(removed) == ["sunqi", "zhaoliu"]


def test_the_schedule_fans_due_groups_out_and_a_redelivered_message_changes_nothing(
    tenant, fake, directory, clock, policy
):
    enrol_customer_group(fake, policy)
    fake.add_appchat("wrApp", "项目群", "owner1", ["owner1", "lisi"])
    cli("group", "add", "wrApp", "--tenant", "acme", "--kind", "appchat", "--owner", "owner1")
    cli("group", "add", "wrOff", "--tenant", "acme", "--kind", "appchat", "--ungoverned")
    queued: list[dict] = []
    platform = PlatformSender(wecom_base=fake.base_url, clock=clock, sleep=lambda _: None)
    fan_out = Reconciler(
        directory,
        client_for=platform.group_reader,
        facts=lambda t: Directory(platform.wecom_client(t), clock=clock),
        send=queued.append,
        clock=clock,
    )
    report = fan_out.run(NOW)
    assert (report["due"], report["queued"]) == (2, 2)  # the ungoverned group is never read
    assert sorted(m["chat_id"] for m in queued) == ["wrApp", "wrC"]
    assert fake.requests("/cgi-bin/appchat/get") == []  # the schedule itself reads nothing from WeCom

    fake.customer_groups["wrC"]["member_list"].append(member("wangwu", at=NOW - 1, invitor="lisi"))
    for message in [*queued, *queued]:  # SQS delivers at least once
        fan_out.reconcile(message["tenant"], message["chat_id"], message["tick"])
    assert len([item for item in roster("wrC").values() if item.present]) == 3
    assert roster("wrC")["wangwu"].joins == 1
    # Reconciled just now: not due again until an event asks or the poll interval passes.
    assert fan_out.run(NOW + 60)["due"] == 0
    assert fan_out.reconcile("acme", "wrGone", NOW).status == "skipped"


def test_an_internal_group_is_read_with_the_chat_archives_own_secret(tenant, fake, reconciler, policy, directory):
    fake.add_archive_room("wrRoom", "内部群", "owner1", [("owner1", NOW - 100), ("lisi", NOW - 100)])
    cli("group", "add", "wrRoom", "--tenant", "acme", "--kind", "internal", "--owner", "owner1")
    assert reconciler.reconcile("acme", "wrRoom", NOW).status == "reconciled"
    assert len(fake.requests("/cgi-bin/msgaudit/groupchat/get")) == 1
    issued = {r.query["corpsecret"] for r in fake.requests("/cgi-bin/gettoken")}
    assert issued == {"app-secret", "archive-secret"}  # the directory with the app's, the room with the archive's
    # A tenant without the archive secret cannot read it: logged, marked, tried again after its poll interval.
    register("beta")
    cli("group", "add", "wrRoom", "--tenant", "beta", "--kind", "internal", "--owner", "owner1")
    assert reconciler.reconcile("beta", "wrRoom", NOW).status == "unreadable"
    assert GroupRecord.get("T#beta", "GROUP#wrRoom").reconciled_at == NOW


def test_a_group_first_known_from_a_join_event_welcomes_that_newcomer_only(
    tenant, fake, reconciler, policy, client, peer, clock
):
    # Nobody enrolled wrNew: the tenant governs all its groups, and the add_member callback is how qungui learns of it.
    cli("policy", "apply", policy, "--tenant", "acme")
    old = [member("owner1", at=NOW - 86400, nickname="销售部-王总"), member("lisi", at=NOW - 86400)]
    fake.add_customer_group("wrNew", "新群", "owner1", old, member_version="v1")
    add_to_fake(fake, "wrNew", member("wangwu", at=NOW - 1, invitor="lisi", nickname="销售部-王五"), "v2")
    call = peer.app_post(
        change_external_chat(peer, "wrNew", "add_member", ["wangwu"], last="v1", cur="v2", at=NOW), NOW
    )
    assert client.http.post(call.path, body=call.body).status_code == 200
    record = GroupRecord.get("T#acme", "GROUP#wrNew")
    assert (record.kind, record.enrolled_at, record.first_seen_at) == ("customer", None, NOW)
    assert reconciler.run(NOW + 60)["reconciled"] == 1
    assert {m: item.joins for m, item in roster("wrNew").items()} == {"owner1": 1, "lisi": 1, "wangwu": 1}
    assert any("欢迎" in text for text in messages_to("wangwu"))
    [brief] = messages_to("lisi")  # lisi was there before: no welcome for her, only the inviter's brief
    assert "您邀请的" in brief


def dismissed_or_created(peer, chat: str, change: str, at: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{peer.corp_id}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
        f"<CreateTime>{at}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[change_external_chat]]></Event>"
        f"<ChatId><![CDATA[{chat}]]></ChatId><ChangeType><![CDATA[{change}]]></ChangeType></xml>"
    )


def test_a_dismissed_group_is_no_longer_read_until_it_is_heard_from_again(
    tenant, fake, reconciler, policy, client, peer, clock
):
    enrol_customer_group(fake, policy)
    reconciler.reconcile("acme", "wrC", NOW)
    call = peer.app_post(dismissed_or_created(peer, "wrC", "dismiss", NOW + 10), NOW + 10)
    assert client.http.post(call.path, body=call.body).status_code == 200
    assert GroupRecord.get("T#acme", "GROUP#wrC").dismissed_at == NOW + 10
    assert reconciler.run(NOW + 2 * HOUR)["due"] == 0  # past the poll interval, but gone
    clock.now = NOW + 3 * HOUR
    call = peer.app_post(dismissed_or_created(peer, "wrC", "create", NOW + 3 * HOUR), NOW + 3 * HOUR)
    assert client.http.post(call.path, body=call.body).status_code == 200
    assert GroupRecord.get("T#acme", "GROUP#wrC").dismissed_at is None
    assert reconciler.run(NOW + 3 * HOUR + 60)["reconciled"] == 1

"""Issue 6 rules wired end to end: a quit (篇二 3.7) from a signed change_external_chat callback, the policy's
escalation after repeated warnings, and a removal from an app-created group delivered to the fake WeCom."""

from __future__ import annotations

import json
import random

from conftest import NOW
from oracle import CORP_ID, bot_text

from chalicelib.effects.senders import PlatformSender
from chalicelib.jobs.deliver import Deliverer
from chalicelib.policies import POLICY_DIR
from chalicelib.store.models import LedgerEntry, OutboxItem
from qungui_cli.fake_wecom import FakeWeCom
from qungui_cli.main import main as qungui


def cli(*args: str) -> None:
    assert qungui(["--stage", "dev", *args]) == 0


def left(peer, chat: str, member: str, scene: int, at: int = NOW) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{peer.corp_id}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
        f"<CreateTime>{at}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[change_external_chat]]></Event>"
        f"<ChatId><![CDATA[{chat}]]></ChatId><ChangeType><![CDATA[update]]></ChangeType>"
        f"<UpdateDetail><![CDATA[del_member]]></UpdateDetail><QuitScene>{scene}</QuitScene>"
        f"<MemChangeCnt>1</MemChangeCnt><MemChangeList><Item>{member}</Item></MemChangeList></xml>"
    )


def ledger(chat: str | None = None) -> list[LedgerEntry]:
    found = LedgerEntry.query("T#acme", LedgerEntry.sk.startswith("LEDGER#"), consistent_read=True)
    return [entry for entry in found if chat is None or entry.group == chat]


def outbox() -> list[OutboxItem]:
    return list(OutboxItem.query("T#acme", OutboxItem.sk.startswith("OUT#"), consistent_read=True))


def test_pian2_3_7_quitting_by_oneself_is_a_warning_and_the_owner_is_told(client, tenant, peer):
    cli("group", "add", "wrJiu", "--tenant", "acme", "--kind", "customer", "--owner", "owner1")
    cli("policy", "apply", str(POLICY_DIR / "jiushen.yaml"), "--tenant", "acme", "--group", "wrJiu")
    for _ in range(2):  # WeCom's retry changes nothing
        call = peer.app_post(left(peer, "wrJiu", "wangwu", scene=0), NOW)
        assert client.http.post(call.path, body=call.body).status_code == 200
    call = peer.app_post(left(peer, "wrJiu", "zhaoliu", scene=1, at=NOW + 5), NOW)  # removed by an admin
    assert client.http.post(call.path, body=call.body).status_code == 200
    [entry] = ledger("wrJiu")
    assert (entry.kind, entry.member, entry.rule) == ("warning", "wangwu", "member.quit")
    assert "退群" in entry.clause
    told = {item.to for item in outbox()}
    assert {"owner1", "boss"} <= told


def say(client, peer, chat: str, text: str, msg_id: str, at: int) -> None:
    call = peer.bot_post(bot_text("lisi", text, msg_id, chat_id=chat), timestamp=at)
    assert client.http.post(call.path, body=call.body).status_code == 200


def test_three_warnings_in_thirty_days_reach_the_admins(client, tenant, peer, clock):
    # default.yaml: escalation {warnings: 3, do: [alert_admins]}; content.harmful warns at every offence.
    for n in range(3):
        clock.now = NOW + n * 3600
        say(client, peer, "wrSales", f"@群规助手 网赌第{n}次", f"m{n}", at=NOW + n * 3600)
    alerts = [json.loads(item.payload)["markdown"]["content"] for item in outbox() if item.to == "boss"]
    assert len(alerts) == 1  # the third warning crosses the threshold; the first two stay with the member
    assert "3" in alerts[0]


REMOVING = """\
schema_version: 1
id: strict
version: "1"
rules:
  - id: content.harmful
    kind: content
    clause: "1.3.5"
    categories: [gambling]
    actions: [warn]
escalation:
  window_days: 30
  steps:
    - {warnings: 2, do: [remove_member]}
"""


def test_an_app_created_group_removes_the_member_through_the_outbox(client, tenant, peer, tmp_path, clock, directory):
    policy = tmp_path / "strict.yaml"
    policy.write_text(REMOVING, encoding="utf-8")
    cli("group", "add", "wrApp", "--tenant", "acme", "--kind", "appchat", "--owner", "owner1")
    cli("policy", "apply", str(policy), "--tenant", "acme", "--group", "wrApp")
    say(client, peer, "wrApp", "@群规助手 网赌一", "m1", at=NOW)
    say(client, peer, "wrApp", "@群规助手 网赌二", "m2", at=NOW + 60)
    [action] = [item for item in outbox() if item.channel == "appchat_action"]
    assert action.to == "wrApp"

    fake = FakeWeCom(clock=clock).start()
    try:
        fake.add_app(CORP_ID, "app-secret")
        fake.add_appchat("wrApp", "测试群", "owner1", ["owner1", "lisi", "wangwu"])
        sender = PlatformSender(wecom_base=fake.base_url, clock=clock, sleep=lambda _: None)
        Deliverer(directory, sender, clock, rng=random.Random(5)).run(NOW + 120)
        [update] = fake.requests("/cgi-bin/appchat/update")
        assert update.body["del_user_list"] == ["lisi"]
        assert "lisi" not in fake.appchats["wrApp"]["userlist"]
    finally:
        fake.stop()

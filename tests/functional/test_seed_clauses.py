"""The seed rulebooks' content clauses, each through signed group messages → Events → decisions → ledger/outbox,
with the seed's own policy applied to the group as an override of the tenant default."""

from __future__ import annotations

import json

import pytest
from conftest import NOW
from oracle import bot_text

from chalicelib.policies import POLICY_DIR
from chalicelib.store.models import LedgerEntry, OutboxItem
from qungui_cli.main import main as qungui


def cli(*args: str) -> None:
    assert qungui(["--stage", "dev", *args]) == 0


def enrol(chat: str, kind: str, seed: str | None = None, owner: str = "owner1") -> None:
    cli("group", "add", chat, "--tenant", "acme", "--kind", kind, "--name", f"{seed or kind}群", "--owner", owner)
    if seed:
        cli("policy", "apply", str(POLICY_DIR / f"{seed}.yaml"), "--tenant", "acme", "--group", chat)


def say(client, peer, chat: str, text: str, msg_id: str, sender: str = "lisi", at: int = NOW) -> None:
    call = peer.bot_post(bot_text(sender, text, msg_id, chat_id=chat), timestamp=at)
    assert client.http.post(call.path, body=call.body).status_code == 200


def entries(chat: str) -> list[tuple[str, str, str]]:
    found = LedgerEntry.query("T#acme", LedgerEntry.sk.startswith("LEDGER#"), consistent_read=True)
    return sorted((e.rule, e.kind, e.clause[:6]) for e in found if e.group == chat)


def messages() -> list[tuple[str, str]]:
    items = OutboxItem.query("T#acme", OutboxItem.sk.startswith("OUT#"), consistent_read=True)
    return [(item.to, json.loads(item.payload)[json.loads(item.payload)["msgtype"]]["content"]) for item in items]


def test_pian1_3_5_harmful_content_is_a_serious_warning_and_admins_are_told(client, tenant, peer):
    enrol("wrArt", "customer", "art_elite")
    say(client, peer, "wrArt", "@群规助手 澳门赌场上线了，点我", "m1")
    assert entries("wrArt") == [("content.harmful", "warning", "严禁在群内发")]
    sent = dict(messages())
    assert "已记严重警告一次" in sent["lisi"]
    assert "【群规 篇一 三(5)】" in sent["lisi"]
    assert {"boss", "deputy", "owner1"} <= set(sent)  # tenant admins and the group owner


def test_pian1_3_3_religion_is_warned(client, tenant, peer):
    enrol("wrArt", "customer", "art_elite")
    say(client, peer, "wrArt", "@群规助手 法轮大法好", "m1")
    assert [rule for rule, _, _ in entries("wrArt")] == ["content.illegal"]


def test_pian1_3_4_secrets_count_only_where_outsiders_read_and_leaders_are_exempt(client, tenant, peer):
    enrol("wrArt", "customer", "art_elite")
    enrol("wrInternal", "internal", "art_elite")
    say(client, peer, "wrInternal", "@群规助手 这是内部资料，请勿外传", "m1")
    say(client, peer, "wrArt", "@群规助手 这是内部资料，请勿外传", "m2", sender="owner1")  # the group owner
    assert entries("wrInternal") == []
    assert entries("wrArt") == []
    say(client, peer, "wrArt", "@群规助手 这是内部资料，请勿外传", "m3")
    assert [(rule, kind) for rule, kind, _ in entries("wrArt")] == [("content.confidential", "warning")]


def test_pian1_4_4_insults_climb_from_a_reminder_to_a_warning(client, tenant, peer):
    enrol("wrArt", "customer", "art_elite")
    say(client, peer, "wrArt", "@群规助手 你个傻逼", "m1", at=NOW)
    assert entries("wrArt") == []  # first offence: a reminder only
    assert any("过激" in text for to, text in messages() if to == "lisi")
    say(client, peer, "wrArt", "@群规助手 傻逼东西", "m2", at=NOW + 60)  # the ladder counts the reminded offence
    assert [(rule, kind) for rule, kind, _ in entries("wrArt")] == [("content.insults", "warning")]


def test_pian2_3_6_defamation_and_ads_are_warned_with_an_alert(client, tenant, peer):
    enrol("wrJiu", "internal", "jiushen")
    say(client, peer, "wrJiu", "@群规助手 这就是个垃圾公司", "m1")
    say(client, peer, "wrJiu", "@群规助手 代开发票，加微信详聊", "m2")
    assert {rule for rule, _, _ in entries("wrJiu")} == {"content.defamation", "content.ads"}
    assert any("篇二 3.6" in text for to, text in messages() if to == "boss")


def test_pian3_8_politics_and_gambling_are_warned(client, tenant, peer):
    enrol("wrClass", "customer", "classmates_575")
    say(client, peer, "wrClass", "@群规助手 一起去赌博吧", "m1")
    assert entries("wrClass") == [("content.harmful", "warning", "交流内容：此")]


def test_pian4_3_4_the_penalty_is_a_red_packet_an_admin_confirms(client, tenant, peer):
    enrol("wrAnhui", "customer", "anhui_chamber")
    say(client, peer, "wrAnhui", "@群规助手 加我看色情视频", "m1")
    [(rule, kind, _)] = entries("wrAnhui")
    assert (rule, kind) == ("content.harmful", "red_packet")
    [entry] = [e for e in LedgerEntry.query("T#acme", LedgerEntry.sk.startswith("LEDGER#")) if e.group == "wrAnhui"]
    assert entry.status == "active"  # awaiting an admin's 确认
    admin_alert = next(text for to, text in messages() if to == "boss")
    assert "需发群红包（待管理员确认）" in admin_alert


@pytest.mark.parametrize("govern", ["listed"])
def test_a_listed_tenant_governs_only_enrolled_groups(client, tenant, peer, directory, govern):
    cli("tenant", "add", "acme", "--govern", govern)
    directory.forget("acme")
    say(client, peer, "wrStranger", "@群规助手 网赌了解一下", "m1")
    enrol("wrKnown", "customer")
    say(client, peer, "wrKnown", "@群规助手 网赌了解一下", "m2")
    assert entries("wrStranger") == []
    assert [rule for rule, _, _ in entries("wrKnown")] == ["content.harmful"]


def test_before_the_rulebooks_effective_date_rules_only_shadow(client, tenant, peer, tmp_path):
    source = (POLICY_DIR / "art_elite.yaml").read_text(encoding="utf-8")
    later = tmp_path / "art_elite_2027.yaml"
    later.write_text(source.replace("effective: 2026-01-01", "effective: 2027-01-01"), encoding="utf-8")
    assert "effective: 2027-01-01" in later.read_text(encoding="utf-8")
    cli("group", "add", "wrArt", "--tenant", "acme", "--kind", "customer")
    cli("policy", "apply", str(later), "--tenant", "acme", "--group", "wrArt")
    say(client, peer, "wrArt", "@群规助手 澳门赌场上线了", "m1")  # NOW is 2026-09-21
    assert [kind for _, kind, _ in entries("wrArt")] == ["shadow"]
    assert [to for to, _ in messages()] == []


def test_pian2_3_4_secrets_in_a_customer_group_warn_and_alert(client, tenant, peer):
    enrol("wrJiuCustomer", "customer", "jiushen")
    say(client, peer, "wrJiuCustomer", "@群规助手 机密文件发大家看看", "m1")
    assert [(rule, kind) for rule, kind, _ in entries("wrJiuCustomer")] == [("content.confidential", "warning")]
    assert any("篇二 3.4" in text for to, text in messages() if to == "boss")


def test_pian4_3_4_insults_cost_a_red_packet_too(client, tenant, peer):
    enrol("wrAnhui", "customer", "anhui_chamber")
    say(client, peer, "wrAnhui", "@群规助手 你个傻逼", "m1")
    assert [(rule, kind) for rule, kind, _ in entries("wrAnhui")] == [("content.insults", "red_packet")]

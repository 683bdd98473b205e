"""Commands end to end: signed callbacks over the app chat, the bot and the Official Account → the real routes →
decisions → ledger, outbox and audit items; answers read back by an independent peer. Tenant "acme" has the admins
"boss" and "deputy"."""

from __future__ import annotations

import itertools
import json
import re

import pytest
from conftest import NOW
from oracle import app_text, bot_text, mp_text

from chalicelib.store.models import AuditRecord, LedgerEntry, OutboxItem
from chalicelib.texts import commands as texts
from chalicelib.texts.citations import cite
from qungui_cli.main import main as qungui

_ids = itertools.count(5000)


def cli(*args: str) -> int:
    return qungui(["--stage", "dev", *args])


def app(client, peer, sender: str, text: str, msg_id: int | None = None) -> str:
    """A message to the app's 1:1 chat; the decrypted passive reply."""
    call = peer.app_post(app_text(sender, text, NOW, msg_id or next(_ids)), timestamp=NOW, nonce="4242")
    response = client.http.post(call.path, headers={"Content-Type": "text/xml"}, body=call.body)
    assert response.status_code == 200, response.body
    return peer.open_app_reply(response.body.decode(), timestamp=NOW, nonce="4242")["Content"]


def bot(client, peer, sender: str, text: str, msg_id: str | None = None, chat: str | None = None) -> str | None:
    """A message to the bot, 1:1 or (with `chat`) an @-mention in a group; the reply's content, if any."""
    call = peer.bot_post(bot_text(sender, text, msg_id or f"b{next(_ids)}", chat_id=chat), timestamp=NOW, nonce="77")
    response = client.http.post(call.path, headers={"Content-Type": "application/json"}, body=call.body)
    assert response.status_code == 200, response.body
    if not response.body:
        return None
    return str(peer.open_bot_reply(response.body.decode(), nonce="77")["stream"]["content"])


def mp(client, peer, openid: str, text: str) -> str:
    """A message to the Official Account (safe mode); the decrypted passive reply."""
    call = peer.mp_post_safe(mp_text(openid, text, NOW, next(_ids)), NOW)
    response = client.http.post(call.path, headers={"Content-Type": "text/xml"}, body=call.body)
    assert response.status_code == 200, response.body
    return peer.open_mp_reply(response.body.decode())["Content"]


def gamble(client, peer, sender: str = "lisi", msg_id: str = "m-gamble") -> LedgerEntry:
    """A gambling message in a bot group chat: the shipped default warns (篇一 三(5))."""
    bot(client, peer, sender, "@群规助手 新开的菠菜网站，首充送彩金", msg_id, chat="wrSales")
    [warning] = [e for e in ledger() if e.evidence == msg_id and e.kind == "warning"]
    return warning


def ledger() -> list[LedgerEntry]:
    return list(LedgerEntry.query("T#acme", LedgerEntry.sk.startswith("LEDGER#"), consistent_read=True))


def ledger_json(capsys) -> list[dict[str, object]]:
    capsys.readouterr()
    assert cli("ledger", "--tenant", "acme", "--json") == 0
    return list(json.loads(capsys.readouterr().out))


def audits() -> list[AuditRecord]:
    return list(AuditRecord.query("T#acme", AuditRecord.sk.startswith("AUDIT#"), consistent_read=True))


def outbox_to(member: str) -> list[str]:
    items = OutboxItem.query("T#acme", OutboxItem.sk.startswith("OUT#"), consistent_read=True)
    return [json.loads(item.payload)["text"]["content"] for item in items if item.to == member]


# ---- members ----


def test_a_members_records_after_a_moderation_warning(client, tenant, peer):
    warning = gamble(client, peer)
    text = app(client, peer, "lisi", "我的记录")
    assert "共1条" in text
    assert warning.entry_id in text
    assert "警告一次【群规 篇一 三(5)】—— 有效" in text
    assert "2026-09-21 22:13" in text


def test_why_names_the_clause_the_record_and_the_message(client, tenant, peer):
    warning = gamble(client, peer)
    text = app(client, peer, "lisi", "为什么？")
    assert warning.entry_id in text
    assert f"【群规 篇一 三(5)】{warning.clause}" in text
    assert f"“{warning.excerpt}”" in text
    assert "复核" in text


def test_members_never_see_shadow_entries_admins_do(client, tenant, peer):
    bot(client, peer, "lisi", "@群规助手 你就是个傻逼", "m-insult", chat="wrSales")  # default: insults in shadow mode
    [shadow] = ledger()
    assert shadow.kind == "shadow"
    assert app(client, peer, "lisi", "我的记录") == texts.my_records([], total=0, owed=0)
    assert app(client, peer, "lisi", "为什么") == texts.WHY_NOTHING
    records = app(client, peer, "boss", "记录 @lisi")
    assert shadow.entry_id in records
    assert "未通知成员" in records
    report = app(client, peer, "deputy", "影子报告")
    assert "content.insults【群规 篇三 8】1次" in report


def test_the_rulebook_and_one_clause(client, tenant, peer):
    rules = app(client, peer, "lisi", "群规")
    assert "【群规 篇一 三(5)】" in rules
    assert "【群规 篇三 1】" in rules
    assert app(client, peer, "lisi", "群规 篇二 3.2") == cite("2.3.2")
    assert app(client, peer, "lisi", "群规 2.3.2") == cite("2.3.2")


@pytest.mark.parametrize("command", ["群规 篇二 3.2", "群规", "我的记录", "为什么", "帮助"])
def test_the_same_command_gets_the_same_answer_over_app_bot_and_official_account(client, tenant, peer, command):
    gamble(client, peer)
    # The Official Account knows a follower by OpenID; here the follower's OpenID is the same string as the UserID,
    # so that the three channels ask about one person.
    answers = {
        app(client, peer, "lisi", command),
        bot(client, peer, "lisi", command),
        mp(client, peer, "lisi", command),
    }
    assert len(answers) == 1


def test_personal_answers_asked_in_a_group_point_to_the_private_chat(client, tenant, peer):
    gamble(client, peer)
    assert bot(client, peer, "lisi", "@群规助手 我的记录", chat="wrSales") == texts.private_only("我的记录")
    assert bot(client, peer, "boss", "@群规助手 记录 @lisi", chat="wrSales") == texts.ADMIN_PRIVATE_ONLY


# ---- admins ----


def test_a_waiver_shows_in_the_members_records_and_in_the_ledger(client, tenant, peer, capsys):
    warning = gamble(client, peer)
    answer = app(client, peer, "boss", f"豁免 {warning.entry_id} 误判，已核实")
    assert answer.startswith(f"已豁免 lisi 的警告（编号 {warning.entry_id}）")
    assert "已豁免" in app(client, peer, "lisi", "我的记录")
    entries = {entry["id"]: entry for entry in ledger_json(capsys)}
    assert entries[warning.entry_id]["status"] == "waived"
    [waiver] = [entry for entry in entries.values() if entry["kind"] == "waiver"]
    assert waiver["ref"] == warning.entry_id
    assert (waiver["member"], waiver["status"], waiver["rule"]) == ("lisi", "waived", "content.harmful")
    assert str(waiver["id"]) in answer
    assert [(a.actor, a.action) for a in audits()] == [("boss", f"豁免 {warning.entry_id}")]


def test_a_replayed_admin_command_settles_once(client, tenant, peer):
    warning = gamble(client, peer)
    first = app(client, peer, "boss", f"豁免 {warning.entry_id} 误判", msg_id=9001)
    again = app(client, peer, "boss", f"豁免 {warning.entry_id} 误判", msg_id=9001)  # WeCom's retry
    assert first == again
    assert [e.kind for e in ledger()].count("waiver") == 1
    assert len(audits()) == 1
    retyped = app(client, peer, "deputy", f"豁免 {warning.entry_id} 误判")  # a second admin, a new message
    assert retyped == texts.cannot_settle("豁免", warning.entry_id, "waived")
    assert [e.kind for e in ledger()].count("waiver") == 1


SHIRKING_POLICY = """\
schema_version: 1
id: sales
version: "3"
rules:
  - id: manual.shirking
    kind: manual
    clause: "1.4.5"
    amount: 100
    confirm: admin
    actions: [fine]
"""


def test_a_manual_warning_then_confirm_then_paid(client, tenant, peer, tmp_path, directory, capsys):
    policy = tmp_path / "sales.yaml"
    policy.write_text(SHIRKING_POLICY, encoding="utf-8")
    assert cli("policy", "apply", str(policy), "--tenant", "acme") == 0
    directory.forget("acme")

    answer = app(client, peer, "boss", "警告 @wangwu 篇一 四(5) 截图举报：推诿客户投诉")
    warning, fine = sorted(ledger(), key=lambda e: e.kind != "warning")
    assert (warning.kind, warning.member, warning.evidence, warning.excerpt) == (
        "warning", "wangwu", "manual:boss", "截图举报：推诿客户投诉",
    )  # fmt: skip
    assert warning.clause.startswith("正确对待群里不能及时解决的问题")
    assert (fine.kind, fine.amount, fine.status, fine.policy_version) == ("fine", 100, "active", "3")
    assert warning.entry_id in answer
    assert f"确认 {fine.entry_id}" in answer
    [told] = outbox_to("wangwu")
    assert "管理员根据群规对您记警告一次" in told
    assert "【群规 篇一 四(5)】" in told

    early = app(client, peer, "boss", f"已缴 {fine.entry_id}")
    assert early == texts.cannot_settle("已缴", fine.entry_id, "not_confirmed")

    confirmed = app(client, peer, "boss", f"确认 {fine.entry_id}")
    assert confirmed == texts.confirmed(member="wangwu", kind="fine", amount=100, entry_id=fine.entry_id)
    reminders = outbox_to("wangwu")
    assert len(reminders) == 2
    assert any("罚款100元" in text and "已由管理员确认" in text for text in reminders)
    assert "待缴纳" in app(client, peer, "wangwu", "我的记录")

    paid = app(client, peer, "deputy", f"已缴 {fine.entry_id} 微信转账")
    assert paid.startswith(f"已登记 wangwu 的罚款100元已缴纳（编号 {fine.entry_id}）")
    assert "已缴纳" in app(client, peer, "wangwu", "我的记录")
    entries = ledger_json(capsys)
    [payment] = [entry for entry in entries if entry["kind"] == "payment"]
    assert (payment["ref"], payment["amount"], payment["status"]) == (fine.entry_id, 100, "paid")
    assert {entry["id"]: entry["status"] for entry in entries}[fine.entry_id] == "paid"
    assert app(client, peer, "boss", f"已缴 {fine.entry_id}") == texts.cannot_settle("已缴", fine.entry_id, "paid")
    actions = sorted(a.action for a in audits())
    assert actions == sorted(["警告 @wangwu", f"已缴 {fine.entry_id}", f"确认 {fine.entry_id}",
                              f"已缴 {fine.entry_id}", f"已缴 {fine.entry_id}"])  # fmt: skip


def test_admin_commands_from_a_member_are_refused_and_audited(client, tenant, peer):
    warning = gamble(client, peer)
    answer = app(client, peer, "lisi", f"豁免 {warning.entry_id} 我没错")
    assert answer == texts.refusal("豁免")
    [audit] = audits()
    assert (audit.actor, audit.action, audit.at) == ("lisi", "refused:豁免", NOW)
    assert re.search(warning.entry_id, audit.detail)
    assert [e.status for e in ledger()] == ["active"]
    assert bot(client, peer, "lisi", "影子报告") == texts.refusal("影子报告")
    assert sorted(a.action for a in audits()) == ["refused:影子报告", "refused:豁免"]


def test_an_unknown_id_is_answered_clearly(client, tenant, peer):
    assert app(client, peer, "boss", "确认 LNOSUCH22") == texts.unknown_entry("LNOSUCH22")
    assert ledger() == []

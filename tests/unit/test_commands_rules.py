"""The commands as pure rules: a hand-built Context whose ledger reads are in-memory LedgerEntry objects."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path

import pytest

from chalicelib.decisions import (
    Audit,
    Decision,
    RecordActivity,
    RecordLedger,
    RecordOffence,
    RemindMember,
    ReplyToMember,
    SettleLedger,
)
from chalicelib.events import Channel, MemberJoined, MessagePosted
from chalicelib.rules import commands, compiled, engine
from chalicelib.rules.compiled import CompiledPolicy, CompiledRule
from chalicelib.rules.context import Context
from chalicelib.store.models import LedgerEntry
from chalicelib.texts import commands as texts
from chalicelib.texts.citations import cite, clause_text

NOW = 1_790_000_000  # 2026-09-21 22:13 in Asia/Shanghai
DAY = 86400
HARMFUL = "严禁在群内发布色情、赌博、病毒链接。"


def entry(
    entry_id: str,
    kind: str = "warning",
    *,
    member: str = "lisi",
    status: str = "active",
    at: int = NOW - DAY,
    rule: str = "content.harmful",
    amount: float | None = None,
    excerpt: str | None = "新开的菠菜网站，首充送彩金",
    ref: str | None = None,
    evidence: str = "m1",
) -> LedgerEntry:
    return LedgerEntry(
        "T#acme",
        f"LEDGER#{at:012d}#{entry_id}",
        entry_id=entry_id,
        kind=kind,
        member=member,
        group="wrSales",
        rule=rule,
        clause=HARMFUL,
        amount=amount,
        status=status,
        ref=ref,
        evidence=evidence,
        excerpt=excerpt,
        policy_version="1",
        at=at,
    )


class Ledger:
    """The three reads a Context offers, over a list; remembers what was asked."""

    def __init__(self, entries: Sequence[LedgerEntry] = ()) -> None:
        self.entries = list(entries)
        self.since_asked: list[int] = []

    def of_member(self, member: str) -> list[LedgerEntry]:
        return [e for e in self.entries if e.member == member]

    def since(self, start: int) -> list[LedgerEntry]:
        self.since_asked.append(start)
        return [e for e in self.entries if e.at >= start]

    def by_id(self, entry_id: str) -> LedgerEntry | None:
        return next((e for e in self.entries if e.entry_id == entry_id), None)


def context(ledger: Ledger | None = None, policy: str = "default", offences: int = 0) -> Context:
    ledger = ledger or Ledger()
    return Context(
        policy=compiled.shipped(policy),
        admins=("boss", "deputy"),
        prior_offences=lambda member, rule: offences,
        member_ledger=ledger.of_member,
        ledger_since=ledger.since,
        ledger_entry=ledger.by_id,
    )


def message(
    text: str, sender: str = "lisi", chat: str | None = None, channel: Channel = Channel.APP, event_id: str = "e1"
) -> MessagePosted:
    return MessagePosted(
        tenant="acme", channel=channel, event_id=event_id, at=NOW, sender=sender, chat_id=chat, msg_type="text",
        text=text,
    )  # fmt: skip


def run(text: str, ctx: Context, sender: str = "lisi", chat: str | None = None) -> list[Decision]:
    return commands.decide(message(text, sender, chat), ctx)


def reply_of(decisions: Sequence[Decision]) -> str:
    [reply] = [d for d in decisions if isinstance(d, ReplyToMember)]
    return reply.text


def only(decisions: Sequence[Decision], kind: type[Decision]) -> list[Decision]:
    return [d for d in decisions if isinstance(d, kind)]


# ---- members ----


def test_rule_list_names_every_clause_of_the_policy_once_with_its_label():
    text = reply_of(run("群规", context(policy="jiushen")))
    assert text.count("【群规 篇二 3.6】") == 1  # five rules of 酒神 cite 3.6: one line
    for label in ("篇二 3.1", "篇二 3.3", "篇二 3.4", "篇二 3.5", "篇二 3.7"):
        assert f"【群规 {label}】" in text


@pytest.mark.parametrize("policy", ["default", "art_elite", "jiushen", "classmates_575", "anhui_chamber"])
def test_rule_list_fits_a_passive_reply(policy):
    assert len(reply_of(run("群规", context(policy=policy))).encode()) <= 2048


@pytest.mark.parametrize("reference", ["篇二 3.2", "2.3.2", "篇二3.2"])
def test_one_clause_is_quoted_through_cite(reference):
    decisions = run(f"群规 {reference}", context(policy="jiushen"))
    assert reply_of(decisions) == cite("2.3.2")
    assert only(decisions, ReplyToMember)[0].clause == "2.3.2"


def test_any_seed_clause_can_be_looked_up_and_a_tenants_own_clause_quotes_the_policy():
    assert reply_of(run("群规 篇三 9", context())) == cite("3.9")
    policy = compiled.shipped("default")
    own = CompiledRule(
        id="acme.late", kind="manual", clause="acme.3", quote="迟到三次记警告。", mode="enforce", ladder=()
    )
    ctx = Context(policy=CompiledPolicy(id="acme", version="7", rules=(*policy.rules, own)), admins=())
    assert reply_of(run("群规 acme.3", ctx)) == "【群规 acme.3】迟到三次记警告。"


def test_an_unknown_clause_is_answered_with_how_to_write_one():
    assert reply_of(run("群规 9.9", context())) == texts.clause_not_found("9.9")


def test_my_records_hides_shadow_entries_and_shows_settled_status():
    ledger = Ledger([
        entry("LWARN0001", at=NOW - 3 * DAY, status="waived"),
        entry("LWAIVE001", "waiver", status="waived", ref="LWARN0001", at=NOW - 2 * DAY, evidence="boss: 误判"),
        entry("LFINE0001", "fine", amount=100, status="owed", at=NOW - DAY),
        entry("LFINE0002", "fine", amount=50, status="active", at=NOW - 3600),
        entry("LSHADOW01", "shadow", rule="content.insults", at=NOW - 60, excerpt="你就是个傻逼"),
        entry("LOTHER001", member="wangwu"),
    ])  # fmt: skip
    text = reply_of(run("我的记录", context(ledger)))
    assert "共3条" in text
    assert "LSHADOW01" not in text
    assert "傻逼" not in text
    assert "LWAIVE001" not in text
    assert "LOTHER001" not in text
    assert "警告一次【群规 篇一 三(5)】—— 已豁免" in text
    assert "罚款100元【群规 篇一 三(5)】—— 待缴纳" in text
    assert "罚款50元【群规 篇一 三(5)】—— 待管理员确认" in text
    assert "罚款待缴纳合计：100元" in text
    assert text.index("LFINE0002") < text.index("LFINE0001") < text.index("LWARN0001")  # newest first
    assert "2026-09-21 21:13" in text  # the tenant's local time


def test_my_records_when_there_are_none():
    assert reply_of(run("我的记录", context())) == texts.my_records([], total=0, owed=0)


def test_my_records_lists_the_latest_ten_and_says_how_many_more():
    ledger = Ledger([entry(f"LENTRY{n:03d}", at=NOW - n * 60) for n in range(14)])
    text = reply_of(run("我的记录", context(ledger)))
    assert "共14条" in text
    assert "另有4条" in text
    assert len(text.encode()) <= 2048


def test_why_explains_the_latest_entry_the_member_may_see():
    ledger = Ledger([
        entry("LOLDER001", at=NOW - 2 * DAY),
        entry("LNEWER001", at=NOW - 600, excerpt="网赌了解一下"),
        entry("LSHADOW01", "shadow", rule="content.insults", at=NOW - 60),
    ])  # fmt: skip
    decisions = run("为什么", context(ledger))
    text = reply_of(decisions)
    assert "LNEWER001" in text
    assert "LSHADOW01" not in text
    assert f"【群规 篇一 三(5)】{HARMFUL}" in text  # the clause text as decided
    assert "“网赌了解一下”" in text
    assert "复核" in text
    assert only(decisions, ReplyToMember)[0].clause == "1.3.5"


def test_why_of_a_manual_warning_shows_the_admins_note():
    ledger = Ledger([entry("LMANUAL01", rule="manual:2.3.2", excerpt="群昵称不是实名", evidence="manual:boss")])
    text = reply_of(run("为什么", context(ledger)))
    assert "管理员说明：群昵称不是实名" in text
    assert "【群规 篇二 3.2】" in text


def test_why_with_nothing_recorded():
    assert reply_of(run("为什么", context())) == texts.WHY_NOTHING


def test_help_for_members_and_for_admins():
    assert reply_of(run("帮助", context())) == texts.HELP
    assert reply_of(run("帮助", context(), sender="boss")) == texts.HELP + "\n\n" + texts.ADMIN_HELP
    assert reply_of(run("随便说点什么", context())) == texts.HELP


def test_nickname_and_mute_answers_are_unchanged():
    assert reply_of(run("改昵称", context())) == texts.NICKNAME
    assert reply_of(run("免打扰", context())) == texts.MUTE


@pytest.mark.parametrize("text", ["同意", "同意。", "同意！", "同意群规", "同意遵守群规", "同意 我会遵守"])
def test_a_member_accepts_the_rules_with_a_thank_you_and_an_audit_entry(text):
    decisions = run(text, context(policy="classmates_575"))
    assert reply_of(decisions) == texts.ACCEPTED
    [audit] = only(decisions, Audit)
    assert audit == Audit(actor="lisi", action="accepted rules", detail="1:1 classmates_575@1", at=NOW)


def test_accepting_in_a_group_names_the_group():
    decisions = run("同意", context(), chat="wrClass")
    [audit] = only(decisions, Audit)
    assert audit.detail == "wrClass default@1"
    assert only(decisions, RecordActivity)


@pytest.mark.parametrize("text", ["同意吗", "同意你的看法", "收到"])
def test_talk_that_starts_like_accepting_is_not_accepting(text):
    # 收到 stays an acknowledgement (ack_terms): it is never taken as accepting the rules.
    decisions = run(text, context())
    assert reply_of(decisions) == texts.HELP
    assert not only(decisions, Audit)


# ---- where and by whom ----


def test_personal_answers_never_go_into_a_group():
    ledger = Ledger([entry("LWARN0001")])
    decisions = run("我的记录", context(ledger), chat="wrSales")
    assert reply_of(decisions) == texts.private_only("我的记录")
    assert only(decisions, RecordActivity)


def test_admin_commands_in_a_group_do_nothing_but_point_to_the_private_chat():
    ledger = Ledger([entry("LWARN0001")])
    decisions = run("豁免 LWARN0001 误判", context(ledger), sender="boss", chat="wrSales")
    assert reply_of(decisions) == texts.ADMIN_PRIVATE_ONLY
    assert not only(decisions, SettleLedger)


@pytest.mark.parametrize("text", ["豁免 LWARN0001 误判", "记录 @wangwu", "影子报告", "警告 @wangwu 1.3.5 x", "确认"])
def test_admin_commands_from_members_are_refused_politely_and_audited(text):
    ledger = Ledger([entry("LWARN0001")])
    decisions = run(text, context(ledger), sender="lisi")
    command = text.split()[0]
    assert reply_of(decisions) == texts.refusal(command)
    [audit] = only(decisions, Audit)
    assert (audit.actor, audit.action, audit.at) == ("lisi", f"refused:{command}", NOW)
    assert not only(decisions, SettleLedger)
    assert not only(decisions, RecordLedger)


def test_archive_messages_are_group_talk_and_never_answered():
    event = message("我的记录", chat="wrSales", channel=Channel.ARCHIVE)
    assert commands.decide(event, context()) == [RecordActivity(chat_id="wrSales", member="lisi", at=NOW)]


def test_ungoverned_groups_record_no_activity():
    ctx = Context(policy=compiled.shipped("default"), admins=(), governed=False)
    assert not only(run("帮助", ctx, chat="wrOther"), RecordActivity)


def test_events_that_are_not_messages_get_nothing():
    event = MemberJoined(tenant="acme", channel=Channel.APP, event_id="j", at=NOW, sender="sys", chat_id="c",
                         members=("a",))  # fmt: skip
    assert commands.decide(event, None) == []


def test_without_a_context_members_still_get_answers():
    assert reply_of(commands.decide(message("群规"), None)).startswith("本群群规")
    assert reply_of(commands.decide(message("豁免 LWARN0001 x", sender="boss"), None)) == texts.refusal("豁免")


# ---- admins: 记录 ----


def test_admin_records_include_shadow_entries_settlements_and_ids():
    ledger = Ledger([
        entry("LWARN0001", status="waived", at=NOW - 2 * DAY),
        entry("LWAIVE001", "waiver", status="waived", ref="LWARN0001", at=NOW - DAY, evidence="boss: 误判"),
        entry("LSHADOW01", "shadow", rule="content.insults", at=NOW - 60, excerpt="你就是个傻逼"),
    ])  # fmt: skip
    decisions = run("记录 @lisi", context(ledger), sender="boss")
    text = reply_of(decisions)
    for entry_id in ("LWARN0001", "LWAIVE001", "LSHADOW01"):
        assert entry_id in text
    assert "豁免 → LWARN0001（boss: 误判）" in text
    assert "影子记录【群规 篇三 8】（未通知成员）" in text
    [audit] = only(decisions, Audit)
    assert (audit.actor, audit.action) == ("boss", "记录 @lisi")


def test_admin_records_of_nobody_and_without_a_mention():
    assert reply_of(run("记录 @nobody", context(), sender="boss")) == texts.admin_records("nobody", [], total=0)
    assert reply_of(run("记录", context(), sender="boss")) == texts.usage("记录 @zhangsan")


def test_admin_records_fit_a_passive_reply():
    ledger = Ledger([entry(f"LENTRY{n:03d}", "fine", amount=100, at=NOW - n) for n in range(20)])
    assert len(reply_of(run("记录 @lisi", context(ledger), sender="boss")).encode()) <= 2048


# ---- admins: 豁免 / 确认 / 已缴 ----


def test_waiver_settles_an_active_warning_with_a_new_entry():
    ledger = Ledger([entry("LWARN0001")])
    decisions = run("豁免 LWARN0001 误判，已核实", context(ledger), sender="boss")
    [settle] = only(decisions, SettleLedger)
    assert isinstance(settle, SettleLedger)
    assert (settle.settles, settle.settles_at, settle.new_status, settle.from_status) == (
        "LWARN0001", NOW - DAY, "waived", ("active", "owed"),
    )  # fmt: skip
    assert (settle.entry_kind, settle.by, settle.reason, settle.member, settle.rule) == (
        "waiver", "boss", "误判，已核实", "lisi", "content.harmful",
    )  # fmt: skip
    assert settle.entry_id.startswith("L")
    assert (settle.clause_text, settle.group, settle.at, settle.clause) == (HARMFUL, "wrSales", NOW, "1.3.5")
    assert reply_of(decisions) == texts.waived(
        member="lisi", kind="warning", amount=None, entry_id="LWARN0001", reason="误判，已核实", new_id=settle.entry_id
    )
    [audit] = only(decisions, Audit)
    assert audit.action == "豁免 LWARN0001"


def test_the_same_command_plans_the_same_waiver_id():
    ledger = Ledger([entry("LWARN0001")])
    first = only(run("豁免 LWARN0001 误判", context(ledger), sender="boss"), SettleLedger)
    second = only(run("豁免 LWARN0001 误判", context(ledger), sender="boss"), SettleLedger)
    assert first == second


def test_waiver_of_an_owed_fine_and_its_amount():
    ledger = Ledger([entry("LFINE0001", "fine", amount=100, status="owed")])
    [settle] = only(run("豁免 LFINE0001 初犯", context(ledger), sender="deputy"), SettleLedger)
    assert isinstance(settle, SettleLedger)
    assert (settle.amount, settle.new_status, settle.by) == (100, "waived", "deputy")


@pytest.mark.parametrize(
    ("command", "stored", "reason"),
    [
        ("豁免 LX0000001 x", entry("LX0000001", status="waived"), "waived"),
        ("豁免 LX0000001 x", entry("LX0000001", status="reversed"), "reversed"),
        ("豁免 LX0000001 x", entry("LX0000001", "fine", amount=100, status="paid"), "paid"),
        ("豁免 LX0000001 x", entry("LX0000001", "shadow"), "shadow"),
        ("豁免 LX0000001 x", entry("LX0000001", "waiver", status="waived", ref="LY"), "settlement"),
        ("已缴 LX0000001", entry("LX0000001", "fine", amount=100), "not_confirmed"),
        ("已缴 LX0000001", entry("LX0000001"), "warning_money"),
        ("已缴 LX0000001", entry("LX0000001", "fine", amount=100, status="paid"), "paid"),
        ("确认 LX0000001", entry("LX0000001"), "warning_money"),
        ("确认 LX0000001", entry("LX0000001", "fine", amount=100, status="owed"), "already_owed"),
        ("确认 LX0000001", entry("LX0000001", "red_packet", status="waived"), "waived"),
    ],
)
def test_entries_that_cannot_be_settled_are_explained(command, stored, reason):
    decisions = run(command, context(Ledger([stored])), sender="boss")
    assert reply_of(decisions) == texts.cannot_settle(command.split()[0], "LX0000001", reason)
    assert not only(decisions, SettleLedger)
    [audit] = only(decisions, Audit)
    assert reason in audit.detail


def test_unknown_ids_and_missing_arguments():
    assert reply_of(run("豁免 LNOSUCH01 x", context(), sender="boss")) == texts.unknown_entry("LNOSUCH01")
    assert "豁免 LABCDEFGH 原因" in reply_of(run("豁免", context(), sender="boss"))
    ledger = Ledger([entry("LWARN0001")])
    assert "原因" in reply_of(run("豁免 LWARN0001", context(ledger), sender="boss"))
    assert not only(run("豁免 LWARN0001", context(ledger), sender="boss"), SettleLedger)


def test_confirm_makes_a_fine_owed_without_a_new_entry_and_reminds_the_member():
    ledger = Ledger([entry("LFINE0001", "fine", amount=100)])
    decisions = run("确认 LFINE0001", context(ledger), sender="boss")
    [settle] = only(decisions, SettleLedger)
    assert isinstance(settle, SettleLedger)
    assert (settle.new_status, settle.from_status, settle.entry_kind) == ("owed", ("active",), None)
    [remind] = only(decisions, RemindMember)
    assert isinstance(remind, RemindMember)
    assert (remind.member, remind.clause, remind.ref) == ("lisi", "1.3.5", "LFINE0001")
    assert "罚款100元" in remind.what
    assert "提醒" in reply_of(decisions)


def test_paid_settles_an_owed_fine_with_a_payment_entry():
    ledger = Ledger([entry("LFINE0001", "fine", amount=100, status="owed")])
    decisions = run("已缴 LFINE0001 微信转账", context(ledger), sender="boss")
    [settle] = only(decisions, SettleLedger)
    assert isinstance(settle, SettleLedger)
    assert (settle.new_status, settle.from_status, settle.entry_kind, settle.reason) == (
        "paid", ("owed",), "payment", "微信转账",
    )  # fmt: skip


# ---- admins: 警告 ----


def test_manual_warning_records_the_clause_text_the_note_and_reminds_the_member():
    note = "截图举报：在销售群里发了赌博网站链接，" + "详" * 80
    decisions = run(f"警告 @wangwu 篇一 三(5) {note}", context(), sender="boss")
    [record] = only(decisions, RecordLedger)
    assert isinstance(record, RecordLedger)
    assert (record.entry_kind, record.member, record.rule, record.status) == (
        "warning", "wangwu", "content.harmful", "active",
    )  # fmt: skip
    assert record.clause_text == clause_text("1.3.5")
    assert record.evidence == "manual:boss"
    assert record.excerpt == note[:60]
    assert (record.at, record.clause, record.policy_version) == (NOW, "1.3.5", "1")
    [remind] = only(decisions, RemindMember)
    assert isinstance(remind, RemindMember)
    assert (remind.member, remind.clause, remind.ref) == ("wangwu", "1.3.5", record.entry_id)
    assert only(decisions, RecordOffence) == [RecordOffence(member="wangwu", rule="content.harmful", at=NOW,
                                                            clause="1.3.5")]  # fmt: skip
    text = reply_of(decisions)
    assert record.entry_id in text
    assert "【群规 篇一 三(5)】" in text
    [audit] = only(decisions, Audit)
    assert audit.action == "警告 @wangwu"


def test_manual_warning_for_a_clause_no_rule_enforces():
    decisions = run("警告 @wangwu 2.3.2 群昵称不是实名", context(), sender="boss")
    [record] = only(decisions, RecordLedger)
    assert isinstance(record, RecordLedger)
    assert record.rule == "manual:2.3.2"
    assert not only(decisions, RecordOffence)


def test_manual_warning_adds_the_fine_the_clauses_rule_sets_awaiting_confirmation():
    decisions = run("警告 @wangwu 篇一 四(5) 推诿客户投诉", context(policy="art_elite"), sender="boss")
    warning, fine = only(decisions, RecordLedger)
    assert isinstance(warning, RecordLedger)
    assert isinstance(fine, RecordLedger)
    assert (warning.entry_kind, fine.entry_kind, fine.amount, fine.status) == ("warning", "fine", 50, "active")
    assert warning.rule == fine.rule == "manual.shirking"
    assert f"确认 {fine.entry_id}" in reply_of(decisions)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("警告 @wangwu", texts.usage("警告 @zhangsan 篇一 三(5) 截图举报：群内发赌博链接")),
        ("警告 @wangwu 1.3.5", texts.usage("警告 @zhangsan 篇一 三(5) 截图举报：群内发赌博链接")),
        ("警告 @wangwu 9.9 说明", texts.clause_not_found("9.9")),
    ],
)
def test_manual_warning_needs_a_member_a_clause_and_a_note(text, expected):
    decisions = run(text, context(), sender="boss")
    assert reply_of(decisions) == expected
    assert not only(decisions, RecordLedger)
    assert only(decisions, Audit)


# ---- admins: 影子报告 ----


def test_shadow_report_groups_the_last_seven_days_by_rule():
    ledger = Ledger(
        [entry(f"LSHADOW{n}A", "shadow", rule="content.insults", at=NOW - n * 3600, excerpt=f"骂人{n}")
         for n in range(5)]
        + [entry("LSHADOWXB", "shadow", rule="content.illegal", at=NOW - 7200, excerpt="敏感")]
        + [entry("LWARN0001")]
    )  # fmt: skip
    decisions = run("影子报告", context(ledger), sender="boss")
    assert ledger.since_asked == [NOW - 7 * DAY]
    text = reply_of(decisions)
    assert "共6条" in text
    assert "content.insults【群规 篇三 8】5次" in text
    assert "content.illegal【群规】1次" in text
    assert text.index("content.insults") < text.index("content.illegal")
    assert "“骂人0”；“骂人1”；“骂人2”" in text
    assert "骂人3" not in text


def test_shadow_report_with_nothing_to_report():
    assert reply_of(run("影子报告", context(), sender="boss")) == texts.shadow_report([], days=7)


# ---- the engine ----


def test_the_engine_answers_with_the_context_and_moderates_group_messages():
    ctx = context(Ledger([entry("LWARN0001")]))
    decisions = engine.decide(message("网赌了解一下", chat="wrSales"), ctx)
    assert only(decisions, RecordLedger)
    assert not only(decisions, ReplyToMember)  # a flagged message asked nothing: no command list in the group
    asked = engine.decide(message("群规", chat="wrSales"), ctx)
    assert only(asked, ReplyToMember)


def test_an_admins_command_quoting_evidence_is_not_moderated():
    text = "警告 @lisi 1.3.5 他发了网赌链接"
    assert not only(engine.decide(message(text, sender="boss", chat="wrSales"), context()), RecordLedger)
    assert only(engine.decide(message(text, sender="lisi", chat="wrSales"), context()), RecordLedger)


def test_command_modules_stay_pure():
    rules = Path(commands.__file__).parent
    for path in sorted(rules.glob("commands*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not {name for name in imported if name.split(".")[0] in ("boto3", "botocore", "pynamodb", "time")}
        source = path.read_text(encoding="utf-8")
        assert "datetime.now" not in source
        assert "chalicelib.store" not in source.replace("from chalicelib.store.models import LedgerEntry", "")

"""The in-group nickname (篇一 二(3), 篇二 3.2/3.3, 篇三 6, 篇四 三、2) as a pure rule: hand-built snapshots of a
customer group, reconciled against the shipped seed policies."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from chalicelib.decisions import AlertAdmins, Decision, RecordLedger, RecordOffence, RemindMember
from chalicelib.effects import outbox
from chalicelib.events import Channel, GroupReconciled
from chalicelib.record import Record
from chalicelib.rules import names
from chalicelib.rules.compiled import Act, CompiledPolicy, Rung, shipped
from chalicelib.rules.context import Context
from chalicelib.rules.decisions_membership import NameChecked
from chalicelib.rules.roster import GroupSnapshot, MemberFacts, MemberState
from chalicelib.texts import alerts

NOW = 1_790_000_000  # 2026-09-21 22:13 in Asia/Shanghai; the seed policies are in force from 2026-01-01
BEFORE_EFFECTIVE = 1_767_150_000  # 2025-12-31 11:00 in Asia/Shanghai
HOUR = 3600
CHAT = "wrCustomerGroup"
ADMINS = ("boss", "owner1")
GOLDEN = Path(__file__).resolve().parents[1] / "golden"

ZHANGSAN = MemberFacts(
    userid="zhangsan",
    nickname="销售部-张三",
    in_directory=True,
    name="张三",
    departments=("华东销售部", "销售部", "酒神集团"),
    position="经理",
    joined_at=NOW - 2 * HOUR,
)
GUEST = MemberFacts(userid="wmGuest", external=True, nickname="快乐每一天", display_name="快乐", invitor="zhangsan")


def replace(record: Any, **changes: Any) -> Any:
    assert isinstance(record, Record)
    return type(record)(**{**{name: getattr(record, name) for name in record._fields}, **changes})


def with_rule(policy: CompiledPolicy, kind: str, **changes: Any) -> CompiledPolicy:
    rules = tuple(replace(rule, **changes) if rule.kind == kind else rule for rule in policy.rules)
    return replace(policy, rules=rules)


def with_params(policy: CompiledPolicy, **params: Any) -> CompiledPolicy:
    (rule,) = policy.of_kind("nickname_format")
    return with_rule(policy, "nickname_format", params={**rule.params, **params})


def reconciled(at: int = NOW, event_id: str = "reconcile:wrCustomerGroup:1") -> GroupReconciled:
    return GroupReconciled(tenant="acme", channel=Channel.JOB, event_id=event_id, at=at, sender="sys", chat_id=CHAT)


def context(
    *members: MemberFacts,
    policy: str | CompiledPolicy = "jiushen",
    kind: str = "customer",
    states: dict[str, MemberState] | None = None,
    roles: dict[str, frozenset[str]] | None = None,
    prior: int = 0,
    governed: bool = True,
    snapshot: bool = True,
) -> Context:
    known = roles or {}
    return Context(
        policy=shipped(policy) if isinstance(policy, str) else policy,
        admins=ADMINS,
        group_kind=kind,
        group_name="酒神客户群",
        governed=governed,
        roles_of=lambda member: known.get(member, frozenset()),
        prior_offences=lambda member, rule: prior,
        snapshot=GroupSnapshot(chat_id=CHAT, kind=kind, owner="owner1", members=members) if snapshot else None,
        member_states=states or {},
    )


def due(member: str = "zhangsan", at: int = NOW, since: int | None = NOW - HOUR) -> dict[str, MemberState]:
    return {member: MemberState(userid=member, present=True, name_due_at=at, name_wrong_since=since)}


def nick(facts: MemberFacts, nickname: str) -> MemberFacts:
    return replace(facts, nickname=nickname)


def kinds(decisions: list[Decision]) -> list[str]:
    return [decision.kind for decision in decisions]


def is_right(facts: MemberFacts, policy: str | CompiledPolicy = "jiushen") -> bool:
    """Right: nothing happens even when a check is due (a wrong nickname would be the offence)."""
    decisions = names.decide(reconciled(), context(facts, policy=policy, states=due(facts.userid)))
    return kinds(decisions) == ["NameChecked"] and decisions[0] == NameChecked(
        chat_id=CHAT, member=facts.userid, nickname=facts.nickname.strip(), clause=decisions[0].clause
    )


# ---- matching: placeholders, optional ones, regex, unknown facts ----


@pytest.mark.parametrize(
    ("nickname", "right"),
    [
        ("销售部-张三", True),
        ("华东销售部-张三", True),  # any of the member's departments, ancestors included
        ("酒神集团-张三", True),
        ("市场部-张三", False),  # a department the directory does not list for them
        ("销售部-李四", False),  # not their name
        ("销售部张三", False),  # the separator the pattern writes is required
        ("张三-销售部", False),  # the order too
        ("销售部-张三（请假）", False),
        ("", False),
        ("  ", False),
    ],
)
def test_department_and_name_are_compared_with_the_directory(nickname: str, right: bool) -> None:
    assert is_right(nick(ZHANGSAN, nickname)) is right


@pytest.mark.parametrize("nickname", [" 销售部-张三 ", "销售部 - 张三", "销售部－张三", "销售部—张三", "销售部–张三"])
def test_whitespace_and_the_dashes_a_chinese_keyboard_types_are_tolerated(nickname: str) -> None:
    assert is_right(nick(ZHANGSAN, nickname))


def test_full_width_letters_compare_as_ascii() -> None:
    tom = replace(ZHANGSAN, name="Tom", departments=("IT部",), nickname="ＩＴ部-Ｔｏｍ")
    assert is_right(tom)


@pytest.mark.parametrize(
    ("nickname", "right"),
    [
        ("安徽商会销售部经理张三", True),
        ("安徽商会销售部张三", True),  # {position?} may be left out
        ("某某公司华东销售部经理张三", True),  # staff: the company is not a directory fact, anything goes
        ("安徽商会销售部主任张三", False),  # but a position that is written must be theirs
        ("安徽商会销售部经理李四", False),
        ("销售部经理张三", False),  # {company} is required: nothing before the department
    ],
)
def test_the_chambers_company_department_position_name(nickname: str, right: bool) -> None:
    assert is_right(nick(ZHANGSAN, nickname), "anhui_chamber") is right


@pytest.mark.parametrize(
    ("nickname", "right"),
    [("安徽商会金融服务部张三", True), ("合肥某某科技金融服务部张三", False), ("安徽商会张", False)],
)
def test_an_external_contacts_company_is_known_but_not_their_name(nickname: str, right: bool) -> None:
    member = replace(GUEST, company="安徽商会", nickname=nickname)
    assert is_right(member, "anhui_chamber") is right


def test_an_external_contacts_name_is_never_known() -> None:
    # Their display name is a WeChat nickname: any non-empty nickname may be their real name.
    assert is_right(nick(GUEST, "王小明"), "classmates_575")
    assert not is_right(nick(GUEST, ""), "classmates_575")


def test_staff_outside_the_directory_and_a_rule_that_does_not_check_it_match_any_value() -> None:
    stranger = replace(ZHANGSAN, in_directory=False, nickname="市场部-李四")
    assert is_right(stranger)
    unchecked = with_params(shipped("jiushen"), check_directory=False)
    assert is_right(nick(ZHANGSAN, "市场部-李四"), unchecked)
    assert not is_right(nick(ZHANGSAN, "李四"), unchecked)  # the literal “-” still counts


def test_a_name_the_directory_lacks_matches_any_run_of_characters() -> None:
    nameless = replace(ZHANGSAN, name="", nickname="销售部-随便")
    assert is_right(nameless)


@pytest.mark.parametrize(
    ("nickname", "right"), [("A01-张三", True), (" B99-李四 ", True), ("张三", False), ("", False)]
)
def test_a_regex_rule_fullmatches_the_trimmed_nickname(nickname: str, right: bool) -> None:
    policy = with_params(shipped("jiushen"), pattern=None, regex=r"[A-Z]\d{2}-\S+")
    assert is_right(nick(ZHANGSAN, nickname), policy) is right


def test_an_empty_nickname_is_wrong_even_for_a_regex_that_allows_it() -> None:
    policy = with_params(shipped("jiushen"), pattern=None, regex=".*")
    assert not is_right(nick(ZHANGSAN, ""), policy)


@pytest.mark.parametrize(
    ("policy", "facts", "example"),
    [
        ("jiushen", ZHANGSAN, "华东销售部-张三"),
        ("jiushen", GUEST, "部门-姓名"),
        ("art_elite", ZHANGSAN, "张三"),
        ("anhui_chamber", ZHANGSAN, "公司+华东销售部经理张三"),
        ("anhui_chamber", replace(ZHANGSAN, position=""), "公司+华东销售部张三"),
        ("anhui_chamber", replace(GUEST, company="安徽商会"), "安徽商会+部门+姓名"),
    ],
)
def test_the_expected_example(policy: str, facts: MemberFacts, example: str) -> None:
    (rule,) = shipped(policy).of_kind("nickname_format")
    assert names.expected_example(rule, facts) == example


def test_a_complete_example_is_itself_a_right_nickname() -> None:
    (rule,) = shipped("anhui_chamber").of_kind("nickname_format")
    member = replace(GUEST, company="安徽商会")
    staff = replace(ZHANGSAN, name="张三")
    assert names.matches(rule, names.expected_example(rule, member), member)
    (jiushen,) = shipped("jiushen").of_kind("nickname_format")
    assert names.matches(jiushen, names.expected_example(jiushen, staff), staff)


def test_a_regex_rule_has_no_example() -> None:
    policy = with_params(shipped("jiushen"), pattern=None, regex=r"\S+")
    assert names.expected_example(policy.of_kind("nickname_format")[0], ZHANGSAN) == ""


# ---- the schedule: grace, recheck, and what it writes ----


def test_a_right_nickname_with_nothing_scheduled_writes_nothing() -> None:
    assert names.decide(reconciled(), context(ZHANGSAN)) == []


def test_a_right_nickname_clears_a_schedule() -> None:
    states = {"zhangsan": MemberState(userid="zhangsan", name_due_at=NOW + HOUR)}
    assert names.decide(reconciled(), context(ZHANGSAN, states=states)) == [
        NameChecked(chat_id=CHAT, member="zhangsan", nickname="销售部-张三", clause="2.3.3")
    ]


def test_a_wrong_nickname_is_first_given_the_grace_after_joining() -> None:
    member = replace(ZHANGSAN, nickname="小张", joined_at=NOW - 10 * 60)
    assert names.decide(reconciled(), context(member)) == [
        NameChecked(
            chat_id=CHAT, member="zhangsan", nickname="小张", due_at=NOW + 50 * 60, wrong_since=NOW, clause="2.3.3"
        )
    ]


@pytest.mark.parametrize("joined_at", [NOW - 5 * HOUR, 0])
def test_the_first_check_is_never_scheduled_in_the_past(joined_at: int) -> None:
    member = replace(ZHANGSAN, nickname="小张", joined_at=joined_at)
    (checked,) = names.decide(reconciled(), context(member))
    assert isinstance(checked, NameChecked)
    assert checked.due_at == (NOW if joined_at else NOW + HOUR)


def test_a_wrong_nickname_before_its_check_is_due_writes_nothing() -> None:
    member = nick(ZHANGSAN, "小张")
    assert names.decide(reconciled(), context(member, states=due(at=NOW + 1))) == []


def test_a_check_due_exactly_now_is_the_first_offence_a_reminder_and_the_next_check_is_scheduled() -> None:
    member = nick(ZHANGSAN, "小张")
    decisions = names.decide(reconciled(), context(member, states=due(at=NOW, since=NOW - HOUR)))

    assert kinds(decisions) == ["RecordOffence", "RemindMember", "NameChecked"]
    offence, reminder, checked = decisions
    assert offence == RecordOffence(member="zhangsan", rule="nickname.format", at=NOW, clause="2.3.3")
    assert isinstance(reminder, RemindMember)
    assert (reminder.member, reminder.clause, reminder.ref) == ("zhangsan", "2.3.3", "")
    assert reminder.what.startswith(
        "您在群聊“酒神客户群”中的群昵称“小张”，不符合群规的命名规则，请改为“华东销售部-张三”。\n"
        "【群规 篇二 3.2】群成员一律实名制。操作方法："
    )
    assert "我在本群的昵称" in reminder.what.splitlines()[-1]  # WeCom's own menu path
    assert checked == NameChecked(
        chat_id=CHAT, member="zhangsan", nickname="小张", due_at=NOW + 24 * HOUR, wrong_since=NOW - HOUR,
        clause="2.3.3",
    )  # fmt: skip


def test_the_second_offence_writes_a_warning_to_the_ledger() -> None:
    member = nick(ZHANGSAN, "小张")
    decisions = names.decide(reconciled(), context(member, states=due(), prior=1))

    assert kinds(decisions) == ["RecordOffence", "RecordLedger", "RemindMember", "NameChecked"]
    entry, reminder = decisions[1], decisions[2]
    assert isinstance(entry, RecordLedger)
    assert isinstance(reminder, RemindMember)
    assert (entry.entry_kind, entry.member, entry.rule, entry.group) == ("warning", "zhangsan", "nickname.format", CHAT)
    assert (entry.evidence, entry.excerpt, entry.at) == ("reconcile:wrCustomerGroup:1", "小张", NOW)
    assert entry.clause_text == "命名规则：部门+姓名；例如：“销售部-张三”。"
    assert reminder.ref == entry.entry_id
    assert reminder.what.splitlines()[0].endswith("请改为“华东销售部-张三”。按群规已记警告一次。")


def test_the_excerpt_is_cut_to_sixty_characters() -> None:
    member = nick(ZHANGSAN, "长" * 80)
    entry = names.decide(reconciled(), context(member, states=due(), prior=1))[1]
    assert isinstance(entry, RecordLedger)
    assert entry.excerpt == "长" * 60


def test_an_unset_nickname_is_reminded_as_such() -> None:
    member = nick(ZHANGSAN, "")
    reminder = names.decide(reconciled(), context(member, states=due()))[1]
    assert isinstance(reminder, RemindMember)
    assert reminder.what.startswith(
        "您在群聊“酒神客户群”中的群昵称还没有设置（群里显示的是微信名），请改为“华东销售部-张三”。"
    )


def test_a_kept_wrong_since_is_carried_and_a_missing_one_starts_now() -> None:
    member = nick(ZHANGSAN, "小张")
    checked = names.decide(reconciled(), context(member, states=due(since=None)))[-1]
    assert isinstance(checked, NameChecked)
    assert checked.wrong_since == NOW


def test_the_rules_own_wording_is_quoted_when_it_is_not_the_rulebooks() -> None:
    policy = with_rule(shipped("art_elite"), "nickname_format", quote="群昵称请用真实姓名。")
    reminder = names.decide(reconciled(), context(nick(ZHANGSAN, "小张"), policy=policy, states=due()))[1]
    assert isinstance(reminder, RemindMember)
    assert "【群规 篇一 二(3)】群昵称请用真实姓名。" in reminder.what
    seeded = names.decide(reconciled(), context(nick(ZHANGSAN, "小张"), policy="art_elite", states=due()))[1]
    assert isinstance(seeded, RemindMember)
    assert "【群规" not in seeded.what  # the outbox cites 篇一 二(3) beneath: no second copy


# ---- who is checked ----


@pytest.mark.parametrize("kind", ["appchat", "internal", "unknown"])
def test_groups_that_do_not_show_nicknames_are_not_judged(kind: str) -> None:
    assert names.decide(reconciled(), context(nick(ZHANGSAN, "小张"), kind=kind, states=due())) == []


def test_nothing_without_a_snapshot_or_in_an_ungoverned_group() -> None:
    assert names.decide(reconciled(), context(nick(ZHANGSAN, "小张"), snapshot=False, states=due())) == []
    assert names.decide(reconciled(), context(nick(ZHANGSAN, "小张"), governed=False, states=due())) == []


def test_a_rule_limited_to_other_kinds_of_group_does_not_apply() -> None:
    policy = with_rule(shipped("jiushen"), "nickname_format", group_kinds=("appchat",))
    assert names.decide(reconciled(), context(nick(ZHANGSAN, "小张"), policy=policy, states=due())) == []


def test_exempt_roles_and_userids_are_not_checked() -> None:
    by_role = with_rule(shipped("jiushen"), "nickname_format", exempt_roles=("owner",))
    roles = {"zhangsan": frozenset({"owner"})}
    assert names.decide(reconciled(), context(nick(ZHANGSAN, "小张"), policy=by_role, roles=roles, states=due())) == []
    by_id = with_rule(shipped("jiushen"), "nickname_format", exempt_userids=("zhangsan",))
    assert names.decide(reconciled(), context(nick(ZHANGSAN, "小张"), policy=by_id, states=due())) == []


def test_a_shadow_rule_records_a_shadow_entry_and_still_reschedules() -> None:
    policy = with_rule(shipped("jiushen"), "nickname_format", mode="shadow")
    decisions = names.decide(reconciled(), context(nick(ZHANGSAN, "小张"), policy=policy, states=due()))

    assert kinds(decisions) == ["RecordLedger", "NameChecked"]
    entry, checked = decisions
    assert isinstance(entry, RecordLedger)
    assert isinstance(checked, NameChecked)
    assert (entry.entry_kind, entry.member, entry.excerpt) == ("shadow", "zhangsan", "小张")
    assert checked.due_at == NOW + 24 * HOUR


def test_before_the_rulebooks_effective_date_every_rule_is_shadow() -> None:
    ctx = context(nick(ZHANGSAN, "小张"), states=due(at=BEFORE_EFFECTIVE))
    decisions = names.decide(reconciled(at=BEFORE_EFFECTIVE), ctx)
    assert kinds(decisions) == ["RecordLedger", "NameChecked"]


# ---- external contacts: their inviter passes it on ----


def test_an_external_contacts_reminder_goes_to_their_inviter() -> None:
    guest = nick(GUEST, "")
    decisions = names.decide(reconciled(), context(ZHANGSAN, guest, states=due("wmGuest")))

    assert kinds(decisions) == ["RecordOffence", "RemindMember", "NameChecked"]
    relay = decisions[1]
    assert isinstance(relay, RemindMember)
    assert (relay.member, relay.clause, relay.ref) == ("zhangsan", "2.3.3", "relay:wmGuest")
    assert relay.what.startswith(
        "您邀请入群的外部联系人 快乐（wmGuest） 在群聊“酒神客户群”中的群昵称还没有设置（群里显示的是微信名），"
        "不符合群规的命名规则，应改为“部门-姓名”。\n群规助手无法私信外部联系人，请您转告对方修改。"
    )


def test_without_a_staff_inviter_the_admins_are_asked_to_remind_an_external_contact() -> None:
    for invitor in (None, "wmOther", "wmGuest"):  # unknown, another external contact, themselves
        guest = replace(GUEST, nickname="", invitor=invitor)
        other = MemberFacts(userid="wmOther", external=True, nickname="采购部-王五")
        decisions = names.decide(reconciled(), context(guest, other, states=due("wmGuest")))

        assert kinds(decisions) == ["RecordOffence", "AlertAdmins", "NameChecked"], invitor
        alert = decisions[1]
        assert isinstance(alert, AlertAdmins)
        assert (
            alert.what
            == "快乐（wmGuest） 的群昵称还没有设置（群里显示的是微信名），不符合命名规则，应为“部门-姓名”（第1次）"
        )
        assert (alert.member, alert.group, alert.evidence_at, alert.ref) == ("wmGuest", CHAT, NOW, "")
        assert (
            alert.action == "对方是外部联系人，群规助手无法私信，且平台没有告知本企业的邀请人，请在群里提醒其修改群昵称"
        )


def test_an_alert_the_ladder_sends_anyway_says_the_inviter_was_asked() -> None:
    policy = with_rule(
        shipped("jiushen"), "nickname_format", ladder=(Rung(at=1, do=(Act(type="remind"), Act(type="alert_admins"))),)
    )
    decisions = names.decide(reconciled(), context(ZHANGSAN, nick(GUEST, ""), policy=policy, states=due("wmGuest")))

    assert kinds(decisions) == ["RecordOffence", "AlertAdmins", "RemindMember", "NameChecked"]
    alert = decisions[1]
    assert isinstance(alert, AlertAdmins)
    assert alert.action == "已私信提醒；对方是外部联系人，已请邀请人转告"


def test_every_reminder_and_alert_survives_the_outboxs_identity() -> None:
    # Two guests invited by one staff member, and two staff members wrong at once under a ladder that alerts: the
    # outbox keys messages by (event, kind, clause, recipient, ref).
    policy = with_rule(
        shipped("jiushen"), "nickname_format", ladder=(Rung(at=1, do=(Act(type="remind"), Act(type="alert_admins"))),)
    )
    lisi = replace(ZHANGSAN, userid="lisi", name="李四", nickname="")
    guests = [replace(GUEST, userid=f"wm{i}", nickname="") for i in (1, 2)]
    states = {**due("zhangsan"), **due("lisi"), **due("wm1"), **due("wm2")}
    event = reconciled()
    decisions = names.decide(event, context(nick(ZHANGSAN, "小张"), lisi, *guests, policy=policy, states=states))

    messages = outbox.messages_for(event, decisions, "Asia/Shanghai")
    to = sorted(message.to for _, message in messages)
    assert to == sorted(["zhangsan", "lisi", "zhangsan", "zhangsan", "boss", "owner1"])  # two relays + own reminder
    [alert] = [d for d in decisions if isinstance(d, AlertAdmins)]
    assert alert.member == "zhangsan、lisi、wm1、wm2"
    assert "张三（zhangsan） 的群昵称“小张”" in alert.what
    assert "李四（lisi） 的群昵称还没有设置" in alert.what


# ---- the texts, pinned ----


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("QUNGUI_UPDATE_GOLDEN"):
        path.write_text(text + "\n", encoding="utf-8")
    assert text + "\n" == path.read_text(encoding="utf-8")


def test_the_nickname_reminder_is_pinned() -> None:
    reminder = names.decide(reconciled(), context(nick(ZHANGSAN, "小张"), states=due(), prior=1))[2]
    assert isinstance(reminder, RemindMember)
    golden("roster_nickname_reminder.txt", alerts.member_reminder(what=reminder.what, clause="2.3.3", ref="9b8c7d6e5f"))


def test_the_relay_to_an_inviter_is_pinned() -> None:
    relay = names.decide(
        reconciled(), context(nick(ZHANGSAN, "张三"), nick(GUEST, ""), policy="art_elite", states=due("wmGuest"))
    )[1]
    assert isinstance(relay, RemindMember)
    golden("roster_nickname_relay.txt", alerts.member_reminder(what=relay.what, clause="1.2.3", ref="0a1b2c3d4e"))

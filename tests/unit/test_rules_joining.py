"""Joining (篇三 5, 篇四 三、5 eligibility; 篇三 10 welcome and the inviter's brief) as a pure rule: hand-built
MemberJoined events with the newcomers' facts in a snapshot."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from chalicelib.decisions import AlertAdmins, Decision, RecordLedger, RecordOffence, RemindMember
from chalicelib.effects import outbox
from chalicelib.events import Channel, MemberJoined
from chalicelib.record import Record
from chalicelib.rules import joining
from chalicelib.rules.compiled import Act, CompiledPolicy, CompiledRule, Rung, shipped
from chalicelib.rules.context import Context
from chalicelib.rules.decisions_membership import RemoveMember
from chalicelib.rules.roster import GroupSnapshot, MemberFacts, MemberState
from chalicelib.texts import alerts

NOW = 1_790_000_000  # 2026-09-21 22:13 in Asia/Shanghai; the seed policies are in force from 2026-01-01
BEFORE_EFFECTIVE = 1_767_150_000  # 2025-12-31 11:00 in Asia/Shanghai
CHAT = "wrGroup"
ADMINS = ("boss", "owner1")
GOLDEN = Path(__file__).resolve().parents[1] / "golden"

STAFF = MemberFacts(
    userid="zhangsan",
    in_directory=True,
    name="张三",
    departments=("华东销售部", "销售部"),
    department_ids=(12, 2),
    tags=("华东", "五七五同学"),
    invitor="wangwu",
)
INVITER = MemberFacts(userid="wangwu", in_directory=True, name="王五")
GUEST = MemberFacts(userid="wmGuest", external=True, display_name="快乐", invitor="wangwu", tags=())
MEMBER = MemberFacts(
    userid="wmMember", external=True, display_name="老李", invitor="wangwu", tags=("安徽商会会员", "五七五同学")
)


def replace(record: Any, **changes: Any) -> Any:
    assert isinstance(record, Record)
    return type(record)(**{**{name: getattr(record, name) for name in record._fields}, **changes})


def eligibility(*, mode: str = "enforce", ladder: tuple[str, ...] = ("alert_admins",), **params: Any) -> CompiledRule:
    return CompiledRule(
        id="join.eligibility",
        kind="join_eligibility",
        clause="4.3.5",
        quote="本群只加安徽商会会员，不相关人员禁止入群。",
        mode=mode,
        ladder=(Rung(at=1, do=tuple(Act(type=t) for t in ladder)),),
        params={"departments": [], "tags": [], "userids": [], "external": "allow", **params},
    )


def welcome(**params: Any) -> CompiledRule:
    return CompiledRule(
        id="join.welcome",
        kind="welcome",
        clause="3.10",
        quote="欢迎同学们拉同学进群，首先要告知同学群规，其次本着自愿的原则进群。",
        mode="enforce",
        ladder=(),
        params={"send_rules": True, "ask_to_accept": False, "brief_inviter": False, "message": None, **params},
    )


def policy_of(*rules: CompiledRule, base: str = "default") -> CompiledPolicy:
    seed = shipped(base)
    kinds = {rule.kind for rule in rules}
    return replace(seed, rules=tuple(r for r in seed.rules if r.kind not in kinds) + rules)


def joined(*members: str, event_id: str = "join1", at: int = NOW) -> MemberJoined:
    return MemberJoined(
        tenant="acme", channel=Channel.JOB, event_id=event_id, at=at, sender="sys", chat_id=CHAT, members=members
    )


def context(
    *members: MemberFacts,
    policy: str | CompiledPolicy = "anhui_chamber",
    kind: str = "customer",
    states: dict[str, MemberState] | None = None,
    roles: dict[str, frozenset[str]] | None = None,
    governed: bool = True,
    snapshot: bool = True,
) -> Context:
    known = roles or {}
    return Context(
        policy=shipped(policy) if isinstance(policy, str) else policy,
        admins=ADMINS,
        group_kind=kind,
        group_name="同学群",
        governed=governed,
        roles_of=lambda member: known.get(member, frozenset()),
        snapshot=GroupSnapshot(chat_id=CHAT, kind=kind, members=(INVITER, *members)) if snapshot else None,
        member_states=states or {},
    )


def decide(ctx: Context, *members: str, at: int = NOW) -> list[Decision]:
    return joining.decide(joined(*members, at=at), ctx)


def kinds(decisions: list[Decision]) -> list[str]:
    return [decision.kind for decision in decisions]


def eligible(rule: CompiledRule, facts: MemberFacts) -> bool:
    return decide(context(facts, policy=policy_of(rule)), facts.userid) == []


# ---- eligibility ----


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"departments": ["销售部"]}, True),  # an ancestor of 华东销售部
        ({"departments": ["华东销售部", "市场部"]}, True),
        ({"departments": ["2"]}, True),  # by id
        ({"departments": ["市场部", "7"]}, False),
        ({"tags": ["华东"]}, True),
        ({"tags": ["华南"]}, False),
        ({"userids": ["zhangsan"]}, True),
        ({"userids": ["lisi"]}, False),
        ({"departments": ["市场部"], "tags": ["华南"], "userids": ["zhangsan"]}, True),  # any one of them
        ({"external": "deny"}, True),  # nothing named for staff: every staff member
    ],
)
def test_staff_are_eligible_by_department_tag_or_userid(params: dict[str, Any], expected: bool) -> None:
    assert eligible(eligibility(**params), STAFF) is expected


@pytest.mark.parametrize(
    ("params", "facts", "expected"),
    [
        ({"external": "allow", "departments": ["市场部"]}, GUEST, True),
        ({"external": "deny", "tags": ["安徽商会会员"]}, MEMBER, False),
        ({"external": "deny", "userids": ["wmGuest"]}, GUEST, True),  # named by userid
        ({"external": "match", "tags": ["安徽商会会员"]}, MEMBER, True),
        ({"external": "match", "tags": ["安徽商会会员"]}, GUEST, False),
        ({"external": "match", "userids": ["wmGuest"]}, GUEST, True),
    ],
)
def test_external_contacts_are_allowed_denied_or_matched(
    params: dict[str, Any], facts: MemberFacts, expected: bool
) -> None:
    assert eligible(eligibility(**params), facts) is expected


def test_the_chambers_seed_alerts_the_admins_about_a_non_member_with_who_why_and_who_invited() -> None:
    decisions = decide(context(GUEST), "wmGuest")

    assert kinds(decisions) == ["RecordOffence", "AlertAdmins"]
    offence, alert = decisions
    assert offence == RecordOffence(member="wmGuest", rule="join.eligibility", at=NOW, clause="4.3.5")
    assert isinstance(alert, AlertAdmins)
    assert (
        alert.what
        == "外部联系人 快乐（wmGuest） 加入了群聊，但不符合入群资格（外部联系人须带有客户标签“安徽商会会员”），"
        "邀请人：wangwu"
    )
    assert (alert.recipients, alert.group, alert.member, alert.evidence_at, alert.ref) == (
        ADMINS,
        CHAT,
        "wmGuest",
        NOW,
        "",
    )
    assert not [d for d in decisions if isinstance(d, RecordLedger)]


def test_an_ineligible_staff_member_is_reminded_removed_from_an_app_created_group_and_not_welcomed() -> None:
    rule = eligibility(departments=["市场部"], ladder=("remind", "alert_admins", "remove_member"))
    ctx = context(STAFF, policy=policy_of(rule, welcome()), kind="appchat")
    decisions = decide(ctx, "zhangsan")

    assert kinds(decisions) == ["RecordOffence", "RemindMember", "RemoveMember", "AlertAdmins"]
    reminder, removal, alert = decisions[1:]
    assert isinstance(reminder, RemindMember)
    assert reminder.member == "zhangsan"
    assert reminder.what.startswith("您加入了群聊“同学群”，本群的入群资格是：属于部门市场部。您目前不符合")
    assert removal == RemoveMember(chat_id=CHAT, member="zhangsan", rule="join.eligibility", at=NOW, clause="4.3.5")
    assert isinstance(alert, AlertAdmins)
    assert alert.what == "张三（zhangsan） 加入了群聊，但不符合入群资格（属于部门市场部），邀请人：wangwu"
    assert alert.action == "已私信提醒；已将其移出群聊"


@pytest.mark.parametrize(
    ("kind", "roles", "action"),
    [
        ("customer", frozenset(), "客户群没有接口可以移出成员，请群主在群成员列表中手动移出"),
        ("appchat", frozenset({"admin"}), "该成员是群主或管理员，不自动移出，请人工处理"),
    ],
)
def test_removal_only_where_the_platform_allows_it(kind: str, roles: frozenset[str], action: str) -> None:
    rule = eligibility(departments=["市场部"], ladder=("alert_admins", "remove_member"))
    ctx = context(STAFF, policy=policy_of(rule, welcome()), kind=kind, roles={"zhangsan": roles})
    decisions = decide(ctx, "zhangsan")

    assert not [d for d in decisions if isinstance(d, RemoveMember)]
    [alert] = [d for d in decisions if isinstance(d, AlertAdmins)]
    assert alert.action == action
    assert [d for d in decisions if isinstance(d, RemindMember) and d.ref == "welcome"]  # still in the group


def test_an_ineligible_external_contacts_reminder_goes_to_their_inviter() -> None:
    rule = eligibility(external="deny", ladder=("remind", "alert_admins"))
    decisions = decide(context(GUEST, policy=policy_of(rule)), "wmGuest")

    assert kinds(decisions) == ["RecordOffence", "AlertAdmins", "RemindMember"]
    alert, relay = decisions[1:]
    assert isinstance(relay, RemindMember)
    assert (relay.member, relay.ref) == ("wangwu", "relay:wmGuest")
    assert relay.what.startswith(
        "您邀请的外部联系人 快乐（wmGuest） 加入了群聊“同学群”，但不符合本群的入群资格（本群不接受外部联系人）"
    )
    assert isinstance(alert, AlertAdmins)
    assert alert.action == "已私信提醒；对方是外部联系人，已告知邀请人"


def test_unknown_facts_are_judged_by_userids_alone() -> None:
    only_ids = eligibility(userids=["zhangsan"], external="deny")
    ctx = context(policy=policy_of(only_ids), snapshot=False)
    assert kinds(decide(ctx, "lisi")) == ["RecordOffence", "AlertAdmins"]
    assert decide(ctx, "zhangsan") == []
    for undecidable in (
        eligibility(userids=["zhangsan"], departments=["销售部"], external="deny"),
        eligibility(userids=["zhangsan"]),
    ):
        assert decide(context(policy=policy_of(undecidable), snapshot=False), "lisi") == []


def test_exempt_roles_and_userids_are_eligible() -> None:
    by_id = replace(eligibility(external="deny"), exempt_userids=("wmGuest",))
    assert decide(context(GUEST, policy=policy_of(by_id)), "wmGuest") == []
    by_role = replace(eligibility(external="deny"), exempt_roles=("admin",))
    assert decide(context(GUEST, policy=policy_of(by_role), roles={"wmGuest": frozenset({"admin"})}), "wmGuest") == []


def test_a_shadow_rule_records_what_it_would_do() -> None:
    decisions = decide(context(GUEST, policy="classmates_575"), "wmGuest")
    shadow = [d for d in decisions if isinstance(d, RecordLedger)]
    assert [(d.entry_kind, d.member, d.rule, d.clause) for d in shadow] == [
        ("shadow", "wmGuest", "join.eligibility", "3.5")
    ]
    assert not [d for d in decisions if isinstance(d, AlertAdmins | RecordOffence)]


def test_several_ineligible_newcomers_reach_the_admins_in_one_alert() -> None:
    other = replace(GUEST, userid="wmOther", display_name="老王")
    event = joined("wmGuest", "wmOther")
    decisions = joining.decide(event, context(GUEST, other))

    [alert] = [d for d in decisions if isinstance(d, AlertAdmins)]
    assert alert.member == "wmGuest、wmOther"
    assert "快乐（wmGuest）" in alert.what
    assert "老王（wmOther）" in alert.what
    assert len(outbox.messages_for(event, decisions, "Asia/Shanghai")) == len(ADMINS)


def test_nothing_in_an_ungoverned_group_and_members_are_judged_once() -> None:
    assert decide(context(GUEST, governed=False), "wmGuest") == []
    assert kinds(decide(context(GUEST), "wmGuest", "wmGuest")) == ["RecordOffence", "AlertAdmins"]


# ---- welcome ----


def test_the_classmates_seed_welcomes_a_staff_newcomer_and_briefs_the_inviter() -> None:
    decisions = decide(context(STAFF, policy="classmates_575"), "zhangsan")

    assert kinds(decisions) == ["RemindMember", "RemindMember"]
    hello, brief = decisions
    assert isinstance(hello, RemindMember)
    assert (hello.member, hello.clause, hello.ref) == ("zhangsan", "3.10", "welcome")
    lines = hello.what.splitlines()
    assert lines[0] == "欢迎加入群聊“同学群”！"
    assert lines[1] == "本群群规（共6条）："
    assert "· 【群规 篇三 5】入群资格：认同本群宗旨和价值观，认可本群“群规”的各行业同学们。" in lines
    assert lines[-2] == "发送“群规”查看全部，发送“群规 条款编号”查看全文。"
    assert lines[-1] == "请阅读后回复“同意”，表示认可并遵守本群群规。"
    assert isinstance(brief, RemindMember)
    assert (brief.member, brief.clause, brief.ref) == ("wangwu", "3.10", "brief:zhangsan")
    assert brief.what == (
        "您邀请的 张三（zhangsan） 加入了群聊“同学群”。拉人进群，首先要告知群规，请把本群群规告诉对方。\n"
        "群规助手也已私信对方本群群规。"
    )


def test_an_external_newcomer_gets_no_message_and_the_inviters_brief_carries_the_rules() -> None:
    decisions = decide(context(MEMBER, policy="classmates_575"), "wmMember")

    briefs = [d for d in decisions if isinstance(d, RemindMember)]
    assert [(d.member, d.ref) for d in briefs] == [("wangwu", "brief:wmMember")]
    text = briefs[0].what
    assert "对方是外部联系人，群规助手无法私信对方，请您转告以下群规：\n本群群规（共6条）：" in text
    assert "私信对方本群群规" not in text


def test_a_rejoining_member_is_welcomed_back() -> None:
    states = {"zhangsan": MemberState(userid="zhangsan", joins=1)}
    hello, brief = decide(context(STAFF, policy="classmates_575", states=states), "zhangsan")
    assert isinstance(hello, RemindMember)
    assert isinstance(brief, RemindMember)
    assert hello.what.startswith("欢迎回来！您已重新加入群聊“同学群”。\n本群群规")
    assert brief.what.startswith("您邀请的 张三（zhangsan） 重新加入了群聊“同学群”。")
    greeted = policy_of(welcome(message="同学你好，欢迎！"))
    (again,) = decide(context(STAFF, policy=greeted, states=states), "zhangsan")
    assert isinstance(again, RemindMember)
    assert again.what.startswith("欢迎回来！同学你好，欢迎！\n本群群规")


def test_a_greeting_alone_and_rules_alone() -> None:
    greeting_only = policy_of(welcome(send_rules=False, message="欢迎新同事！"))
    (hello,) = decide(context(STAFF, policy=greeting_only), "zhangsan")
    assert isinstance(hello, RemindMember)
    assert hello.what == "欢迎新同事！"
    brief_only = policy_of(welcome(send_rules=False, brief_inviter=True))
    (brief,) = decide(context(STAFF, policy=brief_only), "zhangsan")
    assert isinstance(brief, RemindMember)
    assert (brief.member, brief.ref) == ("wangwu", "brief:zhangsan")
    assert "私信对方" not in brief.what  # nothing was sent to the newcomer


@pytest.mark.parametrize("invitor", [None, "zhangsan", "wmGuest"])
def test_no_brief_without_a_staff_inviter_other_than_the_newcomer(invitor: str | None) -> None:
    newcomer = replace(STAFF, invitor=invitor)
    decisions = decide(context(newcomer, GUEST, policy="classmates_575"), "zhangsan")
    assert [d.member for d in decisions if isinstance(d, RemindMember)] == ["zhangsan"]


def test_welcome_is_never_an_offence_and_waits_for_the_rulebook_and_for_facts() -> None:
    decisions = decide(context(STAFF, policy="classmates_575"), "zhangsan")
    assert not [d for d in decisions if isinstance(d, RecordLedger | RecordOffence | AlertAdmins)]
    assert decide(context(STAFF, policy="classmates_575"), "zhangsan", at=BEFORE_EFFECTIVE) == []
    assert decide(context(policy="classmates_575", snapshot=False), "zhangsan") == []
    shadow = policy_of(replace(welcome(), mode="shadow"))
    assert decide(context(STAFF, policy=shadow), "zhangsan") == []
    exempt = policy_of(replace(welcome(), exempt_userids=("zhangsan",)))
    assert decide(context(STAFF, policy=exempt), "zhangsan") == []


def test_an_inviter_of_several_newcomers_gets_a_brief_for_each() -> None:
    lisi = replace(STAFF, userid="lisi", name="李四")
    event = joined("zhangsan", "lisi", "wmMember")
    decisions = joining.decide(event, context(STAFF, lisi, MEMBER, policy="classmates_575"))

    messages = outbox.messages_for(event, decisions, "Asia/Shanghai")
    assert sorted(message.to for _, message in messages) == ["lisi", "wangwu", "wangwu", "wangwu", "zhangsan"]


LONG = "这是一条很长的群规条款，" * 12


def test_the_rules_summary_stops_before_the_message_is_too_long_for_wecom() -> None:
    many = tuple(
        CompiledRule(id=f"manual.{i}", kind="manual", clause=f"acme.{i}", quote=f"{i}{LONG}", mode="enforce", ladder=())
        for i in range(40)
    )
    policy = replace(shipped("default"), rules=(*many, welcome(ask_to_accept=True)))
    (hello,) = decide(context(STAFF, policy=policy), "zhangsan")
    assert isinstance(hello, RemindMember)

    rendered = alerts.member_reminder(what=hello.what, clause=hello.clause, ref="x" * 20)
    assert len(rendered.encode()) <= 2048
    assert "本群群规（共41条，以下为前" in hello.what
    assert hello.what.endswith(
        "发送“群规”查看全部，发送“群规 条款编号”查看全文。\n请阅读后回复“同意”，表示认可并遵守本群群规。"
    )


@pytest.mark.parametrize("seed", ["default", "art_elite", "jiushen", "classmates_575", "anhui_chamber"])
def test_every_seed_rulebook_fits_one_welcome(seed: str) -> None:
    policy = policy_of(welcome(ask_to_accept=True, message="欢迎！"), base=seed)
    (hello,) = [d for d in decide(context(STAFF, policy=policy), "zhangsan") if isinstance(d, RemindMember)]
    assert "以下为前" not in hello.what
    assert len(alerts.member_reminder(what=hello.what, clause="3.10", ref="x" * 20).encode()) <= 2048


# ---- the texts, pinned ----


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("QUNGUI_UPDATE_GOLDEN"):
        path.write_text(text + "\n", encoding="utf-8")
    assert text + "\n" == path.read_text(encoding="utf-8")


def test_the_welcome_and_the_external_brief_are_pinned() -> None:
    hello, _ = decide(context(STAFF, policy="classmates_575"), "zhangsan")
    assert isinstance(hello, RemindMember)
    golden("roster_welcome.txt", alerts.member_reminder(what=hello.what, clause="3.10", ref="5e6f7a8b9c"))
    (brief,) = decide(context(MEMBER, policy="classmates_575"), "wmMember")
    assert isinstance(brief, RemindMember)
    golden("roster_brief_external.txt", alerts.member_reminder(what=brief.what, clause="3.10", ref="1c2d3e4f5a"))


def test_the_ineligible_alert_is_pinned() -> None:
    _, alert = decide(context(GUEST), "wmGuest")
    assert isinstance(alert, AlertAdmins)
    golden(
        "roster_ineligible_alert.md",
        alerts.admin_alert(
            what=alert.what, clause=alert.clause, ref="3f9a1c2b7d", group=alert.group, group_name=alert.group_name,
            member=alert.member, evidence_at=alert.evidence_at, action=alert.action,
        ),
    )  # fmt: skip

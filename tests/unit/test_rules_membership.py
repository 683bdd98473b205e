"""篇二 3.7 (quitting) as a pure rule: hand-built MemberLeft events against the shipped jiushen policy."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chalicelib.decisions import AlertAdmins, Decision, RecordLedger, RecordOffence, RemindMember
from chalicelib.effects import outbox
from chalicelib.events import Channel, MemberLeft
from chalicelib.record import Record
from chalicelib.rules import membership
from chalicelib.rules.compiled import Act, CompiledPolicy, Rung, shipped
from chalicelib.rules.context import Context
from chalicelib.texts.citations import cite

NOW = 1_790_000_000  # Monday 2026-09-21 22:13 in Asia/Shanghai; jiushen is in force from 2026-01-01
BEFORE_EFFECTIVE = 1_767_150_000  # 2025-12-31 11:00 in Asia/Shanghai
CHAT = "wrSalesGroup"
ADMINS = ("boss", "wangwu")
QUIT_CLAUSE = "2.3.7"
ROOT = Path(__file__).resolve().parents[2]


def replace(record: Any, **changes: Any) -> Any:
    assert isinstance(record, Record)
    return type(record)(**{**{name: getattr(record, name) for name in record._fields}, **changes})


def with_rule(policy: CompiledPolicy, rule_id: str, **changes: Any) -> CompiledPolicy:
    rules = tuple(replace(rule, **changes) if rule.id == rule_id else rule for rule in policy.rules)
    return replace(policy, rules=rules)


def left(*members: str, scene: int | None = 0, event_id: str = "hquit1", at: int = NOW) -> MemberLeft:
    return MemberLeft(
        tenant="acme",
        channel=Channel.APP,
        event_id=event_id,
        at=at,
        sender="sys",
        chat_id=CHAT,
        members=members or ("lisi",),
        quit_scene=scene,
    )


def context(
    kind: str = "customer",
    *,
    policy: CompiledPolicy | None = None,
    prior: int = 0,
    governed: bool = True,
) -> Context:
    return Context(
        policy=policy or shipped("jiushen"),
        admins=ADMINS,
        group_kind=kind,
        group_name="销售部工作群",
        governed=governed,
        prior_offences=lambda member, rule: prior,
    )


def decide(event: MemberLeft, ctx: Context, roles: dict[str, frozenset[str]] | None = None) -> list[Decision]:
    known = roles or {}
    return membership.decide(event, ctx, roles_of=lambda member: known.get(member, frozenset()))


def kinds(decisions: list[Decision]) -> list[str]:
    return [decision.kind for decision in decisions]


def test_a_self_quit_from_a_customer_group_is_a_warning_and_the_admins_are_told() -> None:
    decisions = decide(left("lisi"), context("customer"))

    assert kinds(decisions) == ["RecordOffence", "RecordLedger", "RemindMember", "AlertAdmins"]
    offence, entry, reminder, alert = decisions
    assert offence == RecordOffence(member="lisi", rule="member.quit", at=NOW, clause=QUIT_CLAUSE)
    assert isinstance(entry, RecordLedger)
    assert (entry.entry_kind, entry.member, entry.rule, entry.status) == ("warning", "lisi", "member.quit", "active")
    assert (entry.clause, entry.group, entry.evidence, entry.at) == (QUIT_CLAUSE, CHAT, "hquit1", NOW)
    assert entry.clause_text == "如果群内成员不停从群管理、执意退群，则以警告处分，退群带来的后果个人承担。"
    assert entry.policy_version == shipped("jiushen").version
    assert entry.amount is None
    assert entry.excerpt is None
    assert isinstance(reminder, RemindMember)
    assert reminder.member == "lisi"
    assert reminder.clause == QUIT_CLAUSE
    assert reminder.ref == entry.entry_id
    assert (
        reminder.what == "您自行退出了群聊“销售部工作群”，按群规已记警告一次。如有特殊情况，请联系群主或群管理员说明。"
    )
    assert isinstance(alert, AlertAdmins)
    assert alert.recipients == ADMINS
    assert alert.clause == QUIT_CLAUSE
    assert alert.ref == entry.entry_id
    assert (alert.group, alert.group_name, alert.member, alert.evidence_at) == (CHAT, "销售部工作群", "lisi", NOW)
    assert alert.what == "lisi 自行退出了群聊（第1次）"
    assert alert.action == "已记警告一次；已私信提醒"
    assert cite(alert.clause).startswith("【群规 篇二 3.7】如果群内成员")


def test_the_ladder_counts_earlier_quits() -> None:
    alert = decide(left("lisi"), context(prior=2))[-1]
    assert isinstance(alert, AlertAdmins)
    assert alert.what == "lisi 自行退出了群聊（第3次）"


def test_a_removal_by_the_owner_or_an_admin_is_no_offence() -> None:
    assert decide(left("lisi", scene=1), context("customer")) == []


@pytest.mark.parametrize("kind", ["appchat", "internal", "customer"])
def test_a_departure_found_by_reconciliation_is_no_offence_but_the_admins_are_told(kind: str) -> None:
    # App-created and internal groups send no events: reconciliation sees who is gone but not how they left (and a
    # customer group's lost change_external_chat is repaired the same way).
    decisions = decide(left("lisi", scene=None), context(kind))

    assert kinds(decisions) == ["AlertAdmins"]
    (alert,) = decisions
    assert isinstance(alert, AlertAdmins)
    assert alert.what == "lisi 已离开群聊，平台没有告知是自行退出还是被移出，未记警告"
    assert alert.action == "如属执意退群，可私信回复：警告 @lisi 篇二 3.7 说明"
    assert alert.clause == QUIT_CLAUSE
    assert alert.ref == ""


def test_a_rule_limited_to_customer_groups_does_not_apply_in_an_app_created_group() -> None:
    policy = with_rule(shipped("jiushen"), "member.quit", group_kinds=("customer",))

    assert decide(left("lisi"), context("appchat", policy=policy)) == []
    assert decide(left("lisi"), context("internal", policy=policy)) == []
    assert kinds(decide(left("lisi"), context("customer", policy=policy)))[:2] == ["RecordOffence", "RecordLedger"]


def test_a_policy_without_a_quit_rule_does_nothing() -> None:
    assert decide(left("lisi"), context(policy=shipped("default"))) == []
    assert decide(left("lisi"), context(policy=shipped("art_elite"))) == []


def test_an_ungoverned_group_is_left_alone() -> None:
    assert decide(left("lisi"), context(governed=False)) == []


def test_exempt_roles_and_userids_are_respected() -> None:
    policy = with_rule(shipped("jiushen"), "member.quit", exempt_roles=("admin", "leader"), exempt_userids=("vip",))
    ctx = context(policy=policy)

    decisions = decide(left("zhaoliu", "lisi", "vip"), ctx, roles={"zhaoliu": frozenset({"admin"})})

    assert {d.member for d in decisions if isinstance(d, RecordLedger)} == {"lisi"}


def test_every_member_of_one_event_is_judged_alone_with_ids_of_their_own() -> None:
    decisions = decide(left("lisi", "zhangsan", "lisi"), context())

    entries = [d for d in decisions if isinstance(d, RecordLedger)]
    assert [e.member for e in entries] == ["lisi", "zhangsan"]
    assert len({e.entry_id for e in entries}) == 2


def test_when_self_quit_only_is_off_a_removal_counts_too() -> None:
    policy = with_rule(shipped("jiushen"), "member.quit", params={"self_quit_only": False})

    decisions = decide(left("lisi", scene=1), context(policy=policy))

    assert kinds(decisions) == ["RecordOffence", "RecordLedger", "RemindMember", "AlertAdmins"]
    reminder, alert = decisions[2], decisions[3]
    assert isinstance(reminder, RemindMember)
    assert reminder.what.startswith("您已离开群聊“销售部工作群”")
    assert isinstance(alert, AlertAdmins)
    assert alert.what == "lisi 被移出了群聊（第1次）"


def test_a_fine_on_the_ladder_waits_for_an_admin_and_says_so() -> None:
    ladder = (Rung(at=1, do=(Act(type="fine", amount=20.0),)),)
    policy = with_rule(shipped("jiushen"), "member.quit", ladder=ladder)

    decisions = decide(left("lisi"), context(policy=policy))

    assert kinds(decisions) == ["RecordOffence", "RecordLedger", "RemindMember", "AlertAdmins"]
    entry, alert = decisions[1], decisions[3]
    assert isinstance(entry, RecordLedger)
    assert (entry.entry_kind, entry.amount, entry.status) == (
        "fine",
        20.0,
        "active",
    )
    assert isinstance(alert, AlertAdmins)
    assert alert.action == "罚款20元（待管理员确认）；已私信提醒"


def test_shadow_mode_records_what_it_would_have_done_and_acts_on_nobody() -> None:
    policy = with_rule(shipped("jiushen"), "member.quit", mode="shadow")

    decisions = decide(left("lisi"), context(policy=policy))

    assert kinds(decisions) == ["RecordLedger"]
    (entry,) = decisions
    assert isinstance(entry, RecordLedger)
    assert entry.entry_kind == "shadow"
    assert entry.member == "lisi"
    # A departure whose manner is unknown would not have been an offence either: nothing to shadow.
    assert decide(left("lisi", scene=None), context(policy=policy)) == []


def test_before_the_rulebook_takes_effect_every_rule_only_shadows() -> None:
    decisions = decide(left("lisi", at=BEFORE_EFFECTIVE), context())
    assert [(d.kind, getattr(d, "entry_kind", None)) for d in decisions] == [("RecordLedger", "shadow")]


def test_replaying_an_event_decides_the_same_and_a_new_event_gets_new_ids() -> None:
    first = decide(left("lisi"), context())
    again = decide(left("lisi"), context())
    other = decide(left("lisi", event_id="hquit2"), context())

    assert first == again
    ids = [d.entry_id for d in first if isinstance(d, RecordLedger)]
    assert ids == [d.entry_id for d in again if isinstance(d, RecordLedger)]
    assert ids != [d.entry_id for d in other if isinstance(d, RecordLedger)]
    assert ids[0].startswith("L")
    assert len(ids[0]) == 9


def test_the_membership_rule_modules_stay_pure() -> None:
    # Imported alone, in a fresh interpreter: no AWS, HTTP or pydantic module comes along, and no clock is read.
    modules = ["membership", "group_name", "voice", "escalation", "decisions_membership"]
    code = (
        "import sys\n"
        + "".join(f"import chalicelib.rules.{name}\n" for name in modules)
        + "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        + "('boto3', 'botocore', 'pynamodb', 'pydantic', 'requests', 'urllib3', 'httpx', 'yaml'))))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert found.stdout.strip() == ""
    for name in modules:
        source = (ROOT / "chalicelib" / "rules" / f"{name}.py").read_text(encoding="utf-8")
        assert not re.search(r"\.now\(|\btime\.time\(|\.today\(|utcnow", source), name


def test_several_departures_found_at_once_make_one_alert() -> None:
    decisions = decide(left("lisi", "zhangsan", scene=None), context("appchat"))

    assert kinds(decisions) == ["AlertAdmins"]
    (alert,) = decisions
    assert isinstance(alert, AlertAdmins)
    assert alert.what == "lisi、zhangsan 已离开群聊，平台没有告知是自行退出还是被移出，未记警告"
    assert alert.member == "lisi、zhangsan"
    assert alert.action == "如属执意退群，可私信回复：警告 @成员 篇二 3.7 说明"


def test_no_message_is_lost_to_the_outboxs_identity_when_several_members_quit() -> None:
    # The outbox merges messages with the same (event, kind, clause, recipient, ref): every alert and reminder these
    # decisions ask for must survive as a message of its own.
    event = left("lisi", "zhangsan")
    decisions = decide(event, context())

    messages = outbox.messages_for(event, decisions, "Asia/Shanghai")

    wanted = [d for d in decisions if isinstance(d, AlertAdmins | RemindMember)]
    assert len(messages) == sum(len(d.recipients) if isinstance(d, AlertAdmins) else 1 for d in wanted) == 6

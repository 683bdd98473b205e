"""Required members (篇一 二(2)) as a pure rule: a hand-built directory and group snapshot against the shipped
art_elite policy (positions 总监/店长/部门主管 and every department leader), reported once until the set changes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from chalicelib.decisions import AlertAdmins, Decision, RecordLedger, RemindMember
from chalicelib.effects import outbox
from chalicelib.events import Channel, GroupReconciled
from chalicelib.record import Record
from chalicelib.rules import required
from chalicelib.rules.compiled import Act, CompiledPolicy, Rung, shipped
from chalicelib.rules.context import Context
from chalicelib.rules.decisions_membership import RecordRequiredMissing
from chalicelib.rules.roster import GroupSnapshot, MemberFacts
from chalicelib.texts import alerts

NOW = 1_790_000_000  # 2026-09-21 22:13 in Asia/Shanghai; art_elite is in force from 2026-01-01
BEFORE_EFFECTIVE = 1_767_150_000
CHAT = "wrArtGroup"
ADMINS = ("boss", "owner1")
GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def staff(userid: str, name: str, **facts: Any) -> MemberFacts:
    return MemberFacts(userid=userid, in_directory=True, name=name, **facts)


DIRECTORY = (
    staff("zhao", "赵总监", position="总监", departments=("市场部",), department_ids=(3,)),
    staff("qian", "钱店长", position="店长", departments=("一号店", "门店"), department_ids=(11, 10)),
    staff("sun", "孙组长", leader=True, departments=("设计组", "设计部"), department_ids=(21, 20)),
    staff("li", "李员工", position="设计师", departments=("设计组", "设计部"), department_ids=(21, 20), tags=("核心",)),
    staff("zhou", "周员工", position="", departments=("财务部",), department_ids=(5,)),
)


def replace(record: Any, **changes: Any) -> Any:
    assert isinstance(record, Record)
    return type(record)(**{**{name: getattr(record, name) for name in record._fields}, **changes})


def with_rule(policy: CompiledPolicy, **changes: Any) -> CompiledPolicy:
    rules = tuple(replace(rule, **changes) if rule.kind == "required_members" else rule for rule in policy.rules)
    return replace(policy, rules=rules)


def with_params(**params: Any) -> CompiledPolicy:
    (rule,) = shipped("art_elite").of_kind("required_members")
    return with_rule(shipped("art_elite"), params={**rule.params, **params})


def reconciled(at: int = NOW) -> GroupReconciled:
    return GroupReconciled(
        tenant="acme", channel=Channel.JOB, event_id="reconcile:1", at=at, sender="sys", chat_id=CHAT
    )


def context(
    *present: str,
    policy: CompiledPolicy | None = None,
    reported: tuple[str, ...] = (),
    kind: str = "internal",
    governed: bool = True,
    snapshot: bool = True,
    roles: dict[str, frozenset[str]] | None = None,
) -> Context:
    members = tuple(MemberFacts(userid=userid) for userid in present)
    known = roles or {}
    return Context(
        policy=policy or shipped("art_elite"),
        admins=ADMINS,
        group_kind=kind,
        group_name="ART精英交流群",
        governed=governed,
        roles_of=lambda member: known.get(member, frozenset()),
        snapshot=GroupSnapshot(chat_id=CHAT, kind=kind, owner="owner1", members=members) if snapshot else None,
        directory=DIRECTORY,
        reported_missing=reported,
    )


def decide(ctx: Context, at: int = NOW) -> list[Decision]:
    return required.decide(reconciled(at), ctx)


def kinds(decisions: list[Decision]) -> list[str]:
    return [decision.kind for decision in decisions]


def missing_of(decisions: list[Decision]) -> tuple[str, ...]:
    [record] = [d for d in decisions if isinstance(d, RecordRequiredMissing)]
    return record.members


def test_the_seed_requires_directors_store_managers_and_department_leaders() -> None:
    decisions = decide(context("owner1", "li"))

    assert kinds(decisions) == ["RecordRequiredMissing", "RemindMember", "RemindMember", "RemindMember", "AlertAdmins"]
    assert decisions[0] == RecordRequiredMissing(chat_id=CHAT, members=("qian", "sun", "zhao"), clause="1.2.2")
    reminders = [d for d in decisions if isinstance(d, RemindMember)]
    assert [(r.member, r.clause) for r in reminders] == [("qian", "1.2.2"), ("sun", "1.2.2"), ("zhao", "1.2.2")]
    assert reminders[0].what == (
        "按群规 篇一 二(2)，您必须加入群聊“ART精英交流群”，目前您还不在群里。请联系群主（owner1）邀请您入群。"
    )
    alert = decisions[-1]
    assert isinstance(alert, AlertAdmins)
    assert alert.what == "3位按群规必须加入本群的成员尚未入群"
    assert alert.member == "钱店长（qian）、孙组长（sun）、赵总监（zhao）"
    assert alert.action == "已私信提醒3人入群；请群主邀请他们加入"
    assert (alert.recipients, alert.clause, alert.group, alert.evidence_at, alert.ref) == (
        ADMINS,
        "1.2.2",
        CHAT,
        NOW,
        "",
    )
    assert not [d for d in decisions if isinstance(d, RecordLedger)]  # missing is not an offence


def test_the_same_missing_set_is_not_reported_again() -> None:
    assert decide(context("owner1", reported=("qian", "sun", "zhao"))) == []


def test_a_newly_missing_member_is_reported_and_only_they_are_reminded() -> None:
    decisions = decide(context("owner1", reported=("qian", "zhao")))

    assert missing_of(decisions) == ("qian", "sun", "zhao")
    assert [d.member for d in decisions if isinstance(d, RemindMember)] == ["sun"]
    [alert] = [d for d in decisions if isinstance(d, AlertAdmins)]
    assert alert.what == "3位按群规必须加入本群的成员尚未入群（其中1人是新发现的）"
    assert alert.member == "钱店长（qian）、孙组长（sun）、赵总监（zhao）"
    assert alert.action == "已私信提醒1人入群；请群主邀请他们加入"


def test_when_someone_joins_the_smaller_set_is_recorded_and_the_rest_reported_without_reminders() -> None:
    decisions = decide(context("owner1", "qian", reported=("qian", "sun", "zhao")))

    assert kinds(decisions) == ["RecordRequiredMissing", "AlertAdmins"]
    assert missing_of(decisions) == ("sun", "zhao")


def test_when_everyone_is_in_the_empty_set_is_recorded_once() -> None:
    everyone = context("owner1", "qian", "sun", "zhao", reported=("sun",))
    assert decide(everyone) == [RecordRequiredMissing(chat_id=CHAT, members=(), clause="1.2.2")]
    assert decide(context("owner1", "qian", "sun", "zhao")) == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"positions": [], "leaders": False, "userids": ["zhou", "nobody"]}, ("nobody", "zhou")),  # userids as given
        ({"positions": [], "leaders": False, "departments": ["设计部"]}, ("li", "sun")),  # ancestors included
        ({"positions": [], "leaders": False, "departments": ["5"]}, ("zhou",)),  # by id
        ({"positions": [], "leaders": False, "tags": ["核心"]}, ("li",)),
        ({"positions": ["设计师"], "leaders": False}, ("li",)),
        ({"positions": [], "leaders": True}, ("sun",)),
        ({"positions": [""], "leaders": False}, ()),  # an empty position is no position
    ],
)
def test_who_is_required(params: dict[str, Any], expected: tuple[str, ...]) -> None:
    decisions = decide(context(policy=with_params(**params)))
    assert missing_of(decisions) == expected if expected else decisions == []


def test_exempt_people_are_not_required() -> None:
    policy = with_rule(shipped("art_elite"), exempt_userids=("zhao",), exempt_roles=("tenant_admin",))
    decisions = decide(context(policy=policy, roles={"qian": frozenset({"tenant_admin"})}))
    assert missing_of(decisions) == ("sun",)


def test_actions_follow_the_rules_first_step() -> None:
    alert_only = with_rule(shipped("art_elite"), ladder=(Rung(at=1, do=(Act(type="alert_admins"),)),))
    assert kinds(decide(context(policy=alert_only))) == ["RecordRequiredMissing", "AlertAdmins"]
    remind_only = with_rule(shipped("art_elite"), ladder=(Rung(at=1, do=(Act(type="remind"),)),))
    assert kinds(decide(context(policy=remind_only))) == ["RecordRequiredMissing"] + ["RemindMember"] * 3


def test_a_shadow_rule_records_the_newly_missing_and_the_set() -> None:
    policy = with_rule(shipped("art_elite"), mode="shadow")
    decisions = decide(context(policy=policy, reported=("zhao",)))

    assert kinds(decisions) == ["RecordRequiredMissing", "RecordLedger", "RecordLedger"]
    assert missing_of(decisions) == ("qian", "sun", "zhao")
    entries = [d for d in decisions if isinstance(d, RecordLedger)]
    assert [(e.entry_kind, e.member, e.rule, e.group) for e in entries] == [
        ("shadow", "qian", "members.required", CHAT),
        ("shadow", "sun", "members.required", CHAT),
    ]
    assert entries[0].entry_id != entries[1].entry_id
    assert kinds(decide(context(), at=BEFORE_EFFECTIVE))[1:] == ["RecordLedger"] * 3  # not yet in force: shadow


def test_nothing_without_a_snapshot_in_an_ungoverned_group_or_where_the_rule_does_not_apply() -> None:
    assert decide(context(snapshot=False)) == []
    assert decide(context(governed=False)) == []
    assert decide(context(policy=with_rule(shipped("art_elite"), group_kinds=("customer",)))) == []
    assert required.decide(reconciled(), replace(context(), policy=shipped("jiushen"))) == []


def test_every_reminder_and_the_alert_survive_the_outboxs_identity() -> None:
    event = reconciled()
    decisions = required.decide(event, context())
    messages = outbox.messages_for(event, decisions, "Asia/Shanghai")
    assert sorted(message.to for _, message in messages) == sorted(["qian", "sun", "zhao", *ADMINS])


def test_a_long_list_is_cut_in_the_alert() -> None:
    many = tuple(staff(f"m{i:02d}", f"店长{i}", position="店长") for i in range(15))
    ctx = replace(context(), directory=many)
    [alert] = [d for d in decide(ctx) if isinstance(d, AlertAdmins)]
    assert alert.what.startswith("15位")
    assert alert.member.endswith("店长9（m09）等15人")


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("QUNGUI_UPDATE_GOLDEN"):
        path.write_text(text + "\n", encoding="utf-8")
    assert text + "\n" == path.read_text(encoding="utf-8")


def test_the_alert_is_pinned() -> None:
    [alert] = [d for d in decide(context("owner1", reported=("qian", "zhao"))) if isinstance(d, AlertAdmins)]
    golden(
        "roster_required_alert.md",
        alerts.admin_alert(
            what=alert.what, clause=alert.clause, ref="3f9a1c2b7d", group=alert.group, group_name=alert.group_name,
            member=alert.member, evidence_at=alert.evidence_at, action=alert.action,
        ),
    )  # fmt: skip

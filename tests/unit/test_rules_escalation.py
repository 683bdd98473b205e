"""The policy's escalation as a pure rule: an event's warnings plus the member's recent ones, weighed and windowed, lead
to the step they cross; removal only where the platform can remove."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from chalicelib.decisions import AlertAdmins, Decision, RecordLedger, RemindMember
from chalicelib.effects import outbox
from chalicelib.events import Channel, Event, MemberLeft, MessagePosted
from chalicelib.record import Record
from chalicelib.rules import escalation, membership
from chalicelib.rules.compiled import Act, CompiledPolicy, Rung, shipped
from chalicelib.rules.context import Context
from chalicelib.rules.decisions_membership import RemoveMember
from chalicelib.rules.escalation import WarningSeen
from chalicelib.store.models import LedgerEntry

NOW = 1_790_000_000  # 2026-09-21 22:13 in Asia/Shanghai
DAY = 86400
CHAT = "wrGroup"
ADMINS = ("boss", "owner1")


def replace(record: Any, **changes: Any) -> Any:
    assert isinstance(record, Record)
    return type(record)(**{**{name: getattr(record, name) for name in record._fields}, **changes})


def with_steps(policy: CompiledPolicy, *steps: tuple[int, Sequence[str]], **settings: int) -> CompiledPolicy:
    document = {
        "window_days": settings.get("window_days", 30),
        "serious_counts_as": settings.get("serious_counts_as", 2),
        "steps": [{"warnings": n, "do": [{"type": t} for t in do]} for n, do in steps],
    }
    return replace(policy, escalation=document)


REMOVAL = with_steps(shipped("art_elite"), (3, ["alert_admins"]), (5, ["remind", "remove_member"]))


def message(event_id: str = "m1", at: int = NOW) -> MessagePosted:
    return MessagePosted(
        tenant="acme", channel=Channel.ARCHIVE, event_id=event_id, at=at, sender="lisi", chat_id=CHAT, msg_type="text"
    )


def warning(rule: str, *, member: str = "lisi", entry_id: str = "Lnew", group: str | None = CHAT) -> RecordLedger:
    return RecordLedger(
        entry_id=entry_id,
        entry_kind="warning",
        member=member,
        rule=rule,
        clause_text="…",
        clause={"content.harmful": "1.3.5", "content.illegal": "1.3.3"}.get(rule, "2.3.7"),
        group=group,
        at=NOW,
    )


def seen(*ages_in_days: float, serious: bool = False, rule: str = "content.illegal") -> list[WarningSeen]:
    return [
        WarningSeen(entry_id=f"Lold{i}{serious}", at=NOW - int(age * DAY), rule=rule, serious=serious)
        for i, age in enumerate(ages_in_days)
    ]


def context(
    policy: CompiledPolicy | None = None,
    kind: str = "customer",
    *,
    prior: int = 0,
    ledger: Sequence[LedgerEntry] = (),
) -> Context:
    return Context(
        policy=policy or shipped("art_elite"),
        admins=ADMINS,
        group_kind=kind,
        group_name="ART精英交流群",
        prior_offences=lambda member, rule: prior,
        member_ledger=lambda member: [entry for entry in ledger if entry.member == member],
    )


def decide(
    produced: Sequence[Decision],
    ctx: Context | None = None,
    earlier: Sequence[WarningSeen] = (),
    *,
    event: Event | None = None,
    roles: dict[str, frozenset[str]] | None = None,
) -> list[Decision]:
    known = roles or {}
    return escalation.decide(
        event or message(),
        ctx or context(),
        produced,
        roles_of=lambda member: known.get(member, frozenset()),
        recent_warnings=lambda member, since: list(earlier),
    )


def kinds(decisions: Sequence[Decision]) -> list[str]:
    return [decision.kind for decision in decisions]


# ---- counting ----


def test_the_third_warning_within_the_window_alerts_the_admins() -> None:
    decisions = decide([warning("content.illegal")], earlier=seen(2, 20))

    assert kinds(decisions) == ["AlertAdmins"]
    (alert,) = decisions
    assert isinstance(alert, AlertAdmins)
    assert alert.what == "lisi 近30天累计3次警告，已达到群规的升级条件（最近一次依据：群规 篇一 三(3)）"
    # No clause of its own; the warning that tipped the count is the one admins may waive.
    assert (alert.recipients, alert.clause, alert.group, alert.member, alert.ref) == (
        ADMINS,
        None,
        CHAT,
        "lisi",
        "Lnew",
    )
    assert alert.action == "请群主和管理员留意"


def test_below_the_threshold_nothing_happens() -> None:
    assert decide([warning("content.illegal")], earlier=seen(2)) == []


def test_a_member_already_above_the_threshold_is_not_escalated_again_by_every_warning() -> None:
    assert decide([warning("content.illegal")], earlier=seen(1, 2, 3)) == []


def test_warnings_older_than_the_window_stop_counting() -> None:
    assert decide([warning("content.illegal")], earlier=seen(31, 45)) == []
    assert kinds(decide([warning("content.illegal")], earlier=seen(30, 29.9))) == ["AlertAdmins"]  # inclusive
    short = with_steps(shipped("art_elite"), (3, ["alert_admins"]), window_days=7)
    assert decide([warning("content.illegal")], context(short), earlier=seen(2, 8)) == []


def test_a_serious_warning_weighs_serious_counts_as() -> None:
    # art_elite: content.harmful gives {warn: serious} (篇一 三(5)), content.illegal a plain warning.
    decisions = decide([warning("content.harmful")], earlier=seen(3))

    assert kinds(decisions) == ["AlertAdmins"]
    (alert,) = decisions
    assert isinstance(alert, AlertAdmins)
    assert alert.what == (
        "lisi 近30天累计2次警告，折算3次（严重警告按2次计），已达到群规的升级条件（最近一次依据：群规 篇一 三(5)）"
    )
    assert decide([warning("content.illegal")], earlier=seen(3)) == []


def test_earlier_serious_warnings_weigh_too_and_the_weight_is_the_policys() -> None:
    assert kinds(decide([warning("content.illegal")], earlier=seen(3, serious=True))) == ["AlertAdmins"]
    heavy = with_steps(shipped("art_elite"), (3, ["alert_admins"]), serious_counts_as=3)
    assert kinds(decide([warning("content.harmful")], context(heavy))) == ["AlertAdmins"]


def test_a_ladder_that_mixes_severities_weighs_the_step_that_warned() -> None:
    ladder = (Rung(at=1, do=(Act(type="warn"),)), Rung(at=2, do=(Act(type="warn", severity="serious"),)))
    rules = tuple(replace(r, ladder=ladder) if r.id == "content.illegal" else r for r in shipped("art_elite").rules)
    policy = replace(shipped("art_elite"), rules=rules)

    assert decide([warning("content.illegal")], context(policy, prior=0), seen(3)) == []
    assert kinds(decide([warning("content.illegal")], context(policy, prior=1), seen(3))) == ["AlertAdmins"]


def test_only_active_warnings_count() -> None:
    shadow = replace(warning("content.illegal"), entry_kind="shadow")
    waived = replace(warning("content.illegal"), status="waived")
    fine = replace(warning("content.illegal"), entry_kind="fine", amount=50.0)
    assert decide([shadow, waived, fine], earlier=seen(1, 2, 3, 4)) == []


def test_a_warning_already_in_the_ledger_is_not_counted_twice_on_a_replay() -> None:
    produced = [warning("content.illegal", entry_id="Lsame")]
    earlier = [*seen(2), WarningSeen(entry_id="Lsame", at=NOW, rule="content.illegal")]
    assert decide(produced, earlier=earlier) == []


def test_crossing_two_steps_at_once_takes_the_higher_one() -> None:
    policy = with_steps(
        shipped("art_elite"), (3, ["alert_admins"]), (5, ["remind", "remove_member"]), serious_counts_as=3
    )

    decisions = decide([warning("content.harmful")], context(policy, "appchat"), earlier=seen(1, 2))  # 2 → 5

    assert kinds(decisions) == ["RemindMember", "RemoveMember", "AlertAdmins"]
    alert = decisions[-1]
    assert isinstance(alert, AlertAdmins)
    assert alert.what.startswith("lisi 近30天累计3次警告，折算5次（严重警告按3次计），已达到群规的升级条件")


def test_no_steps_no_escalation() -> None:
    assert (
        decide([warning("content.illegal")], context(replace(shipped("art_elite"), escalation=None)), seen(1, 2)) == []
    )


# ---- what a step does, per kind of group ----


def test_removal_in_an_app_created_group() -> None:
    decisions = decide([warning("content.illegal")], context(REMOVAL, "appchat"), earlier=seen(1, 2, 3, 4))

    assert kinds(decisions) == ["RemindMember", "RemoveMember", "AlertAdmins"]
    reminder, removal, alert = decisions
    assert removal == RemoveMember(chat_id=CHAT, member="lisi", rule="escalation", at=NOW, clause="1.3.3")
    assert isinstance(reminder, RemindMember)
    assert reminder.member == "lisi"
    assert reminder.what == (
        "您近30天已累计5次警告，达到了5次的升级条件，群主和管理员已知悉。请遵守群规；回复“我的记录”可查看每一次记录。"
    )
    assert reminder.ref
    assert reminder.ref != "Lnew"
    assert isinstance(alert, AlertAdmins)
    assert alert.action == "已将其移出群聊"


@pytest.mark.parametrize(("kind", "label"), [("customer", "客户群"), ("internal", "内部群")])
def test_where_no_api_removes_the_owner_is_asked_to(kind: str, label: str) -> None:
    decisions = decide([warning("content.illegal")], context(REMOVAL, kind), earlier=seen(1, 2, 3, 4))

    assert kinds(decisions) == ["RemindMember", "AlertAdmins"]
    alert = decisions[-1]
    assert isinstance(alert, AlertAdmins)
    assert alert.action == f"{label}没有接口可以移出成员，请群主在群成员列表中手动移出"


def test_owners_and_admins_are_never_removed() -> None:
    for role in ("owner", "admin", "tenant_admin"):
        decisions = decide(
            [warning("content.illegal")],
            context(REMOVAL, "appchat"),
            earlier=seen(1, 2, 3, 4),
            roles={"lisi": frozenset({role})},
        )
        assert "RemoveMember" not in kinds(decisions)
        alert = decisions[-1]
        assert isinstance(alert, AlertAdmins)
        assert alert.action == "该成员是群主或管理员，不自动移出，请人工处理"


def test_a_warning_recorded_outside_a_group_cannot_remove() -> None:
    decisions = decide([warning("content.illegal", group=None)], context(REMOVAL, "appchat"), earlier=seen(1, 2, 3, 4))
    assert "RemoveMember" not in kinds(decisions)
    alert = decisions[-1]
    assert isinstance(alert, AlertAdmins)
    assert alert.action == "这些警告不是在某个群里记的，无法自动移出，请人工处理"


def test_a_quit_that_crosses_the_threshold_alerts_and_removes_nobody() -> None:
    # End to end through 篇二 3.7: the quit rule's warning is this event's; two earlier warnings make three.
    policy = with_steps(shipped("jiushen"), (3, ["alert_admins", "remove_member"]))
    ctx = context(policy, "appchat")
    event = MemberLeft(
        tenant="acme", channel=Channel.APP, event_id="hq", at=NOW, sender="sys", chat_id=CHAT, members=("lisi",),
        quit_scene=0,
    )  # fmt: skip
    produced = membership.decide(event, ctx, roles_of=lambda member: frozenset())

    decisions = decide(produced, ctx, seen(3, 4, rule="member.quit"), event=event)

    assert kinds(decisions) == ["AlertAdmins"]
    alert = decisions[0]
    assert isinstance(alert, AlertAdmins)
    assert alert.what.endswith("（最近一次依据：群规 篇二 3.7）")
    assert alert.action == "该成员已离开群聊，无需移出"


def test_each_member_is_weighed_on_their_own() -> None:
    produced = [warning("content.illegal", member="lisi"), warning("content.illegal", member="zhangsan", entry_id="L2")]

    decisions = decide(produced, earlier=seen(1, 2))

    assert [d.member for d in decisions if isinstance(d, AlertAdmins)] == ["lisi", "zhangsan"]


# ---- the ledger as the source of earlier warnings ----


def entry(
    entry_id: str,
    rule: str,
    *,
    age_days: float = 1,
    kind: str = "warning",
    status: str = "active",
    severity: str | None = None,
) -> LedgerEntry:
    at = NOW - int(age_days * DAY)
    return LedgerEntry(
        "T#acme", f"LEDGER#{at:012d}#{entry_id}", entry_id=entry_id, kind=kind, member="lisi", group=CHAT, rule=rule,
        clause="…", status=status, at=at, severity=severity,
    )  # fmt: skip


def test_earlier_warnings_are_read_from_the_ledger_with_their_rules_weight() -> None:
    ledger = [
        entry("L1", "content.harmful"),  # serious on every step: weighs 2
        entry("L2", "content.illegal", status="waived"),
        entry("L3", "content.illegal", kind="shadow"),
        entry("L4", "content.illegal", age_days=40),
    ]
    found = escalation.warnings_from_ledger(ledger, shipped("art_elite"), NOW - 30 * DAY)
    assert found == [WarningSeen(entry_id="L1", at=NOW - DAY, rule="content.harmful", serious=True)]

    decisions = escalation.decide(
        message(), context(ledger=ledger), [warning("content.illegal")], roles_of=lambda member: frozenset()
    )
    assert kinds(decisions) == ["AlertAdmins"]


def test_a_recorded_severity_outweighs_the_rules_ladder() -> None:
    # content.illegal's ladder warns plainly, but an entry that says it was serious (a policy edited since, or a
    # mixed ladder's serious step) weighs as serious; one that says normal weighs 1 even on an all-serious rule.
    ledger = [entry("L1", "content.illegal", severity="serious"), entry("L2", "content.harmful", severity="normal")]
    found = escalation.warnings_from_ledger(ledger, shipped("art_elite"), NOW - 30 * DAY)
    assert [(w.entry_id, w.serious) for w in found] == [("L1", True), ("L2", False)]


def test_replaying_an_event_decides_the_same() -> None:
    ctx = context(REMOVAL, "appchat")
    first = decide([warning("content.illegal")], ctx, earlier=seen(1, 2, 3, 4))
    assert first == decide([warning("content.illegal")], ctx, earlier=seen(1, 2, 3, 4))
    other = decide([warning("content.illegal")], ctx, earlier=seen(1, 2, 3, 4), event=message("m2"))
    assert isinstance(first[0], RemindMember)
    assert isinstance(other[0], RemindMember)
    assert first[0].ref != other[0].ref


def test_escalation_messages_stay_apart_from_the_rules_own_and_from_each_other() -> None:
    # Two members quit at once and both cross the threshold: the outbox, which merges messages with the same (event,
    # kind, clause, recipient, ref), must still hold every reminder and alert the rules and the escalation asked for.
    policy = with_steps(shipped("jiushen"), (3, ["remind", "alert_admins"]))
    ctx = context(policy, "customer")
    event = MemberLeft(
        tenant="acme", channel=Channel.APP, event_id="hq", at=NOW, sender="sys", chat_id=CHAT,
        members=("lisi", "zhangsan"), quit_scene=0,
    )  # fmt: skip
    produced = membership.decide(event, ctx, roles_of=lambda member: frozenset())
    escalated = decide(produced, ctx, seen(3, 4, rule="member.quit"), event=event)
    everything = [*produced, *escalated]

    messages = outbox.messages_for(event, everything, "Asia/Shanghai")

    assert kinds(escalated) == ["RemindMember", "AlertAdmins", "RemindMember", "AlertAdmins"]
    reminders = sum(isinstance(d, RemindMember) for d in everything)
    alerts = sum(len(d.recipients) for d in everything if isinstance(d, AlertAdmins))
    assert (reminders, alerts) == (4, 8)
    assert len(messages) == reminders + alerts

"""The policy's `escalation`: warnings across all rules, in a sliding window of `window_days`, lead to the step whose
`warnings` threshold they reach (e.g. 3 in 30 days → admins alerted; removal from an app-created group where the
policy says so). A serious warning (严重警告) weighs `serious_counts_as`.

It runs after the other rules, on the decisions they produced for the same event: a step acts when this event's
warnings carry the member's weighted count across its threshold (below before, at or above after), so a member is
escalated once per crossing, not again with every later warning while above it; warnings that age out of the window
lower the count, and crossing again escalates again. Only active warnings count: a waived or reversed one does not,
and shadow entries are not warnings.

Pure: the member's earlier warnings come from `recent_warnings` (default: read through `context.member_ledger`).
A ledger entry records its warning's severity; entries written before it did weigh what their rule's ladder says
whenever that is unambiguous (see warnings_from_ledger). A warning produced by this event takes the severity of the
ladder step that produced it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from chalicelib.decisions import AlertAdmins, Decision, RecordLedger, RemindMember
from chalicelib.events import Event, MemberLeft
from chalicelib.record import Record
from chalicelib.rules.compiled import Act, CompiledPolicy
from chalicelib.rules.context import Context
from chalicelib.rules.membership import Roles, removal, source_of
from chalicelib.rules.moderation import entry_id
from chalicelib.texts import membership as texts

if TYPE_CHECKING:
    from chalicelib.store.models import LedgerEntry

RULE_ID = "escalation"
DAY = 86400


class WarningSeen(Record):
    """One of the member's warnings as escalation weighs it."""

    entry_id: str
    at: int
    rule: str
    serious: bool = False


class Step(Record):
    warnings: int
    do: tuple[Act, ...]


class Escalation(Record):
    window_days: int = 30
    serious_counts_as: int = 2
    steps: tuple[Step, ...] = ()


# (member, since epoch) -> the member's active warnings at or after `since`.
RecentWarnings = Callable[[str, int], Sequence[WarningSeen]]


def settings(policy: CompiledPolicy) -> Escalation:
    data: Any = policy.escalation or {}
    steps = tuple(
        Step(
            warnings=int(step["warnings"]),
            do=tuple(
                Act(type=act["type"], amount=act.get("amount"), severity=act.get("severity", "normal"))
                for act in step.get("do", ())
            ),
        )
        for step in data.get("steps", ())
    )
    return Escalation(
        window_days=int(data.get("window_days", 30)),
        serious_counts_as=int(data.get("serious_counts_as", 2)),
        steps=tuple(sorted(steps, key=lambda step: step.warnings)),
    )


def decide(
    event: Event,
    context: Context,
    produced: Sequence[Decision],
    *,
    roles_of: Roles,
    recent_warnings: RecentWarnings | None = None,
) -> list[Decision]:
    """Escalation for every member this event's decisions (`produced`) gave an active warning."""
    config = settings(context.policy)
    if not config.steps:
        return []
    new: dict[str, list[RecordLedger]] = {}
    for decision in produced:
        if isinstance(decision, RecordLedger) and decision.entry_kind == "warning" and decision.status == "active":
            new.setdefault(decision.member, []).append(decision)
    if not new:
        return []
    since = event.at - config.window_days * DAY
    earlier = recent_warnings or _from_member_ledger(context)
    decisions: list[Decision] = []
    for member, entries in new.items():
        fresh = {entry.entry_id for entry in entries}
        # A warning this event already wrote (a replay that reads its own writes) must not count twice.
        past = [w for w in earlier(member, since) if w.entry_id not in fresh and since <= w.at <= event.at]
        weight = config.serious_counts_as
        before = sum(weight if w.serious else 1 for w in past)
        after = before + sum(weight if _serious(entry, context) else 1 for entry in entries)
        crossed = [step for step in config.steps if before < step.warnings <= after]
        if crossed:
            warnings = len(past) + len(entries)
            decisions += _escalate(event, context, config, crossed[-1], member, entries[-1], warnings, after, roles_of)
    return decisions


def _escalate(
    event: Event,
    context: Context,
    config: Escalation,
    step: Step,
    member: str,
    trigger: RecordLedger,
    warnings: int,
    weighted: int,
    roles_of: Roles,
) -> list[Decision]:
    types = {act.type for act in step.do}
    decisions: list[Decision] = []
    if "remind" in types:
        decisions.append(
            RemindMember(
                member=member,
                what=texts.escalation_member(
                    warnings=warnings, weighted=weighted, days=config.window_days, threshold=step.warnings
                ),
                clause=trigger.clause,
                # Not the warning's id: the rule's own reminder about the warning carries that, and the outbox keys
                # messages by (event, kind, clause, recipient, ref) — the same ref would merge the two.
                ref=entry_id(event.tenant, source_of(event), RULE_ID, member, f"step{step.warnings}"),
            )
        )
    actions: list[str] = []
    if "remove_member" in types:
        departed = isinstance(event, MemberLeft) and member in event.members
        removed, said = removal(
            chat_id=trigger.group if trigger.group == getattr(event, "chat_id", None) else None,
            member=member,
            rule=RULE_ID,
            at=event.at,
            clause=trigger.clause,
            context=context,
            roles=roles_of(member),
            departed=departed,
        )
        decisions += removed
        actions.append(said)
    if types & {"alert_admins", "remove_member"}:
        decisions.append(
            AlertAdmins(
                recipients=context.alert_recipients,
                what=texts.escalation_admin(
                    member=member,
                    warnings=warnings,
                    weighted=weighted,
                    days=config.window_days,
                    serious_counts_as=config.serious_counts_as,
                    latest=trigger.clause,
                ),
                # The escalation enforces the policy, not one clause (the latest one is named in `what`). The
                # outbox keys alerts by (event, clause, recipient, ref): no clause and the latest warning as ref keep
                # this alert apart from the rule's own alert about that warning and from another member's, and
                # let an admin waive the warning that tipped the count.
                clause=None,
                ref=trigger.entry_id,
                group=trigger.group,
                group_name=context.group_name if trigger.group else "",
                member=member,
                evidence_at=event.at,
                action="；".join(actions) or texts.ESCALATION_NOTED,
            )
        )
    return decisions


def _serious(entry: RecordLedger, context: Context) -> bool:
    """Whether a warning this event produced is a serious one: the `warn` of the ladder step that produced it."""
    rule = next((rule for rule in context.policy.rules if rule.id == entry.rule), None)
    if rule is None:
        return False
    severities = {act.severity for rung in rule.ladder for act in rung.do if act.type == "warn"}
    if len(severities) <= 1:
        return severities == {"serious"}  # one severity on every step: no need to know which step
    number = context.prior_offences(entry.member, rule.id) + 1
    return any(act.type == "warn" and act.severity == "serious" for act in rule.actions_for(number))


def always_serious(policy: CompiledPolicy, rule_id: str) -> bool:
    """Whether every `warn` of the rule's ladder is serious: the weight of a past warning of that rule written before
    the ledger recorded severity (a ladder that mixes severities counts such warnings as normal)."""
    rule = next((rule for rule in policy.rules if rule.id == rule_id), None)
    if rule is None:
        return False
    return {act.severity for rung in rule.ladder for act in rung.do if act.type == "warn"} == {"serious"}


def warnings_from_ledger(entries: Iterable[LedgerEntry], policy: CompiledPolicy, since: int) -> list[WarningSeen]:
    """The active warnings among a member's ledger entries, at or after `since`, as escalation weighs them."""
    return [
        WarningSeen(
            entry_id=entry.entry_id,
            at=int(entry.at),
            rule=entry.rule,
            # Entries written since the ledger records severity carry it; older ones fall back to the rule's ladder.
            serious=entry.severity == "serious" if entry.severity else always_serious(policy, entry.rule),
        )
        for entry in entries
        if entry.kind == "warning" and entry.status == "active" and int(entry.at) >= since
    ]


def _from_member_ledger(context: Context) -> RecentWarnings:
    return lambda member, since: warnings_from_ledger(context.member_ledger(member), context.policy, since)

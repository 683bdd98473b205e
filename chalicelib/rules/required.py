"""Required members (篇一 二(2) 公司全体管理人员必须加入本群): the people a group must hold — named userids, and every
staff member the directory puts in the rule's departments, tags or positions, or marks a department leader.

Reconciliation runs often, so the missing are reported only when the set changes: the roster keeps the set last
reported (RecordRequiredMissing → context.reported_missing), the admins get one alert listing everyone missing, and
only the newly missing are asked 1:1 to join. Being missing is not an offence: no ladder position, no ledger entry;
the rule's actions (remind, alert_admins) are read from its first step.

Pure: the directory's staff come in `context.directory`, the group's members in `context.snapshot`.
"""

from __future__ import annotations

from chalicelib.decisions import AlertAdmins, Decision, RemindMember
from chalicelib.events import GroupReconciled
from chalicelib.rules.compiled import CompiledRule
from chalicelib.rules.context import Context
from chalicelib.rules.decisions_membership import RecordRequiredMissing
from chalicelib.rules.membership import Offence, applies, is_shadow, shadow_entry, source_of
from chalicelib.rules.roster import GroupSnapshot, MemberFacts
from chalicelib.texts import roster as texts


def decide(event: GroupReconciled, context: Context) -> list[Decision]:
    """Every `required_members` rule that applies, against the members the reconciliation read."""
    snapshot = context.snapshot
    if not context.governed or snapshot is None:
        return []
    rules = [rule for rule in context.policy.of_kind("required_members") if applies(rule, context)]
    if not rules:
        return []
    present = {facts.userid for facts in snapshot.members}
    missing_by_rule = {rule.id: sorted(required(rule, context) - present) for rule in rules}
    # One set per group, whatever the number of rules: it is what the roster stores and compares.
    missing = tuple(sorted({userid for found in missing_by_rule.values() for userid in found}))
    if missing == tuple(context.reported_missing):
        return []
    decisions: list[Decision] = [RecordRequiredMissing(chat_id=event.chat_id, members=missing, clause=rules[0].clause)]
    reported = set(context.reported_missing)
    for rule in rules:
        found = missing_by_rule[rule.id]
        new = [userid for userid in found if userid not in reported]
        if is_shadow(rule, event, context):
            decisions += [shadow_entry(event, rule, _offence(event, userid), context) for userid in new]
        elif found:
            decisions += _report(event, rule, found, new, snapshot, context)
    return decisions


def required(rule: CompiledRule, context: Context) -> set[str]:
    """The rule's userids and every staff member of the directory it names, less those the rule exempts."""
    people = {str(userid) for userid in rule.param("userids", ()) or ()}
    people |= {facts.userid for facts in context.directory if _named(rule, facts)}
    return {userid for userid in people if not rule.exempts(userid, context.roles_of(userid))}


def _named(rule: CompiledRule, facts: MemberFacts) -> bool:
    departments = {str(d) for d in rule.param("departments", ()) or ()}
    known = set(facts.departments) | {str(number) for number in facts.department_ids}
    return (
        bool(departments & known)
        or bool(set(rule.param("tags", ()) or ()) & set(facts.tags))
        or (bool(facts.position) and facts.position in set(rule.param("positions", ()) or ()))
        or (bool(rule.param("leaders", False)) and facts.leader)
    )


def _report(
    event: GroupReconciled,
    rule: CompiledRule,
    missing: list[str],
    new: list[str],
    snapshot: GroupSnapshot,
    context: Context,
) -> list[Decision]:
    acts = {act.type for act in rule.actions_for(1)}
    reminders: list[Decision] = []
    if "remind" in acts:
        what = texts.required_member(group_name=context.group_name, owner=snapshot.owner, clause=rule.clause)
        reminders = [RemindMember(member=userid, what=what, clause=rule.clause) for userid in new]
    if "alert_admins" not in acts:
        return reminders
    names = {facts.userid: facts.name for facts in context.directory}
    alert = AlertAdmins(
        recipients=context.admins,
        what=texts.required_admin(missing=len(missing), new=len(new)),
        clause=rule.clause,
        group=event.chat_id,
        group_name=context.group_name,
        member=texts.required_members([texts.who(userid, names.get(userid, "")) for userid in missing]),
        evidence_at=event.at,
        action=texts.required_action(reminded=len(reminders)),
    )
    return [*reminders, alert]


def _offence(event: GroupReconciled, userid: str) -> Offence:
    return Offence(member=userid, source=source_of(event), group=event.chat_id, evidence=event.event_id, at=event.at)

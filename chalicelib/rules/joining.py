"""Joining a group: who may join (篇三 5 入群资格, 篇四 三、5 本群只加安徽商会会员) and the welcome (篇三 10
拉同学进群，首先要告知同学群规).

Eligibility: staff are eligible when they match any of the rule's departments (names or ids; the facts list the
ancestors too), tags or userids, or when the rule names none; external contacts as `external` says (allow, deny, or
match tags/userids). An ineligible newcomer goes up the rule's ladder (remind, alert_admins, remove_member, removal
only where an API can: app-created groups); a newcomer removed is not welcomed.

Welcome: never an offence and never a ledger entry. Staff newcomers get the rules 1:1; external contacts cannot
receive the app's messages, so their inviter is briefed with the rules to pass on. A member who joined before is
welcomed back.

What a newcomer is comes from the snapshot the reconciliation read (`context.facts_of`). Without facts (a join
reported by a callback before anyone read the group) eligibility is judged by `userids` alone, and only when the
rule's answer cannot depend on anything else; the welcome waits for facts (staff or external, inviter), so a
callback path without a snapshot welcomes nobody. Pure.
"""

from __future__ import annotations

from chalicelib.decisions import Decision, RemindMember
from chalicelib.events import MemberJoined
from chalicelib.rules.compiled import CompiledPolicy, CompiledRule
from chalicelib.rules.context import Context
from chalicelib.rules.decisions_membership import RemoveMember
from chalicelib.rules.membership import Offence, applies, enforce, is_shadow, shadow_entry, source_of
from chalicelib.rules.names import Unreachable, inviter_of, one_alert_per_clause, reach_external
from chalicelib.rules.roster import MemberFacts
from chalicelib.texts import roster as texts
from chalicelib.texts.alerts import member_reminder
from chalicelib.texts.citations import clause_label, clause_text

APP_TEXT_LIMIT = 2048  # bytes: WeCom's message/send text content (chalicelib.channels.replies)
REF_ROOM = 20  # the outbox's reference (编号) is a 20-character id


def decide(event: MemberJoined, context: Context) -> list[Decision]:
    """Every newcomer of `event` against the policy's `join_eligibility` rules, then its `welcome` rules."""
    if not context.governed:
        return []
    decisions: list[Decision] = []
    for member in dict.fromkeys(event.members):
        facts = context.facts_of(member)
        judged = [
            d for rule in _rules(context, "join_eligibility") for d in _eligibility(event, rule, member, facts, context)
        ]
        decisions += judged
        if facts is not None and not any(isinstance(d, RemoveMember) for d in judged):
            decisions += [d for rule in _rules(context, "welcome") for d in _welcome(event, rule, facts, context)]
    return one_alert_per_clause(decisions)


def _rules(context: Context, kind: str) -> list[CompiledRule]:
    return [rule for rule in context.policy.of_kind(kind) if applies(rule, context)]


# ------------------------------------------------------------------------------------------------ eligibility


def requirement(rule: CompiledRule, member: str, facts: MemberFacts | None) -> str | None:
    """None when `member` may be in the group, else the requirement they fail, as the admins read it. Unknown facts:
    only a rule that admits nobody but its userids can be judged."""
    departments = tuple(str(d) for d in rule.param("departments", ()) or ())
    tags = tuple(str(t) for t in rule.param("tags", ()) or ())
    userids = tuple(str(u) for u in rule.param("userids", ()) or ())
    external = str(rule.param("external", "allow"))
    if member in userids:
        return None
    if facts is None:
        only_userids = bool(userids) and not departments and not tags and external != "allow"
        return texts.staff_requirement(departments=(), tags=(), userids=userids) if only_userids else None
    if facts.external:
        if external == "allow":
            return None
        if external == "deny":
            return texts.EXTERNAL_DENIED
        return None if set(tags) & set(facts.tags) else texts.external_requirement(tags=tags, userids=userids)
    if not (departments or tags or userids):
        return None
    known = set(facts.departments) | {str(number) for number in facts.department_ids}
    if set(departments) & known or set(tags) & set(facts.tags):
        return None
    return texts.staff_requirement(departments=departments, tags=tags, userids=userids)


def _eligibility(
    event: MemberJoined, rule: CompiledRule, member: str, facts: MemberFacts | None, context: Context
) -> list[Decision]:
    roles = context.roles_of(member)
    if rule.exempts(member, roles):
        return []
    failed = requirement(rule, member, facts)
    if failed is None:
        return []
    offence = Offence(member=member, source=source_of(event), group=event.chat_id, evidence=event.event_id, at=event.at)
    if is_shadow(rule, event, context):
        return [shadow_entry(event, rule, offence, context)]
    external = facts is not None and facts.external
    invitor = inviter_of(facts, context) if facts is not None else None
    name = (facts.name or facts.display_name) if facts is not None else ""
    decisions = enforce(
        event,
        rule,
        offence,
        context,
        number=context.prior_offences(member, rule.id) + 1,
        tell_member=lambda done: texts.ineligible_member(group_name=context.group_name, requirement=failed, done=done),
        tell_admins=texts.ineligible_admin(
            member=texts.who(member, name), requirement=failed, invitor=invitor, external=external
        ),
        roles=roles,
    )
    if facts is None or not facts.external:
        return decisions
    how = Unreachable(
        relay=texts.ineligible_relay(
            invitee=texts.who(member, name), group_name=context.group_name, requirement=failed
        ),
        admin_what=texts.ineligible_admin(
            member=texts.who(member, name), requirement=failed, invitor=None, external=True
        ),
        unreachable=texts.INELIGIBLE_NOT_REACHABLE,
        relayed=texts.INELIGIBLE_RELAYED,
    )
    return reach_external(decisions, facts, context, chat_id=event.chat_id, at=event.at, how=how)


# ------------------------------------------------------------------------------------------------ welcome


def _welcome(event: MemberJoined, rule: CompiledRule, facts: MemberFacts, context: Context) -> list[Decision]:
    # Shadow (or before the effective date): a welcome is no offence, so there is nothing to record; act on nobody.
    if is_shadow(rule, event, context) or rule.exempts(facts.userid, context.roles_of(facts.userid)):
        return []
    state = context.member_states.get(facts.userid)
    rejoin = state is not None and state.joins >= 1
    decisions: list[Decision] = []
    send_rules = bool(rule.param("send_rules", True))
    if not facts.external:
        greeting = str(rule.param("message") or "")
        ask = bool(rule.param("ask_to_accept", False))
        if send_rules or ask or greeting:
            decisions.append(_newcomer_welcome(rule, facts, context, greeting=greeting, rejoin=rejoin, ask=ask))
    inviter = inviter_of(facts, context)
    if rule.param("brief_inviter", False) and inviter:
        decisions.append(_brief(rule, facts, context, inviter=inviter, rejoin=rejoin, send_rules=send_rules))
    return decisions


def _brief(
    rule: CompiledRule, facts: MemberFacts, context: Context, *, inviter: str, rejoin: bool, send_rules: bool
) -> RemindMember:
    """篇三 10: the inviter tells the newcomer the rules; for an external newcomer the brief carries them."""

    def text(summary: str) -> str:
        return texts.brief_inviter(
            newcomer=texts.who(facts.userid, facts.name or facts.display_name),
            group_name=context.group_name,
            rejoin=rejoin,
            external=facts.external,
            welcomed=not facts.external and send_rules,
            summary=summary,
        )

    summary = ""
    if facts.external and send_rules:
        summary = rules_summary(context.policy, _budget(rule.clause, len(text("").encode()) + 1))
    # One ref per newcomer: an inviter who brought several people in one event gets one brief for each.
    return RemindMember(member=inviter, what=text(summary), clause=rule.clause, ref=f"brief:{facts.userid}")


def _newcomer_welcome(
    rule: CompiledRule, facts: MemberFacts, context: Context, *, greeting: str, rejoin: bool, ask: bool
) -> RemindMember:
    frame = texts.welcome(
        group_name=context.group_name, greeting=greeting, rejoin=rejoin, summary="", ask_to_accept=ask
    )
    send_rules = bool(rule.param("send_rules", True))
    summary = rules_summary(context.policy, _budget(rule.clause, len(frame.encode()) + 1)) if send_rules else ""
    what = texts.welcome(
        group_name=context.group_name, greeting=greeting, rejoin=rejoin, summary=summary, ask_to_accept=ask
    )
    return RemindMember(member=facts.userid, what=what, clause=rule.clause, ref="welcome")


def _budget(clause: str, used: int) -> int:
    """Bytes left for the rules summary in one app message: the outbox wraps `what` (greeting, the welcome clause's
    citation, the reference) and WeCom cuts a text message at 2048 bytes."""
    wrapper = len(member_reminder(what="", clause=clause, ref="x" * REF_ROOM).encode())
    return APP_TEXT_LIMIT - wrapper - used


def rules_summary(policy: CompiledPolicy, budget: int) -> str:
    """The group's rules, one line per clause in the policy's order, as many as fit in `budget` bytes."""
    items: dict[str, str] = {}
    for rule in policy.rules:
        if rule.clause not in items:
            items[rule.clause] = texts.rule_line(clause_label(rule.clause), rule.quote or clause_text(rule.clause))
    lines = list(items.values())
    for count in range(len(lines), -1, -1):
        text = texts.rules_summary(lines[:count], total=len(lines))
        if len(text.encode()) <= budget:
            return text
    return texts.RULES_TAIL

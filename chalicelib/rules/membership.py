"""Leaving the group (篇二 3.7: 不听从群管理、执意退群 → 警告), and the ladder every non-content rule of this family
shares (group_name, voice, escalation use `enforce`, `shadow_entry` and `removal` from here).

What the platform tells us decides what can be judged (DESIGN.md §1): only customer groups report a departure as it
happens, with `quit_scene` (0 left by themselves, 1 removed by the owner or an admin). App-created and internal groups
report nothing; the shell finds departures by reconciling member lists and cannot know how someone left, so such a
`MemberLeft` (quit_scene None) is never an offence under `self_quit_only`: admins are told, and can record a warning
themselves when it was a defiant exit.

Pure: the members' roles come in `roles_of` (the leaving member is no longer in the group, so the shell answers from
the roster it held before the departure); the ladder position comes from `context.prior_offences`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chalicelib.decisions import AlertAdmins, Decision, RecordLedger, RecordOffence, RemindMember
from chalicelib.events import Event, MemberLeft
from chalicelib.record import Record
from chalicelib.rules.compiled import CompiledRule
from chalicelib.rules.context import Context
from chalicelib.rules.decisions_membership import RemoveMember
from chalicelib.rules.moderation import entry_id
from chalicelib.texts import membership as texts

Roles = Callable[[str], frozenset[str]]

LEDGER_KINDS = {"warn": "warning", "fine": "fine", "red_packet": "red_packet"}
# Roles a rule never removes from a group: the owner cannot be removed at all, and admins are the people who decide.
PROTECTED_ROLES = frozenset({"owner", "admin", "tenant_admin"})
SELF_QUIT = 0
REMOVED = 1


class Offence(Record):
    """One member's offence against one rule, and what its ledger entries rest on."""

    member: str
    source: str  # "<channel>:<event id>": seeds the ledger ids, so a replayed event writes the same entries
    group: str | None
    evidence: str  # the message id, or the event id for events that are not messages
    at: int
    excerpt: str | None = None
    evidence_hash: str = ""


def decide(event: MemberLeft, context: Context, *, roles_of: Roles) -> list[Decision]:
    """篇二 3.7 for every member in `event` and every `quit` rule that applies to this kind of group."""
    if not context.governed:
        return []
    decisions: list[Decision] = []
    for rule in context.policy.of_kind("quit"):
        if not applies(rule, context):
            continue
        unknown: list[str] = []
        for member in dict.fromkeys(event.members):
            judged = _judge(event, rule, member, context, roles_of(member))
            if judged is None:
                unknown.append(member)
            else:
                decisions += judged
        if unknown:
            decisions.append(_unknown_departures(event, rule, unknown, context))
    return decisions


def _judge(
    event: MemberLeft, rule: CompiledRule, member: str, context: Context, roles: frozenset[str]
) -> list[Decision] | None:
    """The member's decisions, or None for a departure the admins must judge themselves (how they left is unknown)."""
    if rule.exempts(member, roles):
        return []
    scene = event.quit_scene if event.quit_scene in (SELF_QUIT, REMOVED) else None
    self_quit_only = bool(rule.param("self_quit_only", True))
    if self_quit_only and scene == REMOVED:
        return []  # an admin's removal is the admins' decision, not the member's offence
    shadow = is_shadow(rule, event, context)
    if self_quit_only and scene is None:
        return [] if shadow else None
    offence = Offence(member=member, source=source_of(event), group=event.chat_id, evidence=event.event_id, at=event.at)
    if shadow:
        return [shadow_entry(event, rule, offence, context)]
    number = context.prior_offences(member, rule.id) + 1
    return enforce(
        event,
        rule,
        offence,
        context,
        number=number,
        tell_member=lambda done: texts.quit_member(
            group_name=context.group_name, by_self=scene == SELF_QUIT, done=done
        ),
        tell_admins=texts.quit_admin(member=member, quit_scene=scene, offence=number),
        roles=roles,
        departed=True,
    )


def _unknown_departures(event: MemberLeft, rule: CompiledRule, members: Sequence[str], context: Context) -> AlertAdmins:
    # One alert for all of them: a reconciliation often finds several departures at once, and the outbox keys admin
    # alerts by (event, clause, recipient, ref), so one alert per member would collapse into one message anyway.
    return AlertAdmins(
        recipients=context.alert_recipients,
        what=texts.quit_unknown_admin(members=members),
        clause=rule.clause,
        group=event.chat_id,
        group_name=context.group_name,
        member="、".join(members),
        evidence_at=event.at,
        action=texts.quit_unknown_action(members=members, clause=rule.clause),
    )


# ------------------------------------------------------------------------------------ the ladder these rules share


def applies(rule: CompiledRule, context: Context) -> bool:
    return rule.group_kinds is None or context.group_kind in rule.group_kinds


def is_shadow(rule: CompiledRule, event: Event, context: Context) -> bool:
    """Shadow rules, and every rule before the rulebook's effective date, record what they would do, act on nobody."""
    return rule.mode == "shadow" or not context.policy.in_force(event.at, context.timezone)


def source_of(event: Event) -> str:
    return f"{event.channel.value}:{event.event_id}"


def shadow_entry(event: Event, rule: CompiledRule, offence: Offence, context: Context) -> RecordLedger:
    return RecordLedger(
        entry_id=entry_id(event.tenant, offence.source, rule.id, offence.member, "shadow"),
        entry_kind="shadow",
        member=offence.member,
        rule=rule.id,
        clause_text=rule.quote,
        clause=rule.clause,
        **_evidence(offence, context),
    )


def enforce(
    event: Event,
    rule: CompiledRule,
    offence: Offence,
    context: Context,
    *,
    number: int,
    tell_member: Callable[[Sequence[str]], str],
    tell_admins: str,
    nudge: bool = True,
    always_alert: bool = False,
    note: str = "",
    roles: frozenset[str] = frozenset(),
    departed: bool = False,
) -> list[Decision]:
    """The `number`-th offence (1-based, within the escalation window) through the rule's ladder: the offence itself,
    a ledger entry per warn/fine/red_packet, a reminder, an admin alert, and removal where the platform allows it.

    `nudge` False keeps the actions that cost nothing (remind, alert_admins) quiet this time: the voice budget nudges
    once a week but penalises every message over it. `always_alert` alerts even when the ladder does not (a rename
    is visible to everyone and only people can undo it elsewhere); `note` adds to the alert's action line."""
    acts = rule.actions_for(number)
    types = {act.type for act in acts}
    decisions: list[Decision] = [RecordOffence(member=offence.member, rule=rule.id, at=offence.at, clause=rule.clause)]
    done: list[str] = []
    entry = ""
    for act in acts:
        kind = LEDGER_KINDS.get(act.type)
        if kind is None:
            continue
        money = kind != "warning"
        entry = entry_id(event.tenant, offence.source, rule.id, offence.member, kind)
        decisions.append(
            RecordLedger(
                entry_id=entry,
                entry_kind=kind,
                member=offence.member,
                rule=rule.id,
                clause_text=rule.quote,
                clause=rule.clause,
                amount=act.amount,
                status="owed" if money and rule.confirm == "auto" else "active",
                severity=act.severity if kind == "warning" else None,
                **_evidence(offence, context),
            )
        )
        done.append(
            texts.penalty_done(
                act.type,
                serious=act.severity == "serious",
                amount=act.amount,
                pending=money and rule.confirm == "admin",
            )
        )
    penalised = bool(done)
    reminded = penalised or (nudge and "remind" in types)
    if reminded:
        decisions.append(RemindMember(member=offence.member, what=tell_member(done), clause=rule.clause, ref=entry))
    actions = [texts.admin_action(done, reminded=reminded)] if done or reminded else []
    if "remove_member" in types:
        removed, said = removal(
            chat_id=offence.group,
            member=offence.member,
            rule=rule.id,
            at=offence.at,
            clause=rule.clause,
            context=context,
            roles=roles,
            departed=departed,
        )
        decisions += removed
        actions.append(said)
    if note:
        actions.append(note)
    awaits_confirmation = penalised and rule.confirm == "admin" and bool(types & {"fine", "red_packet"})
    if (
        always_alert
        or awaits_confirmation
        or "remove_member" in types
        or ("alert_admins" in types and (nudge or penalised))
    ):
        decisions.append(
            AlertAdmins(
                recipients=context.alert_recipients,
                what=tell_admins,
                clause=rule.clause,
                group=offence.group,
                group_name=context.group_name,
                member=offence.member,
                evidence_at=offence.at,
                action="；".join(part for part in actions if part),
                ref=entry,
            )
        )
    return decisions


def removal(
    *,
    chat_id: str | None,
    member: str,
    rule: str,
    at: int,
    clause: str | None,
    context: Context,
    roles: frozenset[str],
    departed: bool = False,
) -> tuple[list[Decision], str]:
    """`remove_member`: a RemoveMember where the platform can remove (app-created groups), else the line that asks the
    owner to do it. Returns the decisions and the sentence for the admins' alert."""
    if departed:
        return [], texts.ALREADY_LEFT
    if chat_id is None:
        return [], texts.NO_GROUP
    if roles & PROTECTED_ROLES:
        return [], texts.PROTECTED
    if context.group_kind != "appchat":
        return [], texts.cannot_remove(context.group_kind)
    return [RemoveMember(chat_id=chat_id, member=member, rule=rule, at=at, clause=clause)], texts.REMOVED


def _evidence(offence: Offence, context: Context) -> dict[str, Any]:
    return {
        "group": offence.group,
        "evidence": offence.evidence,
        "excerpt": offence.excerpt,
        "evidence_hash": offence.evidence_hash,
        "policy_version": context.policy.version,
        "at": offence.at,
    }

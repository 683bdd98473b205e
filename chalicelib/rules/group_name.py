"""The group's name (篇一 二(1), 篇三 1 未经群主同意不得更改, 篇四 三、1): a rename by anyone the policy does not allow
is reported to the admins, and renamed back where an API can (app-created groups only, `appchat/update`).

No event carries the new name: customer groups send a bare `change_external_chat`/`update_detail=change_name`, and
app-created and internal groups send nothing at all. So the shell reads the name (groupchat/get, appchat/get or
msgaudit/groupchat/get) outside the callback's request path and hands it in as `GroupNames`, with the name the group
is held to and, where it knows one, who renamed it; this rule only compares them. Pure.
"""

from __future__ import annotations

import hashlib

from chalicelib.decisions import AlertAdmins, Decision
from chalicelib.events import GroupRenamed
from chalicelib.record import Record
from chalicelib.rules.compiled import CompiledRule
from chalicelib.rules.context import Context
from chalicelib.rules.decisions_membership import AcceptGroupName, RestoreGroupName
from chalicelib.rules.membership import Offence, Roles, applies, enforce, is_shadow, shadow_entry, source_of
from chalicelib.texts import membership as texts

EXCERPT_LIMIT = 60


class GroupNames(Record):
    """What the shell knows about the group's name when a rename is reported or a poll finds a different name."""

    current: str  # the name now: groupchat/get `name` (customer), appchat/get `name`, msgaudit/groupchat/get `roomname`
    stored: str = ""  # the name qungui holds the group to: its name at enrollment, or the last AcceptGroupName
    renamed_by: str | None = None  # who renamed it, when the shell knows (WeCom's events never say)


def decide(event: GroupRenamed, context: Context, names: GroupNames, *, roles_of: Roles) -> list[Decision]:
    """Every `group_name` rule that applies to this kind of group, against the name the shell read."""
    if not context.governed or not names.current.strip():
        return []
    decisions: list[Decision] = []
    for rule in context.policy.of_kind("group_name"):
        if applies(rule, context):
            decisions += _check(event, rule, context, names, roles_of)
    return decisions


def locked_name(rule: CompiledRule, names: GroupNames) -> str:
    """The name the group must have: the policy's `name`, else the stored one."""
    return str(rule.param("name") or "").strip() or names.stored.strip()


def _check(
    event: GroupRenamed, rule: CompiledRule, context: Context, names: GroupNames, roles_of: Roles
) -> list[Decision]:
    current = names.current.strip()
    fixed = str(rule.param("name") or "").strip()
    locked = locked_name(rule, names)
    if not locked:
        # Enrolled before anyone read its name: the first name seen is the one it is held to (GroupNameRule.name).
        return [AcceptGroupName(chat_id=event.chat_id, name=current, clause=rule.clause)]
    if current == locked:
        return []  # renamed back, or a repeated report
    actor = names.renamed_by
    roles = roles_of(actor) if actor else frozenset()
    renamers = set(rule.param("renamers", ("owner",)))
    if actor and (roles & renamers or rule.exempts(actor, roles)):
        if not fixed:
            return [AcceptGroupName(chat_id=event.chat_id, name=current, clause=rule.clause)]
        if is_shadow(rule, event, context):
            return []
        # The policy names the group and someone allowed to rename changed it anyway: never fight them, but the
        # policy and the group now disagree, which only the admins can settle.
        return [
            AlertAdmins(
                recipients=context.alert_recipients,
                what=texts.rename_by_renamer_admin(actor=actor, current=current, locked=locked),
                clause=rule.clause,
                group=event.chat_id,
                group_name=current,
                member=actor,
                evidence_at=event.at,
                action=texts.RENAME_BY_RENAMER_ACTION,
            )
        ]
    offence = Offence(
        member=actor or "",
        source=source_of(event),
        group=event.chat_id,
        evidence=event.event_id,
        at=event.at,
        excerpt=current[:EXCERPT_LIMIT],
        evidence_hash=hashlib.sha256(current.encode()).hexdigest(),
    )
    if is_shadow(rule, event, context):
        return [shadow_entry(event, rule, offence, context)]
    restore = bool(rule.param("restore", True))
    restored = restore and context.group_kind == "appchat"
    action = texts.rename_action(restored=restored, restore=restore, kind=context.group_kind, locked=locked)
    decisions: list[Decision] = []
    what = texts.rename_admin(current=current, locked=locked, actor=actor)
    if actor:
        decisions += enforce(
            event,
            rule,
            offence,
            context,
            number=context.prior_offences(actor, rule.id) + 1,
            tell_member=lambda done: texts.rename_member(current=current, locked=locked, restored=restored, done=done),
            tell_admins=what,
            always_alert=True,
            note=action,
            roles=roles,
        )
    else:
        # Nobody to remind or charge: the admins are the only ones who can find out who it was.
        decisions.append(
            AlertAdmins(
                recipients=context.alert_recipients,
                what=what,
                clause=rule.clause,
                group=event.chat_id,
                group_name=locked,
                evidence_at=event.at,
                action=action,
            )
        )
    if restored:
        decisions.append(RestoreGroupName(chat_id=event.chat_id, name=locked, clause=rule.clause))
    return decisions

"""Which rules of a policy can be enforced in a kind of group, and why not (DESIGN.md §1: what the platforms let us
see per kind of group). Pure: `qungui group list` shows the result to admins, per group.

The facts live in one table, FACTS: rule kind → group kind → Fact (status, reason, notes; a second Fact for tenants
without the intelligent bot where the bot is how messages are seen). `assess` then applies, in this order: the group
is not governed (no rule runs); the group's kind is unknown (only facts that hold in every kind are stated); the
rule's `group_kinds` leaves this kind out (not applicable); the table; shadow mode (or a rulebook not yet in effect);
notes that depend on the rule's own parameters and actions (removal, external-contact conditions, restore: false).
"""

from __future__ import annotations

from typing import Any

from chalicelib.record import Record
from chalicelib.rules.compiled import CompiledPolicy, CompiledRule
from chalicelib.texts import enforceability as texts

ENFORCED = "enforced"
PARTIAL = "partial"
SHADOW = "shadow"
NOT_APPLICABLE = "not_applicable"
UNENFORCEABLE = "unenforceable"
STATUSES = (ENFORCED, PARTIAL, SHADOW, NOT_APPLICABLE, UNENFORCEABLE)
GROUP_KINDS = ("customer", "appchat", "internal")


class Fact(Record):
    status: str  # enforced | partial | unenforceable
    reason: str = ""  # "" when fully enforced
    notes: tuple[str, ...] = ()  # conditions and caveats that do not lower the status
    without_bot: Fact | None = None  # what holds instead when the tenant has no intelligent bot


def _same(fact: Fact) -> dict[str, Fact]:
    return dict.fromkeys(GROUP_KINDS, fact)


# What each kind of rule can do in each kind of group, in this release. One row per rule kind (policy.RULE_KINDS).
FACTS: dict[str, dict[str, Fact]] = {
    # Member messages: the chat archive (not connected yet) or, in customer and internal groups, the bot when @-ed.
    "content": {
        "customer": Fact(
            status=PARTIAL,
            reason=texts.CONTENT_BOT_ONLY,
            without_bot=Fact(status=UNENFORCEABLE, reason=texts.CONTENT_NO_BOT),
        ),
        "appchat": Fact(status=UNENFORCEABLE, reason=texts.CONTENT_APPCHAT),
        "internal": Fact(
            status=PARTIAL,
            reason=texts.CONTENT_BOT_ONLY,
            without_bot=Fact(status=UNENFORCEABLE, reason=texts.CONTENT_NO_BOT),
        ),
    },
    "voice_budget": _same(Fact(status=UNENFORCEABLE, reason=texts.VOICE_ARCHIVE_ONLY)),
    # In-group nicknames: only customer groups' groupchat/get returns group_nickname.
    "nickname_format": {
        "customer": Fact(status=ENFORCED),
        "appchat": Fact(status=UNENFORCEABLE, reason=texts.NICKNAME_NO_API),
        "internal": Fact(status=UNENFORCEABLE, reason=texts.NICKNAME_NO_API),
    },
    # Membership, by reconciliation: change_external_chat + groupchat/get; appchat/get; msgaudit/groupchat/get.
    **{
        kind: {
            "customer": Fact(status=ENFORCED),
            "appchat": Fact(status=ENFORCED, notes=(texts.MEMBERS_APPCHAT_POLLING,)),
            "internal": Fact(status=ENFORCED, notes=(texts.MEMBERS_INTERNAL_NEEDS_ARCHIVE,)),
        }
        for kind in ("join_eligibility", "welcome", "required_members")
    },
    # Leaving: only the customer-group event says whether the member left by themselves.
    "quit": {
        "customer": Fact(status=ENFORCED),
        "appchat": Fact(status=PARTIAL, reason=texts.QUIT_HOW_UNKNOWN, notes=(texts.MEMBERS_APPCHAT_POLLING,)),
        "internal": Fact(status=PARTIAL, reason=texts.QUIT_HOW_UNKNOWN, notes=(texts.MEMBERS_INTERNAL_NEEDS_ARCHIVE,)),
    },
    # Renames: only app-created groups can be renamed back (appchat/update).
    "group_name": {
        "customer": Fact(status=PARTIAL, reason=texts.NAME_ALERT_ONLY_CUSTOMER),
        "appchat": Fact(status=ENFORCED),
        "internal": Fact(
            status=PARTIAL, reason=texts.NAME_ALERT_ONLY_INTERNAL, notes=(texts.MEMBERS_INTERNAL_NEEDS_ARCHIVE,)
        ),
    },
    # Scheduled jobs not in this release.
    "ack_deadline": _same(Fact(status=UNENFORCEABLE, reason=texts.NOT_RELEASED)),
    "notice_reply": _same(Fact(status=UNENFORCEABLE, reason=texts.NOT_RELEASED)),
    "inactivity": _same(Fact(status=UNENFORCEABLE, reason=texts.NOT_RELEASED)),
    # An admin records the offence with the 警告 command: works wherever an admin can type.
    "manual": _same(Fact(status=ENFORCED, notes=(texts.MANUAL,))),
}


class RuleAssessment(Record):
    rule_id: str
    kind: str
    clause: str
    mode: str
    status: str  # one of STATUSES
    reason: str  # Simplified Chinese; "" when fully enforced
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule_id,
            "kind": self.kind,
            "clause": self.clause,
            "mode": self.mode,
            "status": self.status,
            "reason": self.reason,
            "notes": list(self.notes),
        }


class Assessment(Record):
    group_kind: str
    governed: bool
    policy: str  # id@version
    notes: tuple[str, ...] = ()  # about the group as a whole (not governed, removal on escalation, effective date)
    rules: tuple[RuleAssessment, ...] = ()
    unenforceable: tuple[dict[str, Any], ...] = ()  # the policy's own: {clause, part, reason, declarative}

    def rule(self, rule_id: str) -> RuleAssessment:
        for assessed in self.rules:
            if assessed.rule_id == rule_id:
                return assessed
        raise KeyError(rule_id)


def fact(rule_kind: str, group_kind: str, *, bot_enabled: bool) -> Fact | None:
    """The table's answer for one rule kind in one group kind; for a kind not in GROUP_KINDS, the answer that holds in
    every kind, or None when it depends on the kind (or the rule kind is unknown)."""
    row = FACTS.get(rule_kind)
    if row is None:
        return None
    if group_kind not in GROUP_KINDS:
        answers = {_resolved(row[kind], bot_enabled) for kind in GROUP_KINDS}
        return answers.pop() if len(answers) == 1 else None
    return _resolved(row[group_kind], bot_enabled)


def _resolved(found: Fact, bot_enabled: bool) -> Fact:
    chosen = found.without_bot if (found.without_bot is not None and not bot_enabled) else found
    return Fact(status=chosen.status, reason=chosen.reason, notes=chosen.notes)


def assess(
    policy: CompiledPolicy,
    kind: str,
    *,
    bot_enabled: bool,
    governed: bool = True,
    ungoverned_reason: str = texts.UNGOVERNED,
    today: str | None = None,
) -> Assessment:
    """What `policy` can enforce in a group of `kind` (customer | appchat | internal | unknown).

    `today` (ISO date in the tenant's time zone) lets a rulebook whose `effective` date is still ahead show its rules
    as shadow, as the engine runs them; None: assume it is in effect."""
    # A merged policy's version already names both files (default@3+sales@1).
    label = policy.version if "@" in policy.version else f"{policy.id}@{policy.version}"
    if not governed:
        return Assessment(group_kind=kind, governed=False, policy=label, notes=(ungoverned_reason,))
    pending = texts.effective_from(policy.effective) if today and policy.effective and today < policy.effective else ""
    notes = [pending] if pending else []
    if kind not in GROUP_KINDS:
        notes.append(texts.KIND_UNKNOWN)
    if kind != "appchat" and _escalation_removes(policy.escalation):
        notes.append(texts.ESCALATION_REMOVE)
    return Assessment(
        group_kind=kind,
        governed=True,
        policy=label,
        notes=tuple(notes),
        rules=tuple(assess_rule(rule, kind, bot_enabled=bot_enabled, pending=pending) for rule in policy.rules),
        unenforceable=tuple(dict(entry) for entry in policy.unenforceable),
    )


def assess_rule(rule: CompiledRule, kind: str, *, bot_enabled: bool, pending: str = "") -> RuleAssessment:
    """One rule in a group of `kind`; `pending`: why every rule runs as shadow for now (rulebook not yet in effect)."""

    def result(status: str, reason: str, notes: tuple[str, ...] = ()) -> RuleAssessment:
        return RuleAssessment(
            rule_id=rule.id, kind=rule.kind, clause=rule.clause, mode=rule.mode, status=status, reason=reason,
            notes=notes,
        )  # fmt: skip

    known = kind in GROUP_KINDS
    if known and rule.group_kinds is not None and kind not in rule.group_kinds:
        return result(NOT_APPLICABLE, texts.only_in(rule.group_kinds))
    if rule.kind not in FACTS:
        return result(UNENFORCEABLE, texts.UNKNOWN_RULE_KIND)
    found = fact(rule.kind, kind, bot_enabled=bot_enabled)
    if found is None or (not known and rule.group_kinds is not None):
        return result(UNENFORCEABLE, texts.KIND_UNKNOWN)
    if found.status == UNENFORCEABLE:
        return result(UNENFORCEABLE, found.reason, found.notes)
    notes = found.notes + _rule_notes(rule, kind)
    if rule.mode == "shadow" or pending:
        limits = (texts.limitation(found.reason),) if found.reason else ()
        return result(SHADOW, texts.SHADOW if rule.mode == "shadow" else pending, limits + notes)
    return result(found.status, found.reason, notes)


def _rule_notes(rule: CompiledRule, kind: str) -> tuple[str, ...]:
    """Caveats that come from the rule's own actions and parameters, not from the kind of rule."""
    notes: list[str] = []
    if kind != "appchat" and any(act.type == "remove_member" for rung in rule.ladder for act in rung.do):
        notes.append(texts.REMOVE_BY_OWNER if kind in GROUP_KINDS else texts.REMOVE_APPCHAT_ONLY)
    if (
        rule.kind == "join_eligibility"
        and kind in ("appchat", "internal")
        and rule.param("external", "allow") != "allow"
    ):
        notes.append(texts.EXTERNAL_ONLY_IN_CUSTOMER)
    if rule.kind == "group_name" and kind == "appchat" and rule.param("restore", True) is False:
        notes.append(texts.NAME_NO_RESTORE)
    return tuple(notes)


def _escalation_removes(escalation: Any) -> bool:
    steps = (escalation or {}).get("steps") or ()
    return any(act.get("type") == "remove_member" for step in steps for act in step.get("do") or ())

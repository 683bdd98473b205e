"""Admin commands: 记录 @成员, 豁免 ID 原因, 已缴 ID, 确认 ID, 警告 @成员 条款 说明, 影子报告. Pure: the caller has
checked that the sender is an admin; ledger reads go through the Context, time comes from the event. Every command
ends with one Audit decision saying what was asked and what came of it."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalicelib.decisions import (
    Audit,
    Decision,
    RecordLedger,
    RecordOffence,
    RemindMember,
    ReplyToMember,
    SettleLedger,
)
from chalicelib.events import MessagePosted
from chalicelib.rules.commands_parse import (
    MANUAL_PREFIX,
    clause_of,
    clause_ref,
    entry_ref,
    label_of,
    manual_rule,
    mention,
)
from chalicelib.rules.compiled import CompiledRule
from chalicelib.rules.context import Context
from chalicelib.rules.moderation import entry_id as ledger_id
from chalicelib.texts import commands as texts
from chalicelib.texts.alerts import local_time
from chalicelib.texts.citations import clause_label, clause_text

if TYPE_CHECKING:
    from chalicelib.store.models import LedgerEntry

LIST_LIMIT = 8  # with excerpts, eight entries fit a 2048-byte passive reply
SHADOW_DAYS = 7
SHADOW_EXAMPLES = 3
EXCERPT_LIMIT = 60
SETTLEMENTS = ("waiver", "payment", "reversal")
MONEY = ("fine", "red_packet")


def handle(command: str, event: MessagePosted, rest: str, context: Context) -> list[Decision]:
    reply, decisions, detail = _HANDLERS[command](event, rest, context)
    target = rest.split()[0] if rest.split() else ""
    audit = Audit(actor=event.sender, action=f"{command} {target}".strip(), detail=detail, at=event.at)
    return [ReplyToMember(text=reply), *decisions, audit]


# Each handler: (the admin's answer, the decisions besides the answer and the audit, the audit's detail).
_Result = tuple[str, list[Decision], str]
_Handler = Callable[[MessagePosted, str, Context], _Result]


def _records(event: MessagePosted, rest: str, context: Context) -> _Result:
    member, _ = mention(rest)
    if not member:
        return texts.usage("记录 @zhangsan"), [], "usage"
    entries = sorted(context.member_ledger(member), key=lambda e: (int(e.at), e.entry_id), reverse=True)
    lines = [
        texts.admin_entry_line(
            entry_id=entry.entry_id,
            when=local_time(int(entry.at), context.timezone),
            kind=entry.kind,
            amount=entry.amount,
            status=entry.status,
            label=label_of(entry, context.policy),
            excerpt=entry.excerpt,
            ref=entry.ref,
            note=entry.evidence if entry.kind in SETTLEMENTS else "",
        )
        for entry in entries[:LIST_LIMIT]
    ]
    return texts.admin_records(member, lines, total=len(entries)), [], f"{len(entries)} entries"


def _settleable(command: str, entry: LedgerEntry) -> str | None:
    """Why `command` cannot settle `entry` (a texts.cannot_settle reason), or None when it can."""
    if entry.kind == "shadow":
        return "shadow"
    if entry.kind in SETTLEMENTS:
        return "settlement"
    if command in ("确认", "已缴") and entry.kind not in MONEY:
        return "warning_money"
    allowed = {"豁免": ("active", "owed"), "确认": ("active",), "已缴": ("owed",)}[command]
    if entry.status in allowed:
        return None
    if command == "已缴" and entry.status == "active":
        return "not_confirmed"
    if command == "确认" and entry.status == "owed":
        return "already_owed"
    return entry.status


def _settle(command: str, event: MessagePosted, rest: str, context: Context) -> _Result:
    wanted, reason = entry_ref(rest)
    example = {"豁免": "豁免 LABCDEFGH 原因", "确认": "确认 LABCDEFGH", "已缴": "已缴 LABCDEFGH"}[command]
    if not wanted:
        return texts.usage(example), [], "usage"
    entry = context.ledger_entry(wanted)
    if entry is None:
        return texts.unknown_entry(wanted), [], "unknown entry"
    refused = _settleable(command, entry)
    if refused is not None:
        return texts.cannot_settle(command, entry.entry_id, refused), [], f"refused: {refused}"
    if command == "豁免" and not reason:
        return texts.usage(f"豁免 {entry.entry_id} 原因（例如：误判，已核实）"), [], "usage: no reason"
    clause = clause_of(entry, context.policy)
    common: dict[str, Any] = dict(
        settles=entry.entry_id, settles_at=int(entry.at), by=event.sender, reason=reason, member=entry.member,
        rule=entry.rule, clause_text=entry.clause, group=entry.group, amount=entry.amount,
        policy_version=entry.policy_version, at=event.at, clause=clause,
    )  # fmt: skip
    what: dict[str, Any] = dict(member=entry.member, kind=entry.kind, amount=entry.amount, entry_id=entry.entry_id)
    if command == "确认":
        settle = SettleLedger(new_status="owed", from_status=("active",), entry_kind=None, **common)
        remind = RemindMember(
            member=entry.member,
            what=texts.confirmed_reminder(kind=entry.kind, amount=entry.amount, entry_id=entry.entry_id),
            clause=clause,
            ref=entry.entry_id,
        )
        return texts.confirmed(**what), [settle, remind], "confirmed: owed"
    kind, status = ("waiver", "waived") if command == "豁免" else ("payment", "paid")
    new_id = ledger_id(event.tenant, f"{event.channel.value}:{event.event_id}", entry.entry_id, entry.member, kind)
    settle = SettleLedger(new_status=status, from_status=("active", "owed") if command == "豁免" else ("owed",),
                          entry_kind=kind, entry_id=new_id, **common)  # fmt: skip
    if command == "豁免":
        return texts.waived(reason=reason, new_id=new_id, **what), [settle], f"{status} → {new_id}: {reason}"
    return texts.paid(new_id=new_id, **what), [settle], f"{status} → {new_id}"


def _manual_rule(clause_id: str, context: Context) -> CompiledRule | None:
    """The policy's rule for a clause an admin warns about: a `manual` rule (clauses only people can judge) first."""
    candidates = [rule for rule in context.policy.rules if rule.clause == clause_id]
    candidates.sort(key=lambda rule: (rule.kind != "manual", rule.mode != "enforce"))
    return candidates[0] if candidates else None


def _warn(event: MessagePosted, rest: str, context: Context) -> _Result:
    example = "警告 @zhangsan 篇一 三(5) 截图举报：群内发赌博链接"
    member, after = mention(rest)
    if not member or not after:
        return texts.usage(example), [], "usage"
    clause, note = clause_ref(after, context.policy)
    if clause is None:
        return texts.clause_not_found(after.split()[0]), [], "unknown clause"
    if not note:
        return texts.usage(example), [], "usage: no note"
    rule = _manual_rule(clause, context)
    rule_id = rule.id if rule else manual_rule(clause)
    quote = clause_text(clause) or (rule.quote if rule else "")
    source = f"{event.channel.value}:{event.event_id}"
    # The clause's rule decides what this offence costs besides the warning (篇一 四(5): 罚款50元 each time).
    acts = rule.actions_for(context.prior_offences(member, rule.id) + 1) if rule else ()
    serious = any(act.type == "warn" and act.severity == "serious" for act in acts)
    confirm_needed = rule is None or rule.confirm != "auto"
    evidence: dict[str, Any] = dict(
        member=member, rule=rule_id, clause_text=quote, clause=clause, group=None,
        evidence=f"{MANUAL_PREFIX}{event.sender}", excerpt=note[:EXCERPT_LIMIT],
        evidence_hash=hashlib.sha256(note.encode()).hexdigest(), policy_version=context.policy.version, at=event.at,
    )  # fmt: skip
    warning = ledger_id(event.tenant, source, rule_id, member, "warning")
    decisions: list[Decision] = [RecordLedger(entry_id=warning, entry_kind="warning", **evidence)]
    if rule is not None:
        decisions.append(RecordOffence(member=member, rule=rule.id, at=event.at, clause=clause))  # climbs its ladder
    extras: list[tuple[str, float | None, str]] = []
    for act in acts:
        if act.type in MONEY:
            extra = ledger_id(event.tenant, source, rule_id, member, act.type)
            decisions.append(RecordLedger(entry_id=extra, entry_kind=act.type, amount=act.amount,
                                          status="active" if confirm_needed else "owed", **evidence))  # fmt: skip
            extras.append((act.type, act.amount, extra))
    reminder = texts.warned_reminder(
        note=note, serious=serious, extras=[(kind, amount) for kind, amount, _ in extras], confirm_needed=confirm_needed
    )
    decisions.append(RemindMember(member=member, what=reminder, clause=clause, ref=warning))
    reply = texts.warned(member=member, label=clause_label(clause), note=note, entry_id=warning, serious=serious,
                         extras=extras, confirm_needed=confirm_needed)  # fmt: skip
    return reply, decisions, f"{member} {clause}: {note}"[:300]


def _shadow_report(event: MessagePosted, rest: str, context: Context) -> _Result:
    since = event.at - SHADOW_DAYS * 86400
    shadows = [entry for entry in context.ledger_since(since) if entry.kind == "shadow"]
    counts = Counter(entry.rule for entry in shadows)
    examples: dict[str, list[str]] = {}
    labels: dict[str, str | None] = {}
    for entry in sorted(shadows, key=lambda e: int(e.at), reverse=True):
        labels.setdefault(entry.rule, label_of(entry, context.policy))
        if entry.excerpt and len(examples.setdefault(entry.rule, [])) < SHADOW_EXAMPLES:
            examples[entry.rule].append(entry.excerpt)
    groups = [(rule, labels.get(rule), count, examples.get(rule, [])) for rule, count in counts.most_common()]
    return texts.shadow_report(groups, days=SHADOW_DAYS), [], f"{len(shadows)} shadow entries"


def _settle_as(command: str) -> _Handler:
    return lambda event, rest, context: _settle(command, event, rest, context)


_HANDLERS: dict[str, _Handler] = {
    "记录": _records,
    "豁免": _settle_as("豁免"),
    "已缴": _settle_as("已缴"),
    "确认": _settle_as("确认"),
    "警告": _warn,
    "影子报告": _shadow_report,
}

"""Member commands that read the rulebook and the member's own ledger: 群规, 群规 <clause>, 我的记录, 为什么. Pure:
ledger reads go through the Context's callables, time comes from the event."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.decisions import Audit, Decision, ReplyToMember
from chalicelib.events import MessagePosted
from chalicelib.rules.commands_parse import MANUAL_PREFIX, clause_of, clause_ref, label_of
from chalicelib.rules.context import Context
from chalicelib.texts import commands as texts
from chalicelib.texts.alerts import local_time
from chalicelib.texts.citations import cite, clause_label, clause_text

if TYPE_CHECKING:
    from chalicelib.store.models import LedgerEntry

# What a member is told about: the entries that cost them something. Shadow entries never reach a member, and
# waivers/payments/reversals show as the status of the entry they settle.
MEMBER_KINDS = ("warning", "fine", "red_packet")
LIST_LIMIT = 10  # a passive text reply holds 2048 bytes; ten entries fit with room to spare


def rules(event: MessagePosted, rest: str, context: Context) -> list[Decision]:
    if rest:
        return [_one_clause(rest, context)]
    items: dict[str, tuple[str, str]] = {}
    for rule in context.policy.rules:
        if rule.clause not in items:
            items[rule.clause] = (clause_label(rule.clause), rule.quote or clause_text(rule.clause))
    return [ReplyToMember(text=texts.rule_list(list(items.values())))]


def accept(event: MessagePosted, context: Context) -> list[Decision]:
    """同意: the member accepts the rules the welcome sent them (篇三 5 认可本群“群规”). Kept in the audit trail with
    the policy version they accepted, so an admin can later show who accepted which rules."""
    where = event.chat_id or "1:1"
    detail = f"{where} {context.policy.id}@{context.policy.version}"
    return [
        ReplyToMember(text=texts.ACCEPTED),
        Audit(actor=event.sender, action="accepted rules", detail=detail, at=event.at),
    ]


def _one_clause(reference: str, context: Context) -> Decision:
    clause_id, _ = clause_ref(reference, context.policy)
    if clause_id is None:
        return ReplyToMember(text=texts.clause_not_found(reference))
    citation = cite(clause_id)
    if not clause_text(clause_id):
        # A tenant's own clause: its text lives only in the policy.
        quote = next((rule.quote for rule in context.policy.rules if rule.clause == clause_id and rule.quote), "")
        citation = f"【群规 {clause_label(clause_id)}】{quote}"
    return ReplyToMember(text=citation, clause=clause_id)


def visible(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    """The member's own entries, newest first."""
    shown = [entry for entry in entries if entry.kind in MEMBER_KINDS]
    return sorted(shown, key=lambda entry: (int(entry.at), entry.entry_id), reverse=True)


def my_records(event: MessagePosted, context: Context) -> list[Decision]:
    entries = visible(list(context.member_ledger(event.sender)))
    lines = [
        texts.member_entry_line(
            number,
            when=local_time(int(entry.at), context.timezone),
            kind=entry.kind,
            amount=entry.amount,
            status=entry.status,
            label=label_of(entry, context.policy),
            entry_id=entry.entry_id,
        )
        for number, entry in enumerate(entries[:LIST_LIMIT], start=1)
    ]
    owed = sum(float(entry.amount or 0) for entry in entries if entry.status == "owed" and entry.kind == "fine")
    return [ReplyToMember(text=texts.my_records(lines, total=len(entries), owed=owed))]


def why(event: MessagePosted, context: Context) -> list[Decision]:
    entries = visible(list(context.member_ledger(event.sender)))
    if not entries:
        return [ReplyToMember(text=texts.WHY_NOTHING)]
    entry = entries[0]
    clause_id = clause_of(entry, context.policy)
    text = texts.why(
        entry_id=entry.entry_id,
        when=local_time(int(entry.at), context.timezone),
        kind=entry.kind,
        amount=entry.amount,
        status=entry.status,
        label=clause_label(clause_id) if clause_id else None,
        clause_text=entry.clause,  # as decided: a later rulebook edit never rewrites what the member was told
        excerpt=entry.excerpt,
        manual=(entry.evidence or "").startswith(MANUAL_PREFIX),
    )
    return [ReplyToMember(text=text, clause=clause_id)]

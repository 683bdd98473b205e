"""Applies an event's decisions exactly once.

The planner turns (event, decisions, reply) into writes without touching AWS; the executor commits the plan and the
event's dedup marker in one request: a conditional PutItem when the marker is the only write, else one
TransactWriteItems. Either everything is written or nothing is, so a crash or a throttle between "effects applied"
and "event marked done" cannot happen; a retried callback finds the marker and gets the stored reply back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import PutError, PynamoDBException, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.decisions import (
    AlertAdmins,
    Audit,
    Decision,
    MarkDigestSent,
    PostToGroup,
    RecordActivity,
    RecordLedger,
    RecordOffence,
    RemindMember,
    SendDigest,
    SettleLedger,
)
from chalicelib.effects import state
from chalicelib.events import Event
from chalicelib.rules.decisions_membership import (
    AcceptGroupName,
    GroupGone,
    NameChecked,
    RecordRequiredMissing,
    RecordVoice,
    RemoveMember,
    RequestReconcile,
    RestoreGroupName,
    RosterJoin,
    RosterLeave,
    UpdateDirectoryDepartment,
    UpdateDirectoryUser,
    UpdateGroup,
)
from chalicelib.store import keys
from chalicelib.store.models import (
    AuditRecord,
    DedupRecord,
    GroupRecord,
    Item,
    LedgerEntry,
    MemberActivity,
    OffenceLog,
)

MEMBERSHIP_STATE = (
    GroupGone,
    RosterJoin,
    RosterLeave,
    NameChecked,
    UpdateGroup,
    RequestReconcile,
    AcceptGroupName,
    RecordRequiredMissing,
    RecordVoice,
    UpdateDirectoryUser,
    UpdateDirectoryDepartment,
)
DEDUP_TTL_SECONDS = 3 * 24 * 3600  # WeCom retries within seconds; three days also covers a replayed archive batch


class StoreUnavailable(Exception):
    """DynamoDB refused or failed the write for a reason other than a duplicate: answer 503 so the platform retries."""


@dataclass(frozen=True, slots=True)
class Reply:
    body: str
    content_type: str


@dataclass(slots=True)
class Plan:
    marker: DedupRecord
    updates: list[tuple[Item, list[Action]]] = field(default_factory=list)
    puts: list[Item] = field(default_factory=list)
    # Updates that must hold a condition (a settlement only from an expected status). The rule checked the status
    # first, so a failing condition means a race with another admin: the whole transaction is cancelled and answered
    # 503, and WeCom's retry reads the new status and answers accordingly (e.g. "已经豁免过了").
    conditional_updates: list[tuple[Item, list[Action], Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Outcome:
    duplicate: bool
    reply: Reply | None


def plan(
    event: Event, decisions: Sequence[Decision], reply: Reply | None, now: float, timezone: str = "Asia/Shanghai"
) -> Plan:
    """Pure: the writes an event causes. Every key is deterministic, so the same event always plans the same items."""
    marker = DedupRecord(
        keys.tenant_pk(event.tenant),
        keys.dedup_sk(event.channel.value, event.event_id),
        event_type=type(event).__name__,
        reply_body=reply.body if reply else None,
        reply_content_type=reply.content_type if reply else None,
        decisions=[decision.kind for decision in decisions],
        processed_at=int(now),
        expires_at=datetime.fromtimestamp(now + DEDUP_TTL_SECONDS, tz=UTC),
    )
    result = Plan(marker=marker)
    for decision in decisions:
        if isinstance(decision, RecordActivity):
            result.updates.append(_activity_update(event.tenant, decision))
    for decision in decisions:
        if isinstance(decision, RecordLedger):
            result.puts.append(_ledger_entry(event.tenant, decision))
        elif isinstance(decision, SettleLedger):
            _settle(event.tenant, decision, result)
        elif isinstance(decision, Audit):
            result.puts.append(_audit(event, decision))
        elif isinstance(decision, RecordOffence):
            log = OffenceLog(keys.tenant_pk(event.tenant), keys.offence_sk(decision.member, decision.rule))
            result.updates.append((log, [OffenceLog.times.set((OffenceLog.times | []).append([decision.at]))]))
        elif isinstance(decision, MEMBERSHIP_STATE):
            result.updates += state.updates_for(event.tenant, decision)
        elif isinstance(decision, MarkDigestSent):
            group = GroupRecord(keys.tenant_pk(event.tenant), keys.group_sk(decision.chat_id))
            result.updates.append((group, [GroupRecord.digest_sent_for.set(decision.period)]))
    if any(
        isinstance(d, AlertAdmins | RemindMember | PostToGroup | RemoveMember | RestoreGroupName | SendDigest)
        for d in decisions
    ):
        # Imported here: most callbacks send nothing, and rendering pulls in the templates and time zones.
        from chalicelib.effects import outbox

        source = f"{event.channel.value}:{event.event_id}"
        for item_id, message in outbox.messages_for(event, decisions, timezone):
            result.puts.append(outbox.new_item(event.tenant, source, item_id, message, now))
    return result


def _ledger_entry(tenant: str, decision: RecordLedger) -> LedgerEntry:
    return LedgerEntry(
        keys.tenant_pk(tenant),
        keys.ledger_sk(decision.at, decision.entry_id),
        gsi1pk=keys.ledger_id_gsi_pk(tenant),
        gsi1sk=decision.entry_id,
        entry_id=decision.entry_id,
        kind=decision.entry_kind,
        member=decision.member,
        group=decision.group,
        rule=decision.rule,
        clause=decision.clause_text,
        amount=decision.amount,
        status=decision.status,
        ref=decision.ref,
        evidence=decision.evidence,
        excerpt=decision.excerpt,
        evidence_hash=decision.evidence_hash,
        policy_version=decision.policy_version,
        at=decision.at,
        severity=decision.severity,
    )


def _settle(tenant: str, decision: SettleLedger, result: Plan) -> None:
    settled = LedgerEntry(keys.tenant_pk(tenant), keys.ledger_sk(decision.settles_at, decision.settles))
    condition = LedgerEntry.status.is_in(*decision.from_status)
    result.conditional_updates.append((settled, [LedgerEntry.status.set(decision.new_status)], condition))
    if decision.entry_kind:
        result.puts.append(
            _ledger_entry(
                tenant,
                RecordLedger(
                    entry_id=decision.entry_id, entry_kind=decision.entry_kind, member=decision.member,
                    rule=decision.rule, clause_text=decision.clause_text, group=decision.group,
                    amount=decision.amount, status=decision.new_status, ref=decision.settles,
                    evidence=f"{decision.by}: {decision.reason}"[:200], policy_version=decision.policy_version,
                    at=decision.at,
                ),
            )
        )  # fmt: skip


def _audit(event: Event, decision: Audit) -> AuditRecord:
    return AuditRecord(
        keys.tenant_pk(event.tenant),
        keys.audit_sk(decision.at or event.at, f"{event.channel.value}:{event.event_id}"),
        actor=decision.actor,
        action=decision.action,
        detail=decision.detail[:500],
        at=decision.at or event.at,
    )


def _activity_update(tenant: str, decision: RecordActivity) -> tuple[Item, list[Action]]:
    item = MemberActivity(keys.tenant_pk(tenant), keys.member_sk(decision.chat_id, decision.member))
    actions: list[Action] = [
        MemberActivity.tenant.set(tenant),
        MemberActivity.chat_id.set(decision.chat_id),
        MemberActivity.member.set(decision.member),
        MemberActivity.last_active_at.set(decision.at),
        MemberActivity.messages.add(1),
        MemberActivity.gsi2pk.set(keys.activity_gsi_pk(tenant, decision.chat_id)),
        MemberActivity.gsi2sk.set(keys.activity_gsi_sk(decision.at, decision.member)),
    ]
    return item, actions


class Executor:
    def commit(self, work: Plan) -> Outcome:
        first_time = DedupRecord.pk.does_not_exist()
        try:
            if not work.updates and not work.puts and not work.conditional_updates:
                work.marker.save(condition=first_time)
            else:
                connection = Item._get_connection().connection
                with TransactWrite(connection=connection) as tx:
                    # The marker must stay the first put: a cancellation reason is read by position.
                    tx.save(work.marker, condition=first_time, return_values="ALL_OLD")
                    for put in work.puts:
                        tx.save(put)
                    for item, actions in work.updates:
                        tx.update(item, actions=actions)
                    for item, actions, condition in work.conditional_updates:
                        tx.update(item, actions=actions, condition=condition)
        except PutError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                return self._replay(work.marker)
            raise StoreUnavailable(_error_code(exc)) from exc
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons if _error_code(exc) == "TransactionCanceledException" else []
            if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
                return self._replay(work.marker, reasons[0].raw_item)
            raise StoreUnavailable(_error_code(exc)) from exc
        except PynamoDBException as exc:
            raise StoreUnavailable(_error_code(exc)) from exc
        reply = _reply_of(work.marker)
        return Outcome(duplicate=False, reply=reply)

    def _replay(self, marker: DedupRecord, raw_item: Any | None = None) -> Outcome:
        from pynamodb.exceptions import DoesNotExist, GetError

        try:
            if raw_item:
                stored = DedupRecord.from_raw_data(raw_item)
            else:
                stored = DedupRecord.get(marker.pk, marker.sk, consistent_read=True)
        except (DoesNotExist, GetError) as exc:
            raise StoreUnavailable("dedup marker vanished") from exc
        return Outcome(duplicate=True, reply=_reply_of(stored))


def _error_code(exc: PynamoDBException) -> str:
    # PynamoDB's own cause_response_code trips over botocore errors that carry no response (connection failures).
    cause = exc.cause
    if isinstance(cause, ClientError):
        return str(cause.response.get("Error", {}).get("Code", "ClientError"))
    return type(cause or exc).__name__


def _reply_of(marker: DedupRecord) -> Reply | None:
    if marker.reply_body is None:
        return None
    return Reply(marker.reply_body, marker.reply_content_type or "text/plain")


TRANSACTION_LIMIT = 100  # DynamoDB TransactWriteItems: at most 100 items, each at most once


def parts(
    event: Event, decisions: Sequence[Decision], limit: int = TRANSACTION_LIMIT - 10
) -> list[tuple[Event, list[Decision]]]:
    """Split an event whose decisions would not fit one transaction (a reconciliation that seeds or checks a group of
    hundreds) into parts, each its own event (`event_id#k`) committed exactly once with its own marker. Decisions go
    into parts in order; a part never touches one item twice and stays under `limit` writes."""
    groups: list[list[Decision]] = [[]]
    seen: set[tuple[str, str]] = set()
    size = 1  # the marker
    for decision in decisions:
        writes = _writes(plan(event, [decision], None, 0))
        keys_of = {(item.pk, item.sk) for item in writes}
        if groups[-1] and (size + len(writes) > limit or keys_of & seen):
            groups.append([])
            seen, size = set(), 1
        groups[-1].append(decision)
        seen |= keys_of
        size += len(writes)
    if len(groups) == 1:
        return [(event, groups[0])]
    return [(_renamed(event, f"{event.event_id}#{index}"), group) for index, group in enumerate(groups)]


def _writes(work: Plan) -> list[Item]:
    return [*work.puts, *(item for item, _ in work.updates), *(item for item, _, _ in work.conditional_updates)]


def _renamed(event: Event, event_id: str) -> Event:
    values = {name: getattr(event, name) for name in event._fields}
    values["event_id"] = event_id
    return type(event)(**values)

"""Reconciliation: read each governed group from the platform and bring qungui's roster and group record in step,
running the same rules the events would have run (DESIGN.md §1: events can be lost; app-created and internal groups
send none).

- customer groups: `externalcontact/groupchat/get` (members with inviter, in-group nickname, join time; admin_list;
  member_version), asked for by every change_external_chat callback and polled hourly as a safety net;
- app-created groups: `appchat/get`, polled every 10 minutes (the only way to see joins, departures and renames);
- internal groups: `msgaudit/groupchat/get` (needs the chat-archive permission), polled every 10 minutes.

Per group, in order, each step committed exactly once through the executor (the job's tick is in every event id, and
a retried run of the same tick finds the markers): joins the roster did not know become a MemberJoined and
departures a MemberLeft (channel JOB) — so a lost add_member is repaired, and a member who leaves and rejoins is the
same roster item with `joins` counted up; a changed name becomes a GroupRenamed judged against the locked name; then a
GroupReconciled runs the state checks (nicknames, required members) and records what was read (UpdateGroup).

The first reconciliation of a group seeds its roster silently: members who were there before qungui knew the group
are not newcomers (no welcome, no eligibility alert); only those who joined after it was enrolled or first reported.

The schedule (`reconcile`, every minute) only picks the groups that are due and fans them out, one SQS message per
group (QUNGUI_SWEEP_QUEUE_URL), or reconciles them inline where there is no queue (tests, the local stack).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from chalicelib import groups, rule_context
from chalicelib.decisions import Decision
from chalicelib.effects.executor import Executor, parts, plan
from chalicelib.events import Channel, Event, GroupReconciled, GroupRenamed, MemberJoined, MemberLeft, Tick
from chalicelib.groups import GroupView, is_governed, policy_for, view_of
from chalicelib.record import Record
from chalicelib.rules import engine
from chalicelib.rules.decisions_membership import RosterJoin, UpdateGroup
from chalicelib.rules.group_name import GroupNames
from chalicelib.rules.roster import GroupSnapshot, MemberFacts, MemberState, diff
from chalicelib.store import keys
from chalicelib.store.models import GroupRecord, MemberActivity, TenantRecord
from chalicelib.tenants import Tenant, TenantDirectory
from chalicelib.wecom.client import AppChat, ArchiveRoom, CustomerGroup
from chalicelib.wecom.errors import PermanentError

log = logging.getLogger(__name__)

MINUTE = 60
# How often a group is read when nothing asked for it: customer groups report changes (the poll only catches lost
# events); the others report nothing.
POLL_SECONDS = {"customer": 60 * MINUTE, "appchat": 10 * MINUTE, "internal": 10 * MINUTE}
MEMBERS_PER_EVENT = 20
# A group first known from an event (an add_member): whoever joined just before that event is its newcomer.
FIRST_EVENT_SLACK = 300  # a join event's rules write a few items per member; a transaction holds 100


class PlatformReader(Protocol):
    """What reconciliation reads (chalicelib.wecom.client.WeComClient)."""

    def groupchat_get(self, chat_id: str, *, need_name: bool = True) -> CustomerGroup: ...
    def appchat_get(self, chatid: str) -> AppChat: ...
    def msgaudit_groupchat_get(self, roomid: str) -> ArchiveRoom: ...


class FactsSource(Protocol):
    """Joins a member as the platform lists them with the directory (chalicelib.directory.Directory)."""

    def facts_all(self, tenant: str, members: Iterable[MemberFacts]) -> list[MemberFacts]: ...
    def known_staff(self, tenant: str) -> list[MemberFacts]: ...


class Outcome(Record):
    chat_id: str
    status: str  # reconciled | skipped | unreadable
    joined: tuple[str, ...] = ()
    left: tuple[str, ...] = ()
    seeded: int = 0
    renamed: bool = False
    decisions: tuple[str, ...] = ()  # kinds, for the report and the logs


def read_group(client: PlatformReader, kind: str, chat_id: str) -> GroupSnapshot:
    """The group as the platform answers, members without directory facts yet."""
    if kind == "customer":
        chat = client.groupchat_get(chat_id, need_name=True)
        members = tuple(
            MemberFacts(
                userid=m.userid,
                external=m.type == 2,
                nickname=m.group_nickname.strip(),
                display_name=m.name,
                invitor=m.invitor,
                joined_at=m.join_time,
            )
            for m in chat.members
        )
        return GroupSnapshot(chat_id=chat_id, kind=kind, name=chat.name, owner=chat.owner, admins=chat.admins,
                             members=members, member_version=chat.member_version or "")  # fmt: skip
    if kind == "appchat":
        app = client.appchat_get(chat_id)
        return GroupSnapshot(chat_id=chat_id, kind=kind, name=app.name, owner=app.owner,
                             members=tuple(MemberFacts(userid=u) for u in app.userlist))  # fmt: skip
    if kind == "internal":
        room = client.msgaudit_groupchat_get(chat_id)
        members = tuple(MemberFacts(userid=m, external=_external_id(m), joined_at=t) for m, t in room.members)
        return GroupSnapshot(chat_id=chat_id, kind=kind, name=room.roomname, owner=room.creator, members=members)
    raise ValueError(f"no API reads a group of kind {kind!r}")


def _external_id(userid: str) -> bool:
    # WeCom's external_userid values start with wo/wm; staff userids are the corp's own accounts.
    return userid.startswith(("wo", "wm"))


class Reconciler:
    def __init__(
        self,
        tenants: TenantDirectory,
        client_for: Callable[[Tenant, str], PlatformReader],
        facts: Callable[[Tenant], FactsSource],
        *,
        executor: Executor | None = None,
        send: Callable[[dict[str, Any]], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._tenants = tenants
        self._client_for = client_for
        self._facts = facts
        self._executor = executor or Executor()
        self._send = send  # fan-out: one message per group (SQS); None reconciles inline
        # When effects are committed (outbox items fall due then); the tick is when the group was read.
        self._clock = clock

    # ---------------------------------------------------------------------------------------------------- schedule

    def run(self, now: float) -> dict[str, int]:
        """Every group that is due, of every tenant: fanned out, or reconciled here."""
        report = {"tenants": 0, "due": 0, "queued": 0, "reconciled": 0, "failed": 0}
        tick = int(now)
        for record in TenantRecord.due.query(keys.tenants_gsi_pk()):
            tenant = self._tenants.get(record.pk.removeprefix("T#"))
            if tenant is None:
                continue
            report["tenants"] += 1
            for group in groups.records(tenant.id):
                if not self._due(tenant, group, tick):
                    continue
                report["due"] += 1
                message = {"job": "reconcile", "tenant": tenant.id, "chat_id": group.chat_id, "tick": tick}
                if self._send is not None:
                    self._send(message)
                    report["queued"] += 1
                    continue
                try:
                    self.reconcile(tenant.id, group.chat_id, tick)
                    report["reconciled"] += 1
                except Exception:  # one group's failure (API, store) must not stop the others; it is due again
                    log.exception("reconciliation failed", extra={"tenant": tenant.id, "group": group.chat_id})
                    report["failed"] += 1
        return report

    @staticmethod
    def _due(tenant: Tenant, record: GroupRecord, tick: int) -> bool:
        view = view_of(record)
        if view.kind not in POLL_SECONDS or not is_governed(tenant, view) or record.dismissed_at is not None:
            return False
        if view.reconciled_at is None:
            return True
        requested = record.reconcile_requested_at
        if requested is not None and requested >= view.reconciled_at:
            return True
        return tick - view.reconciled_at >= POLL_SECONDS[view.kind]

    # ------------------------------------------------------------------------------------------------- one group

    def reconcile(self, tenant_id: str, chat_id: str, tick: int) -> Outcome:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            return Outcome(chat_id=chat_id, status="skipped")
        try:
            record = GroupRecord.get(keys.tenant_pk(tenant_id), keys.group_sk(chat_id), consistent_read=True)
        except GroupRecord.DoesNotExist:
            return Outcome(chat_id=chat_id, status="skipped")  # removed since it was queued (a purged tenant)
        view = view_of(record)
        if view.kind not in POLL_SECONDS or not is_governed(tenant, view):
            return Outcome(chat_id=chat_id, status="skipped")
        try:
            read = read_group(self._client_for(tenant, view.kind), view.kind, chat_id)
        except PermanentError as exc:
            # Dismissed, not ours, no permission: say so in the logs, and wait a poll interval before asking again.
            log.warning("group unreadable", extra={"tenant": tenant_id, "group": chat_id, "errcode": exc.errcode})
            self._commit(tenant, self._tick(tenant_id, chat_id, tick, "x"), [UpdateGroup(chat_id=chat_id, at=tick)])
            return Outcome(chat_id=chat_id, status="unreadable")
        source = self._facts(tenant)
        snapshot = GroupSnapshot(
            **{name: getattr(read, name) for name in read._fields if name != "members"},
            members=tuple(source.facts_all(tenant_id, read.members)),
        )
        stored = _roster(tenant_id, chat_id)
        found = diff(snapshot, stored)
        produced: list[Decision] = []

        newcomers = list(found.joined)
        seeded: list[MemberFacts] = []
        if view.reconciled_at is None:
            # The first reading: who was there before qungui knew the group is not a newcomer.
            known_since = record.enrolled_at or (record.first_seen_at and record.first_seen_at - FIRST_EVENT_SLACK)
            seeded = [f for f in newcomers if not known_since or not f.joined_at or f.joined_at < known_since]
            newcomers = [f for f in newcomers if f not in seeded]
            seed = [RosterJoin(chat_id=chat_id, member=f.userid, at=f.joined_at or tick, external=f.external,
                               invitor=f.invitor, nickname=f.nickname) for f in seeded]  # fmt: skip
            produced += self._commit(tenant, self._tick(tenant_id, chat_id, tick, "seed"), seed)
        for index, batch in enumerate(_batches([f.userid for f in newcomers])):
            event: Event = MemberJoined(**self._common(tenant_id, chat_id, tick, f"join{index}"), members=tuple(batch))
            produced += self._decide(tenant, view, event, snapshot=snapshot, member_states=stored)
        for index, batch in enumerate(_batches(found.left)):
            event = MemberLeft(**self._common(tenant_id, chat_id, tick, f"left{index}"), members=tuple(batch))
            produced += self._decide(tenant, view, event, snapshot=snapshot, member_states=stored)

        policy = policy_for(tenant, view)
        # A changed name is judged; so is the first name read where a group_name rule has nothing to hold it to yet.
        locks = any(rule.kind == "group_name" for rule in policy.rules) and not record.locked_name
        renamed = bool(snapshot.name) and (snapshot.name != (record.name or "") or locks)
        if renamed:
            names = GroupNames(current=snapshot.name, stored=record.locked_name or record.name or "")
            event = GroupRenamed(**self._common(tenant_id, chat_id, tick, "name"))
            # The name read is recorded with the judgement, so a retry never judges the same rename twice.
            produced += self._decide(tenant, view, event, [UpdateGroup(chat_id=chat_id, at=tick, name=snapshot.name)],
                                     snapshot=snapshot, names=names)  # fmt: skip

        states = _roster(tenant_id, chat_id) if (found.joined or found.left) else stored
        wants_directory = any(rule.kind == "required_members" for rule in policy.rules)
        check = GroupReconciled(**self._common(tenant_id, chat_id, tick, "check"))
        learned = UpdateGroup(
            chat_id=chat_id,
            at=tick,
            name=snapshot.name or None,
            owner=snapshot.owner or None,
            admins=snapshot.admins,
            leaders=_leaders(snapshot, policy.leader_userids, policy.leaders_from_directory),
            member_version=snapshot.member_version or None,
            member_count=len(snapshot.members),
        )
        produced += self._decide(
            tenant,
            view,
            check,
            [learned],
            snapshot=snapshot,
            member_states=states,
            directory=source.known_staff(tenant_id) if wants_directory else (),
        )
        joined_ids = tuple(f.userid for f in newcomers)
        return Outcome(chat_id=chat_id, status="reconciled", joined=joined_ids, left=found.left, seeded=len(seeded),
                       renamed=renamed, decisions=tuple(d.kind for d in produced))  # fmt: skip

    # ------------------------------------------------------------------------------------------------- plumbing

    def _decide(
        self, tenant: Tenant, view: GroupView, event: Event, extra: Sequence[Decision] = (), **context: Any
    ) -> list[Decision]:
        decisions = engine.decide(event, rule_context.build(tenant, event, view, **context)) + list(extra)
        return self._commit(tenant, event, decisions)

    def _commit(self, tenant: Tenant, event: Event, decisions: Sequence[Decision]) -> list[Decision]:
        if not decisions:
            return []
        for part, chunk in parts(event, decisions):
            self._executor.commit(plan(part, chunk, None, self._clock(), tenant.timezone))
        return list(decisions)

    @staticmethod
    def _common(tenant: str, chat_id: str, tick: int, step: str) -> dict[str, Any]:
        return {"tenant": tenant, "channel": Channel.JOB, "event_id": f"recon:{chat_id}:{tick}:{step}", "at": tick,
                "sender": "sys", "chat_id": chat_id}  # fmt: skip

    def _tick(self, tenant: str, chat_id: str, tick: int, step: str) -> Tick:
        return Tick(**self._common(tenant, chat_id, tick, step), job="reconcile")


def _roster(tenant: str, chat_id: str) -> dict[str, MemberState]:
    """The stored roster of one group: one Query on the group's member items."""
    found = MemberActivity.query(
        keys.tenant_pk(tenant), MemberActivity.sk.startswith(keys.member_prefix(chat_id)), consistent_read=True
    )
    return {
        item.member: MemberState(
            userid=item.member,
            present=item.present,
            joined_at=int(item.joined_at or 0),
            joins=int(item.joins or 0),
            nickname=item.nickname or "",
            name_due_at=int(item.name_due_at) if item.name_due_at is not None else None,
            name_wrong_since=int(item.name_wrong_since) if item.name_wrong_since is not None else None,
        )
        for item in found
    }


def _leaders(snapshot: GroupSnapshot, listed: Iterable[str], from_directory: bool) -> tuple[str, ...]:
    named = set(listed)
    return tuple(m.userid for m in snapshot.members if m.userid in named or (from_directory and m.leader))


def _batches(members: Sequence[str]) -> list[list[str]]:
    return [list(members[i : i + MEMBERS_PER_EVENT]) for i in range(0, len(members), MEMBERS_PER_EVENT)]


def queue_sender(queue_url: str | None = None) -> Callable[[dict[str, Any]], None] | None:
    """The fan-out to the sweep queue when one is configured (deployed stages), else None (reconcile inline)."""
    url = queue_url or os.environ.get("QUNGUI_SWEEP_QUEUE_URL")
    if not url:
        return None
    import boto3

    sqs = boto3.client("sqs")

    def send(message: dict[str, Any]) -> None:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))

    return send

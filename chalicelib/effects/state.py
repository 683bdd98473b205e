"""The updates that membership, name, directory and voice decisions make to stored state (rosters, group records,
the directory cache, voice counters). Pure like the planner that calls it: each decision becomes (item key, update
actions), applied in the event's transaction with its dedup marker.

Updates, not puts: a roster item also carries activity counters written by messages, and a group record carries what
admins enrolled, so each decision sets only the attributes it knows about.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.decisions import Decision
from chalicelib.rules.decisions_membership import (
    AcceptGroupName,
    GroupGone,
    NameChecked,
    RecordRequiredMissing,
    RecordVoice,
    RequestReconcile,
    RosterJoin,
    RosterLeave,
    UpdateDirectoryDepartment,
    UpdateDirectoryUser,
    UpdateGroup,
)
from chalicelib.store import keys
from chalicelib.store.models import (
    DirectoryDepartment,
    DirectoryUser,
    GroupRecord,
    Item,
    MemberActivity,
    VoiceCounter,
)

Update = tuple[Item, list[Action]]
VOICE_COUNTER_DAYS = 35  # a week's counter outlives its week long enough for the digest and an admin's question


def updates_for(tenant: str, decision: Decision) -> list[Update]:
    """The state updates of one decision ([] for decisions that change no state here)."""
    if isinstance(decision, RosterJoin):
        return [_roster_join(tenant, decision)]
    if isinstance(decision, RosterLeave):
        return [_roster_leave(tenant, decision)]
    if isinstance(decision, NameChecked):
        return [_name_checked(tenant, decision)]
    if isinstance(decision, UpdateGroup | RequestReconcile | AcceptGroupName | RecordRequiredMissing | GroupGone):
        return [_group(tenant, decision)]
    if isinstance(decision, RecordVoice):
        return [_voice(tenant, decision)]
    if isinstance(decision, UpdateDirectoryUser):
        return _directory_user(tenant, decision)
    if isinstance(decision, UpdateDirectoryDepartment):
        return [_department(tenant, decision)]
    return []


def _member(tenant: str, chat_id: str, member: str) -> tuple[MemberActivity, list[Action]]:
    item = MemberActivity(keys.tenant_pk(tenant), keys.member_sk(chat_id, member))
    return item, [
        MemberActivity.tenant.set(tenant),
        MemberActivity.chat_id.set(chat_id),
        MemberActivity.member.set(member),
    ]


def _roster_join(tenant: str, decision: RosterJoin) -> Update:
    item, actions = _member(tenant, decision.chat_id, decision.member)
    actions += [
        MemberActivity.present.set(True),
        MemberActivity.joined_at.set(decision.at),
        MemberActivity.joins.add(1),
        MemberActivity.external.set(decision.external),
        MemberActivity.nickname.set(decision.nickname),
        # The inactivity sweep counts silence from joining for a member who never spoke; a message moves it on.
        MemberActivity.gsi2pk.set(keys.activity_gsi_pk(tenant, decision.chat_id)),
        MemberActivity.gsi2sk.set(MemberActivity.gsi2sk | keys.activity_gsi_sk(decision.at, decision.member)),
    ]
    if decision.invitor:
        actions.append(MemberActivity.invitor.set(decision.invitor))
    if decision.name_due_at is not None:
        actions.append(MemberActivity.name_due_at.set(decision.name_due_at))
    return item, actions


def _roster_leave(tenant: str, decision: RosterLeave) -> Update:
    item, actions = _member(tenant, decision.chat_id, decision.member)
    actions += [
        MemberActivity.present.set(False),
        MemberActivity.left_at.set(decision.at),
        # Out of the activity index (the sweep asks only about members still there) and no pending name check.
        MemberActivity.gsi2pk.remove(),
        MemberActivity.gsi2sk.remove(),
        MemberActivity.name_due_at.remove(),
    ]
    return item, actions


def _name_checked(tenant: str, decision: NameChecked) -> Update:
    item, actions = _member(tenant, decision.chat_id, decision.member)
    actions.append(MemberActivity.nickname.set(decision.nickname))
    for attribute, value in (
        (MemberActivity.name_due_at, decision.due_at),
        (MemberActivity.name_wrong_since, decision.wrong_since),
    ):
        actions.append(attribute.set(value) if value is not None else attribute.remove())
    return item, actions


def _group(
    tenant: str, decision: UpdateGroup | RequestReconcile | AcceptGroupName | RecordRequiredMissing | GroupGone
) -> Update:
    item = GroupRecord(keys.tenant_pk(tenant), keys.group_sk(decision.chat_id))
    actions: list[Action] = [GroupRecord.chat_id.set(decision.chat_id)]
    if isinstance(decision, RequestReconcile):
        actions += [
            GroupRecord.reconcile_requested_at.set(decision.at),
            GroupRecord.first_seen_at.set(GroupRecord.first_seen_at | decision.at),
            GroupRecord.dismissed_at.remove(),  # an event from the group: it is alive
        ]
        if decision.group_kind:
            actions.append(GroupRecord.kind.set(decision.group_kind))
    elif isinstance(decision, GroupGone):
        actions.append(GroupRecord.dismissed_at.set(decision.at))
    elif isinstance(decision, AcceptGroupName):
        actions.append(GroupRecord.locked_name.set(decision.name))
    elif isinstance(decision, RecordRequiredMissing):
        actions.append(GroupRecord.required_missing.set(list(decision.members)))  # type: ignore[arg-type]
    else:
        actions += [
            GroupRecord.reconciled_at.set(decision.at),
            GroupRecord.first_seen_at.set(GroupRecord.first_seen_at | decision.at),
        ]
        values: tuple[tuple[Any, Any], ...] = (
            (GroupRecord.kind, decision.group_kind),
            (GroupRecord.name, decision.name),
            (GroupRecord.owner, decision.owner),
            (GroupRecord.admins, list(decision.admins) if decision.admins is not None else None),
            (GroupRecord.leaders, list(decision.leaders) if decision.leaders is not None else None),
            (GroupRecord.member_version, decision.member_version),
            (GroupRecord.member_count, decision.member_count),
        )
        actions += [attribute.set(value) for attribute, value in values if value is not None]
    return item, actions


def _voice(tenant: str, decision: RecordVoice) -> Update:
    item = VoiceCounter(keys.tenant_pk(tenant), keys.voice_sk(decision.chat_id, decision.member, decision.week_start))
    expires = datetime.fromtimestamp(decision.week_start + VOICE_COUNTER_DAYS * 86400, tz=UTC)
    return item, [VoiceCounter.msg_ids.add({decision.msg_id}), VoiceCounter.expires_at.set(expires)]


def _directory_user(tenant: str, decision: UpdateDirectoryUser) -> list[Update]:
    updates: list[Update] = []
    target = decision.new_user_id or decision.user_id
    if decision.new_user_id and decision.new_user_id != decision.user_id:
        # The userid itself changed: the old item is gone for good, the new one starts from what the event says.
        old = DirectoryUser(keys.tenant_pk(tenant), keys.user_sk(decision.user_id))
        updates.append((old, [DirectoryUser.userid.set(decision.user_id), DirectoryUser.deleted.set(True)]))
    item = DirectoryUser(keys.tenant_pk(tenant), keys.user_sk(target))
    actions: list[Action] = [DirectoryUser.userid.set(target), DirectoryUser.deleted.set(decision.deleted)]
    values: tuple[tuple[Any, Any], ...] = (
        (DirectoryUser.name, decision.name),
        (DirectoryUser.departments, list(decision.departments) if decision.departments is not None else None),
        (DirectoryUser.leader_in, list(decision.leader_in) if decision.leader_in is not None else None),
        (DirectoryUser.position, decision.position),
    )
    actions += [attribute.set(value) for attribute, value in values if value is not None]
    # An event is not a full read: the next reconciliation asks user/get again.
    actions.append(DirectoryUser.fetched_at.set(0))
    updates.append((item, actions))
    return updates


def _department(tenant: str, decision: UpdateDirectoryDepartment) -> Update:
    item = DirectoryDepartment(keys.tenant_pk(tenant), keys.department_sk(decision.department_id))
    actions: list[Action] = [DirectoryDepartment.department_id.set(decision.department_id)]
    if decision.name is not None:
        actions.append(DirectoryDepartment.name.set(decision.name))
    if decision.parent_id is not None:
        actions.append(DirectoryDepartment.parent_id.set(decision.parent_id))
    if decision.deleted:
        actions.append(DirectoryDepartment.name.remove())
    actions.append(DirectoryDepartment.fetched_at.set(0))
    return item, actions

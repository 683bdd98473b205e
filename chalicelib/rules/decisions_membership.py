"""Decisions about who is in a group and what it is called, beside the ones in chalicelib.decisions.

They live here until the executor learns them (the effects below are what it must do); like every Decision each one
carries the clause it enforces, and every field the executor needs to build a deterministic key is on the decision or
on the event it came from.
"""

from __future__ import annotations

from chalicelib.decisions import Decision


class RestoreGroupName(Decision):
    """Rename an app-created group back to its locked name (`appchat/update` with `name`). Only ever decided for
    groups of kind `appchat`: no API renames a customer or internal group."""

    chat_id: str
    name: str


class AcceptGroupName(Decision):
    """The group's name changed in a way the rule allows (a renamer the policy permits, or the first name qungui ever
    saw for a group enrolled without one): store `name` as the name later renames are compared with."""

    chat_id: str
    name: str


class RemoveMember(Decision):
    """Remove `member` from an app-created group (`appchat/update` with `del_user_list`). Only ever decided for groups
    of kind `appchat`; elsewhere the rules ask the owner to do it in an AlertAdmins instead. `rule` is the rule id
    whose ladder, or `escalation` for the policy's escalation, decided it."""

    chat_id: str
    member: str
    rule: str
    at: int


class RecordVoice(Decision):
    """Count one voice message towards `member`'s weekly budget in `chat_id`: the week starting at `week_start`
    (epoch seconds of Monday 00:00 in the tenant's time zone). The executor adds `msg_id` to a set on the counter
    item, so a replayed message never counts twice; the count a rule reads is that set's size."""

    chat_id: str
    member: str
    week_start: int
    msg_id: str
    at: int


class RequestReconcile(Decision):
    """An event says the group changed in a way only the platform's API can tell fully (a join: who invited them,
    their nickname; a rename: the new name; a version gap: lost events): reconcile it soon (jobs/reconcile.py)."""

    chat_id: str
    at: int
    # The kind the event proves, when the record does not know it yet (change_external_chat: customer groups only).
    group_kind: str | None = None
    member_version: str = ""  # CurMemVer, when the event carried one
    lost_events: bool = False  # LastMemVer differs from the version stored: an event in between never arrived


class GroupGone(Decision):
    """The owner dismissed the group (change_external_chat dismiss): reconciliation stops reading it. Any later event
    from the group (a RequestReconcile) brings it back."""

    chat_id: str
    at: int


class RosterJoin(Decision):
    """`member` is in the group from `at` (a join the reconciliation found, or one an event reported). The roster item
    is the same one a member had before leaving: a rejoin counts `joins` up, it does not make a second member."""

    chat_id: str
    member: str
    at: int
    external: bool = False
    invitor: str | None = None
    nickname: str = ""
    name_due_at: int | None = None  # when the nickname is first checked (the rule's grace after joining)


class RosterLeave(Decision):
    chat_id: str
    member: str
    at: int


class NameChecked(Decision):
    """The nickname check's state for one member: `due_at` the next check (None: none scheduled, the name is right or
    no rule asks), `wrong_since` since when it has been wrong (None: it is right). `nickname` as seen."""

    chat_id: str
    member: str
    nickname: str = ""
    due_at: int | None = None
    wrong_since: int | None = None


class UpdateGroup(Decision):
    """What reconciliation learned about the group (None: unchanged)."""

    chat_id: str
    at: int
    group_kind: str | None = None
    name: str | None = None
    owner: str | None = None
    admins: tuple[str, ...] | None = None
    leaders: tuple[str, ...] | None = None
    member_version: str | None = None
    member_count: int | None = None


class RecordRequiredMissing(Decision):
    """The required members (篇一 二(2)) missing from the group, as last reported: the next reconciliation reports
    again only when this set changes."""

    chat_id: str
    members: tuple[str, ...]


class UpdateDirectoryUser(Decision):
    """change_contact about a staff member: what the directory says now (only the fields the event carried)."""

    user_id: str
    at: int
    new_user_id: str = ""
    name: str | None = None
    departments: tuple[int, ...] | None = None
    leader_in: tuple[int, ...] | None = None
    position: str | None = None
    deleted: bool = False


class UpdateDirectoryDepartment(Decision):
    department_id: int
    at: int
    name: str | None = None
    parent_id: int | None = None
    deleted: bool = False

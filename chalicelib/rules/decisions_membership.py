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

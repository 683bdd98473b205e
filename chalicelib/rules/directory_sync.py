"""change_contact → what the stored directory should say (pure: no I/O, no clock).

Real callbacks are often sparse: since 2022-08-15 a newly configured callback carries only UserID and Department for
members (reference/wecom-protocol.md §4.2), and community samples show only UserID + MainDepartment. So a decision
carries only the fields the event did: None means "not said", and the executor leaves the stored value alone. An
empty text (Name, Position) counts as not said, since the channel cannot tell an absent tag from an empty one; a
cleared position therefore reaches the table only through the next user/get (the executor resets fetched_at, so the
next reconciliation reads the member again).

- create_user / update_user: the carried fields; IsLeaderInDept only together with Department (the flags mean
  something position by position; the channel drops a list that does not line up).
- update_user with NewUserID: the userid itself changed; the decision carries both, and the executor writes the new
  id's item and marks the old one deleted.
- delete_user: deleted.
- create_party / update_party / delete_party: the department's id and name. The channel does not map ParentId
  (chalicelib/channels/wecom_app.py keeps only Id and Name), so parent_id stays None: the parent comes from
  department/get when the directory reads the department again.
- update_tag: nothing. Tag membership is re-read by age (chalicelib/directory.py), not from events.
"""

from __future__ import annotations

from chalicelib.decisions import Decision
from chalicelib.events import DirectoryChanged
from chalicelib.rules.decisions_membership import UpdateDirectoryDepartment, UpdateDirectoryUser

USER_CHANGES = frozenset({"create_user", "update_user"})
PARTY_CHANGES = frozenset({"create_party", "update_party"})


def decide(event: DirectoryChanged) -> list[Decision]:
    change = event.change_type
    if change in USER_CHANGES or change == "delete_user":
        return _user(event)
    if change in PARTY_CHANGES or change == "delete_party":
        return _party(event)
    return []  # update_tag, and anything new: tags are re-read by age


def _user(event: DirectoryChanged) -> list[Decision]:
    user_id = event.user_id.strip()
    if not user_id:
        return []
    if event.change_type == "delete_user":
        return [UpdateDirectoryUser(user_id=user_id, at=event.at, deleted=True)]
    departments = tuple(event.departments) or None
    leader_in: tuple[int, ...] | None = None
    if departments and len(event.leader_in_departments) == len(departments):
        leader_in = tuple(d for d, flag in zip(departments, event.leader_in_departments, strict=True) if flag)
    new_user_id = event.new_user_id.strip() if event.change_type == "update_user" else ""
    return [
        UpdateDirectoryUser(
            user_id=user_id,
            at=event.at,
            new_user_id="" if new_user_id == user_id else new_user_id,
            name=event.name or None,
            departments=departments,
            leader_in=leader_in,
            position=event.position or None,
        )
    ]


def _party(event: DirectoryChanged) -> list[Decision]:
    try:
        department_id = int(event.party_id.strip())
    except ValueError:
        return []
    if department_id <= 0:
        return []
    if event.change_type == "delete_party":
        return [UpdateDirectoryDepartment(department_id=department_id, at=event.at, deleted=True)]
    return [UpdateDirectoryDepartment(department_id=department_id, at=event.at, name=event.name or None)]

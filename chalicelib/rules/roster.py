"""What the shell knows about a group's members when it reconciles, and the pure diff between the platform's roster
and the stored one.

The platform's answer (groupchat/get, appchat/get, msgaudit/groupchat/get) becomes a GroupSnapshot; each member's
facts join it with the directory (names, departments, tags) where the member is staff. The stored roster is one
MemberState per member qungui ever saw in the group. `diff` says who joined and who left since: those become
MemberJoined / MemberLeft events that run the same rules as the callbacks would have, so an event the platform lost
is repaired, and a member who leaves and comes back stays one member (the roster item is keyed by group and member).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from chalicelib.decisions import Decision
from chalicelib.events import (
    Channel,
    Event,
    GroupCreated,
    GroupDismissed,
    GroupNoticeChanged,
    GroupOwnerChanged,
    GroupRenamed,
    MemberJoined,
    MemberLeft,
)
from chalicelib.record import Record
from chalicelib.rules.decisions_membership import GroupGone, RequestReconcile, RosterJoin, RosterLeave

if TYPE_CHECKING:
    from chalicelib.rules.context import Context

# Groups whose API shows each member's in-group nickname (群昵称): customer groups (groupchat/get group_nickname).
NICKNAMES_VISIBLE = frozenset({"customer"})


class MemberFacts(Record):
    """One member as the platform and the directory describe them now."""

    userid: str
    external: bool = False  # an external contact (customer groups: type 2); never in the directory
    nickname: str = ""  # the in-group nickname; "" when not set (or the platform does not show it)
    display_name: str = ""  # the name WeCom shows (groupchat/get `name`: the WeChat name of an external contact)
    invitor: str | None = None
    joined_at: int = 0  # epoch seconds; 0 when the platform does not say
    in_directory: bool = False
    name: str = ""  # the directory's name (staff)
    departments: tuple[str, ...] = ()  # names of the member's departments and of every department above them
    department_ids: tuple[int, ...] = ()  # ids of the same
    position: str = ""
    tags: tuple[str, ...] = ()  # directory tags (staff) or the corp's customer tags (external contacts)
    leader: bool = False  # the directory marks them a department leader
    company: str = ""  # external contacts: their company, when known


class MemberState(Record):
    """What qungui stored about one member of one group."""

    userid: str
    present: bool | None = None  # None: seen speaking but never reconciled
    joined_at: int = 0
    joins: int = 0
    nickname: str = ""
    name_due_at: int | None = None
    name_wrong_since: int | None = None


class GroupSnapshot(Record):
    """The group as the platform answered."""

    chat_id: str
    kind: str  # customer | appchat | internal
    name: str = ""
    owner: str = ""
    admins: tuple[str, ...] = ()
    members: tuple[MemberFacts, ...] = ()
    member_version: str = ""

    @property
    def nicknames_visible(self) -> bool:
        return self.kind in NICKNAMES_VISIBLE

    def member(self, userid: str) -> MemberFacts | None:
        return next((facts for facts in self.members if facts.userid == userid), None)


class RosterDiff(Record):
    joined: tuple[MemberFacts, ...] = ()
    left: tuple[str, ...] = ()


def diff(snapshot: GroupSnapshot, stored: Mapping[str, MemberState]) -> RosterDiff:
    """Who is in the snapshot but not present in the stored roster (joined), and who the roster holds present but the
    snapshot no longer lists (left). A member seen speaking but never reconciled (present None) counts as joined; the
    first reconciliation of a group seeds its roster without treating anyone as a newcomer (jobs/reconcile.py)."""
    now = {facts.userid for facts in snapshot.members}
    joined = tuple(facts for facts in snapshot.members if not _present(stored.get(facts.userid)))
    left = tuple(sorted(userid for userid, state in stored.items() if state.present and userid not in now))
    return RosterDiff(joined=joined, left=left)


def _present(state: MemberState | None) -> bool:
    return state is not None and bool(state.present)


# ------------------------------------------------------------------------------------------ roster bookkeeping rules

CHAT_EVENTS = (
    MemberJoined,
    MemberLeft,
    GroupRenamed,
    GroupOwnerChanged,
    GroupCreated,
    GroupDismissed,
    GroupNoticeChanged,
)


def decide(event: Event, context: Context | None) -> list[Decision]:
    """Keep the roster and the group record in step with membership events.

    A callback (customer groups' change_external_chat) only hints: WeCom processes the change asynchronously and says
    neither who invited a newcomer nor their nickname nor a new name, and events can be lost. So every such callback
    asks for a reconciliation (noting a version gap: LastMemVer is not the member_version stored at the last
    reconciliation, i.e. an event in between never arrived), and only a departure is applied at once (the quit rule
    judged it from the event's QuitScene); a dismissal stops the readings until the group is heard from again. Joins
    and departures the reconciliation finds come back as events of channel JOB and are applied here."""
    if not isinstance(event, CHAT_EVENTS):
        return []
    if isinstance(event, GroupDismissed):
        return [GroupGone(chat_id=event.chat_id, at=event.at)]
    decisions: list[Decision] = []
    if event.channel is not Channel.JOB:
        unknown = context is None or context.group_kind == "unknown"
        before = getattr(event, "member_version_before", "")
        stored = context.member_version if context else ""
        decisions.append(
            RequestReconcile(
                chat_id=event.chat_id,
                at=event.at,
                group_kind="customer" if unknown else None,
                member_version=getattr(event, "member_version_after", ""),
                lost_events=bool(before and stored and before != stored),
            )
        )
    if isinstance(event, MemberLeft):
        decisions += [RosterLeave(chat_id=event.chat_id, member=m, at=event.at) for m in dict.fromkeys(event.members)]
    elif isinstance(event, MemberJoined) and event.channel is Channel.JOB:
        for member in dict.fromkeys(event.members):
            facts = context.facts_of(member) if context else None
            decisions.append(
                RosterJoin(
                    chat_id=event.chat_id,
                    member=member,
                    at=facts.joined_at if facts and facts.joined_at else event.at,
                    external=bool(facts and facts.external),
                    invitor=facts.invitor if facts else None,
                    nickname=facts.nickname if facts else "",
                )
            )
    return decisions

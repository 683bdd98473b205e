"""What a rule may know besides the event: read-only, gathered by the shell (chalicelib.gateway). Lookups that cost a
DynamoDB request are callables, called only by the rule that needs them (most messages need none)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

from chalicelib.record import Record
from chalicelib.rules.compiled import CompiledPolicy

if TYPE_CHECKING:
    from chalicelib.rules.group_name import GroupNames
    from chalicelib.rules.roster import GroupSnapshot, MemberFacts, MemberState
    from chalicelib.store.models import LedgerEntry


def _none(*_args: object) -> list[LedgerEntry]:
    return []


class Context(Record):
    policy: CompiledPolicy
    # Who may use admin commands: the tenant's admins, the group's owner and its group admins.
    admins: tuple[str, ...]
    # Who receives admin alerts (the policy's `alerts`: owner, group admins, tenant admins by default); empty: admins.
    alert_to: tuple[str, ...] = ()
    timezone: str = "Asia/Shanghai"
    member_roles: frozenset[str] = frozenset()  # the sender's roles
    # Anyone's roles in this group (owner, admin, leader, tenant_admin), e.g. of a member who just left.
    roles_of: Callable[[str], frozenset[str]] = lambda member: frozenset()
    governed: bool = True  # False: a group the tenant does not govern (`govern: listed` and not enrolled)
    group_kind: str = "unknown"
    group_name: str = ""
    member_version: str = ""  # customer groups: member_version as last reconciled
    # How many times `member` offended against `rule` within the escalation window, before this event.
    prior_offences: Callable[[str, str], int] = lambda member, rule: 0
    # The ledger entries about `member` (oldest first), and the whole ledger since an epoch (oldest first).
    member_ledger: Callable[[str], Sequence[LedgerEntry]] = _none
    ledger_since: Callable[[int], Sequence[LedgerEntry]] = _none
    # One entry by its id (as admins type it), or None.
    ledger_entry: Callable[[str], LedgerEntry | None] = lambda entry_id: None
    # Voice messages `member` already sent in `chat_id` in the week starting `week_start` (rules/voice.py).
    voice_count: Callable[[str, str, int], int] = lambda chat_id, member, week_start: 0
    # Reconciliation only (jobs/reconcile.py): the group as the platform answered, with each member's facts; the
    # stored roster; the directory's staff (required members); the names (group_name rule); the required members
    # last reported missing. Empty on the callback path.
    snapshot: GroupSnapshot | None = None
    member_states: Mapping[str, MemberState] = MappingProxyType({})
    directory: Sequence[MemberFacts] = ()
    names: GroupNames | None = None
    reported_missing: tuple[str, ...] = ()

    def facts_of(self, member: str) -> MemberFacts | None:
        return self.snapshot.member(member) if self.snapshot else None

    @property
    def alert_recipients(self) -> tuple[str, ...]:
        return self.alert_to or self.admins

    def is_admin(self, member: str) -> bool:
        return member in self.admins

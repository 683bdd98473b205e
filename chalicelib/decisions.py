"""Decisions: what the rules want done, as data. The effects executor turns them into writes and messages.

Every decision names the rulebook clause it enforces or answers from (`clause`, an id from
chalicelib/policies/rulebooks.md such as "2.3.2" = 篇二 3.2), or None when no clause is involved.
"""

from __future__ import annotations

from chalicelib.record import Record


class Decision(Record):
    clause: str | None = None

    @property
    def kind(self) -> str:
        return type(self).__name__


class ReplyToMember(Decision):
    """Answer the member inline, as the callback's passive reply (never stored beyond the dedup record)."""

    text: str


class RecordActivity(Decision):
    """The member spoke in a governed group at `at` (feeds the inactivity sweep)."""

    chat_id: str
    member: str
    at: int


class AlertAdmins(Decision):
    """Tell the group's owner/admins and the tenant's admins what happened (one markdown message each)."""

    recipients: tuple[str, ...]
    what: str  # what happened, one line, Chinese
    group: str | None = None
    group_name: str = ""
    member: str = ""
    evidence_at: int = 0  # when the evidence (a message, an event) happened, epoch seconds
    action: str = ""  # what qungui did about it
    ref: str = ""  # the ledger entry an admin can waive, if any


class RemindMember(Decision):
    """A 1:1 reminder to the member who touched a clause (app message, or the Official Account for a follower)."""

    member: str
    what: str
    via: str = "app"  # app | mp
    ref: str = ""


class PostToGroup(Decision):
    """A message into the group: appchat/send for app-created groups, or a group robot's webhook."""

    chat_id: str
    text: str
    via: str = "appchat"  # appchat | robot
    robot: str = ""  # the robot's name in the tenant's secrets, when via == "robot"


class RecordLedger(Decision):
    """Append an entry to the ledger (warnings, fines, red packets, shadow hits, and the entries that settle them)."""

    entry_id: str
    entry_kind: str  # warning | fine | red_packet | shadow | waiver | payment | reversal
    member: str
    rule: str
    clause_text: str
    group: str | None = None
    amount: float | None = None
    status: str = "active"  # active | owed | paid | waived | reversed | expired
    ref: str | None = None
    evidence: str = ""  # the message id the entry rests on
    excerpt: str | None = None  # ≤ 60 characters, personal numbers masked
    evidence_hash: str = ""
    policy_version: str = ""
    at: int = 0
    severity: str | None = None  # warnings: normal | serious


class SettleLedger(Decision):
    """An admin settles an entry: the waiver/payment/reversal is a new entry that `ref`s it, and the settled entry's
    status moves (only from one of `from_status`, so a double 已缴 or a 豁免 of a reversed entry changes nothing).
    With `entry_kind` None nothing is appended: 确认 only moves a fine from awaiting confirmation to owed."""

    settles: str  # the settled entry's id
    settles_at: int  # and its time (with the id, its key)
    new_status: str  # waived | paid | reversed | owed
    from_status: tuple[str, ...]
    by: str  # the admin
    reason: str = ""
    entry_id: str = ""
    entry_kind: str | None = None  # waiver | payment | reversal | None
    member: str = ""
    rule: str = ""
    clause_text: str = ""
    group: str | None = None
    amount: float | None = None
    policy_version: str = ""
    at: int = 0


class Audit(Decision):
    """Something an admin (or someone trying to be one) did, kept for the tenant's audit trail."""

    actor: str
    action: str  # e.g. "refused:豁免", "豁免 L7K2M4QX"
    detail: str = ""
    at: int = 0


class RecordOffence(Decision):
    """The member offended against a rule at `at` (every enforced hit, whatever its action): the ladder counts these,
    so a first offence that only earned a reminder still moves the member up to the second step."""

    member: str
    rule: str
    at: int


class SendDigest(Decision):
    """A report (the weekly digest) to each recipient, 1:1: `text` is complete markdown, rendered by the job's
    templates; the outbox adds only the reference (编号)."""

    recipients: tuple[str, ...]
    text: str
    group: str | None = None


class MarkDigestSent(Decision):
    """The weekly digest of `chat_id` for `period` (ISO week, e.g. "2026-W48") went into the outbox: the next run of
    the job skips it even after the run's dedup marker has expired."""

    chat_id: str
    period: str

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

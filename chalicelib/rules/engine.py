"""The rules entry point: every Event goes through here and comes out as Decisions. Pure: what a rule may know
besides the event arrives in the Context the shell gathered (None for events that are not messages)."""

from __future__ import annotations

from chalicelib.decisions import Decision, ReplyToMember
from chalicelib.events import Event, MemberLeft, MessagePosted
from chalicelib.rules import commands, escalation, membership, moderation
from chalicelib.rules.context import Context


def decide(event: Event, context: Context | None = None) -> list[Decision]:
    decisions = commands.decide(event, context)
    if context is None:
        return decisions
    if isinstance(event, MessagePosted) and not commands.spares_moderation(event, context):
        flagged = moderation.decide(event, context)
        if flagged and event.chat_id is not None and commands.parse(event.text) is None:
            # A flagged group message asked nothing: its reminder goes 1:1, and the group sees no command list.
            decisions = [decision for decision in decisions if not isinstance(decision, ReplyToMember)]
        decisions += flagged
    elif isinstance(event, MemberLeft) and context.governed:
        decisions += membership.decide(event, context, roles_of=context.roles_of)
    # Last, on what the rules above decided: warnings that cross the policy's escalation threshold.
    return decisions + escalation.decide(event, context, decisions, roles_of=context.roles_of)

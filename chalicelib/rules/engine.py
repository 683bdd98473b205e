"""The rules entry point: every Event goes through here and comes out as Decisions. Pure: what a rule may know
besides the event arrives in the Context the shell gathered (None for events that concern no group and no message).

Callbacks and reconciliation (jobs/reconcile.py) share this one entry: a join the reconciliation found runs the same
joining rules a join event would. Modules only reconciliation or rare events need are imported where they run, so a
callback's cold start does not pay for them.
"""

from __future__ import annotations

from chalicelib.decisions import Decision, ReplyToMember
from chalicelib.events import (
    Channel,
    DirectoryChanged,
    Event,
    GroupReconciled,
    GroupRenamed,
    MemberJoined,
    MemberLeft,
    MessagePosted,
)
from chalicelib.rules import commands, escalation, membership, moderation, roster
from chalicelib.rules.context import Context

VOICE = "voice"


def decide(event: Event, context: Context | None = None) -> list[Decision]:
    decisions = commands.decide(event, context)
    if isinstance(event, DirectoryChanged):
        from chalicelib.rules import directory_sync

        return decisions + directory_sync.decide(event)
    decisions += roster.decide(event, context)
    if context is None:
        return decisions
    if isinstance(event, MessagePosted):
        decisions = _message(event, context, decisions)
    elif isinstance(event, MemberLeft) and context.governed:
        decisions += membership.decide(event, context, roles_of=context.roles_of)
    elif isinstance(event, MemberJoined) and event.channel is Channel.JOB and context.governed:
        from chalicelib.rules import joining

        decisions += joining.decide(event, context)
    elif isinstance(event, GroupRenamed) and context.names is not None:
        from chalicelib.rules import group_name

        decisions += group_name.decide(event, context, context.names, roles_of=context.roles_of)
    elif isinstance(event, GroupReconciled) and context.governed:
        from chalicelib.rules import names, required

        decisions += names.decide(event, context) + required.decide(event, context)
    # Last, on what the rules above decided: warnings that cross the policy's escalation threshold.
    return decisions + escalation.decide(event, context, decisions, roles_of=context.roles_of)


def _message(event: MessagePosted, context: Context, decisions: list[Decision]) -> list[Decision]:
    if commands.spares_moderation(event, context):
        return decisions
    flagged = moderation.decide(event, context)
    if flagged and event.chat_id is not None and commands.parse(event.text) is None:
        # A flagged group message asked nothing: its reminder goes 1:1, and the group sees no command list.
        decisions = [decision for decision in decisions if not isinstance(decision, ReplyToMember)]
    decisions += flagged
    if event.msg_type == VOICE and event.chat_id is not None:
        from chalicelib.rules import voice

        decisions += voice.decide(event, context, voice_count=context.voice_count)
    return decisions

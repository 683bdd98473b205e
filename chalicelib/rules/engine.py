"""The rules entry point: every Event goes through here and comes out as Decisions. Pure: what a rule may know
besides the event arrives in the Context the shell gathered (None for events that are not messages)."""

from __future__ import annotations

from chalicelib.decisions import Decision
from chalicelib.events import Event, MessagePosted
from chalicelib.rules import commands, moderation
from chalicelib.rules.context import Context


def decide(event: Event, context: Context | None = None) -> list[Decision]:
    decisions = commands.decide(event, context)
    if context is not None and isinstance(event, MessagePosted) and not commands.spares_moderation(event, context):
        decisions += moderation.decide(event, context)
    return decisions

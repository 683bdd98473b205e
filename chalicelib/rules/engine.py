"""The rules entry point: every Event goes through here and comes out as Decisions. Pure."""

from __future__ import annotations

from chalicelib.decisions import Decision
from chalicelib.events import Event
from chalicelib.rules import commands


def decide(event: Event) -> list[Decision]:
    return commands.decide(event)

"""Member self-service commands, answered 1:1 with the rulebook's own how-to. Pure: no I/O, no clock."""

from __future__ import annotations

import unicodedata

from chalicelib.decisions import Decision, RecordActivity, ReplyToMember
from chalicelib.events import Event, MessagePosted
from chalicelib.texts import commands as texts

# Command word → (reply text, clause id it answers from). Aliases a member would plausibly type are included.
_COMMANDS: dict[str, tuple[str, str | None]] = {
    "帮助": (texts.HELP, None),
    "help": (texts.HELP, None),
    "?": (texts.HELP, None),
    "改昵称": (texts.NICKNAME, "2.3.2"),
    "群昵称": (texts.NICKNAME, "2.3.2"),
    "免打扰": (texts.MUTE, "3.9"),
}

_TRAILING = "。.!！?？~～ "


def command_word(text: str) -> str:
    """The command a message asks for: NFKC-folded (full-width ？ and Ｈｅｌｐ count), trimmed, lower-cased."""
    folded = unicodedata.normalize("NFKC", text).strip()
    stripped = folded.rstrip(_TRAILING) or folded
    return stripped.lower()


def decide(event: Event) -> list[Decision]:
    if not isinstance(event, MessagePosted):
        return []
    decisions: list[Decision] = []
    if event.chat_id is not None:
        decisions.append(RecordActivity(chat_id=event.chat_id, member=event.sender, at=event.at))
    if event.msg_type in ("text", "mixed", "voice") and event.text.strip():
        reply, clause = _COMMANDS.get(command_word(event.text), (texts.HELP, None))
        decisions.append(ReplyToMember(text=reply, clause=clause))
    return decisions

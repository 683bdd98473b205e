"""Commands, the same over the app chat, the bot (1:1, or @-mentioned in a group) and the Official Account, answered
1:1 as the passive reply. Pure: no I/O, no clock; the ledger is read only through the Context's callables.

Members: 帮助, 改昵称, 免打扰, 群规 [条款], 我的记录, 为什么, 同意 (accepting the rules when the welcome asks).
Admins (the tenant's admins): 记录 @成员, 豁免 ID 原因, 已缴 ID, 确认 ID, 警告 @成员 条款 说明, 影子报告
(chalicelib/rules/commands_admin.py); from anyone else a polite refusal, audited. Personal answers and admin commands
never go into a group: the bot's reply to an @-mention is seen by the whole group, so there they get a pointer to the
1:1 chat instead.
"""

from __future__ import annotations

from chalicelib.decisions import Audit, Decision, RecordActivity, ReplyToMember
from chalicelib.events import Channel, Event, MessagePosted
from chalicelib.rules import commands_admin, commands_member
from chalicelib.rules.commands_parse import ADMIN_COMMANDS, Parsed, command_word, parse
from chalicelib.rules.context import Context
from chalicelib.texts import commands as texts

__all__ = ["command_word", "decide", "spares_moderation"]

# Fixed answers: command → (reply text, clause id it answers from).
_STATIC: dict[str, tuple[str, str | None]] = {
    "改昵称": (texts.NICKNAME, "2.3.2"),
    "免打扰": (texts.MUTE, "3.9"),
}
_PERSONAL = ("我的记录", "为什么")
_ANSWERED = ("text", "mixed", "voice")


def decide(event: Event, context: Context | None = None) -> list[Decision]:
    if not isinstance(event, MessagePosted):
        return []
    decisions: list[Decision] = []
    if event.chat_id is not None and (context is None or context.governed):
        decisions.append(RecordActivity(chat_id=event.chat_id, member=event.sender, at=event.at))
    if event.channel is Channel.ARCHIVE:
        return decisions  # ordinary group talk, not addressed to us: never answered
    if event.msg_type not in _ANSWERED or not event.text.strip():
        return decisions
    return decisions + _answer(event, parse(event.text), context or _bare_context())


def spares_moderation(event: MessagePosted, context: Context) -> bool:
    """An admin's command quotes evidence ("警告 @lisi 1.3.5 他发了赌博链接"): the quote is not the admin's offence."""
    parsed = parse(event.text) if event.text.strip() else None
    return parsed is not None and parsed.command in ADMIN_COMMANDS and context.is_admin(event.sender)


def _answer(event: MessagePosted, parsed: Parsed | None, context: Context) -> list[Decision]:
    in_group = event.chat_id is not None
    admin = context.is_admin(event.sender)
    if parsed is None or parsed.command == "帮助":
        return [ReplyToMember(text=texts.HELP + ("\n\n" + texts.ADMIN_HELP if admin and not in_group else ""))]
    command = parsed.command
    if command in _STATIC:
        text, clause = _STATIC[command]
        return [ReplyToMember(text=text, clause=clause)]
    if command == "群规":
        return commands_member.rules(event, parsed.rest, context)
    if command == "同意":
        return commands_member.accept(event, context)
    if command in _PERSONAL:
        if in_group:
            return [ReplyToMember(text=texts.private_only(command))]
        personal = commands_member.my_records if command == "我的记录" else commands_member.why
        return personal(event, context)
    if not admin:
        detail = f"{event.channel.value} {event.chat_id or '1:1'}: {parsed.rest}"[:200]
        return [
            ReplyToMember(text=texts.refusal(command)),
            Audit(actor=event.sender, action=f"refused:{command}", detail=detail, at=event.at),
        ]
    if in_group:
        return [ReplyToMember(text=texts.ADMIN_PRIVATE_ONLY)]
    return commands_admin.handle(command, event, parsed.rest, context)


def _bare_context() -> Context:
    """For callers without a shell (tools, old tests): the shipped default policy, no admins, an empty ledger."""
    from chalicelib.rules import compiled

    return Context(policy=compiled.shipped("default"), admins=())

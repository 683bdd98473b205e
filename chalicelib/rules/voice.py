"""少发语音，语音可以文字代替 (篇四 三、4): a per-member weekly budget of voice messages in a group.

Weeks run Monday 00:00 to Monday 00:00 in the tenant's time zone. Every voice message over the budget is an offence
(the ladder counts them), but the nudge is gentle: the reminder and the admins' alert go out once a week, with the
first message over the budget; only what the rule's ladder says costs something (warn, fine, red_packet) is written
to the ledger, and then for each message. Voice is seen only through the chat archive, in every kind of group it
covers (customer, app-created and internal).

Pure: how many voice messages the member already sent this week comes from `voice_count`, which the shell answers
from the counter RecordVoice keeps; the week is computed from the event's time, never from a clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.decisions import Decision
from chalicelib.events import MessagePosted
from chalicelib.rules.compiled import CompiledRule
from chalicelib.rules.context import Context
from chalicelib.rules.decisions_membership import RecordVoice
from chalicelib.rules.membership import LEDGER_KINDS, Offence, applies, enforce, is_shadow, shadow_entry, source_of
from chalicelib.texts import membership as texts

VOICE = "voice"

# (chat_id, member, week_start) -> voice messages the member posted in that group since week_start, this one excluded.
VoiceCount = Callable[[str, str, int], int]


def week_start(at: int, timezone: str) -> int:
    """Epoch seconds of the Monday 00:00 (in `timezone`) that begins the week `at` falls in."""
    zone = ZoneInfo(timezone)
    local = datetime.fromtimestamp(at, tz=UTC).astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    return int(datetime.combine(monday, time(0, 0), tzinfo=zone).timestamp())


def decide(event: MessagePosted, context: Context, *, voice_count: VoiceCount) -> list[Decision]:
    """A voice message in a governed group against the policy's `voice_budget` rules."""
    if event.msg_type != VOICE or event.chat_id is None or not context.governed:
        return []
    rules = [
        rule
        for rule in context.policy.of_kind("voice_budget")
        if applies(rule, context) and not rule.exempts(event.sender, context.member_roles)
    ]
    if not rules:
        return []  # nothing to count for: an exempt member's voice messages cost no write
    start = week_start(event.at, context.timezone)
    count = voice_count(event.chat_id, event.sender, start) + 1
    decisions: list[Decision] = [
        RecordVoice(
            chat_id=event.chat_id,
            member=event.sender,
            week_start=start,
            msg_id=event.msg_id or event.event_id,
            at=event.at,
            clause=rules[0].clause,
        )
    ]
    for rule in rules:
        decisions += _judge(event, event.chat_id, rule, count, context)
    return decisions


def _judge(event: MessagePosted, chat_id: str, rule: CompiledRule, count: int, context: Context) -> list[Decision]:
    per_week = int(rule.param("per_week", 0) or 0)
    if per_week <= 0 or count <= per_week:
        return []
    first_over = count == per_week + 1
    offence = Offence(
        member=event.sender,
        source=source_of(event),
        group=chat_id,
        evidence=event.msg_id or event.event_id,
        at=event.at,
    )
    if is_shadow(rule, event, context):
        # What enforcing would have shown someone: the weekly nudge, or a penalty on any message.
        costs = any(act.type in LEDGER_KINDS for rung in rule.ladder for act in rung.do)
        return [shadow_entry(event, rule, offence, context)] if first_over or costs else []
    return enforce(
        event,
        rule,
        offence,
        context,
        number=context.prior_offences(event.sender, rule.id) + 1,
        tell_member=lambda done: texts.voice_member(count=count, per_week=per_week, done=done),
        tell_admins=texts.voice_admin(member=event.sender, count=count, per_week=per_week),
        nudge=first_over,
        roles=context.member_roles,
    )

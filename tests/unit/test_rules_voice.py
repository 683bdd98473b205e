"""篇四 三、4 少发语音 as a pure rule: the weekly budget (Monday 00:00 in the tenant's zone), a gentle nudge once a
week, penalties only where the rule's ladder names them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.decisions import AlertAdmins, Decision, RecordLedger, RecordOffence, RemindMember
from chalicelib.events import Channel, MessagePosted
from chalicelib.record import Record
from chalicelib.rules import voice
from chalicelib.rules.compiled import Act, CompiledPolicy, Rung, shipped
from chalicelib.rules.context import Context
from chalicelib.rules.decisions_membership import RecordVoice

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHAT = "wrChamberGroup"
ADMINS = ("secretary",)
CLAUSE = "4.3.4"


def local(text: str, zone: ZoneInfo = SHANGHAI) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=zone).timestamp())


NOW = local("2026-09-23T10:00:00")  # a Wednesday
WEEK = local("2026-09-21T00:00:00")  # its Monday


def replace(record: Any, **changes: Any) -> Any:
    assert isinstance(record, Record)
    return type(record)(**{**{name: getattr(record, name) for name in record._fields}, **changes})


def with_rule(policy: CompiledPolicy, rule_id: str, **changes: Any) -> CompiledPolicy:
    rules = tuple(replace(rule, **changes) if rule.id == rule_id else rule for rule in policy.rules)
    return replace(policy, rules=rules)


def voice_message(
    *, at: int = NOW, msg_id: str = "m100", sender: str = "zhangsan", chat: str | None = CHAT
) -> MessagePosted:
    return MessagePosted(
        tenant="acme",
        channel=Channel.ARCHIVE,
        event_id=msg_id,
        at=at,
        sender=sender,
        chat_id=chat,
        msg_type="voice",
        msg_id=msg_id,
    )


class Counter:
    """voice_count over a dict keyed like the store's counter item; remembers the weeks asked for."""

    def __init__(self, counts: dict[int, int] | None = None) -> None:
        self.counts = counts or {}
        self.asked: list[tuple[str, str, int]] = []

    def __call__(self, chat_id: str, member: str, week_start: int) -> int:
        self.asked.append((chat_id, member, week_start))
        return self.counts.get(week_start, 0)


def context(
    kind: str = "customer",
    policy: CompiledPolicy | None = None,
    *,
    roles: frozenset[str] = frozenset(),
    governed: bool = True,
    prior: int = 0,
    timezone: str = "Asia/Shanghai",
) -> Context:
    return Context(
        policy=policy or shipped("anhui_chamber"),
        admins=ADMINS,
        timezone=timezone,
        member_roles=roles,
        governed=governed,
        group_kind=kind,
        group_name="安徽商会会员群",
        prior_offences=lambda member, rule: prior,
    )


def decide(event: MessagePosted, ctx: Context, counter: Counter) -> list[Decision]:
    return voice.decide(event, ctx, voice_count=counter)


def kinds(decisions: list[Decision]) -> list[str]:
    return [decision.kind for decision in decisions]


# ---- the week ----


def test_a_week_starts_on_monday_at_midnight_in_the_tenants_zone() -> None:
    assert voice.week_start(NOW, "Asia/Shanghai") == WEEK
    assert voice.week_start(WEEK, "Asia/Shanghai") == WEEK
    assert voice.week_start(WEEK - 1, "Asia/Shanghai") == local("2026-09-14T00:00:00")
    # Monday 00:00 in Shanghai is Sunday 16:00 UTC: a week counted in UTC would start eight hours late.
    assert datetime.fromtimestamp(WEEK, tz=UTC).strftime("%a %H:%M") == "Sun 16:00"
    assert voice.week_start(WEEK + 3600, "UTC") == local("2026-09-14T00:00:00", ZoneInfo("UTC"))


def test_the_budget_resets_at_monday_midnight_shanghai_time() -> None:
    last_week = local("2026-09-14T00:00:00")
    counter = Counter({last_week: 30})  # a busy last week, nothing yet this week

    sunday_night = decide(voice_message(at=WEEK - 1, msg_id="m1"), context(), counter)
    monday_morning = decide(voice_message(at=WEEK, msg_id="m2"), context(), counter)

    assert [week for _, _, week in counter.asked] == [last_week, WEEK]
    assert kinds(sunday_night) == ["RecordVoice", "RecordOffence"]  # 31st of last week: over, already nudged
    assert monday_morning == [
        RecordVoice(chat_id=CHAT, member="zhangsan", week_start=WEEK, msg_id="m2", at=WEEK, clause=CLAUSE)
    ]


# ---- the budget ----


@pytest.mark.parametrize("before", [0, 3, 4])
def test_within_the_budget_a_voice_message_is_only_counted(before: int) -> None:
    counter = Counter({WEEK: before})
    assert decide(voice_message(), context(), counter) == [
        RecordVoice(chat_id=CHAT, member="zhangsan", week_start=WEEK, msg_id="m100", at=NOW, clause=CLAUSE)
    ]
    assert counter.asked == [(CHAT, "zhangsan", WEEK)]


@pytest.mark.parametrize("kind", ["customer", "appchat", "internal"])
def test_the_first_message_over_the_budget_brings_a_gentle_reminder_and_no_penalty(kind: str) -> None:
    decisions = decide(voice_message(), context(kind), Counter({WEEK: 5}))

    assert kinds(decisions) == ["RecordVoice", "RecordOffence", "RemindMember"]
    offence, reminder = decisions[1], decisions[2]
    assert offence == RecordOffence(member="zhangsan", rule="voice.budget", at=NOW, clause=CLAUSE)
    assert isinstance(reminder, RemindMember)
    assert (reminder.member, reminder.clause, reminder.ref) == ("zhangsan", CLAUSE, "")
    assert reminder.what == (
        "您本周在群里已发了6条语音，超过了每周5条的建议。语音不便于大家查找和转述，能用文字的请尽量用文字代替，谢谢配合！"
    )


def test_later_messages_that_week_are_offences_but_not_reminded_again() -> None:
    for before in (6, 7, 20):
        assert kinds(decide(voice_message(), context(), Counter({WEEK: before}))) == ["RecordVoice", "RecordOffence"]


def test_a_ladder_that_warns_penalises_every_message_over_the_budget() -> None:
    policy = with_rule(shipped("anhui_chamber"), "voice.budget", ladder=(Rung(at=1, do=(Act(type="warn"),)),))

    decisions = decide(voice_message(), context(policy=policy), Counter({WEEK: 8}))

    assert kinds(decisions) == ["RecordVoice", "RecordOffence", "RecordLedger", "RemindMember"]
    entry, reminder = decisions[2], decisions[3]
    assert isinstance(entry, RecordLedger)
    assert (entry.entry_kind, entry.rule, entry.evidence, entry.group, entry.excerpt) == (
        "warning",
        "voice.budget",
        "m100",
        CHAT,
        None,
    )
    assert isinstance(reminder, RemindMember)
    assert reminder.ref == entry.entry_id
    assert reminder.what.endswith("按群规已记警告一次。")


def test_a_ladder_that_alerts_tells_the_admins_once_a_week() -> None:
    ladder = (Rung(at=1, do=(Act(type="remind"), Act(type="alert_admins"))),)
    policy = with_rule(shipped("anhui_chamber"), "voice.budget", ladder=ladder)

    first = decide(voice_message(), context(policy=policy), Counter({WEEK: 5}))
    later = decide(voice_message(), context(policy=policy), Counter({WEEK: 6}))

    assert kinds(first) == ["RecordVoice", "RecordOffence", "RemindMember", "AlertAdmins"]
    alert = first[-1]
    assert isinstance(alert, AlertAdmins)
    assert alert.what == "zhangsan 本周已发6条语音，超过每周5条的限额"
    assert alert.action == "已私信提醒"
    assert kinds(later) == ["RecordVoice", "RecordOffence"]


def test_a_red_packet_ladder_from_the_third_offence_on() -> None:
    ladder = (Rung(at=1, do=(Act(type="remind"),)), Rung(at=3, do=(Act(type="red_packet", amount=5.0),)))
    policy = with_rule(shipped("anhui_chamber"), "voice.budget", ladder=ladder)

    decisions = decide(voice_message(), context(policy=policy, prior=2), Counter({WEEK: 7}))

    assert kinds(decisions) == ["RecordVoice", "RecordOffence", "RecordLedger", "RemindMember", "AlertAdmins"]
    entry, alert = decisions[2], decisions[4]
    assert isinstance(entry, RecordLedger)
    assert (entry.entry_kind, entry.amount) == ("red_packet", 5.0)
    assert isinstance(alert, AlertAdmins)
    assert alert.action == "需发群红包5元（待管理员确认）；已私信提醒"


# ---- where it applies ----


def test_only_voice_messages_in_governed_groups_count() -> None:
    counter = Counter({WEEK: 9})
    text = replace(voice_message(), msg_type="text", text="好的")
    assert decide(text, context(), counter) == []
    assert decide(voice_message(chat=None), context(), counter) == []  # 1:1 is never judged
    assert decide(voice_message(), context(governed=False), counter) == []
    assert decide(voice_message(), context(policy=shipped("jiushen")), counter) == []  # no voice rule
    assert counter.asked == []


def test_a_rule_limited_to_customer_groups_does_not_count_in_an_app_created_group() -> None:
    policy = with_rule(shipped("anhui_chamber"), "voice.budget", group_kinds=("customer",))
    counter = Counter({WEEK: 9})

    assert decide(voice_message(), context("appchat", policy), counter) == []
    assert decide(voice_message(), context("internal", policy), counter) == []
    assert kinds(decide(voice_message(), context("customer", policy), counter)) == ["RecordVoice", "RecordOffence"]


def test_exempt_members_are_not_even_counted() -> None:
    policy = with_rule(shipped("anhui_chamber"), "voice.budget", exempt_roles=("owner",), exempt_userids=("host",))
    counter = Counter({WEEK: 9})

    assert decide(voice_message(), context(policy=policy, roles=frozenset({"owner"})), counter) == []
    assert decide(voice_message(sender="host"), context(policy=policy), counter) == []
    assert counter.asked == []


# ---- shadow, replay ----


def test_shadow_mode_records_the_weekly_nudge_it_would_have_sent() -> None:
    policy = with_rule(shipped("anhui_chamber"), "voice.budget", mode="shadow")

    first = decide(voice_message(), context(policy=policy), Counter({WEEK: 5}))
    later = decide(voice_message(), context(policy=policy), Counter({WEEK: 6}))

    assert kinds(first) == ["RecordVoice", "RecordLedger"]
    entry = first[1]
    assert isinstance(entry, RecordLedger)
    assert (entry.entry_kind, entry.member) == ("shadow", "zhangsan")
    assert kinds(later) == ["RecordVoice"]


def test_before_the_rulebook_takes_effect_it_only_shadows() -> None:
    at = local("2025-12-31T10:00:00")
    decisions = decide(voice_message(at=at), context(), Counter({voice.week_start(at, "Asia/Shanghai"): 5}))
    assert [(d.kind, getattr(d, "entry_kind", None)) for d in decisions] == [
        ("RecordVoice", None),
        ("RecordLedger", "shadow"),
    ]


def test_replaying_a_message_decides_the_same() -> None:
    policy = with_rule(shipped("anhui_chamber"), "voice.budget", ladder=(Rung(at=1, do=(Act(type="warn"),)),))
    first = decide(voice_message(), context(policy=policy), Counter({WEEK: 5}))
    again = decide(voice_message(), context(policy=policy), Counter({WEEK: 5}))
    other = decide(voice_message(msg_id="m101"), context(policy=policy), Counter({WEEK: 5}))

    assert first == again
    assert first[2] != other[2]
    assert isinstance(first[2], RecordLedger)
    assert isinstance(other[2], RecordLedger)
    assert first[2].entry_id != other[2].entry_id

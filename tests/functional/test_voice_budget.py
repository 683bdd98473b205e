"""篇四 三、4 少发语音: a weekly voice budget per member, through Events → decisions → counters/outbox with the real
executor on moto. Voice in groups is seen only through the chat archive, so the events here are archive messages fed
to the same engine the archive ingestion uses."""

from __future__ import annotations

import json

from conftest import NOW

from chalicelib import rule_context
from chalicelib.effects.executor import Executor, plan
from chalicelib.events import Channel, MessagePosted
from chalicelib.groups import GroupDirectory
from chalicelib.policies import POLICY_DIR
from chalicelib.rules import engine
from chalicelib.rules.voice import week_start
from chalicelib.store.models import OutboxItem, VoiceCounter
from qungui_cli.main import main as qungui

WEEK = 7 * 86400


def cli(*args: str) -> None:
    assert qungui(["--stage", "dev", *args]) == 0


def voice(directory, clock, chat: str, member: str, msg_id: str, at: int) -> list[str]:
    tenant = directory.get("acme")
    event = MessagePosted(tenant="acme", channel=Channel.ARCHIVE, event_id=msg_id, at=at, sender=member,
                          chat_id=chat, msg_type="voice", msg_id=msg_id)  # fmt: skip
    group = GroupDirectory(clock, cache_seconds=0).get("acme", chat)
    decisions = engine.decide(event, rule_context.build(tenant, event, group))
    Executor().commit(plan(event, decisions, None, at, tenant.timezone))
    return [decision.kind for decision in decisions]


def reminders(member: str) -> list[str]:
    items = OutboxItem.query("T#acme", OutboxItem.sk.startswith("OUT#"), consistent_read=True)
    return [json.loads(item.payload)["text"]["content"] for item in items if item.to == member]


def test_pian4_voice_over_the_weekly_budget_gets_one_gentle_nudge(tenant, directory, clock):
    for kind in ("customer", "appchat", "internal"):  # the archive covers every kind of WeCom group
        chat = f"wr{kind}"
        cli("group", "add", chat, "--tenant", "acme", "--kind", kind, "--owner", "owner1")
        cli("policy", "apply", str(POLICY_DIR / "anhui_chamber.yaml"), "--tenant", "acme", "--group", chat)
        member = f"zhang_{kind}"
        start = week_start(NOW, "Asia/Shanghai")
        kinds = [voice(directory, clock, chat, member, f"{kind}-v{n}", start + 3600 + n * 60) for n in range(7)]
        assert all("RecordVoice" in k for k in kinds)
        assert ["RemindMember" in k for k in kinds] == [False] * 5 + [True, False]  # per_week 5: the 6th, once
        [nudge] = reminders(member)
        assert "6条语音" in nudge
        assert "篇四 三(4)" in nudge
        counter = VoiceCounter.get("T#acme", f"VOICE#{chat}#{member}#{start:012d}")
        assert len(counter.msg_ids) == 7
        # The next week starts again from zero.
        assert "RemindMember" not in voice(directory, clock, chat, member, f"{kind}-next", start + WEEK + 60)


def test_a_replayed_voice_message_counts_once(tenant, directory, clock):
    cli("group", "add", "wrA", "--tenant", "acme", "--kind", "customer")
    cli("policy", "apply", str(POLICY_DIR / "anhui_chamber.yaml"), "--tenant", "acme", "--group", "wrA")
    start = week_start(NOW, "Asia/Shanghai")
    for _ in range(3):
        voice(directory, clock, "wrA", "li", "same-msg", start + 100)
    counter = VoiceCounter.get("T#acme", f"VOICE#wrA#li#{start:012d}")
    assert counter.msg_ids == {"same-msg"}

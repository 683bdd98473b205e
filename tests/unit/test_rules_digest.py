"""The weekly digest, pure: when it is due (slots across time zones, week and year boundaries, DST), who gets it, what
it says, and that it always fits one WeCom markdown message. Texts are pinned in tests/golden/digest_*.

Regenerate the golden files deliberately with `QUNGUI_UPDATE_GOLDEN=1 python -m pytest tests/unit/test_rules_digest.py`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chalicelib.decisions import MarkDigestSent, SendDigest
from chalicelib.groups import GroupView
from chalicelib.rules import compiled, digest
from chalicelib.rules.digest import DigestSettings, Period
from chalicelib.store.models import LedgerEntry
from chalicelib.texts import alerts
from chalicelib.texts import digest as texts

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = compiled.shipped("default")  # content.insults (篇三 8) is a shadow rule whose first offence reminds


def epoch(*args: int, tz: ZoneInfo = SHANGHAI) -> int:
    return int(datetime(*args, tzinfo=tz).timestamp())


# ---- when ----


def test_the_slot_is_monday_0900_shanghai_and_a_minute_early_is_not_due():
    early = epoch(2026, 11, 23, 8, 59)
    period = digest.period_at(early, "Asia/Shanghai", 1, time(9, 0))
    assert period == Period(week="2026-W48", start=epoch(2026, 11, 16, 9, 0), end=epoch(2026, 11, 23, 9, 0))
    assert not digest.is_due(period, early, None)
    on_time = epoch(2026, 11, 23, 9, 0)
    assert digest.period_at(on_time, "Asia/Shanghai", 1, time(9, 0)) == period
    assert digest.is_due(period, on_time, None)
    assert digest.is_due(period, on_time, "2026-W47")  # last week's mark does not cover this week
    assert not digest.is_due(period, on_time, "2026-W48")


def test_later_in_the_week_the_same_period_stays_due_until_marked():
    period = digest.period_at(epoch(2026, 11, 29, 23, 59), "Asia/Shanghai", 1, time(9, 0))
    assert period.week == "2026-W48"
    assert period.end == epoch(2026, 11, 23, 9, 0)
    assert digest.is_due(period, epoch(2026, 11, 29, 23, 59), None)


def test_sunday_night_utc_is_already_monday_in_shanghai():
    # 2026-11-29 (Sunday) 20:00 UTC = Monday 04:00 in Shanghai: Shanghai's new week (W49) has not reached its slot yet,
    # while a UTC tenant is still in W48, whose Monday slot passed six days ago.
    now = epoch(2026, 11, 29, 20, 0, tz=ZoneInfo("UTC"))
    shanghai = digest.period_at(now, "Asia/Shanghai", 1, time(9, 0))
    assert shanghai.week == "2026-W49"
    assert shanghai.end == epoch(2026, 11, 30, 9, 0)
    assert not digest.is_due(shanghai, now, "2026-W48")
    utc = digest.period_at(now, "UTC", 1, time(9, 0))
    assert utc.week == "2026-W48"
    assert utc.end == epoch(2026, 11, 23, 9, 0, tz=ZoneInfo("UTC"))
    assert digest.is_due(utc, now, None)


def test_a_sunday_slot_and_the_iso_week_across_new_year():
    now = epoch(2027, 1, 3, 22, 0)  # Sunday; ISO week 53 of 2026
    period = digest.period_at(now, "Asia/Shanghai", 7, time(21, 30))
    assert period == Period(week="2026-W53", start=epoch(2026, 12, 27, 21, 30), end=epoch(2027, 1, 3, 21, 30))
    assert digest.is_due(period, now, "2026-W52")
    # Friday of the same week: the Sunday slot lies ahead.
    friday = epoch(2027, 1, 1, 12, 0)
    assert digest.period_at(friday, "Asia/Shanghai", 7, time(21, 30)) == period
    assert not digest.is_due(period, friday, None)


def test_across_a_dst_change_the_slot_keeps_its_local_time():
    new_york = ZoneInfo("America/New_York")  # DST ended on Sunday 2026-11-01
    period = digest.period_at(epoch(2026, 11, 2, 10, 0, tz=new_york), "America/New_York", 1, time(9, 0))
    assert period.end == epoch(2026, 11, 2, 9, 0, tz=new_york)
    assert period.end - period.start == 169 * 3600


def test_an_unknown_time_zone_falls_back_to_shanghai():
    now = epoch(2026, 11, 23, 9, 0)
    assert digest.period_at(now, "Mars/Olympus", 1, time(9)) == digest.period_at(now, "Asia/Shanghai", 1, time(9))


def test_settings_from_the_compiled_policy():
    assert digest.settings_of(None) == DigestSettings()
    assert digest.settings_of(POLICY.digest) == DigestSettings(
        enabled=True, weekday=1, at=time(9), to=("owner", "admin")
    )
    custom = {"enabled": False, "weekday": 5, "at": "17:30", "to": ["tenant_admin"]}
    assert digest.settings_of(custom) == DigestSettings(enabled=False, weekday=5, at=time(17, 30), to=("tenant_admin",))


# ---- who ----

GROUP = GroupView(chat_id="wrSales", name="销售部工作群", owner="owner1", admins=("adm1", "owner1"))


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (("owner", "admin"), ("owner1", "adm1")),
        (("owner", "admin", "tenant_admin"), ("owner1", "adm1", "boss", "deputy")),
        (("tenant_admin", "owner"), ("boss", "deputy", "adm1", "owner1")),
        (("admin",), ("adm1", "owner1")),
    ],
)
def test_recipients_follow_the_roles_each_once(roles, expected):
    settings = DigestSettings(to=roles)
    assert digest.recipients(settings, GROUP, ("boss", "deputy", "adm1")) == expected


def test_nobody_to_tell_decides_nothing():
    lonely = GroupView(chat_id="wrX")
    assert digest.recipients(DigestSettings(), lonely, ("boss",)) == ()
    assert digest.decide([entry("L1", "warning", "lisi")], lonely, PERIOD, DigestSettings(), policy=POLICY) == []


# ---- what ----

PERIOD = Period(week="2026-W48", start=epoch(2026, 11, 16, 9, 0), end=epoch(2026, 11, 23, 9, 0))
IN_WEEK = epoch(2026, 11, 20, 15, 0)


def entry(
    entry_id: str,
    kind: str,
    member: str,
    *,
    at: int = IN_WEEK,
    group: str | None = "wrSales",
    rule: str = "content.harmful",
    amount: float | None = None,
    status: str = "active",
    severity: str | None = None,
) -> LedgerEntry:
    return LedgerEntry(
        "T#acme",
        f"LEDGER#{at:012d}#{entry_id}",
        entry_id=entry_id,
        kind=kind,
        member=member,
        group=group,
        rule=rule,
        clause="严禁在群内发布色情、赌博、病毒链接。",
        amount=amount,
        status=status,
        at=at,
        severity=severity,
    )


LEDGER = [
    # warnings this week: zhangsan twice (one serious), lisi once
    entry("LW1", "warning", "zhangsan"),
    entry("LW2", "warning", "zhangsan", severity="serious"),
    entry("LW3", "warning", "lisi", status="waived"),
    # shadow hits this week: content.insults three times by two members
    entry("LS1", "shadow", "wangwu", rule="content.insults"),
    entry("LS2", "shadow", "wangwu", rule="content.insults"),
    entry("LS3", "shadow", "zhaoliu", rule="content.insults"),
    # open money: a fine awaiting confirmation from a month ago, an owed red packet, a paid fine (not open)
    entry("LF1", "fine", "zhangsan", at=epoch(2026, 10, 20, 10, 0), amount=100, status="active"),
    entry("LR1", "red_packet", "lisi", amount=50, status="owed"),
    entry("LF2", "fine", "lisi", amount=30, status="paid"),
    # settled this week
    entry("LP1", "payment", "lisi", amount=30, status="paid"),
    entry("LV1", "waiver", "lisi", status="waived"),
    # not this group's, or not this week's
    entry("LX1", "warning", "zhangsan", group="wrOther"),
    entry("LX2", "fine", "zhangsan", group="wrOther", amount=500, status="owed"),
    entry("LX3", "warning", "zhangsan", group=None),
    entry("LX4", "warning", "old", at=PERIOD.start - 1),
    entry("LX5", "warning", "later", at=PERIOD.end),
    entry("LX6", "shadow", "old", at=PERIOD.start - 1, rule="content.insults"),
]


def test_the_report_counts_this_groups_week_and_all_its_open_money():
    report = digest.report_of(LEDGER, "wrSales", PERIOD, POLICY)
    assert report.warnings == (
        texts.MemberWarnings(member="zhangsan", count=2, serious=1),
        texts.MemberWarnings(member="lisi", count=1, serious=0),
    )
    assert report.shadows == (
        texts.ShadowHits(rule="content.insults", label="篇三 8", count=3, members=2, would="私信提醒"),
    )
    assert [(m.entry_id, m.status, m.amount) for m in report.open_money] == [
        ("LF1", "active", 100),
        ("LR1", "owed", 50),
    ]
    assert report.settled == texts.Settled(waived=1, paid=1, reversed=0)
    assert not report.quiet


def test_decide_sends_the_report_to_each_recipient_and_marks_the_week():
    decisions = digest.decide(LEDGER, GROUP, PERIOD, DigestSettings(), policy=POLICY, tenant_admins=("boss",))
    send, mark = decisions
    assert mark == MarkDigestSent(chat_id="wrSales", period="2026-W48")
    assert isinstance(send, SendDigest)
    assert send.recipients == ("owner1", "adm1")
    assert send.group == "wrSales"
    text = send.text
    assert "销售部工作群" in text
    assert "2026-11-16 09:00 至 2026-11-23 09:00" in text
    assert "**本周警告 3次**（2人，其中严重1次）" in text
    assert "· zhangsan 2次" in text
    assert "严重1次" in text
    assert "**待处理的罚款/红包 2笔**（罚款合计100元，群红包合计50元）" in text
    assert "LF1 zhangsan 罚款100元" in text
    assert "待管理员确认" in text
    assert "LR1 lisi 群红包50元" in text
    assert "待发红包" in text
    assert "content.insults【群规 篇三 8】3次，涉及2人；若正式执行，首次即私信提醒" in text
    assert "**本周已处理**：豁免1条，已缴1笔" in text
    assert "撤销" not in text
    assert "确认 编号" in text
    assert "已缴 编号" in text
    assert "豁免 编号 原因" in text
    for absent in ("wrOther", "LX", "old", "later", "500"):
        assert absent not in text


def test_a_week_with_only_settlements_still_reports_them():
    only = [entry("LP1", "payment", "lisi", amount=30, status="paid")]
    send, _ = digest.decide(only, GROUP, PERIOD, DigestSettings(), policy=POLICY)
    assert isinstance(send, SendDigest)
    assert "已缴1笔" in send.text
    assert "确认 编号" not in send.text  # nothing is open: no instructions for open money


def test_a_quiet_week_is_marked_without_a_message():
    quiet = [entry("LX4", "warning", "old", at=PERIOD.start - 1), entry("LF2", "fine", "lisi", status="paid")]
    assert digest.decide(quiet, GROUP, PERIOD, DigestSettings(), policy=POLICY) == [
        MarkDigestSent(chat_id="wrSales", period="2026-W48")
    ]


def test_a_disabled_digest_decides_nothing():
    assert digest.decide(LEDGER, GROUP, PERIOD, DigestSettings(enabled=False), policy=POLICY) == []


def test_a_shadow_rule_the_policy_no_longer_has_is_still_counted():
    gone = [entry("LS9", "shadow", "wangwu", rule="content.retired")]
    [hit] = digest.report_of(gone, "wrSales", PERIOD, POLICY).shadows
    assert (hit.rule, hit.label, hit.count, hit.would) == ("content.retired", None, 1, "")


# ---- size ----


def test_long_lists_are_cut_with_a_count_of_the_rest():
    many = [entry(f"LW{n}", "warning", f"member{n:02d}") for n in range(30)]
    [send, _] = digest.decide(many, GROUP, PERIOD, DigestSettings(), policy=POLICY)
    assert isinstance(send, SendDigest)
    assert "**本周警告 30次**（30人）" in send.text
    assert send.text.count("\n· member") == texts.LIST_LIMIT
    assert "……等20人未列出" in send.text


def test_the_report_always_fits_one_wecom_markdown_message():
    long_id = "x" * 60
    crowd = [entry(f"LW{n}", "warning", f"{long_id}{n}", severity="serious") for n in range(200)]
    crowd += [entry(f"LF{n}", "fine", f"{long_id}{n}", amount=10000, status="active") for n in range(200)]
    crowd += [entry(f"LS{n}", "shadow", "m", rule=f"rule.{long_id}.{n}") for n in range(200)]
    [send, _] = digest.decide(crowd, GROUP, PERIOD, DigestSettings(), policy=POLICY)
    assert isinstance(send, SendDigest)
    assert len(send.text.encode()) <= texts.MAX_BYTES
    assert len(alerts.report(text=send.text, ref="0123456789abcdef0123").encode()) <= 4096
    assert "**待处理的罚款/红包 200笔**（罚款合计2000000元）" in send.text
    assert "未列出" in send.text


def test_absurdly_long_lines_are_cut_at_a_line_boundary():
    huge = texts.MemberWarnings(member="長" * 3000, count=1, serious=0)
    text = texts.weekly(group_name="g", start="a", end="b", warnings=[huge])
    assert len(text.encode()) <= texts.MAX_BYTES
    assert text.endswith("……")
    text.encode().decode()  # whole characters only


# ---- wording, pinned ----

GOLDEN_CASES = {
    "digest_full.md": lambda: texts.weekly(
        group_name="销售部工作群",
        start="2026-11-16 09:00",
        end="2026-11-23 09:00",
        open_money=[
            texts.OpenMoney(entry_id="LQ25PNZYP", member="zhangsan", kind="fine", amount=100, status="active"),
            texts.OpenMoney(entry_id="LM3K7D2QA", member="lisi", kind="red_packet", amount=50, status="owed"),
        ],
        warnings=[
            texts.MemberWarnings(member="zhangsan", count=2, serious=1),
            texts.MemberWarnings(member="lisi", count=1, serious=0),
        ],
        shadows=[texts.ShadowHits(rule="content.insults", label="篇三 8", count=5, members=3, would="私信提醒")],
        settled=texts.Settled(waived=1, paid=2),
    ),
    "digest_shadow_only.md": lambda: texts.weekly(
        group_name="wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA",
        start="2026-11-16 09:00",
        end="2026-11-23 09:00",
        shadows=[texts.ShadowHits(rule="member.quit", label=None, count=1, members=1, would="")],
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_digest_text_matches_its_golden_file(name):
    rendered = GOLDEN_CASES[name]() + "\n"
    path = GOLDEN / name
    if os.environ.get("QUNGUI_UPDATE_GOLDEN"):
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8")


def test_the_dates_in_the_title_are_the_tenants_local_time():
    utc = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    period = digest.period_at(utc.timestamp(), "UTC", 1, time(9, 0))
    [send, _] = digest.decide(LEDGER, GROUP, period, DigestSettings(), policy=POLICY, timezone="UTC")
    assert isinstance(send, SendDigest)
    assert "2026-11-16 09:00 至 2026-11-23 09:00" in send.text

"""Every outbound text, pinned: a change to wording or layout must show up here as a golden-file diff.

Regenerate deliberately with `QUNGUI_UPDATE_GOLDEN=1 python -m pytest tests/unit/test_texts_golden.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chalicelib.texts import alerts, commands
from chalicelib.texts.citations import clause_label

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CASES = {
    "admin_alert_full.md": lambda: alerts.admin_alert(
        what="张三在群里发布了赌博内容",
        clause="1.3.5",
        ref="3f9a1c2b7d",
        group="wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA",
        group_name="销售部工作群",
        member="张三（zhangsan）",
        evidence_at=1790000000,
        action="已记警告一次，已私信提醒",
        waivable="L8K2M4",
        timezone="Asia/Shanghai",
    ),
    "admin_alert_minimal.md": lambda: alerts.admin_alert(what="群名被改为“吃喝玩乐群”", clause=None, ref="a1"),
    "member_reminder.txt": lambda: alerts.member_reminder(
        what="您的群昵称“小张”不符合命名规则，请改为“部门-姓名”。", clause="2.3.3", ref="9b8c7d6e5f"
    ),
    "group_post.txt": lambda: alerts.group_post(text="请各位在30分钟内回复“收到”。", clause="1.4.3", ref="77aa"),
    "connection_test.md": lambda: alerts.connection_test_alert(tenant="acme", ref="0c0ffee"),
    "help.txt": lambda: commands.HELP,
    "admin_help.txt": lambda: commands.ADMIN_HELP,
    "rule_list.txt": lambda: commands.rule_list(
        [
            (clause_label("1.3.5"), "严禁在群内发布色情、赌博、病毒链接。"),
            (
                clause_label("1.2.3"),
                "所有群员在进入本微信群后，一律以姓名为群昵称。具体操作步骤：进入微信群后，点击屏幕右上角",
            ),
            (clause_label("3.1"), "群名称未经群主同意不得更改。"),
        ]
    ),
    "rule_list_empty.txt": lambda: commands.rule_list([]),
    "clause_not_found.txt": lambda: commands.clause_not_found("篇九 1"),
    "my_records.txt": lambda: commands.my_records(
        [
            commands.member_entry_line(
                1,
                when="2026-09-21 22:13",
                kind="fine",
                amount=100,
                status="owed",
                label="篇一 四(2)",
                entry_id="LQ25PNZYP",
            ),
            commands.member_entry_line(
                2,
                when="2026-09-20 09:05",
                kind="red_packet",
                amount=20,
                status="owed",
                label="篇四 三(4)",
                entry_id="LBFRJLNCP",
            ),
            commands.member_entry_line(
                3,
                when="2026-09-18 15:40",
                kind="warning",
                amount=None,
                status="waived",
                label="篇一 三(5)",
                entry_id="LMAWLSQBK",
            ),
        ],
        total=13,
        owed=100,
    ),
    "my_records_empty.txt": lambda: commands.my_records([], total=0, owed=0),
    "why.txt": lambda: commands.why(
        entry_id="LMAWLSQBK",
        when="2026-09-21 22:13",
        kind="warning",
        amount=None,
        status="active",
        label="篇一 三(5)",
        clause_text="严禁在群内发布色情、赌博、病毒链接。",
        excerpt="新开的菠菜网站，首充送彩金",
        manual=False,
    ),
    "why_manual_paid.txt": lambda: commands.why(
        entry_id="LQ25PNZYP",
        when="2026-09-21 22:13",
        kind="fine",
        amount=50,
        status="paid",
        label="篇一 四(5)",
        clause_text="对群里能够解决的问题绝不推诿、拖延，以至于不了了之。否则每次罚款50元。",
        excerpt="截图举报：推诿客户投诉",
        manual=True,
    ),
    "why_nothing.txt": lambda: commands.WHY_NOTHING,
    "private_only.txt": lambda: commands.private_only("我的记录"),
    "admin_private_only.txt": lambda: commands.ADMIN_PRIVATE_ONLY,
    "refusal.txt": lambda: commands.refusal("豁免"),
    "usage.txt": lambda: commands.usage("记录 @zhangsan"),
    "admin_records.txt": lambda: commands.admin_records(
        "lisi",
        [
            commands.admin_entry_line(
                entry_id="LDGHZ5IFP",
                when="2026-09-21 22:20",
                kind="waiver",
                amount=None,
                status="waived",
                label="篇一 三(5)",
                excerpt=None,
                ref="LMAWLSQBK",
                note="boss: 误判，已核实",
            ),
            commands.admin_entry_line(
                entry_id="LCCCCCCCC",
                when="2026-09-21 21:13",
                kind="shadow",
                amount=None,
                status="active",
                label="篇三 8",
                excerpt="你就是个傻逼，什么都不懂还在这里乱说话",
                ref=None,
                note="",
            ),
            commands.admin_entry_line(
                entry_id="LQ25PNZYP",
                when="2026-09-20 09:05",
                kind="fine",
                amount=100,
                status="active",
                label="篇一 四(2)",
                excerpt=None,
                ref=None,
                note="",
            ),
            commands.admin_entry_line(
                entry_id="LMAWLSQBK",
                when="2026-09-18 15:40",
                kind="warning",
                amount=None,
                status="waived",
                label="篇一 三(5)",
                excerpt="新开的菠菜网站，首充送彩金",
                ref=None,
                note="",
            ),
        ],
        total=9,
    ),
    "admin_records_empty.txt": lambda: commands.admin_records("zhangsan", [], total=0),
    "unknown_entry.txt": lambda: commands.unknown_entry("LNOSUCH01"),
    "cannot_settle.txt": lambda: "\n".join(
        commands.cannot_settle(command, "LQ25PNZYP", reason)
        for command, reason in [
            ("豁免", "shadow"),
            ("豁免", "settlement"),
            ("豁免", "waived"),
            ("豁免", "paid"),
            ("豁免", "reversed"),
            ("豁免", "expired"),
            ("确认", "warning_money"),
            ("确认", "already_owed"),
            ("已缴", "not_confirmed"),
        ]
    ),
    "waived.txt": lambda: commands.waived(
        member="lisi", kind="fine", amount=100, entry_id="LQ25PNZYP", reason="初犯，已当面提醒", new_id="L4UFBAX62"
    ),
    "paid.txt": lambda: commands.paid(
        member="lisi", kind="red_packet", amount=20, entry_id="LBFRJLNCP", new_id="LBXLNOW3P"
    ),
    "confirmed.txt": lambda: commands.confirmed(member="lisi", kind="fine", amount=100, entry_id="LQ25PNZYP"),
    "confirmed_reminder.txt": lambda: alerts.member_reminder(
        what=commands.confirmed_reminder(kind="fine", amount=100, entry_id="LQ25PNZYP"),
        clause="1.4.2",
        ref="5e6f7a8b9c",
    ),
    "warned.txt": lambda: commands.warned(
        member="wangwu",
        label="篇一 四(5)",
        note="截图举报：推诿客户投诉",
        entry_id="LMAWLSQBK",
        serious=False,
        extras=[("fine", 50, "LQ25PNZYP")],
        confirm_needed=True,
    ),
    "warned_serious_auto.txt": lambda: commands.warned(
        member="wangwu",
        label="篇四 三(4)",
        note="截图举报：群里发赌博链接",
        entry_id="LMAWLSQBK",
        serious=True,
        extras=[("red_packet", 20, "LBFRJLNCP")],
        confirm_needed=False,
    ),
    "warned_reminder.txt": lambda: alerts.member_reminder(
        what=commands.warned_reminder(
            note="截图举报：推诿客户投诉。", serious=False, extras=[("fine", 50)], confirm_needed=True
        ),
        clause="1.4.5",
        ref="0a1b2c3d4e",
    ),
    "shadow_report.txt": lambda: commands.shadow_report(
        [
            ("content.insults", "篇三 8", 5, ["你就是个傻逼", "滚出去，什么玩意儿都不懂还乱说话", "脑子有病"]),
            ("content.illegal", None, 1, []),
        ],
        days=7,
    ),
    "shadow_report_empty.txt": lambda: commands.shadow_report([], days=7),
    "nickname.txt": lambda: commands.NICKNAME,
    "mute.txt": lambda: commands.MUTE,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_text_matches_its_golden_file(name):
    rendered = CASES[name]() + "\n"
    path = GOLDEN / name
    if os.environ.get("QUNGUI_UPDATE_GOLDEN"):
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("clause", "label"),
    [
        ("1.4.2", "篇一 四(2)"),
        ("1.2.3", "篇一 二(3)"),
        ("2.3.2", "篇二 3.2"),
        ("3.9", "篇三 9"),
        ("4.3.4", "篇四 三(4)"),
        ("acme.3", "acme.3"),
    ],
)
def test_clause_labels_follow_each_rulebooks_numbering(clause, label):
    assert clause_label(clause) == label


def test_the_time_in_an_alert_is_the_tenants_local_time():
    assert "2026-09-21 22:13" in alerts.admin_alert(what="x", clause=None, ref="r", evidence_at=1790000000)
    utc = alerts.admin_alert(what="x", clause=None, ref="r", evidence_at=1790000000, timezone="UTC")
    assert "2026-09-21 14:13" in utc

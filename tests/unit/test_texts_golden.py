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

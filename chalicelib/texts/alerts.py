"""Outbound message texts: the admin alert (markdown), the member reminder (text) and the group post (text).

The one place they are rendered; tests/golden pins them. Every message ends with its reference (编号), which makes
two genuine identical reminders different messages for WeCom's duplicate check while a re-send of the same outbox
item stays identical and is dropped by it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.texts.citations import cite, clause_label


def local_time(epoch: int, timezone: str) -> str:
    # Imported here: only messages that show a time need the zone database, not every cold start.
    from zoneinfo import ZoneInfo

    try:
        zone = ZoneInfo(timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("Asia/Shanghai")
    return datetime.fromtimestamp(epoch, tz=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def admin_alert(
    *,
    what: str,
    clause: str | None,
    ref: str,
    group: str | None = None,
    group_name: str = "",
    member: str = "",
    evidence_at: int = 0,
    action: str = "",
    waivable: str = "",
    timezone: str = "Asia/Shanghai",
) -> str:
    lines = [f"**群规提醒**：{what}"]
    if group or group_name:
        lines.append(f"> 群聊：{group_name or group}" + (f"（{group}）" if group_name and group else ""))
    if member:
        lines.append(f"> 成员：{member}")
    if clause:
        lines.append(f"> 条款：{cite(clause)}")
    if evidence_at:
        lines.append(f"> 时间：{local_time(evidence_at, timezone)}")
    if action:
        lines.append(f"> 处理：{action}")
    if waivable:
        lines.append(f"如需豁免，请回复：豁免 {waivable} 原因")
    lines.append(f'<font color="comment">编号 {ref}</font>')
    return "\n".join(lines)


def member_reminder(*, what: str, clause: str | None, ref: str) -> str:
    parts = [f"您好，{what}"]
    if clause:
        parts.append(cite(clause))
        parts.append(f"如有疑问，请回复“为什么”或“群规 {clause_label(clause)}”。")
    parts.append(f"（编号 {ref}）")
    return "\n".join(parts)


def group_post(*, text: str, clause: str | None, ref: str) -> str:
    cited = f"\n{cite(clause)}" if clause else ""
    return f"{text}{cited}\n（编号 {ref}）"


def report(*, text: str, ref: str) -> str:
    return f'{text}\n<font color="comment">编号 {ref}</font>'


def connection_test_alert(*, tenant: str, ref: str) -> str:
    return (
        f"**群规助手连接测试**\n> 企业：{tenant}\n> 若您收到这条消息，说明 qungui 已能向本企业成员发送提醒。\n"
        f'<font color="comment">编号 {ref}</font>'
    )

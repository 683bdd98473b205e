"""The weekly digest (群规周报) sent 1:1 to a group's owner and admins: WeCom markdown, Simplified Chinese.

Takes plain values (chalicelib/rules/digest.py decides what goes in). Sections appear only when they have something
to say. A WeCom markdown message holds at most 4096 bytes and the outbox appends the reference (编号) line, so the
report keeps under MAX_BYTES by listing fewer lines per section ("……等N人") until it fits.
"""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.record import Record
from chalicelib.texts.commands import status_label, thing

MAX_BYTES = 4000  # 4096 minus the reference line the outbox appends (~60 bytes), with room to spare
LIST_LIMIT = 10  # lines per section before "……等N人"


class ShadowHits(Record):
    rule: str
    label: str | None  # clause label, e.g. "篇三 8"
    count: int
    members: int
    would: str  # what enforcing the rule would have done at a first offence, e.g. "警告" ("" when unknown)


class MemberWarnings(Record):
    member: str
    count: int
    serious: int


class OpenMoney(Record):
    entry_id: str
    member: str
    kind: str  # fine | red_packet
    amount: float | None
    status: str  # active (awaiting an admin's confirmation) | owed


class Settled(Record):
    waived: int = 0
    paid: int = 0
    reversed: int = 0

    def __bool__(self) -> bool:
        return bool(self.waived or self.paid or self.reversed)


def weekly(
    *,
    group_name: str,
    start: str,
    end: str,
    open_money: Sequence[OpenMoney] = (),
    warnings: Sequence[MemberWarnings] = (),
    shadows: Sequence[ShadowHits] = (),
    settled: Settled | None = None,
) -> str:
    """The report; `start` and `end` are local times ("2026-11-23 09:00"). The longest listing that fits MAX_BYTES."""
    settled = settled or Settled()
    text = ""
    for limit in range(LIST_LIMIT, 0, -1):
        text = _render(group_name, start, end, open_money, warnings, shadows, settled, limit)
        if len(text.encode()) <= MAX_BYTES:
            return text
    # Even one line per section is too long (absurdly long ids): cut at a line boundary, never inside a character.
    kept: list[str] = []
    size = 0
    for line in text.split("\n"):
        size += len(line.encode()) + 1
        if size > MAX_BYTES - len("……".encode()):
            break
        kept.append(line)
    return "\n".join([*kept, "……"])


def _render(
    group_name: str,
    start: str,
    end: str,
    open_money: Sequence[OpenMoney],
    warnings: Sequence[MemberWarnings],
    shadows: Sequence[ShadowHits],
    settled: Settled,
    limit: int,
) -> str:
    lines = [f"**群规周报｜{group_name}**", f"> {start} 至 {end}"]
    if open_money:
        lines.append("")
        lines.append(f"**待处理的罚款/红包 {len(open_money)}笔**{_totals(open_money)}")
        for item in open_money[:limit]:
            status = status_label(item.kind, item.status)
            color = "warning" if item.status == "active" else "comment"
            lines.append(f'· {item.entry_id} {item.member} {thing(item.kind, item.amount)} <font color="{color}">'
                         f"{status}</font>")  # fmt: skip
        lines += _more(len(open_money) - limit, "笔")
    if warnings:
        total = sum(w.count for w in warnings)
        serious = sum(w.serious for w in warnings)
        extra = f"，其中严重{serious}次" if serious else ""
        lines.append("")
        lines.append(f"**本周警告 {total}次**（{len(warnings)}人{extra}）")
        for member in warnings[:limit]:
            mark = f'（<font color="warning">严重{member.serious}次</font>）' if member.serious else ""
            lines.append(f"· {member.member} {member.count}次{mark}")
        lines += _more(len(warnings) - limit, "人")
    if shadows:
        total = sum(s.count for s in shadows)
        lines.append("")
        lines.append(f"**影子规则命中 {total}次**（只记录、未通知任何成员）")
        for hit in shadows[:limit]:
            label = f"【群规 {hit.label}】" if hit.label else "【群规】"
            would = f"；若正式执行，首次即{hit.would}" if hit.would else ""
            lines.append(f"· {hit.rule}{label}{hit.count}次，涉及{hit.members}人{would}")
        lines += _more(len(shadows) - limit, "条规则")
    if settled:
        done = [f"{word}{n}{unit}" for word, n, unit in (("豁免", settled.waived, "条"), ("已缴", settled.paid, "笔"),
                                                         ("撤销", settled.reversed, "条")) if n]  # fmt: skip
        lines.append("")
        lines.append(f"**本周已处理**：{'，'.join(done)}")
    hints = _hints(open_money, bool(warnings), bool(shadows))
    if hints:
        lines.append("")
        lines.append('<font color="comment">企业管理员可私聊群规助手发送：' + "｜".join(hints) + "</font>")
    return "\n".join(lines)


def _totals(open_money: Sequence[OpenMoney]) -> str:
    sums: dict[str, float] = {}
    for item in open_money:
        if item.amount is not None:
            sums[item.kind] = sums.get(item.kind, 0.0) + item.amount
    parts = [f"{'罚款' if kind == 'fine' else '群红包'}合计{_yuan(sums[kind])}元" for kind in ("fine", "red_packet")
             if kind in sums]  # fmt: skip
    return f"（{'，'.join(parts)}）" if parts else ""


def _yuan(amount: float) -> str:
    return format(amount, ".2f").rstrip("0").rstrip(".")  # 1200000, 12.5: never 1.2e+06


def _more(hidden: int, unit: str) -> list[str]:
    return [f"……等{hidden}{unit}未列出"] if hidden > 0 else []


def _hints(open_money: Sequence[OpenMoney], warned: bool, shadowed: bool) -> list[str]:
    statuses = {item.status for item in open_money}
    hints = []
    if "active" in statuses:
        hints.append("确认 编号")
    if "owed" in statuses:
        hints.append("已缴 编号")
    if open_money or warned:
        hints.append("豁免 编号 原因")
        hints.append("记录 @成员")
    if shadowed:
        hints.append("影子报告")
    return hints

"""Member- and admin-facing answers to the commands (Simplified Chinese, citing the rulebook clause).

The clause quotations are the normalized Simplified text of the seed rulebooks (篇二 3.2/3.3, 篇三 9, 篇一 二(3)); the
WeCom steps are added because the seed describes the personal-WeChat menus, which differ slightly in 企业微信.
Functions here take plain values (labels, local times, amounts) so that tests/golden pins every wording without a
ledger; the rules (chalicelib/rules/commands*.py) decide what to say, this module only says it.
"""

from __future__ import annotations

from collections.abc import Sequence

HELP = (
    "群规助手可用的指令（直接发送即可）：\n"
    "· 群规 —— 查看本群的群规条款\n"
    "· 群规 篇二 3.2 —— 查看某一条款的原文（也可写作“群规 2.3.2”）\n"
    "· 我的记录 —— 查看您的警告、罚款及处理进度\n"
    "· 为什么 —— 查看您最近一条记录的原因和依据\n"
    "· 改昵称 —— 如何设置“我在本群的昵称”（群成员一律实名制）\n"
    "· 免打扰 —— 如何对本群开启“消息免打扰”\n"
    "· 帮助 —— 显示本说明\n"
    "在群里使用时请先 @群规助手；“我的记录”“为什么”只在私聊中回复。"
)

ADMIN_HELP = (
    "管理员指令（请在私聊中使用）：\n"
    "· 记录 @成员 —— 查看该成员的全部记录（含影子记录和编号）\n"
    "· 警告 @成员 条款 说明 —— 手动记警告，例如：警告 @zhangsan 篇一 三(5) 截图举报：群内发赌博链接\n"
    "· 确认 编号 —— 确认一笔罚款或红包，成员随即收到缴纳提醒\n"
    "· 已缴 编号 —— 登记已缴纳（须先确认）\n"
    "· 豁免 编号 原因 —— 豁免一条警告、罚款或红包\n"
    "· 影子报告 —— 近7天影子规则的命中情况\n"
    "@成员 请写成员的账号（UserID），例如 @zhangsan。"
)

NICKNAME = (
    "【群规 篇二 3.2】群成员一律实名制。操作方法：进入微信群后，点击屏幕右上角图标，"
    "在打开的菜单中对“我在本群的昵称”进行修改即可。\n"
    "【群规 篇二 3.3】命名规则：部门+姓名；例如：“销售部-张三”。\n"
    "企业微信中：打开群聊 → 点击右上角「…」→「我在本群的昵称」→ 按群规填写后保存。"
)

MUTE = (
    "【群规 篇三 9】不想被本群打扰者：进入微信群后，点击右上角那两个“人头”，"
    "滑到最下端找到“消息免打扰”点一下即可。\n"
    "企业微信中：打开群聊 → 点击右上角「…」→ 打开「消息免打扰」。免打扰后仍会收到@你的消息。"
)

ACCEPTED = "谢谢！已记录您认可并遵守本群群规。回复“群规”可随时查看条款。"

# ---- words for ledger entries ----

KIND_LABELS = {
    "warning": "警告",
    "fine": "罚款",
    "red_packet": "群红包",
    "waiver": "豁免",
    "payment": "缴纳登记",
    "reversal": "撤销",
    "shadow": "影子记录",
}

_STATUS_LABELS = {
    "active": "有效",
    "owed": "待缴纳",
    "paid": "已缴纳",
    "waived": "已豁免",
    "reversed": "已撤销",
    "expired": "已过期",
}


def status_label(kind: str, status: str) -> str:
    if status == "active" and kind in ("fine", "red_packet"):
        return "待管理员确认"  # a fine under `confirm: admin` is not owed until an admin confirms it
    if kind == "red_packet" and status in ("owed", "paid"):
        return "待发红包" if status == "owed" else "已发红包"  # 篇四: a red packet is sent to the group, not paid
    return _STATUS_LABELS.get(status, status)


def penalty(kind: str, amount: float | None) -> str:
    """What an entry costs the member, as a phrase: 警告一次, 罚款100元, 发群红包50元."""
    money = f"{amount:g}元" if amount is not None else ""
    if kind == "fine":
        return f"罚款{money}"
    if kind == "red_packet":
        return f"发群红包{money}"
    if kind == "warning":
        return "警告一次"
    return KIND_LABELS.get(kind, kind)


def thing(kind: str, amount: float | None) -> str:
    """An entry as a noun: 警告, 罚款100元, 群红包50元."""
    money = f"{amount:g}元" if amount is not None else ""
    if kind in ("fine", "red_packet"):
        return f"{KIND_LABELS[kind]}{money}"
    return KIND_LABELS.get(kind, kind)


def _sentence(text: str) -> str:
    return text.rstrip("。.!！ ") + "。"


def _tag(label: str | None) -> str:
    return f"【群规 {label}】" if label else "【群规】"


def shorten(text: str | None, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- 群规 ----


def rule_list(items: Sequence[tuple[str, str]]) -> str:
    """`items`: (clause label, clause text) in the policy's order, one per clause."""
    if not items:
        return "本群目前没有配置可执行的群规条款。如有疑问，请联系群主或群管理员。"
    lines = [f"本群群规（共{len(items)}条）："]
    lines += [f"· {_tag(label)}{shorten(text, 40)}" for label, text in items]
    lines.append(f"查看某一条的全文，请回复“群规 {items[0][0]}”这样的条款编号。")
    return "\n".join(lines)


def clause_not_found(reference: str) -> str:
    shown = f"“{shorten(reference, 20)}”" if reference else ""
    return f"没有找到条款{shown}。条款编号可以写成“篇二 3.2”“篇一 四(2)”或“2.3.2”；回复“群规”可查看本群全部条款。"


# ---- 我的记录 / 为什么 (members) ----


def member_entry_line(
    number: int, *, when: str, kind: str, amount: float | None, status: str, label: str | None, entry_id: str
) -> str:
    return f"{number}. {when} {penalty(kind, amount)}{_tag(label)}—— {status_label(kind, status)}\n   编号 {entry_id}"


def my_records(lines: Sequence[str], *, total: int, owed: float) -> str:
    if not lines:
        return "您目前没有任何群规记录，请继续保持！回复“群规”可查看本群群规。"
    parts = [f"您的群规记录（共{total}条，最近的在前）："]
    parts += lines
    if total > len(lines):
        parts.append(f"（另有{total - len(lines)}条较早的记录未列出，如需查看请联系群管理员。）")
    if owed:
        parts.append(f"罚款待缴纳合计：{owed:g}元。")
    parts.append("想了解最近一条记录的原因，请回复“为什么”；如有异议，请联系群主或群管理员复核，并提供编号。")
    return "\n".join(parts)


def why(
    *,
    entry_id: str,
    when: str,
    kind: str,
    amount: float | None,
    status: str,
    label: str | None,
    clause_text: str,
    excerpt: str | None,
    manual: bool,
) -> str:
    lines = [
        f"您最近一条记录（编号 {entry_id}，{when}）：",
        f"· 记录内容：{penalty(kind, amount)}（当前状态：{status_label(kind, status)}）",
        f"· 依据条款：{_tag(label)}{clause_text}",
    ]
    if excerpt:
        lines.append(f"· 管理员说明：{excerpt}" if manual else f"· 相关消息：“{excerpt}”")
    if status in ("active", "owed"):
        lines.append(
            f"如认为记录有误，请联系群主或群管理员复核，并告知编号 {entry_id}；经核实后，管理员可以豁免这条记录。"
        )
    return "\n".join(lines)


WHY_NOTHING = "您目前没有任何群规记录，无需说明。想了解本群的规定，请回复“群规”。"


# ---- where commands may be used, and by whom ----


def private_only(command: str) -> str:
    return f"“{command}”涉及个人记录，为保护隐私只在私聊中回复。请私聊群规助手发送“{command}”。"


ADMIN_PRIVATE_ONLY = "管理员指令请在与群规助手的私聊中使用，以免在群内公开成员的记录。本条指令未执行。"


def refusal(command: str) -> str:
    return (
        f"抱歉，“{command}”是管理员指令，您暂时没有权限使用。"
        "如需查看自己的记录，请发送“我的记录”；如有疑问，请联系群主或群管理员。"
    )


def usage(example: str) -> str:
    return f"指令格式不完整。请这样发送：{example}"


# ---- 记录 @成员 (admins) ----


def admin_entry_line(
    *,
    entry_id: str,
    when: str,
    kind: str,
    amount: float | None,
    status: str,
    label: str | None,
    excerpt: str | None,
    ref: str | None,
    note: str,
) -> str:
    if kind in ("waiver", "payment", "reversal"):
        return f"· {entry_id} {when} {KIND_LABELS.get(kind, kind)} → {ref or '?'}" + (f"（{note}）" if note else "")
    if kind == "shadow":
        head = f"· {entry_id} {when} 影子记录{_tag(label)}（未通知成员）"
    else:
        head = f"· {entry_id} {when} {penalty(kind, amount)}{_tag(label)}，{status_label(kind, status)}"
    return head + (f"\n  “{shorten(excerpt, 24)}”" if excerpt else "")


def admin_records(member: str, lines: Sequence[str], *, total: int) -> str:
    if not lines:
        return f"{member} 目前没有任何记录。请确认 @ 后面写的是成员的账号（UserID）。"
    parts = [f"{member} 的全部记录（共{total}条，最近的在前）："]
    parts += lines
    if total > len(lines):
        parts.append(f"（另有{total - len(lines)}条较早的记录未列出，完整台账请用 qungui ledger 查看。）")
    parts.append("可用：豁免 编号 原因｜确认 编号｜已缴 编号")
    return "\n".join(parts)


# ---- 豁免 / 确认 / 已缴 (admins) ----


def unknown_entry(entry_id: str) -> str:
    return f"找不到编号为 {entry_id} 的记录，请核对编号（可发送“记录 @成员”查看该成员的记录和编号）。"


# Why an entry cannot be settled, by the reason the rule found.
_NOT_SETTLEABLE = {
    "shadow": "这是影子记录，只用于评估规则，不影响成员，无需处理。",
    "settlement": "这是一条处理记录（豁免、缴纳或撤销），不能再处理；请针对原记录操作。",
    "warning_money": "这是一条警告，不涉及缴纳，无需确认或登记已缴。",
    "waived": "这条记录已经豁免过了。",
    "paid": "这笔已经登记为已缴纳。",
    "reversed": "这条记录已被撤销。",
    "expired": "这条记录已过期。",
    "not_confirmed": "这笔尚待管理员确认，请先发送“确认 {id}”，成员缴纳后再登记已缴。",
    "already_owed": "这笔已经确认过，正等待成员缴纳；缴纳后请发送“已缴 {id}”。",
}


_VERBS = {"豁免": "豁免", "确认": "确认", "已缴": "登记已缴"}


def cannot_settle(command: str, entry_id: str, reason: str) -> str:
    """`reason`: a key of _NOT_SETTLEABLE (shadow, settlement, warning_money, a status, not_confirmed, …)."""
    why_not = _NOT_SETTLEABLE.get(reason, f"当前状态为“{_STATUS_LABELS.get(reason, reason)}”。")
    return f"编号 {entry_id} 无法{_VERBS.get(command, command)}：{why_not.format(id=entry_id)}"


def waived(*, member: str, kind: str, amount: float | None, entry_id: str, reason: str, new_id: str) -> str:
    return (
        f"已豁免 {member} 的{thing(kind, amount)}（编号 {entry_id}），原因：{_sentence(reason)}豁免记录编号 {new_id}。"
    )


def paid(*, member: str, kind: str, amount: float | None, entry_id: str, new_id: str) -> str:
    done = f"{member} 已发{thing(kind, amount)}" if kind == "red_packet" else f"{member} 的{thing(kind, amount)}已缴纳"
    return f"已登记 {done}（编号 {entry_id}）。缴纳记录编号 {new_id}。"


def confirmed(*, member: str, kind: str, amount: float | None, entry_id: str) -> str:
    return (
        f"已确认 {member} 的{thing(kind, amount)}（编号 {entry_id}），系统将私信提醒其缴纳；"
        f"收到后请发送“已缴 {entry_id}”登记。"
    )


def confirmed_reminder(*, kind: str, amount: float | None, entry_id: str) -> str:
    """The `what` of the reminder the member gets once an admin confirms (chalicelib.texts.alerts wraps it)."""
    return f"您的{thing(kind, amount)}（记录编号 {entry_id}）已由管理员确认，请按群规尽快缴纳，缴纳后由管理员登记。"


# ---- 警告 @成员 条款 说明 (admins) ----


def warned(
    *,
    member: str,
    label: str | None,
    note: str,
    entry_id: str,
    serious: bool,
    extras: Sequence[tuple[str, float | None, str]],
    confirm_needed: bool,
) -> str:
    """`extras`: the money penalties the clause's rule adds, as (kind, amount, entry id)."""
    what = "严重警告" if serious else "警告"
    lines = [f"已对 {member} 记{what}一次（编号 {entry_id}），依据{_tag(label)}。", f"说明：{note}"]
    for kind, amount, extra_id in extras:
        if confirm_needed:
            lines.append(
                f"按本条群规另记{penalty(kind, amount)}（编号 {extra_id}），待确认："
                f"发送“确认 {extra_id}”后成员会收到缴纳提醒；不需要的话发送“豁免 {extra_id} 原因”。"
            )
        else:
            lines.append(f"按本条群规另记{penalty(kind, amount)}（编号 {extra_id}），已通知成员缴纳。")
    lines.append("已私信通知该成员。")
    return "\n".join(lines)


def warned_reminder(
    *, note: str, serious: bool, extras: Sequence[tuple[str, float | None]], confirm_needed: bool
) -> str:
    what = "严重警告" if serious else "警告"
    text = f"管理员根据群规对您记{what}一次。说明：{_sentence(note)}"
    if extras:
        money = "、".join(penalty(kind, amount) for kind, amount in extras)
        text += f"按本条群规另需{money}" + ("（待管理员确认后再缴纳）。" if confirm_needed else "，请尽快缴纳。")
    return text


# ---- 影子报告 (admins) ----


def shadow_report(groups: Sequence[tuple[str, str | None, int, Sequence[str]]], *, days: int) -> str:
    """`groups`: (rule id, clause label, count, a few excerpts), most hits first."""
    if not groups:
        return f"近{days}天没有影子记录：影子规则没有命中任何消息。"
    total = sum(count for _, _, count, _ in groups)
    lines = [f"近{days}天影子规则报告（只记录、未通知任何成员），共{total}条："]
    for rule, label, count, excerpts in groups:
        lines.append(f"· {rule}{_tag(label)}{count}次")
        if excerpts:
            lines.append("  例：" + "；".join(f"“{shorten(text, 20)}”" for text in excerpts))
    lines.append("如认为某条影子规则判断准确，可在群规配置中把它改为 enforce（正式执行）后重新应用。")
    return "\n".join(lines)

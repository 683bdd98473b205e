"""Member- and admin-facing sentences of the roster rules: nicknames (篇一 二(3), 篇二 3.2/3.3, 篇三 6, 篇四 三、2),
joining (篇三 5 and 10, 篇四 三、5) and required members (篇一 二(2)). Simplified Chinese.

Like chalicelib.texts.membership these are the `what` and `action` lines of RemindMember and AlertAdmins: the outbox
wraps them (chalicelib.texts.alerts) and quotes the decision's clause beneath, so a sentence here names a clause by
its label only where it quotes a further clause or asks someone to type it. Functions take plain values.
"""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.texts.citations import clause_label
from chalicelib.texts.membership import outcome

# Placeholder → the word a member reads where the directory does not know the value.
PLACEHOLDER_LABELS = {"name": "姓名", "department": "部门", "position": "职位", "company": "公司"}
# WeCom's own menu path: the rulebooks describe personal WeChat's menus, which differ in 企业微信.
WECOM_NICKNAME_STEPS = "企业微信中：打开群聊 → 点击右上角「…」→「我在本群的昵称」→ 按群规填写后保存。"
NAMES_SHOWN = 10  # names listed in one admin alert before "等N人"


def who(userid: str, name: str = "") -> str:
    """张三（zhangsan）, or the bare userid when no name is known."""
    return f"{name}（{userid}）" if name and name != userid else userid


def _named(group_name: str) -> str:
    return f"群聊“{group_name}”" if group_name else "本群"


def _listed(people: Sequence[str]) -> str:
    shown = "、".join(people[:NAMES_SHOWN])
    return shown + (f"等{len(people)}人" if len(people) > NAMES_SHOWN else "")


def quoted(label: str, text: str) -> str:
    """A further clause quoted in full inside a message: 【群规 篇二 3.2】群成员一律实名制。…"""
    return f"【群规 {label}】{text}"


# ---- 群昵称 ----


def placeholder_label(name: str, *, optional: bool = False) -> str:
    label = PLACEHOLDER_LABELS.get(name, name)
    return f"{label}（可省略）" if optional else label


def _nickname_now(current: str) -> str:
    return f"群昵称“{current}”" if current else "群昵称还没有设置（群里显示的是微信名）"


def _shown(expected: str) -> str:
    # A pattern of the name alone, for someone whose name qungui cannot know: “改为“姓名”” would read as the word.
    return "真实姓名" if expected == PLACEHOLDER_LABELS["name"] else f"“{expected}”"


def _change_to(expected: str) -> str:
    return f"请改为{_shown(expected)}" if expected else "请按群规修改"


def nickname_member(*, group_name: str, current: str, expected: str, how_to: Sequence[str], done: Sequence[str]) -> str:
    wrong = "，不符合群规的命名规则" if current else ""
    penalty = "按群规" + outcome(done) if done else ""
    lines = [f"您在{_named(group_name)}中的{_nickname_now(current)}{wrong}，{_change_to(expected)}。{penalty}"]
    return "\n".join([*lines, *how_to, WECOM_NICKNAME_STEPS])


def nickname_relay(*, invitee: str, group_name: str, current: str, expected: str, how_to: Sequence[str]) -> str:
    """To the staff member who invited an external contact: the app cannot message external contacts 1:1."""
    should = f"，应改为{_shown(expected)}" if expected else ""
    lines = [
        f"您邀请入群的外部联系人 {invitee} 在{_named(group_name)}中的{_nickname_now(current)}，"
        f"不符合群规的命名规则{should}。",
        "群规助手无法私信外部联系人，请您转告对方修改。",
    ]
    return "\n".join(lines + list(how_to))


def nickname_admin(*, member: str, current: str, expected: str, offence: int) -> str:
    should = f"，应为{_shown(expected)}" if expected else ""
    return f"{member} 的{_nickname_now(current)}，不符合命名规则{should}（第{offence}次）"


NICKNAME_NOT_REACHABLE = "对方是外部联系人，群规助手无法私信，且平台没有告知本企业的邀请人，请在群里提醒其修改群昵称"
NICKNAME_RELAYED = "对方是外部联系人，已请邀请人转告"


# ---- 入群资格 (篇三 5, 篇四 三、5) ----


def _joined(items: Sequence[str], quote: bool = False) -> str:
    return "、".join(f"“{item}”" if quote else item for item in items)


def staff_requirement(*, departments: Sequence[str], tags: Sequence[str], userids: Sequence[str]) -> str:
    """What a staff member must match, as a phrase: 属于部门销售部、市场部，或带有标签“华东”，或在指定名单中."""
    parts = []
    if departments:
        parts.append(f"属于部门{_joined(departments)}")
    if tags:
        parts.append(f"带有标签{_joined(tags, quote=True)}")
    if userids:
        parts.append("在指定名单中")
    return "，或".join(parts)


def external_requirement(*, tags: Sequence[str], userids: Sequence[str]) -> str:
    parts = []
    if tags:
        parts.append(f"带有客户标签{_joined(tags, quote=True)}")
    if userids:
        parts.append("在指定名单中")
    return "外部联系人须" + "，或".join(parts) if parts else "本群不接受外部联系人"


EXTERNAL_DENIED = "本群不接受外部联系人"


def ineligible_member(*, group_name: str, requirement: str, done: Sequence[str]) -> str:
    return (
        f"您加入了{_named(group_name)}，本群的入群资格是：{requirement}。您目前不符合，群主和管理员会与您联系。"
        + ("按群规" + outcome(done) if done else "")
        + "如有疑问，请联系邀请您入群的同事或群管理员。"
    )


def ineligible_admin(*, member: str, requirement: str, invitor: str | None, external: bool) -> str:
    kind = "外部联系人 " if external else ""
    by = f"，邀请人：{invitor}" if invitor else "，平台没有告知邀请人"
    return f"{kind}{member} 加入了群聊，但不符合入群资格（{requirement}）{by}"


def ineligible_relay(*, invitee: str, group_name: str, requirement: str) -> str:
    return (
        f"您邀请的外部联系人 {invitee} 加入了{_named(group_name)}，但不符合本群的入群资格（{requirement}）。"
        "群主和管理员已知悉；如对方确应入群，请与群管理员说明。"
    )


INELIGIBLE_NOT_REACHABLE = "对方是外部联系人，群规助手无法私信，且平台没有告知本企业的邀请人"
INELIGIBLE_RELAYED = "对方是外部联系人，已告知邀请人"


# ---- 欢迎和群规 (篇三 10) ----


def rule_line(label: str, text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"· 【群规 {label}】{shown}"


RULES_TAIL = "发送“群规”查看全部，发送“群规 条款编号”查看全文。"


def rules_summary(lines: Sequence[str], *, total: int) -> str:
    """The group's rules, one line each; `lines` may be fewer than `total` when the message had no room for all."""
    head = f"本群群规（共{total}条）：" if len(lines) == total else f"本群群规（共{total}条，以下为前{len(lines)}条）："
    return "\n".join([head, *lines, RULES_TAIL])


ACCEPT_ASK = "请阅读后回复“同意”，表示认可并遵守本群群规。"


def welcome(*, group_name: str, greeting: str, rejoin: bool, summary: str, ask_to_accept: bool) -> str:
    if rejoin:
        hello = "欢迎回来！" + (greeting or f"您已重新加入{_named(group_name)}。")
    else:
        hello = greeting or f"欢迎加入{_named(group_name)}！"
    parts = [hello]
    if summary:
        parts.append(summary)
    if ask_to_accept:
        parts.append(ACCEPT_ASK)
    return "\n".join(parts)


def brief_inviter(*, newcomer: str, group_name: str, rejoin: bool, external: bool, welcomed: bool, summary: str) -> str:
    """篇三 10 to the inviter: `welcomed` the app sent the newcomer the rules itself; `summary` the rules to pass on
    (external newcomers, whom the app cannot message)."""
    joined = "重新加入了" if rejoin else "加入了"
    lines = [f"您邀请的 {newcomer} {joined}{_named(group_name)}。拉人进群，首先要告知群规，请把本群群规告诉对方。"]
    if external:
        lines.append("对方是外部联系人，群规助手无法私信对方" + ("，请您转告以下群规：" if summary else "。"))
    if summary:
        lines.append(summary)
    elif welcomed:
        lines.append("群规助手也已私信对方本群群规。")
    return "\n".join(lines)


# ---- 应加人员 (篇一 二(2)) ----


def required_admin(*, missing: int, new: int) -> str:
    added = f"（其中{new}人是新发现的）" if 0 < new < missing else ""
    return f"{missing}位按群规必须加入本群的成员尚未入群{added}"


def required_members(people: Sequence[str]) -> str:
    return _listed(people)


def required_action(*, reminded: int) -> str:
    asked = f"已私信提醒{reminded}人入群；" if reminded else ""
    return f"{asked}请群主邀请他们加入"


def required_member(*, group_name: str, owner: str, clause: str | None) -> str:
    contact = f"群主（{owner}）" if owner else "群主"
    rule = f"群规 {clause_label(clause)}" if clause else "群规"
    return f"按{rule}，您必须加入{_named(group_name)}，目前您还不在群里。请联系{contact}邀请您入群。"

"""Member- and admin-facing sentences of the membership, group-name, voice and escalation rules (Simplified Chinese).

These are the `what` and `action` lines of RemindMember and AlertAdmins: chalicelib.texts.alerts wraps them and
quotes the clause (cite) beneath, so a sentence here names the clause by its label only where it asks someone to type
it. Functions take plain values so that every wording can be pinned without a policy.
"""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.texts.citations import clause_label

KIND_LABELS = {"customer": "客户群", "appchat": "应用创建的群", "internal": "内部群"}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, "本群")


def _named(group_name: str) -> str:
    return f"群聊“{group_name}”" if group_name else "群聊"


# ---- what an offence cost (the ledger entries a ladder step wrote) ----


def penalty_done(act_type: str, *, serious: bool = False, amount: float | None = None, pending: bool = False) -> str:
    """One ledger entry as a finished action: 已记警告一次, 罚款50元（待管理员确认）, 需发群红包（待管理员确认）."""
    if act_type == "warn":
        return "已记严重警告一次" if serious else "已记警告一次"
    money = f"{amount:g}元" if amount is not None else ""
    wait = "（待管理员确认）" if pending else ""
    return f"罚款{money}{wait}" if act_type == "fine" else f"需发群红包{money}{wait}"


def outcome(done: Sequence[str]) -> str:
    return "，".join(done) + "。" if done else "请注意。"


def admin_action(done: Sequence[str], *, reminded: bool) -> str:
    parts = list(done) + (["已私信提醒"] if reminded else [])
    return "；".join(parts)


# ---- 退群 (篇二 3.7) ----


_LEFT: dict[int | None, str] = {0: "自行退出了群聊", 1: "被移出了群聊"}


def quit_member(*, group_name: str, by_self: bool, done: Sequence[str]) -> str:
    left = f"您自行退出了{_named(group_name)}" if by_self else f"您已离开{_named(group_name)}"
    return f"{left}，按群规{outcome(done)}如有特殊情况，请联系群主或群管理员说明。"


def quit_admin(*, member: str, quit_scene: int | None, offence: int) -> str:
    left = _LEFT.get(quit_scene, "离开了群聊")
    return f"{member} {left}（第{offence}次）"


def quit_unknown_admin(*, members: Sequence[str]) -> str:
    return f"{'、'.join(members)} 已离开群聊，平台没有告知是自行退出还是被移出，未记警告"


def quit_unknown_action(*, members: Sequence[str], clause: str) -> str:
    who = members[0] if len(members) == 1 else "成员"
    return f"如属执意退群，可私信回复：警告 @{who} {clause_label(clause)} 说明"


# ---- 群名 (篇一 二(1), 篇三 1, 篇四 三、1) ----


def rename_admin(*, current: str, locked: str, actor: str | None) -> str:
    who = f"{actor} 将群名" if actor else "群名被"
    return f"{who}改为“{current}”，群规指定的群名是“{locked}”" + ("" if actor else "（平台没有告知是谁修改的）")


def rename_action(*, restored: bool, restore: bool, kind: str, locked: str) -> str:
    if restored:
        return f"已自动改回“{locked}”"
    if restore:
        return f"{kind_label(kind)}没有接口可以改回群名，请群主在群设置中改回“{locked}”"
    return f"本群策略不自动改回；如未经群主同意，请改回“{locked}”"


def rename_member(*, current: str, locked: str, restored: bool, done: Sequence[str]) -> str:
    back = f"已自动改回“{locked}”" if restored else f"请改回“{locked}”"
    return f"您将群名改为“{current}”。群名未经群主同意不得更改，{back}。{outcome(done)}"


def rename_by_renamer_admin(*, actor: str, current: str, locked: str) -> str:
    return f"{actor} 将群名改为“{current}”，与群规策略指定的“{locked}”不一致"


RENAME_BY_RENAMER_ACTION = "未改回（改名人有权修改群名）；如确需改名，请同步修改群策略中的群名"


# ---- 少发语音 (篇四 三、4) ----


def voice_member(*, count: int, per_week: int, done: Sequence[str]) -> str:
    text = (
        f"您本周在群里已发了{count}条语音，超过了每周{per_week}条的建议。"
        "语音不便于大家查找和转述，能用文字的请尽量用文字代替，谢谢配合！"
    )
    return text + ("按群规" + outcome(done) if done else "")


def voice_admin(*, member: str, count: int, per_week: int) -> str:
    return f"{member} 本周已发{count}条语音，超过每周{per_week}条的限额"


# ---- 警告升级 (the policy's escalation) ----


def escalation_admin(
    *, member: str, warnings: int, weighted: int, days: int, serious_counts_as: int, latest: str | None
) -> str:
    serious = f"，折算{weighted}次（严重警告按{serious_counts_as}次计）" if weighted != warnings else ""
    last = f"（最近一次依据：群规 {clause_label(latest)}）" if latest else ""
    return f"{member} 近{days}天累计{warnings}次警告{serious}，已达到群规的升级条件{last}"


def escalation_member(*, warnings: int, weighted: int, days: int, threshold: int) -> str:
    counted = f"（折算{weighted}次）" if weighted != warnings else ""
    return (
        f"您近{days}天已累计{warnings}次警告{counted}，达到了{threshold}次的升级条件，群主和管理员已知悉。"
        "请遵守群规；回复“我的记录”可查看每一次记录。"
    )


ESCALATION_NOTED = "请群主和管理员留意"
REMOVED = "已将其移出群聊"
ALREADY_LEFT = "该成员已离开群聊，无需移出"
PROTECTED = "该成员是群主或管理员，不自动移出，请人工处理"
NO_GROUP = "这些警告不是在某个群里记的，无法自动移出，请人工处理"


def cannot_remove(kind: str) -> str:
    return f"{kind_label(kind)}没有接口可以移出成员，请群主在群成员列表中手动移出"

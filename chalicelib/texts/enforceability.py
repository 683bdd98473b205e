"""Why a rule can or cannot be enforced in a kind of group (Simplified Chinese, shown to admins by `qungui group list`).

The facts behind these sentences (DESIGN.md §1) live in chalicelib.rules.enforceability; this module only words them.
"""

from __future__ import annotations

from collections.abc import Sequence

KIND_LABELS = {"customer": "客户群", "appchat": "应用创建的群", "internal": "内部群", "unknown": "类型未知的群"}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


# ---- messages: content and voice rules ----

CONTENT_BOT_ONLY = "只能看到@群规助手的消息；要检查全部消息需接入会话存档（后续版本）"
CONTENT_NO_BOT = "看不到群消息：未配置智能机器人（群规助手），会话存档尚未接入（后续版本）"
CONTENT_APPCHAT = "应用收不到应用创建的群里的消息，只能通过会话存档读取，会话存档尚未接入（后续版本）"
VOICE_ARCHIVE_ONLY = "语音消息只能通过会话存档看到（机器人和应用都收不到群语音），会话存档尚未接入（后续版本）"

# ---- nicknames ----

NICKNAME_NO_API = "只有客户群的接口（groupchat/get 的 group_nickname）返回群昵称；此类群的群昵称无法读取"

# ---- membership (join eligibility, welcome, required members) ----

MEMBERS_INTERNAL_NEEDS_ARCHIVE = "条件：需开通会话内容存档权限（内部群成员通过 msgaudit/groupchat/get 读取）"
MEMBERS_APPCHAT_POLLING = "成员变化靠定期对账（appchat/get）发现，会有延迟"
EXTERNAL_ONLY_IN_CUSTOMER = "外部联系人条件只在客户群起作用（此类群只有企业成员）"

# ---- quitting ----

QUIT_HOW_UNKNOWN = "退群靠对账发现，无法知道是自行退出还是被移出：会告知管理员，由管理员决定是否处理"

# ---- group name ----

NAME_ALERT_ONLY_CUSTOMER = "只能提醒管理员：没有接口能把客户群的群名改回去"
NAME_ALERT_ONLY_INTERNAL = "只能提醒管理员：群名经 msgaudit/groupchat/get 对账读取，没有接口能把内部群的群名改回去"
NAME_NO_RESTORE = "策略设定不自动改回群名（restore: false），只提醒管理员"

# ---- removal ----

REMOVE_BY_OWNER = "移除需群主手动操作（只有应用创建的群能由应用移除成员）"
REMOVE_APPCHAT_ONLY = "移除成员只在应用创建的群由应用完成，其他群需群主手动操作"
ESCALATION_REMOVE = "累计警告升级时的“移除成员”：移除需群主手动操作（只有应用创建的群能由应用移除成员）"

# ---- scheduled jobs, manual rules ----

NOT_RELEASED = "尚未上线（后续版本）：此规则依赖的定时检查不在本版本中"
MANUAL = "管理员用“警告”命令记录"

# ---- per group, per rule ----

KIND_UNKNOWN = "群类型未知：请用 qungui group add CHATID --kind customer|appchat|internal 指定"
SHADOW = "观察模式（shadow）：只记录会怎样处理并写入周报，不处理任何人"
UNGOVERNED = "本群不受 qungui 管理，不运行任何规则"
UNGOVERNED_SET = "本群已设为不受管理（qungui group add --ungoverned），不运行任何规则"
UNGOVERNED_UNLISTED = "本租户只管理已登记的群（govern: listed），本群未登记，不运行任何规则；用 qungui group add 登记"
UNKNOWN_RULE_KIND = "本版本不认识此规则类型，不会执行"
NOT_ENROLLED = "qungui 从事件中得知此群，但还没有人登记（qungui group add）"


def only_in(kinds: Sequence[str]) -> str:
    named = "、".join(kind_label(kind) for kind in kinds) or "（没有任何群）"
    return f"本策略规定此规则只用于{named}"


def effective_from(day: str) -> str:
    return f"群规自 {day} 起生效；此前所有规则按观察模式运行"


def limitation(reason: str) -> str:
    """A partial rule's limitation, kept beside the shadow reason."""
    return f"另：{reason}"

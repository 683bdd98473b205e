"""Member-facing answers to the self-service commands (Simplified Chinese, citing the rulebook clause).

The clause quotations are the normalized Simplified text of the seed rulebooks (篇二 3.2/3.3, 篇三 9, 篇一 二(3)); the
WeCom steps are added because the seed describes the personal-WeChat menus, which differ slightly in 企业微信.
"""

from __future__ import annotations

HELP = (
    "群规助手可用的指令（直接发送即可）：\n"
    "· 帮助 —— 显示本说明\n"
    "· 改昵称 —— 如何设置“我在本群的昵称”（群成员一律实名制）\n"
    "· 免打扰 —— 如何对本群开启“消息免打扰”\n"
    "在群里使用时请先 @群规助手。"
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

"""`qungui demo`: the seed rulebooks' everyday scenes, played through real signed and encrypted callbacks against a
local stack it starts itself, printed as a transcript a person can read."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
from typing import Any

from qungui_cli.dev import LocalStack, free_port
from qungui_cli.sender import Answer, Sender, TenantKeys, keys_for

TENANT = "demo"
# The official V1 test vector's credentials: anyone can check the traffic below with Tencent's own sample code.
CORP_ID = "ww1436e0e65a779aee"
TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"  # noqa: S105 - a public test vector
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
BOT_TOKEN = "QDG6eK"  # noqa: S105 - a public test vector
BOT_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
MP_APP_ID = "wx134c8103faa5a59e"
MP_TOKEN = "AAAAA"  # noqa: S105 - a public test vector
MP_AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"


def register(subparsers: Any) -> None:
    demo = subparsers.add_parser("demo", help="play the seed scenes end to end and print the transcript")
    demo.set_defaults(handler=run, needs_target=False)


class Transcript:
    def scene(self, title: str) -> None:
        print(f"\n━━ {title}")

    def say(self, who: str, text: str) -> None:
        print(f"  {who}：{text}")

    def answer(self, answer: Answer) -> None:
        if answer.reply:
            first, *rest = answer.reply.splitlines()
            print(f"  群规助手 → {first}")
            for line in rest:
                print(f"              {line}")
        elif answer.status == 200:
            print("  群规助手 → （已接收，无需回复）")
        else:
            print(f"  平台收到 HTTP {answer.status}：{answer.body}")

    def note(self, text: str) -> None:
        print(f"  · {text}")


def run(args: argparse.Namespace) -> int:
    # The transcript is the output: keep the app's JSON logs, its metrics and the HTTP request log out of it.
    os.environ.update({"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"})
    stack = LocalStack(free_port(), print_sends=False).start(write_state=False)
    stack.serve_in_background()
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            play(stack.url, Transcript(), stack.fake_wecom)
    finally:
        stack.stop()
    return 0


def _register_tenant() -> None:
    from qungui_cli.main import main

    with contextlib.redirect_stdout(io.StringIO()):
        main(["--stage", "dev", "tenant", "add", TENANT, "--corp-id", CORP_ID, "--agent-id", "1000002",
              "--secret", "demo-secret", "--token", TOKEN, "--aes-key", AES_KEY, "--admins", "wanglaoban",
              "--bot-token", BOT_TOKEN, "--bot-aes-key", BOT_AES_KEY, "--mp-app-id", MP_APP_ID,
              "--mp-token", MP_TOKEN, "--mp-aes-key", MP_AES_KEY, "--mp-secret", "demo-mp-secret"])  # fmt: skip


def _delivered(fake: Any, to: str, already: int, timeout: float = 15.0) -> list[str]:
    """What the fake WeCom received for `to` beyond the first `already` messages, once the outbox has sent it."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = fake.deliveries("message/send", to=to)
        if len(found) > already:
            return [d.body[d.msgtype]["content"] for d in found[already:]]
        time.sleep(0.2)
    return []


def _membership(out: Transcript, fake: Any) -> None:
    """篇二 3.3 through reconciliation: a join whose event WeCom lost is found by reading the group, and the
    newcomer's nickname is checked against the directory once the grace has passed."""
    import time

    from chalicelib import runtime
    from chalicelib.policies import POLICY_DIR
    from chalicelib.store.models import MemberActivity
    from qungui_cli.main import main

    chat = "wrSalesGroup"
    out.scene("客户群“销售群”来了新成员，企业微信的入群事件却丢了：群规助手对账时发现了他（篇二 3.2 / 3.3）")
    fake.add_department(1, "总公司", 0)
    fake.add_department(2, "销售部", 1)
    for userid, name in (("wanglaoban", "王老板"), ("lisi", "李四"), ("wangwu", "王五")):
        fake.add_user(userid, name, department=[2])
    now = int(time.time())
    old = [{"userid": "wanglaoban", "join_time": now - 86400, "group_nickname": "销售部-王老板"},
           {"userid": "lisi", "join_time": now - 86400, "group_nickname": "销售部-李四"}]  # fmt: skip
    fake.add_customer_group(chat, "销售群", "wanglaoban", old, member_version="v1")
    with contextlib.redirect_stdout(io.StringIO()):
        main(["--stage", "dev", "group", "add", chat, "--tenant", TENANT, "--kind", "customer", "--owner",
              "wanglaoban", "--name", "销售群"])  # fmt: skip
        main(["--stage", "dev", "policy", "apply", str(POLICY_DIR / "jiushen.yaml"), "--tenant", TENANT, "--group",
              chat])  # fmt: skip
    reconciler = runtime.reconciler()
    reconciler.reconcile(TENANT, chat, now)
    out.note("第一次对账：群里原有的 2 人记入名册（老成员不算新人，不发欢迎）")
    newcomer = {"userid": "wangwu", "join_time": now + 5, "group_nickname": "小王", "invitor": {"userid": "lisi"}}
    fake.customer_groups[chat]["member_list"].append({"type": 1, "join_scene": 1, **newcomer})
    fake.customer_groups[chat]["member_version"] = "v2"
    out.say("王五", "（被李四拉进群，群昵称“小王”；企业微信没有发来入群事件）")
    reconciler.reconcile(TENANT, chat, now + 60)
    roster = MemberActivity.query(f"T#{TENANT}", MemberActivity.sk.startswith(f"MEMBER#{chat}#"))
    present = [item.member for item in roster if item.present]
    out.note(f"对账读取 groupchat/get，名册现在是：{'、'.join(sorted(present))}")
    out.note("一小时后（昵称宽限期已过）再次对账：“小王”不符合“部门-姓名”，通讯录里他是销售部的王五")
    reconciler.reconcile(TENANT, chat, now + 3700)
    for text in _delivered(fake, "wangwu", 0):
        out.note("群规助手私信王五：" + text.replace("\n", " "))


def play(url: str, out: Transcript, fake: Any = None) -> None:
    _register_tenant()
    sender = Sender(url, keys_for(TENANT))
    print(f"qungui demo: local stack at {url}, tenant {TENANT!r} (企业 {CORP_ID})")

    out.scene("企业管理员在企业微信后台填写回调 URL：企业微信发来校验请求")
    verified = sender.verify_url("app", echo="1288432023552776189")
    out.note(f"GET /wecom/{TENANT}/callback → HTTP {verified.status}，返回明文 {verified.body}（校验通过）")

    out.scene("新成员私聊群规助手（自建应用）")
    out.say("张三", "帮助")
    out.answer(sender.text("app", "帮助", "zhangsan"))
    out.say("张三", "改昵称")
    out.answer(sender.text("app", "改昵称", "zhangsan"))

    out.scene("销售群里有人 @群规助手（智能机器人）")
    out.say("李四", "@群规助手 免打扰")
    out.answer(sender.text("bot", "@群规助手 免打扰", "lisi", chat="wrSalesGroup"))

    out.scene("同学群（个人微信群）成员在公众号里问群规助手")
    out.say("王五（公众号关注者）", "改昵称")
    out.answer(sender.text("mp", "改昵称", "o9AgO5Kd5ggOC-bXrbNODIiE3bGY"))

    out.scene("企业微信没等到响应，把同一条回调重发了三次")
    first = sender.text("app", "免打扰", "zhaoliu", msg_id="880001")
    retries = [sender.text("app", "免打扰", "zhaoliu", msg_id="880001") for _ in range(3)]
    same = all(retry.body == first.body for retry in retries)
    out.note(f"4 次投递，回复{'完全相同' if same else '不一致！'}，只记录一次（按 MsgId 去重）")

    if fake is not None:
        out.scene("销售群里有人 @群规助手 发了赌博广告（篇一 三(5) / 篇二 3.6 / 篇四 三(4)）")
        out.say("李四", "@群规助手 新开的菠菜网站，首充送彩金")
        out.answer(sender.text("bot", "@群规助手 新开的菠菜网站，首充送彩金", "lisi", chat="wrSalesGroup"))
        for text in _delivered(fake, "lisi", 0):
            out.note("群规助手私信李四：" + text.replace("\n", " "))
        out.say("李四（私聊）", "为什么")
        answer = sender.text("app", "为什么", "lisi")
        out.answer(answer)
        found = re.search(r"\bL[A-Z2-7]{8}\b", answer.reply or "")
        entry = found.group(0) if found else None
        out.say("王老板（管理员，私聊）", "记录 @lisi")
        out.answer(sender.text("app", "记录 @lisi", "wanglaoban"))
        if entry:
            out.say("王老板（管理员，私聊）", f"豁免 {entry} 误判，菠菜是团购")
            out.answer(sender.text("app", f"豁免 {entry} 误判，菠菜是团购", "wanglaoban"))
        out.say("李四（私聊）", "我的记录")
        out.answer(sender.text("app", "我的记录", "lisi"))
        out.say("李四（私聊）", "豁免 L0000000 自己给自己豁免")
        out.answer(sender.text("app", "豁免 L0000000 自己给自己豁免", "lisi"))

    if fake is not None:
        _membership(out, fake)

    out.scene("有人伪造回调（签名不对）")
    forged = Sender(url, TenantKeys(TENANT, CORP_ID, MP_APP_ID, {"token": "Forged", "aes_key": AES_KEY}))
    out.answer(forged.text("app", "帮助", "mallory"))
    print()

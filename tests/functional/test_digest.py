"""The weekly digest end to end on moto: ledger entries from real signed callbacks and from the executor, the job run
at its slot, one markdown outbox item per recipient per group, and never twice for a week — neither on a second run
nor after the run's dedup marker has expired."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import NOW, register
from oracle import bot_text

from chalicelib.decisions import RecordLedger
from chalicelib.effects.executor import Executor, Plan, StoreUnavailable, plan
from chalicelib.events import Channel, MessagePosted
from chalicelib.jobs.digest import send_digests
from chalicelib.store import keys
from chalicelib.store.models import DedupRecord, GroupRecord, OutboxItem
from qungui_cli.main import main as qungui

SHANGHAI = ZoneInfo("Asia/Shanghai")
# NOW is Monday 2026-09-21 22:13 in Shanghai: its entries fall in the week whose digest is due Monday 09-28 09:00.
SLOT = int(datetime(2026, 9, 28, 9, 0, tzinfo=SHANGHAI).timestamp())
WEEK = "2026-W40"
EMPTY = {"tenants": 1, "groups": 0, "sent": 0, "quiet": 0, "skipped": 0, "failed": 0}

NO_DIGEST = """\
schema_version: 1
id: no-digest
version: "1"
digest:
  enabled: false
"""


def cli(*args: str) -> None:
    assert qungui(["--stage", "dev", *args]) == 0


def say(client, peer, chat: str, text: str, msg_id: str, sender: str = "lisi") -> None:
    call = peer.bot_post(bot_text(sender, text, msg_id, chat_id=chat), timestamp=NOW)
    response = client.http.post(call.path, headers={"Content-Type": "application/json"}, body=call.body)
    assert response.status_code == 200, response.body


def record(chat: str, *entries: RecordLedger, tenant: str = "acme") -> None:
    """Ledger entries as the rules would write them, through the executor (one event per call)."""
    event = MessagePosted(tenant=tenant, channel=Channel.APP, event_id=f"seed-{chat}-{entries[0].entry_id}", at=NOW,
                          sender="sys", chat_id=chat, msg_type="text")  # fmt: skip
    Executor().commit(plan(event, entries, None, NOW))


def entry(entry_id: str, kind: str, member: str, chat: str, **more) -> RecordLedger:
    fields = dict(entry_id=entry_id, entry_kind=kind, member=member, rule="content.harmful",
                  clause_text="严禁在群内发布色情、赌博、病毒链接。", group=chat, at=NOW) | more  # fmt: skip
    return RecordLedger(**fields)


def group(chat: str) -> GroupRecord:
    return GroupRecord.get(keys.tenant_pk("acme"), keys.group_sk(chat), consistent_read=True)


def digests(tenant: str = "acme") -> dict[str, str]:
    """Digest messages in the outbox: recipient → markdown content."""
    found = OutboxItem.query(keys.tenant_pk(tenant), OutboxItem.sk.startswith("OUT#"), consistent_read=True)
    items = [item for item in found if item.source.startswith("job:digest:")]
    assert len({item.to for item in items}) == len(items), "one digest per recipient"
    return {item.to: json.loads(item.payload)["markdown"]["content"] for item in items}


@pytest.fixture
def groups(client, tenant, peer, tmp_path, directory) -> None:
    cli("group", "add", "wrSales", "--tenant", "acme", "--name", "销售群", "--owner", "owner1", "--kind", "customer")
    sales = group("wrSales")
    sales.update(actions=[GroupRecord.admins.set(["adm1", "owner1"])])
    cli("group", "add", "wrDev", "--tenant", "acme", "--name", "研发群", "--owner", "owner2")
    cli("group", "add", "wrQuiet", "--tenant", "acme", "--owner", "owner3")
    cli("group", "add", "wrOff", "--tenant", "acme", "--owner", "owner4")
    policy = tmp_path / "no-digest.yaml"
    policy.write_text(NO_DIGEST, encoding="utf-8")
    cli("policy", "apply", str(policy), "--tenant", "acme", "--group", "wrOff")
    cli("group", "add", "wrNo", "--tenant", "acme", "--owner", "owner5", "--ungoverned")
    cli("group", "add", "wrNobody", "--tenant", "acme")  # governed, but nobody holds a role there yet

    # wrSales through real callbacks: two warnings (content.harmful) and a shadow hit (content.insults)
    say(client, peer, "wrSales", "@群规助手 新开的菠菜网站，首充送彩金", "m1")
    say(client, peer, "wrSales", "@群规助手 网赌了解一下", "m2", sender="zhangsan")
    say(client, peer, "wrSales", "@群规助手 你就是个傻逼", "m3", sender="wangwu")
    # wrDev: a fine awaiting confirmation from long ago, a serious warning this week
    long_ago = NOW - 60 * 86400
    record("wrDev", entry("LFOLD", "fine", "zhaoliu", "wrDev", amount=200, status="active", at=long_ago))
    record("wrDev", entry("LWSER", "warning", "zhaoliu", "wrDev", severity="serious"))
    # wrQuiet: only last month's settled business; wrOff and wrNo: plenty, but no digest there
    record("wrQuiet", entry("LOLD", "warning", "sunqi", "wrQuiet", at=long_ago, status="waived"))
    for chat in ("wrOff", "wrNo", "wrNobody"):
        record(chat, entry(f"L{chat}", "fine", "sunqi", chat, amount=10, status="owed"))


def test_nothing_is_due_before_the_slot(groups, directory):
    assert send_digests(SLOT - 60, tenants=directory) == EMPTY
    assert digests() == {}


def test_at_the_slot_each_recipient_of_each_group_gets_one_digest(groups, directory):
    counts = send_digests(SLOT, tenants=directory)
    assert counts == {"tenants": 1, "groups": 4, "sent": 2, "quiet": 1, "skipped": 1, "failed": 0}
    sent = digests()
    assert sorted(sent) == ["adm1", "owner1", "owner2"]  # owner1 is also an admin of wrSales: one message

    sales = sent["owner1"]
    assert sent["adm1"].split("编号")[0] == sales.split("编号")[0]  # same report; each message has its own 编号
    assert sales.startswith("**群规周报｜销售群**")
    assert "2026-09-21 09:00 至 2026-09-28 09:00" in sales
    assert "**本周警告 2次**（2人）" in sales
    assert "· lisi 1次" in sales
    assert "· zhangsan 1次" in sales
    assert "content.insults【群规 篇三 8】1次，涉及1人" in sales
    assert "待处理" not in sales
    assert "编号" in sales

    dev = sent["owner2"]
    assert dev.startswith("**群规周报｜研发群**")
    assert "**待处理的罚款/红包 1笔**（罚款合计200元）" in dev
    assert "LFOLD zhaoliu 罚款200元" in dev
    assert "待管理员确认" in dev
    assert "确认 编号" in dev
    assert "严重1次" in dev
    for other in ("销售群", "lisi", "sunqi", "wrOff", "wrNo"):
        assert other not in dev

    marked = {
        chat: group(chat).digest_sent_for for chat in ("wrSales", "wrDev", "wrQuiet", "wrOff", "wrNo", "wrNobody")
    }
    assert marked == {"wrSales": WEEK, "wrDev": WEEK, "wrQuiet": WEEK, "wrOff": None, "wrNo": None, "wrNobody": None}


def test_a_second_run_and_a_run_after_the_markers_expired_send_nothing_new(groups, directory):
    send_digests(SLOT, tenants=directory)
    first = digests()
    assert send_digests(SLOT + 3600, tenants=directory) == EMPTY | {"groups": 1, "skipped": 1}
    # Three days on, the TTL has removed the dedup markers: the group's mark alone keeps the week sent.
    markers = DedupRecord.query(keys.tenant_pk("acme"), DedupRecord.sk.startswith("DEDUP#job#digest:"))
    deleted = [marker.delete() for marker in markers]
    assert len(deleted) == 3
    assert send_digests(SLOT + 4 * 86400, tenants=directory) == EMPTY | {"groups": 1, "skipped": 1}
    assert digests() == first


def test_the_dedup_marker_alone_also_stops_a_repeat(groups, directory):
    send_digests(SLOT, tenants=directory)
    first = digests()
    group("wrDev").update(actions=[GroupRecord.digest_sent_for.remove()])  # e.g. a restored backup
    counts = send_digests(SLOT + 60, tenants=directory)
    assert (counts["groups"], counts["sent"], counts["quiet"]) == (2, 0, 0)  # due again, but the marker holds
    assert digests() == first


def test_next_week_reports_only_next_weeks_entries_and_money_still_open(groups, directory):
    send_digests(SLOT, tenants=directory)
    counts = send_digests(SLOT + 7 * 86400, tenants=directory)
    assert counts == {"tenants": 1, "groups": 4, "sent": 1, "quiet": 2, "skipped": 1, "failed": 0}
    assert group("wrSales").digest_sent_for == "2026-W41"
    found = OutboxItem.query(keys.tenant_pk("acme"), OutboxItem.sk.startswith("OUT#"), consistent_read=True)
    weekly = {(item.to, item.source): json.loads(item.payload)["markdown"]["content"] for item in found
              if item.source.startswith("job:digest:")}  # fmt: skip
    assert sorted(weekly) == [
        ("adm1", "job:digest:wrSales:2026-W40"),
        ("owner1", "job:digest:wrSales:2026-W40"),
        ("owner2", "job:digest:wrDev:2026-W40"),
        ("owner2", "job:digest:wrDev:2026-W41"),  # wrSales had a quiet week; wrDev's fine is still unconfirmed
    ]
    second = weekly[("owner2", "job:digest:wrDev:2026-W41")]
    assert "2026-09-28 09:00 至 2026-10-05 09:00" in second
    assert "LFOLD zhaoliu 罚款200元" in second
    assert "警告" not in second  # last week's serious warning belongs to last week's digest


class FailingFor(Executor):
    """A store that refuses one group's transaction (a throttle, an outage of one partition's writes)."""

    def __init__(self, chat: str) -> None:
        self.chat = chat

    def commit(self, work: Plan):
        if f":{self.chat}:" in work.marker.sk:
            raise StoreUnavailable("ProvisionedThroughputExceededException")
        return super().commit(work)


def test_a_failing_group_does_not_stop_the_others_and_is_retried_next_run(groups, directory):
    counts = send_digests(SLOT, tenants=directory, executor=FailingFor("wrSales"))
    assert counts == {"tenants": 1, "groups": 4, "sent": 1, "quiet": 1, "skipped": 1, "failed": 1}
    assert sorted(digests()) == ["owner2"]
    assert group("wrSales").digest_sent_for is None
    assert send_digests(SLOT + 3600, tenants=directory)["sent"] == 1
    assert sorted(digests()) == ["adm1", "owner1", "owner2"]


def test_each_tenant_runs_on_its_own_clock_and_roles(groups, directory):
    register("beta", "--timezone", "UTC")
    qungui(["--stage", "dev", "group", "add", "wrBeta", "--tenant", "beta", "--owner", "bowner"])
    record("wrBeta", entry("LBETA", "warning", "x", "wrBeta"), tenant="beta")
    counts = send_digests(SLOT, tenants=directory)  # Monday 01:00 UTC: beta's Monday 09:00 slot is ahead
    assert (counts["tenants"], counts["sent"]) == (2, 2)
    assert digests("beta") == {}
    beta_slot = int(datetime(2026, 9, 28, 9, 0, tzinfo=ZoneInfo("UTC")).timestamp())
    counts = send_digests(beta_slot, tenants=directory)
    assert (counts["tenants"], counts["groups"], counts["sent"]) == (2, 2, 1)  # beta, and acme's wrNobody skipped
    assert list(digests("beta")) == ["bowner"]
    assert "2026-09-21 09:00 至 2026-09-28 09:00" in digests("beta")["bowner"]

"""The outbox end to end: decisions written with their event, delivered over real HTTP to the fake WeCom, retried,
paced, dead-lettered, never lost."""

from __future__ import annotations

import random

import pytest
from conftest import NOW, register
from oracle import CORP_ID

from chalicelib.decisions import AlertAdmins, PostToGroup, RemindMember
from chalicelib.effects import executor, outbox
from chalicelib.effects.senders import PlatformSender
from chalicelib.events import Channel, MessagePosted
from chalicelib.jobs.deliver import Deliverer, requeue
from chalicelib.store.models import OutboxItem
from qungui_cli.fake_wecom import FakeWeCom, Fault

SEND = "/cgi-bin/message/send"


@pytest.fixture
def fake(clock):
    server = FakeWeCom(clock=clock).start()
    server.add_app(CORP_ID, "app-secret")
    for user in ("boss", "deputy", "zhangsan"):
        server.add_user(user, user)
    yield server
    server.stop()


@pytest.fixture
def deliverer(fake, directory, clock):
    sender = PlatformSender(wecom_base=fake.base_url, mp_base=fake.base_url, clock=clock, sleep=lambda _: None)
    return Deliverer(directory, sender, clock, rng=random.Random(7))


def event(n: int = 1) -> MessagePosted:
    return MessagePosted(tenant="acme", channel=Channel.APP, event_id=f"evt-{n}", at=NOW, sender="zhangsan",
                         chat_id="wrG", msg_type="text", text="…")  # fmt: skip


def commit(*decisions, n: int = 1):
    return executor.Executor().commit(executor.plan(event(n), decisions, None, NOW))


def items() -> list[OutboxItem]:
    return list(OutboxItem.query("T#acme", OutboxItem.sk.startswith("OUT#"), consistent_read=True))


ALERT = AlertAdmins(recipients=("boss", "deputy"), what="张三在群里发布了赌博内容", clause="1.3.5", group="wrG",
                    group_name="销售群", member="张三", evidence_at=NOW, action="已警告", ref="L-1")  # fmt: skip


def test_alert_is_written_with_its_event_and_delivered_to_each_admin(tenant, fake, deliverer, clock):
    commit(ALERT)
    assert sorted((i.to, i.status) for i in items()) == [("boss", "pending"), ("deputy", "pending")]
    report = deliverer.run(NOW)
    assert (report.sent, report.dead) == (2, 0)
    delivered = fake.deliveries("message/send")
    assert sorted(d.to for d in delivered) == ["boss", "deputy"]
    content = delivered[0].body["markdown"]["content"]
    assert "【群规 篇一 三(5)】" in content
    assert "销售群" in content
    assert "豁免 L-1" in content
    assert all(i.status == "sent" and i.gsi1pk is None for i in items())
    assert deliverer.run(NOW + 60).sent == 0  # sent items left the due index


def test_the_same_decision_twice_is_one_item_but_two_genuine_reminders_are_two(tenant, fake, deliverer):
    reminder = RemindMember(member="zhangsan", what="请把群昵称改为“部门-姓名”。", clause="2.3.3")
    commit(reminder, reminder)
    commit(reminder, n=1)  # WeCom's retry of the same event: the dedup marker stops it
    commit(reminder, n=2)  # a genuinely new reminder with the same words
    assert len(items()) == 2
    first = deliverer.run(NOW)
    assert (first.sent, first.deferred) == (1, 1)  # one member: the second waits for its pacing slot
    assert deliverer.run(NOW + 2).sent == 1
    assert len(fake.deliveries("message/send", to="zhangsan")) == 2
    assert fake.duplicates == []


@pytest.mark.parametrize("fault", [Fault(errcode=-1), Fault(errcode=45009), Fault(status=500), Fault(delay=1.0)])
def test_retryable_failures_back_off_until_delivered_once(tenant, fake, deliverer, clock, fault, directory):
    if fault.delay:
        from chalicelib.wecom.http import JsonHttp, Timeouts

        deliverer._sender.wecom_client(directory.get("acme")).http = JsonHttp(Timeouts(connect=1.0, read=0.3))
    commit(RemindMember(member="zhangsan", what="测试", clause="2.3.3"))
    fake.inject(SEND, fault, fault)
    first = deliverer.run(NOW)
    assert (first.sent, first.retried) == (0, 1)
    [item] = items()
    assert item.status == "retrying"
    assert NOW + outbox.BASE_BACKOFF / 2 <= item.next_attempt_at <= NOW + outbox.BASE_BACKOFF
    assert deliverer.run(NOW + 1).sent == 0  # not due yet
    deliverer.run(item.next_attempt_at)
    [item] = items()
    assert item.attempts == 2
    deliverer.run(item.next_attempt_at + 1)
    [item] = items()
    assert item.status == "sent"
    assert item.attempts == 3
    # One message arrives: a timed-out send that did get through is dropped by WeCom's duplicate check on re-send.
    assert len(fake.deliveries("message/send", to="zhangsan")) == 1


@pytest.mark.parametrize(("errcode", "to"), [(81013, "ghost"), (60111, "zhangsan")])
def test_permanent_errors_are_dead_after_one_try_with_the_reason_kept(tenant, fake, deliverer, errcode, to):
    if errcode != 81013:
        fake.fail(SEND, errcode, "userid not found")
    commit(RemindMember(member=to, what="测试", clause="2.3.3"))
    report = deliverer.run(NOW)
    assert (report.sent, report.dead) == (0, 1)
    [item] = items()
    assert (item.status, item.attempts) == ("dead", 1)
    assert str(errcode) in item.last_error
    assert item.gsi1pk is None


def test_a_dead_item_can_be_requeued_and_then_delivered(tenant, fake, deliverer):
    fake.fail(SEND, 40001, "invalid secret")
    commit(RemindMember(member="zhangsan", what="测试", clause="2.3.3"))
    deliverer.run(NOW)
    [item] = items()
    requeue("acme", item.sk.split("#", 1)[1], NOW + 100)
    assert deliverer.run(NOW + 100).sent == 1


def test_retries_end_dead_after_the_cap(tenant, fake, deliverer):
    fake.fail(SEND, -1, "busy", times=outbox.MAX_ATTEMPTS)
    commit(RemindMember(member="zhangsan", what="测试", clause="2.3.3"))
    now = NOW
    for _ in range(outbox.MAX_ATTEMPTS):
        deliverer.run(now)
        [item] = items()
        now = max(now, item.next_attempt_at) + 1
    assert item.status == "dead"
    assert item.attempts == outbox.MAX_ATTEMPTS
    assert "gave up" in item.last_error


def test_a_burst_of_100_alerts_to_one_admin_respects_30_per_minute(tenant, fake, deliverer, clock):
    for n in range(100):
        commit(AlertAdmins(recipients=("boss",), what=f"第{n}条", clause="1.3.5"), n=n)
    delivered_by_minute: dict[int, int] = {}
    for second in range(0, 400):
        clock.now = NOW + second
        before = len(fake.deliveries("message/send"))
        deliverer.run(clock.now)
        delivered_by_minute[second // 60] = delivered_by_minute.get(second // 60, 0) + (
            len(fake.deliveries("message/send")) - before
        )
    assert len(fake.deliveries("message/send", to="boss")) == 100
    assert fake.dropped == []  # the fake drops what WeCom would drop: over 30 per member per sliding minute
    assert max(delivered_by_minute.values()) <= 30
    assert all(item.status == "sent" and item.attempts == 1 for item in items())


def test_a_burst_of_100_robot_posts_respects_20_per_minute(table, fake, clock, directory):
    register("acme", "--robot", "sales=robot-key-1")
    fake.add_robot("robot-key-1")
    sender = PlatformSender(wecom_base=fake.base_url, clock=clock, sleep=lambda _: None)
    deliverer = Deliverer(directory, sender, clock, rng=random.Random(1))
    for n in range(100):
        commit(PostToGroup(chat_id="wrG", text=f"通知{n}", via="robot", robot="sales"), n=n)
    for second in range(0, 320):
        clock.now = NOW + second
        deliverer.run(clock.now)
    assert len(fake.deliveries("webhook/send")) == 100
    assert fake.dropped == []
    assert not [r for r in fake.requests("/cgi-bin/webhook/send") if r.errcode]  # never hit the robot's limit
    assert all(item.status == "sent" and item.attempts == 1 for item in items())


def test_a_crash_between_sending_and_marking_sent_repeats_never_loses(tenant, fake, deliverer, clock):
    commit(RemindMember(member="zhangsan", what="请回复收到", clause="1.4.3"))
    real = deliverer._sender

    class CrashAfterSend:
        def send(self, tenant, item):
            real.send(tenant, item)
            raise SystemExit("the Lambda was killed after the message left")

    crashing = Deliverer(deliverer._tenants, CrashAfterSend(), clock)
    with pytest.raises(SystemExit):
        crashing.run(NOW)
    [item] = items()
    assert item.status == "pending"  # not marked: the send's fate is unknown to qungui
    assert deliverer.run(NOW + 10).sent == 0  # the lease still holds it
    assert deliverer.run(NOW + 61).sent == 1  # the lease ran out: sent again
    [item] = items()
    assert item.status == "sent"
    # WeCom's duplicate check (the same item carries the same reference) kept the member from seeing it twice.
    assert len(fake.deliveries("message/send", to="zhangsan")) == 1
    assert len(fake.duplicates) == 1

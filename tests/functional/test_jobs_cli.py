"""`qungui job`, `qungui outbox` and `qungui alert test` against moto and the fake WeCom."""

from __future__ import annotations

import json
import random

import pytest
from oracle import CORP_ID

from chalicelib import runtime
from chalicelib.effects.senders import PlatformSender
from chalicelib.jobs.deliver import Deliverer
from qungui_cli.fake_wecom import FakeWeCom
from qungui_cli.main import main as qungui


def cli(*args: str) -> int:
    return qungui(["--stage", "dev", *args])


@pytest.fixture
def fake(clock):
    server = FakeWeCom(clock=clock).start()
    server.add_app(CORP_ID, "app-secret")
    yield server
    server.stop()


@pytest.fixture
def delivery(fake, directory, clock):
    sender = PlatformSender(wecom_base=fake.base_url, clock=clock, sleep=lambda _: None)
    runtime.install(deliverer=Deliverer(directory, sender, clock, rng=random.Random(3)))
    yield
    runtime.install()


def outbox_json(capsys, *extra: str) -> list[dict]:
    capsys.readouterr()
    assert cli("outbox", "--tenant", "acme", "--json", *extra) == 0
    return json.loads(capsys.readouterr().out)


def test_alert_test_then_job_deliver_then_outbox(tenant, fake, delivery, capsys):
    assert cli("alert", "test", "--tenant", "acme") == 0
    queued = json.loads(capsys.readouterr().out)
    assert queued["to"] == ["boss", "deputy"]  # the tenant's admins
    [pending, _] = outbox_json(capsys)
    assert set(pending) == {"id", "to", "channel", "status", "attempts", "last_error", "next_attempt_at",
                            "created_at", "sent_at", "source"}  # fmt: skip
    assert pending["status"] == "pending"

    assert cli("job", "deliver", "--now", "2030-01-01T09:00:00+08:00") == 0
    assert json.loads(capsys.readouterr().out)["sent"] == 2
    assert [item["status"] for item in outbox_json(capsys)] == ["sent", "sent"]
    delivered = fake.deliveries("message/send")
    assert sorted(d.to for d in delivered) == ["boss", "deputy"]
    assert "连接测试" in delivered[0].body["markdown"]["content"]


def test_dead_items_are_listed_and_requeued(tenant, fake, delivery, capsys):
    fake.fail("/cgi-bin/message/send", 60020, "not allow to access from your ip")
    assert cli("alert", "test", "--tenant", "acme", "--to", "boss") == 0
    assert cli("job", "deliver", "--now", "2030-01-01T09:00:00+08:00") == 0
    [dead] = outbox_json(capsys, "--status", "dead")
    assert "60020" in dead["last_error"]
    assert cli("outbox", "--tenant", "acme", "--requeue", dead["id"]) == 0
    assert cli("outbox", "--tenant", "acme", "--requeue", dead["id"]) == 2  # no longer dead
    assert cli("job", "deliver") == 0
    assert [item["status"] for item in outbox_json(capsys)] == ["sent"]


@pytest.mark.parametrize("now", ["2026-12-01T09:05:00", "yesterday", "2026-13-01T00:00:00+08:00"])
def test_job_refuses_naive_or_bad_times(table, capsys, now):
    assert cli("job", "deliver", "--now", now) == 2
    assert capsys.readouterr().err.startswith("qungui: --now")


def test_alert_test_needs_someone_to_alert(table, capsys):
    qungui(["--stage", "dev", "tenant", "add", "lonely", "--corp-id", "ww1", "--token", "t", "--aes-key", "a" * 43])
    capsys.readouterr()
    assert cli("alert", "test", "--tenant", "lonely") == 2
    assert "--to" in capsys.readouterr().err


def test_the_stream_handler_delivers_new_outbox_items_at_once(tenant, fake, delivery, monkeypatch, clock):
    import importlib

    from chalice.test import Client

    import app

    assert cli("alert", "test", "--tenant", "acme", "--to", "boss") == 0
    monkeypatch.setenv("QUNGUI_TABLE_STREAM_ARN", "arn:aws:dynamodb:us-east-1:123456789012:table/qungui-dev/stream/x")
    deployed = importlib.reload(app)
    try:
        from chalicelib.store.models import OutboxItem

        [item] = OutboxItem.query("T#acme", OutboxItem.sk.startswith("OUT#"))
        with Client(deployed.app) as client:
            image = OutboxItem.get(item.pk, item.sk).serialize()
            payload = {"Records": [_stream_record("INSERT", item.pk, item.sk, image),
                                   _stream_record("INSERT", "T#acme", "X", {"pk": {"S": "T#acme"}})]}  # fmt: skip
            client.lambda_.invoke("deliver_stream", payload)
        assert [d.to for d in fake.deliveries("message/send")] == ["boss"]
    finally:
        monkeypatch.delenv("QUNGUI_TABLE_STREAM_ARN")
        importlib.reload(app)


def _stream_record(name: str, pk: str, sk: str, image: dict) -> dict:
    return {
        "eventID": "1", "eventName": name, "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/qungui-dev/stream/x",
        "dynamodb": {"ApproximateCreationDateTime": 1790000000, "Keys": {"pk": {"S": pk}, "sk": {"S": sk}},
                     "NewImage": image, "SequenceNumber": "1", "SizeBytes": 10, "StreamViewType": "NEW_IMAGE"},
    }  # fmt: skip

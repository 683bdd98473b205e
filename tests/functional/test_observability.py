"""What reaches the logs and metrics: structured, with tenant and event id, never a secret or a message body."""

from __future__ import annotations

import io
import json
import logging

import pytest
from conftest import NOW
from oracle import AES_KEY, TOKEN, Peer, app_text

from chalicelib import runtime
from chalicelib.effects.executor import Executor
from chalicelib.gateway import Gateway
from chalicelib.observability import PowertoolsTelemetry, logger


@pytest.fixture
def powertools_gateway(directory, clock):
    runtime.install(Gateway(directory, Executor(), clock, PowertoolsTelemetry()))
    yield
    runtime.install(None)


@pytest.fixture
def log_lines():
    # Powertools' handler holds the stdout of import time; a second handler with its formatter sees the same JSON.
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def records(captured: str) -> list[dict]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


def test_logs_and_metrics_carry_ids_not_content(client, tenant, peer, capsys, powertools_gateway, log_lines):
    capsys.readouterr()
    secret_words = "我的身份证号是110101199003074514"
    call = peer.app_post(app_text("zhangsan", secret_words, NOW, 424242), NOW)
    client.http.post(call.path, headers={"Content-Type": "text/xml"}, body=call.body)
    client.http.post(call.path, headers={"Content-Type": "text/xml"}, body=call.body)
    forged = Peer(token="Forged").app_post(app_text("zhangsan", "x", NOW, 1), NOW)
    client.http.post(forged.path, headers={"Content-Type": "text/xml"}, body=forged.body)

    output = capsys.readouterr().out + log_lines.getvalue()
    for forbidden in (secret_words, "110101199003074514", TOKEN, AES_KEY, "app-secret"):
        assert forbidden not in output
    lines = records(output)
    logs = records(log_lines.getvalue())
    accepted = [line for line in logs if line["message"] == "callback accepted"]
    assert accepted[0]["tenant"] == "acme"
    assert accepted[0]["event_id"] == "424242"
    assert accepted[0]["level"] == "INFO"
    assert [line["message"] for line in logs] == ["callback accepted", "callback duplicate", "callback rejected"]
    metrics = {
        name["Name"]: line
        for line in lines
        if "_aws" in line
        for name in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    }
    assert set(metrics) == {"CallbackAccepted", "CallbackDuplicate", "CallbackRejected"}
    assert metrics["CallbackRejected"]["reason"] == "signature"

"""infra/queues.yaml: each work queue with its dead-letter queue, timeouts that fit the functions consuming them, and
the stack deployed into moto (outputs, attributes, a poison message ending in the DLQ)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from chalice.app import SQSEventConfig
from chalice.config import Config
from chalice.constants import DEFAULT_LAMBDA_TIMEOUT
from infra_stacks import deploy, load_template

from qungui_cli.render_config import QUEUES, stack_name

REPO = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")
MAX_RECEIVE_COUNT = 5
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
# AWS's advice for a queue that triggers Lambda: visibility timeout at least 6x the function's timeout.
VISIBILITY_FACTOR = 6


def resource_names(purpose: str) -> tuple[str, str]:
    return f"{purpose.capitalize()}Queue", f"{purpose.capitalize()}Dlq"


def visibility_timeout(purpose: str) -> int:
    queue, _ = resource_names(purpose)
    return int(load_template("queues")["Resources"][queue]["Properties"]["VisibilityTimeout"])


def sqs_consumers(stage: str) -> dict[str, list[str]]:
    """The app's SQS handlers by the queue purpose they listen on (deliver, sweep, archive)."""
    import app

    consumers: dict[str, list[str]] = {purpose: [] for purpose in QUEUES}
    for source in app.app.event_sources:
        if not isinstance(source, SQSEventConfig):
            continue
        queue = source.queue or (source.queue_arn or "").rsplit(":", 1)[-1]
        # app.py was imported as the tests' stage (dev); the same handler serves every stage.
        match = re.fullmatch(r"qungui-(?:dev|prod)-(\w+)", queue)
        purpose = match.group(1) if match else None
        assert purpose in consumers, f"{source.name} listens on {queue!r}, which infra/queues.yaml does not create"
        consumers[purpose].append(source.name)
    return consumers


def function_timeout(stage: str, function: str) -> int:
    config_from_disk = json.loads((REPO / ".chalice" / "config.json").read_text(encoding="utf-8"))
    config = Config(chalice_stage=stage, function_name=function, config_from_disk=config_from_disk)
    return int(config.lambda_timeout or DEFAULT_LAMBDA_TIMEOUT)


# --- the template -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", QUEUES)
def test_every_queue_has_a_dead_letter_queue(purpose: str) -> None:
    template = load_template("queues")
    queue_id, dlq_id = resource_names(purpose)
    queue = template["Resources"][queue_id]["Properties"]
    dlq = template["Resources"][dlq_id]["Properties"]

    assert queue["QueueName"] == {"Fn::Sub": f"qungui-${{Stage}}-{purpose}"}
    assert dlq["QueueName"] == {"Fn::Sub": f"qungui-${{Stage}}-{purpose}-dlq"}
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
        "maxReceiveCount": MAX_RECEIVE_COUNT,
    }
    assert dlq["MessageRetentionPeriod"] == DLQ_RETENTION_SECONDS
    # A DLQ keeps a message's original enqueue time: it must not expire sooner than the source queue would.
    assert dlq["MessageRetentionPeriod"] >= queue.get("MessageRetentionPeriod", 4 * 24 * 3600)
    assert queue["SqsManagedSseEnabled"] is True
    assert dlq["SqsManagedSseEnabled"] is True
    assert "RedrivePolicy" not in dlq


def test_template_is_plain_cloudformation_for_the_two_stages() -> None:
    template = load_template("queues")
    assert "Transform" not in template, "moto and `make config` need plain CloudFormation, not SAM"
    assert template["Parameters"]["Stage"]["AllowedValues"] == ["dev", "prod"]
    queues = {k for k, v in template["Resources"].items() if v["Type"] == "AWS::SQS::Queue"}
    assert queues == {name for purpose in QUEUES for name in resource_names(purpose)}


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("purpose", QUEUES)
def test_visibility_timeout_outlasts_the_consumers(stage: str, purpose: str) -> None:
    # A queue nobody consumes yet is held to the timeout a new handler would get in this stage.
    consumers = sqs_consumers(stage)[purpose] or ["a_new_sqs_handler"]
    for function in consumers:
        timeout = function_timeout(stage, function)
        assert visibility_timeout(purpose) >= VISIBILITY_FACTOR * timeout, (
            f"{function} may run {timeout} s: the {purpose} queue's visibility timeout must be >= "
            f"{VISIBILITY_FACTOR * timeout} s (infra/queues.yaml), or the function's lambda_timeout lower"
        )


def test_a_deployed_stage_reconciles_groups_from_the_sweep_queue_within_its_visibility() -> None:
    # The consumer exists only where `make config` rendered the queue's ARN: import app as such a stage would.
    import subprocess
    import sys

    arn = "arn:aws:sqs:cn-north-1:123456789012:qungui-prod-sweep"
    probe = (
        "import app, json\n"
        "from chalice.app import SQSEventConfig\n"
        "print(json.dumps([[s.name, s.queue_arn, s.batch_size] for s in app.app.event_sources"
        " if isinstance(s, SQSEventConfig)]))"
    )
    env = {**os.environ, "QUNGUI_SWEEP_QUEUE_ARN": arn}
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [["reconcile_group", arn, 1]]
    for stage in STAGES:
        assert visibility_timeout("sweep") >= VISIBILITY_FACTOR * function_timeout(stage, "reconcile_group")


# --- deployed into moto -----------------------------------------------------------------------------------------------


def _attributes(url: str) -> dict[str, Any]:
    return boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("stage", STAGES)
def test_stack_creates_the_queues_it_outputs(stage: str) -> None:
    outputs = deploy("queues", stage)
    sqs = boto3.client("sqs")

    expected: dict[str, str] = {}
    for purpose in QUEUES:
        key = f"Qungui{purpose.capitalize()}"
        queue_url = sqs.get_queue_url(QueueName=f"qungui-{stage}-{purpose}")["QueueUrl"]
        dlq_url = sqs.get_queue_url(QueueName=f"qungui-{stage}-{purpose}-dlq")["QueueUrl"]
        queue, dlq = _attributes(queue_url), _attributes(dlq_url)
        expected |= {
            f"{key}QueueUrl": queue_url,
            f"{key}QueueArn": queue["QueueArn"],
            f"{key}DlqUrl": dlq_url,
            f"{key}DlqArn": dlq["QueueArn"],
        }
        assert int(queue["VisibilityTimeout"]) == visibility_timeout(purpose)
        assert json.loads(queue["RedrivePolicy"]) == {
            "deadLetterTargetArn": dlq["QueueArn"],
            "maxReceiveCount": MAX_RECEIVE_COUNT,
        }
        assert int(dlq["MessageRetentionPeriod"]) == DLQ_RETENTION_SECONDS
        assert (queue["SqsManagedSseEnabled"], dlq["SqsManagedSseEnabled"]) == ("true", "true")

    assert outputs == expected
    exports = {e["Name"]: e["Value"] for e in boto3.client("cloudformation").list_exports()["Exports"]}
    assert exports == {f"{stack_name(stage, 'queues')}-{key}": value for key, value in outputs.items()}


@pytest.mark.usefixtures("aws")
def test_a_message_that_keeps_failing_ends_in_the_dead_letter_queue() -> None:
    outputs = deploy("queues", "prod")
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=outputs["QunguiSweepQueueUrl"], MessageBody='{"tenant": "acme", "chat": "wrchat1"}')

    # Each receive that ends without a delete is one failed attempt (VisibilityTimeout=0 stands in for the wait).
    for attempt in range(1, MAX_RECEIVE_COUNT + 1):
        received = sqs.receive_message(QueueUrl=outputs["QunguiSweepQueueUrl"], VisibilityTimeout=0)
        assert len(received.get("Messages", [])) == 1, f"attempt {attempt}"
    assert sqs.receive_message(QueueUrl=outputs["QunguiSweepQueueUrl"]).get("Messages", []) == []

    dead = sqs.receive_message(QueueUrl=outputs["QunguiSweepDlqUrl"], AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in dead] == ['{"tenant": "acme", "chat": "wrchat1"}']
    # The other queues' dead letters stay empty: each queue has its own DLQ.
    for purpose in ("Deliver", "Archive"):
        assert sqs.receive_message(QueueUrl=outputs[f"Qungui{purpose}DlqUrl"]).get("Messages", []) == []

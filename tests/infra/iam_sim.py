"""A small IAM policy evaluator for the policy tests: Allow/Deny, `*`/`?` wildcards, StringLike/StringEquals conditions.

Policies are checked by evaluating them against concrete requests, not by comparing strings, so that a broader
wildcard that happens to cover another stage, account or region is caught.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [policy["Statement"]] if isinstance(policy["Statement"], dict) else policy["Statement"]


def _glob(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    # IAM wildcards: `*` is any run of characters (including `:` and `/`), `?` is one character.
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.IGNORECASE if ignore_case else 0) is not None


def _conditions_hold(conditions: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    for operator, tests in conditions.items():
        for key, expected in tests.items():
            actual = context.get(key)
            if actual is None:
                return False
            if operator == "StringLike":
                if not any(_glob(p, actual) for p in as_list(expected)):
                    return False
            elif operator == "StringEquals":
                if actual not in as_list(expected):
                    return False
            else:
                # An operator this matcher does not know: fail closed, so a test relying on it breaks loudly.
                return False
    return True


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: dict[str, str] = field(default_factory=dict)

    def label(self) -> str:
        return f"{self.action} on {self.resource}" + (f" {self.context}" if self.context else "")


def _statement_matches(statement: dict[str, Any], request: Request) -> bool:
    return (
        any(_glob(a, request.action, ignore_case=True) for a in as_list(statement["Action"]))
        and any(_glob(r, request.resource) for r in as_list(statement["Resource"]))
        and _conditions_hold(statement.get("Condition", {}), request.context)
    )


def allows(policy: dict[str, Any], request: Request) -> bool:
    matching = [s["Effect"] for s in statements(policy) if _statement_matches(s, request)]
    return "Allow" in matching and "Deny" not in matching


def refused(policy: dict[str, Any], requests: list[Request]) -> list[str]:
    """The requests the policy does not allow, labelled (an empty list when it allows them all)."""
    return [r.label() for r in requests if not allows(policy, r)]


def granted(policy: dict[str, Any], requests: list[Request]) -> list[str]:
    """The requests the policy allows, labelled (an empty list when it refuses them all)."""
    return [r.label() for r in requests if allows(policy, r)]


@dataclass(frozen=True)
class Place:
    """Where a stage's resources live: the parts every ARN and service endpoint is built from."""

    stage: str
    partition: str = "aws"
    region: str = "us-east-1"
    account: str = "123456789012"
    dns_suffix: str = "amazonaws.com"
    # The label DynamoDB gives a stream when it is enabled (part of its ARN).
    stream_label: str = "2026-11-27T00:00:00.000"

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"

    @property
    def table(self) -> str:
        return self.arn("dynamodb", f"table/qungui-{self.stage}")

    def stream(self, label: str | None = None) -> str:
        return f"{self.table}/stream/{label or self.stream_label}"

    def queue(self, purpose: str) -> str:
        return self.arn("sqs", f"qungui-{self.stage}-{purpose}")

    def parameter(self, name: str = "tenants/acme") -> str:
        return self.arn("ssm", f"parameter/qungui/{self.stage}/{name}")

    def log_group(self, function_name: str) -> str:
        return self.arn("logs", f"log-group:/aws/lambda/{function_name}")

    def ssm_decrypt(self, parameter: str | None = None) -> Request:
        """kms:Decrypt as SSM issues it for a SecureString (the parameter's ARN is the encryption context)."""
        return Request(
            "kms:Decrypt",
            self.arn("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab"),
            {
                "kms:ViaService": f"ssm.{self.region}.{self.dns_suffix}",
                "kms:EncryptionContext:PARAMETER_ARN": parameter or self.parameter(),
            },
        )


# What the functions do at runtime through PynamoDB (TransactWrite is authorised per item by Put/Update/Delete/
# ConditionCheck). PynamoDB 6 builds its table metadata from the models, so nothing calls DescribeTable at runtime.
DYNAMODB_ITEM_ACTIONS = frozenset(
    {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
        "dynamodb:ConditionCheckItem",
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
    }
)
# What Lambda's event source mapping does with the function's role to read the table's stream (the outbox trigger).
DYNAMODB_STREAM_ACTIONS = frozenset(
    {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}
)
# Senders (SendMessageBatch is authorised as SendMessage) and the SQS event source mapping.
SQS_ACTIONS = frozenset({"sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"})
QUEUES = ("deliver", "sweep", "archive")


def needed(place: Place) -> list[Request]:
    """Every request the stage's functions make at runtime."""
    requests = [Request(action, place.table) for action in sorted(DYNAMODB_ITEM_ACTIONS)]
    requests += [Request("dynamodb:Query", f"{place.table}/index/{index}") for index in ("gsi1", "gsi2")]
    requests += [Request(action, place.stream()) for action in sorted(DYNAMODB_STREAM_ACTIONS)]
    requests += [Request(action, place.queue(q)) for q in QUEUES for action in sorted(SQS_ACTIONS)]
    requests += [Request("ssm:GetParameter", place.parameter()), place.ssm_decrypt()]
    # chalice names the API Lambda <app>-<stage> and every other function <app>-<stage>-<name>.
    for function in (f"qungui-{place.stage}", f"qungui-{place.stage}-ack_check"):
        requests.append(Request("logs:CreateLogGroup", place.log_group(function)))
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            requests.append(Request(action, f"{place.log_group(function)}:log-stream:2026/11/27/[$LATEST]abcdef"))
    return requests


def forbidden(place: Place) -> list[Request]:
    """Requests a stage's role must never be able to make, whatever else it may do."""
    stage = place.stage
    requests = [
        # Look-alike names a loose wildcard would cover.
        Request("dynamodb:GetItem", f"{place.table}-archive"),
        Request("dynamodb:Query", f"{place.table}x/index/gsi1"),
        Request("dynamodb:GetRecords", place.arn("dynamodb", f"table/qungui-{stage}x/stream/2026-11-27T00:00:00.000")),
        Request("sqs:SendMessage", place.queue("deliverx")),
        Request("ssm:GetParameter", place.arn("ssm", f"parameter/qungui/{stage}x/tenants/acme")),
    ]
    # Dead letters are moved by SQS itself; the functions neither read nor redrive them.
    for purpose in QUEUES:
        requests += [Request(action, place.queue(f"{purpose}-dlq")) for action in sorted(SQS_ACTIONS)]
    for group in (f"qungui-{stage}x", f"qungui-{stage}x-ack_check", "other-app"):
        requests.append(Request("logs:CreateLogGroup", place.log_group(group)))
        requests.append(Request("logs:PutLogEvents", f"{place.log_group(group)}:log-stream:s"))
    # Table management and whole-table reads: sweeps query an index, they never scan (DESIGN §5).
    for action in ("Scan", "DeleteTable", "UpdateTable", "CreateTable", "UpdateTimeToLive", "DescribeTable"):
        requests.append(Request(f"dynamodb:{action}", place.table))
    # Queue management.
    for action in ("PurgeQueue", "DeleteQueue", "SetQueueAttributes", "CreateQueue"):
        requests.append(Request(f"sqs:{action}", place.queue("deliver")))
    # Secrets are written by operators with their own credentials, never by the functions.
    for action in ("PutParameter", "DeleteParameter", "GetParametersByPath"):
        requests.append(Request(f"ssm:{action}", place.parameter()))
    # The key may decrypt only through SSM, and only the stage's parameters.
    direct = place.ssm_decrypt()
    via_s3 = {**direct.context, "kms:ViaService": f"s3.{place.region}.{place.dns_suffix}"}
    requests += [
        Request(direct.action, direct.resource, {"kms:EncryptionContext:PARAMETER_ARN": place.parameter()}),
        Request(direct.action, direct.resource, via_s3),
        Request("kms:Encrypt", direct.resource, direct.context),
    ]
    return requests

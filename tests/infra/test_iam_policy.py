"""The Lambda roles' policies (.chalice/policy-<stage>.json): least privilege, and each stage confined to its own
resources.

Policies are checked by evaluating them (a small IAM matcher: Allow/Deny, `*`/`?` wildcards, StringLike/StringEquals
conditions) against concrete requests, not by string comparison, so that a broader wildcard that happens to cover
another stage is caught.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from chalice.config import Config

REPO = Path(__file__).resolve().parents[2]
CHALICE_DIR = REPO / ".chalice"
STAGES = ("dev", "prod")
REGION = "us-east-1"
ACCOUNT = "123456789012"

# What the functions do at runtime through PynamoDB (TransactWrite is authorised per item by Put/Update/Delete/
# ConditionCheck). PynamoDB 6 builds its table metadata from the models, so nothing calls DescribeTable at runtime.
DYNAMODB_RUNTIME_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
}


def other(stage: str) -> str:
    return next(s for s in STAGES if s != stage)


def load_policy(stage: str) -> dict[str, Any]:
    return json.loads((CHALICE_DIR / f"policy-{stage}.json").read_text(encoding="utf-8"))


def _as_list(value: str | list[str]) -> list[str]:
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
                if not any(_glob(p, actual) for p in _as_list(expected)):
                    return False
            elif operator == "StringEquals":
                if actual not in _as_list(expected):
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


def _statement_matches(statement: dict[str, Any], request: Request) -> bool:
    return (
        any(_glob(a, request.action, ignore_case=True) for a in _as_list(statement["Action"]))
        and any(_glob(r, request.resource) for r in _as_list(statement["Resource"]))
        and _conditions_hold(statement.get("Condition", {}), request.context)
    )


def allows(policy: dict[str, Any], request: Request) -> bool:
    matching = [s["Effect"] for s in statements(policy) if _statement_matches(s, request)]
    return "Allow" in matching and "Deny" not in matching


def table_arn(stage: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/qungui-{stage}"


def parameter_arn(stage: str, name: str = "tenants/acme") -> str:
    return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/qungui/{stage}/{name}"


def log_group_arn(function_name: str) -> str:
    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{function_name}"


def ssm_decrypt(parameter: str) -> Request:
    """kms:Decrypt as SSM issues it for a SecureString (the parameter's ARN is the encryption context)."""
    return Request(
        "kms:Decrypt",
        f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        {"kms:ViaService": f"ssm.{REGION}.amazonaws.com", "kms:EncryptionContext:PARAMETER_ARN": parameter},
    )


def needed(stage: str) -> Iterator[Request]:
    """Every request the stage's functions make at runtime."""
    for action in sorted(DYNAMODB_RUNTIME_ACTIONS):
        yield Request(action, table_arn(stage))
    for index in ("gsi1", "gsi2"):
        yield Request("dynamodb:Query", f"{table_arn(stage)}/index/{index}")
    yield Request("ssm:GetParameter", parameter_arn(stage))
    yield ssm_decrypt(parameter_arn(stage))
    # chalice names the API Lambda <app>-<stage> and every other function <app>-<stage>-<name>.
    for function in (f"qungui-{stage}", f"qungui-{stage}-ack_check"):
        yield Request("logs:CreateLogGroup", log_group_arn(function))
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            yield Request(action, f"{log_group_arn(function)}:log-stream:2026/11/27/[$LATEST]abcdef")


def forbidden(stage: str) -> Iterator[Request]:
    """Requests a stage's role must never be able to make."""
    # The other stage's resources.
    yield from needed(other(stage))
    # Look-alike names a loose wildcard would cover.
    yield Request("dynamodb:GetItem", f"{table_arn(stage)}-archive")
    yield Request("dynamodb:Query", f"{table_arn(stage)}x/index/gsi1")
    yield Request("ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/qungui/{stage}x/tenants/acme")
    for group in (f"qungui-{stage}x", f"qungui-{stage}x-ack_check", "other-app"):
        yield Request("logs:CreateLogGroup", log_group_arn(group))
        yield Request("logs:PutLogEvents", f"{log_group_arn(group)}:log-stream:s")
    # Table management and whole-table reads: sweeps query an index, they never scan (DESIGN §5).
    for action in ("Scan", "DeleteTable", "UpdateTable", "CreateTable", "UpdateTimeToLive", "DescribeTable"):
        yield Request(f"dynamodb:{action}", table_arn(stage))
    # Secrets are written by operators with their own credentials, never by the functions.
    for action in ("PutParameter", "DeleteParameter", "GetParametersByPath"):
        yield Request(f"ssm:{action}", parameter_arn(stage))
    # The key may decrypt only through SSM, and only the stage's parameters.
    direct = ssm_decrypt(parameter_arn(stage))
    yield Request(direct.action, direct.resource, {"kms:EncryptionContext:PARAMETER_ARN": parameter_arn(stage)})
    yield Request(
        direct.action,
        direct.resource,
        {"kms:ViaService": f"s3.{REGION}.amazonaws.com", "kms:EncryptionContext:PARAMETER_ARN": parameter_arn(stage)},
    )
    yield Request("kms:Encrypt", direct.resource, direct.context)


def _label(request: Request) -> str:
    return f"{request.action} on {request.resource}"


@pytest.mark.parametrize("stage", STAGES)
def test_policy_is_well_formed(stage: str) -> None:
    policy = load_policy(stage)

    assert policy["Version"] == "2012-10-17"
    for statement in statements(policy):
        assert statement["Effect"] in {"Allow", "Deny"}
        # NotAction/NotResource grant everything they do not name.
        assert {"Action", "Resource"} <= statement.keys()
        assert not {"NotAction", "NotResource", "NotPrincipal", "Principal"} & statement.keys()
        for action in _as_list(statement["Action"]):
            assert not set("*?") & set(action), f"wildcard action {action!r}"
        for resource in _as_list(statement["Resource"]):
            assert resource != "*", f"statement {statement.get('Sid')} grants every resource"
            assert resource.startswith("arn:aws:"), f"{resource!r}: only the aws partition is deployed for now"


@pytest.mark.parametrize("stage", STAGES)
def test_policy_scopes_each_service_to_the_stage(stage: str) -> None:
    by_service: dict[str, set[str]] = {}
    for statement in statements(load_policy(stage)):
        services = {action.split(":", 1)[0] for action in _as_list(statement["Action"])}
        assert len(services) == 1, f"statement {statement.get('Sid')} mixes services {services}"
        by_service.setdefault(services.pop(), set()).update(_as_list(statement["Resource"]))
        if "kms:Decrypt" in _as_list(statement["Action"]):
            via = statement["Condition"]["StringLike"]["kms:ViaService"]
            assert all(v.startswith("ssm.") for v in _as_list(via)), via

    assert by_service["dynamodb"] == {
        f"arn:aws:dynamodb:*:*:table/qungui-{stage}",
        f"arn:aws:dynamodb:*:*:table/qungui-{stage}/index/*",
    }
    assert by_service["ssm"] == {f"arn:aws:ssm:*:*:parameter/qungui/{stage}/*"}
    dynamodb_actions = {
        action
        for statement in statements(load_policy(stage))
        for action in _as_list(statement["Action"])
        if action.startswith("dynamodb:")
    }
    assert dynamodb_actions == DYNAMODB_RUNTIME_ACTIONS


@pytest.mark.parametrize("stage", STAGES)
def test_policy_allows_what_the_functions_need(stage: str) -> None:
    policy = load_policy(stage)
    refused = [_label(r) for r in needed(stage) if not allows(policy, r)]
    assert refused == []


@pytest.mark.parametrize("stage", STAGES)
def test_policy_refuses_everything_else(stage: str) -> None:
    policy = load_policy(stage)
    granted = [_label(r) + (f" {r.context}" if r.context else "") for r in forbidden(stage) if allows(policy, r)]
    assert granted == []


@pytest.mark.parametrize("stage", STAGES)
def test_policy_text_never_names_the_other_stage(stage: str) -> None:
    text = (CHALICE_DIR / f"policy-{stage}.json").read_text(encoding="utf-8")
    assert f"qungui-{other(stage)}" not in text
    assert f"/qungui/{other(stage)}" not in text


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_uses_the_stage_policy_file(stage: str) -> None:
    config_from_disk = json.loads((CHALICE_DIR / "config.json").read_text(encoding="utf-8"))
    functions = {"api_handler"} | set(config_from_disk["stages"][stage].get("lambda_functions", {}))
    for function in sorted(functions):
        config = Config(chalice_stage=stage, function_name=function, config_from_disk=config_from_disk)
        # Autogen reads boto3 client calls only and misses everything PynamoDB does (chalice#725).
        assert config.autogen_policy is False, function
        assert config.iam_policy_file == f"policy-{stage}.json", function


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("stage", STAGES)
def test_policy_covers_the_deployed_table(stage: str) -> None:
    # The ARN the tables stack actually outputs, so a renamed table in infra/ cannot drift from the policy.
    boto3.client("cloudformation").create_stack(
        StackName=f"qungui-tables-{stage}",
        TemplateBody=(REPO / "infra" / "tables.yaml").read_text(encoding="utf-8"),
        Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}],
    )
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in boto3.client("cloudformation").describe_stacks(StackName=f"qungui-tables-{stage}")["Stacks"][0][
            "Outputs"
        ]
    }
    policy = load_policy(stage)
    arn = outputs["QunguiTableArn"]
    parameter = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{outputs['QunguiSsmPrefix']}/tenants/acme"

    assert allows(policy, Request("dynamodb:UpdateItem", arn))
    assert allows(policy, Request("dynamodb:Query", f"{arn}/index/gsi1"))
    assert allows(policy, Request("ssm:GetParameter", parameter))
    assert not allows(load_policy(other(stage)), Request("dynamodb:UpdateItem", arn))

"""The committed Lambda policies (.chalice/policy-<stage>.json): least privilege, each stage confined to its own
resources, in any account and region until `make config` renders exact ARNs (tests/infra/test_render_config.py).

Policies are evaluated against concrete requests (tests/infra/iam_sim.py), not compared as strings, so that a broader
wildcard that happens to cover another stage is caught.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from chalice.config import Config
from iam_sim import (
    DYNAMODB_ITEM_ACTIONS,
    DYNAMODB_STREAM_ACTIONS,
    SQS_ACTIONS,
    Place,
    Request,
    allows,
    as_list,
    forbidden,
    granted,
    needed,
    refused,
    statements,
)
from infra_stacks import deploy

from qungui_cli.render_config import StageResources, policy_document

REPO = Path(__file__).resolve().parents[2]
CHALICE_DIR = REPO / ".chalice"
STAGES = ("dev", "prod")


def other(stage: str) -> str:
    return next(s for s in STAGES if s != stage)


def load_policy(stage: str) -> dict[str, Any]:
    return json.loads((CHALICE_DIR / f"policy-{stage}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("stage", STAGES)
def test_committed_policy_is_the_renderers_default(stage: str) -> None:
    # One builder for both forms, so the committed file and a rendered one cannot drift apart in what they grant.
    # After changing the builder: python -m qungui_cli.render_config --stage STAGE --defaults
    assert load_policy(stage) == policy_document(StageResources.committed_default(stage))


@pytest.mark.parametrize("stage", STAGES)
def test_policy_is_well_formed(stage: str) -> None:
    policy = load_policy(stage)

    assert policy["Version"] == "2012-10-17"
    for statement in statements(policy):
        assert statement["Effect"] in {"Allow", "Deny"}
        # NotAction/NotResource grant everything they do not name.
        assert {"Action", "Resource"} <= statement.keys()
        assert not {"NotAction", "NotResource", "NotPrincipal", "Principal"} & statement.keys()
        for action in as_list(statement["Action"]):
            assert not set("*?") & set(action), f"wildcard action {action!r}"
        for resource in as_list(statement["Resource"]):
            assert resource != "*", f"statement {statement.get('Sid')} grants every resource"
            # The committed form is for the aws partition; `make config` renders aws-cn where it applies.
            assert resource.startswith("arn:aws:"), resource


@pytest.mark.parametrize("stage", STAGES)
def test_policy_scopes_each_service_to_the_stage(stage: str) -> None:
    by_service: dict[str, set[str]] = {}
    actions: set[str] = set()
    for statement in statements(load_policy(stage)):
        services = {action.split(":", 1)[0] for action in as_list(statement["Action"])}
        assert len(services) == 1, f"statement {statement.get('Sid')} mixes services {services}"
        by_service.setdefault(services.pop(), set()).update(as_list(statement["Resource"]))
        actions.update(as_list(statement["Action"]))
        if "kms:Decrypt" in as_list(statement["Action"]):
            via = statement["Condition"]["StringLike"]["kms:ViaService"]
            assert all(v.startswith("ssm.") for v in as_list(via)), via

    assert by_service["dynamodb"] == {
        f"arn:aws:dynamodb:*:*:table/qungui-{stage}",
        f"arn:aws:dynamodb:*:*:table/qungui-{stage}/index/*",
        f"arn:aws:dynamodb:*:*:table/qungui-{stage}/stream/*",
    }
    assert by_service["sqs"] == {f"arn:aws:sqs:*:*:qungui-{stage}-{q}" for q in ("deliver", "sweep", "archive")}
    assert by_service["ssm"] == {f"arn:aws:ssm:*:*:parameter/qungui/{stage}/*"}
    assert {a for a in actions if a.startswith("dynamodb:")} == DYNAMODB_ITEM_ACTIONS | DYNAMODB_STREAM_ACTIONS
    assert {a for a in actions if a.startswith("sqs:")} == SQS_ACTIONS
    # No VPC permissions until an egress stack exists and `make config` renders them.
    assert not any(a.startswith("ec2:") for a in actions)


@pytest.mark.parametrize("stage", STAGES)
def test_policy_allows_what_the_functions_need(stage: str) -> None:
    # Wildcard account and region: any account and region will do, the aws partition's own included.
    for place in (Place(stage), Place(stage, region="ap-east-1", account="210987654321")):
        assert refused(load_policy(stage), needed(place)) == []


@pytest.mark.parametrize("stage", STAGES)
def test_policy_refuses_everything_else(stage: str) -> None:
    place = Place(stage)
    assert granted(load_policy(stage), needed(Place(other(stage))) + forbidden(place)) == []


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
def test_policy_covers_the_deployed_stacks(stage: str) -> None:
    # The ARNs the stacks actually output, so a renamed table or queue in infra/ cannot drift from the policy.
    outputs = {**deploy("tables", stage), **deploy("queues", stage)}
    policy = load_policy(stage)
    parameter = Place(stage).arn("ssm", f"parameter{outputs['QunguiSsmPrefix']}/tenants/acme")
    deployed = [
        Request("dynamodb:UpdateItem", outputs["QunguiTableArn"]),
        Request("dynamodb:Query", f"{outputs['QunguiTableArn']}/index/gsi1"),
        Request("dynamodb:GetRecords", outputs["QunguiTableStreamArn"]),
        Request("ssm:GetParameter", parameter),
    ]
    deployed += [
        Request(action, outputs[f"Qungui{q}QueueArn"])
        for q in ("Deliver", "Sweep", "Archive")
        for action in SQS_ACTIONS
    ]

    assert refused(policy, deployed) == []
    assert granted(load_policy(other(stage)), deployed) == []
    assert not allows(policy, Request("sqs:ReceiveMessage", outputs["QunguiDeliverDlqArn"]))

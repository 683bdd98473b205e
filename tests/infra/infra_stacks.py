"""infra/ templates, read as data and deployed into moto, for the infra tests.

moto 5.2.5 evaluates most of these templates but not all (each gap is worked around where a test meets it):
- TimeToLiveSpecification and PointInTimeRecoverySpecification are ignored, and SSESpecification is read under the
  API's key, so TTL is switched on by hand and TTL, PITR and SSE are checked in the template itself;
- Fn::Cidr is not evaluated (egress.yaml spells its subnet ranges out), and Fn::GetAZs always answers us-east-1's zones,
  so the egress stack deploys into moto in us-east-1 only;
- SubnetRouteTableAssociation and SecurityGroupEgress are accepted but not applied, so those are checked in the
  template.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import yaml

from qungui_cli.render_config import stack_name

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"


class _CfnLoader(yaml.SafeLoader):
    """PyYAML loader that reads CloudFormation short-form intrinsics (`!Sub x`) as their long form (`Fn::Sub: x`)."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    key = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {key: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def template_path(kind: str) -> Path:
    return INFRA / f"{kind}.yaml"


def load_template(kind: str) -> dict[str, Any]:
    text = template_path(kind).read_text(encoding="utf-8")
    return yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass


def deploy(
    kind: str, stage: str = "dev", *, region: str | None = None, prefix: str = "qungui", **parameters: str
) -> dict[str, str]:
    """Create `<prefix>-<stage>-<kind>` from infra/<kind>.yaml and return its Outputs as {OutputKey: OutputValue}."""
    cfn = boto3.client("cloudformation", region_name=region)
    name = stack_name(stage, kind, prefix)
    cfn.create_stack(
        StackName=name,
        TemplateBody=template_path(kind).read_text(encoding="utf-8"),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in {"Stage": stage, **parameters}.items()],
    )
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def enable_ttl(table_name: str, attribute: str, *, region: str | None = None) -> None:
    # moto ignores TimeToLiveSpecification in create_stack; real CloudFormation applies it (and would reject a second
    # enable), so only switch it on when it is off.
    ddb = boto3.client("dynamodb", region_name=region)
    status = ddb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]["TimeToLiveStatus"]
    if status != "ENABLED":
        ddb.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
        )

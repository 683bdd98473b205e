"""`make config STAGE=prod`: write a stage's settings in .chalice/ from its deployed stacks, so nothing is hand-copied.

Reads the outputs of `<prefix>-<stage>-tables`, `<prefix>-<stage>-queues` and, when it exists, `<prefix>-<stage>-egress`
(infra/*.yaml), the account (STS) and the region's partition (`aws`, or `aws-cn` for cn-north-1/cn-northwest-1), then
rewrites:

- `.chalice/config.json` `stages.<stage>.environment_variables`: every tables/queues Output becomes the variable of the
  same name (QunguiDeliverQueueUrl -> QUNGUI_DELIVER_QUEUE_URL); other variables are kept. With the egress stack,
  `subnet_ids` and `security_group_ids` put the functions behind its NAT; without it they are removed. In `aws-cn`
  the API becomes REGIONAL.
- `.chalice/policy-<stage>.json`: the functions' one policy, with the exact ARNs of the table, its indexes and stream,
  the queues, the stage's SSM parameters and its log groups (and the ENI permissions a VPC function needs).

`--defaults` writes the committed, account-independent policy instead (wildcard account and region), without AWS.

    python -m qungui_cli.render_config --stage prod [--stack-prefix qungui] [--region R] [--profile P]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qungui_cli.errors import CliError

APP_NAME = "qungui"
QUEUES = ("deliver", "sweep", "archive")
STACK_TEMPLATES = {"tables": "infra/tables.yaml", "queues": "infra/queues.yaml", "egress": "infra/egress.yaml"}
# Their Outputs become env vars; the egress stack is optional and feeds the VPC settings instead.
REQUIRED_STACKS = ("tables", "queues")
# A stack in any other state is being changed or failed to create, so its outputs are missing or about to change.
USABLE_STACK_STATUSES = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE", "IMPORT_ROLLBACK_COMPLETE"}
)

DYNAMODB_ITEM_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
)
# What a Lambda event source mapping reads a stream with (Lambda polls with the function's role).
DYNAMODB_STREAM_READ_ACTIONS = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
# Senders need SendMessage (it also authorises SendMessageBatch); the event source mapping needs the other three.
SQS_ACTIONS = ("sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
# AWSLambdaVPCAccessExecutionRole's EC2 actions: Lambda creates the function's network interfaces with its role.
VPC_ENI_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
VPC_DESCRIBE_ACTIONS = ("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets")


def stack_name(stage: str, kind: str, prefix: str = APP_NAME) -> str:
    return f"{prefix}-{stage}-{kind}"


def env_name(output_key: str) -> str:
    """The env var an Output feeds: QunguiTableStreamArn -> QUNGUI_TABLE_STREAM_ARN."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", output_key).upper()


@dataclass(frozen=True)
class StageResources:
    """Everything a stage's settings are built from; account and region are "*" in the committed defaults."""

    stage: str
    partition: str
    region: str
    account: str
    dns_suffix: str
    table_arn: str
    stream_arn: str
    queue_arns: tuple[str, ...]
    ssm_prefix: str
    environment: Mapping[str, str]
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    egress_ip: str | None = None

    @classmethod
    def committed_default(cls, stage: str) -> StageResources:
        """The account-independent form kept in git until an operator renders the real one."""
        table = f"arn:aws:dynamodb:*:*:table/{APP_NAME}-{stage}"
        return cls(
            stage=stage,
            partition="aws",
            region="*",
            account="*",
            dns_suffix="amazonaws.com",
            table_arn=table,
            stream_arn=f"{table}/stream/*",
            queue_arns=tuple(f"arn:aws:sqs:*:*:{APP_NAME}-{stage}-{queue}" for queue in QUEUES),
            ssm_prefix=f"/{APP_NAME}/{stage}",
            environment={"QUNGUI_TABLE": f"{APP_NAME}-{stage}", "QUNGUI_SSM_PREFIX": f"/{APP_NAME}/{stage}"},
        )

    @property
    def vpc(self) -> bool:
        return bool(self.subnet_ids)

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"


def policy_document(res: StageResources) -> dict[str, Any]:
    """The IAM policy every function of the stage runs with (chalice gives each function a role with this file)."""
    functions = [f"log-group:/aws/lambda/{APP_NAME}-{res.stage}", f"log-group:/aws/lambda/{APP_NAME}-{res.stage}-*"]
    parameters = res.arn("ssm", f"parameter/{res.ssm_prefix.strip('/')}/*")
    statements: list[dict[str, Any]] = [
        {
            "Sid": "OwnLogGroups",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup"],
            "Resource": [res.arn("logs", group) for group in functions],
        },
        {
            "Sid": "OwnLogStreams",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [res.arn("logs", f"{group}:log-stream:*") for group in functions],
        },
        {
            "Sid": "StageTable",
            "Effect": "Allow",
            "Action": list(DYNAMODB_ITEM_ACTIONS),
            # Indexes by wildcard under the exact table: a new GSI needs no new policy.
            "Resource": [res.table_arn, f"{res.table_arn}/index/*"],
        },
        {
            "Sid": "StageTableStream",
            "Effect": "Allow",
            "Action": list(DYNAMODB_STREAM_READ_ACTIONS),
            "Resource": [res.stream_arn],
        },
        {
            # Scoped as AWS's own SAM policy template DynamoDBStreamReadPolicy scopes it.
            "Sid": "ListStageTableStreams",
            "Effect": "Allow",
            "Action": ["dynamodb:ListStreams"],
            "Resource": [f"{res.table_arn}/stream/*"],
        },
        {
            "Sid": "StageQueues",
            "Effect": "Allow",
            "Action": list(SQS_ACTIONS),
            "Resource": list(res.queue_arns),
        },
        {
            "Sid": "StageSecrets",
            "Effect": "Allow",
            "Action": ["ssm:GetParameter"],
            "Resource": [parameters],
        },
        {
            # Only SecureStrings under a customer-managed key need this (the AWS-managed aws/ssm key's own policy
            # already lets SSM decrypt for the account); confined to SSM and to the stage's parameters.
            "Sid": "DecryptStageSecretsThroughSsm",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [res.arn("kms", "key/*")],
            "Condition": {
                "StringLike": {
                    "kms:ViaService": f"ssm.{res.region}.{res.dns_suffix}",
                    "kms:EncryptionContext:PARAMETER_ARN": parameters,
                }
            },
        },
    ]
    if res.vpc:
        statements += [
            {
                # The form the Lambda guide gives: without the account-wide ENI resources Lambda may fail to attach.
                "Sid": "LambdaNetworkInterfaces",
                "Effect": "Allow",
                "Action": list(VPC_ENI_ACTIONS),
                "Resource": [res.arn("ec2", "*/*")],
            },
            {
                # These EC2 Describe actions support no resource-level permissions: "*" is the only form that works.
                "Sid": "LambdaNetworkDescribe",
                "Effect": "Allow",
                "Action": list(VPC_DESCRIBE_ACTIONS),
                "Resource": ["*"],
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def apply_to_config(config: dict[str, Any], res: StageResources) -> dict[str, Any]:
    """`config` (the parsed config.json) with the stage's settings replaced; other stages and keys untouched."""
    stages = config.get("stages", {})
    if res.stage not in stages:
        raise CliError(f".chalice/config.json has no stage {res.stage!r}; add it before rendering")
    stage = dict(stages[res.stage])
    stage["environment_variables"] = {**stage.get("environment_variables", {}), **res.environment}
    stage["iam_policy_file"] = f"policy-{res.stage}.json"
    if res.partition == "aws-cn":
        # The China regions serve no edge-optimized APIs (chalice's default), so the API must be regional there.
        stage["api_gateway_endpoint_type"] = "REGIONAL"
    if res.vpc:
        stage["subnet_ids"] = list(res.subnet_ids)
        stage["security_group_ids"] = list(res.security_group_ids)
    else:
        # The renderer owns these two keys: an egress stack that was deleted takes the functions out of its VPC.
        stage.pop("subnet_ids", None)
        stage.pop("security_group_ids", None)
    return {**config, "stages": {**stages, res.stage: stage}}


# --- reading the deployment -------------------------------------------------------------------------------------------


def _partition_of(session: Any, region: str) -> tuple[str, str]:
    import botocore.session

    partition = str(session.get_partition_for_region(region))
    endpoints = botocore.session.get_session().get_data("endpoints")
    suffixes = {p["partition"]: p["dnsSuffix"] for p in endpoints["partitions"]}
    return partition, suffixes[partition]


def _describe(cloudformation: Any, name: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise CliError(f"cannot read stack {name}: {exc}") from exc
    return stacks[0] if stacks else None


def _outputs(stack: dict[str, Any], stage: str, partition: str, account: str) -> dict[str, str]:
    name = stack["StackName"]
    if stack["StackStatus"] not in USABLE_STACK_STATUSES:
        raise CliError(f"stack {name} is {stack['StackStatus']}; wait for it to finish, or fix it, then run this again")
    parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}
    if parameters.get("Stage") != stage:
        # `aws cloudformation deploy` without `--parameter-overrides Stage=...` silently deploys the dev default.
        raise CliError(
            f"stack {name} was deployed with Stage={parameters.get('Stage')}, not {stage}: "
            f"redeploy it with --parameter-overrides Stage={stage}"
        )
    stack_partition, stack_account = stack["StackId"].split(":")[1], stack["StackId"].split(":")[4]
    if (stack_partition, stack_account) != (partition, account):
        raise CliError(
            f"stack {name} is in {stack_partition}/{stack_account}, but these credentials are {partition}/{account}"
        )
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def read_deployment(
    stage: str, *, stack_prefix: str = APP_NAME, region: str | None = None, profile: str | None = None
) -> StageResources:
    """The stage's resources as its deployed stacks describe them."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        session = boto3.Session(region_name=region, profile_name=profile)
    except BotoCoreError as exc:
        raise CliError(str(exc)) from exc
    if not session.region_name:
        raise CliError("no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a profile's region), or pass --region")
    region = session.region_name
    partition, dns_suffix = _partition_of(session, region)
    names = {kind: stack_name(stage, kind, stack_prefix) for kind in STACK_TEMPLATES}
    try:
        account = session.client("sts").get_caller_identity()["Account"]
        cloudformation = session.client("cloudformation")
        stacks = {kind: _describe(cloudformation, name) for kind, name in names.items()}
    except (BotoCoreError, ClientError) as exc:
        raise CliError(f"cannot reach AWS: {exc}") from exc

    outputs: dict[str, dict[str, str]] = {}
    for kind, stack in stacks.items():
        if stack is not None:
            outputs[kind] = _outputs(stack, stage, partition, account)
        elif kind in REQUIRED_STACKS:
            raise CliError(
                f"stack {names[kind]} not found in {region}: aws cloudformation deploy --template-file "
                f"{STACK_TEMPLATES[kind]} --stack-name {names[kind]} --parameter-overrides Stage={stage}"
            )

    def required(kind: str, key: str) -> str:
        try:
            return outputs[kind][key]
        except KeyError:
            missing = f"stack {names[kind]} has no Output {key}"
            raise CliError(f"{missing}: deploy the current {STACK_TEMPLATES[kind]}") from None

    egress = "egress" in outputs
    return StageResources(
        stage=stage,
        partition=partition,
        region=region,
        account=account,
        dns_suffix=dns_suffix,
        table_arn=required("tables", "QunguiTableArn"),
        stream_arn=required("tables", "QunguiTableStreamArn"),
        queue_arns=tuple(required("queues", f"Qungui{queue.capitalize()}QueueArn") for queue in QUEUES),
        ssm_prefix=required("tables", "QunguiSsmPrefix"),
        environment={env_name(key): value for kind in REQUIRED_STACKS for key, value in outputs[kind].items()},
        subnet_ids=tuple(required("egress", "QunguiLambdaSubnetIds").split(",")) if egress else (),
        security_group_ids=(required("egress", "QunguiLambdaSecurityGroupId"),) if egress else (),
        egress_ip=required("egress", "QunguiEgressIp") if egress else None,
    )


# --- writing ----------------------------------------------------------------------------------------------------------


def _write_json(path: Path, document: Mapping[str, Any]) -> None:
    # Through a temporary file in the same folder: an interrupted run never leaves half a config behind.
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _chalice_dir(project_dir: Path) -> Path:
    chalice_dir = project_dir / ".chalice"
    if not (chalice_dir / "config.json").is_file():
        raise CliError(f"{chalice_dir / 'config.json'} not found: run this from the qungui project folder")
    return chalice_dir


def write_policy(project_dir: Path, res: StageResources) -> Path:
    path = _chalice_dir(project_dir) / f"policy-{res.stage}.json"
    _write_json(path, policy_document(res))
    return path


def write_stage(project_dir: Path, res: StageResources) -> tuple[Path, Path]:
    """Write config.json's stage settings and the stage's policy file."""
    config_path = _chalice_dir(project_dir) / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    _write_json(config_path, apply_to_config(config, res))
    return config_path, write_policy(project_dir, res)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m qungui_cli.render_config",
        description="Write .chalice/config.json's stage settings and policy-<stage>.json from the deployed stacks.",
    )
    parser.add_argument("--stage", required=True, choices=["dev", "prod"], help="the chalice stage to render")
    parser.add_argument(
        "--stack-prefix",
        default=APP_NAME,
        help="stacks are named PREFIX-STAGE-tables, PREFIX-STAGE-queues, PREFIX-STAGE-egress (default: %(default)s)",
    )
    parser.add_argument("--region", help="AWS region of the stacks (default: the usual AWS configuration)")
    parser.add_argument("--profile", help="AWS profile (default: the usual AWS configuration)")
    parser.add_argument("--project-dir", type=Path, default=Path(), help="the folder holding .chalice/ (default: .)")
    parser.add_argument(
        "--defaults",
        action="store_true",
        help="write the committed, account-independent policy-STAGE.json instead (no AWS access)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.defaults:
            path = write_policy(args.project_dir, StageResources.committed_default(args.stage))
            print(f"wrote {path} (wildcard account and region)")
            return 0
        res = read_deployment(args.stage, stack_prefix=args.stack_prefix, region=args.region, profile=args.profile)
        config_path, policy_path = write_stage(args.project_dir, res)
    except CliError as exc:
        print(f"render_config: {exc}", file=sys.stderr)
        return 2
    print(f"stage {res.stage}: account {res.account}, region {res.region}, partition {res.partition}")
    print(f"wrote {config_path} ({len(res.environment)} variables from the stacks)")
    print(f"wrote {policy_path}")
    if res.egress_ip:
        print(f"functions run in {len(res.subnet_ids)} private subnets; outbound IP {res.egress_ip}")
        print(f"  -> list {res.egress_ip} under 企业可信IP in each tenant's self-built app")
    else:
        print(f"no {stack_name(res.stage, 'egress', args.stack_prefix)} stack: functions run outside a VPC")
    print(f"next: chalice deploy --stage {res.stage}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

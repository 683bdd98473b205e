"""`make config STAGE=prod` (qungui_cli.render_config): the stacks deployed into moto, the renderer run into a copy of
.chalice/, and the rendered settings checked as JSON, as IAM (evaluated against concrete requests), and by running
the app with exactly the rendered environment against what the stacks created."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from chalice.config import Config
from iam_sim import Place, Request, allows, forbidden, granted, needed, refused, statements
from infra_stacks import deploy, template_path
from moto.server import ThreadedMotoServer

from chalicelib.store import keys
from qungui_cli import render_config
from qungui_cli.render_config import env_name, stack_name

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the committed .chalice/ to render into."""
    (tmp_path / ".chalice").mkdir()
    for name in ("config.json", "policy-dev.json", "policy-prod.json"):
        shutil.copy(REPO / ".chalice" / name, tmp_path / ".chalice" / name)
    return tmp_path


def render(project: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = render_config.main(["--project-dir", str(project), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def read(project: Path, name: str) -> dict[str, Any]:
    return json.loads((project / ".chalice" / name).read_text(encoding="utf-8"))


def committed(name: str) -> dict[str, Any]:
    return json.loads((REPO / ".chalice" / name).read_text(encoding="utf-8"))


def deploy_stage(stage: str, *, region: str | None = None, egress: bool = False, prefix: str = "qungui") -> dict:
    kinds = ("tables", "queues", "egress") if egress else ("tables", "queues")
    return {kind: deploy(kind, stage, region=region, prefix=prefix) for kind in kinds}


def resources_of(policy: dict[str, Any]) -> list[str]:
    return [r for s in statements(policy) for r in s["Resource"]]


# --- the rendered JSON ---------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_renders_exact_settings_from_the_stacks(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = deploy_stage("prod", egress=True)

    code, out, err = render(project, capsys, "--stage", "prod")

    assert (code, err) == (0, "")
    config, before = read(project, "config.json"), committed("config.json")
    stage = config["stages"]["prod"]
    from_stacks = {env_name(k): v for kind in ("tables", "queues") for k, v in outputs[kind].items()}
    # Every tables/queues Output becomes its variable; the committed variables stay.
    assert stage["environment_variables"] == before["stages"]["prod"]["environment_variables"] | from_stacks
    assert from_stacks["QUNGUI_DELIVER_QUEUE_URL"] == outputs["queues"]["QunguiDeliverQueueUrl"]
    assert from_stacks["QUNGUI_TABLE_STREAM_ARN"] == outputs["tables"]["QunguiTableStreamArn"]
    assert stage["subnet_ids"] == outputs["egress"]["QunguiLambdaSubnetIds"].split(",")
    assert len(stage["subnet_ids"]) == 2
    assert stage["security_group_ids"] == [outputs["egress"]["QunguiLambdaSecurityGroupId"]]
    assert stage["iam_policy_file"] == "policy-prod.json"
    assert "api_gateway_endpoint_type" not in stage
    # Nothing else changes: other stages, top-level settings, the stage's other keys.
    assert config["stages"]["dev"] == before["stages"]["dev"]
    assert {k: v for k, v in config.items() if k != "stages"} == {k: v for k, v in before.items() if k != "stages"}
    rest = {"environment_variables", "subnet_ids", "security_group_ids"}
    assert {k: v for k, v in stage.items() if k not in rest} == {
        k: v for k, v in before["stages"]["prod"].items() if k not in rest
    }
    # Lambda refuses a function whose variables exceed 4 KB in all.
    assert sum(len(k) + len(v) for k, v in stage["environment_variables"].items()) < 4096
    assert outputs["egress"]["QunguiEgressIp"] in out
    # The committed files are left alone.
    assert committed("policy-prod.json") == render_config.policy_document(
        render_config.StageResources.committed_default("prod")
    )


@pytest.mark.usefixtures("aws")
def test_rendered_policy_names_exact_arns(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = deploy_stage("prod", egress=True)
    assert render(project, capsys, "--stage", "prod")[0] == 0
    policy = read(project, "policy-prod.json")
    tables, queues = outputs["tables"], outputs["queues"]

    by_sid = {s["Sid"]: s["Resource"] for s in statements(policy)}
    assert by_sid["StageTable"] == [tables["QunguiTableArn"], f"{tables['QunguiTableArn']}/index/*"]
    assert by_sid["StageTableStream"] == [tables["QunguiTableStreamArn"]]
    assert by_sid["StageQueues"] == [queues[f"Qungui{q}QueueArn"] for q in ("Deliver", "Sweep", "Archive")]
    assert by_sid["StageSecrets"] == [f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/qungui/prod/*"]
    assert by_sid["OwnLogGroups"] == [
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/qungui-prod",
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/qungui-prod-*",
    ]
    # No wildcard account or region anywhere; "*" alone only where EC2 offers nothing narrower.
    for resource in resources_of(policy):
        assert resource == "*" or resource.startswith("arn:aws:"), resource
        assert ":*:" not in resource, resource
    assert [s["Sid"] for s in statements(policy) if "*" in s["Resource"]] == ["LambdaNetworkDescribe"]

    place = Place("prod", stream_label=tables["QunguiTableStreamArn"].rsplit("/", 1)[1])
    assert refused(policy, needed(place)) == []
    elsewhere = [
        Place("dev"),
        Place("prod", account="210987654321"),
        Place("prod", region="eu-west-1", dns_suffix="amazonaws.com"),
    ]
    assert granted(policy, [r for p in elsewhere for r in needed(p)] + forbidden(place)) == []
    # The table's stream under an older label (the stream was re-enabled since) is not this policy's.
    assert not allows(policy, Request("dynamodb:GetRecords", place.stream("2020-01-01T00:00:00.000")))


@pytest.mark.usefixtures("aws")
def test_egress_adds_what_lambda_needs_to_attach_to_the_vpc(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = deploy_stage("prod", egress=True)
    assert render(project, capsys, "--stage", "prod")[0] == 0
    policy = read(project, "policy-prod.json")
    place = Place("prod")
    subnet = outputs["egress"]["QunguiLambdaSubnetIds"].split(",")[0]
    group = outputs["egress"]["QunguiLambdaSecurityGroupId"]

    eni = place.arn("ec2", "network-interface/eni-0123456789abcdef0")
    attach = [
        Request("ec2:CreateNetworkInterface", eni),
        Request("ec2:CreateNetworkInterface", place.arn("ec2", f"subnet/{subnet}")),
        Request("ec2:CreateNetworkInterface", place.arn("ec2", f"security-group/{group}")),
        Request("ec2:DeleteNetworkInterface", eni),
        Request("ec2:AssignPrivateIpAddresses", eni),
        Request("ec2:UnassignPrivateIpAddresses", eni),
        Request("ec2:DescribeNetworkInterfaces", "*"),
        Request("ec2:DescribeSubnets", "*"),
    ]
    assert refused(policy, attach) == []
    other_account = Place("prod", account="210987654321").arn("ec2", "network-interface/eni-0123456789abcdef0")
    assert (
        granted(
            policy,
            [
                Request("ec2:DeleteNetworkInterface", other_account),
                Request("ec2:RunInstances", place.arn("ec2", "instance/*")),
                Request("ec2:DescribeInstances", "*"),
            ],
        )
        == []
    )


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("region", ["cn-north-1", "cn-northwest-1"])
def test_mainland_regions_render_the_aws_cn_partition(
    region: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # moto's Fn::GetAZs only knows us-east-1's zones, so the egress stack is exercised in us-east-1 alone.
    outputs = deploy_stage("prod", region=region)

    code, _, err = render(project, capsys, "--stage", "prod", "--region", region)

    assert (code, err) == (0, "")
    policy, stage = read(project, "policy-prod.json"), read(project, "config.json")["stages"]["prod"]
    assert all(r.startswith(f"arn:aws-cn:{r.split(':')[2]}:{region}:{ACCOUNT}:") for r in resources_of(policy))
    assert "arn:aws:" not in json.dumps(policy)
    assert outputs["tables"]["QunguiTableArn"].startswith("arn:aws-cn:")
    assert stage["environment_variables"]["QUNGUI_TABLE_ARN"] == outputs["tables"]["QunguiTableArn"]
    decrypt = next(s for s in statements(policy) if s["Sid"] == "DecryptStageSecretsThroughSsm")
    assert decrypt["Condition"]["StringLike"]["kms:ViaService"] == f"ssm.{region}.amazonaws.com.cn"
    # The China regions have no edge-optimized API Gateway endpoints.
    assert stage["api_gateway_endpoint_type"] == "REGIONAL"

    china = Place(
        "prod",
        partition="aws-cn",
        region=region,
        dns_suffix="amazonaws.com.cn",
        stream_label=outputs["tables"]["QunguiTableStreamArn"].rsplit("/", 1)[1],
    )
    assert refused(policy, needed(china)) == []
    global_twin = Place("prod", region=region, stream_label=china.stream_label)
    assert granted(policy, needed(global_twin)) == []


# --- lifecycle and mistakes ----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_rendering_is_repeatable_and_keeps_variables_it_does_not_own(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy_stage("prod")
    config = read(project, "config.json")
    config["stages"]["prod"]["environment_variables"]["QUNGUI_WECOM_API_BASE"] = "https://proxy.example.com"
    (project / ".chalice" / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")

    assert render(project, capsys, "--stage", "prod")[0] == 0
    first = {name: (project / ".chalice" / name).read_bytes() for name in ("config.json", "policy-prod.json")}
    assert render(project, capsys, "--stage", "prod")[0] == 0

    assert {name: (project / ".chalice" / name).read_bytes() for name in first} == first
    env = read(project, "config.json")["stages"]["prod"]["environment_variables"]
    assert env["QUNGUI_WECOM_API_BASE"] == "https://proxy.example.com"
    # Written as the committed files are (2-space JSON, UTF-8, final newline), so diffs stay readable.
    assert first["config.json"].decode("utf-8") == json.dumps(read(project, "config.json"), indent=2) + "\n"


@pytest.mark.usefixtures("aws")
def test_without_an_egress_stack_the_functions_leave_the_vpc(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deploy_stage("prod", egress=True)
    assert render(project, capsys, "--stage", "prod")[0] == 0
    assert "subnet_ids" in read(project, "config.json")["stages"]["prod"]
    # The same stage without its egress stack (moto cannot delete the VPC stack: a deployment in another region
    # stands in for the one whose egress stack was deleted).
    deploy_stage("prod", region="eu-west-1")

    code, out, _ = render(project, capsys, "--stage", "prod", "--region", "eu-west-1")

    assert code == 0
    stage = read(project, "config.json")["stages"]["prod"]
    assert not {"subnet_ids", "security_group_ids"} & stage.keys()
    assert not any(a.startswith("ec2:") for s in statements(read(project, "policy-prod.json")) for a in s["Action"])
    assert "no qungui-prod-egress stack" in out


@pytest.mark.usefixtures("aws")
def test_stack_prefix_selects_the_stacks(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = deploy_stage("prod", prefix="acme")
    untouched = (project / ".chalice" / "config.json").read_bytes()

    code, _, err = render(project, capsys, "--stage", "prod")
    assert code == 2
    # The error names the missing stack and the command that creates it.
    assert "qungui-prod-tables not found in us-east-1" in err
    assert "aws cloudformation deploy --template-file infra/tables.yaml --stack-name qungui-prod-tables" in err
    assert (project / ".chalice" / "config.json").read_bytes() == untouched

    assert render(project, capsys, "--stage", "prod", "--stack-prefix", "acme")[0] == 0
    env = read(project, "config.json")["stages"]["prod"]["environment_variables"]
    assert env["QUNGUI_SWEEP_QUEUE_URL"] == outputs["queues"]["QunguiSweepQueueUrl"]


@pytest.mark.usefixtures("aws")
def test_refuses_a_stack_deployed_with_the_default_stage(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `aws cloudformation deploy` without --parameter-overrides deploys Stage=dev under whatever stack name was given.
    boto3.client("cloudformation").create_stack(
        StackName=stack_name("prod", "tables"), TemplateBody=template_path("tables").read_text(encoding="utf-8")
    )
    deploy("queues", "prod")
    untouched = {p.name: p.read_bytes() for p in (project / ".chalice").iterdir()}

    code, _, err = render(project, capsys, "--stage", "prod")

    assert code == 2
    assert "qungui-prod-tables was deployed with Stage=dev, not prod" in err
    assert {p.name: p.read_bytes() for p in (project / ".chalice").iterdir()} == untouched


@pytest.mark.usefixtures("aws")
def test_refuses_to_guess_a_region(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    code, _, err = render(project, capsys, "--stage", "prod")
    assert code == 2
    assert "no AWS region" in err


def test_defaults_rewrite_the_committed_policy_byte_for_byte(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / ".chalice" / "policy-prod.json").write_text("{}", encoding="utf-8")
    assert render(project, capsys, "--stage", "prod", "--defaults")[0] == 0
    assert (project / ".chalice" / "policy-prod.json").read_bytes() == (REPO / ".chalice/policy-prod.json").read_bytes()


# --- the app against what the stacks created ------------------------------------------------------------------------


@pytest.fixture
def moto_server(aws: None) -> Iterator[str]:
    """A moto server sharing the in-process mock's state, for a child process to reach over HTTP."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_rendered_environment_runs_the_app(project: Path, capsys: pytest.CaptureFixture[str], moto_server: str) -> None:
    outputs = deploy_stage("prod")
    assert render(project, capsys, "--stage", "prod")[0] == 0
    config = Config(chalice_stage="prod", function_name="api_handler", config_from_disk=read(project, "config.json"))
    # What Lambda would give the function: the stage's variables, the region, credentials; nothing from this process.
    child_env = {
        **config.environment_variables,
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(REPO),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_ENDPOINT_URL": moto_server,
    }
    probe = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("stage_probe.py")), str(project), "prod"],
        cwd=REPO,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    report = json.loads(probe.stdout.strip().splitlines()[-1])

    assert report["tables"] == [outputs["tables"]["QunguiTable"]] == ["qungui-prod"]
    assert report["tenant_corp_id"] == "ww0123456789abcdef"
    assert report["verify_file"] == [200, "probe-content"]
    assert report["queues"] == {
        purpose: {"bodies": [f"probe {purpose}"], "arn_matches_env": True}
        for purpose in ("deliver", "sweep", "archive")
    }
    # The child wrote into the stack's table, as seen from here.
    item = boto3.client("dynamodb").get_item(
        TableName="qungui-prod", Key={"pk": {"S": keys.tenant_pk("acme")}, "sk": {"S": keys.tenant_profile_sk()}}
    )
    assert item.get("Item", {}).get("corp_id") == {"S": "ww0123456789abcdef"}

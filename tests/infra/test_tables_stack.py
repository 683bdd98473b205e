"""infra/tables.yaml deployed into moto: its outputs, the stream, the models against the real table, and its agreement
with the models and .chalice/config.json.

moto 5.2.5 builds the table from the template but ignores TimeToLiveSpecification and
PointInTimeRecoverySpecification (engineering notes §4), and reads SSESpecification under the API's key (`Enabled`)
instead of CloudFormation's (`SSEEnabled`), so it never reports SSE for a stack-made table. TTL is therefore switched
on by hand after create_stack, and TTL, PITR and SSE are checked in the template itself. StreamSpecification is
applied, so the stream is checked on the live table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import infra_stacks
import pytest
from chalice.config import Config
from infra_stacks import enable_ttl

from chalicelib.store import keys
from chalicelib.store.models import ALL_MODELS, Item, MemberActivity, TenantRecord
from qungui_cli.render_config import StageResources, env_name, stack_name

REPO = Path(__file__).resolve().parents[2]
CHALICE_CONFIG_PATH = REPO / ".chalice" / "config.json"
STAGES = ("dev", "prod")
TABLE_RESOURCE = "Table"
# QUNGUI_* settings that are not stack resources, so they have no Output; a new QUNGUI_* variable must either match an
# Output or be listed here on purpose.
NOT_FROM_STACK = {"QUNGUI_STAGE"}


def load_template() -> dict[str, Any]:
    return infra_stacks.load_template("tables")


def deploy(stage: str) -> dict[str, str]:
    """Create the tables stack for a stage and return its Outputs as {OutputKey: OutputValue}."""
    return infra_stacks.deploy("tables", stage)


def stage_env(stage: str) -> dict[str, str]:
    """The environment the API Lambda gets in a stage, merged the way chalice merges it."""
    config = Config(
        chalice_stage=stage,
        function_name="api_handler",
        config_from_disk=json.loads(CHALICE_CONFIG_PATH.read_text(encoding="utf-8")),
    )
    return config.environment_variables


def ttl_attribute_name(model: type[Item]) -> str | None:
    ttl = model._ttl_attribute()
    return None if ttl is None else ttl.attr_name


# --- normalised views, so that template, model and live table compare as equal values --------------------------------


def _key_schema(elements: Iterable[Mapping[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((e["KeyType"], e["AttributeName"]) for e in elements))


def _attribute_definitions(elements: Iterable[Mapping[str, str]]) -> set[tuple[str, str]]:
    return {(e["AttributeName"], e["AttributeType"]) for e in elements}


def _projection(projection: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    return projection["ProjectionType"], tuple(sorted(projection.get("NonKeyAttributes", [])))


def model_shape(model: type[Item]) -> dict[str, Any]:
    schema = model._get_schema()
    return {
        "key_schema": _key_schema(schema["key_schema"]),
        "attribute_definitions": _attribute_definitions(schema["attribute_definitions"]),
        "gsis": {
            gsi["index_name"]: (_key_schema(gsi["key_schema"]), _projection(gsi["projection"]))
            for gsi in schema["global_secondary_indexes"]
        },
        "lsis": {
            lsi["index_name"]: (_key_schema(lsi["key_schema"]), _projection(lsi["projection"]))
            for lsi in schema["local_secondary_indexes"]
        },
    }


def described_shape(table: dict[str, Any]) -> dict[str, Any]:
    """The same view of a CloudFormation `Properties` block or a DescribeTable `Table` (both use the API's names)."""
    return {
        "key_schema": _key_schema(table["KeySchema"]),
        "attribute_definitions": _attribute_definitions(table["AttributeDefinitions"]),
        "gsis": {
            gsi["IndexName"]: (_key_schema(gsi["KeySchema"]), _projection(gsi["Projection"]))
            for gsi in table.get("GlobalSecondaryIndexes", [])
        },
        "lsis": {
            lsi["IndexName"]: (_key_schema(lsi["KeySchema"]), _projection(lsi["Projection"]))
            for lsi in table.get("LocalSecondaryIndexes", [])
        },
    }


# --- the template on its own -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_template_table_matches_model(model: type[Item]) -> None:
    properties = load_template()["Resources"][TABLE_RESOURCE]["Properties"]

    assert described_shape(properties) == model_shape(model)
    assert properties["TimeToLiveSpecification"] == {"AttributeName": ttl_attribute_name(model), "Enabled": True}
    # Every model lives in the one table the template names (for the stage the tests run as).
    assert properties["TableName"] == {"Fn::Sub": "qungui-${Stage}"}
    assert model.Meta.table_name == "qungui-dev"


def test_template_protects_the_table() -> None:
    template = load_template()
    table = template["Resources"][TABLE_RESOURCE]
    properties = table["Properties"]

    assert "Transform" not in template, "moto and `make config` need plain CloudFormation, not SAM"
    assert template["Parameters"]["Stage"]["AllowedValues"] == ["dev", "prod"]
    assert template["Parameters"]["Stage"]["Default"] == "dev"
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}
    assert template["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    # The outbox stream handler needs each new item whole; old images would only cost reads.
    assert properties["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}


# --- the template deployed into moto ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("stage", STAGES)
def test_stack_outputs_and_table(stage: str) -> None:
    outputs = deploy(stage)

    described = boto3.client("dynamodb").describe_table(TableName=f"qungui-{stage}")["Table"]
    assert outputs == {
        "QunguiTable": f"qungui-{stage}",
        "QunguiTableArn": described["TableArn"],
        "QunguiTableStreamArn": described["LatestStreamArn"],
        "QunguiSsmPrefix": f"/qungui/{stage}",
    }
    assert described["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert outputs["QunguiTableStreamArn"].startswith(f"{described['TableArn']}/stream/")
    exports = {e["Name"]: e["Value"] for e in boto3.client("cloudformation").list_exports()["Exports"]}
    assert exports == {f"{stack_name(stage, 'tables')}-{key}": value for key, value in outputs.items()}

    assert described_shape(described) == model_shape(Item)
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert described["DeletionProtectionEnabled"] is (stage == "prod")


@pytest.mark.usefixtures("aws")
def test_stream_carries_new_items_whole() -> None:
    # What the outbox stream handler will receive: an INSERT record with the item's new image.
    outputs = deploy("dev")
    TenantRecord(
        keys.tenant_pk("acme"),
        keys.tenant_profile_sk(),
        corp_id="ww0123456789abcdef",
        secrets_parameter="/qungui/dev/tenants/acme",
        created_at=1_790_000_000,
        updated_at=1_790_000_000,
    ).save()

    # botocore 1.44 addresses Streams at <account>.streams-ddb.<region>.amazonaws.com, a host moto 5.2.5 does not
    # intercept; its classic host still routes to moto.
    streams = boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")
    shard = streams.describe_stream(StreamArn=outputs["QunguiTableStreamArn"])["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=outputs["QunguiTableStreamArn"], ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["eventName"] for r in records] == ["INSERT"]
    image = records[0]["dynamodb"]["NewImage"]
    assert (image["pk"], image["corp_id"]) == ({"S": keys.tenant_pk("acme")}, {"S": "ww0123456789abcdef"})
    assert "OldImage" not in records[0]["dynamodb"]


@pytest.mark.usefixtures("aws")
def test_models_read_and_write_the_stack_table() -> None:
    outputs = deploy("dev")
    # The models took their table name from QUNGUI_TABLE at import (tests/conftest.py sets it).
    assert all(model.Meta.table_name == outputs["QunguiTable"] for model in ALL_MODELS)
    enable_ttl(outputs["QunguiTable"], "expires_at")
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=outputs["QunguiTable"])["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", ttl_attribute_name(Item))

    # Base-table save/get.
    TenantRecord(
        keys.tenant_pk("acme"),
        keys.tenant_profile_sk(),
        corp_id="ww0123456789abcdef",
        secrets_parameter="/qungui/dev/tenants/acme",
        admins=["zhangsan"],
        created_at=1_790_000_000,
        updated_at=1_790_000_000,
    ).save()
    tenant = TenantRecord.get(keys.tenant_pk("acme"), keys.tenant_profile_sk())
    assert (tenant.corp_id, tenant.admins, tenant.timezone) == ("ww0123456789abcdef", ["zhangsan"], "Asia/Shanghai")

    expires_at = datetime.fromtimestamp(1_800_000_000, tz=UTC)
    # gsi1 (ALL projection): items come back whole, TTL included. keys.py has no due-index builder yet, so the keys
    # here are test values: this checks the index, not a key format.
    for sk, due_at in (("DUE#a", "1790000100"), ("DUE#b", "1790000200"), ("DUE#c", "1790000300")):
        Item(keys.tenant_pk("acme"), sk, gsi1pk="DUE", gsi1sk=f"{due_at}#{sk}", expires_at=expires_at).save()
    due = list(Item.due.query("DUE", Item.gsi1sk < "1790000250"))
    assert [item.sk for item in due] == ["DUE#a", "DUE#b"]
    assert [item.expires_at for item in due] == [expires_at, expires_at]
    raw = boto3.client("dynamodb").get_item(
        TableName=outputs["QunguiTable"], Key={"pk": {"S": keys.tenant_pk("acme")}, "sk": {"S": "DUE#a"}}
    )["Item"]
    assert raw["expires_at"] == {"N": "1800000000"}, "DynamoDB TTL only acts on a number of epoch seconds"

    # gsi2 (KEYS_ONLY): the sweep gets the keys of members inactive since a cutoff, oldest first, then loads them.
    for member, last_active in (("lisi", 1_790_000_300), ("wangwu", 1_790_000_100), ("zhaoliu", 1_790_000_500)):
        MemberActivity(
            keys.tenant_pk("acme"),
            keys.member_sk("wrchat1", member),
            tenant="acme",
            chat_id="wrchat1",
            member=member,
            last_active_at=last_active,
            gsi2pk=keys.activity_gsi_pk("acme", "wrchat1"),
            gsi2sk=keys.activity_gsi_sk(last_active, member),
        ).save()
    stale = list(
        MemberActivity.activity.query(
            keys.activity_gsi_pk("acme", "wrchat1"), MemberActivity.gsi2sk < keys.activity_gsi_sk(1_790_000_400, "")
        )
    )
    assert [(m.pk, m.sk) for m in stale] == [
        (keys.tenant_pk("acme"), keys.member_sk("wrchat1", "wangwu")),
        (keys.tenant_pk("acme"), keys.member_sk("wrchat1", "lisi")),
    ]
    loaded = {m.member: m.last_active_at for m in MemberActivity.batch_get([(m.pk, m.sk) for m in stale])}
    assert loaded == {"wangwu": 1_790_000_100, "lisi": 1_790_000_300}


# --- the stack and .chalice/config.json agree ------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("stage", STAGES)
def test_committed_config_env_matches_stack_outputs(stage: str) -> None:
    # The committed config.json holds only what is the same in every account and region; `make config` adds the
    # ARNs and URLs (tests/infra/test_render_config.py checks that every Output becomes its env var there).
    outputs = deploy(stage)
    env = stage_env(stage)

    for key in ("QunguiTable", "QunguiSsmPrefix"):
        assert env.get(env_name(key)) == outputs[key], f"{env_name(key)} must equal Output {key}"
    assert StageResources.committed_default(stage).environment.items() <= env.items()

    qungui_vars = {name for name in env if name.startswith("QUNGUI_")}
    assert {"QUNGUI_TABLE", "QUNGUI_SSM_PREFIX"} <= qungui_vars
    output_env_names = {env_name(key): key for key in outputs}
    for name in sorted(qungui_vars - NOT_FROM_STACK):
        assert name in output_env_names, f"{name} names no stack Output; add one, or list it in NOT_FROM_STACK"
        assert env[name] == outputs[output_env_names[name]]
    assert env["QUNGUI_STAGE"] == stage

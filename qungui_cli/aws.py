"""The CLI's access to a stage's DynamoDB table and SSM parameters, with AWS failures turned into CLI errors."""

from __future__ import annotations

import json
from typing import Any

from qungui_cli.errors import CliError


def _ssm() -> Any:
    import boto3

    return boto3.client("ssm")


def get_tenant_record(tenant_id: str) -> Any | None:
    from pynamodb.exceptions import DoesNotExist, PynamoDBException

    from chalicelib.store import keys
    from chalicelib.store.models import TenantRecord

    try:
        return TenantRecord.get(keys.tenant_pk(tenant_id), keys.tenant_profile_sk(), consistent_read=True)
    except DoesNotExist:
        return None
    except PynamoDBException as exc:
        raise CliError(f"cannot read the tenant table {TenantRecord.Meta.table_name}: {exc.msg}") from exc


def get_secrets_document(name: str) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        value = _ssm().get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return {"generation": 1, "current": {}, "previous": None}
        raise CliError(f"cannot read SSM parameter {name}: {exc}") from exc
    except BotoCoreError as exc:
        raise CliError(f"cannot reach SSM: {exc}") from exc
    document = json.loads(value)
    return document if isinstance(document, dict) else {"generation": 1, "current": {}, "previous": None}


def put_secrets_document(name: str, document: dict[str, Any]) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        _ssm().put_parameter(Name=name, Value=json.dumps(document), Type="SecureString", Overwrite=True)
    except (ClientError, BotoCoreError) as exc:
        raise CliError(f"cannot write SSM parameter {name}: {exc}") from exc


def delete_secrets_document(name: str) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        _ssm().delete_parameter(Name=name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ParameterNotFound":
            raise CliError(f"cannot delete SSM parameter {name}: {exc}") from exc
    except BotoCoreError as exc:
        raise CliError(f"cannot reach SSM: {exc}") from exc


def purge_partition(pk: str) -> int:
    """Delete every item of one partition (a tenant's data); returns how many were deleted."""
    from pynamodb.exceptions import PynamoDBException

    from chalicelib.store.models import Item

    erased = 0
    try:
        with Item.batch_write() as batch:
            for item in Item.query(pk, consistent_read=True):
                batch.delete(item)
                erased += 1
    except PynamoDBException as exc:
        raise CliError(f"purge stopped after {erased} items: {exc.msg}; run it again to finish") from exc
    return erased


def get_group_record(tenant: str, chat_id: str) -> Any | None:
    from pynamodb.exceptions import DoesNotExist, PynamoDBException

    from chalicelib.store import keys
    from chalicelib.store.models import GroupRecord

    try:
        return GroupRecord.get(keys.tenant_pk(tenant), keys.group_sk(chat_id), consistent_read=True)
    except DoesNotExist:
        return None
    except PynamoDBException as exc:
        raise CliError(f"cannot read groups: {exc.msg}") from exc


def list_group_records(tenant: str) -> list[Any]:
    from pynamodb.exceptions import PynamoDBException

    from chalicelib.store import keys
    from chalicelib.store.models import GroupRecord

    try:
        return list(GroupRecord.query(keys.tenant_pk(tenant), GroupRecord.sk.startswith(keys.group_sk(""))))
    except PynamoDBException as exc:
        raise CliError(f"cannot read groups: {exc.msg}") from exc

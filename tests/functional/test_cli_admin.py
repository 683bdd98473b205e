"""`qungui tenant remove [--purge]` and `qungui group add|list` against moto."""

from __future__ import annotations

import json

import boto3
import pytest
from conftest import NOW
from oracle import app_text

from chalicelib.store.models import DedupRecord, GroupRecord, Item, TenantRecord
from qungui_cli.main import main as qungui


def cli(*args: str) -> int:
    return qungui(["--stage", "dev", *args])


def test_group_add_and_list(tenant, capsys, tmp_path):
    policy = tmp_path / "group.yaml"
    policy.write_text("schema_version: 1\n")
    assert cli("group", "add", "wrABC", "--tenant", "acme", "--kind", "customer", "--name", "销售群") == 0
    assert cli("group", "add", "wrXYZ", "--tenant", "acme", "--kind", "appchat", "--policy", str(policy)) == 0
    assert cli("group", "add", "wrABC", "--tenant", "acme", "--ungoverned") == 0  # an update keeps kind and name
    capsys.readouterr()
    assert cli("group", "list", "--tenant", "acme", "--json") == 0
    groups = {group["chat_id"]: group for group in json.loads(capsys.readouterr().out)}
    listed = {key: groups["wrABC"][key] for key in ("chat_id", "kind", "governed", "name", "owner", "has_policy")}
    assert listed == {"chat_id": "wrABC", "kind": "customer", "governed": False, "name": "销售群", "owner": None,
                      "has_policy": False}  # fmt: skip
    assert groups["wrXYZ"]["has_policy"] is True
    assert GroupRecord.get("T#acme", "GROUP#wrXYZ").policy == "schema_version: 1\n"


@pytest.mark.parametrize(
    "args", [("group", "add", "wr1", "--tenant", "ghost"), ("group", "add", "bad id", "--tenant", "acme")]
)
def test_group_add_refuses_unknown_tenant_and_bad_ids(tenant, capsys, args):
    assert cli(*args) == 2
    assert capsys.readouterr().err.startswith("qungui: ")


def test_remove_disconnects_but_keeps_data(client, tenant, peer, directory):
    call = peer.app_post(app_text("u1", "帮助", NOW, 1), NOW)
    assert client.http.post(call.path, body=call.body).status_code == 200
    assert cli("tenant", "remove", "acme") == 0
    with pytest.raises(TenantRecord.DoesNotExist):
        TenantRecord.get("T#acme", "PROFILE")
    ssm = boto3.client("ssm")
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name="/qungui/dev/tenants/acme")
    assert DedupRecord.count("T#acme", DedupRecord.sk.startswith("DEDUP#")) == 1
    directory.forget("acme")  # another container, or this one after its cache expired
    assert client.http.post(call.path, body=call.body).status_code == 404


def test_purge_erases_everything_the_tenant_owns(client, tenant, peer, capsys):
    for msg_id in range(30):
        call = peer.app_post(app_text("u1", "帮助", NOW, msg_id), NOW)
        client.http.post(call.path, body=call.body)
    cli("group", "add", "wrABC", "--tenant", "acme")
    capsys.readouterr()
    assert cli("tenant", "remove", "acme", "--purge") == 0
    assert json.loads(capsys.readouterr().out)["purged_items"] == 31
    assert [item for item in Item.scan() if item.pk.startswith("T#acme")] == []
    assert cli("tenant", "remove", "acme", "--purge") == 0  # idempotent: finishing an interrupted purge

"""Tenant registration, re-keying and the trusted-domain file, through the CLI and the real routes."""

from __future__ import annotations

import json

import boto3
import pytest
from conftest import NOW, register
from oracle import AES_KEY, Peer, app_text

from chalicelib.store.models import TenantRecord
from qungui_cli.main import main as qungui

NEW_TOKEN = "NewToken2026"
NEW_AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"


def post(client, call):
    return client.http.post(call.path, headers={"Content-Type": "text/xml"}, body=call.body)


def test_show_masks_every_secret(tenant, capsys):
    capsys.readouterr()
    assert qungui(["--stage", "dev", "tenant", "show", "acme"]) == 0
    shown = capsys.readouterr().out
    view = json.loads(shown)
    assert view["corp_id"] == "ww1436e0e65a779aee"
    assert view["admins"] == ["boss", "deputy"]
    assert view["callback_paths"]["bot"] == "/wecom/acme/bot"
    for secret in ("app-secret", AES_KEY, "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo", "mp-secret"):
        assert secret not in shown


def test_secrets_live_in_ssm_securestring_not_in_dynamodb(tenant):
    parameter = boto3.client("ssm").get_parameter(Name="/qungui/dev/tenants/acme", WithDecryption=True)["Parameter"]
    assert parameter["Type"] == "SecureString"
    assert json.loads(parameter["Value"])["current"]["secret"] == "app-secret"
    raw = TenantRecord.get("T#acme", "PROFILE").to_simple_dict()
    assert "app-secret" not in json.dumps(raw)


def test_secret_options_read_at_file(table, tmp_path):
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("from-a-file\n")
    assert (
        qungui(
            [
                "--stage",
                "dev",
                "tenant",
                "add",
                "filed",
                "--corp-id",
                "wwf",
                "--token",
                "t1",
                "--aes-key",
                AES_KEY,
                "--secret",
                f"@{secret_file}",
            ]
        )
        == 0
    )
    value = boto3.client("ssm").get_parameter(Name="/qungui/dev/tenants/filed", WithDecryption=True)
    assert json.loads(value["Parameter"]["Value"])["current"]["secret"] == "from-a-file"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bad id!", "--corp-id", "c", "--token", "t", "--aes-key", AES_KEY], "tenant id"),
        (["x", "--corp-id", "c", "--token", "t", "--aes-key", "short"], "43"),
        (["x", "--corp-id", "c", "--token", "t" * 33, "--aes-key", AES_KEY], "Token"),
        (["x", "--corp-id", "c"], "needs --token, --aes-key"),
        (["x", "--corp-id", "c", "--token", "t", "--aes-key", AES_KEY, "--timezone", "Mars/Base"], "time zone"),
        (["x", "--corp-id", "c", "--token", "t", "--aes-key", AES_KEY, "--max-skew", "-1"], "max-skew"),
        (["x", "--corp-id", "c", "--token", "t", "--aes-key", AES_KEY, "--bot-token", "b"], "both"),
        (["x", "--corp-id", "c", "--token", "@/nonexistent/file", "--aes-key", AES_KEY], "cannot read"),
    ],
)
def test_bad_options_are_clear_cli_errors(table, capsys, args, message):
    assert qungui(["--stage", "dev", "tenant", "add", *args]) == 2
    error = capsys.readouterr().err
    assert error.startswith("qungui: ")
    assert message in error
    assert "Traceback" not in error


def test_show_unknown_tenant(table, capsys):
    assert qungui(["--stage", "dev", "tenant", "show", "ghost"]) == 2
    assert "unknown tenant" in capsys.readouterr().err


def test_readding_updates_and_keeps_what_was_not_given(tenant):
    assert qungui(["--stage", "dev", "tenant", "add", "acme", "--admins", "newboss", "--govern", "listed"]) == 0
    record = TenantRecord.get("T#acme", "PROFILE")
    assert (record.admins, record.govern, record.corp_id, record.agent_id) == (
        ["newboss"],
        "listed",
        "ww1436e0e65a779aee",
        1000002,
    )
    assert record.secrets_generation == 1  # no credential changed: not a re-key


def test_rekey_keeps_the_old_key_until_the_new_one_verifies(client, tenant, directory):
    old, new = Peer(), Peer(token=NEW_TOKEN, aes_key=NEW_AES_KEY)
    assert post(client, old.app_post(app_text("u", "帮助", NOW, 1), NOW)).status_code == 200  # caches the tenant

    assert qungui(["--stage", "dev", "tenant", "add", "acme", "--token", NEW_TOKEN, "--aes-key", NEW_AES_KEY]) == 0
    # Still cached with only the old key: the old key works, and the new one forces one refetch and works too.
    assert post(client, old.app_post(app_text("u", "帮助", NOW, 2), NOW)).status_code == 200
    assert post(client, new.app_post(app_text("u", "帮助", NOW, 3), NOW)).status_code == 200
    # The new key verified: the previous one is retired, everywhere (the tenant record says so).
    assert TenantRecord.get("T#acme", "PROFILE").previous_retired is True
    assert post(client, old.app_post(app_text("u", "帮助", NOW, 4), NOW)).status_code == 403


def test_old_key_accepted_until_confirmed_even_in_a_fresh_container(client, tenant, directory):
    assert qungui(["--stage", "dev", "tenant", "add", "acme", "--token", NEW_TOKEN, "--aes-key", NEW_AES_KEY]) == 0
    directory.forget("acme")
    old = Peer()
    assert post(client, old.app_post(app_text("u", "帮助", NOW, 5), NOW)).status_code == 200
    assert TenantRecord.get("T#acme", "PROFILE").previous_retired is False


def test_forged_signatures_do_not_refetch_more_than_once_per_interval(client, tenant, clock, secret_source):
    calls = []
    forger = Peer(token="Forged")
    post(client, Peer().app_post(app_text("u", "帮助", NOW, 6), NOW))  # warm the cache

    secret_source.provider().client.meta.events.register("before-call.ssm.GetParameter", lambda **_: calls.append(1))
    for msg_id in range(10):
        assert post(client, forger.app_post(app_text("u", "帮助", NOW, 100 + msg_id), NOW)).status_code == 403
    assert len(calls) == 1
    clock.now += 11
    post(client, forger.app_post(app_text("u", "帮助", NOW, 200), NOW))
    assert len(calls) == 2


def test_trusted_domain_verification_file(client, table, tmp_path):
    issued = tmp_path / "WW_verify_abCD1234.txt"
    issued.write_text("abCD1234")
    register("acme", "--verify-file", str(issued))
    response = client.http.get("/WW_verify_abCD1234.txt")
    assert (response.status_code, response.body) == (200, b"abCD1234")
    assert client.http.get("/WW_verify_other.txt").status_code == 404
    assert client.http.get("/favicon.ico").status_code == 404

"""`qungui tenant add|show`: tenant settings into DynamoDB, secrets into SSM SecureString.

Re-adding a tenant updates it; options left out keep their stored values. Changing any callback credential (token or
EncodingAESKey of any channel) is a re-key: the old credentials are kept as `previous` and stay valid until a
callback verifies with the new ones, so the WeCom console and qungui can be switched in either order.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from qungui_cli.errors import CliError

SECRET_OPTIONS = {
    "token": "token",
    "aes_key": "aes_key",
    "secret": "secret",
    "bot_token": "bot_token",
    "bot_aes_key": "bot_aes_key",
    "mp_token": "mp_token",
    "mp_aes_key": "mp_aes_key",
    "mp_secret": "mp_secret",
    "archive_secret": "archive_secret",
}
CALLBACK_CREDENTIALS = ("token", "aes_key", "bot_token", "bot_aes_key", "mp_token", "mp_aes_key")
_AES_KEY = re.compile(r"^[A-Za-z0-9]{43}$")
_TOKEN = re.compile(r"^[A-Za-z0-9]{1,32}$")
_CORP_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def register(subparsers: Any) -> None:
    tenant = subparsers.add_parser("tenant", help="register and inspect tenants (enterprises)")
    actions = tenant.add_subparsers(dest="action", required=True)

    add = actions.add_parser("add", help="register a tenant, or update it (a changed token/key is a re-key)")
    add.add_argument("tenant_id")
    add.add_argument("--corp-id")
    add.add_argument("--agent-id", type=int)
    add.add_argument("--token", help="callback Token (or @FILE)")
    add.add_argument("--aes-key", help="callback EncodingAESKey, 43 characters (or @FILE)")
    add.add_argument("--secret", help="the app's Secret, for outbound calls (or @FILE)")
    add.add_argument("--admins", help="comma-separated UserIDs of the tenant's admins")
    add.add_argument("--bot-token", help="intelligent bot Token (or @FILE)")
    add.add_argument("--bot-aes-key", help="intelligent bot EncodingAESKey (or @FILE)")
    add.add_argument("--mp-app-id", help="Official Account AppID")
    add.add_argument("--mp-token", help="Official Account Token (or @FILE)")
    add.add_argument("--mp-aes-key", help="Official Account EncodingAESKey (or @FILE)")
    add.add_argument("--mp-secret", help="Official Account AppSecret (or @FILE)")
    add.add_argument(
        "--archive-secret", help="the chat archive's (会话内容存档) Secret, to read internal groups (or @FILE)"
    )
    add.add_argument("--mp-mode", choices=("plain", "safe"))
    add.add_argument("--mp-template-id", help="template message for followers outside the 48 h service window")
    add.add_argument(
        "--robot",
        action="append",
        metavar="NAME=KEY",
        help="a group robot's webhook key (or NAME=@FILE); repeatable; NAME= with no key removes it",
    )
    add.add_argument("--max-skew", type=int, help="allowed callback timestamp skew in seconds; 0 = off")
    add.add_argument("--govern", choices=("all", "listed"))
    add.add_argument("--timezone")
    add.add_argument("--retention-days", type=int, help="keep ledger evidence excerpts this long (default 180)")
    add.add_argument("--verify-file", help="the WW_verify_*.txt file WeCom issued for 可信域名 verification")
    add.set_defaults(handler=add_tenant)

    show = actions.add_parser("show", help="print a tenant as JSON, secrets masked")
    show.add_argument("tenant_id")
    show.set_defaults(handler=show_tenant)

    remove = actions.add_parser("remove", help="disconnect a tenant (callbacks get 404); --purge erases its data")
    remove.add_argument("tenant_id")
    remove.add_argument("--purge", action="store_true", help="also erase every item the tenant owns (irreversible)")
    remove.set_defaults(handler=remove_tenant)


def read_secret(value: str | None) -> str | None:
    """`@FILE` reads the secret from a file (first line, stripped), so it need not sit in shell history."""
    if value is None or not value.startswith("@"):
        return value
    path = Path(value[1:])
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise CliError(f"cannot read secret file {path}: {exc.strerror}") from exc


def mask(value: str) -> str:
    if not value:
        return ""
    return value[:2] + "…" + f"({len(value)} chars)" if len(value) > 6 else "…" + f"({len(value)} chars)"


def _validate(args: argparse.Namespace, secrets: dict[str, str]) -> None:
    from chalicelib.tenants import TENANT_ID

    if not TENANT_ID.match(args.tenant_id):
        raise CliError("tenant id: 1-64 letters, digits, '-' or '_', starting with a letter or digit")
    if args.corp_id is not None and not _CORP_ID.match(args.corp_id):
        raise CliError("--corp-id: expected a CorpID such as ww1436e0e65a779aee")
    for name in ("aes_key", "bot_aes_key", "mp_aes_key"):
        if secrets.get(name) and not _AES_KEY.match(secrets[name]):
            raise CliError(f"--{name.replace('_', '-')}: an EncodingAESKey is exactly 43 letters or digits")
    for name in ("token", "bot_token", "mp_token"):
        if secrets.get(name) and not _TOKEN.match(secrets[name]):
            raise CliError(f"--{name.replace('_', '-')}: a Token is 1-32 letters or digits")
    if args.retention_days is not None and not 1 <= args.retention_days <= 3650:
        raise CliError("--retention-days: 1 to 3650")
    if args.max_skew is not None and args.max_skew < 0:
        raise CliError("--max-skew: seconds, 0 or more (0 turns the check off)")
    if args.timezone is not None:
        try:
            ZoneInfo(args.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CliError(f"--timezone: unknown time zone {args.timezone!r}") from exc


def add_tenant(args: argparse.Namespace) -> int:
    from chalicelib.config import Settings
    from chalicelib.store import keys
    from chalicelib.store.models import TenantRecord, VerifyCode
    from chalicelib.tenants import secrets_parameter_name
    from qungui_cli import aws

    given = {name: read_secret(getattr(args, option)) for option, name in SECRET_OPTIONS.items()}
    given_secrets = {name: value for name, value in given.items() if value is not None}
    _validate(args, given_secrets)
    settings = Settings.from_env()
    parameter = secrets_parameter_name(settings, args.tenant_id)
    record = aws.get_tenant_record(args.tenant_id)
    now = int(time.time())
    is_new = record is None
    if record is None:
        missing = [
            flag
            for flag, value in (
                ("--corp-id", args.corp_id),
                ("--token", given["token"]),
                ("--aes-key", given["aes_key"]),
            )
            if not value
        ]
        if missing:
            raise CliError(f"a new tenant needs {', '.join(missing)}")
        record = TenantRecord(
            keys.tenant_pk(args.tenant_id),
            keys.tenant_profile_sk(),
            corp_id=args.corp_id,
            secrets_parameter=parameter,
            created_at=now,
            updated_at=now,
        )
        document: dict[str, Any] = {"generation": 1, "current": {}, "previous": None}
    else:
        document = aws.get_secrets_document(record.secrets_parameter)

    current = dict(document.get("current") or {})
    merged = {**current, **given_secrets}
    if bool(merged.get("bot_token")) != bool(merged.get("bot_aes_key")):
        raise CliError("the bot channel needs both --bot-token and --bot-aes-key")
    rekey = not is_new and any(current.get(n, "") != merged.get(n, "") for n in CALLBACK_CREDENTIALS)
    if rekey:
        document = {
            **document,
            "generation": int(document.get("generation", 1)) + 1,
            "current": merged,
            "previous": current,
        }
    else:
        document = {**document, "current": merged}

    if args.robot:
        document["robots"] = _robots(dict(document.get("robots") or {}), args.robot)
    _apply_settings(record, args, now)
    record.bot_enabled = bool(merged.get("bot_token"))
    if rekey:
        record.secrets_generation = document["generation"]
        record.previous_retired = False
    if args.verify_file:
        code, content = _verify_file(args.verify_file)
        record.verify_code = code
        VerifyCode(keys.verify_code_pk(code), keys.verify_code_sk(), tenant=args.tenant_id, content=content).save()
    # SSM first: a tenant record never points at secrets that are not there yet.
    aws.put_secrets_document(parameter, document)
    record.save()
    print(json.dumps(_public_view(record, document), ensure_ascii=False, indent=2))
    return 0


def _robots(robots: dict[str, str], options: list[str]) -> dict[str, str]:
    for option in options:
        name, sep, key = option.partition("=")
        if not sep or not name.strip():
            raise CliError("--robot: expected NAME=KEY (the key from the robot's webhook URL)")
        key = read_secret(key) or ""
        if key:
            robots[name.strip()] = key.rsplit("key=", 1)[-1]  # a pasted webhook URL works too
        else:
            robots.pop(name.strip(), None)
    return robots


def _apply_settings(record: Any, args: argparse.Namespace, now: int) -> None:
    from chalicelib.store import keys

    if args.corp_id is not None:
        record.corp_id = args.corp_id
    if args.agent_id is not None:
        record.agent_id = args.agent_id
    if args.admins is not None:
        record.admins = [admin.strip() for admin in args.admins.split(",") if admin.strip()]
    for option in ("mp_app_id", "mp_mode", "mp_template_id", "max_skew", "govern", "timezone", "retention_days"):
        value = getattr(args, option)
        if value is not None:
            setattr(record, option, value)
    record.updated_at = now
    record.gsi1pk, record.gsi1sk = keys.tenants_gsi_pk(), record.pk


def _verify_file(path_text: str) -> tuple[str, str]:
    from chalicelib.verify_files import code_of

    path = Path(path_text)
    code = code_of(path.name)
    if code is None:
        raise CliError("--verify-file: expected the file WeCom issued, named WW_verify_<code>.txt")
    try:
        return code, path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from exc


def show_tenant(args: argparse.Namespace) -> int:
    from qungui_cli import aws

    record = aws.get_tenant_record(args.tenant_id)
    if record is None:
        raise CliError(f"unknown tenant {args.tenant_id!r}")
    document = aws.get_secrets_document(record.secrets_parameter)
    print(json.dumps(_public_view(record, document), ensure_ascii=False, indent=2))
    return 0


def _public_view(record: Any, document: dict[str, Any]) -> dict[str, Any]:
    tenant_id = record.pk.split("#", 1)[1]
    current = document.get("current") or {}
    return {
        "id": tenant_id,
        "corp_id": record.corp_id,
        "agent_id": int(record.agent_id) if record.agent_id is not None else None,
        "admins": list(record.admins or []),
        "secrets": {name: mask(current.get(name, "")) for name in SECRET_OPTIONS.values() if current.get(name)},
        "secrets_generation": int(record.secrets_generation),
        "previous_secrets_accepted": not record.previous_retired and bool(document.get("previous")),
        "bot_enabled": bool(record.bot_enabled),
        "mp_app_id": record.mp_app_id,
        "mp_mode": record.mp_mode,
        "mp_template_id": record.mp_template_id,
        "robots": sorted(document.get("robots") or {}),
        "max_skew": int(record.max_skew),
        "govern": record.govern,
        "timezone": record.timezone,
        "retention_days": int(record.retention_days),
        "verify_file": f"WW_verify_{record.verify_code}.txt" if record.verify_code else None,
        "callback_paths": {
            "app": f"/wecom/{tenant_id}/callback",
            "bot": f"/wecom/{tenant_id}/bot",
            "mp": f"/mp/{tenant_id}/callback",
        },
    }


def remove_tenant(args: argparse.Namespace) -> int:
    from chalicelib.store import keys
    from chalicelib.store.models import VerifyCode
    from qungui_cli import aws

    record = aws.get_tenant_record(args.tenant_id)
    if record is None and not args.purge:
        raise CliError(f"unknown tenant {args.tenant_id!r}")
    if record is not None:
        aws.delete_secrets_document(record.secrets_parameter)
        if record.verify_code:
            VerifyCode(keys.verify_code_pk(record.verify_code), keys.verify_code_sk()).delete()
        record.delete()
    erased = aws.purge_partition(keys.tenant_pk(args.tenant_id)) if args.purge else 0
    summary = {"removed": args.tenant_id, "purged_items": erased if args.purge else None}
    if not args.purge:
        summary["kept"] = "ledger, groups and activity stay for audit; `--purge` erases them"
    print(json.dumps(summary, ensure_ascii=False))
    return 0

"""`qungui policy validate|apply|show`: a rulebook as data, checked with line numbers before anything runs it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from qungui_cli.errors import CliError


def register(subparsers: Any) -> None:
    policy = subparsers.add_parser("policy", help="validate, apply and show policies")
    actions = policy.add_subparsers(dest="action", required=True)
    validate = actions.add_parser("validate", help="check a policy file; errors name their line")
    validate.add_argument("file")
    validate.set_defaults(handler=validate_policy, needs_target=False)
    apply = actions.add_parser("apply", help="make a policy the tenant's default, or one group's override")
    apply.add_argument("file")
    apply.add_argument("--tenant", required=True)
    apply.add_argument("--group", help="apply as this group's override, merged onto the tenant's default")
    apply.set_defaults(handler=apply_policy)
    show = actions.add_parser("show", help="the policy a tenant (or one group) runs")
    show.add_argument("--tenant", required=True)
    show.add_argument("--group")
    show.add_argument("--json", action="store_true", help="the compiled document the Lambdas read")
    show.set_defaults(handler=show_policy)


def _parse(path_text: str, base: Any = None) -> tuple[str, Any]:
    from chalicelib.rules.policy import PolicyError, parse_policy

    path = Path(path_text)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return text, parse_policy(text, source=path.name, base=base)
    except PolicyError as exc:
        raise CliError(str(exc)) from exc


def validate_policy(args: argparse.Namespace) -> int:
    _, policy = _parse(args.file)
    print(json.dumps({"valid": True, "id": policy.id, "version": policy.version, "rules": len(policy.rules),
                      "unenforceable": len(policy.unenforceable)}, ensure_ascii=False))  # fmt: skip
    return 0


def _tenant_base(record: Any) -> Any:
    from chalicelib.rules.policy import default_policy, parse_policy

    return parse_policy(record.policy, source="tenant policy") if record.policy else default_policy()


def apply_policy(args: argparse.Namespace) -> int:
    from chalicelib.rules.policy import merge
    from chalicelib.rules.policy_compile import dumps
    from qungui_cli import aws

    record = aws.get_tenant_record(args.tenant)
    if record is None:
        raise CliError(f"unknown tenant {args.tenant!r}")
    if args.group:
        group = aws.get_group_record(args.tenant, args.group)
        if group is None:
            raise CliError(f"unknown group {args.group!r}: enrol it first with `qungui group add`")
        base = _tenant_base(record)
        text, override = _parse(args.file, base=base)
        group.policy = text
        group.policy_compiled = dumps(merge(base, override))
        group.save()
        applied = {"tenant": args.tenant, "group": args.group, "policy": override.id, "version": override.version}
    else:
        text, policy = _parse(args.file)
        record.policy = text
        record.policy_compiled = dumps(policy)
        record.save()
        applied = {"tenant": args.tenant, "policy": policy.id, "version": policy.version}
    print(json.dumps({"applied": applied}, ensure_ascii=False))
    return 0


def show_policy(args: argparse.Namespace) -> int:
    from chalicelib.rules import compiled
    from qungui_cli import aws

    record = aws.get_tenant_record(args.tenant)
    if record is None:
        raise CliError(f"unknown tenant {args.tenant!r}")
    source, document = record.policy, record.policy_compiled
    origin = f"tenant {args.tenant}" if source else "chalicelib/policies/default.yaml (shipped default)"
    if args.group:
        group = aws.get_group_record(args.tenant, args.group)
        if group is None:
            raise CliError(f"unknown group {args.group!r}")
        if group.policy:
            source, document, origin = group.policy, group.policy_compiled, f"group {args.group} override"
    if document is None:
        document = (compiled.COMPILED_DIR / "default.json").read_text(encoding="utf-8")
        source = (compiled.COMPILED_DIR.parent / "default.yaml").read_text(encoding="utf-8")
    if args.json:
        print(document.rstrip())
        return 0
    runtime = compiled.loads(document)
    print(f"# policy {runtime.id} version {runtime.version}, from {origin}")
    for rule in runtime.rules:
        print(f"#   {rule.id:<24} {rule.kind:<18} {rule.mode:<8} clause {rule.clause}")
    print(source.rstrip())
    return 0

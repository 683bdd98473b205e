"""Validated policy → the compiled document the request path reads (chalicelib.rules.compiled). Runs where pydantic
may be imported: `qungui policy apply`, and `python -m chalicelib.rules.policy_compile` to refresh the shipped files."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any

from chalicelib.rules.compiled import COMPILED_DIR, COMPILED_SCHEMA
from chalicelib.rules.policy import SEED_POLICIES, Action, Policy, RuleBase, shipped_policy

_COMMON = set(RuleBase.model_fields) | {"kind"}


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _act(rule: RuleBase, action: Action) -> dict[str, Any]:
    amount = rule.fine_amount(action) if action.type in ("fine", "red_packet") else None
    return {"type": action.type, "amount": _number(amount), "severity": action.severity}


def compile_rule(policy: Policy, rule: RuleBase) -> dict[str, Any]:
    params = {name: value for name, value in rule.model_dump(mode="json").items() if name not in _COMMON}
    return {
        "id": rule.id,
        "kind": rule.kind,  # type: ignore[attr-defined]
        "clause": rule.clause,
        "quote": policy.quote(rule),
        "mode": rule.mode,
        "ladder": [
            {"at": step.at, "do": [_act(rule, a) for a in step.do if isinstance(a, Action)]} for step in rule.ladder
        ],
        "confirm": rule.confirm,
        "amount": _number(rule.amount),
        "exempt_roles": list(rule.exemptions.roles),
        "exempt_userids": list(rule.exemptions.userids),
        "group_kinds": list(rule.group_kinds) if rule.group_kinds is not None else None,
        "params": params,
        "see_also": [[clause, policy.clause_text(clause)] for clause in rule.see_also],
    }


def compile_policy(policy: Policy) -> dict[str, Any]:
    return {
        "compiled_schema": COMPILED_SCHEMA,
        "id": policy.id,
        "version": policy.version,
        "effective": policy.rulebook.effective.isoformat() if policy.rulebook else None,
        "rules": [compile_rule(policy, rule) for rule in policy.rules],
        "escalation": policy.escalation.model_dump(mode="json") if policy.escalation else None,
        "alerts_to": list(policy.alerts.to) if policy.alerts else None,
        "alert_userids": list(policy.alerts.userids) if policy.alerts else None,
        "leaders": policy.leaders.model_dump(mode="json"),
        "digest": policy.digest.model_dump(mode="json"),
        "unenforceable": [entry.model_dump(mode="json") for entry in policy.unenforceable],
    }


def dumps(policy: Policy) -> str:
    return json.dumps(compile_policy(policy), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def shipped_documents() -> dict[str, str]:
    return {name: dumps(shipped_policy(name)) for name in ("default", *SEED_POLICIES)}


def main() -> int:
    COMPILED_DIR.mkdir(exist_ok=True)
    for name, text in shipped_documents().items():
        (COMPILED_DIR / f"{name}.json").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

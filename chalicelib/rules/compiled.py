"""The policy as the request path reads it: plain records built from a compiled JSON document.

Why a second shape: importing the pydantic policy model costs ~0.3 s (31 models' schemas), more than a whole cold
start's budget. So a policy is validated once, when it is applied (`qungui policy apply`, or the shipped default at
build time: chalicelib/policies/compiled/default.json), by chalicelib.rules.policy_compile, which writes this
document; Lambdas only read it. The document carries everything a rule needs: the resolved clause quote, the action
ladder as steps, and each kind's own parameters under `params`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from chalicelib.record import Record

COMPILED_DIR = Path(__file__).resolve().parents[1] / "policies" / "compiled"
COMPILED_SCHEMA = 1


class Act(Record):
    type: str  # remind | warn | fine | red_packet | alert_admins | remove_member
    amount: float | None = None
    severity: str = "normal"


class Rung(Record):
    at: int
    do: tuple[Act, ...]


class CompiledRule(Record):
    id: str
    kind: str
    clause: str
    quote: str
    mode: str  # enforce | shadow
    ladder: tuple[Rung, ...]
    confirm: str = "admin"
    amount: float | None = None
    exempt_roles: tuple[str, ...] = ()
    exempt_userids: tuple[str, ...] = ()
    group_kinds: tuple[str, ...] | None = None
    params: Any = None  # the kind's own parameters, as JSON (read with param())
    # Further clauses the rule also enforces, with their quotes (e.g. 2.3.2's how-to beside the naming rule 2.3.3).
    see_also: tuple[tuple[str, str], ...] = ()

    def actions_for(self, offence: int) -> tuple[Act, ...]:
        """What the `offence`-th offence (1-based, within the escalation window) does."""
        chosen: tuple[Act, ...] = ()
        for rung in self.ladder:
            if rung.at <= offence:
                chosen = rung.do
        return chosen

    def param(self, name: str, default: Any = None) -> Any:
        return (self.params or {}).get(name, default)

    def exempts(self, member: str, roles: frozenset[str]) -> bool:
        return member in self.exempt_userids or bool(roles & set(self.exempt_roles))


class CompiledPolicy(Record):
    id: str
    version: str
    rules: tuple[CompiledRule, ...]
    effective: str | None = None  # ISO date the rulebook takes effect, in the tenant's time zone; before it: shadow
    escalation: Any = None
    alerts_to: tuple[str, ...] = ("owner", "admin", "tenant_admin")
    alert_userids: tuple[str, ...] = ()
    leader_userids: tuple[str, ...] = ()
    leaders_from_directory: bool = True
    digest: Any = None  # {enabled, weekday (1 = Monday), at "HH:MM", to [roles]}
    # Clauses (or parts) no rule enforces, and why: {clause, part, reason, declarative}.
    unenforceable: tuple[Any, ...] = ()

    def in_force(self, at: int, timezone: str) -> bool:
        """Whether the rulebook is in force at `at`: from 00:00 of its effective date in the tenant's time zone."""
        if not self.effective:
            return True
        from datetime import UTC, datetime
        from zoneinfo import ZoneInfo

        local = datetime.fromtimestamp(at, tz=UTC).astimezone(ZoneInfo(timezone))
        return local.date().isoformat() >= self.effective

    def of_kind(self, kind: str) -> tuple[CompiledRule, ...]:
        return tuple(rule for rule in self.rules if rule.kind == kind)


def from_document(document: dict[str, Any]) -> CompiledPolicy:
    if document.get("compiled_schema") != COMPILED_SCHEMA:
        raise ValueError("not a compiled policy document of this version; re-apply the policy")
    return CompiledPolicy(
        id=str(document["id"]),
        version=str(document["version"]),
        rules=tuple(_rule(rule) for rule in document["rules"]),
        effective=document.get("effective"),
        escalation=document.get("escalation"),
        alerts_to=tuple(document.get("alerts_to") or ()),
        alert_userids=tuple(document.get("alert_userids") or ()),
        leader_userids=tuple((document.get("leaders") or {}).get("userids") or ()),
        leaders_from_directory=bool((document.get("leaders") or {}).get("from_directory", True)),
        digest=document.get("digest"),
        unenforceable=tuple(document.get("unenforceable") or ()),
    )


def _rule(data: dict[str, Any]) -> CompiledRule:
    ladder = tuple(
        Rung(at=int(step["at"]), do=tuple(Act(type=a["type"], amount=a.get("amount"),
                                                severity=a.get("severity", "normal")) for a in step["do"]))
        for step in data.get("ladder", ())
    )  # fmt: skip
    kinds = data.get("group_kinds")
    return CompiledRule(
        id=data["id"],
        kind=data["kind"],
        clause=data["clause"],
        quote=data.get("quote", ""),
        mode=data.get("mode", "enforce"),
        ladder=ladder,
        confirm=data.get("confirm", "admin"),
        amount=data.get("amount"),
        exempt_roles=tuple(data.get("exempt_roles", ())),
        exempt_userids=tuple(data.get("exempt_userids", ())),
        group_kinds=tuple(kinds) if kinds is not None else None,
        params=data.get("params") or {},
        see_also=tuple((str(clause), str(quote)) for clause, quote in data.get("see_also") or ()),
    )


def loads(text: str) -> CompiledPolicy:
    return from_document(json.loads(text))


@cache
def shipped(name: str = "default") -> CompiledPolicy:
    """A shipped policy, compiled at build time (tests/unit/test_policy_compile.py keeps the files current)."""
    return loads((COMPILED_DIR / f"{name}.json").read_text(encoding="utf-8"))

"""The policy model and its YAML loader: what a policy file may say, what it means, and how a broken file is reported
(with the line of the mistake, and without echoing confidential inputs)."""

from __future__ import annotations

import json
import textwrap
from datetime import date, time
from decimal import Decimal

import pytest
from pydantic import ValidationError

from chalicelib.rules.policy import (
    AckDeadlineRule,
    Action,
    ContentRule,
    ManualRule,
    Policy,
    PolicyError,
    Step,
    load_policy,
    parse_policy,
    shipped_policy,
)

HEAD = "schema_version: 1\nid: acme\nversion: 1\n"


def policy(body: str) -> Policy:
    return parse_policy(HEAD + textwrap.dedent(body), source="acme.yaml")


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(PolicyError) as raised:
        parse_policy(textwrap.dedent(text), source="broken.yaml")
    return [(p.line, p.path, p.message) for p in raised.value.problems]


def test_a_minimal_policy_gets_the_documented_defaults() -> None:
    minimal = policy("")

    assert (minimal.id, minimal.version, minimal.rules, minimal.rulebook) == ("acme", "1", (), None)
    assert minimal.alerts.to == ("owner", "admin", "tenant_admin")
    assert [(s.warnings, [a.type for a in s.do]) for s in minimal.escalation.steps] == [(3, ["alert_admins"])]
    assert (minimal.escalation.window_days, minimal.escalation.serious_counts_as) == (30, 2)
    assert (minimal.digest.enabled, minimal.digest.weekday, minimal.digest.at) == (True, 1, time(9, 0))


def test_action_shorthands_and_the_ladder() -> None:
    loaded = policy(
        """
        rules:
          - id: content.harmful
            kind: content
            clause: "1.3.5"
            categories: [pornography]
            actions: [{warn: serious}, {fine: 100}, alert_admins, {red_packet: 8.80}]
          - id: nickname.format
            kind: nickname_format
            clause: "2.3.3"
            pattern: "{department}-{name}"
            amount: 20
            actions:
              - {at: 1, do: [remind]}
              - {at: 3, do: [warn, fine]}
        """
    )
    flat, steps = loaded.rules

    assert (
        flat.actions_for(1)
        == flat.actions_for(7)
        == (
            Action(type="warn", severity="serious"),
            Action(type="fine", amount=Decimal(100)),
            Action(type="alert_admins"),
            Action(type="red_packet", amount=Decimal("8.80")),
        )
    )
    assert flat.ladder == (Step(at=1, do=flat.actions_for(1)),)
    assert [a.type for a in steps.actions_for(1)] == [a.type for a in steps.actions_for(2)] == ["remind"]
    assert [a.type for a in steps.actions_for(3)] == ["warn", "fine"]
    assert steps.fine_amount(steps.actions_for(5)[1]) == Decimal(20)
    assert steps.actions_for(0) == ()


def test_quote_uses_the_rulebook_unless_the_rule_overrides_it() -> None:
    loaded = policy(
        """
        rules:
          - {id: a, kind: manual, clause: "1.4.5", amount: 50, actions: [fine]}
          - {id: b, kind: manual, clause: "1.4.1", clause_text: 群里只谈公事。, actions: [warn]}
        """
    )
    a, b = loaded.rules

    assert loaded.quote(a).endswith("否则每次罚款50元。")
    assert loaded.quote(b) == "群里只谈公事。"
    assert loaded.rule("a") is a
    assert loaded.rules_of(ManualRule) == (a, b)
    with pytest.raises(KeyError):
        loaded.rule("missing")


def test_yaml_numbers_that_are_really_text_keep_their_text() -> None:
    # YAML 1.1 reads 3.10 as the float 3.1 and 18:00 as the integer 1080; neither may reach the model that way.
    loaded = policy(
        """
        rulebook: {id: 3, version: 1.0, effective: 2026-01-01}
        rules:
          - id: welcome
            kind: welcome
            clause: 3.10
            see_also: [3.5]
          - id: ack.task
            kind: ack_deadline
            clause: 1.4.2
            amount: 100
            actions: [fine]
            working_hours: {start: 8:30, end: 18:00, weekdays: [1, 2, 3, 4, 5, 6]}
        """
    )
    welcome, task = loaded.rules

    assert (welcome.clause, welcome.see_also) == ("3.10", ("3.5",))
    assert loaded.rulebook is not None
    assert (loaded.rulebook.id, loaded.rulebook.version) == ("3", "1.0")
    assert loaded.rulebook.effective == date(2026, 1, 1)
    assert isinstance(task, AckDeadlineRule)
    assert task.working_hours is not None
    assert (task.working_hours.start, task.working_hours.end) == (time(8, 30), time(18, 0))
    assert parse_policy("schema_version: 1\nid: a\nversion: 2.10\n").version == "2.10"


def test_custom_clauses_for_a_tenants_own_rulebook() -> None:
    loaded = policy(
        """
        rulebook: {id: acme-handbook, version: "2026.1", effective: 2026-03-01}
        clauses:
          acme.1: 群内禁止发布招聘广告。
        rules:
          - {id: content.ads, kind: content, clause: acme.1, categories: [ads], actions: [warn]}
        """
    )

    assert loaded.quote(loaded.rules[0]) == "群内禁止发布招聘广告。"
    override = parse_policy(
        "schema_version: 1\nid: g\nversion: 1\nrules: [{id: x, kind: manual, clause: acme.1, actions: [warn]}]\n",
        base=loaded,
    )
    assert override.rules[0].clause == "acme.1"


def test_shipped_policies_load_from_their_files() -> None:
    from chalicelib.policies import POLICY_DIR

    for path in sorted(POLICY_DIR.glob("*.yaml")):
        assert load_policy(path).id == path.stem


def test_models_are_immutable() -> None:
    rule = shipped_policy("art_elite").rule("ack.task")

    with pytest.raises(ValidationError):
        rule.deadline_minutes = 5  # type: ignore[misc]


# ------------------------------------------------------------------------------------------------- broken files


def test_unknown_clause_ids_are_rejected_with_their_line() -> None:
    found = problems(
        """\
        schema_version: 1
        id: acme
        version: 1
        rules:
          - id: a
            kind: manual
            clause: "9.9"
            actions: [warn]
          - id: b
            kind: manual
            clause: "1.4.1"
            see_also: ["1.4.9", acme.7]
            actions: [warn]
        unenforceable:
          - {clause: "1.6", reason: 无}
        """
    )

    assert found == [
        (7, "rules[0].clause", "unknown clause 9.9: rulebooks.md has no such id (got '9.9')"),
        (12, "rules[1].see_also[0]", "unknown clause 1.4.9: rulebooks.md has no such id (got '1.4.9')"),
        (15, "unenforceable[0].clause", "unknown clause 1.6: rulebooks.md has no such id (got '1.6')"),
    ]
    # Letter-led ids are the policy's own clauses: checked once the rest is valid.
    assert problems(HEAD + "rules: [{id: b, kind: manual, clause: acme.7, actions: [warn]}]\n") == [
        (4, "rules[0].clause", "unknown clause acme.7: not under clauses:")
    ]


def test_structural_mistakes_point_at_their_lines() -> None:
    found = problems(
        """\
        schema_version: 1
        id: acme
        version: 1
        rules:
          - id: content.harmful
            kind: content
            clause: "1.3.5"
            categories: [porn]
            actions: [wran]
            mode: enforced
          - id: d
            clause: "1.1"
          - id: e
            kind: mystery
            clause: "1.1"
        colour: blue
        """
    )

    assert [(line, path) for line, path, _ in found] == [
        (8, "rules[0].categories[0]"),
        (9, "rules[0].actions[0]"),
        (10, "rules[0].mode"),
        (11, "rules[1].kind"),
        (14, "rules[2].kind"),
        (16, "colour"),
    ]
    messages = dict(((line, message) for line, _, message in found))
    assert "'pornography'" in messages[8]
    assert "(got 'porn')" in messages[8]
    assert messages[10] == "Input should be 'enforce' or 'shadow' (got 'enforced')"
    assert messages[11].startswith("kind must be one of: content, ack_deadline,")
    assert messages[16] == "Extra inputs are not permitted (got 'blue')"


def test_cross_field_mistakes_point_at_the_field() -> None:
    found = problems(
        """\
        schema_version: 1
        id: acme
        version: 1
        rules:
          - id: ack.task
            kind: ack_deadline
            clause: "1.4.2"
            see_also: ["1.4.2"]
            remind_before_minutes: 40
            actions:
              - {at: 2, do: [warn]}
              - {at: 2, do: [fine]}
          - id: nick
            kind: nickname_format
            clause: "2.3.3"
            pattern: "{dept}-{name}"
            amount: 5
            actions: [remind, {at: 2, do: [warn]}]
          - id: ack.task
            kind: welcome
            clause: "3.10"
            actions: [remind]
        disable: [nick]
        """
    )

    assert found == [
        (8, "rules[0].see_also", "see_also repeats the rule's own clause"),
        (9, "rules[0].remind_before_minutes", "the reminder must come before the deadline"),
        (11, "rules[0].actions[0].at", "the first step must start at the first offence (at: 1)"),
        (12, "rules[0].actions[1].at", "steps must go up: each at above the one before"),
        (12, "rules[0].actions[1].do[0]", "a fine needs an amount: set amount on the rule or write fine: 100"),
        (16, "rules[1].pattern", "unknown placeholder 'dept' (known: name, department, position, company)"),
        (17, "rules[1].amount", "amount is set but no action fines"),
        (18, "rules[1].actions", "write either a list of actions or a list of steps ({at, do}), not both"),
        (22, "rules[2].actions", "welcome rules take no actions"),
        (22, "rules[2].actions[0]", "welcome rules cannot remind (allowed: none)"),
    ]
    # Once each rule is valid on its own, the policy-wide checks run.
    assert problems(
        HEAD
        + "rules:\n"
        + "  - {id: a, kind: manual, clause: '1.4.1', actions: [warn]}\n"
        + "  - {id: a, kind: manual, clause: '1.4.5', actions: [warn]}\n"
        + "disable: [a]\n"
    ) == [
        (6, "rules[1].id", "rule id a is used twice"),
        (7, "disable[0]", "a is both disabled and defined in this file"),
    ]


def test_kind_specific_checks() -> None:
    found = problems(
        HEAD
        + textwrap.dedent(
            """\
            rules:
              - {id: a, kind: content, clause: "1.3.5", actions: [warn], links: {allow_domains: ["http://x"]}}
              - {id: b, kind: join_eligibility, clause: "4.3.5", actions: [alert_admins]}
              - {id: c, kind: required_members, clause: "1.2.2", leaders: true, actions: [{fine: 10}]}
              - {id: d, kind: inactivity, clause: "3.7", months: 3, remind_after_months: [1, 3], actions: [remind]}
              - {id: e, kind: nickname_format, clause: "3.6", pattern: "{name}", regex: ".*", actions: [remind]}
              - {id: f, kind: voice_budget, clause: "4.3.4", per_week: 0, actions: [remind]}
              - {id: g, kind: ack_deadline, clause: "2.3.5", actions: [warn], working_hours: {start: 18:00, end: 9:00}}
            """
        )
    )

    assert found == [
        (
            5,
            "rules[0].links.allow_domains[0]",
            "not a domain name: write example.com (subdomains are included) (got 'http://x')",
        ),
        (6, "rules[1].external", "this rule admits everyone: name departments, tags or userids"),
        (7, "rules[2].actions[0]", "required_members rules cannot fine (allowed: alert_admins, remind)"),
        (8, "rules[3].remind_after_months[1]", "a reminder must come before months"),
        (9, "rules[4].pattern", "give exactly one of pattern and regex"),
        (10, "rules[5].per_week", "Input should be greater than or equal to 1 (got '0')"),
        (11, "rules[6].working_hours.end", "end must be after start"),
    ]
    found = problems(HEAD + "rules:\n  - {id: a, kind: content, clause: '1.3.5', actions: [warn]}\n")
    assert found == [(5, "rules[0].categories", "name at least one category or some extra_terms")]


def test_dates_not_instants() -> None:
    found = problems(HEAD + "rulebook: {id: '1', version: '1', effective: 2026-01-01T00:00:00+08:00}\n")

    assert [(line, path) for line, path, _ in found] == [(4, "rulebook.effective")]
    assert found[0][2].startswith("write a calendar date (YYYY-MM-DD) without a time")
    found = problems(HEAD + "rulebook: {id: '7', version: '1', effective: 2026-01-01}\n")
    assert found == [(4, "rulebook.id", "unknown rulebook 7: rulebooks.md has no such id")]


def test_yaml_syntax_and_shape_errors() -> None:
    assert problems("schema_version: 1\nid: [unclosed\n") == [
        (3, "", "expected ',' or ']', but got '<stream end>' (column 1)")
    ]
    assert problems("schema_version: 1\nid: a\nid: b\nversion: 1\n") == [(3, "", "duplicate key 'id' (column 1)")]
    assert problems("- just\n- a list\n") == [(1, "", "a policy is a mapping: schema_version, id, version, rules, …")]
    assert problems("") == [(1, "", "a policy is a mapping: schema_version, id, version, rules, …")]
    assert problems("schema_version: 2\nid: a\nversion: 1\n") == [(1, "schema_version", "Input should be 1 (got '2')")]
    assert problems("id: a\n") == [(1, "schema_version", "Field required"), (1, "version", "Field required")]


def test_alias_bombs_are_refused() -> None:
    lines = ["a0: &a0 [x, x]"] + [f"a{n}: &a{n} [*a{n - 1}, *a{n - 1}]" for n in range(1, 40)]

    found = problems("\n".join(lines) + "\n")

    assert len(found) == 1
    assert found[0][2].startswith("too many aliases")


# ------------------------------------------------------------------------------------------- confidential inputs


def test_confidential_terms_and_message_text_are_never_echoed() -> None:
    secret = "青龙计划"
    text = HEAD + textwrap.dedent(
        f"""\
        rules:
          - id: content.confidential
            kind: content
            clause: "1.3.4"
            categories: [confidential]
            extra_terms:
              confidential: [{secret}, ["{secret}"], "{secret * 20}"]
              nonsense: [{secret}]
            allow_terms: [{{term: {secret}}}]
            actions: [warn]
          - id: w
            kind: welcome
            clause: "3.10"
            message: [{secret}]
        """
    )

    with pytest.raises(PolicyError) as raised:
        parse_policy(text, source="acme.yaml")

    report = str(raised.value)
    assert secret not in report
    assert {(p.line, p.path) for p in raised.value.problems} == {
        (10, "rules[0].extra_terms.confidential[1]"),
        (10, "rules[0].extra_terms.confidential[2]"),
        (11, "rules[0].extra_terms.nonsense"),
        (12, "rules[0].allow_terms[0]"),
        (17, "rules[1].message"),
    }
    # The model's own errors hide inputs too, for callers that validate data that never was YAML.
    with pytest.raises(ValidationError) as direct:
        ContentRule.model_validate(
            {"id": "a", "kind": "content", "clause": "1.3.4", "allow_terms": [secret * 20], "actions": ["warn"]}
        )
    assert secret not in str(direct.value)


def test_yaml_errors_do_not_quote_the_file() -> None:
    secret = "青龙计划"

    with pytest.raises(PolicyError) as raised:
        parse_policy(HEAD + f"clauses:\n  acme.1: {secret}\n   bad: indentation {secret}\n")

    assert secret not in str(raised.value)
    assert raised.value.problems[0].line == 6


def test_policy_error_reads_as_file_line_path_message() -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(HEAD + "rules:\n  - {id: a, kind: manual, clause: '9.9', actions: [warn]}\n", source="g.yaml")

    assert (
        str(raised.value)
        == "g.yaml: line 5: rules[0].clause: unknown clause 9.9: rulebooks.md has no such id (got '9.9')"
    )


@pytest.mark.parametrize("name", ["default", "art_elite", "jiushen", "classmates_575", "anhui_chamber"])
def test_policies_round_trip_through_json(name: str) -> None:
    # A policy applied to a tenant is stored as JSON; reading it back must give the same policy.
    shipped = shipped_policy(name)

    for dumped in (shipped.model_dump(mode="json"), shipped.model_dump(mode="json", exclude_defaults=True)):
        assert Policy.model_validate(json.loads(json.dumps(dumped))) == shipped

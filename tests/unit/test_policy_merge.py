"""merge(tenant default, group override): rules by id (wholesale), disable, sections replaced wholesale when set,
clauses and unenforceable entries by key, and a version that names both files."""

from __future__ import annotations

import textwrap

import pytest

from chalicelib.rules.policy import (
    ContentRule,
    Policy,
    PolicyError,
    default_policy,
    merge,
    parse_policy,
    shipped_policy,
)

BASE = """\
schema_version: 1
id: acme
version: 3
name: 艾克美默认群规
clauses:
  acme.1: 禁止发布招聘广告。
  acme.2: 旧的第二条。
alerts: {to: [owner], userids: [hr01]}
escalation:
  window_days: 14
  steps: [{warnings: 2, do: [alert_admins]}]
rules:
  - {id: content.harmful, kind: content, clause: "1.3.5", categories: [pornography, gambling], actions: [warn]}
  - {id: content.ads, kind: content, clause: acme.1, categories: [ads], actions: [remind]}
  - {id: nickname.format, kind: nickname_format, clause: "1.2.3", pattern: "{name}", actions: [remind]}
unenforceable:
  - {clause: "1.2.4", reason: 看不到头像。}
  - {clause: "1.3.4", part: 转发给非相关人员, reason: 看不到转发。}
"""


def parse(text: str, base: Policy | None = None) -> Policy:
    return parse_policy(textwrap.dedent(text), base=base)


@pytest.fixture
def base() -> Policy:
    return parse(BASE)


def test_an_empty_override_changes_nothing_but_the_name_of_the_result(base: Policy) -> None:
    merged = merge(base, parse("schema_version: 1\nid: sales\nversion: 1\n"))

    assert (merged.id, merged.version) == ("acme+sales", "acme@3+sales@1")
    assert merged.model_dump(exclude={"id", "version"}) == base.model_dump(exclude={"id", "version"})


def test_rules_merge_by_id_wholesale_in_place_new_ones_last(base: Policy) -> None:
    override = parse(
        """\
        schema_version: 1
        id: sales
        version: 1
        rules:
          - id: nickname.format
            kind: nickname_format
            clause: "2.3.3"
            pattern: "{department}-{name}"
            actions: [warn]
          - {id: content.drugs, kind: content, clause: "3.8", categories: [drugs], actions: [warn]}
          - {id: content.ads, kind: content, clause: acme.1, mode: shadow, categories: [ads], actions: [remind]}
        """,
        base=base,
    )

    merged = merge(base, override)

    assert [rule.id for rule in merged.rules] == ["content.harmful", "content.ads", "nickname.format", "content.drugs"]
    assert merged.rule("nickname.format") == override.rule("nickname.format")
    assert merged.rule("content.ads").mode == "shadow"  # replaced whole: an override states the full rule
    assert merged.rule("content.harmful") == base.rule("content.harmful")


def test_disable_drops_default_rules_and_ignores_ids_the_default_lacks(base: Policy) -> None:
    override = parse("schema_version: 1\nid: sales\nversion: 1\ndisable: [content.ads, content.gone]\n")

    merged = merge(base, override)

    assert [rule.id for rule in merged.rules] == ["content.harmful", "nickname.format"]
    assert merged.disable == ()


def test_sections_set_by_the_override_replace_the_defaults_wholesale(base: Policy) -> None:
    override = parse(
        """\
        schema_version: 1
        id: sales
        version: 1
        name: 销售群
        alerts: {to: [admin]}
        rulebook: {id: "2", version: "1", effective: 2026-06-01}
        """
    )

    merged = merge(base, override)

    assert merged.name == "销售群"
    assert (merged.alerts.to, merged.alerts.userids) == (("admin",), ())  # not merged field by field
    assert merged.rulebook == override.rulebook
    assert merged.escalation == base.escalation  # not set by the override: the default's stands
    assert merged.escalation.window_days == 14


def test_clauses_and_unenforceable_entries_merge_by_key(base: Policy) -> None:
    override = parse(
        """\
        schema_version: 1
        id: sales
        version: 1
        clauses:
          acme.2: 新的第二条。
          sales.1: 销售群只谈销售。
        unenforceable:
          - {clause: "1.2.4", reason: 新的理由。}
          - {clause: "2.3.8", reason: 看不到朋友圈。}
        """
    )

    merged = merge(base, override)

    assert merged.clauses == {"acme.1": "禁止发布招聘广告。", "acme.2": "新的第二条。", "sales.1": "销售群只谈销售。"}
    assert [(e.clause, e.part, e.reason) for e in merged.unenforceable] == [
        ("1.2.4", None, "新的理由。"),
        ("1.3.4", "转发给非相关人员", "看不到转发。"),
        ("2.3.8", None, "看不到朋友圈。"),
    ]


def test_an_override_may_cite_the_defaults_own_clauses_only_when_validated_against_it(base: Policy) -> None:
    text = "schema_version: 1\nid: sales\nversion: 1\nrules: [{id: x, kind: manual, clause: acme.1, actions: [warn]}]\n"

    with pytest.raises(PolicyError) as raised:
        parse(text)
    assert [(p.line, p.path) for p in raised.value.problems] == [(4, "rules[0].clause")]
    merged = merge(base, parse(text, base=base))
    assert merged.quote(merged.rule("x")) == "禁止发布招聘广告。"


def test_merging_is_not_commutative_and_keeps_both_inputs_intact(base: Policy) -> None:
    override = parse("schema_version: 1\nid: sales\nversion: 1\ndisable: [content.harmful]\n")
    before = base.model_dump()

    merge(base, override)

    assert base.model_dump() == before
    assert [r.id for r in merge(override, base).rules] == [r.id for r in base.rules]


def test_seed_over_default() -> None:
    merged = merge(default_policy(), shipped_policy("art_elite"))

    assert (merged.id, merged.version) == ("default+art_elite", "default@1+art_elite@1")
    assert merged.rulebook == shipped_policy("art_elite").rulebook
    assert merged.rule("content.harmful") == shipped_policy("art_elite").rule("content.harmful")
    assert merged.rule("content.insults").mode == "enforce"  # the default runs it in shadow
    harmful = merged.rule("content.harmful")
    assert isinstance(harmful, ContentRule)
    assert merged.quote(harmful).startswith("严禁在群内发布色情、赌博、病毒链接")
    assert merged.escalation == default_policy().escalation

"""What a policy can enforce in each kind of group (DESIGN.md §1), as the pure assessment `qungui group list` shows."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.rules import enforceability
from chalicelib.rules.compiled import Act, CompiledPolicy, CompiledRule, Rung, shipped
from chalicelib.rules.enforceability import (
    ENFORCED,
    FACTS,
    GROUP_KINDS,
    NOT_APPLICABLE,
    PARTIAL,
    SHADOW,
    STATUSES,
    UNENFORCEABLE,
    assess,
)
from chalicelib.rules.policy import RULE_KINDS, SEED_POLICIES
from chalicelib.texts import enforceability as texts

KINDS = ("customer", "appchat", "internal")


def rule(
    kind: str,
    *acts: str,
    mode: str = "enforce",
    group_kinds: tuple[str, ...] | None = None,
    rule_id: str = "",
    **params: Any,
) -> CompiledRule:
    return CompiledRule(
        id=rule_id or f"r.{kind}",
        kind=kind,
        clause="1.2.3",
        quote="",
        mode=mode,
        ladder=(Rung(at=1, do=tuple(Act(type=act) for act in acts or ("warn",))),),
        group_kinds=group_kinds,
        params=params,
    )


def policy(*rules: CompiledRule, **fields: Any) -> CompiledPolicy:
    return CompiledPolicy(id="t", version="1", rules=rules, **fields)


def one(compiled_rule: CompiledRule, kind: str, *, bot_enabled: bool = True) -> enforceability.RuleAssessment:
    return assess(policy(compiled_rule), kind, bot_enabled=bot_enabled).rule(compiled_rule.id)


# The facts of DESIGN.md §1 as this release can act on them, written out independently of the module's table:
# (rule kind, group kind) -> (status with the intelligent bot, status without it).
EXPECTED = {
    ("content", "customer"): (PARTIAL, UNENFORCEABLE),
    ("content", "appchat"): (UNENFORCEABLE, UNENFORCEABLE),
    ("content", "internal"): (PARTIAL, UNENFORCEABLE),
    **{("voice_budget", kind): (UNENFORCEABLE, UNENFORCEABLE) for kind in KINDS},
    ("nickname_format", "customer"): (ENFORCED, ENFORCED),
    ("nickname_format", "appchat"): (UNENFORCEABLE, UNENFORCEABLE),
    ("nickname_format", "internal"): (UNENFORCEABLE, UNENFORCEABLE),
    **{
        (rule_kind, kind): (ENFORCED, ENFORCED)
        for rule_kind in ("join_eligibility", "welcome", "required_members")
        for kind in KINDS
    },
    ("quit", "customer"): (ENFORCED, ENFORCED),
    ("quit", "appchat"): (PARTIAL, PARTIAL),
    ("quit", "internal"): (PARTIAL, PARTIAL),
    ("group_name", "customer"): (PARTIAL, PARTIAL),
    ("group_name", "appchat"): (ENFORCED, ENFORCED),
    ("group_name", "internal"): (PARTIAL, PARTIAL),
    **{
        (job, kind): (UNENFORCEABLE, UNENFORCEABLE)
        for job in ("ack_deadline", "notice_reply", "inactivity")
        for kind in KINDS
    },
    **{("manual", kind): (ENFORCED, ENFORCED) for kind in KINDS},
}


def test_the_table_has_a_row_for_every_rule_kind_and_a_cell_for_every_group_kind():
    assert set(FACTS) == set(RULE_KINDS)
    assert GROUP_KINDS == KINDS
    assert all(set(row) == set(KINDS) for row in FACTS.values())
    assert set(EXPECTED) == {(rule_kind, kind) for rule_kind in RULE_KINDS for kind in KINDS}


@pytest.mark.parametrize("bot_enabled", [True, False], ids=["bot", "no-bot"])
@pytest.mark.parametrize(("rule_kind", "kind"), sorted(EXPECTED))
def test_each_rule_kind_in_each_group_kind(rule_kind, kind, bot_enabled):
    assessed = one(rule(rule_kind), kind, bot_enabled=bot_enabled)
    assert assessed.status == EXPECTED[rule_kind, kind][0 if bot_enabled else 1]
    assert (assessed.reason == "") == (assessed.status == ENFORCED)
    assert (assessed.rule_id, assessed.kind, assessed.clause, assessed.mode) == (
        f"r.{rule_kind}",
        rule_kind,
        "1.2.3",
        "enforce",
    )


@pytest.mark.parametrize("kind", ["customer", "internal"])
def test_content_is_seen_only_when_the_bot_is_mentioned(kind):
    assert one(rule("content"), kind).reason == texts.CONTENT_BOT_ONLY
    assert "@群规助手" in texts.CONTENT_BOT_ONLY
    assert "会话存档" in texts.CONTENT_BOT_ONLY
    without = one(rule("content"), kind, bot_enabled=False)
    assert without.reason == texts.CONTENT_NO_BOT
    assert "智能机器人" in without.reason


def test_app_created_groups_messages_never_reach_the_app_bot_or_not():
    for bot_enabled in (True, False):
        assert one(rule("content"), "appchat", bot_enabled=bot_enabled).reason == texts.CONTENT_APPCHAT
    assert "会话存档" in texts.CONTENT_APPCHAT


@pytest.mark.parametrize("kind", KINDS)
def test_voice_is_only_in_the_archive_and_jobs_are_not_released(kind):
    assert "语音" in one(rule("voice_budget"), kind).reason
    assert "会话存档" in one(rule("voice_budget"), kind).reason
    for job in ("ack_deadline", "notice_reply", "inactivity"):
        assert one(rule(job), kind).reason == texts.NOT_RELEASED
        assert "尚未上线（后续版本）" in texts.NOT_RELEASED
    assert texts.MANUAL in one(rule("manual"), kind).notes


@pytest.mark.parametrize("kind", ["appchat", "internal"])
def test_nicknames_are_read_only_in_customer_groups(kind):
    assert one(rule("nickname_format"), "customer").reason == ""
    assert "群昵称" in one(rule("nickname_format"), kind).reason


def test_internal_group_membership_needs_the_archive_permission_as_a_condition():
    for rule_kind in ("join_eligibility", "welcome", "required_members", "quit", "group_name"):
        assert texts.MEMBERS_INTERNAL_NEEDS_ARCHIVE in one(rule(rule_kind), "internal").notes
        assert texts.MEMBERS_INTERNAL_NEEDS_ARCHIVE not in one(rule(rule_kind), "customer").notes
    assert "会话内容存档权限" in texts.MEMBERS_INTERNAL_NEEDS_ARCHIVE


def test_quit_outside_customer_groups_cannot_tell_how_the_member_left():
    assert one(rule("quit"), "customer").reason == ""
    for kind in ("appchat", "internal"):
        assert one(rule("quit"), kind).reason == texts.QUIT_HOW_UNKNOWN


def test_group_name_is_restored_only_in_app_created_groups():
    assert one(rule("group_name", "alert_admins"), "appchat").notes == ()
    assert one(rule("group_name"), "customer").reason == texts.NAME_ALERT_ONLY_CUSTOMER
    assert "改回" in texts.NAME_ALERT_ONLY_CUSTOMER
    assert one(rule("group_name"), "internal").reason == texts.NAME_ALERT_ONLY_INTERNAL
    no_restore = one(rule("group_name", restore=False), "appchat")
    assert (no_restore.status, no_restore.notes) == (ENFORCED, (texts.NAME_NO_RESTORE,))


@pytest.mark.parametrize("rule_kind", ["join_eligibility", "manual"])
def test_removal_is_done_by_the_app_only_in_app_created_groups(rule_kind):
    removing = rule(rule_kind, "alert_admins", "remove_member", external="deny")
    assert one(removing, "appchat").status == ENFORCED
    assert texts.REMOVE_BY_OWNER not in one(removing, "appchat").notes
    for kind in ("customer", "internal"):
        assessed = one(removing, kind)
        assert assessed.status == ENFORCED  # the rule still runs: the owner is asked to remove
        assert texts.REMOVE_BY_OWNER in assessed.notes
        assert "群主手动" in texts.REMOVE_BY_OWNER
    assert texts.REMOVE_BY_OWNER not in one(rule(rule_kind, "alert_admins"), "customer").notes


def test_a_removal_on_a_later_rung_counts_too():
    ladder = (Rung(at=1, do=(Act(type="alert_admins"),)), Rung(at=3, do=(Act(type="remove_member"),)))
    laddered = CompiledRule(id="r", kind="join_eligibility", clause="3.5", quote="", mode="enforce", ladder=ladder,
                            params={"external": "allow"})  # fmt: skip
    assert texts.REMOVE_BY_OWNER in one(laddered, "customer").notes


@pytest.mark.parametrize(("external", "noted"), [("allow", False), ("deny", True), ("match", True)])
def test_external_contact_conditions_matter_only_in_customer_groups(external, noted):
    eligibility = rule("join_eligibility", "alert_admins", external=external, tags=["会员"])
    assert texts.EXTERNAL_ONLY_IN_CUSTOMER not in one(eligibility, "customer").notes
    for kind in ("appchat", "internal"):
        assert (texts.EXTERNAL_ONLY_IN_CUSTOMER in one(eligibility, kind).notes) is noted


def test_a_rule_limited_to_other_kinds_of_group_does_not_apply_here():
    limited = rule("content", group_kinds=("customer",))
    assert one(limited, "customer").status == PARTIAL
    for kind in ("appchat", "internal"):
        assessed = one(limited, kind)
        assert (assessed.status, assessed.reason) == (NOT_APPLICABLE, "本策略规定此规则只用于客户群")
    two = one(rule("manual", group_kinds=("appchat", "internal")), "customer")
    assert two.reason == "本策略规定此规则只用于应用创建的群、内部群"
    assert one(rule("manual", group_kinds=("customer",), mode="shadow"), "appchat").status == NOT_APPLICABLE


def test_shadow_rules_apply_but_act_on_nobody():
    assessed = one(rule("content", mode="shadow"), "customer")
    assert (assessed.status, assessed.reason, assessed.mode) == (SHADOW, texts.SHADOW, "shadow")
    assert texts.limitation(texts.CONTENT_BOT_ONLY) in assessed.notes  # the limitation is still said
    assert one(rule("nickname_format", mode="shadow"), "customer").status == SHADOW
    assert one(rule("nickname_format", mode="shadow"), "customer").notes == ()
    # Nothing to observe where nothing is seen.
    assert one(rule("nickname_format", mode="shadow"), "appchat").status == UNENFORCEABLE
    assert one(rule("content", mode="shadow"), "customer", bot_enabled=False).status == UNENFORCEABLE


def test_a_rulebook_not_yet_in_effect_runs_every_rule_as_shadow():
    early = policy(rule("nickname_format"), rule("manual"), effective="2026-01-01")
    before = assess(early, "customer", bot_enabled=True, today="2025-12-31")
    assert [assessed.status for assessed in before.rules] == [SHADOW, SHADOW]
    assert before.rules[0].reason == texts.effective_from("2026-01-01")
    assert "2026-01-01" in before.rules[0].reason
    assert texts.effective_from("2026-01-01") in before.notes
    after = assess(early, "customer", bot_enabled=True, today="2026-01-01")
    assert [assessed.status for assessed in after.rules] == [ENFORCED, ENFORCED]
    assert after.notes == ()


def test_unknown_kind_asks_for_the_kind_except_where_the_answer_is_the_same_everywhere():
    rules = [rule(kind) for kind in ("nickname_format", "content", "quit", "manual", "ack_deadline", "voice_budget")]
    limited = rule("manual", group_kinds=("customer",), rule_id="r.limited")
    assessment = assess(policy(*rules, limited), "unknown", bot_enabled=True)
    by_id = {assessed.rule_id: assessed for assessed in assessment.rules}
    for rule_id in ("r.nickname_format", "r.content", "r.quit", "r.limited"):
        assert (by_id[rule_id].status, by_id[rule_id].reason) == (UNENFORCEABLE, texts.KIND_UNKNOWN)
    assert by_id["r.manual"].status == ENFORCED
    assert by_id["r.ack_deadline"].reason == texts.NOT_RELEASED
    assert by_id["r.voice_budget"].status == UNENFORCEABLE
    assert texts.KIND_UNKNOWN in assessment.notes
    assert "qungui group add CHATID --kind customer|appchat|internal" in texts.KIND_UNKNOWN


def test_unknown_kind_names_removal_in_general_terms():
    assessed = one(rule("manual", "remove_member"), "unknown")
    assert texts.REMOVE_APPCHAT_ONLY in assessed.notes


def test_an_ungoverned_group_runs_no_rule_and_says_so_once():
    seeded = shipped("jiushen")
    assessment = assess(seeded, "customer", bot_enabled=True, governed=False, ungoverned_reason=texts.UNGOVERNED_SET)
    assert (assessment.governed, assessment.rules, assessment.unenforceable) == (False, (), ())
    assert assessment.notes == (texts.UNGOVERNED_SET,)
    assert assess(seeded, "customer", bot_enabled=True, governed=False).notes == (texts.UNGOVERNED,)


def test_a_removal_on_escalation_is_noted_for_the_group():
    removes = {"steps": [{"warnings": 3, "do": [{"type": "remove_member"}]}], "window_days": 30}
    assert texts.ESCALATION_REMOVE in assess(policy(escalation=removes), "customer", bot_enabled=True).notes
    assert assess(policy(escalation=removes), "appchat", bot_enabled=True).notes == ()
    assert assess(shipped("default"), "customer", bot_enabled=True).notes == ()


def test_an_unknown_rule_kind_is_unenforceable():
    assert one(rule("telepathy"), "customer").reason == texts.UNKNOWN_RULE_KIND


def test_jiushen_nickname_rule_is_enforced_in_customer_groups_and_not_in_app_created_ones():
    jiushen = shipped("jiushen")
    customer = assess(jiushen, "customer", bot_enabled=True)
    appchat = assess(jiushen, "appchat", bot_enabled=True)
    assert customer.rule("nickname.format").status == ENFORCED
    assert appchat.rule("nickname.format").status == UNENFORCEABLE
    assert "群昵称" in appchat.rule("nickname.format").reason
    assert appchat.rule("content.confidential").status == NOT_APPLICABLE  # group_kinds: [customer]
    assert customer.rule("content.confidential").status == PARTIAL
    assert customer.rule("content.illegal").status == SHADOW
    assert customer.rule("member.quit").status == ENFORCED
    assert appchat.rule("member.quit").status == PARTIAL
    assert appchat.rule("group.name").status == ENFORCED
    assert customer.rule("ack.task").reason == texts.NOT_RELEASED


def test_seed_policies_carry_their_own_unenforceable_clauses():
    for name in SEED_POLICIES:
        seeded = shipped(name)
        assessment = assess(seeded, "customer", bot_enabled=True)
        assert [entry["clause"] for entry in assessment.unenforceable] == [u["clause"] for u in seeded.unenforceable]
        assert all(entry["reason"] for entry in assessment.unenforceable)
    jiushen = assess(shipped("jiushen"), "customer", bot_enabled=True)
    assert any(entry["part"] for entry in jiushen.unenforceable)


def test_seed_specifics():
    anhui = shipped("anhui_chamber")
    for kind in KINDS:
        assert assess(anhui, kind, bot_enabled=True).rule("voice.budget").status == UNENFORCEABLE
    classmates = shipped("classmates_575")
    assert assess(classmates, "customer", bot_enabled=True).rule("join.eligibility").status == SHADOW
    internal = assess(classmates, "internal", bot_enabled=True).rule("join.eligibility")
    assert internal.status == SHADOW
    assert texts.EXTERNAL_ONLY_IN_CUSTOMER in internal.notes
    assert assess(classmates, "appchat", bot_enabled=True).rule("activity.inactivity").reason == texts.NOT_RELEASED
    art = assess(shipped("art_elite"), "internal", bot_enabled=True)
    assert art.rule("members.required").status == ENFORCED
    assert texts.MANUAL in art.rule("manual.official_use").notes


@pytest.mark.parametrize("name", ["default", *SEED_POLICIES])
@pytest.mark.parametrize("kind", [*KINDS, "unknown"])
@pytest.mark.parametrize("bot_enabled", [True, False])
def test_every_seed_rule_gets_one_status_and_a_reason_unless_enforced(name, kind, bot_enabled):
    seeded = shipped(name)
    assessment = assess(seeded, kind, bot_enabled=bot_enabled)
    assert [assessed.rule_id for assessed in assessment.rules] == [compiled.id for compiled in seeded.rules]
    for assessed in assessment.rules:
        assert assessed.status in STATUSES
        assert (assessed.reason == "") == (assessed.status == ENFORCED)
        assert all(note for note in assessed.notes)
    assert assessment.policy == f"{seeded.id}@{seeded.version}"


def test_to_json_is_plain_data():
    assessed = one(rule("content", mode="shadow"), "customer")
    assert assessed.to_json() == {
        "rule": "r.content", "kind": "content", "clause": "1.2.3", "mode": "shadow", "status": "shadow",
        "reason": texts.SHADOW, "notes": [texts.limitation(texts.CONTENT_BOT_ONLY)],
    }  # fmt: skip

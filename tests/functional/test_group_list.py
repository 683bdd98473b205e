"""`qungui group list`: per group, which rules of its policy are enforceable there and why not (DESIGN.md §1, §4)."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.policies import POLICY_DIR
from chalicelib.store import keys
from chalicelib.store.models import GroupRecord
from chalicelib.texts import enforceability as texts
from qungui_cli.main import main as qungui

NOW = "2026-09-21T22:13:20+08:00"  # after the seed rulebooks' effective date (2026-01-01)
EXISTING_KEYS = {"chat_id", "kind", "governed", "name", "owner", "has_policy"}


def cli(*args: str) -> int:
    return qungui(["--stage", "dev", *args])


def listing(capsys, tenant: str = "acme", now: str = NOW) -> dict[str, dict[str, Any]]:
    capsys.readouterr()
    assert cli("group", "list", "--tenant", tenant, "--json", "--now", now) == 0
    return {group["chat_id"]: group for group in json.loads(capsys.readouterr().out)}


def rules_of(group: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["rule"]: rule for rule in group["rules"]}


def enrol_jiushen_groups() -> None:
    assert cli("group", "add", "wrCust", "--tenant", "acme", "--kind", "customer", "--name", "销售群") == 0
    assert cli("group", "add", "wrApp", "--tenant", "acme", "--kind", "appchat", "--name", "项目群") == 0
    assert cli("policy", "apply", str(POLICY_DIR / "jiushen.yaml"), "--tenant", "acme") == 0


def test_group_list_names_the_nickname_rule_unenforceable_where_it_does_not_apply(tenant, capsys):
    enrol_jiushen_groups()
    groups = listing(capsys)
    customer, appchat = groups["wrCust"], groups["wrApp"]
    assert customer.keys() >= EXISTING_KEYS
    assert (customer["kind"], customer["governed"], customer["name"], customer["has_policy"]) == (
        "customer", True, "销售群", False
    )  # fmt: skip
    assert customer["policy"] == appchat["policy"] == "jiushen@1"
    nickname_in_customer = rules_of(customer)["nickname.format"]
    assert (nickname_in_customer["status"], nickname_in_customer["reason"]) == ("enforced", "")
    assert nickname_in_customer["clause"] == "2.3.3"
    nickname_in_appchat = rules_of(appchat)["nickname.format"]
    assert nickname_in_appchat["status"] == "unenforceable"
    assert "群昵称" in nickname_in_appchat["reason"]
    # The rest of the table shows through too.
    assert rules_of(appchat)["content.confidential"]["status"] == "not_applicable"
    assert rules_of(customer)["content.harmful"]["status"] == "partial"  # the tenant has the bot
    assert rules_of(customer)["content.harmful"]["reason"] == texts.CONTENT_BOT_ONLY
    assert rules_of(appchat)["content.harmful"]["status"] == "unenforceable"
    assert rules_of(customer)["content.illegal"]["status"] == "shadow"
    assert rules_of(appchat)["group.name"]["status"] == "enforced"
    assert rules_of(customer)["group.name"]["status"] == "partial"
    assert rules_of(customer)["ack.task"]["reason"] == texts.NOT_RELEASED
    # The policy's own unenforceable clauses, with part and reason.
    clauses = {entry["clause"]: entry for entry in customer["unenforceable"]}
    assert clauses["2.1"]["declarative"] is True
    assert clauses["2.3.1"]["part"] == "明确应加人员、微信发布内容及群管理员"
    assert all(entry["reason"] for entry in customer["unenforceable"])


def test_the_text_listing_names_the_rule_and_why(tenant, capsys):
    enrol_jiushen_groups()
    capsys.readouterr()
    assert cli("group", "list", "--tenant", "acme", "--now", NOW) == 0
    out = capsys.readouterr().out
    blocks = _blocks(out)
    assert blocks["wrApp"][0].startswith("wrApp\tappchat\tgoverned\t项目群")
    [appchat_line] = [line for line in blocks["wrApp"] if " nickname.format " in line]
    assert appchat_line.startswith("  ✗ unenforceable")
    assert "2.3.3" in appchat_line
    assert "群昵称" in appchat_line
    [customer_line] = [line for line in blocks["wrCust"] if " nickname.format " in line]
    assert customer_line.startswith("  ✓ enforced")
    assert "群昵称" not in customer_line
    assert any("2.3.1" in line and "明确应加人员" in line for line in blocks["wrCust"])
    assert any(line.startswith("  – declarative") and " 2.1 " in line for line in blocks["wrCust"])


def _blocks(out: str) -> dict[str, list[str]]:
    """The text output, split at its header lines (the ones that do not start with a space)."""
    blocks: dict[str, list[str]] = {}
    current: list[str] = []
    for line in out.splitlines():
        if line and not line.startswith(" "):
            current = blocks.setdefault(line.split("\t", 1)[0], [])
        current.append(line)
    return blocks


def test_without_the_bot_no_group_message_is_seen(table, capsys):
    assert cli("tenant", "add", "solo", "--corp-id", "ww0000000000000001", "--token", "t0ken",
               "--aes-key", "a" * 43, "--agent-id", "1000002", "--secret", "s") == 0  # fmt: skip
    assert cli("group", "add", "wrInt", "--tenant", "solo", "--kind", "internal") == 0
    internal = rules_of(listing(capsys, "solo")["wrInt"])
    assert internal["content.harmful"]["status"] == "unenforceable"
    assert internal["content.harmful"]["reason"] == texts.CONTENT_NO_BOT
    assert internal["group.name"]["status"] == "partial"  # shipped default: read by reconciliation, alert only
    assert texts.MEMBERS_INTERNAL_NEEDS_ARCHIVE in internal["group.name"]["notes"]


def test_a_group_override_an_unknown_kind_and_ungoverned_groups(tenant, capsys):
    assert cli("group", "add", "wrOwn", "--tenant", "acme", "--kind", "customer") == 0
    assert cli("policy", "apply", str(POLICY_DIR / "anhui_chamber.yaml"), "--tenant", "acme", "--group", "wrOwn") == 0
    assert cli("group", "add", "wrWho", "--tenant", "acme") == 0  # kind not given
    assert cli("group", "add", "wrOff", "--tenant", "acme", "--kind", "appchat", "--ungoverned") == 0
    groups = listing(capsys)
    own = groups["wrOwn"]
    assert own["has_policy"] is True
    assert own["policy"] == "default@1+anhui_chamber@1"
    assert rules_of(own)["voice.budget"]["status"] == "unenforceable"
    assert "语音" in rules_of(own)["voice.budget"]["reason"]
    unknown = groups["wrWho"]
    assert unknown["kind"] == "unknown"
    assert texts.KIND_UNKNOWN in unknown["notes"]
    assert rules_of(unknown)["nickname.format"]["reason"] == texts.KIND_UNKNOWN
    off = groups["wrOff"]
    assert (off["governed"], off["rules"], off["unenforceable"]) == (False, [], [])
    assert off["notes"] == [texts.UNGOVERNED_SET]


def test_groups_nobody_enrolled_are_listed_as_such(table, capsys):
    assert cli("tenant", "add", "picky", "--corp-id", "ww0000000000000002", "--token", "t0ken",
               "--aes-key", "a" * 43, "--agent-id", "1000002", "--secret", "s", "--govern", "listed") == 0  # fmt: skip
    assert cli("group", "add", "wrListed", "--tenant", "picky", "--kind", "customer") == 0
    # What the callback path writes for a customer group nobody enrolled (a change_external_chat event).
    GroupRecord(keys.tenant_pk("picky"), keys.group_sk("wrSeen"), chat_id="wrSeen", kind="customer",
                first_seen_at=1_790_000_000).save()  # fmt: skip
    groups = listing(capsys, "picky")
    assert groups["wrListed"]["enrolled"] is True
    assert groups["wrListed"]["rules"]
    seen = groups["wrSeen"]
    assert seen["enrolled"] is False
    assert seen["rules"] == []  # govern: listed: nobody enrolled it, so no rule runs there
    assert seen["notes"] == [texts.UNGOVERNED_UNLISTED, texts.NOT_ENROLLED]
    capsys.readouterr()
    assert cli("group", "list", "--tenant", "picky", "--now", NOW) == 0
    [header] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("wrSeen")]
    assert "not enrolled" in header


def test_before_the_rulebook_takes_effect_every_rule_is_shadow(tenant, capsys):
    enrol_jiushen_groups()
    groups = listing(capsys, now="2025-12-31T23:00:00+08:00")
    nickname = rules_of(groups["wrCust"])["nickname.format"]
    assert nickname["status"] == "shadow"
    assert "2026-01-01" in nickname["reason"]
    assert rules_of(groups["wrApp"])["nickname.format"]["status"] == "unenforceable"  # nothing to observe
    # 2026-01-01 00:30 in Shanghai is still 2025-12-31 in UTC: the tenant's time zone decides the day.
    assert rules_of(listing(capsys, now="2025-12-31T16:30:00+00:00")["wrCust"])["nickname.format"]["status"] == (
        "enforced"
    )


def test_listing_refuses_an_unknown_tenant_and_a_naive_time(tenant, capsys):
    assert cli("group", "list", "--tenant", "ghost") == 2
    assert capsys.readouterr().err.startswith("qungui: ")
    assert cli("group", "list", "--tenant", "acme", "--now", "2026-09-21T22:13:20") == 2
    assert "offset" in capsys.readouterr().err


def test_enrolling_a_group_qungui_found_by_itself_makes_its_rules_run(table, capsys):
    assert cli("tenant", "add", "picky", "--corp-id", "ww0000000000000002", "--token", "t0ken",
               "--aes-key", "a" * 43, "--agent-id", "1000002", "--secret", "s", "--govern", "listed") == 0  # fmt: skip
    GroupRecord(keys.tenant_pk("picky"), keys.group_sk("wrSeen"), chat_id="wrSeen", kind="customer",
                first_seen_at=1_790_000_000).save()  # fmt: skip
    assert listing(capsys, "picky")["wrSeen"]["rules"] == []
    assert cli("group", "add", "wrSeen", "--tenant", "picky") == 0
    seen = listing(capsys, "picky")["wrSeen"]
    assert (seen["enrolled"], seen["kind"], seen["notes"]) == (True, "customer", [])
    assert rules_of(seen)["nickname.format"]["status"] == "enforced"


def test_every_membership_clause_is_named_where_it_cannot_be_enforced(tenant, capsys):
    # Issue 6's clauses, per kind: quitting is judged only in customer groups (the event says how they left),
    # nicknames only there, voice nowhere until the chat archive is connected; joining works everywhere.
    for kind in ("customer", "appchat", "internal"):
        assert cli("group", "add", f"wr{kind}", "--tenant", "acme", "--kind", kind) == 0
        for seed in ("jiushen", "anhui_chamber"):
            chat = f"wr{kind}{seed}"
            assert cli("group", "add", chat, "--tenant", "acme", "--kind", kind) == 0
            assert cli("policy", "apply", str(POLICY_DIR / f"{seed}.yaml"), "--tenant", "acme", "--group", chat) == 0
    groups = listing(capsys)
    for kind in ("customer", "appchat", "internal"):
        jiushen, anhui = rules_of(groups[f"wr{kind}jiushen"]), rules_of(groups[f"wr{kind}anhui_chamber"])
        assert jiushen["member.quit"]["status"] == ("enforced" if kind == "customer" else "partial")
        assert anhui["nickname.format"]["status"] == ("enforced" if kind == "customer" else "unenforceable")
        assert anhui["voice.budget"]["status"] == "unenforceable"
        assert "会话存档" in anhui["voice.budget"]["reason"]
        assert anhui["join.eligibility"]["status"] == "enforced"
        assert anhui["group.name"]["status"] == ("enforced" if kind == "appchat" else "partial")
        if kind != "customer":
            assert jiushen["member.quit"]["reason"]

"""The group's name (篇一 二(1), 篇二 3.1, 篇三 1, 篇四 三、1) as a pure rule: the name the shell read, compared with
the one the group is held to, per kind of group."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.decisions import AlertAdmins, Decision, RecordLedger, RecordOffence, RemindMember
from chalicelib.events import Channel, GroupRenamed
from chalicelib.record import Record
from chalicelib.rules import group_name
from chalicelib.rules.compiled import CompiledPolicy, shipped
from chalicelib.rules.context import Context
from chalicelib.rules.decisions_membership import AcceptGroupName, RestoreGroupName
from chalicelib.rules.group_name import GroupNames

NOW = 1_790_000_000  # 2026-09-21 22:13 in Asia/Shanghai
BEFORE_EFFECTIVE = 1_767_150_000  # 2025-12-31 11:00 in Asia/Shanghai
CHAT = "wrArtGroup"
ADMINS = ("boss", "owner1")
ROLES = {"owner1": frozenset({"owner"}), "admin1": frozenset({"admin"})}


def replace(record: Any, **changes: Any) -> Any:
    assert isinstance(record, Record)
    return type(record)(**{**{name: getattr(record, name) for name in record._fields}, **changes})


def with_rule(policy: CompiledPolicy, rule_id: str, **changes: Any) -> CompiledPolicy:
    rules = tuple(replace(rule, **changes) if rule.id == rule_id else rule for rule in policy.rules)
    return replace(policy, rules=rules)


def renamed(event_id: str = "hrename1", at: int = NOW) -> GroupRenamed:
    return GroupRenamed(tenant="acme", channel=Channel.APP, event_id=event_id, at=at, sender="sys", chat_id=CHAT)


def context(kind: str, policy: str | CompiledPolicy = "art_elite", *, governed: bool = True, prior: int = 0) -> Context:
    return Context(
        policy=shipped(policy) if isinstance(policy, str) else policy,
        admins=ADMINS,
        group_kind=kind,
        group_name="ART精英交流群",
        governed=governed,
        prior_offences=lambda member, rule: prior,
    )


def decide(ctx: Context, current: str, *, stored: str = "", by: str | None = None, at: int = NOW) -> list[Decision]:
    names = GroupNames(current=current, stored=stored, renamed_by=by)
    return group_name.decide(renamed(at=at), ctx, names, roles_of=lambda member: ROLES.get(member, frozenset()))


def kinds(decisions: list[Decision]) -> list[str]:
    return [decision.kind for decision in decisions]


def test_an_app_created_group_renamed_by_someone_unknown_is_renamed_back_and_the_admins_told() -> None:
    decisions = decide(context("appchat"), "吃喝玩乐群", stored="ART精英交流群")

    assert kinds(decisions) == ["AlertAdmins", "RestoreGroupName"]
    alert, restore = decisions
    assert restore == RestoreGroupName(chat_id=CHAT, name="ART精英交流群", clause="1.2.1")
    assert isinstance(alert, AlertAdmins)
    assert alert.what == "群名被改为“吃喝玩乐群”，群规指定的群名是“ART精英交流群”（平台没有告知是谁修改的）"
    assert alert.action == "已自动改回“ART精英交流群”"
    assert (alert.recipients, alert.clause, alert.group, alert.member, alert.ref) == (ADMINS, "1.2.1", CHAT, "", "")


@pytest.mark.parametrize(("kind", "label"), [("customer", "客户群"), ("internal", "内部群")])
def test_where_no_api_renames_the_admins_are_asked_to_rename_it_back(kind: str, label: str) -> None:
    decisions = decide(context(kind), "吃喝玩乐群", stored="ART精英交流群")

    assert kinds(decisions) == ["AlertAdmins"]
    (alert,) = decisions
    assert isinstance(alert, AlertAdmins)
    assert alert.action == f"{label}没有接口可以改回群名，请群主在群设置中改回“ART精英交流群”"


def test_a_policy_that_does_not_restore_only_alerts_even_in_an_app_created_group() -> None:
    decisions = decide(context("appchat", "default"), "吃喝玩乐群", stored="销售部工作群")

    assert kinds(decisions) == ["AlertAdmins"]
    (alert,) = decisions
    assert isinstance(alert, AlertAdmins)
    assert alert.action == "本群策略不自动改回；如未经群主同意，请改回“销售部工作群”"
    assert alert.clause == "3.1"


def test_without_a_name_in_the_policy_the_stored_name_is_the_one_held() -> None:
    decisions = decide(context("appchat", "jiushen"), "随便聊", stored="酒神销售群")

    assert decisions[-1] == RestoreGroupName(chat_id=CHAT, name="酒神销售群", clause="2.3.1")


def test_the_first_name_seen_for_a_group_enrolled_without_one_becomes_its_name() -> None:
    assert decide(context("customer", "jiushen"), "酒神销售群") == [
        AcceptGroupName(chat_id=CHAT, name="酒神销售群", clause="2.3.1")
    ]


@pytest.mark.parametrize("kind", ["customer", "appchat", "internal"])
def test_the_held_name_is_no_offence(kind: str) -> None:
    assert decide(context(kind), "ART精英交流群", stored="ART精英交流群") == []
    assert (
        decide(context(kind), " ART精英交流群 ", stored="别的名字") == []
    )  # the policy's name wins over the stored one


def test_an_allowed_renamer_sets_the_new_name_when_the_policy_fixes_none() -> None:
    assert decide(context("appchat", "jiushen"), "酒神华东群", stored="酒神销售群", by="admin1") == [
        AcceptGroupName(chat_id=CHAT, name="酒神华东群", clause="2.3.1")
    ]


def test_an_allowed_renamer_is_never_fought_but_a_name_fixed_by_the_policy_is_pointed_out() -> None:
    decisions = decide(context("appchat"), "ART精英交流群（2026）", stored="ART精英交流群", by="owner1")

    assert kinds(decisions) == ["AlertAdmins"]
    (alert,) = decisions
    assert isinstance(alert, AlertAdmins)
    assert alert.what == "owner1 将群名改为“ART精英交流群（2026）”，与群规策略指定的“ART精英交流群”不一致"
    assert alert.action == "未改回（改名人有权修改群名）；如确需改名，请同步修改群策略中的群名"


def test_a_member_who_may_not_rename_is_reminded_and_the_name_restored() -> None:
    # art_elite: only the owner renames (篇一 二(1)); the shell knew who it was.
    decisions = decide(context("appchat"), "吃喝玩乐群", stored="ART精英交流群", by="lisi")

    assert kinds(decisions) == ["RecordOffence", "RemindMember", "AlertAdmins", "RestoreGroupName"]
    offence, reminder, alert, restore = decisions
    assert offence == RecordOffence(member="lisi", rule="group.name", at=NOW, clause="1.2.1")
    assert isinstance(reminder, RemindMember)
    assert reminder.member == "lisi"
    assert reminder.what == "您将群名改为“吃喝玩乐群”。群名未经群主同意不得更改，已自动改回“ART精英交流群”。请注意。"
    assert isinstance(alert, AlertAdmins)
    assert alert.member == "lisi"
    assert alert.what == "lisi 将群名改为“吃喝玩乐群”，群规指定的群名是“ART精英交流群”"
    assert alert.action == "已私信提醒；已自动改回“ART精英交流群”"
    assert isinstance(restore, RestoreGroupName)
    assert restore.name == "ART精英交流群"


def test_an_admin_renaming_a_group_only_its_owner_may_rename_is_an_offence() -> None:
    # art_elite names only the owner; an admin is not enough.
    decisions = decide(context("customer"), "新群名", stored="ART精英交流群", by="admin1")
    assert kinds(decisions) == ["RecordOffence", "RemindMember", "AlertAdmins"]
    reminder = decisions[1]
    assert isinstance(reminder, RemindMember)
    assert reminder.what == "您将群名改为“新群名”。群名未经群主同意不得更改，请改回“ART精英交流群”。请注意。"


def test_exempt_members_rename_freely() -> None:
    policy = with_rule(shipped("jiushen"), "group.name", exempt_userids=("secretary",))
    assert decide(context("appchat", policy), "酒神华东群", stored="酒神销售群", by="secretary") == [
        AcceptGroupName(chat_id=CHAT, name="酒神华东群", clause="2.3.1")
    ]


def test_a_rule_limited_to_app_created_groups_does_not_apply_to_a_customer_group() -> None:
    policy = with_rule(shipped("art_elite"), "group.name", group_kinds=("appchat",))

    assert decide(context("customer", policy), "吃喝玩乐群", stored="ART精英交流群") == []
    assert kinds(decide(context("appchat", policy), "吃喝玩乐群")) == ["AlertAdmins", "RestoreGroupName"]


def test_shadow_mode_records_and_neither_alerts_nor_renames() -> None:
    policy = with_rule(shipped("art_elite"), "group.name", mode="shadow")

    decisions = decide(context("appchat", policy), "吃喝玩乐群", by="lisi")

    assert kinds(decisions) == ["RecordLedger"]
    (entry,) = decisions
    assert isinstance(entry, RecordLedger)
    assert (entry.entry_kind, entry.member, entry.rule, entry.excerpt) == ("shadow", "lisi", "group.name", "吃喝玩乐群")


def test_before_the_rulebook_takes_effect_a_rename_is_only_shadowed() -> None:
    decisions = decide(context("appchat"), "吃喝玩乐群", at=BEFORE_EFFECTIVE)
    assert [(d.kind, getattr(d, "entry_kind", None), getattr(d, "member", None)) for d in decisions] == [
        ("RecordLedger", "shadow", "")
    ]


def test_nothing_is_decided_without_a_name_or_for_an_ungoverned_group() -> None:
    assert decide(context("appchat"), "  ", stored="ART精英交流群") == []
    assert decide(context("appchat", governed=False), "吃喝玩乐群") == []


def test_replaying_a_rename_decides_the_same() -> None:
    first = decide(context("appchat"), "吃喝玩乐群", by="lisi", stored="ART精英交流群")
    assert first == decide(context("appchat"), "吃喝玩乐群", by="lisi", stored="ART精英交流群")
    shadow = with_rule(shipped("art_elite"), "group.name", mode="shadow")
    entries = [decide(context("appchat", shadow), "吃喝玩乐群", by="lisi")[0] for _ in range(2)]
    assert isinstance(entries[0], RecordLedger)
    assert entries[0] == entries[1]

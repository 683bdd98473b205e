"""Content rules: a group message against the policy's `content` rules (篇一 三(3)(5), 篇二 3.6, 篇三 8, 篇四 三(4) …).
Pure: the matcher is a compiled automaton; who is an admin and how often a member offended come in the context."""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any

from chalicelib.decisions import AlertAdmins, Decision, RecordLedger, RecordOffence, RemindMember
from chalicelib.events import MessagePosted
from chalicelib.rules.compiled import Act, CompiledRule
from chalicelib.rules.context import Context

if TYPE_CHECKING:
    from chalicelib.rules.content import Hit, Moderator


def entry_id(tenant: str, source: str, rule: str, member: str, kind: str) -> str:
    digest = hashlib.sha256("\x1f".join((tenant, source, rule, member, kind)).encode()).digest()
    return "L" + base64.b32encode(digest[:5]).decode().rstrip("=")


def decide(event: MessagePosted, context: Context) -> list[Decision]:
    if event.chat_id is None or not context.governed or not event.text.strip():
        return []  # only group chats are governed; 1:1 content is never judged or stored
    decisions: list[Decision] = []
    for rule in context.policy.of_kind("content"):
        if rule.group_kinds is not None and context.group_kind not in rule.group_kinds:
            continue
        hits = [hit for hit in _moderator(rule).scan(event.text) if hit.category in rule.param("categories", ())]
        if not hits or rule.exempts(event.sender, context.member_roles):
            continue
        decisions += _enforce(event, rule, hits, context)
    return decisions


def _moderator(rule: CompiledRule) -> Moderator:
    # Imported on first use: 1:1 callbacks (most of them) never pay for the automaton and OpenCC.
    from chalicelib.rules.content import Moderator
    from chalicelib.rules.links import LinkPolicy

    links = rule.param("links") or {}
    return Moderator.build(
        tenant_terms={category: tuple(words) for category, words in (rule.param("extra_terms") or {}).items()},
        tenant_innocent=tuple(rule.param("allow_terms") or ()),
        link_policy=LinkPolicy.of(**links) if links else None,
    )


def _enforce(event: MessagePosted, rule: CompiledRule, hits: list[Hit], context: Context) -> list[Decision]:
    from chalicelib.rules.content import CATEGORY_LABELS

    labels = "、".join(dict.fromkeys(CATEGORY_LABELS.get(hit.category, hit.category) for hit in hits))
    source = f"{event.channel.value}:{event.event_id}"
    evidence: dict[str, Any] = dict(
        group=event.chat_id,
        evidence=event.msg_id or event.event_id,
        excerpt=hits[0].excerpt,
        evidence_hash=hashlib.sha256(event.text.encode()).hexdigest(),
        policy_version=context.policy.version,
        at=event.at,
    )
    if rule.mode == "shadow" or not context.policy.in_force(event.at, context.timezone):
        shadow = entry_id(event.tenant, source, rule.id, event.sender, "shadow")
        return [
            RecordLedger(entry_id=shadow, entry_kind="shadow", member=event.sender, rule=rule.id,
                         clause_text=rule.quote, clause=rule.clause, **evidence)
        ]  # fmt: skip
    offence = context.prior_offences(event.sender, rule.id) + 1
    decisions: list[Decision] = [RecordOffence(member=event.sender, rule=rule.id, at=event.at)]
    done: list[str] = []
    entry: str | None = None
    for act in rule.actions_for(offence):
        kind = {"warn": "warning", "fine": "fine", "red_packet": "red_packet"}.get(act.type)
        if kind:
            entry = entry_id(event.tenant, source, rule.id, event.sender, kind)
            status = "owed" if kind != "warning" and rule.confirm == "auto" else "active"
            decisions.append(RecordLedger(entry_id=entry, entry_kind=kind, member=event.sender, rule=rule.id,
                                          clause_text=rule.quote, clause=rule.clause, amount=act.amount,
                                          status=status, **evidence))  # fmt: skip
            done.append(_describe(act, rule))
    for act in rule.actions_for(offence):
        if act.type in ("remind", "warn", "fine", "red_packet"):
            what = f"您在群里发布的内容涉及“{labels}”，违反了群规。" + ("，".join(done) + "。" if done else "请注意。")
            decisions.append(RemindMember(member=event.sender, what=what, clause=rule.clause, ref=entry or ""))
            break
    if any(act.type in ("alert_admins", "remove_member") for act in rule.actions_for(offence)) or (
        done and rule.confirm == "admin" and any(a.type in ("fine", "red_packet") for a in rule.actions_for(offence))
    ):
        decisions.append(
            AlertAdmins(
                recipients=context.alert_recipients,
                what=f"{event.sender} 发布的内容涉及“{labels}”（第{offence}次）",
                clause=rule.clause,
                group=event.chat_id,
                group_name=context.group_name,
                member=event.sender,
                evidence_at=event.at,
                action="；".join(done) or "已私信提醒",
                ref=entry or "",
            )
        )
    return decisions


def _describe(act: Act, rule: CompiledRule) -> str:
    if act.type == "warn":
        return "已记严重警告一次" if act.severity == "serious" else "已记警告一次"
    amount = f"{act.amount:g}元" if act.amount is not None else ""
    pending = "（待管理员确认）" if rule.confirm == "admin" else ""
    return f"罚款{amount}{pending}" if act.type == "fine" else f"需发群红包{amount}{pending}"

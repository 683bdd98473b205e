"""The in-group nickname (群昵称): 篇一 二(3) 以姓名为群昵称, 篇二 3.3 部门+姓名 (3.2 carries the how-to), 篇三 6
实名制, 篇四 三、2 所在公司+部门职位+姓名.

Only customer groups show each member's in-group nickname (groupchat/get `group_nickname`); elsewhere nothing can be
judged, and the group listing tells admins so. The check runs when the shell reconciles a group (GroupReconciled): a
newcomer has `grace_minutes` to set the nickname, a wrong one is an offence through the shared ladder, and it is
checked again `recheck_hours` later. The schedule lives in the roster (MemberState.name_due_at / name_wrong_since)
and moves only through NameChecked, so a right nickname costs no write at all.

External contacts cannot receive the app's 1:1 messages: their reminder goes to the staff member who invited them,
or, when the platform names no inviter, the admins are asked to remind them in the group.

Pure: the nickname and the directory's facts come in the snapshot, time from the event.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence

from chalicelib.decisions import AlertAdmins, Decision, RemindMember
from chalicelib.events import GroupReconciled
from chalicelib.record import Record
from chalicelib.rules.compiled import CompiledRule
from chalicelib.rules.context import Context
from chalicelib.rules.decisions_membership import NameChecked
from chalicelib.rules.membership import Offence, applies, enforce, is_shadow, shadow_entry, source_of
from chalicelib.rules.roster import MemberFacts, MemberState
from chalicelib.texts import roster as texts
from chalicelib.texts.citations import clause_label, clause_text

EXCERPT_LIMIT = 60
_PLACEHOLDER = re.compile(r"\{(name|department|position|company)(\?)?\}")
# Dashes a Chinese keyboard produces for the hyphen key (full-width －, em/en dashes, the small ﹣): the rulebook's
# “销售部-张三” is about the parts and their order, not about which dash glyph a phone's input method chose.
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―﹣－", "-"))


def decide(event: GroupReconciled, context: Context) -> list[Decision]:
    """Every `nickname_format` rule that applies, against every member of a group whose nicknames are visible."""
    snapshot = context.snapshot
    if not context.governed or snapshot is None or not snapshot.nicknames_visible:
        return []
    decisions: list[Decision] = []
    for rule in context.policy.of_kind("nickname_format"):
        if not applies(rule, context):
            continue
        for facts in snapshot.members:
            if not rule.exempts(facts.userid, context.roles_of(facts.userid)):
                decisions += _check(event, rule, facts, context)
    return one_alert_per_clause(decisions)


# ------------------------------------------------------------------------------------------------ matching


def canonical(text: str) -> str:
    """What a nickname is compared as: NFKC (full-width letters and digits as ASCII), every dash a hyphen, and no
    whitespace at all — members add spaces for readability (“销售部 - 张三”), and spaces carry no meaning in a
    Chinese name, so a space is never what makes a nickname right or wrong."""
    folded = unicodedata.normalize("NFKC", text).translate(_DASHES)
    return "".join(folded.split())


def known_values(placeholder: str, rule: CompiledRule, facts: MemberFacts) -> tuple[str, ...]:
    """The values a placeholder must take for this member; () when the facts do not know it (then anything goes).
    An external contact's name is never known: their display name is a WeChat nickname, not a real name."""
    if placeholder == "company":
        return (facts.company,) if facts.external and facts.company.strip() else ()
    if facts.external or not facts.in_directory or not rule.param("check_directory", True):
        return ()
    if placeholder == "name":
        found: tuple[str, ...] = (facts.name,)
    elif placeholder == "department":
        found = facts.departments  # ancestors included: a 华东销售部 member may write 销售部
    else:
        found = (facts.position,)
    return tuple(dict.fromkeys(value for value in (canonical(v) for v in found) if value))


def matches(rule: CompiledRule, nickname: str, facts: MemberFacts) -> bool:
    if not nickname.strip():
        return False  # no nickname: the group shows the member's WeChat name
    regex = rule.param("regex")
    if regex:
        return re.fullmatch(str(regex), nickname.strip()) is not None
    return re.fullmatch(_pattern_regex(rule, facts), canonical(nickname)) is not None


def _pattern_regex(rule: CompiledRule, facts: MemberFacts) -> str:
    pattern = str(rule.param("pattern") or "{name}")
    parts: list[str] = []
    start = 0
    for found in _PLACEHOLDER.finditer(pattern):
        parts.append(re.escape(canonical(pattern[start : found.start()])))
        values = known_values(found.group(1), rule, facts)
        optional = found.group(2) == "?"
        if values:
            longest_first = sorted(values, key=len, reverse=True)
            parts.append("(?:" + "|".join(map(re.escape, longest_first)) + ")" + ("?" if optional else ""))
        else:
            parts.append(".*" if optional else ".+")
        start = found.end()
    parts.append(re.escape(canonical(pattern[start:])))
    return "".join(parts)


def expected_example(rule: CompiledRule, facts: MemberFacts) -> str:
    """What the member should type, e.g. “销售部-张三”: known values filled in (the first department listed — the
    shell lists a member's own departments before their ancestors), unknown ones named (部门, 姓名) and joined with
    “+” where a name sits beside another placeholder, unknown optional ones left out. "" for a regex rule."""
    pattern = str(rule.param("pattern") or "")
    if not pattern:
        return ""
    pieces: list[tuple[str, str]] = []  # (text, literal | value | label)
    start = 0
    for found in _PLACEHOLDER.finditer(pattern):
        pieces.append((pattern[start : found.start()], "literal"))
        value = _raw_value(found.group(1), facts) if known_values(found.group(1), rule, facts) else ""
        if value:
            pieces.append((value, "value"))
        elif found.group(2) != "?":
            pieces.append((texts.placeholder_label(found.group(1)), "label"))
        start = found.end()
    pieces.append((pattern[start:], "literal"))
    pieces = [piece for piece in pieces if piece[0]]
    out = ""
    for index, (text, kind) in enumerate(pieces):
        before = pieces[index - 1][1] if index else "literal"
        # 部门+姓名 reads as two parts; “销售部部门” would read as one word.
        glue = "literal" not in (before, kind) and "label" in (before, kind)
        out += ("+" if glue else "") + text
    return out.strip()


def _raw_value(placeholder: str, facts: MemberFacts) -> str:
    """The directory's value as written (for the example), not its comparison form."""
    if placeholder == "company":
        return facts.company.strip()
    if placeholder == "name":
        return facts.name.strip()
    if placeholder == "department":
        return next((d.strip() for d in facts.departments if d.strip()), "")
    return facts.position.strip()


# ------------------------------------------------------------------------------------------------ the schedule


def _check(event: GroupReconciled, rule: CompiledRule, facts: MemberFacts, context: Context) -> list[Decision]:
    state = context.member_states.get(facts.userid) or MemberState(userid=facts.userid)
    nickname = facts.nickname.strip()
    if matches(rule, nickname, facts):
        if state.name_due_at is None and state.name_wrong_since is None:
            return []  # the common case: nothing to write
        return [_checked(event, facts, rule, nickname, due_at=None, wrong_since=None)]
    wrong_since = state.name_wrong_since if state.name_wrong_since is not None else event.at
    if state.name_due_at is None:
        grace = int(rule.param("grace_minutes", 60) or 0) * 60
        due = max((facts.joined_at or event.at) + grace, event.at)
        return [_checked(event, facts, rule, nickname, due_at=due, wrong_since=wrong_since)]
    if state.name_due_at > event.at:
        return []
    recheck = event.at + int(rule.param("recheck_hours", 24) or 24) * 3600
    return [
        *_offence(event, rule, facts, nickname, context),
        _checked(event, facts, rule, nickname, recheck, wrong_since),
    ]


def _checked(
    event: GroupReconciled,
    facts: MemberFacts,
    rule: CompiledRule,
    nickname: str,
    due_at: int | None,
    wrong_since: int | None,
) -> NameChecked:
    return NameChecked(
        chat_id=event.chat_id,
        member=facts.userid,
        nickname=nickname,
        due_at=due_at,
        wrong_since=wrong_since,
        clause=rule.clause,
    )


def _offence(
    event: GroupReconciled, rule: CompiledRule, facts: MemberFacts, nickname: str, context: Context
) -> list[Decision]:
    offence = Offence(
        member=facts.userid,
        source=source_of(event),
        group=event.chat_id,
        evidence=event.event_id,
        at=event.at,
        excerpt=nickname[:EXCERPT_LIMIT] or None,
        evidence_hash=hashlib.sha256(nickname.encode()).hexdigest() if nickname else "",
    )
    if is_shadow(rule, event, context):
        return [shadow_entry(event, rule, offence, context)]
    expected = expected_example(rule, facts)
    steps = how_to(rule)
    number = context.prior_offences(facts.userid, rule.id) + 1
    admin_what = texts.nickname_admin(
        member=texts.who(facts.userid, facts.name or facts.display_name),
        current=nickname,
        expected=expected,
        offence=number,
    )
    decisions = enforce(
        event,
        rule,
        offence,
        context,
        number=number,
        tell_member=lambda done: texts.nickname_member(
            group_name=context.group_name, current=nickname, expected=expected, how_to=steps, done=done
        ),
        tell_admins=admin_what,
        roles=context.roles_of(facts.userid),
    )
    if not facts.external:
        return decisions
    how = Unreachable(
        relay=texts.nickname_relay(
            invitee=texts.who(facts.userid, facts.display_name),
            group_name=context.group_name,
            current=nickname,
            expected=expected,
            how_to=steps,
        ),
        admin_what=admin_what,
        unreachable=texts.NICKNAME_NOT_REACHABLE,
        relayed=texts.NICKNAME_RELAYED,
    )
    return reach_external(decisions, facts, context, chat_id=event.chat_id, at=event.at, how=how)


def how_to(rule: CompiledRule) -> list[str]:
    """The clauses a reminder quotes beside the one the outbox cites: the rule's own quote where it is not that
    clause's rulebook text (a tenant's wording), and every `see_also` clause (篇二 3.2's steps beside 3.3)."""
    quoted: list[str] = []
    if rule.quote and rule.quote != clause_text(rule.clause):
        quoted.append(texts.quoted(clause_label(rule.clause), rule.quote))
    quoted += [texts.quoted(clause_label(clause), quote) for clause, quote in rule.see_also if quote]
    return quoted


# ------------------------------------------------------------------------------------------------ shared helpers


def inviter_of(facts: MemberFacts, context: Context) -> str | None:
    """The staff member who invited `facts`' member, if any. groupchat/get names an inviter only when a member of
    the corp invited (WeCom returns `invitor` for internal inviters only), so an inviter the snapshot does not list
    is taken as staff; one the snapshot lists as an external contact is not."""
    invitor = facts.invitor
    if not invitor or invitor == facts.userid:
        return None
    known = context.facts_of(invitor)
    return None if known is not None and known.external else invitor


class Unreachable(Record):
    """How to reach an external contact's reminder through people: the inviter's message, and the admins' alert."""

    relay: str  # what the inviter is asked to pass on
    admin_what: str  # the alert's line when nobody else can tell them
    unreachable: str  # the alert's action line then
    relayed: str  # the action line added to an alert the ladder sends anyway, when the inviter was asked


def reach_external(
    decisions: list[Decision], facts: MemberFacts, context: Context, *, chat_id: str, at: int, how: Unreachable
) -> list[Decision]:
    """An external contact's reminder cannot be sent: it goes to their inviter to pass on (keyed apart from any other
    message to that inviter in the same event); without an inviter, the admins are asked to remind them."""
    reminders = [d for d in decisions if isinstance(d, RemindMember) and d.member == facts.userid]
    if not reminders:
        return decisions
    first = reminders[0]
    kept = [d for d in decisions if not (isinstance(d, RemindMember) and d.member == facts.userid)]
    inviter = inviter_of(facts, context)
    if inviter:
        kept.append(RemindMember(member=inviter, what=how.relay, clause=first.clause, ref=f"relay:{facts.userid}"))
    note = how.relayed if inviter else how.unreachable
    alert = next((d for d in kept if isinstance(d, AlertAdmins)), None)
    if alert is not None:
        return [_with_note(d, note) if d is alert else d for d in kept]
    if inviter:
        return kept
    told = AlertAdmins(
        recipients=context.admins,
        what=how.admin_what,
        clause=first.clause,
        group=chat_id,
        group_name=context.group_name,
        member=facts.userid,
        evidence_at=at,
        action=note,
        ref=first.ref,
    )
    return [*kept, told]


def _with_note(alert: AlertAdmins, note: str) -> AlertAdmins:
    return AlertAdmins(
        recipients=alert.recipients,
        what=alert.what,
        clause=alert.clause,
        group=alert.group,
        group_name=alert.group_name,
        member=alert.member,
        evidence_at=alert.evidence_at,
        action="；".join(part for part in (alert.action, note) if part),
        ref=alert.ref,
    )


def one_alert_per_clause(decisions: Sequence[Decision]) -> list[Decision]:
    """The outbox keys admin alerts by (event, clause, recipient, ref), and `ref` is the waivable ledger entry, so
    two alerts of one event about one clause without an entry would reach each admin as one: merge them into a single
    alert that names every member, where the first one stood."""
    groups: dict[tuple[str | None, tuple[str, ...]], list[AlertAdmins]] = {}
    for decision in decisions:
        if isinstance(decision, AlertAdmins) and not decision.ref:
            groups.setdefault((decision.clause, decision.recipients), []).append(decision)
    merged: list[Decision] = []
    for decision in decisions:
        if not isinstance(decision, AlertAdmins) or decision.ref:
            merged.append(decision)
            continue
        group = groups[(decision.clause, decision.recipients)]
        if decision is group[0]:
            merged.append(_merge(group))
    return merged


def _merge(alerts: list[AlertAdmins]) -> AlertAdmins:
    if len(alerts) == 1:
        return alerts[0]
    first = alerts[0]
    return AlertAdmins(
        recipients=first.recipients,
        what="；".join(dict.fromkeys(alert.what for alert in alerts)),
        clause=first.clause,
        group=first.group,
        group_name=first.group_name,
        member="、".join(dict.fromkeys(alert.member for alert in alerts if alert.member)),
        evidence_at=first.evidence_at,
        action="；".join(dict.fromkeys(alert.action for alert in alerts if alert.action)),
        ref="",
    )

"""Policies: a group's rulebook as data (DESIGN.md §3). A policy file (YAML) is a tenant's default or one group's
override; the pydantic model below is its single definition, and chalicelib/policies/schema.json is exported from it.

A policy cites the clauses of a rulebook by id (chalicelib/policies/rulebooks.md: `1.4.2` = 篇一 四(2)); every rule
names the clause it enforces, and member messages quote that clause's text (or the rule's `clause_text`). A tenant whose
rulebook is not one of the seeds writes its own clauses under `clauses:` with ids that start with a letter
(`acme.3`), so they never collide with the seed ids.

Rules. Each rule has an `id`, a `clause`, a `mode` (`enforce`, or `shadow`: decide, record for the digest, act on
nobody), a `kind` with that kind's parameters, `exemptions`, `confirm` (`admin`: a fine or red packet waits for an
admin's 确认; `auto`), `amount` (CNY, for `fine` steps that name none) and `actions`, the action ladder:
- a list of actions, all taken at every offence: `[warn, alert_admins]`; or
- steps with thresholds: `[{at: 1, do: [remind]}, {at: 3, do: [warn, {fine: 50}]}]`: the step with the highest `at`
  not above the member's offence count against this rule (within `escalation.window_days`) applies.
Actions are `remind`, `warn` (`warn: serious` for a 严重警告), `fine` (`fine: 100`), `red_packet`, `alert_admins` and
`remove_member` (honoured where the platform can remove: app-created groups; elsewhere it becomes an admin alert).
Policy-wide: `escalation` (warnings, across rules, within a sliding window → actions), `alerts` (who gets admin
alerts), `digest` (weekly report), `leaders`, `unenforceable` (clauses, or parts of clauses, no rule can enforce, with
the reason shown to admins), and `rulebook` (which rulebook edition, effective from 00:00 of its `effective` date in
the tenant's time zone: files hold dates, never instants, so one file serves tenants in any zone).

Merge: `merge(tenant_default, group_override)` gives the policy a group runs.
- Rules merge by id: an override rule replaces the default's rule of the same id wholesale (no field-level merge, so
  what a rule does can be read in one place), keeping its position; new rules follow in the override's order.
- `disable: [rule ids]` drops default rules; an id the default lacks is ignored (the default may have dropped it
  since), and disabling a rule the same file defines is an error.
- Sections (`name`, `rulebook`, `leaders`, `escalation`, `alerts`, `digest`) are replaced wholesale when the override
  sets them; otherwise the default's stand.
- `clauses` merge by id, `unenforceable` by (clause, part); the override wins.
- The result's `id` and `version` name both inputs (`default@3+sales@1`), so a ledger entry's policy version says
  which two files decided it.

Errors: `parse_policy` raises PolicyError whose problems carry the YAML line of the offending value (the loader keeps
every node's position and pydantic's error location is walked through the node tree). Inputs are never echoed for
fields that may hold confidential terms or message text, and the models hide inputs from their own error strings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from chalicelib.policies import CLAUSE_ID, POLICY_DIR, clauses, rulebooks

SCHEMA_VERSION = 1
SCHEMA_PATH = POLICY_DIR / "schema.json"
SEED_POLICIES = ("art_elite", "jiushen", "classmates_575", "anhui_chamber")

Category = Literal[
    "politics",
    "religion",
    "pornography",
    "gambling",
    "drugs",
    "violence",
    "malicious_links",
    "ads",
    "defamation",
    "insults",
    "discrimination",
    "confidential",
]
CATEGORIES: tuple[str, ...] = get_args(Category)
Role = Literal["owner", "admin", "leader", "tenant_admin"]
Recipient = Literal["owner", "admin", "tenant_admin"]
GroupKind = Literal["customer", "appchat", "internal"]
Mode = Literal["enforce", "shadow"]
ActionType = Literal["remind", "warn", "fine", "red_packet", "alert_admins", "remove_member"]
PLACEHOLDERS = ("name", "department", "position", "company")

DEFAULT_ACK_TERMS = ("收到", "好的", "明白", "了解", "执行", "马上执行", "马上办", "已完成", "OK")
DEFAULT_NOTICE_MARKERS = ("通知", "公告", "@所有人")

# Paths whose inputs may be confidential (tenant code names) or message text: never echoed in an error.
_SENSITIVE = frozenset({"extra_terms", "allow_terms", "clause_text", "clauses", "message", "keywords", "markers"})
_CUSTOM_CLAUSE_ID = r"^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_MAX_ALIASES = 50


# ---------------------------------------------------------------------------------------------------------- errors


@dataclass(frozen=True, slots=True)
class Problem:
    line: int | None  # 1-based line in the YAML file, None when the policy did not come from a file
    path: str  # where in the document, e.g. rules[3].clause ("" for the document itself)
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "policy"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class PolicyError(ValueError):
    """A policy file that cannot be used, with every problem found and where it is."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(f"{self.source}: {problem}" for problem in self.problems)


Loc = tuple[str | int, ...]


def _fail(problems: Sequence[tuple[Loc, str]]) -> PydanticCustomError:
    # Cross-field checks name the offending field relative to the validated object (`at`), so that the error can
    # still be traced to its YAML line; the summary keeps str(ValidationError) readable on its own.
    summary = "; ".join(message for _, message in problems)
    return PydanticCustomError("policy", "{summary}", {"summary": summary, "problems": tuple(problems)})


# ----------------------------------------------------------------------------------------------------- field types


def _number_to_text(value: Any) -> Any:
    # Ids and versions are text, but YAML reads `version: 3` as an int; our loader reads `3.10` as Decimal("3.10"),
    # which keeps the trailing zero a float would lose (3.10 is not 3.1).
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        raise PydanticCustomError("number_id", "write this as a quoted string: as a number 3.10 would read as 3.1")
    return value


def _known_clause(value: str) -> str:
    if CLAUSE_ID.match(value) and value not in clauses():
        raise PydanticCustomError(
            "unknown_clause", "unknown clause {clause}: rulebooks.md has no such id", {"clause": value}
        )
    return value


def _plain_date(value: Any) -> Any:
    # A date, not an instant: the tenant's time zone decides when the day starts.
    if isinstance(value, datetime) or (isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)):
        raise PydanticCustomError("plain_date", "write a calendar date (YYYY-MM-DD) without a time")
    return value


def _pad_clock(value: Any) -> Any:
    # 8:30 is how people write it; the ISO parser wants 08:30.
    if isinstance(value, str) and (match := re.fullmatch(r"(\d):(\d\d)", value.strip())):
        return f"0{match[1]}:{match[2]}"
    return value


def _local_time(value: time) -> time:
    if value.tzinfo is not None:
        raise PydanticCustomError("local_time", "write a wall-clock time (HH:MM) without an offset")
    return value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


_DOMAIN = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _domain(value: str) -> str:
    if len(value) > 253 or not _DOMAIN.match(value):
        raise PydanticCustomError("domain", "not a domain name: write example.com (subdomains are included)")
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), BeforeValidator(_number_to_text)
]
Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
UserId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")]
RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$", max_length=64)]
PolicyId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$", max_length=200)]
Version = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+@-]*$", max_length=200), BeforeValidator(_number_to_text)
]
ClauseId = Annotated[
    str,
    StringConstraints(pattern=rf"{CLAUSE_ID.pattern}|{_CUSTOM_CLAUSE_ID}", max_length=64),
    BeforeValidator(_number_to_text),
    AfterValidator(_known_clause),
]
CustomClauseId = Annotated[str, StringConstraints(pattern=_CUSTOM_CLAUSE_ID, max_length=64)]
Domain = Annotated[str, BeforeValidator(_lower), AfterValidator(_domain)]
Amount = Annotated[Decimal, Field(gt=0, le=100_000, decimal_places=2)]
Minutes = Annotated[int, Field(ge=1, le=7 * 24 * 60)]
LocalTime = Annotated[time, BeforeValidator(_pad_clock), AfterValidator(_local_time)]


def _unique(values: Sequence[Any], field: str) -> list[tuple[Loc, str]]:
    seen: set[Any] = set()
    problems: list[tuple[Loc, str]] = []
    for index, value in enumerate(values):
        if value in seen:
            problems.append(((field, index), f"{value} is listed twice"))
        seen.add(value)
    return problems


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True, use_attribute_docstrings=True)


# --------------------------------------------------------------------------------------------------------- actions


class Action(_Model):
    """One thing to do about an offence. In YAML usually a word (`warn`) or a one-key mapping (`fine: 100`)."""

    type: ActionType
    amount: Amount | None = None
    """CNY, for fine and red_packet; a fine without one takes the rule's amount. A red packet may have none."""
    severity: Literal["normal", "serious"] = "normal"
    """For warn: a serious warning (严重警告) counts as `escalation.serious_counts_as` warnings."""

    @model_validator(mode="after")
    def _fits_type(self) -> Action:
        if self.amount is not None and self.type not in ("fine", "red_packet"):
            raise _fail([(("amount",), f"{self.type} takes no amount")])
        if self.severity != "normal" and self.type != "warn":
            raise _fail([(("severity",), f"{self.type} takes no severity")])
        return self


class FineShorthand(_Model):
    fine: Amount


class RedPacketShorthand(_Model):
    red_packet: Amount


class WarnShorthand(_Model):
    warn: Literal["normal", "serious"]


def _expand_action(value: Any) -> Any:
    if isinstance(value, str):
        return {"type": value}
    if isinstance(value, dict) and len(value) == 1:
        ((key, argument),) = value.items()
        if key in ("fine", "red_packet"):
            return {"type": key, "amount": argument}
        if key == "warn":
            return {"type": key, "severity": argument}
    return value


ActionSpec = Annotated[
    Action,
    BeforeValidator(
        _expand_action,
        json_schema_input_type=ActionType | FineShorthand | RedPacketShorthand | WarnShorthand | Action,
    ),
]


class Step(_Model):
    """A rung of the ladder: from the `at`-th offence on (until a later step), do these actions."""

    at: int = Field(ge=1, le=100)
    do: tuple[ActionSpec, ...] = Field(min_length=1)


def _step_or_action(value: Any) -> str:
    if isinstance(value, Step) or (isinstance(value, dict) and ("do" in value or "at" in value)):
        return "step"
    return "action"


LadderItem = Annotated[
    Annotated[Step, Tag("step")] | Annotated[ActionSpec, Tag("action")],
    Discriminator(_step_or_action),
]


class Exemptions(_Model):
    """Members a rule never acts on."""

    roles: tuple[Role, ...] = ()
    userids: tuple[UserId, ...] = ()


class WorkingHours(_Model):
    """When set on an acknowledgement rule, its deadline clock runs only inside these hours (tenant time zone)."""

    start: LocalTime = time(9, 0)
    end: LocalTime = time(18, 0)
    weekdays: tuple[Annotated[int, Field(ge=1, le=7)], ...] = Field(default=(1, 2, 3, 4, 5), min_length=1)
    """ISO weekdays: 1 = Monday … 7 = Sunday."""

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        problems = _unique(self.weekdays, "weekdays")
        if self.start >= self.end:
            problems.append((("end",), "end must be after start"))
        if problems:
            raise _fail(problems)
        return self


# ----------------------------------------------------------------------------------------------------------- rules


class RuleBase(_Model):
    """What every rule has; `kind` picks the subclass and its parameters."""

    id: RuleId
    """Stable within a tenant: overrides replace and disable rules by id, the ledger records it."""
    clause: ClauseId
    """The clause this rule enforces: a rulebooks.md id (1.4.2) or one of this policy's own `clauses`."""
    clause_text: Text | None = None
    """Quote this instead of the clause's text (e.g. an excerpt, or a tenant's own wording)."""
    see_also: tuple[ClauseId, ...] = ()
    """Further clauses this rule also enforces (e.g. the how-to in 2.3.2 for the naming rule in 2.3.3)."""
    mode: Mode = "enforce"
    group_kinds: tuple[GroupKind, ...] | None = None
    """Only in these kinds of group; unset = every kind."""
    actions: tuple[LadderItem, ...] = ()
    exemptions: Exemptions = Exemptions()
    confirm: Literal["auto", "admin"] = "admin"
    """Whether a fine or red packet from this rule waits for an admin's 确认."""
    amount: Amount | None = None
    """CNY for `fine` steps that name no amount."""

    # Kinds that act on someone other than an offender restrict their actions; None allows all.
    allowed_actions: ClassVar[frozenset[str] | None] = None
    needs_actions: ClassVar[bool] = True

    @property
    def ladder(self) -> tuple[Step, ...]:
        """The actions as steps: a plain list of actions is one step from the first offence."""
        if not self.actions:
            return ()
        if isinstance(self.actions[0], Step):
            return tuple(item for item in self.actions if isinstance(item, Step))
        return (Step(at=1, do=tuple(item for item in self.actions if isinstance(item, Action))),)

    def actions_for(self, offence: int) -> tuple[Action, ...]:
        """What the `offence`-th offence (1-based, within the escalation window) does."""
        chosen: tuple[Action, ...] = ()
        for step in self.ladder:
            if step.at <= offence:
                chosen = step.do
        return chosen

    def fine_amount(self, action: Action) -> Decimal | None:
        return action.amount if action.amount is not None else self.amount

    @model_validator(mode="after")
    def _check(self) -> RuleBase:
        problems = self._problems()
        if problems:
            raise _fail(problems)
        return self

    def _problems(self) -> list[tuple[Loc, str]]:
        """Cross-field checks; kinds extend the list (one validator, so that a file shows all its problems at once)."""
        problems: list[tuple[Loc, str]] = []
        steps = [isinstance(item, Step) for item in self.actions]
        if any(steps) and not all(steps):
            problems.append((("actions",), "write either a list of actions or a list of steps ({at, do}), not both"))
        elif self.needs_actions and not self.actions:
            problems.append((("actions",), "a rule of this kind needs at least one action"))
        elif not self.needs_actions and self.actions:
            problems.append((("actions",), f"{self.kind_name()} rules take no actions"))
        elif all(steps) and self.actions:
            ats = [item.at for item in self.actions if isinstance(item, Step)]
            if ats[0] != 1:
                problems.append((("actions", 0, "at"), "the first step must start at the first offence (at: 1)"))
            for index in range(1, len(ats)):
                if ats[index] <= ats[index - 1]:
                    problems.append((("actions", index, "at"), "steps must go up: each at above the one before"))
        fines = False
        for loc, action in self._actions_with_loc():
            if self.allowed_actions is not None and action.type not in self.allowed_actions:
                allowed = ", ".join(sorted(self.allowed_actions)) or "none"
                problems.append((loc, f"{self.kind_name()} rules cannot {action.type} (allowed: {allowed})"))
            if action.type == "fine":
                fines = True
                if self.fine_amount(action) is None:
                    problems.append((loc, "a fine needs an amount: set amount on the rule or write fine: 100"))
        if self.amount is not None and not fines:
            problems.append((("amount",), "amount is set but no action fines"))
        if self.clause in self.see_also:
            problems.append((("see_also",), "see_also repeats the rule's own clause"))
        return problems

    def _actions_with_loc(self) -> Iterator[tuple[Loc, Action]]:
        for index, item in enumerate(self.actions):
            if isinstance(item, Step):
                for inner, action in enumerate(item.do):
                    yield ("actions", index, "do", inner), action
            else:
                yield ("actions", index), item

    @classmethod
    def kind_name(cls) -> str:
        return str(get_args(cls.model_fields["kind"].annotation)[0])


class LinkPolicy(_Model):
    """How links are judged (needs the malicious_links category)."""

    allow_domains: tuple[Domain, ...] = ()
    """Never flagged (subdomains included), e.g. the company's own site."""
    deny_domains: tuple[Domain, ...] = ()
    """Always flagged (subdomains included)."""
    allow_only: bool = False
    """Flag every link outside allow_domains (a group that only shares the company's own sites)."""
    flag_short_links: bool = True
    flag_apk: bool = True
    flag_bare_ip: bool = True


class ContentRule(RuleBase):
    """Messages matching the category lexicons (chalicelib/policies/lexicons/) or the tenant's own terms."""

    kind: Literal["content"]
    categories: tuple[Category, ...] = ()
    extra_terms: dict[Category, tuple[Term, ...]] = {}
    """Tenant terms per category, on top of the shipped lexicon (e.g. project code names under confidential)."""
    allow_terms: tuple[Term, ...] = ()
    """Never flagged, even inside a match (product names that look like a banned word)."""
    links: LinkPolicy | None = None
    """Unset: LinkPolicy's defaults, when malicious_links is a category."""

    def _problems(self) -> list[tuple[Loc, str]]:
        problems = super()._problems() + _unique(self.categories, "categories")
        if not self.categories and not self.extra_terms:
            problems.append((("categories",), "name at least one category or some extra_terms"))
        if self.links is not None and "malicious_links" not in self.categories:
            problems.append((("links",), "links settings need the malicious_links category"))
        return problems


class _AnswerRule(RuleBase):
    issuers: tuple[Role, ...] = ("leader",)
    """Whose messages open an obligation to answer."""
    issuer_userids: tuple[UserId, ...] = ()
    deadline_minutes: Minutes = 30
    remind_before_minutes: Minutes | None = None
    """Remind the members who still owe an answer this long before the deadline."""
    ack_terms: tuple[Term, ...] = Field(default=DEFAULT_ACK_TERMS, min_length=1)
    working_hours: WorkingHours | None = None

    def _problems(self) -> list[tuple[Loc, str]]:
        problems = super()._problems()
        if not self.issuers and not self.issuer_userids:
            problems.append((("issuers",), "name who issues: issuers or issuer_userids"))
        if self.remind_before_minutes is not None and self.remind_before_minutes >= self.deadline_minutes:
            problems.append((("remind_before_minutes",), "the reminder must come before the deadline"))
        return problems


class AckDeadlineRule(_AnswerRule):
    """A leader's task (篇一 四(2), 篇二 3.5): each member the leader @-mentions answers within the deadline. A task
    that mentions nobody opens no obligation: the responsible person cannot be guessed."""

    kind: Literal["ack_deadline"]
    keywords: tuple[Term, ...] = ()
    """When set, only a message with one of these words (今天, 尽快, …) is a task."""
    answer: Literal["any_reply", "ack_terms"] = "any_reply"
    """any_reply: any message of the member in the group after the task; ack_terms: a reply with one of ack_terms."""


class NoticeReplyRule(_AnswerRule):
    """A notice (篇一 四(3)) must be acknowledged with a 收到-style reply by every member."""

    kind: Literal["notice_reply"]
    issuers: tuple[Role, ...] = ("leader", "owner", "admin")
    deadline_minutes: Minutes = 60
    markers: tuple[Term, ...] = DEFAULT_NOTICE_MARKERS
    """A message from an issuer with one of these is a notice."""
    group_notice: bool = True
    """A new group announcement (群公告) is a notice too."""


class InactivityRule(RuleBase):
    """Members silent for `months` calendar months (counted from their last message, or from joining)."""

    kind: Literal["inactivity"]
    months: int = Field(default=3, ge=1, le=24)
    remind_after_months: tuple[Annotated[int, Field(ge=1)], ...] = ()
    """Gentle reminders before that (no offence), e.g. [1, 2]."""

    def _problems(self) -> list[tuple[Loc, str]]:
        problems = super()._problems() + _unique(self.remind_after_months, "remind_after_months")
        problems += [
            (("remind_after_months", index), "a reminder must come before months")
            for index, month in enumerate(self.remind_after_months)
            if month >= self.months
        ]
        return problems


class NicknameFormatRule(RuleBase):
    """The in-group nickname (群昵称) must follow a pattern: placeholders {name} {department} {position} {company},
    matched against the directory where it knows the value; `{x?}` may be empty. Or a regular expression."""

    kind: Literal["nickname_format"]
    pattern: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    regex: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    check_directory: bool = True
    """Compare placeholders with the directory (name, department, position) when the member is in it."""
    grace_minutes: Minutes = 60
    """Time a newcomer has to set the nickname before the first reminder."""
    recheck_hours: int = Field(default=24, ge=1, le=24 * 30)
    """After a reminder, check again this much later; a nickname still wrong is the next offence."""

    def _problems(self) -> list[tuple[Loc, str]]:
        problems = super()._problems()
        if (self.pattern is None) == (self.regex is None):
            problems.append((("pattern",), "give exactly one of pattern and regex"))
        if self.pattern is not None:
            found = _PLACEHOLDER.findall(self.pattern)
            problems += [
                (("pattern",), f"unknown placeholder {name!r} (known: {', '.join(PLACEHOLDERS)})")
                for name in found
                if name.removesuffix("?") not in PLACEHOLDERS
            ]
            if "name" not in found:  # {name?} does not count: the real name is the point of every naming clause
                problems.append((("pattern",), "the pattern must contain the {name} placeholder"))
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as error:
                problems.append((("regex",), f"not a regular expression: {error}"))
        return problems


class JoinEligibilityRule(RuleBase):
    """Who may be in the group (篇三 5, 篇四 5). Staff are eligible when they match any of departments, tags, userids
    (or when none is given); external contacts as `external` says. An ineligible newcomer is the offence."""

    kind: Literal["join_eligibility"]
    departments: tuple[Name, ...] = ()
    """Directory department names or ids (a department's sub-departments included)."""
    tags: tuple[Name, ...] = ()
    """Directory tags, or the corp's customer tags for external contacts."""
    userids: tuple[UserId, ...] = ()
    """Staff userids or external userids."""
    external: Literal["allow", "deny", "match"] = "allow"
    """External contacts: all allowed, none, or only those matching tags or userids."""
    allowed_actions: ClassVar[frozenset[str] | None] = frozenset({"remind", "alert_admins", "remove_member"})

    def _problems(self) -> list[tuple[Loc, str]]:
        problems = super()._problems()
        if self.external == "allow" and not (self.departments or self.tags or self.userids):
            problems.append((("external",), "this rule admits everyone: name departments, tags or userids"))
        return problems


class WelcomeRule(RuleBase):
    """On joining: the rules go to the newcomer 1:1; optionally the inviter is reminded to brief them (篇三 10)."""

    kind: Literal["welcome"]
    send_rules: bool = True
    ask_to_accept: bool = False
    """Ask the newcomer to confirm they accept the rules (reply 同意/收到)."""
    brief_inviter: bool = False
    message: Text | None = None
    """Greeting before the rules (Simplified Chinese)."""
    allowed_actions: ClassVar[frozenset[str] | None] = frozenset()
    needs_actions: ClassVar[bool] = False

    def _problems(self) -> list[tuple[Loc, str]]:
        problems = super()._problems()
        if not (self.send_rules or self.ask_to_accept or self.brief_inviter or self.message):
            problems.append((("send_rules",), "this rule does nothing: send rules, a message, or brief the inviter"))
        return problems


class QuitRule(RuleBase):
    """Leaving the group (篇二 3.7)."""

    kind: Literal["quit"]
    self_quit_only: bool = True
    """Only members who leave by themselves, not those an admin removes."""
    allowed_actions: ClassVar[frozenset[str] | None] = frozenset(
        {"remind", "warn", "fine", "red_packet", "alert_admins"}
    )


class GroupNameRule(RuleBase):
    """The group's name (篇一 二(1), 篇三 1): a rename by anyone but `renamers` is the offence."""

    kind: Literal["group_name"]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None
    """The locked name; unset: the name the group has when enrolled. A rename by an allowed renamer becomes it."""
    renamers: tuple[Role, ...] = ("owner",)
    """Who may rename (owner: 未经群主同意不得更改)."""
    restore: bool = True
    """Rename it back where the API allows (app-created groups); elsewhere admins are told to."""


class VoiceBudgetRule(RuleBase):
    """Voice messages per member per week (Monday–Sunday, tenant time zone); each one over budget is an offence."""

    kind: Literal["voice_budget"]
    per_week: int = Field(ge=1, le=1000)


class RequiredMembersRule(RuleBase):
    """People who must be in the group (篇一 二(2)); each one missing is reported."""

    kind: Literal["required_members"]
    userids: tuple[UserId, ...] = ()
    departments: tuple[Name, ...] = ()
    tags: tuple[Name, ...] = ()
    positions: tuple[Name, ...] = ()
    """Directory positions (职务), e.g. 总监, 店长."""
    leaders: bool = False
    """Everyone the directory marks as a department leader (is_leader_in_dept)."""
    allowed_actions: ClassVar[frozenset[str] | None] = frozenset({"remind", "alert_admins"})

    def _problems(self) -> list[tuple[Loc, str]]:
        problems = super()._problems()
        if not (self.userids or self.departments or self.tags or self.positions or self.leaders):
            problems.append((("userids",), "name who is required: userids, departments, tags, positions or leaders"))
        return problems


class ManualRule(RuleBase):
    """A clause only people can judge: an admin records the offence (警告 @成员 条款 说明, e.g. from a reported
    screenshot) and this rule's actions follow. Clauses without a manual rule get a plain warning."""

    kind: Literal["manual"]


Rule = Annotated[
    ContentRule
    | AckDeadlineRule
    | NoticeReplyRule
    | InactivityRule
    | NicknameFormatRule
    | JoinEligibilityRule
    | WelcomeRule
    | QuitRule
    | GroupNameRule
    | VoiceBudgetRule
    | RequiredMembersRule
    | ManualRule,
    Field(discriminator="kind"),
]
RULE_KINDS: tuple[str, ...] = tuple(cls.kind_name() for cls in get_args(get_args(Rule)[0]))


# -------------------------------------------------------------------------------------------------- policy sections


class RulebookRef(_Model):
    """The rulebook edition a policy implements."""

    id: Name
    """A rulebooks.md id ("1" = 篇一) or the name of the tenant's own rulebook."""
    version: Version
    effective: Annotated[date, BeforeValidator(_plain_date)]
    """Enforced from 00:00 of this date in the tenant's time zone; before it every rule runs as shadow."""

    @model_validator(mode="after")
    def _check_known(self) -> RulebookRef:
        if self.id.isdigit() and self.id not in rulebooks():
            raise _fail([(("id",), f"unknown rulebook {self.id}: rulebooks.md has no such id")])
        return self


class Leaders(_Model):
    """Who counts as a leader (issuer of tasks and notices, exemptions)."""

    userids: tuple[UserId, ...] = ()
    from_directory: bool = True
    """Also everyone the directory marks as a department leader (is_leader_in_dept)."""


class EscalationStep(_Model):
    warnings: int = Field(ge=1, le=100)
    """The step runs when a member's warnings (any rule) within the window reach this many."""
    do: tuple[ActionSpec, ...] = Field(min_length=1)


class Escalation(_Model):
    """Warnings across all rules, in a sliding window: warnings older than window_days stop counting (they stay on
    record). Rule ladders count offences in the same window."""

    window_days: int = Field(default=30, ge=1, le=366)
    serious_counts_as: int = Field(default=2, ge=1, le=10)
    steps: tuple[EscalationStep, ...] = (EscalationStep(warnings=3, do=(Action(type="alert_admins"),)),)

    @model_validator(mode="after")
    def _check_steps(self) -> Escalation:
        problems: list[tuple[Loc, str]] = []
        for index, step in enumerate(self.steps):
            if index and step.warnings <= self.steps[index - 1].warnings:
                problems.append((("steps", index, "warnings"), "steps must go up: each above the one before"))
            problems += [
                (
                    ("steps", index, "do", inner),
                    f"escalation cannot {action.type} (allowed: remind, alert_admins, remove_member)",
                )
                for inner, action in enumerate(step.do)
                if action.type not in ("remind", "alert_admins", "remove_member")
            ]
        if problems:
            raise _fail(problems)
        return self


class Alerts(_Model):
    """Who receives admin alerts."""

    to: tuple[Recipient, ...] = ("owner", "admin", "tenant_admin")
    userids: tuple[UserId, ...] = ()

    @model_validator(mode="after")
    def _check_someone(self) -> Alerts:
        if not self.to and not self.userids:
            raise _fail([(("to",), "alerts must reach someone")])
        return self


class Digest(_Model):
    """The weekly report to owners and admins: shadow hits, warnings, open fines."""

    enabled: bool = True
    weekday: int = Field(default=1, ge=1, le=7)
    at: LocalTime = time(9, 0)
    to: tuple[Recipient, ...] = ("owner", "admin")


class Unenforceable(_Model):
    """A clause, or part of one, that no rule enforces, and why (shown to admins)."""

    clause: ClauseId
    part: Text | None = None
    """The part not enforced, when rules enforce the rest of the clause."""
    reason: Text
    declarative: bool = False
    """A purpose, scope or effective-date clause: there is no behaviour to enforce."""


# ---------------------------------------------------------------------------------------------------------- policy


R = TypeVar("R", bound=RuleBase)


class Policy(_Model):
    """A tenant's default policy or one group's override (see the module docstring for the merge)."""

    schema_version: Literal[1]
    id: PolicyId
    version: Version
    """This file's version; ledger entries record it."""
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None
    rulebook: RulebookRef | None = None
    leaders: Leaders = Leaders()
    rules: tuple[Rule, ...] = ()
    disable: tuple[RuleId, ...] = ()
    """In a group override: tenant-default rules this group does not run."""
    clauses: dict[CustomClauseId, Text] = {}
    """The tenant's own clauses, for rulebooks other than the seeds; ids start with a letter."""
    escalation: Escalation = Escalation()
    alerts: Alerts = Alerts()
    digest: Digest = Digest()
    unenforceable: tuple[Unenforceable, ...] = ()

    @model_validator(mode="after")
    def _check_references(self, info: ValidationInfo) -> Policy:
        problems: list[tuple[Loc, str]] = []
        inherited = (info.context or {}).get("clauses", ())
        own = set(self.clauses) | set(inherited)
        ids: set[str] = set()
        for index, rule in enumerate(self.rules):
            if rule.id in ids:
                problems.append((("rules", index, "id"), f"rule id {rule.id} is used twice"))
            ids.add(rule.id)
            cited: list[tuple[Loc, str]] = [(("rules", index, "clause"), rule.clause)]
            cited += [(("rules", index, "see_also", n), clause) for n, clause in enumerate(rule.see_also)]
            problems += [(loc, f"unknown clause {c}: not under clauses:") for loc, c in cited if _is_missing(c, own)]
        for index, rule_id in enumerate(self.disable):
            if rule_id in ids:
                problems.append((("disable", index), f"{rule_id} is both disabled and defined in this file"))
        seen: set[tuple[str, str | None]] = set()
        for index, entry in enumerate(self.unenforceable):
            if _is_missing(entry.clause, own):
                problems.append(
                    (("unenforceable", index, "clause"), f"unknown clause {entry.clause}: not under clauses:")
                )
            if (entry.clause, entry.part) in seen:
                problems.append((("unenforceable", index), f"clause {entry.clause} is listed twice"))
            seen.add((entry.clause, entry.part))
        if problems:
            raise _fail(problems)
        return self

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def rules_of(self, kind: type[R]) -> tuple[R, ...]:
        return tuple(rule for rule in self.rules if isinstance(rule, kind))

    def clause_text(self, clause_id: str) -> str:
        """The text of a clause: the policy's own clauses first, then rulebooks.md."""
        if clause_id in self.clauses:
            return self.clauses[clause_id]
        return clauses()[clause_id].text

    def quote(self, rule: RuleBase) -> str:
        """What member messages quote for this rule."""
        return rule.clause_text or self.clause_text(rule.clause)

    def covered_clauses(self) -> set[str]:
        """Clauses some rule enforces (its clause or see_also)."""
        return {clause for rule in self.rules for clause in (rule.clause, *rule.see_also)}


def _is_missing(clause_id: str, own: set[str]) -> bool:
    # rulebooks.md ids were checked field by field; only the letter-led ids need the policy's own clauses.
    return not CLAUSE_ID.match(clause_id) and clause_id not in own


# ------------------------------------------------------------------------------------------------------------ YAML


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps 3.10 as Decimal("3.10"), 18:00 as "18:00" (YAML 1.1 reads both as numbers), refuses
    duplicate keys (YAML keeps the last silently) and caps aliases (shared nodes multiply validation work)."""

    _aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > _MAX_ALIASES:
                raise yaml.composer.ComposerError(None, None, "too many aliases", self.peek_event().start_mark)
        return super().compose_node(parent, index)


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node)
    if ":" in text:
        return text
    try:
        return Decimal(text.replace("_", ""))
    except InvalidOperation:
        return loader.construct_yaml_float(node)


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node)
    return text if ":" in text else loader.construct_yaml_int(node)


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, list | dict):
            raise yaml.constructor.ConstructorError(None, None, "a key must be a plain value", key_node.start_mark)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def _read_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


def _yaml_problem(error: yaml.YAMLError) -> Problem:
    # The message only, never the snippet PyYAML appends: that quotes the file, which may hold confidential terms.
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or "not valid YAML"
    if mark is None:
        return Problem(None, "", f"not valid YAML: {problem}")
    return Problem(mark.line + 1, "", f"{problem} (column {mark.column + 1})")


def _locate(node: yaml.Node | None, loc: Loc) -> tuple[int | None, str]:
    """The line and the readable path of a pydantic error location, walked through the YAML node tree. Location parts
    the document does not have are pydantic's own (union tags such as `content`) and are skipped, except a last part,
    which names a missing field."""
    line = node.start_mark.line + 1 if node is not None else None
    path = ""
    for position, part in enumerate(loc):
        last = position == len(loc) - 1
        if node is None:
            if isinstance(part, int):
                path += f"[{part}]"
            elif part not in RULE_KINDS and part not in ("step", "action"):
                path += f".{part}" if path else str(part)
            continue
        if isinstance(node, yaml.MappingNode):
            entry = next(
                (
                    (key, value)
                    for key, value in node.value
                    if isinstance(key, yaml.ScalarNode) and key.value == str(part)
                ),
                None,
            )
            if entry is not None:
                line, node = entry[0].start_mark.line + 1, entry[1]
            elif not last:
                continue
            path += f".{part}" if path else str(part)
        elif isinstance(node, yaml.SequenceNode):
            if isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
                path += f"[{part}]"
        else:
            break
    return line, path


def _error_problems(error: ValidationError, root: yaml.Node | None) -> list[Problem]:
    found: list[Problem] = []
    for detail in error.errors(include_url=False):
        loc = tuple(detail["loc"])
        if detail["type"] in ("union_tag_invalid", "union_tag_not_found"):
            # The only discriminated union a file writes a tag for: point at `kind`, not at the whole rule.
            loc += ("kind",)
            detail["msg"] = f"kind must be one of: {', '.join(RULE_KINDS)}"
        nested = (detail.get("ctx") or {}).get("problems")
        if nested:
            for at, message in nested:
                line, path = _locate(root, loc + tuple(at))
                found.append(Problem(line, path, message))
            continue
        line, path = _locate(root, loc)
        message = detail["msg"]
        value = detail.get("input")
        shown = isinstance(value, str | int | Decimal | date) and not isinstance(value, bool)
        if shown and not _SENSITIVE.intersection(p for p in loc if isinstance(p, str)):
            message += f" (got {str(value)[:40]!r})"
        found.append(Problem(line, path, message))
    return sorted(found, key=lambda p: (p.line or 0, p.path))


def _validate(data: Any, root: yaml.Node | None, source: str, base: Policy | None) -> Policy:
    if not isinstance(data, dict):
        line = root.start_mark.line + 1 if root is not None else 1
        raise PolicyError(source, [Problem(line, "", "a policy is a mapping: schema_version, id, version, rules, …")])
    context = {"clauses": tuple(base.clauses)} if base is not None else None
    try:
        return Policy.model_validate(data, context=context)
    except ValidationError as error:
        raise PolicyError(source, _error_problems(error, root)) from None


def parse_policy(text: str, *, source: str = "policy", base: Policy | None = None) -> Policy:
    """A policy from YAML text. `base`: the tenant default an override will merge onto (its own clauses may be
    cited). Raises PolicyError with line numbers."""
    try:
        data, root = _read_yaml(text)
    except yaml.YAMLError as error:
        raise PolicyError(source, [_yaml_problem(error)]) from None
    return _validate(data, root, source, base)


def load_policy(path: str | Path, *, base: Policy | None = None) -> Policy:
    path = Path(path)
    return parse_policy(path.read_text(encoding="utf-8"), source=path.name, base=base)


@cache
def shipped_policy(name: str) -> Policy:
    """A policy shipped in chalicelib/policies/ (`default` or a seed), parsed once per container."""
    if name != "default" and name not in SEED_POLICIES:
        raise KeyError(name)
    return load_policy(POLICY_DIR / f"{name}.yaml")


def default_policy() -> Policy:
    """What a tenant without a policy of its own runs."""
    return shipped_policy("default")


# ----------------------------------------------------------------------------------------------------------- merge

_SECTIONS = ("name", "rulebook", "leaders", "escalation", "alerts", "digest")


def merge(base: Policy, override: Policy) -> Policy:
    """The policy a group runs: the tenant default `base` with the group's `override` on top (module docstring)."""
    dropped = set(override.disable)
    replacing = {rule.id: rule for rule in override.rules}
    rules = [replacing.pop(rule.id, rule) for rule in base.rules if rule.id not in dropped]
    rules += [rule for rule in override.rules if rule.id in replacing]
    entries = {(entry.clause, entry.part): entry for entry in (*base.unenforceable, *override.unenforceable)}
    merged: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "id": f"{base.id}+{override.id}",
        "version": f"{base.id}@{base.version}+{override.id}@{override.version}",
        "rules": tuple(rules),
        "clauses": {**base.clauses, **override.clauses},
        "unenforceable": tuple(entries.values()),
    }
    for section in _SECTIONS:
        merged[section] = getattr(override if section in override.model_fields_set else base, section)
    try:
        return Policy.model_validate(merged)
    except ValidationError as error:
        raise PolicyError(f"{base.id}+{override.id}", _error_problems(error, None)) from None


# ---------------------------------------------------------------------------------------------------------- schema


def export_schema() -> dict[str, Any]:
    """The JSON Schema of a policy file, for editors (validation mode: what a file may contain)."""
    schema = Policy.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": "qungui policy"}


def schema_json() -> str:
    """export_schema() as committed in chalicelib/policies/schema.json."""
    return json.dumps(export_schema(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    # python -m chalicelib.rules.policy: re-export the schema after a model change.
    SCHEMA_PATH.write_text(schema_json(), encoding="utf-8")

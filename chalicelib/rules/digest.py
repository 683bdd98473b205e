"""The weekly digest (群规周报) of one group for its owner and admins: shadow hits (what the rulebook would have
done), warnings, open fines and red packets, and what was settled. Pure: no boto3, no clock; the job
(chalicelib/jobs/digest.py) reads the ledger and passes `now`.

When: the policy's `digest` says a weekday (1 = Monday) and a local time; weeks run Monday to Sunday in the tenant's
time zone, and a week's digest is due from its slot on until it has been sent (GroupRecord.digest_sent_for holds the
ISO week last sent). It covers the seven days before the slot, so consecutive digests cover the time without gaps
or overlap however late the job runs. Open money is listed whatever its date: it is what still needs an admin.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from chalicelib.decisions import Decision, MarkDigestSent, SendDigest
from chalicelib.record import Record
from chalicelib.rules.commands_parse import label_of
from chalicelib.rules.compiled import Act, CompiledPolicy
from chalicelib.texts import digest as texts
from chalicelib.texts.alerts import local_time

if TYPE_CHECKING:
    from chalicelib.groups import GroupView
    from chalicelib.store.models import LedgerEntry

ROLES = ("owner", "admin", "tenant_admin")
MONEY = ("fine", "red_packet")
OPEN = ("active", "owed")
SETTLEMENTS = {"waiver": "waived", "payment": "paid", "reversal": "reversed"}


class DigestSettings(Record):
    """The policy's `digest` section (policy.py's Digest), as the compiled document carries it."""

    enabled: bool = True
    weekday: int = 1  # ISO: 1 = Monday … 7 = Sunday
    at: time = time(9, 0)
    to: tuple[str, ...] = ("owner", "admin")


class Period(Record):
    """One week's digest: `week` is the ISO week of the slot ("2026-W48"); it covers [start, end), end = the slot."""

    week: str
    start: int
    end: int


def settings_of(document: Any) -> DigestSettings:
    """The compiled policy's digest dict ({enabled, weekday, at "HH:MM:SS", to}); None or missing keys: defaults."""
    if not isinstance(document, dict):
        return DigestSettings()
    default = DigestSettings()
    at = document.get("at")
    weekday = document.get("weekday")
    to = document.get("to")
    return DigestSettings(
        enabled=bool(document.get("enabled", True)),
        weekday=int(weekday) if isinstance(weekday, int) and 1 <= weekday <= 7 else default.weekday,
        at=time.fromisoformat(at) if isinstance(at, str) and at else default.at,
        to=tuple(str(role) for role in to) if isinstance(to, list | tuple) else default.to,
    )


def zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (KeyError, ValueError):
        return ZoneInfo("Asia/Shanghai")  # the tenant default (DESIGN.md §3); a bad name never stops a digest


def period_at(now: float, timezone: str, weekday: int, at: time) -> Period:
    """The digest period of the local week (Monday–Sunday) that contains `now`: its slot is that week's `weekday` at
    `at`, local time, whether or not `now` has reached it yet (see is_due)."""
    tz = zone(timezone)
    today = datetime.fromtimestamp(now, tz=UTC).astimezone(tz).date()
    slot_day = today - timedelta(days=today.isoweekday() - 1) + timedelta(days=weekday - 1)
    year, week, _ = slot_day.isocalendar()
    return Period(week=f"{year}-W{week:02d}", start=_epoch(slot_day - timedelta(days=7), at, tz),
                  end=_epoch(slot_day, at, tz))  # fmt: skip


def _epoch(day: date, at: time, tz: ZoneInfo) -> int:
    # Local wall time: across a DST change a week is 167 or 169 hours, and the slot stays at the same local time.
    return int(datetime.combine(day, at, tzinfo=tz).timestamp())


def is_due(period: Period, now: float, sent_for: str | None) -> bool:
    return now >= period.end and sent_for != period.week


def recipients(settings: DigestSettings, group: GroupView, tenant_admins: Sequence[str]) -> tuple[str, ...]:
    """The digest's recipients by the policy's roles, in role order, each once."""
    return group.holders(settings.to, tenant_admins)


class Report(Record):
    open_money: tuple[texts.OpenMoney, ...] = ()
    warnings: tuple[texts.MemberWarnings, ...] = ()
    shadows: tuple[texts.ShadowHits, ...] = ()
    settled: texts.Settled = texts.Settled()

    @property
    def quiet(self) -> bool:
        return not (self.open_money or self.warnings or self.shadows or self.settled)


def report_of(entries: Iterable[LedgerEntry], chat_id: str, period: Period, policy: CompiledPolicy) -> Report:
    """What the digest says about `chat_id`: entries of other groups (and 1:1 ones) are ignored."""
    mine = [entry for entry in entries if entry.group == chat_id]
    recent = [entry for entry in mine if period.start <= int(entry.at) < period.end]
    open_money = sorted(
        (entry for entry in mine if entry.kind in MONEY and entry.status in OPEN),
        key=lambda e: (e.status != "active", int(e.at), e.entry_id),  # awaiting confirmation first, oldest first
    )
    settled = Counter(SETTLEMENTS[entry.kind] for entry in recent if entry.kind in SETTLEMENTS)
    return Report(
        open_money=tuple(
            texts.OpenMoney(entry_id=e.entry_id, member=e.member, kind=e.kind, amount=e.amount, status=e.status)
            for e in open_money
        ),
        warnings=_warnings([entry for entry in recent if entry.kind == "warning"]),
        shadows=_shadows([entry for entry in recent if entry.kind == "shadow"], policy),
        settled=texts.Settled(**settled),
    )


def _warnings(warnings: list[LedgerEntry]) -> tuple[texts.MemberWarnings, ...]:
    counts = Counter(entry.member for entry in warnings)
    serious = Counter(entry.member for entry in warnings if getattr(entry, "severity", None) == "serious")
    return tuple(
        texts.MemberWarnings(member=member, count=count, serious=serious[member])
        for member, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    )


def _shadows(shadows: list[LedgerEntry], policy: CompiledPolicy) -> tuple[texts.ShadowHits, ...]:
    by_rule: dict[str, list[LedgerEntry]] = {}
    for entry in shadows:
        by_rule.setdefault(entry.rule, []).append(entry)
    rules = {rule.id: rule for rule in policy.rules}
    hits = [
        texts.ShadowHits(
            rule=rule_id,
            label=label_of(found[0], policy),
            count=len(found),
            members=len({entry.member for entry in found}),
            would=_would(rules[rule_id].actions_for(1)) if rule_id in rules else "",
        )
        for rule_id, found in by_rule.items()
    ]
    return tuple(sorted(hits, key=lambda hit: (-hit.count, hit.rule)))


_ACTS = {"remind": "私信提醒", "alert_admins": "通知管理员", "remove_member": "移出群聊"}


def _would(acts: Sequence[Act]) -> str:
    said: list[str] = []
    for act in acts:
        money = f"{act.amount:g}元" if act.amount is not None else ""
        if act.type == "warn":
            said.append("记严重警告" if act.severity == "serious" else "记警告")
        elif act.type == "fine":
            said.append(f"罚款{money}")
        elif act.type == "red_packet":
            said.append(f"发群红包{money}")
        elif act.type in _ACTS:
            said.append(_ACTS[act.type])
    return "、".join(dict.fromkeys(said))


def decide(
    entries: Iterable[LedgerEntry],
    group: GroupView,
    period: Period,
    settings: DigestSettings,
    *,
    policy: CompiledPolicy,
    tenant_admins: Sequence[str] = (),
    timezone: str = "Asia/Shanghai",
) -> list[Decision]:
    """The digest of `group` for `period`: [SendDigest, MarkDigestSent], or only [MarkDigestSent] for a quiet week
    (nothing to report, and nothing recomputed until next week), or [] when it is off or nobody would receive it."""
    to = recipients(settings, group, tenant_admins)
    if not settings.enabled or not to:
        return []
    mark = MarkDigestSent(chat_id=group.chat_id, period=period.week)
    report = report_of(entries, group.chat_id, period, policy)
    if report.quiet:
        return [mark]
    text = texts.weekly(
        group_name=group.name or group.chat_id,
        start=local_time(period.start, timezone),
        end=local_time(period.end, timezone),
        open_money=report.open_money,
        warnings=report.warnings,
        shadows=report.shadows,
        settled=report.settled,
    )
    return [SendDigest(recipients=to, text=text, group=group.chat_id), mark]

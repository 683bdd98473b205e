"""The local stack's schedule evaluation: the expressions Chalice emits, evaluated as EventBridge does (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from chalice.app import Cron, Rate

from qungui_cli.scheduler import Schedule, schedules_of


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def fires(expression: str, start: str, end: str) -> bool:
    return Schedule("job", lambda event, context: None, expression).due(at(start), at(end))


@pytest.mark.parametrize(
    ("expression", "start", "end", "expected"),
    [
        (Rate(30, unit=Rate.MINUTES).to_string(), "2026-12-01T09:29:59", "2026-12-01T09:30:00", True),
        (Rate(30, unit=Rate.MINUTES).to_string(), "2026-12-01T09:30:00", "2026-12-01T09:59:59", False),
        (Rate(1, unit=Rate.MINUTES).to_string(), "2026-12-01T09:30:10", "2026-12-01T09:31:00", True),
        (Rate(1, unit=Rate.HOURS).to_string(), "2026-12-01T09:00:01", "2026-12-01T09:59:00", False),
        # Monthly at 03:00 UTC on the 1st: the inactivity sweep's expression.
        (Cron(0, 3, 1, "*", "?", "*").to_string(), "2026-12-01T02:59:30", "2026-12-01T03:00:30", True),
        (Cron(0, 3, 1, "*", "?", "*").to_string(), "2026-12-02T02:59:30", "2026-12-02T03:00:30", False),
        # Weekdays 1 = Sunday … 7 = Saturday in EventBridge: 2-6 is Monday to Friday. 2026-12-05 is a Saturday.
        (Cron("*/15", "1-10", "?", "*", "2-6", "*").to_string(), "2026-12-04T09:44:30", "2026-12-04T09:45:00", True),
        (Cron("*/15", "1-10", "?", "*", "2-6", "*").to_string(), "2026-12-05T09:44:30", "2026-12-05T09:45:00", False),
        (Cron("5,35", "*", "*", "*", "?", "*").to_string(), "2026-12-05T10:34:00", "2026-12-05T10:35:00", True),
    ],
)
def test_expressions(expression, start, end, expected):
    assert fires(expression, start, end) is expected


def test_unsupported_expression_is_refused():
    with pytest.raises(ValueError, match="unsupported"):
        fires("at(2026-12-01T00:00:00)", "2026-12-01T00:00:00", "2026-12-01T00:01:00")


def test_the_apps_schedules_are_found():
    import app

    names = {schedule.name: schedule.expression for schedule in schedules_of(app.app)}
    assert names["deliver"] == "rate(1 minute)"

"""The local stack's EventBridge: runs each `@app.schedule` handler of app.py on the wall clock, as AWS would.

Supports the expressions Chalice emits: `rate(N minute|minutes|hour|hours|day|days)` and six-field
`cron(min hour day-of-month month day-of-week year)` with `*`, `?`, lists, ranges and steps, evaluated in UTC like
EventBridge's scheduled rules. The `deliver` job additionally runs every few seconds: in AWS the table stream starts
delivery at once, and this stands in for it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
STREAM_STAND_IN_SECONDS = 2.0


def _field(spec: str, low: int, high: int) -> set[int]:
    if spec in ("*", "?"):
        return set(range(low, high + 1))
    values: set[int] = set()
    for part in spec.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base in ("*", ""):
            start, end = low, high
        elif "-" in base:
            start, end = (int(x) for x in base.split("-", 1))
        else:
            start = int(base)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    return values


@dataclass(frozen=True)
class Schedule:
    name: str
    handler: Callable[..., Any]
    expression: str

    def due(self, last_run: float, now: float) -> bool:
        """Whether a firing time falls in (last_run, now]."""
        rate = _RATE.match(self.expression)
        if rate:
            period = int(rate.group(1)) * _UNITS[rate.group(2)]
            return int(now // period) > int(last_run // period)
        if self.expression.startswith("cron(") and self.expression.endswith(")"):
            return any(self._cron_matches(minute * 60) for minute in range(int(last_run // 60) + 1, int(now // 60) + 1))
        raise ValueError(f"unsupported schedule expression {self.expression!r}")

    def _cron_matches(self, epoch: float) -> bool:
        minute, hour, day, month, weekday, _year = self.expression[5:-1].split()
        moment = datetime.fromtimestamp(epoch, tz=UTC)
        # EventBridge numbers weekdays 1 (Sunday) … 7 (Saturday).
        eventbridge_weekday = (moment.isoweekday() % 7) + 1
        return (
            moment.minute in _field(minute, 0, 59)
            and moment.hour in _field(hour, 0, 23)
            and moment.day in _field(day, 1, 31)
            and moment.month in _field(month, 1, 12)
            and eventbridge_weekday in _field(weekday, 1, 7)
        )


def schedules_of(chalice_app: Any) -> list[Schedule]:
    found = []
    for source in chalice_app.event_sources:
        expression = getattr(source, "schedule_expression", None)
        if expression is None:
            continue
        text = expression if isinstance(expression, str) else expression.to_string()
        handler = chalice_app.handler_map[source.name] if hasattr(chalice_app, "handler_map") else None
        if handler is None:
            continue
        found.append(Schedule(source.name, handler, text))
    return found


class LocalScheduler:
    def __init__(self, schedules: list[Schedule], clock: Callable[[], float] = time.time) -> None:
        self._schedules = schedules
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="qungui-schedules", daemon=True)
        self.errors: list[str] = []

    def start(self) -> LocalScheduler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        last = self._clock()
        last_deliver = 0.0
        while not self._stop.wait(0.5):
            now = self._clock()
            for schedule in self._schedules:
                stand_in = schedule.name == "deliver" and now - last_deliver >= STREAM_STAND_IN_SECONDS
                if stand_in or schedule.due(last, now):
                    if schedule.name == "deliver":
                        last_deliver = now
                    self._fire(schedule, now)
            last = now

    def _fire(self, schedule: Schedule, now: float) -> None:
        event = {"version": "0", "id": f"local-{schedule.name}-{int(now)}", "detail-type": "Scheduled Event",
                 "source": "aws.events", "account": "000000000000", "region": "local",
                 "time": datetime.fromtimestamp(now, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "detail": {},
                 "resources": [f"arn:aws:events:local:000000000000:rule/qungui-dev-{schedule.name}-event"]}  # fmt: skip
        from chalice.local import LambdaContext

        try:
            schedule.handler(event, LambdaContext(schedule.name, 512, max_runtime_ms=900_000))
        except Exception as exc:  # a failing job must not stop the others; it is reported
            self.errors.append(f"{schedule.name}: {exc}")
            print(f"qungui dev: job {schedule.name} failed: {exc}", flush=True)

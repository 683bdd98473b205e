"""Structured logs and EMF metrics (Powertools). Never log secrets or message bodies at INFO."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from chalicelib.events import Channel, Event, Unrecognized

SERVICE = "qungui"
logger = Logger(service=SERVICE)


def _count(name: str, dimension: str, value: str) -> None:
    if is_metrics_disabled():  # single_metric ignores POWERTOOLS_METRICS_DISABLED; Metrics.flush honours it
        return
    # One EMF record per outcome, written at once, so each carries its own dimension (rejection reason, channel)
    # and nothing waits for a flush that an exception could skip.
    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=SERVICE) as metric:
        metric.add_dimension(name=dimension, value=value)


class PowertoolsTelemetry:
    def accepted(self, channel: Channel, tenant: str, event: Event, duplicate: bool) -> None:
        details = {
            "tenant": tenant,
            "channel": channel.value,
            "event_id": event.event_id,
            "event_type": type(event).__name__,
        }
        if isinstance(event, Unrecognized):
            details["unrecognized"] = event.type_name
        group = getattr(event, "chat_id", None)
        if group:
            details["group"] = group
        logger.info("callback duplicate" if duplicate else "callback accepted", extra=details)
        _count("CallbackDuplicate" if duplicate else "CallbackAccepted", "channel", channel.value)

    def rejected(self, channel: Channel, tenant: str, reason: str, status: int) -> None:
        logger.info(
            "callback rejected",
            extra={"tenant": tenant[:64], "channel": channel.value, "reason": reason, "status": status},
        )
        _count("CallbackRejected", "reason", reason)

    def unavailable(self, channel: Channel, tenant: str, reason: str) -> None:
        logger.warning("dependency unavailable", extra={"tenant": tenant, "channel": channel.value, "reason": reason})
        _count("DependencyFailure", "channel", channel.value)


def count_dead_letter(item: object) -> None:
    tenant = str(getattr(item, "tenant", ""))
    logger.warning("outbox item dead", extra={"tenant": tenant, "item": str(getattr(item, "sk", "")),
                                             "error": str(getattr(item, "last_error", ""))[:200]})  # fmt: skip
    _count("OutboxDead", "channel", str(getattr(item, "channel", "")))

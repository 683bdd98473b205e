"""Scheduled jobs: thin wrappers that turn a tick (EventBridge, `qungui job`, the local stack) into calls of the
same code. Every job takes its clock from the caller, so `qungui job NAME --now T` runs exactly what AWS runs. The
functions are named apart from the submodules (`jobs.deliver` is the module, `jobs.deliver_due` the job)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib import runtime


def deliver_due(now: float) -> dict[str, Any]:
    report = runtime.deliverer().run(now)
    return {"sent": report.sent, "retried": report.retried, "dead": report.dead, "deferred": report.deferred,
            "skipped": report.skipped}  # fmt: skip


def deliver_images(images: list[dict[str, Any]], now: float) -> dict[str, Any]:
    """Deliver the outbox items just written, from the table stream's NEW_IMAGEs (no read: the stream carries the
    item); the claim re-checks its state, so a stale image never sends twice."""
    from chalicelib.jobs.deliver import DeliveryReport
    from chalicelib.store.models import OutboxItem

    report = DeliveryReport()
    for image in images:
        runtime.deliverer().deliver(OutboxItem.from_raw_data(image), now, report)
    return {"sent": report.sent, "retried": report.retried, "dead": report.dead, "deferred": report.deferred}


def expire_evidence(now: float) -> dict[str, Any]:
    from chalicelib.jobs.retention import expire_evidence as run

    return run(now)


def reconcile_due(now: float) -> dict[str, Any]:
    """Pick the groups due for reconciliation (requested by an event, or their poll interval passed) and fan them out
    (or reconcile them here when no queue is configured)."""
    return runtime.reconciler().run(now)


def reconcile_group(message: dict[str, Any]) -> dict[str, Any]:
    """One group's reconciliation, from the sweep queue: {"tenant", "chat_id", "tick"}."""
    outcome = runtime.reconciler().reconcile(str(message["tenant"]), str(message["chat_id"]), int(message["tick"]))
    return {"chat_id": outcome.chat_id, "status": outcome.status, "joined": len(outcome.joined),
            "left": len(outcome.left), "seeded": outcome.seeded}  # fmt: skip


def send_digests(now: float) -> dict[str, Any]:
    """Every group's weekly digest whose slot (policy digest weekday + time, tenant time zone) has come."""
    from chalicelib.jobs.digest import send_digests as run

    return run(now)


JOBS: dict[str, Callable[[float], dict[str, Any]]] = {
    "deliver": deliver_due,
    "retention": expire_evidence,
    "reconcile": reconcile_due,
    "digest": send_digests,
}

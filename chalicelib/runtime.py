"""The object graph the handlers use, built once per warm container; tests and benchmarks install their own
(a fake clock, a recording telemetry) instead of patching internals."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from chalicelib.effects.executor import Executor
from chalicelib.gateway import Gateway
from chalicelib.tenants import SecretSource, TenantDirectory

if TYPE_CHECKING:
    from chalicelib.jobs.deliver import Deliverer
    from chalicelib.jobs.reconcile import Reconciler

_tenants: TenantDirectory | None = None
_gateway: Gateway | None = None
_deliverer: Deliverer | None = None
_reconciler: Reconciler | None = None


def tenants() -> TenantDirectory:
    global _tenants
    if _tenants is None:
        _tenants = TenantDirectory(SecretSource(), time.time)
    return _tenants


def gateway() -> Gateway:
    global _gateway
    if _gateway is None:
        from chalicelib.observability import PowertoolsTelemetry

        _gateway = Gateway(tenants(), Executor(), time.time, PowertoolsTelemetry())
    return _gateway


def deliverer() -> Deliverer:
    global _deliverer
    if _deliverer is None:
        # Imported here: the callback path never sends, so its cold start does not pay for the HTTP clients.
        from chalicelib.effects.senders import PlatformSender
        from chalicelib.jobs.deliver import Deliverer
        from chalicelib.observability import count_dead_letter

        _deliverer = Deliverer(tenants(), PlatformSender(), time.time, on_dead=count_dead_letter)
    return _deliverer


def reconciler() -> Reconciler:
    global _reconciler
    if _reconciler is None:
        from chalicelib.directory import Directory
        from chalicelib.effects.senders import PlatformSender
        from chalicelib.jobs.reconcile import Reconciler, queue_sender

        platform = PlatformSender()
        _reconciler = Reconciler(
            tenants(),
            client_for=platform.group_reader,
            facts=lambda tenant: Directory(platform.wecom_client(tenant)),
            send=queue_sender(),
        )
    return _reconciler


def install(
    gateway: Gateway | None = None, deliverer: Deliverer | None = None, reconciler: Reconciler | None = None
) -> None:
    """Use these for the following invocations (None: build the default again on next use)."""
    global _tenants, _gateway, _deliverer, _reconciler
    _tenants, _gateway, _deliverer, _reconciler = None, gateway, deliverer, reconciler

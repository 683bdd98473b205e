"""The object graph the handlers use, built once per warm container; tests and benchmarks install their own
(a fake clock, a recording telemetry) instead of patching internals."""

from __future__ import annotations

import time

from chalicelib.effects.executor import Executor
from chalicelib.gateway import Gateway
from chalicelib.tenants import SecretSource, TenantDirectory

_gateway: Gateway | None = None


def gateway() -> Gateway:
    global _gateway
    if _gateway is None:
        from chalicelib.observability import PowertoolsTelemetry

        _gateway = Gateway(TenantDirectory(SecretSource(), time.time), Executor(), time.time, PowertoolsTelemetry())
    return _gateway


def install(replacement: Gateway | None) -> None:
    """Use `replacement` for the following requests (None: build the default again on next use)."""
    global _gateway
    _gateway = replacement

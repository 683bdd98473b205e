from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from chalice.test import Client
from oracle import AES_KEY, BOT_AES_KEY, BOT_TOKEN, CORP_ID, MP_AES_KEY, MP_APP_ID, MP_TOKEN, TOKEN, Peer

from chalicelib import runtime
from chalicelib.effects.executor import Executor
from chalicelib.events import Channel, Event
from chalicelib.gateway import Gateway
from chalicelib.tenants import SecretSource, TenantDirectory
from qungui_cli.main import main as qungui

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_790_000_000  # 2026-09-21T14:13:20Z; every callback in these tests is "sent" around this time


@dataclass
class FakeClock:
    now: float = NOW

    def __call__(self) -> float:
        return self.now


@dataclass
class RecordingTelemetry:
    accepted_events: list[tuple[str, Event, bool]] = field(default_factory=list)
    rejections: list[tuple[str, str, int]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def accepted(self, channel: Channel, tenant: str, event: Event, duplicate: bool) -> None:
        self.accepted_events.append((channel.value, event, duplicate))

    def rejected(self, channel: Channel, tenant: str, reason: str, status: int) -> None:
        self.rejections.append((channel.value, reason, status))

    def unavailable(self, channel: Channel, tenant: str, reason: str) -> None:
        self.failures.append(reason)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def telemetry() -> RecordingTelemetry:
    return RecordingTelemetry()


@pytest.fixture
def secret_source() -> SecretSource:
    return SecretSource()


@pytest.fixture
def directory(table, clock, secret_source) -> TenantDirectory:
    return TenantDirectory(secret_source, clock)


@pytest.fixture
def gateway(directory, clock, telemetry) -> Iterator[Gateway]:
    installed = Gateway(directory, Executor(), clock, telemetry)
    runtime.install(installed)
    yield installed
    runtime.install(None)


@pytest.fixture
def client(gateway) -> Iterator[Client]:
    import app

    with Client(app.app, stage_name="dev", project_dir=str(ROOT)) as test_client:
        yield test_client


def register(tenant: str = "acme", *extra: str) -> None:
    args = [
        "--stage", "dev", "tenant", "add", tenant, "--corp-id", CORP_ID, "--token", TOKEN, "--aes-key", AES_KEY,
        "--agent-id", "1000002", "--secret", "app-secret", "--admins", "boss,deputy",
        "--bot-token", BOT_TOKEN, "--bot-aes-key", BOT_AES_KEY,
        "--mp-app-id", MP_APP_ID, "--mp-token", MP_TOKEN, "--mp-aes-key", MP_AES_KEY, "--mp-secret", "mp-secret",
        *extra,
    ]  # fmt: skip
    assert qungui(args) == 0


@pytest.fixture
def tenant(table) -> str:
    register()
    return "acme"


@pytest.fixture
def peer() -> Peer:
    return Peer()

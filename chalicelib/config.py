"""Runtime settings, resolved from the environment in one place (Lambda env vars come from .chalice/config.json)."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True, slots=True)
class Settings:
    table_name: str
    ssm_prefix: str  # tenant secrets live under f"{ssm_prefix}/tenants/{tenant_id}"
    region: str
    stage: str

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        values = os.environ if env is None else env
        stage = values.get("QUNGUI_STAGE", "dev")
        return cls(
            table_name=values.get("QUNGUI_TABLE", f"qungui-{stage}"),
            ssm_prefix=values.get("QUNGUI_SSM_PREFIX", f"/qungui/{stage}").rstrip("/"),
            region=values.get("AWS_REGION") or values.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
            stage=stage,
        )

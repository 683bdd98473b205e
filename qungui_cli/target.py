"""Where a `qungui` command acts: a deployed stage (`--stage`), or the local stack that `qungui dev` runs.

`qungui dev` writes a state file (`.qungui/dev.json` in the project folder, or QUNGUI_DEV_STATE) naming its API URL
and its embedded AWS endpoint; other commands read it and point boto3/PynamoDB there. Everything is set in the
environment before chalicelib is imported, because the models read their table name once, at import.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from qungui_cli.errors import CliError

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "qungui-dev", "AWS_SECRET_ACCESS_KEY": "qungui-dev"}
LOCAL_REGION = "us-east-1"


def state_path() -> Path:
    return Path(os.environ.get("QUNGUI_DEV_STATE") or Path.cwd() / ".qungui" / "dev.json")


def stage_environment(stage: str) -> dict[str, str]:
    return {"QUNGUI_STAGE": stage, "QUNGUI_TABLE": f"qungui-{stage}", "QUNGUI_SSM_PREFIX": f"/qungui/{stage}"}


def local_environment(aws_endpoint: str, wecom_api: str = "") -> dict[str, str]:
    apis = {"QUNGUI_WECOM_API_BASE": wecom_api, "QUNGUI_MP_API_BASE": wecom_api} if wecom_api else {}
    return {
        **stage_environment("dev"),
        **apis,
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_REGION": LOCAL_REGION,
    }


def read_state() -> dict[str, Any] | None:
    """The running local stack: from its state file, or from QUNGUI_DEV_URL with AWS_ENDPOINT_URL (a stack started
    elsewhere, e.g. in a container)."""
    if os.environ.get("QUNGUI_DEV_URL") and os.environ.get("AWS_ENDPOINT_URL") and not state_path().exists():
        return {
            "url": os.environ["QUNGUI_DEV_URL"],
            "aws_endpoint": os.environ["AWS_ENDPOINT_URL"],
            "wecom_api": os.environ.get("QUNGUI_WECOM_API_BASE", ""),
            "pid": os.getpid(),
        }
    path = state_path()
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not _alive(int(state.get("pid", 0))):
        return None  # left behind by a stack that was killed
    return state


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def select(stage: str | None) -> dict[str, Any] | None:
    """Point this process at `stage`, or at the running local stack; returns the local stack's state, if used."""
    if stage:
        for name, value in stage_environment(stage).items():
            os.environ.setdefault(name, value)
        return None
    state = read_state()
    if state is None:
        raise CliError(
            "no local stack found: start one with `qungui dev` in this folder, "
            "or pass --stage NAME to act on a deployed stage"
        )
    os.environ.update(local_environment(state["aws_endpoint"], state.get("wecom_api", "")))
    return state

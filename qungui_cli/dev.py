"""`qungui dev`: all of qungui on one machine — an embedded AWS (moto server), the table created from infra/, and the
real Chalice routes served over HTTP, the way `chalice local` serves them."""

from __future__ import annotations

import argparse
import json
import os
import socket
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

from qungui_cli import target
from qungui_cli.errors import CliError

PROJECT_DIR = Path(__file__).resolve().parents[1]


def register(subparsers: Any) -> None:
    dev = subparsers.add_parser("dev", help="run the whole system on this machine")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument("--no-schedules", action="store_true", help="run jobs only through `qungui job`")
    dev.set_defaults(handler=run, needs_target=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _embedded_aws() -> tuple[Any, str]:
    if os.environ.get("AWS_ENDPOINT_URL"):
        return None, os.environ["AWS_ENDPOINT_URL"]
    import logging

    from moto.server import ThreadedMotoServer

    # moto's werkzeug logs every AWS call of ours; the API's own request log is the one a person wants to read.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


def create_tables(stage: str = "dev") -> None:
    """Deploy infra/tables.yaml into the (local) AWS and enable TTL by hand: moto ignores TimeToLiveSpecification."""
    import boto3

    cloudformation = boto3.client("cloudformation")
    stack = f"qungui-{stage}-tables"
    existing = {
        s["StackName"] for s in cloudformation.list_stacks()["StackSummaries"] if "DELETE" not in s["StackStatus"]
    }
    if stack not in existing:
        cloudformation.create_stack(
            StackName=stack,
            TemplateBody=(PROJECT_DIR / "infra" / "tables.yaml").read_text(),
            Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}],
        )
    boto3.client("dynamodb").update_time_to_live(
        TableName=f"qungui-{stage}", TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )


def _write_state(url: str, aws_endpoint: str) -> Path:
    path = target.state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"url": url, "aws_endpoint": aws_endpoint, "pid": os.getpid()}))
    return path


def run(args: argparse.Namespace) -> int:
    if target.read_state() is not None:
        raise CliError(f"a local stack is already running (state file {target.state_path()})")
    started = time.perf_counter()
    moto_server, aws_endpoint = _embedded_aws()
    os.environ.update(target.local_environment(aws_endpoint))
    try:
        create_tables()
        server = _api_server(args.port)
    except OSError as exc:
        if moto_server is not None:
            moto_server.stop()
        raise CliError(f"cannot start: {exc.strerror or exc}") from exc
    url = f"http://127.0.0.1:{args.port}"
    os.environ["QUNGUI_DEV_URL"] = url
    state = _write_state(url, aws_endpoint)
    print(f"qungui dev ready on {url}  (AWS at {aws_endpoint}, {time.perf_counter() - started:.1f}s)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nqungui dev: stopping", flush=True)
    finally:
        with suppress(Exception):
            server.shutdown()
        with suppress(OSError):
            state.unlink()
        if moto_server is not None:
            moto_server.stop()
    return 0


def _api_server(port: int) -> Any:
    from chalice.cli.factory import CLIFactory

    factory = CLIFactory(str(PROJECT_DIR), environ=dict(os.environ))
    config = factory.create_config_obj(chalice_stage_name="dev")
    return factory.create_local_server(config.chalice_app, config, "127.0.0.1", port)

"""`qungui dev`: all of qungui on one machine — an embedded AWS (moto server), the table created from infra/, and the
real Chalice routes served over HTTP, the way `chalice local` serves them."""

from __future__ import annotations

import argparse
import json
import os
import socket
import threading
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


class LocalStack:
    """The embedded AWS, the tables and the API server; `start()` points this process's AWS clients at it."""

    def __init__(self, port: int, schedules: bool = True, print_sends: bool = True) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.aws_endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
        self.wecom_api = os.environ.get("QUNGUI_WECOM_API_BASE", "")
        self.fake_wecom: Any = None
        self._schedules = schedules
        self._print_sends = print_sends
        self._moto: Any = None
        self._api: Any = None
        self._scheduler: Any = None
        self._state: Path | None = None

    def start(self, write_state: bool = True) -> LocalStack:
        try:
            if not self.aws_endpoint:
                self._moto, self.aws_endpoint = _embedded_aws()
            if not self.wecom_api:
                from qungui_cli.fake_wecom import FakeWeCom

                self.fake_wecom = FakeWeCom(print_sends=self._print_sends).start()
                self.wecom_api = self.fake_wecom.base_url
            os.environ.update(target.local_environment(self.aws_endpoint, self.wecom_api))
            os.environ["QUNGUI_DEV_URL"] = self.url
            create_stacks()
            self._api = _api_server(self.port)
        except OSError as exc:
            self.stop()
            raise CliError(f"cannot start the local stack: {exc.strerror or exc}") from exc
        if self._schedules:
            from qungui_cli.scheduler import LocalScheduler, schedules_of

            self._scheduler = LocalScheduler(schedules_of(self._api.app_object)).start()
        if write_state:
            self._state = target.state_path()
            self._state.parent.mkdir(parents=True, exist_ok=True)
            state = {
                "url": self.url,
                "aws_endpoint": self.aws_endpoint,
                "wecom_api": self.wecom_api,
                "pid": os.getpid(),
            }
            self._state.write_text(json.dumps(state))
        return self

    def serve_forever(self) -> None:
        self._api.serve_forever()

    def serve_in_background(self) -> None:
        threading.Thread(target=self._api.serve_forever, name="qungui-api", daemon=True).start()

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.stop()
        if self._api is not None:
            with suppress(Exception):
                self._api.shutdown()
        if self._state is not None:
            with suppress(OSError):
                self._state.unlink()
        if self._moto is not None:
            self._moto.stop()
        if self.fake_wecom is not None:
            self.fake_wecom.stop()


def _embedded_aws() -> tuple[Any, str]:
    import logging

    from moto.server import ThreadedMotoServer

    # moto's werkzeug logs every AWS call of ours; the API's own request log is the one a person wants to read.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


def create_stacks(stage: str = "dev") -> None:
    """Deploy infra/tables.yaml and infra/queues.yaml into the (local) AWS, under the names ops use, and enable TTL
    by hand: moto ignores TimeToLiveSpecification."""
    import boto3

    cloudformation = boto3.client("cloudformation")
    summaries = cloudformation.list_stacks()["StackSummaries"]
    for template in ("tables", "queues"):
        stack = f"qungui-{stage}-{template}"
        if not any(s["StackName"] == stack and "DELETE" not in s["StackStatus"] for s in summaries):
            cloudformation.create_stack(
                StackName=stack,
                TemplateBody=(PROJECT_DIR / "infra" / f"{template}.yaml").read_text(),
                Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}],
            )
    boto3.client("dynamodb").update_time_to_live(
        TableName=f"qungui-{stage}", TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )


def _api_server(port: int) -> Any:
    from chalice.cli.factory import CLIFactory

    factory = CLIFactory(str(PROJECT_DIR), environ=dict(os.environ))
    config = factory.create_config_obj(chalice_stage_name="dev")
    return factory.create_local_server(config.chalice_app, config, "127.0.0.1", port)


def run(args: argparse.Namespace) -> int:
    if target.read_state() is not None:
        raise CliError(f"a local stack is already running (state file {target.state_path()})")
    started = time.perf_counter()
    stack = LocalStack(args.port, schedules=not args.no_schedules).start()
    took = time.perf_counter() - started
    print(
        f"qungui dev ready on {stack.url}  (AWS at {stack.aws_endpoint}, WeCom API at {stack.wecom_api}, "
        f"schedules {'off' if args.no_schedules else 'on'}, {took:.1f}s)",
        flush=True,
    )
    try:
        stack.serve_forever()
    except KeyboardInterrupt:
        print("\nqungui dev: stopping", flush=True)
    finally:
        stack.stop()
    return 0

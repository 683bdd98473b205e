"""AWS API calls per warm callback, in-process: moto (mock_aws) behind the real Chalice routing (chalice.test.Client)
and the default object graph of chalicelib.runtime. Run by bench/run.py in its own process, with a fake AWS
environment and no endpoint override. Usage: ddb_calls.py MESSAGES. Prints one line `BENCH_RESULT {json}`.

Counting: a `before-call` handler joins botocore.handlers.BUILTIN_HANDLERS before any botocore session exists, so
every session (PynamoDB makes one per model connection, boto3 and Powertools their own) and every client created
from it carries the handler. It sees each API call once, whatever the retries; the request signer identifies the
client, so the report also says how many clients of each service were created.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import botocore.handlers

CALLS: Counter[tuple[str, str]] = Counter()
CLIENTS: dict[str, set[int]] = {}


def _count(model: Any = None, request_signer: Any = None, **_: Any) -> None:
    service = model.service_model.service_name
    CALLS[(service, model.name)] += 1
    CLIENTS.setdefault(service, set()).add(id(request_signer))


botocore.handlers.BUILTIN_HANDLERS.append(("before-call", _count))

import contextlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

from chalice.test import Client  # noqa: E402
from moto import mock_aws  # noqa: E402
from peer import CLI_ADD, Peer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _snapshot() -> dict[str, int]:
    calls = {f"{service}.{operation}": count for (service, operation), count in sorted(CALLS.items())}
    CALLS.clear()
    return calls


def _send(client: Client, call: Any) -> Any:
    headers = {"Content-Type": call.content_type} if call.content_type else {}
    response = client.http.post(f"{call.path}?{urlencode(call.query)}", headers=headers, body=call.body.encode())
    if response.status_code != 200 or not response.body:
        raise SystemExit(f"unexpected answer {response.status_code}: {response.body[:200]!r}")
    return response


def main() -> None:
    messages = int(sys.argv[1])
    with mock_aws():
        from chalicelib.store.models import ALL_MODELS, Item, reset_connection
        from qungui_cli.main import main as qungui

        Item.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        with contextlib.redirect_stdout(io.StringIO()):
            if qungui(CLI_ADD) != 0:
                raise SystemExit("tenant registration failed")
        # Count only what the app creates and calls: forget the CLI's connections and calls.
        reset_connection()
        CLIENTS.clear()
        import app

        peer = Peer()
        now = int(time.time())
        result: dict[str, Any] = {}
        with Client(app.app, stage_name="dev", project_dir=str(ROOT)) as client:
            _snapshot()
            first = _send(client, peer.app_text("warmup", "帮助", 7_000_000_000, now, "100"))
            peer.open_app_reply(first.body.decode())
            result["first"] = _snapshot()

            kinds: dict[str, list[Any]] = {"bot_group_mention": [], "app_text": []}
            for i in range(messages):
                if i % 2 == 0:
                    call = peer.bot_group_mention(
                        f"member{i}", "wrBenchGroup", "@群规助手 收到，谢谢", f"bench-{i}", now, str(200 + i)
                    )
                    kinds["bot_group_mention"].append(call)
                else:
                    call = peer.app_text(f"member{i}", "今天下午三点开会", 7_000_000_001 + i, now, str(200 + i))
                    kinds["app_text"].append(call)
            per_kind: dict[str, Any] = {}
            answers: dict[str, bytes] = {}
            for kind, calls in kinds.items():
                for call in calls:
                    answers.setdefault(kind, _send(client, call).body)
                per_kind[kind] = {"messages": len(calls), "calls": _snapshot()}
            result["per_kind"] = per_kind
            peer.open_bot_reply(answers["bot_group_mention"].decode())
            peer.open_app_reply(answers["app_text"].decode())

            replay: dict[str, Any] = {}
            for kind, calls in kinds.items():
                again = _send(client, calls[0]).body
                replay[kind] = {"calls": _snapshot(), "same_reply": again == answers[kind]}
            result["replay"] = replay

        result["clients"] = {service: len(signers) for service, signers in sorted(CLIENTS.items())}
        # The models share one connection (chalicelib.store.models.reset_connection): one DynamoDB client in all.
        result["dynamodb_connections"] = len({id(model._get_connection()) for model in ALL_MODELS})
    sys.stdout.write("BENCH_RESULT " + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()

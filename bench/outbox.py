"""Outbox delivery benchmark (issue 4): throughput to the fake WeCom with one worker, DynamoDB requests per delivered
message, and a paced burst to one member.

All in this process: moto (`mock_aws`) for DynamoDB and SSM, a real FakeWeCom HTTP server on 127.0.0.1, a tenant
registered with `qungui tenant add`, outbox items written by the effects executor exactly as a callback writes them,
and one Deliverer with the real PlatformSender (HTTP keep-alive to the fake), i.e. one worker sending in sequence.

1. Fan-out: N reminders to N distinct members, delivered (a) by the schedule's path, `Deliverer.run(now)` (GSI
   queries for what is due), and (b) by the table stream's path, `jobs.deliver_images` in batches of the stream's 50.
   Distinct members, so no item waits for a per-member pacing slot. Messages/s is N over the wall time of the
   delivery calls only (the commits are not timed). Median of R runs, each in a fresh moto account.
   The wall time is split into time inside DynamoDB calls (moto), HTTP to the fake and the rest.
   The fake's sockets get TCP_NODELAY (socketserver's `disable_nagle_algorithm` on its handler) for these runs: as
   shipped, it writes an answer's headers and body in two sends with Nagle's algorithm on, so an answer can wait up
   to 40 ms for the client's delayed ACK, in some runs and not in others. The HTTP round trip is probed on its own
   both ways, back to back, to show that cost.
2. Burst: 100 alerts to ONE admin, paced to WeCom's 30 app messages per member per minute. The clock is injected
   (the deliverer's, the token cache's and the fake's) and advanced by a worker tick, so the simulated minutes are
   measured without waiting; the fake drops silently whatever exceeds the limit, as WeCom does, and must drop none.

Counting: botocore handlers join botocore.handlers.BUILTIN_HANDLERS before any session exists (as in
bench/ddb_calls.py), so every client carries them. `before-parameter-build` labels each call by the keys it touches,
`before-call` counts it once whatever the retries, `after-call` adds its time.

Usage: python bench/outbox.py [--runs R] [--messages N] [--burst B] [--output docs/benchmarks.md]. Prints the report
and writes it into the output file as section `outbox` (bench/doc.py).
"""

from __future__ import annotations

import os

# Before chalicelib is imported: the models read the table name and region once, at import.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        # A developer's ~/.aws could name a profile, region or endpoint that overrides the above.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "QUNGUI_STAGE": "dev",
        "QUNGUI_TABLE": "qungui-dev",
        "QUNGUI_SSM_PREFIX": "/qungui/dev",
        # Never find a developer's running `qungui dev`: the CLI calls here name `--stage dev` and land in moto.
        "QUNGUI_DEV_STATE": os.path.join(os.devnull, "no-local-stack.json"),
        # The token cache logs every refresh at INFO; one per run would only clutter the printed report.
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
# An endpoint left in the shell by `qungui dev` would route clients past moto's interception to a live server.
for _name in [n for n in os.environ if n == "AWS_PROFILE" or n.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[_name]

import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# This checkout's code, whichever checkout `pip install -e` last pointed the environment at.
sys.path.insert(0, str(ROOT))

import botocore.handlers  # noqa: E402

CALLS: Counter[tuple[str, str, str]] = Counter()  # (service, operation, what it touched)
AWS_TIME: dict[str, float] = {}  # seconds inside calls, by "service.operation"


def _what(key: dict[str, Any] | None) -> str:
    key = key or {}
    pk, sk = key.get("pk", {}).get("S", ""), key.get("sk", {}).get("S", "")
    if pk.startswith("TOKEN#"):
        return "access token"
    if sk == "PROFILE":
        return "tenant profile"
    if sk.startswith("OUT#"):
        return "outbox item"
    if sk.startswith("RATE#"):
        return "member's pacing window"
    if sk.startswith("DEDUP#"):
        return "event marker"
    return sk.split("#", 1)[0] or "?"


def _label(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    if model.service_model.service_name == "ssm":
        context["bench_what"] = "tenant secrets"
    elif model.name == "Query":
        context["bench_what"] = f"due items ({params.get('IndexName', 'table')})"
    elif model.name == "TransactWriteItems":
        # Each entry is {"Update"|"Put"|"ConditionCheck"|"Delete": {...}}; a Put names its Item, the others a Key.
        bodies = [body for entry in params.get("TransactItems", []) for body in entry.values()]
        context["bench_what"] = " + ".join(_what(body.get("Key") or body.get("Item")) for body in bodies)
    else:
        context["bench_what"] = _what(params.get("Key"))


def _count(model: Any, context: dict[str, Any], **_: Any) -> None:
    CALLS[(model.service_model.service_name, model.name, context.get("bench_what", "?"))] += 1
    context["bench_started"] = time.perf_counter()


def _timed(model: Any, context: dict[str, Any], **_: Any) -> None:
    if "bench_started" in context:
        name = f"{model.service_model.service_name}.{model.name}"
        AWS_TIME[name] = AWS_TIME.get(name, 0.0) + time.perf_counter() - context.pop("bench_started")


def aws_seconds() -> float:
    return sum(AWS_TIME.values())


botocore.handlers.BUILTIN_HANDLERS += [
    ("before-parameter-build", _label),
    ("before-call", _count),
    ("after-call", _timed),
]

import argparse  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

from doc import write_section  # noqa: E402
from moto import mock_aws  # noqa: E402
from peer import CLI_ADD, CORP_ID, TENANT  # noqa: E402

from chalicelib import jobs, runtime  # noqa: E402
from chalicelib.decisions import AlertAdmins, Decision, RemindMember  # noqa: E402
from chalicelib.effects import executor  # noqa: E402
from chalicelib.effects.senders import PlatformSender  # noqa: E402
from chalicelib.events import Channel, MessagePosted  # noqa: E402
from chalicelib.jobs.deliver import BATCH, PACING, Deliverer  # noqa: E402
from chalicelib.store import keys  # noqa: E402
from chalicelib.store.models import Item, OutboxItem, reset_connection  # noqa: E402
from chalicelib.tenants import SecretSource, TenantDirectory  # noqa: E402
from qungui_cli import fake_wecom  # noqa: E402
from qungui_cli.fake_wecom import MEMBER_APP_MESSAGES_PER_MINUTE, FakeWeCom  # noqa: E402
from qungui_cli.main import main as qungui  # noqa: E402

DEFAULT_OUTPUT = ROOT / "docs" / "benchmarks.md"
APP_SECRET = CLI_ADD[CLI_ADD.index("--secret") + 1]
NOW = 1_790_000_000  # a fixed start for the injected clock; only differences matter
STREAM_BATCH = 50  # app.py's deliver_stream batch_size
REQUESTS_TARGET = 3
SEND = "message/send"
THROUGHPUT_HEADER = [
    "delivery path", "messages/s", "wall s", "messages/s outside the DynamoDB calls",
    "wall time: DynamoDB calls (moto) / HTTP to the fake / the rest", "DynamoDB requests / delivered message, warm",
    "by operation", "with the cold worker's one-offs", "one-offs (in all)", "target (warm)",
]  # fmt: skip
MOTO_OPERATIONS = ("TransactWriteItems", "UpdateItem", "GetItem", "Query")
BURST_HEADER = [
    "worker", "runs", "delivered", "dropped by the fake", "most in any 60 s", "minutes to the last",
    "first → last, min", "DynamoDB requests / message", "all sent at the first attempt, none dropped",
]  # fmt: skip


@dataclass
class FakeClock:
    now: float = NOW

    def __call__(self) -> float:
        return self.now


@dataclass
class TimedSender:
    """The real sender, timed, so the report can say how much of the wall time was HTTP to the fake."""

    inner: PlatformSender
    seconds: float = 0.0

    def send(self, tenant: Any, item: OutboxItem) -> str | None:
        aws_before, started = aws_seconds(), time.perf_counter()
        try:
            return self.inner.send(tenant, item)
        finally:
            # The first send also reads and stores the access token in DynamoDB: that part is counted as AWS time.
            self.seconds += time.perf_counter() - started - (aws_seconds() - aws_before)


@dataclass
class World:
    clock: FakeClock
    fake: FakeWeCom
    sender: TimedSender
    deliverer: Deliverer
    events: int = 0

    def commit(self, decision: Decision) -> None:
        """One callback's worth of effects: its event marker and its outbox items, in one transaction."""
        self.events += 1
        event = MessagePosted(tenant=TENANT, channel=Channel.APP, event_id=f"bench-{self.events}", at=int(NOW),
                              sender="zhangsan", chat_id="wrBench", msg_type="text", text="…")  # fmt: skip
        executor.Executor().commit(executor.plan(event, [decision], None, self.clock()))


@contextlib.contextmanager
def world() -> Any:
    """A fresh moto account with the table and a registered tenant, a fake WeCom that knows the tenant's app, and one
    worker (a Deliverer with the real sender) on an injected clock."""
    clock = FakeClock()
    # TCP_NODELAY on the fake's sockets (socketserver's own switch, read as each connection is set up): as shipped,
    # each answer may wait up to 40 ms for the client's delayed ACK, in some runs and not others (http_probe), which
    # would measure the fake and the kernel's timers rather than the worker.
    fake_wecom._Handler.disable_nagle_algorithm = True
    reset_connection()  # the models' shared client must be created inside this mock
    with mock_aws():
        Item.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        with contextlib.redirect_stdout(io.StringIO()):
            if qungui(CLI_ADD) != 0:
                raise SystemExit("bench: `qungui tenant add` failed")
        fake = FakeWeCom(clock=clock).start()
        fake.add_app(CORP_ID, APP_SECRET)
        try:
            # No sleep: nothing contends for the token lease here, and the clock is simulated anyway.
            sender = TimedSender(PlatformSender(wecom_base=fake.base_url, mp_base=fake.base_url, clock=clock,
                                                sleep=lambda _: None))  # fmt: skip
            deliverer = Deliverer(TenantDirectory(SecretSource(), clock), sender, clock, rng=random.Random(7))
            yield World(clock, fake, sender, deliverer)
        finally:
            fake.stop()
            fake_wecom._Handler.disable_nagle_algorithm = False
    reset_connection()


def snapshot() -> dict[str, int]:
    calls = {"|".join(key): count for key, count in sorted(CALLS.items())}
    CALLS.clear()
    return calls


def outbox_items() -> list[OutboxItem]:
    return list(OutboxItem.query(keys.tenant_pk(TENANT), OutboxItem.sk.startswith("OUT#"), consistent_read=True))


# ---- 1. fan-out to distinct members -----------------------------------------------------------------------------


def fan_out(messages: int, path: str) -> dict[str, Any]:
    with world() as w:
        snapshot()
        for n in range(messages):
            w.commit(RemindMember(member=f"member{n:05d}", what="请把群昵称改为“部门-姓名”。", clause="2.3.3"))
        writes = snapshot()
        new_images = [item.serialize() for item in outbox_items()] if path == "stream" else []
        snapshot()  # the listing above stands in for the stream's records: not the worker's cost
        AWS_TIME.clear()
        started = time.perf_counter()
        if path == "schedule":
            while len(w.fake.deliveries(SEND)) < messages:
                report = w.deliverer.run(NOW)
                if report.sent == 0:
                    raise SystemExit(f"bench: the schedule path stalled: {report}")
        else:
            runtime.install(None, w.deliverer)
            try:
                for first in range(0, len(new_images), STREAM_BATCH):
                    jobs.deliver_images(new_images[first : first + STREAM_BATCH], NOW)
            finally:
                runtime.install(None)
        wall = time.perf_counter() - started
        aws, http, aws_by_operation = aws_seconds(), w.sender.seconds, dict(AWS_TIME)
        calls = snapshot()
        delivered = w.fake.deliveries(SEND)
        items = outbox_items()
        if len(delivered) != messages or len({d.to for d in delivered}) != messages:
            raise SystemExit(f"bench: {len(delivered)} of {messages} messages reached the fake ({path})")
        if w.fake.dropped or w.fake.duplicates or any(item.status != "sent" for item in items):
            raise SystemExit(f"bench: dropped {len(w.fake.dropped)}, duplicates {len(w.fake.duplicates)} ({path})")
    return {"wall": wall, "aws": aws, "http": http, "calls": calls, "writes": writes, "aws_time": aws_by_operation}


def http_probe(calls: int = 100) -> dict[bool, list[float]]:
    """Seconds per message/send round trip to the fake, back to back over the client's keep-alive transport, by
    whether the fake's sockets have TCP_NODELAY: as shipped they do not, and its handler writes headers and body
    separately, so the body can wait for the client's delayed ACK."""
    from chalicelib.wecom.http import JsonHttp

    samples: dict[bool, list[float]] = {}
    try:
        for nodelay in (False, True):
            # socketserver's own switch, read as each connection is set up; False is the fake as shipped.
            fake_wecom._Handler.disable_nagle_algorithm = nodelay
            with FakeWeCom() as fake:
                client = JsonHttp()
                query = f"corpid={CORP_ID}&corpsecret={APP_SECRET}"
                token = client.get(f"{fake.base_url}/cgi-bin/gettoken?{query}", api="gettoken")["access_token"]
                url = f"{fake.base_url}/cgi-bin/message/send?access_token={token}"
                times = []
                for n in range(calls):
                    body = {"touser": f"probe{n}", "msgtype": "text", "agentid": 1000002, "text": {"content": "探针"}}
                    started = time.perf_counter()
                    client.post(url, body, api="message/send")
                    times.append(time.perf_counter() - started)
                client.close()
            samples[nodelay] = times
    finally:
        fake_wecom._Handler.disable_nagle_algorithm = False
    return samples


# ---- 2. a burst to one member -----------------------------------------------------------------------------------


def burst(count: int, tick: int) -> dict[str, Any]:
    with world() as w:
        for n in range(count):
            w.commit(AlertAdmins(recipients=("boss",), what=f"张三在群里发布了广告（第{n + 1}条）", clause="1.3.5",
                                 group="wrBench", group_name="销售群", member="张三", evidence_at=NOW,
                                 action="已警告"))  # fmt: skip
        snapshot()
        runs = 0
        while len(w.fake.deliveries(SEND, to="boss")) + len(w.fake.dropped) < count:
            if w.clock.now > NOW + 24 * 3600:
                raise SystemExit(f"bench: the burst did not drain in a simulated day (tick {tick} s)")
            w.deliverer.run(w.clock.now)
            runs += 1
            w.clock.now += tick
        calls = snapshot()
        delivered = sorted(d.at for d in w.fake.deliveries(SEND, to="boss"))
        # The fake's own rule: at most 30 within any 60 s window ending at a delivery.
        busiest = max(sum(1 for t in delivered if end - 60 < t <= end) for end in delivered)
        items = outbox_items()
        return {
            "delivered": len(delivered),
            "dropped": len(w.fake.dropped),
            "busiest_minute": busiest,
            "minutes": (delivered[-1] - NOW) / 60,
            "span": (delivered[-1] - delivered[0]) / 60,
            "runs": runs,
            "calls": calls,
            "all_sent_first_try": all(item.status == "sent" and item.attempts == 1 for item in items),
        }


# ---- report -----------------------------------------------------------------------------------------------------

PATHS = {
    "schedule": "schedule: `Deliverer.run(now)`, a GSI1 query per shard",
    "stream": f"stream: `jobs.deliver_images`, batches of {STREAM_BATCH}",
}
# What a warm worker already holds: the tenant (cached 60 s) and the access token (in memory until it expires).
ONCE_PER_WORKER = frozenset({"access token", "tenant profile"})


def per_message(calls: dict[str, int], messages: int, service: str = "dynamodb") -> dict[tuple[str, str], float]:
    rows: dict[tuple[str, str], float] = {}
    for key, count in calls.items():
        svc, operation, what = key.split("|")
        if svc == service:
            rows[(operation, what)] = rows.get((operation, what), 0) + count / messages
    return rows


def split(calls: dict[str, int], messages: int) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float]]:
    """DynamoDB requests per message: (a warm worker's, the cold worker's one-offs)."""
    rows = per_message(calls, messages)
    warm = {key: value for key, value in rows.items() if key[1] not in ONCE_PER_WORKER}
    once = {key: value for key, value in rows.items() if key[1] in ONCE_PER_WORKER}
    return warm, once


def by_operation(rows: dict[tuple[str, str], float]) -> str:
    ops: dict[str, float] = {}
    for (operation, _), value in rows.items():
        ops[operation] = ops.get(operation, 0.0) + value
    return ", ".join(f"{op} {value:.3g}" for op, value in sorted(ops.items())) or "none"


def moto_ms(run: dict[str, Any], operation: str) -> str:
    """Milliseconds per DynamoDB `operation` request inside moto, in one run's delivery."""
    count = sum(n for key, n in run["calls"].items() if key.startswith(f"dynamodb|{operation}|"))
    seconds = run["aws_time"].get(f"dynamodb.{operation}", 0.0)
    return f"{seconds / count * 1000:.1f}" if count else "–"


def spread(values: list[float], fmt: str = "{:,.0f}") -> str:
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def table(header: list[str], body: list[list[str]]) -> list[str]:
    rows = [header, ["---"] * len(header), *body]
    return ["| " + " | ".join(row) + " |" for row in rows]


def load_average() -> str:
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def report(args: argparse.Namespace) -> str:
    load_before = load_average()
    started = time.perf_counter()
    n = args.messages
    samples: dict[str, list[dict[str, Any]]] = {path: [] for path in PATHS}
    for run in range(args.runs):
        # Alternate which path goes first, so a drift in the machine's load hits both alike.
        for path in list(PATHS) if run % 2 == 0 else list(reversed(PATHS)):
            print(f"fan-out run {run + 1}/{args.runs}: {path} path ...", file=sys.stderr, flush=True)
            samples[path].append(fan_out(n, path))
    bursts = {}
    for tick in (1, 60):
        print(f"burst of {args.burst}, worker every {tick} s ...", file=sys.stderr, flush=True)
        bursts[tick] = burst(args.burst, tick)
    print("HTTP round trips to the fake ...", file=sys.stderr, flush=True)
    probe = http_probe()

    summary, rows, op_rows, moto_rows = [], [], [], []
    for path, runs in samples.items():
        rates = [n / s["wall"] for s in runs]
        outside = [n / (s["wall"] - s["aws"]) for s in runs]
        median_run = sorted(runs, key=lambda s: n / s["wall"])[len(runs) // 2]
        warm, once = split(median_run["calls"], n)
        warm_total, cold_total = sum(warm.values()), sum(warm.values()) + sum(once.values())
        ssm = sum(per_message(median_run["calls"], n, "ssm").values())
        target = f"≤ {REQUESTS_TARGET}: {'met' if warm_total <= REQUESTS_TARGET else '**missed**'}"
        aws = statistics.median(s["aws"] / s["wall"] for s in runs)
        http = statistics.median(s["http"] / s["wall"] for s in runs)
        once_text = f"{sum(once.values()) * n:.0f} DynamoDB ({by_operation({k: v * n for k, v in once.items()})})"
        if ssm:
            once_text += f", {ssm * n:.0f} SSM"
        rows.append([PATHS[path], spread(rates), spread([s["wall"] for s in runs], "{:.1f}"), spread(outside),
                     f"{aws:.0%} / {http:.0%} / {1 - aws - http:.0%}", f"{warm_total:.3g}", by_operation(warm),
                     f"{cold_total:.3g}", once_text, target])  # fmt: skip
        summary.append(
            f"{path} path: {statistics.median(rates):,.0f} messages/s ({statistics.median(outside):,.0f}/s outside "
            f"the DynamoDB calls, which moto makes {aws:.0%} of the time); {warm_total:.3g} DynamoDB requests per "
            f"delivered message for a warm worker ({by_operation(warm)}; {target}), {cold_total:.3g} with the cold "
            f"worker's one-offs over {n} messages"
        )
        for (operation, what), value in sorted(per_message(median_run["calls"], n).items()):
            once_mark = " (once per worker)" if what in ONCE_PER_WORKER else ""
            op_rows.append([path, operation, what + once_mark, f"{value:.3g}", f"{value * n:.0f}"])
        if ssm:
            op_rows.append([path, "SSM GetParameter", "tenant secrets (once per worker)", f"{ssm:.3g}",
                            f"{ssm * n:.0f}"])  # fmt: skip
        moto_rows.append([path, *(moto_ms(median_run, operation) for operation in MOTO_OPERATIONS)])
    writes = by_operation(per_message(samples["schedule"][0]["writes"], n))
    burst_rows = []
    for tick, b in bursts.items():
        requests = sum(per_message(b["calls"], args.burst).values())
        held = b["busiest_minute"] <= MEMBER_APP_MESSAGES_PER_MINUTE
        ok = held and b["dropped"] == 0 and b["delivered"] == args.burst and b["all_sent_first_try"]
        burst_rows.append([f"every {tick} s", f"{b['runs']}", f"{b['delivered']}", f"{b['dropped']}",
                           f"{b['busiest_minute']}", f"{b['minutes']:.1f}", f"{b['span']:.1f}",
                           f"{requests:.3g} ({by_operation(per_message(b['calls'], args.burst))})",
                           "yes" if ok else "**no**"])  # fmt: skip
        summary.append(
            f"burst of {args.burst} to one member, worker every {tick} s: all delivered by simulated minute "
            f"{b['minutes']:.1f}, {b['dropped']} dropped by the fake, at most {b['busiest_minute']} in any 60 s"
        )
    shipped, nodelay = (statistics.median(probe[flag]) * 1000 for flag in (False, True))
    summary.append(
        f"one message/send round trip to the fake, back to back: {shipped:.1f} ms as shipped, {nodelay:.1f} ms with "
        "TCP_NODELAY on its sockets"
    )
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")), platform.machine()
    )
    lines = [
        "## Outbox delivery",
        "",
        f"Written by `python bench/outbox.py --runs {args.runs} --messages {n} --burst {args.burst}`; issue 4 "
        f"targets. {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} CPUs ({cpu}), load average {load_before} before / "
        f"{load_average()} after, {time.perf_counter() - started:.0f} s in all.",
        "",
        "Summary:",
        "",
        *[f"- {line}" for line in summary],
        "",
        "### Throughput, one worker",
        "",
        "One process: moto (`mock_aws`, in-process) for DynamoDB and SSM; the fake WeCom "
        "(`qungui_cli.fake_wecom.FakeWeCom`, with TCP_NODELAY, see below) as a real HTTP server on 127.0.0.1, reached "
        "by the real "
        "`PlatformSender` over keep-alive connections; a tenant registered with `qungui tenant add`. "
        f"{n} reminders go to {n} distinct members, one callback event each, written as a callback writes them "
        f"(`executor.plan` + `Executor().commit`: {writes} per event, the event's marker and its outbox item "
        "together; not timed). Distinct members, so per-member pacing does not apply: no item waits for a slot, "
        "though each claim still takes the member's pacing window in the same transaction. One `Deliverer` sends "
        "them one after another until the fake has them all (checked: each member got one, none dropped, none a "
        "duplicate, every item `sent`). Messages/s is messages over the wall time of the delivery calls only. "
        f"Median of {args.runs} runs (min–max), each in a fresh moto account with a cold worker, the two paths "
        "taking turns to go first. Requests are from the median run; a warm worker's leave out what it already "
        "holds (the tenant, cached 60 s, and the access token, kept until it expires), which the cold worker read "
        "once.",
        "",
        *table(THROUGHPUT_HEADER, rows),
        "",
        f"The schedule path reads what is due with one GSI1 query per shard ({BATCH} items a query, 4 shards), "
        "amortized over the batch; the stream path (production's first attempt, `app.deliver_stream`) gets each item "
        "from its stream record's NEW_IMAGE, with no read. Requests by what they touch:",
        "",
        *table(["path", "operation", "touches", "per delivered message", f"in all, for {n}"], op_rows),
        "",
        "The wall time is moto's, not qungui's: moto's `transact_write_items` deep-copies the whole table before it "
        "applies a transaction, so a claim costs more the more items the table holds (about "
        f"{3 * n} here by the end: markers, outbox items, pacing windows), and the rate falls as N grows. Milliseconds "
        "per request inside moto, for the median run:",
        "",
        *table(["path", *MOTO_OPERATIONS], moto_rows),
        "",
        "`outside the DynamoDB calls` is what one worker does when DynamoDB answers instantly: qungui's own work "
        "and the HTTP exchange with the fake. In AWS each request is a network round trip of a few ms instead, so "
        "one worker's rate there is set by two (schedule) or three (stream) such round trips plus the WeCom call "
        "per message. Compare request counts across changes, not moto's wall time.",
        "",
        f"HTTP alone: {len(probe[False])} message/send calls back to back over the same transport "
        f"(`chalicelib.wecom.http.JsonHttp`), median {spread([t * 1000 for t in probe[False]], '{:.1f}')} ms with the "
        f"fake as shipped, {spread([t * 1000 for t in probe[True]], '{:.1f}')} ms with socketserver's "
        "`disable_nagle_algorithm` set on its handler, as in the runs above. The fake writes an answer's headers and "
        "body in two sends with Nagle's algorithm on, so the body can wait for the client's delayed ACK (up to 40 ms "
        "on Linux); between calls spaced by moto's work that wait comes in some runs and not in others, so the runs "
        "above switch it off to measure the worker, not the fake. Setting that attribute on the handler in "
        "`qungui_cli/fake_wecom.py` would make the fake as shipped behave so.",
        "",
        f"### Burst of {args.burst} alerts to one member (paced)",
        "",
        f"{args.burst} admin alerts to the same member, committed at once. WeCom takes at most "
        f"{MEMBER_APP_MESSAGES_PER_MINUTE} app messages per member per minute and drops the rest without an error, "
        f"so the outbox hands out one send slot every {PACING['app']:g} s per member and the items wait for theirs. "
        "The injected clock (deliverer, token cache, tenant cache, fake WeCom) starts at the commit and advances by "
        "the worker's tick: `every 60 s` is production's `deliver` schedule, `every 1 s` shows the pacing alone. "
        "Minutes are simulated, from the commit to the last delivery; the fake applies the documented limit over "
        "a sliding minute and records whatever it would drop.",
        "",
        *table(BURST_HEADER, burst_rows),
        "",
        "A paced item costs more requests than a free one: its first claim's transaction is cancelled by the busy "
        "window (still a request), a second transaction reserves the next slot, and the item is claimed again when "
        "its slot comes. With the 1 s tick, the due-index queries of some 200 mostly idle runs dominate.",
        "",
    ]
    return "\n".join(lines)


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="fan-out runs per delivery path (median reported)")
    parser.add_argument("--messages", type=int, default=300, help="messages to distinct members per run")
    parser.add_argument("--burst", type=int, default=100, help="alerts to one member in the paced burst")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="Markdown file to update")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.messages < 1 or args.burst < 1:
        parser.error("--runs, --messages and --burst must be positive")
    section = report(args)
    print(section)
    write_section(args.output, "outbox", section)
    print(f"written to {args.output} (section outbox)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

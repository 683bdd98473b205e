"""qungui on Chalice: wiring only. Routes adapt HTTP to chalicelib.gateway; the logic lives in chalicelib/.

Handler names are permanent: renaming one leaves the old Lambda (and its schedule) running in every deployed stage.
"""

from __future__ import annotations

import json
import os
import time

from chalice.app import Chalice, CloudWatchEvent, ConvertToMiddleware, Cron, DynamoDBEvent, Rate, Response, SQSEvent

from chalicelib import jobs, runtime, verify_files
from chalicelib.events import Channel
from chalicelib.gateway import HttpRequest, HttpResponse
from chalicelib.observability import SERVICE, logger

app = Chalice(app_name=SERVICE, configure_logs=False)
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(clear_state=True)))

# The platforms are not consistent about Content-Type (text/xml, application/xml, application/json, none): accept all.
ANY_CONTENT = ["*/*"]


def _answer(channel: Channel, tenant: str) -> Response:
    request = app.current_request
    assert request is not None
    reply = runtime.gateway().handle(
        channel,
        HttpRequest(
            method=request.method,
            tenant_id=tenant,
            query=dict(request.query_params or {}),
            body=_bytes(request.raw_body) if request.method == "POST" else b"",
        ),
    )
    return _response(reply)


def _bytes(body: str | bytes) -> bytes:
    return body.encode() if isinstance(body, str) else body


def _response(reply: HttpResponse) -> Response:
    return Response(body=reply.body, status_code=reply.status, headers={"Content-Type": reply.content_type})


@app.route("/wecom/{tenant}/callback", methods=["GET", "POST"], content_types=ANY_CONTENT)
def wecom_callback(tenant: str) -> Response:
    return _answer(Channel.APP, tenant)


@app.route("/wecom/{tenant}/bot", methods=["GET", "POST"], content_types=ANY_CONTENT)
def wecom_bot(tenant: str) -> Response:
    return _answer(Channel.BOT, tenant)


@app.route("/mp/{tenant}/callback", methods=["GET", "POST"], content_types=ANY_CONTENT)
def mp_callback(tenant: str) -> Response:
    return _answer(Channel.MP, tenant)


@app.route("/{file_name}", methods=["GET"])
def trusted_domain_file(file_name: str) -> Response:
    return _response(verify_files.answer(file_name))


@app.schedule(Rate(1, unit=Rate.MINUTES), name="deliver")
def deliver(event: CloudWatchEvent) -> None:
    """Retries and paced sends; new items go out at once through `deliver_stream`."""
    jobs.deliver_due(time.time())


@app.schedule(Cron(30, 19, "*", "*", "?", "*"), name="retention")
def retention(event: CloudWatchEvent) -> None:
    """Daily at 03:30 China time: drop ledger excerpts older than each tenant's retention."""
    jobs.expire_evidence(time.time())


@app.schedule(Rate(1, unit=Rate.MINUTES), name="reconcile")
def reconcile(event: CloudWatchEvent) -> None:
    """Groups due for reconciliation (an event asked, or their poll interval passed), one queue message each."""
    jobs.reconcile_due(time.time())


@app.schedule(Rate(1, unit=Rate.HOURS), name="digest")
def digest(event: CloudWatchEvent) -> None:
    """Weekly digests whose slot has come (each group's policy picks the weekday and hour, in the tenant's zone)."""
    jobs.send_digests(time.time())


# The sweep queue's ARN exists only once infra/ is deployed; without it the schedule reconciles inline.
if os.environ.get("QUNGUI_SWEEP_QUEUE_ARN"):

    @app.on_sqs_message(queue_arn=os.environ["QUNGUI_SWEEP_QUEUE_ARN"], batch_size=1, name="reconcile_group")
    def reconcile_group(event: SQSEvent) -> None:
        for record in event:
            jobs.reconcile_group(json.loads(record.body))


# The table stream starts delivery the moment an outbox item is committed with its event. Its ARN exists only once
# infra/ is deployed and `make config` has rendered it; without it (tests, the local stack) the schedule delivers.
OUTBOX_PREFIX = "OUT#"
if os.environ.get("QUNGUI_TABLE_STREAM_ARN"):

    @app.on_dynamodb_record(stream_arn=os.environ["QUNGUI_TABLE_STREAM_ARN"], batch_size=50, name="deliver_stream")
    def deliver_stream(event: DynamoDBEvent) -> None:
        inserted = [
            record.new_image
            for record in event
            if record.event_name == "INSERT" and record.keys["sk"]["S"].startswith(OUTBOX_PREFIX) and record.new_image
        ]
        if inserted:
            jobs.deliver_images(inserted, time.time())

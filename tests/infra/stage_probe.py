"""Runs in a fresh interpreter whose environment is exactly a rendered stage's (what Lambda gives the functions), with
AWS_ENDPOINT_URL pointing at a moto server: imports the app, writes and reads through the models and through a route,
and round-trips a message on every queue named by the environment. Prints a JSON report on stdout.

    python stage_probe.py PROJECT_DIR STAGE

Used by tests/infra/test_render_config.py; not a test module itself.
"""

from __future__ import annotations

import json
import os
import sys


def main(project_dir: str, stage: str) -> dict[str, object]:
    import boto3
    from chalice.test import Client

    import app
    from chalicelib.store import keys
    from chalicelib.store.models import ALL_MODELS, TenantRecord, VerifyCode

    report: dict[str, object] = {"tables": sorted({m.Meta.table_name for m in ALL_MODELS})}

    TenantRecord(
        keys.tenant_pk("acme"),
        keys.tenant_profile_sk(),
        corp_id="ww0123456789abcdef",
        secrets_parameter=f"{os.environ['QUNGUI_SSM_PREFIX']}/tenants/acme",
        created_at=1_790_000_000,
        updated_at=1_790_000_000,
    ).save()
    report["tenant_corp_id"] = TenantRecord.get(keys.tenant_pk("acme"), keys.tenant_profile_sk()).corp_id

    VerifyCode(keys.verify_code_pk("Probe42"), keys.verify_code_sk(), tenant="acme", content="probe-content").save()
    with Client(app.app, stage_name=stage, project_dir=project_dir) as client:
        response = client.http.get("/WW_verify_Probe42.txt")
    report["verify_file"] = [response.status_code, response.body.decode()]

    sqs = boto3.client("sqs")
    queues: dict[str, object] = {}
    for purpose in ("deliver", "sweep", "archive"):
        url = os.environ[f"QUNGUI_{purpose.upper()}_QUEUE_URL"]
        sqs.send_message(QueueUrl=url, MessageBody=f"probe {purpose}")
        received = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queues[purpose] = {
            "bodies": [m["Body"] for m in received],
            "arn_matches_env": arn == os.environ[f"QUNGUI_{purpose.upper()}_QUEUE_ARN"],
        }
    report["queues"] = queues
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))

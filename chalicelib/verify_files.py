"""The 可信域名 verification files: WeCom fetches https://HOST/WW_verify_{code}.txt and expects the content it
issued; the route carries no tenant, so the code alone finds it."""

from __future__ import annotations

import re

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from chalicelib.gateway import HttpResponse
from chalicelib.store import keys
from chalicelib.store.models import VerifyCode
from chalicelib.tenants import TenantError

FILE_NAME = re.compile(r"^WW_verify_([A-Za-z0-9]{1,64})\.txt$")


def code_of(file_name: str) -> str | None:
    match = FILE_NAME.match(file_name)
    return match.group(1) if match else None


def content_for(code: str) -> str | None:
    try:
        return VerifyCode.get(keys.verify_code_pk(code), keys.verify_code_sk()).content
    except DoesNotExist:
        return None
    except PynamoDBException as exc:
        raise TenantError("verification store unavailable") from exc


def answer(file_name: str) -> HttpResponse:
    """GET /{file_name}: the file's content, 404 for anything that is not a registered WW_verify file, 503 when the
    store fails (WeCom's verifier tries again)."""
    code = code_of(file_name)
    try:
        content = content_for(code) if code else None
    except TenantError:
        return HttpResponse(503, "temporarily unavailable, retry")
    return HttpResponse(404, "not found") if content is None else HttpResponse(200, content)

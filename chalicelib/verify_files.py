"""The 可信域名 verification files: WeCom fetches https://HOST/WW_verify_{code}.txt and expects the content it
issued; the route carries no tenant, so the code alone finds it."""

from __future__ import annotations

import re

from pynamodb.exceptions import DoesNotExist, PynamoDBException

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

"""Error classification over the documented codes (reference/wecom-protocol.md §5): what the outbox retries, what it
marks dead at once, and what it tells ops about."""

from __future__ import annotations

import pytest

from chalicelib.wecom import errors
from chalicelib.wecom.errors import (
    ConfigurationError,
    OutsideServiceWindow,
    PermanentError,
    RetryableError,
    WeComError,
    classify,
    from_errcode,
)

RETRYABLE = {
    -1: "system busy",
    45009: "API quota exceeded",
    45011: "OA per-minute quota",
    45033: "too many concurrent calls",
    40014: "token rejected again after a refetch",
    42001: "token expired again after a refetch",
    41001: "token missing",
    errors.ERR_TIMEOUT: "timeout",
    errors.ERR_CONNECTION: "connection error",
    errors.ERR_HTTP_SERVER: "HTTP 5xx",
    errors.ERR_MALFORMED: "malformed JSON",
    errors.ERR_TOKEN_STORE: "token cache unavailable",
}
PERMANENT = {
    40003: "invalid UserID / OpenID",
    60111: "UserID does not exist",
    60011: "recipient outside the app's visibility",
    81013: "all recipients invalid",
    86001: "bad chatid",
    86003: "chatid does not exist",
    86004: "bad group name",
    86006: "bad member count",
    86008: "group not created by this app",
    86215: "chatid exists",
    93000: "robot webhook invalid",
    40008: "invalid message type",
    45002: "content too long",
    40037: "invalid template id",
    123456: "a code nobody documented",
}
CONFIGURATION = {
    40001: "bad secret",
    40013: "bad CorpID",
    60020: "untrusted IP",
    40164: "OA IP whitelist",
    48001: "API not authorized",
    errors.ERR_HTTP_CLIENT: "a proxy or base URL refuses us",
}
WINDOW = {45015: "outside the 48 h window", 45047: "window quota used up"}


@pytest.mark.parametrize("errcode", sorted(RETRYABLE))
def test_transient_failures_are_retryable(errcode: int) -> None:
    assert classify(errcode) is RetryableError
    assert classify(errcode).retryable


@pytest.mark.parametrize("errcode", sorted(PERMANENT))
def test_refusals_are_permanent(errcode: int) -> None:
    assert classify(errcode) is PermanentError
    assert not classify(errcode).retryable


@pytest.mark.parametrize("errcode", sorted(CONFIGURATION))
def test_setup_problems_are_permanent_and_flagged_for_ops(errcode: int) -> None:
    assert classify(errcode) is ConfigurationError
    assert issubclass(ConfigurationError, PermanentError)
    assert errors.HINTS[errcode]


@pytest.mark.parametrize("errcode", sorted(WINDOW))
def test_closed_service_window_is_its_own_permanent_error(errcode: int) -> None:
    assert classify(errcode) is OutsideServiceWindow
    assert issubclass(OutsideServiceWindow, PermanentError)


def test_every_class_shares_one_base() -> None:
    for cls in (RetryableError, PermanentError, ConfigurationError, OutsideServiceWindow):
        assert issubclass(cls, WeComError)
    assert RetryableError.retryable
    assert not PermanentError.retryable


def test_error_keeps_code_message_and_api() -> None:
    error = from_errcode(81013, "user & party & tag all invalid", "wecom:message/send")

    assert isinstance(error, PermanentError)
    assert (error.errcode, error.errmsg, error.api, error.http_status) == (
        81013,
        "user & party & tag all invalid",
        "wecom:message/send",
        None,
    )
    assert str(error) == (
        "wecom:message/send errcode 81013: user & party & tag all invalid "
        "[every recipient is invalid or outside the app's visibility]"
    )
    assert repr(error) == "PermanentError(81013, 'user & party & tag all invalid', 'wecom:message/send')"


def test_message_for_ops_explains_untrusted_ip() -> None:
    error = from_errcode(60020, "not allow to access from your ip", "wecom:message/send")

    assert isinstance(error, ConfigurationError)
    assert "企业可信IP" in str(error)


def test_http_status_is_part_of_the_message() -> None:
    error = RetryableError(errors.ERR_HTTP_SERVER, "HTTP 502", "mp:token", http_status=502)

    assert error.http_status == 502
    assert "(HTTP 502)" in str(error)


def test_transport_codes_never_collide_with_platform_codes() -> None:
    transport = [v for k, v in vars(errors).items() if k.startswith("ERR_")]
    assert len(set(transport)) == len(transport) == 6
    assert all(code < -1 for code in transport)

"""Errors of the outbound WeCom and Official Account APIs: one base, split by what the caller should do next.

- `RetryableError`: try the same call again later (the outbox backs off): platform busy, rate limits, timeouts,
  connection failures, HTTP 5xx, a body that is not JSON, a token still rejected after one refetch.
- `PermanentError`: the same call will fail again; the outbox marks the message dead with the reason kept.
  - `ConfigurationError`: the tenant's setup is wrong (secret, CorpID, trusted IP, API permission). Every message
    of the tenant fails the same way until ops fix it, so it deserves a clear message to ops, not only a dead item.
  - `OutsideServiceWindow`: the Official Account may not send a customer-service message to this follower now;
    the caller falls back to a template message.

Codes come from WeCom's global error table (path/90455) and the Official Account's, as summarized in
reference/wecom-protocol.md §5. A code missing from the tables below is permanent: retrying a request that the
platform refused for a reason we do not know only delays the dead letter that tells ops about it.
"""

from __future__ import annotations

from typing import ClassVar

# Codes for failures that happen before the platform answers with an errcode of its own. They are negative and far
# from WeCom's only negative code (-1) so that a log line or a metric never confuses them with a platform answer.
ERR_TIMEOUT = -1001
ERR_CONNECTION = -1002
ERR_HTTP_SERVER = -1003  # HTTP 5xx, 408, 429 from the platform or a proxy in front of it
ERR_MALFORMED = -1004  # a body that is not a JSON object
ERR_TOKEN_STORE = -1005  # the DynamoDB token cache failed
ERR_HTTP_CLIENT = -1006  # another non-200 status: WeCom answers 200 with an errcode, so a proxy or base URL is wrong

SYSTEM_BUSY = -1
INVALID_CREDENTIAL = 40001  # WeCom: bad secret (gettoken); OA: bad AppSecret, or a token replaced by a newer one
INVALID_TOKEN = 40014
TOKEN_EXPIRED = 42001
MISSING_TOKEN = 41001
OUTSIDE_WINDOW = 45015
WINDOW_QUOTA_EXCEEDED = 45047

RETRYABLE_CODES: frozenset[int] = frozenset(
    {
        SYSTEM_BUSY,  # 系统繁忙
        45009,  # 接口调用超过限制 (WeCom: per-minute/hour API quota; OA: daily quota)
        45011,  # OA: API 调用太频繁 (per-minute quota)
        45033,  # 接口并发调用超过限制
        MISSING_TOKEN,
        INVALID_TOKEN,  # still rejected after the client's one refetch: a token race, not a bad request
        TOKEN_EXPIRED,
        ERR_TIMEOUT,
        ERR_CONNECTION,
        ERR_HTTP_SERVER,
        ERR_MALFORMED,
        ERR_TOKEN_STORE,
    }
)

CONFIGURATION_CODES: frozenset[int] = frozenset(
    {
        INVALID_CREDENTIAL,
        40013,  # 不合法的CorpID / AppID
        40164,  # OA: caller IP not in the IP whitelist
        48001,  # API not authorized for this app
        48002,  # API disabled
        60020,  # 不安全的访问IP: egress IP missing from the app's 企业可信IP
        ERR_HTTP_CLIENT,
    }
)

WINDOW_CODES: frozenset[int] = frozenset({OUTSIDE_WINDOW, WINDOW_QUOTA_EXCEEDED})

# What ops should do about a code; shown in error messages, dead letters and alerts.
HINTS: dict[int, str] = {
    INVALID_CREDENTIAL: "the app secret is wrong or was reset: run `qungui tenant add` with the current secret",
    40013: "the CorpID / AppID is wrong",
    40164: "the Official Account's IP whitelist does not include this deployment's egress IP",
    48001: "the app is not allowed to call this API (customer-contact or archive permission missing)",
    60011: "the recipient is outside the app's visibility scope",
    60020: "this deployment's egress IP is not in the app's 企业可信IP list (apps created after 2022-06-20)",
    60111: "no member has this UserID",
    40003: "invalid UserID / OpenID",
    81013: "every recipient is invalid or outside the app's visibility",
    86003: "the app-created group does not exist",
    86008: "the group was not created by this app",
    93000: "the robot webhook key is invalid or the robot was removed from its group",
    OUTSIDE_WINDOW: "the follower has not interacted within the last 48 h: use a template message",
    WINDOW_QUOTA_EXCEEDED: "the customer-service message quota of this follower's window is used up",
    45009: "the API quota is exhausted for now",
    45033: "too many concurrent calls",
    SYSTEM_BUSY: "the platform is busy",
    ERR_HTTP_CLIENT: "check QUNGUI_WECOM_API_BASE / QUNGUI_MP_API_BASE and any proxy in front of the platform",
}


class WeComError(Exception):
    """A failed outbound call. `api` names the call (e.g. "wecom:message/send"); never a URL, which may hold a key."""

    retryable: ClassVar[bool] = False

    def __init__(self, errcode: int, errmsg: str, api: str, *, http_status: int | None = None) -> None:
        self.errcode = errcode
        self.errmsg = errmsg
        self.api = api
        self.http_status = http_status
        super().__init__(errcode, errmsg, api)

    @property
    def hint(self) -> str | None:
        return HINTS.get(self.errcode)

    def __str__(self) -> str:
        text = f"{self.api} errcode {self.errcode}: {self.errmsg}"
        if self.http_status is not None:
            text += f" (HTTP {self.http_status})"
        if self.hint:
            text += f" [{self.hint}]"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.errcode!r}, {self.errmsg!r}, {self.api!r})"


class RetryableError(WeComError):
    retryable = True


class PermanentError(WeComError):
    retryable = False


class ConfigurationError(PermanentError):
    """Permanent for the message, and for every other message of the tenant until ops fix the setup."""


class OutsideServiceWindow(PermanentError):
    """The Official Account may not send this follower a customer-service message now (45015, 45047)."""


def classify(errcode: int) -> type[WeComError]:
    """The error class for a non-zero errcode (or one of the ERR_* transport codes)."""
    if errcode in RETRYABLE_CODES:
        return RetryableError
    if errcode in WINDOW_CODES:
        return OutsideServiceWindow
    if errcode in CONFIGURATION_CODES:
        return ConfigurationError
    return PermanentError


def from_errcode(errcode: int, errmsg: str, api: str, *, http_status: int | None = None) -> WeComError:
    return classify(errcode)(errcode, errmsg, api, http_status=http_status)

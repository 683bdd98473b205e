"""JSON over HTTP for the outbound APIs (WeCom, Official Account, robot webhooks), on the standard library.

http.client rather than urllib.request: it gives a connect timeout separate from the read timeout, keeps connections
alive between calls (a warm Lambda draining the outbox skips a TLS handshake per message), and ignores the
*_PROXY environment variables, so a developer's proxy never swallows calls meant for the local fake. Proxies in
production go through the configurable base URLs instead.

Every URL that reaches a log line or an error message is redacted: the robot key, the access token and the app
secret travel in query strings.
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from chalicelib.observability import logger
from chalicelib.wecom.errors import (
    ERR_CONNECTION,
    ERR_HTTP_CLIENT,
    ERR_HTTP_SERVER,
    ERR_MALFORMED,
    ERR_TIMEOUT,
    ConfigurationError,
    RetryableError,
    WeComError,
    from_errcode,
)

SENSITIVE_PARAMS = frozenset({"access_token", "key", "corpsecret", "secret"})
MAX_BODY = 1 << 20  # platform answers are a few KiB; anything larger is not the API we meant to call
_RETRYABLE_STATUS = frozenset({408, 429})
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds. The read timeout bounds each wait for bytes, so one slow call cannot eat a Lambda's whole budget."""

    connect: float = 2.0
    read: float = 5.0


def api_base(env_name: str, default: str, env: Mapping[str, str] | None = None) -> str:
    """A base URL from the environment (tests and the local stack point it at a fake), without a trailing slash."""
    values = os.environ if env is None else env
    return (values.get(env_name) or "").strip().rstrip("/") or default.rstrip("/")


def build_url(base: str, path: str, query: Mapping[str, str | int] | None = None) -> str:
    url = f"{base}/{path.lstrip('/')}"
    return f"{url}?{urlencode(query)}" if query else url


def redact_url(url: str) -> str:
    """The URL with every credential-bearing query value replaced by ***, safe for logs and error messages."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [(k, "***" if k in SENSITIVE_PARAMS else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(pairs, safe="*")))


def _secrets_in(query: str) -> list[str]:
    # Both forms: a library may quote the value as sent (percent-encoded) or as decoded.
    raw = [pair.partition("=") for pair in query.split("&")]
    encoded = [value for name, _, value in raw if unquote_plus(name) in SENSITIVE_PARAMS and value]
    decoded = [v for k, v in parse_qsl(query, keep_blank_values=True) if k in SENSITIVE_PARAMS and v]
    return sorted(set(encoded + decoded), key=len, reverse=True)


def _scrub(text: str, secrets: list[str]) -> str:
    # Library exceptions may quote the request line; strip any credential they might carry.
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


_ssl_context: ssl.SSLContext | None = None


def _default_ssl_context() -> ssl.SSLContext:
    # Built on first HTTPS use: loading the CA bundle costs time that a cold callback (no outbound calls) should
    # not pay.
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = ssl.create_default_context()
    return _ssl_context


_Origin = tuple[str, str, int]


class _ConnectTimeout(Exception):
    pass


_shared: JsonHttp | None = None
_shared_lock = threading.Lock()


class JsonHttp:
    """Sends JSON, returns the decoded JSON object, raises WeComError subclasses; safe to share between threads."""

    def __init__(self, timeouts: Timeouts | None = None, *, max_idle_per_host: int = 4) -> None:
        self.timeouts = timeouts or Timeouts()
        self._max_idle = max_idle_per_host
        self._idle: dict[_Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    @classmethod
    def shared(cls) -> JsonHttp:
        """The process-wide transport with default timeouts: clients of every tenant share its kept-alive
        connections to the same platform host."""
        global _shared
        with _shared_lock:
            if _shared is None:
                _shared = cls()
            return _shared

    def get(self, url: str, *, api: str) -> dict[str, Any]:
        return self.request("GET", url, None, api=api)

    def post(self, url: str, body: Mapping[str, Any], *, api: str) -> dict[str, Any]:
        return self.request("POST", url, body, api=api)

    def request(self, method: str, url: str, body: Mapping[str, Any] | None, *, api: str) -> dict[str, Any]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {redact_url(url)}")
        origin: _Origin = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        secrets = _secrets_in(parts.query)
        payload = None
        headers = {"Accept": "application/json", "User-Agent": "qungui"}
        if body is not None:
            # ensure_ascii=False: WeCom counts content limits in UTF-8 bytes, and escapes would triple Chinese text.
            payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"

        started = time.monotonic()
        try:
            status, raw = self._exchange(origin, method, target, payload, headers)
        except _ConnectTimeout:
            raise self._failed(RetryableError(ERR_TIMEOUT, "connect timed out", api), url) from None
        except TimeoutError:
            message = f"no answer within {self.timeouts.read:g}s"
            raise self._failed(RetryableError(ERR_TIMEOUT, message, api), url) from None
        except (OSError, http.client.HTTPException) as exc:
            message = _scrub(f"{type(exc).__name__}: {exc}", secrets)
            raise self._failed(RetryableError(ERR_CONNECTION, message, api), url) from None
        elapsed_ms = round((time.monotonic() - started) * 1000)
        logger.debug("outbound call", extra={"api": api, "url": redact_url(url), "status": status, "ms": elapsed_ms})

        if status != 200:
            if status >= 500 or status in _RETRYABLE_STATUS:
                error: WeComError = RetryableError(ERR_HTTP_SERVER, f"HTTP {status}", api, http_status=status)
            else:
                error = ConfigurationError(ERR_HTTP_CLIENT, f"HTTP {status}", api, http_status=status)
            raise self._failed(error, url)
        try:
            data = json.loads(raw) if len(raw) <= MAX_BODY else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise self._failed(RetryableError(ERR_MALFORMED, "answer is not a JSON object", api, http_status=200), url)
        errcode = data.get("errcode", 0)
        if not isinstance(errcode, int):
            raise self._failed(RetryableError(ERR_MALFORMED, f"errcode {errcode!r}", api, http_status=200), url)
        if errcode != 0:
            raise self._failed(from_errcode(errcode, str(data.get("errmsg", "")), api), url)
        return data

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for conn in connections:
                conn.close()

    def _failed(self, error: WeComError, url: str) -> WeComError:
        # Transport failures are ours to look at; platform errcodes are the outbox's to report (dead letters).
        level = logger.warning if error.errcode < 0 else logger.info
        level("outbound call failed", extra={"url": redact_url(url), "error": str(error)})
        return error

    def _exchange(
        self, origin: _Origin, method: str, target: str, payload: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        conn, reused = self._checkout(origin)
        try:
            try:
                conn.request(method, target, body=payload, headers=headers)
                response = conn.getresponse()
            except _STALE:
                conn.close()
                if not reused:
                    raise
                # The server closed an idle keep-alive connection before reading our request, so nothing was
                # processed: one fresh connection is safe even for a POST.
                conn, reused = self._connect(origin), False
                conn.request(method, target, body=payload, headers=headers)
                response = conn.getresponse()
            raw = response.read(MAX_BODY + 1)
        except BaseException:
            conn.close()
            raise
        if response.will_close or len(raw) > MAX_BODY or conn.sock is None:
            conn.close()
        else:
            self._checkin(origin, conn)
        return response.status, raw

    def _checkout(self, origin: _Origin) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            pool = self._idle.get(origin)
            if pool:
                return pool.pop(), True
        return self._connect(origin), False

    def _checkin(self, origin: _Origin, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            pool = self._idle.setdefault(origin, [])
            if len(pool) < self._max_idle:
                pool.append(conn)
                return
        conn.close()

    def _connect(self, origin: _Origin) -> http.client.HTTPConnection:
        scheme, host, port = origin
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = http.client.HTTPSConnection(
                host, port, timeout=self.timeouts.connect, context=_default_ssl_context()
            )
        else:
            conn = http.client.HTTPConnection(host, port, timeout=self.timeouts.connect)
        try:
            conn.connect()
        except TimeoutError:
            conn.close()
            raise _ConnectTimeout from None
        assert conn.sock is not None
        conn.sock.settimeout(self.timeouts.read)
        return conn

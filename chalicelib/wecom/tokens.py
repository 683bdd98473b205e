"""Access tokens shared by every Lambda through DynamoDB, refreshed by one of them at a time.

The platforms throttle token requests, and for the Official Account each new token retires the previous one within
minutes, so concurrent Lambdas must not each fetch their own. The protocol:

1. A token that is valid for longer than the refresh margin is used as is (from memory, else from the table).
2. Otherwise a Lambda takes the refresh lease with a conditional update (`lease_until < now`): exactly one wins.
3. The others keep using the current token while it has not expired; without one, they poll the table with a
   short, growing sleep until the winner stores the new token, or until the lease expires and they may take it.
4. A token the platform rejected (40014/42001) counts as absent, unless another Lambda already replaced it.
5. If an early refresh returns the same token (WeCom does so until a token expires), this cache uses it until it
   expires instead of asking again on every call.

Clock and sleep are injected, so the protocol is tested without waiting on the wall clock.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pynamodb.exceptions import DoesNotExist, PynamoDBException, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.observability import logger
from chalicelib.store import keys
from chalicelib.store.models import SCHEMA_VERSION, AccessToken
from chalicelib.wecom.errors import ERR_MALFORMED, ERR_TOKEN_STORE, RetryableError, WeComError
from chalicelib.wecom.http import JsonHttp, build_url

Clock = Callable[[], float]
Sleep = Callable[[float], None]
T = TypeVar("T")

_KEEP_EXPIRED = 86400  # the TTL keeps an abandoned app's token item a day past expiry, for diagnosis


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    # Refresh well before expiry: clocks drift, and a token fetched at the last second may expire mid-call.
    refresh_margin: float = 300
    # Longer than one token call can take (connect + read timeouts), so a live refresher never loses its lease.
    lease_seconds: int = 15
    poll_first: float = 0.05
    poll_max: float = 0.5
    # A bound on polling even when the injected clock does not move; the lease expiry ends it in practice.
    max_polls: int = 100


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int


def issued_token(data: Mapping[str, Any], api: str) -> IssuedToken:
    """The token in a gettoken / token answer (both platforms use the same two fields)."""
    token, expires_in = data.get("access_token"), data.get("expires_in", 7200)
    if not isinstance(token, str) or not token or not isinstance(expires_in, int) or expires_in <= 0:
        raise RetryableError(ERR_MALFORMED, "token answer without access_token/expires_in", api)
    return IssuedToken(token=token, expires_in=expires_in)


class TokenCache:
    """One app's token: `get()` for a call, `refresh(rejected)` after the platform refused `rejected`.

    The in-memory copy lives as long as this object, so keep one client per app credential in a warm container.
    """

    def __init__(
        self,
        api: str,
        app_id: str,
        fetch: Callable[[], IssuedToken],
        *,
        policy: TokenPolicy | None = None,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.api = api
        self.app_id = app_id
        self._fetch = fetch
        self.policy = policy or TokenPolicy()
        self._clock = clock
        self._sleep = sleep
        self._pk = keys.token_pk(api, app_id)
        self._sk = keys.token_sk()
        self._owner = uuid.uuid4().hex
        self._token: str | None = None
        self._refresh_at = 0.0

    def get(self) -> str:
        if self._token is not None and self._clock() < self._refresh_at:
            return self._token
        return self._obtain(rejected=None)

    def refresh(self, rejected: str) -> str:
        self._token = None
        return self._obtain(rejected=rejected)

    def _obtain(self, rejected: str | None) -> str:
        delay = self.policy.poll_first
        for _ in range(self.policy.max_polls):
            now = self._clock()
            item = self._load()
            if item is not None and self._fresh(item, now, rejected):
                return self._remember(item.token, item.token_expires_at)
            leased = self._take_lease(now)
            if leased is not None:
                return self._refresh_under_lease(leased, rejected)
            if item is not None and self._usable(item, now, rejected):
                return self._remember(item.token, item.token_expires_at)
            self._sleep(delay)
            delay = min(delay * 2, self.policy.poll_max)
        # The lease holder neither finished nor let its lease expire on our clock: refresh rather than fail.
        logger.warning("token lease wait gave up", extra={"api": self.api, "app": self.app_id})
        started = self._clock()
        issued = self._fetch()
        expires_at = int(started) + issued.expires_in
        self._store(issued.token, expires_at, leased=False)
        return self._remember(issued.token, expires_at)

    def _refresh_under_lease(self, leased: AccessToken, rejected: str | None) -> str:
        if self._fresh(leased, self._clock(), rejected):
            # Another Lambda stored a new token between our read and our lease.
            self._release()
            return self._remember(leased.token, leased.token_expires_at)
        started = self._clock()
        try:
            issued = self._fetch()
        except BaseException:
            self._release()
            raise
        expires_at = int(started) + issued.expires_in
        self._store(issued.token, expires_at, leased=True)
        logger.info("access token refreshed", extra={"api": self.api, "app": self.app_id})
        # WeCom answers with the same token until it expires: asking again before then would only repeat this call.
        renewable = issued.token != leased.token
        return self._remember(issued.token, expires_at, refresh_early=renewable)

    def _fresh(self, item: AccessToken, now: float, rejected: str | None) -> bool:
        return self._usable(item, now, rejected) and now < item.token_expires_at - self.policy.refresh_margin

    @staticmethod
    def _usable(item: AccessToken, now: float, rejected: str | None) -> bool:
        return bool(item.token) and item.token != rejected and now < item.token_expires_at

    def _remember(self, token: str | None, expires_at: float, *, refresh_early: bool = True) -> str:
        assert token
        self._token = token
        self._refresh_at = expires_at - self.policy.refresh_margin if refresh_early else expires_at
        return token

    def _load(self) -> AccessToken | None:
        try:
            return AccessToken.get(self._pk, self._sk, consistent_read=True)
        except DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise self._store_error(exc) from None

    def _take_lease(self, now: float) -> AccessToken | None:
        probe = AccessToken(self._pk, self._sk)
        try:
            probe.update(
                actions=[
                    AccessToken.lease_owner.set(self._owner),
                    AccessToken.lease_until.set(int(now) + self.policy.lease_seconds),
                    AccessToken.schema_version.set(SCHEMA_VERSION),
                ],
                condition=AccessToken.lease_until.does_not_exist() | (AccessToken.lease_until < now),
            )
        except UpdateError as exc:
            if _condition_failed(exc):
                return None
            raise self._store_error(exc) from None
        return probe

    def _store(self, token: str, expires_at: int, *, leased: bool) -> None:
        actions: list[Action] = [
            AccessToken.token.set(token),
            AccessToken.token_expires_at.set(expires_at),
            AccessToken.expires_at.set(datetime.fromtimestamp(expires_at + _KEEP_EXPIRED, tz=UTC)),
            AccessToken.schema_version.set(SCHEMA_VERSION),
        ]
        condition = None
        if leased:
            actions += [AccessToken.lease_owner.remove(), AccessToken.lease_until.set(0)]
            # Whoever took the lease over after ours expired stores its own, newer token.
            condition = AccessToken.lease_owner == self._owner
        try:
            AccessToken(self._pk, self._sk).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if not _condition_failed(exc):
                # We hold a good token: this call can go ahead; the next one retries the store.
                logger.warning(
                    "token store failed", extra={"api": self.api, "app": self.app_id, "error": type(exc).__name__}
                )

    def _release(self) -> None:
        try:
            AccessToken(self._pk, self._sk).update(
                actions=[AccessToken.lease_owner.remove(), AccessToken.lease_until.set(0)],
                condition=AccessToken.lease_owner == self._owner,
            )
        except UpdateError as exc:
            # The lease expires on its own; the original failure is the one to report.
            if not _condition_failed(exc):
                logger.warning("token lease release failed", extra={"api": self.api, "app": self.app_id})

    def _store_error(self, exc: Exception) -> RetryableError:
        return RetryableError(ERR_TOKEN_STORE, f"token cache unavailable: {type(exc).__name__}", f"{self.api}:token")


def _condition_failed(exc: UpdateError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"


def call_with_token(tokens: TokenCache, call: Callable[[str], T], rejected_codes: frozenset[int]) -> T:
    """Run `call(token)`; if the platform rejects the token, refetch it once and run the call once more.

    Safe for sends: a rejected token means the platform refused the request before acting on it.
    """
    token = tokens.get()
    try:
        return call(token)
    except WeComError as error:
        if error.errcode not in rejected_codes:
            raise
    return call(tokens.refresh(rejected=token))


class TokenApi:
    """What both platform clients share: a token cache, a transport and a base URL; `call` reaches any
    token-authenticated API under /cgi-bin/ and answers its parsed JSON."""

    tokens: TokenCache
    http: JsonHttp
    base_url: str
    token_rejected: frozenset[int]

    def access_token(self) -> str:
        """The app's token: from memory, else DynamoDB, else the platform (one caller at a time across Lambdas)."""
        return self.tokens.get()

    def call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return call_api(self.tokens, self.http, self.base_url, self.token_rejected, method, path, query, body)


def call_api(
    tokens: TokenCache,
    http: JsonHttp,
    base_url: str,
    rejected_codes: frozenset[int],
    method: str,
    path: str,
    query: Mapping[str, str | int] | None,
    body: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """One token-authenticated call under `/cgi-bin/` (WeCom and the Official Account share the shape); the parsed
    JSON answer. Errors name the API as `<family>:<path>`, never the URL (it carries the token)."""
    api = f"{tokens.api}:{path}"

    def attempt(token: str) -> dict[str, Any]:
        url = build_url(base_url, f"cgi-bin/{path}", {"access_token": token, **(query or {})})
        return http.request(method, url, body, api=api)

    return call_with_token(tokens, attempt, rejected_codes)

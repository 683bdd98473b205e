"""Outbound Official Account API (reference/wecom-protocol.md §5.7): token, customer-service and template messages.

A customer-service message reaches a follower only inside the window opened by the follower's own action (5
messages within 48 h of a message they sent); outside it the platform answers 45015 (or 45047 once the window's
quota is used), raised as `OutsideServiceWindow` so the caller can fall back to a template message.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from chalicelib.wecom.errors import INVALID_CREDENTIAL, INVALID_TOKEN, TOKEN_EXPIRED
from chalicelib.wecom.http import JsonHttp, api_base, build_url
from chalicelib.wecom.tokens import Clock, IssuedToken, Sleep, TokenApi, TokenCache, TokenPolicy, issued_token

MP_API_BASE_ENV = "QUNGUI_MP_API_BASE"
MP_API_BASE_DEFAULT = "https://api.weixin.qq.com"
# Each /cgi-bin/token call retires the previous token: a call made with it answers 40001 ("access_token is invalid
# or not latest") as well as 40014/42001, and a refetch cures all three.
TOKEN_REJECTED = frozenset({INVALID_CREDENTIAL, INVALID_TOKEN, TOKEN_EXPIRED})

TemplateData = Mapping[str, str | Mapping[str, str]]


def mp_api_base(env: Mapping[str, str] | None = None) -> str:
    """The Official Account API origin (and optional path prefix): QUNGUI_MP_API_BASE or Tencent's."""
    return api_base(MP_API_BASE_ENV, MP_API_BASE_DEFAULT, env)


def template_data(data: TemplateData) -> dict[str, dict[str, str]]:
    """{"keyword1": "巧克力"} or {"keyword1": {"value": "巧克力", "color": "#173177"}} → the documented form."""
    return {name: {"value": value} if isinstance(value, str) else dict(value) for name, value in data.items()}


class MpClient(TokenApi):
    token_rejected = TOKEN_REJECTED

    def __init__(
        self,
        app_id: str,
        secret: str,
        *,
        base_url: str | None = None,
        http: JsonHttp | None = None,
        token_policy: TokenPolicy | None = None,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.app_id = app_id
        self._secret = secret
        self.base_url = (base_url or mp_api_base()).rstrip("/")
        self.http = http or JsonHttp.shared()
        self.tokens = TokenCache("mp", app_id, self._fetch_token, policy=token_policy, clock=clock, sleep=sleep)

    def __repr__(self) -> str:
        return f"MpClient(app_id={self.app_id!r})"

    def send_custom_text(self, openid: str, text: str, *, kf_account: str | None = None) -> None:
        """A customer-service text message; raises OutsideServiceWindow when the follower's window is closed."""
        body: dict[str, Any] = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        if kf_account:
            body["customservice"] = {"kf_account": kf_account}
        self.call("POST", "message/custom/send", body=body)

    def send_template(
        self,
        openid: str,
        template_id: str,
        data: TemplateData,
        *,
        client_msg_id: str,
        url: str | None = None,
        miniprogram: Mapping[str, str] | None = None,
    ) -> int | None:
        """A template message; returns its msgid (the TEMPLATESENDJOBFINISH event reports delivery).

        `client_msg_id` must be stable for one logical message (e.g. the outbox item id): the platform sends one
        message per (openid, client_msg_id) within 10 minutes, which absorbs a retry after a lost answer.
        """
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "client_msg_id": client_msg_id,
            "data": template_data(data),
        }
        if url:
            body["url"] = url
        if miniprogram:
            body["miniprogram"] = dict(miniprogram)
        msgid = self.call("POST", "message/template/send", body=body).get("msgid")
        return None if msgid is None else int(msgid)

    def _fetch_token(self) -> IssuedToken:
        query = {"grant_type": "client_credential", "appid": self.app_id, "secret": self._secret}
        return issued_token(self.http.get(build_url(self.base_url, "cgi-bin/token", query), api="mp:token"), "mp:token")

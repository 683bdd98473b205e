"""The Official Account client over real HTTP against the fake, with its token cache in (moto) DynamoDB."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import NOW, FakeClock

from chalicelib.mp import MpClient, OutsideServiceWindow, mp_api_base
from chalicelib.store import keys
from chalicelib.store.models import AccessToken
from chalicelib.wecom.errors import ConfigurationError, PermanentError, RetryableError
from chalicelib.wecom.http import JsonHttp
from qungui_cli.fake_wecom import FakeWeCom

APP_ID = "wx5823bf96d3bd56c7"
SECRET = "mp-secret-0001"
OPENID = "oia2TjuEGTNoeX76QEjQNrcURxG8"
TOKEN = "/cgi-bin/token"
CUSTOM = "/cgi-bin/message/custom/send"
TEMPLATE = "/cgi-bin/message/template/send"


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeWeCom]:
    with FakeWeCom(clock=clock) as server:
        yield server


@pytest.fixture
def make_client(table: Any, fake: FakeWeCom, clock: FakeClock) -> Callable[..., MpClient]:
    def sleep(seconds: float) -> None:
        clock.now += seconds

    def make(**overrides: Any) -> MpClient:
        options: dict[str, Any] = {"base_url": fake.base_url, "clock": clock, "sleep": sleep}
        options.update(overrides)
        return MpClient(APP_ID, SECRET, **options)

    return make


@pytest.fixture
def client(make_client: Callable[..., MpClient]) -> MpClient:
    return make_client()


def test_token_from_client_credential_cached_in_dynamodb(make_client, fake) -> None:
    make_client().send_custom_text(OPENID, "一")
    make_client().send_custom_text(OPENID, "二")

    [token] = fake.requests(TOKEN)
    assert token.query == {"grant_type": "client_credential", "appid": APP_ID, "secret": SECRET}
    stored = AccessToken.get(keys.token_pk("mp", APP_ID), keys.token_sk())
    assert stored.token_expires_at == NOW + 7200
    assert {r.access_token for r in fake.requests(CUSTOM)} == {stored.token}


def test_token_refreshed_before_expiry_gets_a_new_one(client, fake, clock) -> None:
    client.send_custom_text(OPENID, "一")
    clock.now += 7200 - 299
    client.send_custom_text(OPENID, "二")
    client.send_custom_text(OPENID, "三")

    assert len(fake.requests(TOKEN)) == 2  # the Official Account issues a new token at once, so no second refresh
    tokens = [r.access_token for r in fake.requests(CUSTOM)]
    assert tokens[0] != tokens[1] == tokens[2]


def test_expired_token_is_refetched_and_the_call_retried(client, fake) -> None:
    client.send_custom_text(OPENID, "一")
    fake.expire_tokens()

    client.send_custom_text(OPENID, "二")

    assert [r.errcode for r in fake.requests(CUSTOM)] == [0, 42001, 0]
    assert len(fake.deliveries("message/custom/send")) == 2


def test_token_retired_by_a_newer_one_is_refetched(client, fake, clock) -> None:
    client.send_custom_text(OPENID, "一")
    # Someone else with the same AppSecret asks for a token: ours keeps working for 5 minutes, then 40001.
    other_system = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    other_system.request("GET", f"{TOKEN}?grant_type=client_credential&appid={APP_ID}&secret={SECRET}")
    assert json.load(other_system.getresponse())["errcode"] == 0
    other_system.close()
    clock.now += 301

    client.send_custom_text(OPENID, "二")

    assert [r.errcode for r in fake.requests(CUSTOM)] == [0, 40001, 0]
    assert len(fake.deliveries("message/custom/send")) == 2


def test_bad_app_secret_is_a_configuration_error(client, fake) -> None:
    fake.add_mp_app(APP_ID, "the-real-secret")

    with pytest.raises(ConfigurationError) as raised:
        client.send_custom_text(OPENID, "一")

    assert (raised.value.errcode, raised.value.api) == (40001, "mp:token")
    assert SECRET not in str(raised.value)


def test_custom_text_payload(client, fake) -> None:
    client.send_custom_text(OPENID, "您的申诉已受理", kf_account="kf2001@gh_123")

    assert fake.requests(CUSTOM)[-1].body == {
        "touser": OPENID,
        "msgtype": "text",
        "text": {"content": "您的申诉已受理"},
        "customservice": {"kf_account": "kf2001@gh_123"},
    }


def test_outside_the_service_window(client, fake, clock) -> None:
    fake.add_follower(OPENID)  # follows, never wrote to us

    with pytest.raises(OutsideServiceWindow) as raised:
        client.send_custom_text(OPENID, "一")

    assert isinstance(raised.value, PermanentError)
    assert raised.value.errcode == 45015
    assert raised.value.api == "mp:message/custom/send"
    fake.follower_interacted(OPENID)
    client.send_custom_text(OPENID, "二")
    clock.now += 48 * 3600 + 1
    with pytest.raises(OutsideServiceWindow):
        client.send_custom_text(OPENID, "三")
    assert [d.body["text"]["content"] for d in fake.deliveries("message/custom/send")] == ["二"]


def test_window_quota_used_up_is_also_outside_the_window(client, fake) -> None:
    fake.follower_interacted(OPENID)
    for i in range(5):
        client.send_custom_text(OPENID, str(i))

    with pytest.raises(OutsideServiceWindow) as raised:
        client.send_custom_text(OPENID, "5")

    assert raised.value.errcode == 45047


def test_template_payload_with_client_msg_id(client, fake) -> None:
    msgid = client.send_template(
        OPENID,
        "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY",
        {"first": "您有一条违规记录", "keyword1": {"value": "1.4.2 刷屏", "color": "#173177"}},
        url="https://example.com/ledger/42",
        client_msg_id="out-acme-42",
    )

    assert isinstance(msgid, int)
    assert fake.requests(TEMPLATE)[-1].body == {
        "touser": OPENID,
        "template_id": "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY",
        "client_msg_id": "out-acme-42",
        "data": {"first": {"value": "您有一条违规记录"}, "keyword1": {"value": "1.4.2 刷屏", "color": "#173177"}},
        "url": "https://example.com/ledger/42",
    }


def test_template_resent_with_the_same_client_msg_id_arrives_once(client, fake) -> None:
    first = client.send_template(OPENID, "tpl", {"first": "提醒"}, client_msg_id="out-acme-43")
    again = client.send_template(OPENID, "tpl", {"first": "提醒"}, client_msg_id="out-acme-43")
    other = client.send_template(OPENID, "tpl", {"first": "提醒"}, client_msg_id="out-acme-44")

    assert first == again != other
    assert len(fake.deliveries("message/template/send", to=OPENID)) == 2
    assert len(fake.duplicates) == 1


def test_template_reaches_a_follower_outside_the_window(client, fake) -> None:
    fake.add_follower(OPENID)

    with pytest.raises(OutsideServiceWindow):
        client.send_custom_text(OPENID, "一")
    client.send_template(OPENID, "tpl", {"first": "一"}, client_msg_id="fallback-1")

    assert [d.to for d in fake.deliveries("message/template/send")] == [OPENID]


def test_unknown_openid_is_permanent(client, fake) -> None:
    fake.add_follower(OPENID)

    with pytest.raises(PermanentError) as raised:
        client.send_template("o-stranger", "tpl", {"first": "一"}, client_msg_id="x")

    assert not isinstance(raised.value, OutsideServiceWindow)
    assert raised.value.errcode == 40003


def test_throttled_is_retryable(client, fake) -> None:
    client.access_token()
    fake.fail(TEMPLATE, 45009, "reach max api daily quota limit")

    with pytest.raises(RetryableError):
        client.send_template(OPENID, "tpl", {"first": "一"}, client_msg_id="x")


def test_base_url_comes_from_the_environment(monkeypatch, table, fake, clock) -> None:
    monkeypatch.delenv("QUNGUI_MP_API_BASE", raising=False)
    assert mp_api_base() == "https://api.weixin.qq.com"
    monkeypatch.setenv("QUNGUI_MP_API_BASE", fake.base_url)

    MpClient(APP_ID, SECRET, clock=clock).send_custom_text(OPENID, "一")

    assert len(fake.deliveries("message/custom/send")) == 1


def test_shares_the_connection_pool(client) -> None:
    assert client.http is JsonHttp.shared()

"""Every route through the real Chalice routing (chalice.test.Client), moto behind it, an independent peer in front."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from conftest import NOW
from oracle import Peer, app_text, bot_text, mp_text

from chalicelib.store.models import DedupRecord, Item, MemberActivity
from chalicelib.texts import commands as texts
from qungui_cli.main import main as qungui

V1_QUERY = {
    "msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
    "timestamp": "1476416373",
    "nonce": "47744683",
    "echostr": "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==",
}


def post(client, call, content_type="text/xml"):
    headers = {"Content-Type": content_type} if content_type else {}
    return client.http.post(call.path, headers=headers, body=call.body)


def items_of_kind(prefix: str) -> list[Item]:
    return [item for item in Item.scan() if item.sk.startswith(prefix)]


# ---- URL verification (GET) ----


def test_app_url_verification_with_the_official_v1_vector(client, tenant):
    response = client.http.get(f"/wecom/{tenant}/callback?{urlencode(V1_QUERY)}")
    assert response.status_code == 200
    assert response.body == b"1288432023552776189"
    assert response.headers["Content-Type"].startswith("text/plain")


def test_url_verification_needs_no_fresh_timestamp(client, tenant, peer):
    response = client.http.get(peer.app_verify("42", timestamp=1).path)
    assert response.status_code == 200
    assert response.body == b"42"


def test_bot_and_mp_url_verification(client, tenant, peer):
    bot = peer.bot.encrypt_message("777", "5", NOW)
    import xmltodict

    envelope = xmltodict.parse(bot)["xml"]
    query = urlencode(
        {"msg_signature": envelope["MsgSignature"], "timestamp": NOW, "nonce": "5", "echostr": envelope["Encrypt"]}
    )
    assert client.http.get(f"/wecom/{tenant}/bot?{query}").body == b"777"
    assert client.http.get(peer.mp_verify("echo-me", NOW).path).body == b"echo-me"


def test_verification_with_a_bad_signature_is_refused(client, tenant):
    query = dict(V1_QUERY, msg_signature="0" * 40)
    response = client.http.get(f"/wecom/{tenant}/callback?{urlencode(query)}")
    assert response.status_code == 403
    assert b"signature" in response.body


# ---- the three commands, end to end with an encrypted passive reply ----


@pytest.mark.parametrize(
    ("command", "expected", "cites"),
    [("帮助", texts.HELP, None), ("改昵称", texts.NICKNAME, "篇二 3.2"), ("免打扰", texts.MUTE, "篇三 9")],
)
def test_app_commands_get_an_encrypted_reply_an_independent_peer_can_open(
    client, tenant, peer, command, expected, cites
):
    call = peer.app_post(app_text("zhangsan", command, NOW, 1001), timestamp=NOW, nonce="8831")
    response = post(client, call)
    assert response.status_code == 200
    reply = peer.open_app_reply(response.body.decode(), timestamp=NOW, nonce="8831")
    assert reply["ToUserName"] == "zhangsan"
    assert reply["FromUserName"] == peer.corp_id
    assert reply["MsgType"] == "text"
    assert reply["Content"] == expected
    if cites:
        assert cites in reply["Content"]


def test_nickname_answer_quotes_the_seed_how_to_and_naming_rule():
    assert "我在本群的昵称" in texts.NICKNAME
    assert "销售部-张三" in texts.NICKNAME
    assert "消息免打扰" in texts.MUTE


def test_unknown_text_gets_the_command_list(client, tenant, peer):
    response = post(client, peer.app_post(app_text("zhangsan", "你好", NOW, 1002), timestamp=NOW))
    assert peer.open_app_reply(response.body.decode(), NOW, "1372623149")["Content"] == texts.HELP


def test_bot_group_mention_answers_and_records_activity_once(client, tenant, peer):
    call = peer.bot_post(bot_text("lisi", "@群规助手 免打扰", "msg-1", chat_id="wrGroup1"), timestamp=NOW, nonce="77")
    first = post(client, call, "application/json")
    second = post(client, call, "application/json")
    assert first.status_code == second.status_code == 200
    assert first.body == second.body
    reply = peer.open_bot_reply(first.body.decode(), nonce="77")
    assert reply["msgtype"] == "stream"
    assert reply["stream"]["finish"] is True
    assert reply["stream"]["content"] == texts.MUTE
    activity = MemberActivity.get("T#acme", "MEMBER#wrGroup1#lisi")
    assert (activity.messages, activity.last_active_at) == (1, NOW)


def test_official_account_safe_mode_reply(client, tenant, peer):
    response = post(client, peer.mp_post_safe(mp_text("o9AgO5Kd5ggOC", "改昵称", NOW, 555), NOW))
    assert response.status_code == 200
    reply = peer.open_mp_reply(response.body.decode())
    assert reply["ToUserName"] == "o9AgO5Kd5ggOC"
    assert reply["FromUserName"] == "gh_97417a04a28d"
    assert reply["Content"] == texts.NICKNAME


def test_official_account_plain_mode_reply_and_pinning(client, table, peer):
    qungui(
        [
            "--stage",
            "dev",
            "tenant",
            "add",
            "plainco",
            "--corp-id",
            "wwplain",
            "--token",
            "t0",
            "--aes-key",
            "a" * 43,
            "--mp-app-id",
            "wx134c8103faa5a59e",
            "--mp-token",
            "AAAAA",
            "--mp-mode",
            "plain",
        ]
    )
    plain_peer = Peer("plainco")
    response = post(client, plain_peer.mp_post_plain(mp_text("openid1", "帮助", NOW, 9), NOW))
    assert response.status_code == 200
    assert "<Content><![CDATA[" + texts.HELP in response.body.decode()
    encrypted = post(client, plain_peer.mp_post_safe(mp_text("openid1", "帮助", NOW, 10), NOW))
    assert encrypted.status_code == 400


def test_safe_mode_tenant_refuses_plaintext_body(client, tenant, peer):
    response = post(client, peer.mp_post_plain(mp_text("openid1", "帮助", NOW, 11), NOW))
    assert response.status_code == 400
    assert b"safe mode" in response.body
    assert items_of_kind("DEDUP#") == []


# ---- exactly once ----


def test_replay_returns_the_same_reply_and_causes_nothing_twice(client, tenant, peer, telemetry):
    call = peer.app_post(app_text("zhangsan", "帮助", NOW, 2001), timestamp=NOW)
    bodies = {post(client, call).body for _ in range(4)}  # the first delivery and WeCom's three retries
    assert len(bodies) == 1
    assert len(items_of_kind("DEDUP#")) == 1
    assert [duplicate for _, _, duplicate in telemetry.accepted_events] == [False, True, True, True]


def test_events_without_msgid_dedup_by_plaintext(client, tenant, peer):
    event = (
        "<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
        "<CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[{chat}]]></ChatId>"
        "<ChangeType><![CDATA[dismiss]]></ChangeType></xml>"
    )
    first = event.format(corp=peer.corp_id, now=NOW, chat="wrA")
    same_second_other_chat = event.format(corp=peer.corp_id, now=NOW, chat="wrB")
    for plaintext in (first, first, same_second_other_chat):
        assert post(client, peer.app_post(plaintext, NOW)).status_code == 200
    # sys + CreateTime is identical for both chats: only the plaintext tells them apart.
    assert len(items_of_kind("DEDUP#app#h")) == 2


def test_failed_transaction_leaves_nothing_and_the_retry_succeeds_once(client, tenant, peer):
    call = peer.bot_post(bot_text("lisi", "帮助", "msg-crash", chat_id="wrG"), timestamp=NOW)
    dynamodb = Item._get_connection().connection.client

    def crash(**_kwargs):
        from botocore.exceptions import ConnectionClosedError

        raise ConnectionClosedError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    dynamodb.meta.events.register("before-call.dynamodb.TransactWriteItems", crash, unique_id="crash")
    try:
        failed = post(client, call, "application/json")
    finally:
        dynamodb.meta.events.unregister("before-call.dynamodb.TransactWriteItems", unique_id="crash")
    assert failed.status_code == 503
    assert items_of_kind("DEDUP#") == []
    assert items_of_kind("MEMBER#") == []

    retried = post(client, call, "application/json")
    assert retried.status_code == 200
    assert len(items_of_kind("DEDUP#")) == 1
    assert MemberActivity.get("T#acme", "MEMBER#wrG#lisi").messages == 1


def test_dynamodb_outage_on_tenant_load_is_a_503(client, tenant, peer, directory):
    directory.forget("acme")
    dynamodb = Item._get_connection().connection.client
    from chalicelib.store.models import TenantRecord

    tenant_client = TenantRecord._get_connection().connection.client

    def outage(**_kwargs):
        from botocore.exceptions import EndpointConnectionError

        raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    for c in {id(dynamodb): dynamodb, id(tenant_client): tenant_client}.values():
        c.meta.events.register("before-call.dynamodb.GetItem", outage, unique_id="outage")
    try:
        response = post(client, peer.app_post(app_text("zhangsan", "帮助", NOW, 3001), NOW))
    finally:
        for c in {id(dynamodb): dynamodb, id(tenant_client): tenant_client}.values():
            c.meta.events.unregister("before-call.dynamodb.GetItem", unique_id="outage")
    assert response.status_code == 503


# ---- transport rules ----


@pytest.mark.parametrize(
    "content_type",
    ["text/xml", "application/xml", "application/json", None, "application/octet-stream", "text/plain; charset=gbk"],
)
def test_any_content_type_is_accepted(client, tenant, peer, content_type):
    response = post(client, peer.app_post(app_text("u1", "帮助", NOW, 4000), NOW), content_type)
    assert response.status_code == 200


def test_stale_timestamp_is_refused_and_per_tenant_skew_applies(client, tenant, peer, directory):
    stale = peer.app_post(app_text("u1", "帮助", NOW - 301, 5001), timestamp=NOW - 301)
    assert post(client, stale).status_code == 400
    assert qungui(["--stage", "dev", "tenant", "add", "acme", "--max-skew", "0"]) == 0
    directory.forget("acme")
    ancient = peer.app_post(app_text("u1", "帮助", 1_000_000, 5002), timestamp=1_000_000)
    assert post(client, ancient).status_code == 200


def test_unknown_tenant_is_404(client, table, peer):
    response = post(client, Peer("nobody").app_post(app_text("u1", "帮助", NOW, 1), NOW))
    assert response.status_code == 404
    assert client.http.get("/wecom/..%2F..%2Fetc/callback").status_code == 404


def test_body_over_64_kib_is_413(client, tenant, peer):
    call = peer.app_post(app_text("u1", "帮助", NOW, 1), NOW)
    response = client.http.post(call.path, headers={"Content-Type": "text/xml"}, body=b"<xml>" + b"a" * 2_000_000)
    assert response.status_code == 413


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]><xml><Encrypt>&lol3;</Encrypt></xml>'
)
XXE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>'


@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE, b"<xml><Encrypt>", b"not xml", b"<other/>", b"<xml/>"])
def test_hostile_or_malformed_envelopes_are_400(client, tenant, peer, body):
    call = peer.app_post(app_text("u1", "帮助", NOW, 1), NOW)
    response = client.http.post(call.path, headers={"Content-Type": "text/xml"}, body=body)
    assert response.status_code in (400, 403)
    assert items_of_kind("DEDUP#") == []


def _signed(peer: Peer, encrypted: str, timestamp: int, nonce: str = "99") -> str:
    from oracle import TOKEN

    from chalicelib.wecom.crypto import sign

    query = {"msg_signature": sign(TOKEN, str(timestamp), nonce, encrypted), "timestamp": timestamp, "nonce": nonce}
    return f"/wecom/{peer.tenant}/callback?{urlencode(query)}"


def test_signed_but_truncated_base64_is_400(client, tenant, peer):
    import xmltodict

    good = xmltodict.parse(peer.app.encrypt_message(app_text("u1", "帮助", NOW, 1), "99", NOW))["xml"]["Encrypt"]
    truncated = good[:-5]
    response = client.http.post(
        _signed(peer, truncated, NOW), body=f"<xml><Encrypt>{truncated}</Encrypt></xml>".encode()
    )
    assert response.status_code == 400


def test_signed_but_bad_padding_is_400(client, tenant, peer):
    import base64

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from oracle import AES_KEY

    key = base64.b64decode(AES_KEY + "=")
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    encrypted = base64.b64encode(encryptor.update(b"\x00" * 63 + b"\x40") + encryptor.finalize()).decode()
    response = client.http.post(
        _signed(peer, encrypted, NOW), body=f"<xml><Encrypt>{encrypted}</Encrypt></xml>".encode()
    )
    assert response.status_code == 400


def test_wrong_receiveid_is_403(client, tenant):
    other_corp = Peer(corp_id="wwsomebodyelse")
    response = post(client, other_corp.app_post(app_text("u1", "帮助", NOW, 1, corp_id="wwsomebodyelse"), NOW))
    assert response.status_code == 403
    assert b"receiveid" in response.body


def test_missing_query_parameters_are_400(client, tenant):
    assert client.http.post("/wecom/acme/callback", body=b"<xml/>").status_code == 400
    assert client.http.get("/wecom/acme/callback").status_code == 400


def test_unrecognized_event_is_accepted_silently(client, tenant, peer, telemetry):
    plaintext = (
        f"<xml><ToUserName>{peer.corp_id}</ToUserName><FromUserName>sys</FromUserName><CreateTime>{NOW}</CreateTime>"
        "<MsgType>event</MsgType><Event>brand_new_event</Event><Secret>do-not-log</Secret></xml>"
    )
    response = post(client, peer.app_post(plaintext, NOW))
    assert (response.status_code, response.body) == (200, b"")
    event = telemetry.accepted_events[-1][1]
    assert type(event).__name__ == "Unrecognized"
    assert "do-not-log" not in repr(event)


def test_bot_channel_not_configured_is_404(client, table):
    qungui(["--stage", "dev", "tenant", "add", "nobot", "--corp-id", "wwx", "--token", "t0", "--aes-key", "a" * 43])
    call = Peer("nobot").bot_post(bot_text("u", "帮助", "m1"), NOW)
    assert post(client, call, "application/json").status_code == 404


def test_bot_body_must_be_json_with_encrypt(client, tenant):
    for body in (b"[]", b"{}", b"{not json", json.dumps({"encrypt": 5}).encode()):
        response = client.http.post(f"/wecom/acme/bot?msg_signature=x&timestamp={NOW}&nonce=1", body=body)
        assert response.status_code == 400


def test_nothing_is_stored_for_rejected_callbacks(client, tenant, peer):
    before = {(item.pk, item.sk) for item in Item.scan()}
    post(client, Peer(token="WrongToken").app_post(app_text("u", "帮助", NOW, 1), NOW))
    post(client, peer.app_post(app_text("u", "帮助", NOW - 10_000, 2), NOW - 10_000))
    assert {(item.pk, item.sk) for item in Item.scan()} == before
    assert DedupRecord.count("T#acme", DedupRecord.sk.startswith("DEDUP#")) == 0

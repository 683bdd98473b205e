"""Hypothesis through the real Chalice routing: whatever the query and body, no route answers 5xx."""

from __future__ import annotations

from urllib.parse import urlencode

from conftest import NOW
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import Peer, app_text

PATHS = ["/wecom/acme/callback", "/wecom/acme/bot", "/mp/acme/callback", "/wecom/ghost/callback"]
KEYS = ["msg_signature", "signature", "timestamp", "nonce", "echostr", "encrypt_type", "openid"]

query_values = st.one_of(
    st.text(max_size=60),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.just(str(NOW)),
    st.just("aes"),
    st.binary(max_size=40).map(lambda b: __import__("base64").b64encode(b).decode()),
)
queries = st.dictionaries(st.sampled_from(KEYS), query_values, max_size=7)
bodies = st.one_of(
    st.binary(max_size=2048),
    st.text(max_size=500).map(str.encode),
    st.builds(lambda inner: f"<xml><Encrypt>{inner}</Encrypt></xml>".encode(), st.text(max_size=200)),
    st.builds(lambda inner: ('{"encrypt": %s}' % inner).encode(), st.text(max_size=100)),  # noqa: UP031
)
FUZZ = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(
    path=st.sampled_from(PATHS),
    query=queries,
    body=bodies,
    method=st.sampled_from(["GET", "POST"]),
    content_type=st.sampled_from(["text/xml", "application/json", "", "application/octet-stream"]),
)
def test_no_input_makes_a_5xx(client, tenant, path, query, body, method, content_type):
    url = f"{path}?{urlencode(query)}" if query else path
    headers = {"Content-Type": content_type} if content_type else {}
    if method == "GET":
        response = client.http.get(url, headers=headers)
    else:
        response = client.http.post(url, headers=headers, body=body)
    assert response.status_code < 500, (response.status_code, response.body)


# XML 1.0 cannot carry control characters, so WeCom never sends them; everything else a member can type is fair.
xml_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff") | st.just("\n"), max_size=300
)


@FUZZ
@given(content=xml_text, msg_id=st.integers(min_value=0, max_value=2**63), created=st.integers(0, 2**40))
def test_any_signed_text_message_is_answered(client, tenant, content, msg_id, created):
    # Correctly signed and encrypted, arbitrary content and CreateTime: always answered 200.
    plaintext = app_text("fuzzer", content.replace("]]>", ""), created, msg_id)
    call = Peer().app_post(plaintext, NOW)
    response = client.http.post(call.path, headers={"Content-Type": "text/xml"}, body=call.body)
    assert response.status_code == 200, response.body

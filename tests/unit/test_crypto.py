"""The crypto against every official vector in reference/wecom-protocol.md §2, its negatives, and a round trip."""

from __future__ import annotations

import base64
import json
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.wecom.crypto import CryptoError, WeComCrypto, decode_aes_key, sign, signature_matches

V1 = WeComCrypto(
    "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt", "ww1436e0e65a779aee"
)
V2 = WeComCrypto("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")
V3 = WeComCrypto("123456", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a")

V1_ECHO = "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="
V1_XML = (
    "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD"
    "+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilE"
    "bjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84"
    "EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+"
)
V1_JSON = (
    "cjhLUX7UU4yCSelv1vz7T0zT8huF51bAMVWriNvO1FMegHrQZNrtvRxbwf0fUPsFvwqR0U0fgiJNEA5Y30F2MoI2S7vv3EjVQ68C0cjw9frBoUE2Hj0"
    "BvFp9h3u6Vbsg4lc1C8AtHdaN8orKuNKkLRLuYEL52R1J3v8olJGZRLnRdVKIivixmX/eQpzgeExtp20jI1HxRP1AAZ6xZoILdqDPO549LO4WeG+685"
    "JRUTdiwcY5fjZlqeMxuT4PpMn1X9OWsS7NRj06Wa5E3Tvg4twjWp39KPfOdRte6P1T4JU="
)
V2_ECHO = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
V2_XML = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUU"
    "kSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0e"
    "kUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0"
    "+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R"
    "07+qN+E7Q=="
)
V2_JSON = (
    "CZWs4CWRpI4VolQlvn4dlEC1alN2MUEY2VklGehgBVLBrlVF7SyT+SV+Toj43l4ayJ9UMGKphktKKmP7B2j/P1ey67XB8PBgS7Wr5/8+w/yWriZv3Vm"
    "oo/MH3/1HsIWZrPQ3N2mJrelStIfI2Y8kLKXA7EhfZgZX4o+ffdkZDM76SEl79Ib9mw7TGjZ9Aw/x/A2VjNbV1E8BtEbRxYYcQippYNw7hr8sFfa3nW"
    "1xLdxokt8QkRX83vK3DFP2F6TQFPL2Tu98UwhcUpPvdJBuu1/yiOQIScppV3eOuLWEsko="
)
V3_ECHO = "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q=="
V3_XML = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJR"
    "vZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtD"
    "h1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhc"
    "UGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="
)
V3_REPLY_XML = (
    "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n"
    "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n"
    "<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>"
)
V3_REPLY_ENCRYPT = (
    "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ"
    "+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI"
    "1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3k"
    "FxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
)
V4_JAVA = WeComCrypto("pamtest", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxb11529c136998cb6")
V4_DOC = WeComCrypto("AAAAA", "A" * 43, "wx134c8103faa5a59e")
V4_DOC_EVENT = (
    "D7yzvUNAL930rd28wf21s4hvXhz0L6Uit/p2Di6C5DHyYGpEgdBRnKjBec34JwoQXicwaZC7fOVihW80F4VtsdvE//1vr7oAbqjDv8KenVp+ajKYpJn"
    "yQ4zMRhIC+a31fCVOMC03FfzV/QuC94kBP55a+Za3sJgvAn+ZbsNqZI5DkyuzkhQN8OBqCzFhizGmy0xpM0MEA4agpvE+RuNO1rhHTtuJB5yltw1FiYz"
    "ecSXJ+y/D2r81VkRn2eYjh2ltsoyfbDR7Is6ookXIFxTfyeNyeHxMeT4KN5WpCDmSbTcUYrbBUlkGLJ9n/rU8YOywma6G7aTb7KZKOqCxgfoUlYEZPk4"
    "FUL/TK7ShriFDMVCLyjQJ15Ob++agDWtcxhfUfe6HIoIpRW8mKNBQiY/Jd1svvuskA1wLef1RTtzKfMpagSCX/laZINmdnX4zrF6kIaR9P4xQrWXbsT"
    "FHTYe0Mg=="
)
V4_DOC_REPLY = (
    "hE8R6mGXHkJJjU72KxzKUd1GEkKJaEZq7vRL8XgK3o+00k8JGq6+pZJUIlTSyhsX+bxIBQ72g3GyvDdIZcr6+3HAZbSvPT9t/o11MI7d6WELwqrGd7j"
    "MnV0zv3Zc9Nq7"
)
V4_SPAM = WeComCrypto("spamtest", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx2c2769f8efd9abc2")
V4_SPAM_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUA"
    "h0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPh"
    "RjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8"
    "e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)


@pytest.mark.parametrize(
    ("crypto", "signature", "timestamp", "nonce", "encrypted", "plaintext"),
    [
        (V1, "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", "1476416373", "47744683", V1_ECHO, b"1288432023552776189"),
        (V2, "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780", V2_ECHO, b"1616140317555161061"),
        (V3, "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96", "1411443780", "437374425", V3_ECHO, b"5927782489442352469"),
    ],
    ids=["V1", "V2", "V3"],
)
def test_url_verification_vectors(crypto, signature, timestamp, nonce, encrypted, plaintext):
    assert crypto.verify(signature, timestamp, nonce, encrypted)
    assert crypto.decrypt(encrypted) == plaintext


def test_v1_xml_message():
    assert V1.verify("0c3914025cb4b4d68103f6bfc8db550f79dcf48e", "1476422779", "1597212914", V1_XML)
    assert V1.decrypt(V1_XML).decode() == (
        "<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName>"
        "<CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content><MsgId>1456453720</MsgId>"
        "<AgentID>1000002</AgentID></xml>"
    )


def test_v1_json_message_with_the_samples_malformed_json():
    assert V1.verify("e3647471e395139e2308c1fa963f2d648a00b90e", "1409659813", "1372623149", V1_JSON)
    message = V1.decrypt(V1_JSON).decode()
    assert '"Content": "hello"' in message
    with pytest.raises(json.JSONDecodeError):  # the official sample really is malformed (": mycreate")
        json.loads(message)


def test_v2_xml_and_json_messages():
    assert V2.verify("477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149", V2_XML)
    assert V2.decrypt(V2_XML).decode() == (
        "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n<FromUserName><![CDATA[mycreate]]></FromUserName>"
        "\n<CreateTime>1409659813</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[hello]]></Content>"
        "\n<MsgId>4561255354251345929</MsgId>\n<AgentID>218</AgentID>\n</xml>"
    )
    assert V2.verify("0623cbc5a8cbee5bcc137c70de99575366fc2af3", "1409659813", "1372623149", V2_JSON)
    assert json.loads(V2.decrypt(V2_JSON)) == {
        "ToUserName": "wx5823bf96d3bd56c7",
        "FromUserName": "mycreate",
        "CreateTime": 1409659813,
        "MsgType": "text",
        "Content": "hello",
        "MsgId": 4561255354251345929,
        "AgentID": 218,
    }


def test_v2_worked_signature_example():
    assert sign("QDG6eK", "1409659813", "1372623149", V2_XML) == "477715d11cdb4164915debcba66cb864d751f3e6"


def test_v3_decrypt_and_fixed_random_encrypt():
    assert V3.verify("74d92dfeb87ba7c714f89d98870ae5eb62dff26d", "1411525903", "461056294", V3_XML)
    message = V3.decrypt(V3_XML).decode()
    assert "<Content><![CDATA[test]]></Content>" in message
    assert "messense" in message
    assert "4363689963896700987" in message
    envelope = V3.seal(V3_REPLY_XML.encode(), "1411525903", "461056294", random_prefix=b"1234567890123456")
    assert envelope.encrypted == V3_REPLY_ENCRYPT
    assert envelope.signature == "407518b7649e86ef23978113f92d27afa9296533"


def test_v4_java_official_vectors():
    chinese = "我是中文abcd123".encode()
    assert V4_JAVA.encrypt(chinese, b"aaaabbbbccccdddd") == (
        "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
    )
    assert V4_JAVA.decrypt(V4_JAVA.encrypt(chinese)) == chinese


def test_v4_official_account_doc_end_to_end():
    assert sign("AAAAA", "1715943329", "1590219412") == "cc0c594499c1634947d5b502f158ee518947db27"
    assert V4_DOC.verify("6c12a4205838198b8fa631b3220723bb07f1015c", "1715943329", "1590219412", V4_DOC_EVENT)
    message = V4_DOC.decrypt(V4_DOC_EVENT)
    assert len(message) == 292
    assert b"<Event><![CDATA[debug_demo]]></Event>" in message
    reply = V4_DOC.seal(
        b"<xml><demo_resp>[CDATA[good luck]]</demo_resp></xml>",
        "1713424427",
        "415670741",
        random_prefix=b"999951349e8ee746",
    )
    assert reply.encrypted == V4_DOC_REPLY
    assert reply.signature == "03e0812039325c2712ef5f0f980fd14c70d6e307"


def test_v4_plaintext_mode_signature_and_compatible_mode_sample():
    assert sign("AAAAA", "1714037059", "486452656") == "899cf89e464efb63f54ddac96b0a0a235f53aa78"
    assert V4_SPAM.verify("5d197aaffba7e9b25a30732f161a50dee96bd5fa", "1409735669", "1320562132", V4_SPAM_ENCRYPT)
    message = V4_SPAM.decrypt(V4_SPAM_ENCRYPT).decode()
    assert "abcdteT" in message
    assert "6054768590064713728" in message


# Negatives (reference §2, "Negative tests worth adding").


def test_wrong_nonce_fails_v3():
    assert not V3.verify("dd6b9c95b495b3f7e2901bfbc76c664930ffdb96", "1411443780", "437374424", V3_ECHO)


def test_tampered_encrypt_fails_signature():
    tampered = ("A" if V2_XML[0] != "A" else "B") + V2_XML[1:]
    assert not V2.verify("477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149", tampered)


def test_receiveid_mismatch():
    other = WeComCrypto("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx_other")
    with pytest.raises(CryptoError, match="receiveid mismatch"):
        other.decrypt(V2_XML)


def test_ciphertext_not_a_block_multiple():
    with pytest.raises(CryptoError, match="multiple"):
        V2.decrypt(base64.b64encode(b"x" * 33).decode())


def test_truncated_base64():
    with pytest.raises(CryptoError, match="base64"):
        V2.decrypt(V2_XML[:-3])


def _raw_encrypt(crypto_key: str, plaintext_with_padding: bytes) -> str:
    key = decode_aes_key(crypto_key)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plaintext_with_padding) + encryptor.finalize()).decode()


@pytest.mark.parametrize("pad", [0, 33, 255])
def test_pad_byte_out_of_range(pad):
    body = b"r" * 16 + struct.pack(">I", 3) + b"abc" + b"wx5823bf96d3bd56c7"
    body += b"\x00" * (63 - len(body) % 64) + bytes([pad])
    assert len(body) % 32 == 0
    with pytest.raises(CryptoError, match="padding"):
        V2.decrypt(_raw_encrypt("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", body))


def test_inconsistent_padding_bytes():
    body = b"r" * 16 + struct.pack(">I", 3) + b"abc" + b"wx5823bf96d3bd56c7"
    pad = 32 - len(body) % 32
    padded = body + bytes([pad]) * (pad - 1) + bytes([pad - 1 or 1])
    with pytest.raises(CryptoError, match="padding"):
        V2.decrypt(_raw_encrypt("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", padded))


def test_length_field_beyond_plaintext():
    body = b"r" * 16 + struct.pack(">I", 10_000) + b"abc"
    pad = 32 - len(body) % 32
    with pytest.raises(CryptoError, match="length"):
        V2.decrypt(_raw_encrypt("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", body + bytes([pad]) * pad))


@pytest.mark.parametrize("key", ["short", "A" * 44, "%" * 43, "中" * 43])
def test_bad_encoding_aes_key(key):
    with pytest.raises(CryptoError):
        WeComCrypto("t", key, "")


def test_signature_comparison_is_case_insensitive_and_rejects_empty():
    good = sign("t", "1", "2", "x")
    assert signature_matches(good, good.upper())
    assert not signature_matches(good, "")


@settings(deadline=None, max_examples=200)
@given(
    message=st.binary(max_size=3000),
    receive_id=st.sampled_from(["", "ww1436e0e65a779aee", "wx134c8103faa5a59e"]),
    token=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=32),
    key=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=43, max_size=43),
    timestamp=st.integers(min_value=0, max_value=2**33).map(str),
    nonce=st.text(alphabet="0123456789", min_size=1, max_size=12),
)
def test_round_trip_property(message, receive_id, token, key, timestamp, nonce):
    crypto = WeComCrypto(token, key, receive_id)
    envelope = crypto.seal(message, timestamp, nonce)
    assert len(base64.b64decode(envelope.encrypted)) % 32 == 0
    assert crypto.verify(envelope.signature, timestamp, nonce, envelope.encrypted)
    assert crypto.decrypt(envelope.encrypted) == message

"""The WeCom / Official Account message crypto, once, for all three envelopes.

Scheme (WeCom 加解密方案说明, path/91144; Tencent's WXBizMsgCrypt.py): AES-256-CBC with IV = key[:16], PKCS#7
padding to a multiple of 32 bytes, plaintext = random(16) + len(msg) as big-endian uint32 + msg + receiveid, and a
SHA-1 signature over the sorted [token, timestamp, nonce, encrypt]. The receiveid is the CorpID for a self-built
app, "" for an intelligent bot, and the AppID for an Official Account in safe mode.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeCom pads to 32 bytes, not AES's 16 (Tencent's PKCS7Encoder.block_size = 32).
_RANDOM_LEN = 16


class CryptoError(ValueError):
    """A callback that cannot be authenticated or decrypted; `reason` is short, stable and safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sign(token: str, timestamp: str, nonce: str, encrypted: str = "") -> str:
    """The lowercase hex SHA-1 over the sorted fields; the 3-field form (encrypted="") is the Official Account's."""
    parts = [token, timestamp, nonce] + ([encrypted] if encrypted else [])
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signature_matches(expected: str, given: str) -> bool:
    # Constant time, so that the comparison leaks nothing about how much of a forged signature was right.
    return hmac.compare_digest(expected.encode(), (given or "").strip().lower().encode())


def decode_aes_key(encoding_aes_key: str) -> bytes:
    if len(encoding_aes_key) != 43 or not encoding_aes_key.isascii() or not encoding_aes_key.isalnum():
        raise CryptoError("EncodingAESKey must be 43 letters or digits")
    key = base64.b64decode(encoding_aes_key + "=")
    if len(key) != 32:  # pragma: no cover - 43 base64 chars always give 32 bytes
        raise CryptoError("EncodingAESKey does not decode to 32 bytes")
    return key


@dataclass(frozen=True, slots=True)
class Envelope:
    """The four fields WeCom expects back in a passive reply (and that a sender puts on the wire)."""

    encrypted: str
    signature: str
    timestamp: str
    nonce: str


class WeComCrypto:
    """Encrypts and decrypts for one (token, EncodingAESKey, receiveid) triple."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        self.token = token
        self.receive_id = receive_id
        self._key = decode_aes_key(encoding_aes_key)

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def verify(self, signature: str, timestamp: str, nonce: str, encrypted: str) -> bool:
        return signature_matches(sign(self.token, timestamp, nonce, encrypted), signature)

    def decrypt(self, encrypted: str) -> bytes:
        """The message bytes of a verified `Encrypt`/`echostr`; raises CryptoError on any malformation."""
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CryptoError("ciphertext is not valid base64") from exc
        if not raw or len(raw) % 16:
            raise CryptoError("ciphertext length is not a multiple of the AES block")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(raw) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or pad > len(plain) or plain[-pad:] != bytes([pad]) * pad:
            raise CryptoError("bad padding")
        body = plain[_RANDOM_LEN:-pad]
        if len(body) < 4:
            raise CryptoError("plaintext too short")
        (length,) = struct.unpack(">I", body[:4])
        if length > len(body) - 4:
            raise CryptoError("message length exceeds plaintext")
        message, receive_id = body[4 : 4 + length], body[4 + length :]
        if not hmac.compare_digest(receive_id, self.receive_id.encode()):
            raise CryptoError("receiveid mismatch")
        return message

    def encrypt(self, message: bytes, random_prefix: bytes | None = None) -> str:
        prefix = os.urandom(_RANDOM_LEN) if random_prefix is None else random_prefix
        if len(prefix) != _RANDOM_LEN:
            raise CryptoError("random prefix must be 16 bytes")
        text = prefix + struct.pack(">I", len(message)) + message + self.receive_id.encode()
        pad = BLOCK - len(text) % BLOCK
        encryptor = self._cipher().encryptor()
        raw = encryptor.update(text + bytes([pad]) * pad) + encryptor.finalize()
        return base64.b64encode(raw).decode()

    def seal(self, message: bytes, timestamp: str, nonce: str, random_prefix: bytes | None = None) -> Envelope:
        """Encrypt and sign, as for a passive reply or for an inbound callback built by a sender."""
        encrypted = self.encrypt(message, random_prefix)
        return Envelope(encrypted, sign(self.token, timestamp, nonce, encrypted), timestamp, nonce)

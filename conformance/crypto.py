"""Digests and HMACs of the optional request signature: SHA-256 and SM3 (GB/T 32905)."""

from __future__ import annotations

import hashlib
import hmac

from gmssl import func, sm3

_BLOCK = 64


def _openssl_sm3() -> bool:
    try:
        return (
            hashlib.new("sm3", b"abc").hexdigest() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        )
    except ValueError:
        return False


_FAST_SM3 = _openssl_sm3()


def sm3_hex(data: bytes) -> str:
    """SM3 (GB/T 32905) digest: OpenSSL's when it has SM3, else the pure-Python gmssl one."""
    if _FAST_SM3:
        return hashlib.new("sm3", data).hexdigest()
    return sm3.sm3_hash(func.bytes_to_list(data))


def digest_hex(method: str, data: bytes) -> str:
    """Body digest for a signature method (``HMAC-SM3`` → SM3, ``HMAC-SHA256`` → SHA-256)."""
    return sm3_hex(data) if method == "HMAC-SM3" else hashlib.sha256(data).hexdigest()


def hmac_sm3_hex(key: bytes, message: bytes) -> str:
    """HMAC (RFC 2104) over SM3, block size 64."""
    if len(key) > _BLOCK:
        key = bytes.fromhex(sm3_hex(key))
    key = key.ljust(_BLOCK, b"\0")
    inner = bytes.fromhex(sm3_hex(bytes(k ^ 0x36 for k in key) + message))
    return sm3_hex(bytes(k ^ 0x5C for k in key) + inner)


def sign(method: str, key: bytes, message: bytes) -> str:
    if method == "HMAC-SM3":
        return hmac_sm3_hex(key, message)
    if method == "HMAC-SHA256":
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    raise ValueError(method)


def canonical_string(method: str, path_query: str, timestamp: str, nonce: str, body: bytes, sig_method: str) -> bytes:
    """The string to sign (schemas/openapi/common.yaml, "可选的请求签名")."""
    return "\n".join([method.upper(), path_query, timestamp, nonce, digest_hex(sig_method, body)]).encode()

"""Digests and HMACs of the optional request signature: SHA-256 and SM3 (GB/T 32905)."""

from __future__ import annotations

import hashlib
import hmac

from gmssl import func, sm3

_BLOCK = 64


def sm3_hex(data: bytes) -> str:
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

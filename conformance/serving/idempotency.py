"""Idempotency as the contract declares it (``x-idempotent-by``): the message key of a request
(:func:`conformance.contract.openapi.idempotency_key`) and the fingerprint that tells "the same message again"
(200 with the first receipt, ``duplicate: true``) from "the same key with other content" (409 ``DUPLICATE``)."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from conformance.contract.openapi import idempotency_key

__all__ = ["fingerprint", "idempotency_key"]


def fingerprint(body: Any) -> str:
    """SHA-256 of the body as canonical JSON (sorted keys): equal for the same content however it was sent."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()

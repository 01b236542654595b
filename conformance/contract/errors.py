"""The error codes of the contract (``error.schema.json`` ``code``), as an enum built from the schema: code names
``ErrorCode.DUPLICATE``; a name the schema does not have fails where it is used, and ``tests/test_error_codes.py``
finds every use in the source that the schema lacks."""

from __future__ import annotations

from enum import StrEnum

from conformance.contract import documents as contracts


def _codes() -> list[str]:
    return list(contracts.json_schema("error")["properties"]["code"]["enum"])


ErrorCode = StrEnum("ErrorCode", [(c, c) for c in _codes()])  # type: ignore[misc]

#: The code of an error status when the handler names none.
STATUS_CODES: dict[int, str] = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    429: ErrorCode.RATE_LIMITED,
    500: ErrorCode.INTERNAL_ERROR,
    503: ErrorCode.UNAVAILABLE,
}

"""Errors of the reference server, rendered as the error envelope (schemas/json/error.schema.json)."""

from __future__ import annotations

from conformance.contract.errors import ErrorCode
from conformance.serving.errors import ApiError, validation_failed

__all__ = ["ApiError", "bad_request", "conflict", "field_error", "forbidden", "not_found", "validation_failed"]


def bad_request(
    zh: str, en: str, errors: list[dict[str, str]] | None = None, code: str = ErrorCode.BAD_REQUEST
) -> ApiError:
    return ApiError(400, zh, en, code, errors or [])


def field_error(path: str, zh: str, en: str) -> ApiError:
    """400 naming one field of the request (``path：zh``) and its entry (path and messages)."""
    return bad_request(f"{path}：{zh}", en, [{"path": path, "message": zh, "messageEn": en}])


def not_found(what_zh: str, what_en: str) -> ApiError:
    return ApiError(404, f"{what_zh}不存在", f"{what_en} not found", ErrorCode.NOT_FOUND)


def conflict(zh: str, en: str, code: str = ErrorCode.CONFLICT) -> ApiError:
    return ApiError(409, zh, en, code)


def forbidden(zh: str, en: str) -> ApiError:
    return ApiError(403, zh, en, ErrorCode.FORBIDDEN)

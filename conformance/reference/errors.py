"""Errors of the reference server, rendered as the error envelope (schemas/json/error.schema.json)."""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.contract.errors import ErrorCode
from conformance.serving.envelope import error_body


@dataclass
class ApiError(Exception):
    status: int
    message_zh: str
    message_en: str
    code: str | None = None
    errors: list[dict[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: int | None = None

    def body(self, request_id: str) -> dict[str, object]:
        return error_body(
            self.status,
            self.code,
            self.message_zh,
            self.message_en,
            request_id,
            errors=self.errors,
            retry_after=self.retry_after,
        )


def bad_request(
    zh: str, en: str, errors: list[dict[str, str]] | None = None, code: str = ErrorCode.BAD_REQUEST
) -> ApiError:
    return ApiError(400, zh, en, code, errors or [])


def validation_failed(errors: list[dict[str, str]]) -> ApiError:
    return ApiError(
        400,
        "请求数据不符合接口契约：" + "；".join(f"{e['path'] or '/'} {e['message']}" for e in errors[:3]),
        "request does not conform to the contract",
        ErrorCode.VALIDATION_FAILED,
        errors,
    )


def not_found(what_zh: str, what_en: str) -> ApiError:
    return ApiError(404, f"{what_zh}不存在", f"{what_en} not found", ErrorCode.NOT_FOUND)


def conflict(zh: str, en: str, code: str = ErrorCode.CONFLICT) -> ApiError:
    return ApiError(409, zh, en, code)


def forbidden(zh: str, en: str) -> ApiError:
    return ApiError(403, zh, en, ErrorCode.FORBIDDEN)

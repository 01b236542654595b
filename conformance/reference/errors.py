"""Errors of the reference server, rendered as the error envelope (schemas/json/error.schema.json)."""

from __future__ import annotations

from dataclasses import dataclass, field

STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "UNAVAILABLE",
}


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
        out: dict[str, object] = {
            "code": self.code or STATUS_CODES.get(self.status, "BAD_REQUEST"),
            "message": self.message_zh,
            "messageEn": self.message_en,
            "data": None,
            "requestId": request_id,
        }
        if self.errors:
            out["errors"] = self.errors[:200]
        if self.retry_after is not None:
            out["retryAfter"] = self.retry_after
        return out


def bad_request(zh: str, en: str, errors: list[dict[str, str]] | None = None, code: str = "BAD_REQUEST") -> ApiError:
    return ApiError(400, zh, en, code, errors or [])


def validation_failed(errors: list[dict[str, str]]) -> ApiError:
    return ApiError(
        400,
        "请求数据不符合接口契约：" + "；".join(f"{e['path'] or '/'} {e['message']}" for e in errors[:3]),
        "request does not conform to the contract",
        "VALIDATION_FAILED",
        errors,
    )


def not_found(what_zh: str, what_en: str) -> ApiError:
    return ApiError(404, f"{what_zh}不存在", f"{what_en} not found", "NOT_FOUND")


def conflict(zh: str, en: str, code: str = "CONFLICT") -> ApiError:
    return ApiError(409, zh, en, code)


def forbidden(zh: str, en: str) -> ApiError:
    return ApiError(403, zh, en, "FORBIDDEN")

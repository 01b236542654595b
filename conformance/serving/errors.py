"""Refusals as the error envelope says them (schemas/json/error.schema.json): :class:`ApiError`, and the answers of
the request pipeline the reference server and the simulators share (unknown path, method, media type, size, a
request against the contract)."""

from __future__ import annotations

from collections.abc import Iterable
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


def no_such_path(path: str) -> ApiError:
    return ApiError(404, f"路径 {path} 不存在", f"path {path} not found", ErrorCode.NOT_FOUND)


def method_not_allowed(method: str, allowed: Iterable[str]) -> ApiError:
    """405 with the methods the path has (``Allow``)."""
    zh, en = f"此路径不支持 {method} 方法", f"method {method} not allowed here"
    return ApiError(405, zh, en, ErrorCode.METHOD_NOT_ALLOWED, headers={"Allow": ", ".join(sorted(allowed))})


def unsupported_media_type(ctype: str) -> ApiError:
    zh = f"不支持的媒体类型“{ctype or '（无）'}”，应为 application/json"
    return ApiError(
        415, zh, f"unsupported media type '{ctype}', expected application/json", ErrorCode.UNSUPPORTED_MEDIA_TYPE
    )


def too_large(limit: int) -> ApiError:
    zh, en = f"请求体超过上限（{limit} 字节）", f"request body over the limit ({limit} bytes)"
    return ApiError(413, zh, en, ErrorCode.PAYLOAD_TOO_LARGE)


def validation_failed(errors: list[dict[str, str]]) -> ApiError:
    """400 with the entries of what was wrong (``serving.params``), the first three named in the message."""
    return ApiError(
        400,
        "请求数据不符合接口契约：" + "；".join(f"{e['path'] or '/'} {e['message']}" for e in errors[:3]),
        "request does not conform to the contract",
        ErrorCode.VALIDATION_FAILED,
        errors,
    )

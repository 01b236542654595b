"""The project's own response checks for contract fuzzing (used by :mod:`conformance.fuzz.engine`).

Adding a check is writing one function: a top-level function decorated with :func:`check`, named after the
check, carrying the ids of the catalogue clauses it verifies (``schemas/clauses``) and a docstring whose first
line is its title, ``中文 / English``, and whose body says what it asserts. The registry :data:`CHECKS` is what
the engine runs (:func:`make_checks`), what ``fuzz(checks=...)`` selects from (:data:`PROJECT_CHECKS`), what the
suites name a check by (``date_time_offset.name``) and what the table of checks is rendered from
(:func:`render_table`; ``python -m conformance.fuzz.checks`` prints it).

A check is called with a :class:`CheckContext` (the OpenAPI document under test and the check's own name), the
response and the case (schemathesis' ``(ctx, response, case)`` shape) and raises a :class:`TzsbFailure` (a
schemathesis ``Failure`` with a Chinese and an English message). Checks are **not** registered globally with
``@schemathesis.check``: registration would switch them on for every schemathesis run in the process;
``conformance.fuzz.engine`` passes them explicitly instead.
"""

from __future__ import annotations

import functools
import inspect
import re
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

import orjson
from schemathesis.core.failures import Failure, Severity

from conformance.check.formats import format_kinds
from conformance.check.plausibility import DATETIME_WITH_OFFSET, status_contradiction, walk
from conformance.check.schema import validator, validator_at
from conformance.client.token import token_path
from conformance.codes import check as check_code
from conformance.contract import documents as contracts
from conformance.contract.openapi import Operation, operations
from conformance.contract.registry import openapi_uri

CheckFunction = Callable[[Any, Any, Any], "bool | None"]

#: Key names that always hold an identifier, whatever the schema says.
BASE_KEYS: dict[str, str] = {
    "uscc": "uscc",
    "division": "division",
    "equipmentCode": "equipment-code",
    "registrationNo": "registration-no",
    "dossierCode": "dossier-code",
    "elicenseId": "elicense-id",
    "itemCode": "item-code",
    "catalogueCode": "catalogue-code",
}
SUFFIX_KEYS: tuple[tuple[str, str], ...] = (("Uscc", "uscc"), ("Division", "division"))

#: A string that looks like a date-time (with or without an offset): what ``date_time_offset`` judges.
_LOOKS_LIKE_DATETIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}")
_CJK = re.compile(r"[\u4e00-\u9fff]")
#: RFC 6901 §3: ``*( "/" reference-token )``, ``~`` only escaping ``~0`` / ``~1``.
_JSON_POINTER = re.compile(r"(?:/(?:[^~/]|~[01])*)*")
_TOKEN_ENDPOINT_STATUSES = frozenset({200, 400, 401})
_MAX_LISTED = 8


class TzsbFailure(Failure):
    """A failed project check, explained in Chinese and English."""

    code = "ST950"
    kind_title = "tzsb-conformance check failed"
    __slots__ = ("check", "key", "message_en", "message_zh")

    def __init__(
        self,
        *,
        check: str,
        operation: str | None,
        title: str,
        message_zh: str,
        message_en: str,
        key: str = "",
        severity: Severity = Severity.HIGH,
    ) -> None:
        super().__init__(operation=operation, title=title, message=f"{message_zh}\n{message_en}", severity=severity)
        self.check = check
        self.message_zh = message_zh
        self.message_en = message_en
        #: What makes two failures the same finding (JSON paths with indices folded, rule names), not values.
        self.key = key

    @property
    def _unique_key(self) -> str:
        return f"{self.check}|{self.key}"


# ---------------------------------------------------------------------------------------------- helpers


def media_type(response: Any) -> str | None:
    values = response.headers.get("content-type") or response.headers.get("Content-Type")
    if not values:
        return None
    value = values[0] if isinstance(values, list) else values
    return value.split(";")[0].strip().lower() or None


def is_json_media(media: str | None) -> bool:
    return media is not None and (media == "application/json" or media.endswith("+json"))


_NO_BODY = object()
_NOT_JSON = object()


def json_body(response: Any) -> Any:
    """The parsed JSON body, ``_NO_BODY`` for an empty one, ``_NOT_JSON`` when it does not parse."""
    content = response.content or b""
    if not content.strip():
        return _NO_BODY
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return _NOT_JSON


def count_date_times(response: Any) -> int:
    """How many date-time strings a JSON response holds (with or without an offset)."""
    body = json_body(response)
    if body is _NO_BODY or body is _NOT_JSON:
        return 0
    return sum(1 for _p, _k, v in [("", "", body), *walk(body)] if isinstance(v, str) and _LOOKS_LIKE_DATETIME.match(v))


@functools.cache
def _index(doc: str) -> dict[str, Operation]:
    return {op.operation_id: op for op in operations(doc)}


def index_operation(doc: str, case: Any) -> Operation | None:
    raw = getattr(case.operation.definition, "raw", None) or {}
    op_id = raw.get("operationId") if isinstance(raw, dict) else None
    return _index(doc).get(op_id) if op_id else None


def _declared_media(op: Operation | None, status: int) -> dict[str, str | None] | None:
    if op is None:
        return None
    return op.responses.get(str(status)) or op.responses.get(f"{str(status)[0]}XX") or op.responses.get("default")


def fold(path: str) -> str:
    """A JSON Pointer with array indices folded (``/errors/3/messageEn`` → ``/errors/*/messageEn``)."""
    return re.sub(r"/[0-9]+(?=/|$)", "/*", path)


def _listing(items: list[str]) -> str:
    shown = items[:_MAX_LISTED]
    more = len(items) - len(shown)
    return "; ".join(shown) + (f"; … (+{more})" if more > 0 else "")


# ---------------------------------------------------------------------------------------------- key map


def _kind_of(node: Any, defs: dict[str, Any]) -> str | bool | None:
    """The project format kind of a property schema: a kind, None (no project format) or False (ambiguous)."""
    if not isinstance(node, dict):
        return None
    fmt = node.get("format")
    if isinstance(fmt, str) and fmt in format_kinds():
        return format_kinds()[fmt]
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = ref.rpartition("/")[2]
        if "identifiers.schema.json#/$defs/" in ref or (ref.startswith("#/$defs/") and name in defs):
            target = defs.get(name)
            if isinstance(target, dict):
                return _kind_of(target, defs)
    if any(k in node for k in ("anyOf", "oneOf")):
        return False
    return None


@functools.cache
def property_kinds() -> dict[str, frozenset[str | bool | None]]:
    """Every property name of the JSON Schemas → the project format kinds it is declared with
    (None: no project format; False: a combinator, e.g. ``holderId`` = USCC or citizen ID)."""
    defs = contracts.json_schema("identifiers").get("$defs", {})
    seen: dict[str, set[str | bool | None]] = {}
    for name, sub in contracts.schema_properties():
        seen.setdefault(name, set()).add(_kind_of(sub, defs))
    return {name: frozenset(kinds) for name, kinds in seen.items()}


@functools.cache
def identifier_keys() -> dict[str, str]:
    """Key name → identifier kind: every property the JSON Schemas give one ``tzsb-*`` format and never
    anything else (derived, not hand-kept), plus the base names of ``BASE_KEYS``.

    A base name the contracts also use for something else is left to the schema check
    (``response_contract``): ``itemCode`` is SG 6-2021's 8-digit 事项代码 in gov-platform's
    ``implementation`` but the ``01100000-GG-OO`` handling item elsewhere.
    """
    kinds = property_kinds()
    derived = {name: next(iter(k)) for name, k in kinds.items() if len(k) == 1 and isinstance(next(iter(k)), str)}
    base = {name: kind for name, kind in BASE_KEYS.items() if kinds.get(name, frozenset({kind})) <= {kind}}
    return {**derived, **base}  # type: ignore[dict-item]


def kind_for_key(key: str) -> str | None:
    kind = identifier_keys().get(key)
    if kind is not None:
        return kind
    declared = property_kinds().get(key)
    for suffix, k in SUFFIX_KEYS:
        if key.endswith(suffix) and key != suffix and (declared is None or declared <= {k}):
            return k
    return None


# ---------------------------------------------------------------------------------------------- schemathesis' checks

#: Chinese names of schemathesis' built-in checks (their failure text stays schemathesis' English).
BUILTIN_ZH: dict[str, str] = {
    "not_a_server_error": "服务器内部错误（5xx）",
    "status_code_conformance": "状态码未在契约中声明",
    "content_type_conformance": "响应媒体类型未在契约中声明",
    "response_schema_conformance": "响应体不符合契约中的模式",
    "response_headers_conformance": "响应头缺失或不符合契约",
    "positive_data_acceptance": "符合契约的请求被拒绝",
    "negative_data_rejection": "不符合契约的请求被接受",
    "use_after_free": "已删除的资源仍可访问",
    "ensure_resource_availability": "新建的资源无法访问",
    "missing_required_header": "缺少必需请求头时未拒绝",
    "ignored_auth": "未认证或认证无效的请求被受理",
    "object_level_authorization": "可访问其他身份创建的对象",
    "unsupported_method": "未定义的方法未返回 405（或缺少 Allow）",
    "allow_header_conformance": "Allow 响应头与契约不符",
    "max_response_time": "响应时间超限",
    "transport": "网络错误或响应不可读",
    "authentication": "无法取得访问令牌",
    "generation": "无法按契约生成测试数据",
    "deadline": "总时限已到，未测完",
}


# ---------------------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class CheckContext:
    """What a check knows besides the exchange: the OpenAPI document under test and its own name."""

    doc: str
    check: str

    def operation(self, case: Any) -> Operation | None:
        """The contract's operation of ``case`` (None when the case names none the document has)."""
        return index_operation(self.doc, case)

    def token_answer(self, case: Any, status: int) -> bool:
        """An answer of the RFC 6749 token endpoint that the contract declares unenveloped (§5.1 / §5.2)."""
        if status not in _TOKEN_ENDPOINT_STATUSES:
            return False
        op = self.operation(case)
        path = op.path if op is not None else str(case.operation.path)
        return path.endswith(token_path()) or (op is not None and op.operation_id == "issueToken")

    def fail(self, case: Any, title: str, zh: str, en: str, key: str) -> NoReturn:
        raise TzsbFailure(
            check=self.check, operation=case.operation.label, title=title, message_zh=zh, message_en=en, key=key
        )

    def check_schema(self, case: Any, body: Any, v: Any, title: str, zh: str, en: str, key: str = "") -> None:
        """Fail when ``body`` breaks the schema of validator ``v``: the lead sentence and every field error, in both
        languages; the finding's key is ``key`` and the failing paths (indices folded) and rules."""
        if v.is_valid(body):
            return
        errors = v.errors(body)
        self.fail(
            case,
            title,
            f"{zh}：{_listing([f'{e.path or chr(47)}：{e.message_zh}' for e in errors])}",
            f"{en}: {_listing([f'{e.path or chr(47)}: {e.message_en}' for e in errors])}",
            key=key + ";".join(sorted({f"{fold(e.path)}:{e.keyword}" for e in errors})),
        )


CheckBody = Callable[[CheckContext, Any, Any], "bool | None"]


@dataclass(frozen=True)
class Check:
    """One registered check: what :func:`check` makes of a decorated function."""

    name: str
    #: ids of the catalogue clauses (``schemas/clauses``) the check verifies
    clauses: tuple[str, ...]
    title_zh: str
    title_en: str
    #: what the check asserts (the docstring's body, reST)
    asserts: str
    function: CheckBody

    def bind(self, doc: str) -> CheckFunction:
        """The check for operations of OpenAPI document ``doc``, with schemathesis' check signature and name."""
        context = CheckContext(doc=doc, check=self.name)
        function = self.function

        def run(_ctx: Any, response: Any, case: Any) -> bool | None:
            return function(context, response, case)

        run.__name__ = run.__qualname__ = self.name
        run.__doc__ = function.__doc__
        return run


#: The project's checks by name, in the order they are defined (and run).
CHECKS: dict[str, Check] = {}


def check(*, clauses: tuple[str, ...]) -> Callable[[CheckBody], Check]:
    """Register the decorated function as the project check named after it (see the module docstring)."""

    def register(function: CheckBody) -> Check:
        name = function.__name__
        head, _, body = (inspect.getdoc(function) or "").partition("\n")
        zh, sep, en = head.partition(" / ")
        problems = [
            *(["the docstring's first line is not '中文 / English'"] if not (sep and _CJK.search(zh) and en) else []),
            *(["the English title has Chinese in it"] if _CJK.search(en) else []),
            *(["the docstring does not say what it asserts"] if not body.strip() else []),
            *(["no clause ids"] if not clauses or not all(isinstance(c, str) and c for c in clauses) else []),
            *(["the name is taken"] if name in CHECKS or name in BUILTIN_ZH else []),
        ]
        if problems:
            raise TypeError(f"fuzz check {name!r}: {'; '.join(problems)}")
        CHECKS[name] = Check(name, tuple(clauses), zh.strip(), en.strip(), " ".join(body.split()), function)
        return CHECKS[name]

    return register


# ---------------------------------------------------------------------------------------------- checks


@check(clauses=("PROFILE.ENVELOPE.1", "PROFILE.STATUS.1"))
def envelope(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """响应信封 / Response envelope

    a JSON body is the envelope ``envelope.schema.json`` (status < 400) or ``error.schema.json`` (status >= 400);
    the RFC 6749 token endpoint's 200/400/401 are exempt (the contract declares them unenveloped); a status below
    400 never carries one of error.schema.json's error codes
    """
    op = ctx.operation(case)
    status = response.status_code
    if ctx.token_answer(case, status):
        return True
    media = media_type(response)
    declared = _declared_media(op, status) or {}
    if media is not None and not is_json_media(media) and media in declared:
        return True  # a documented non-JSON body (file, XML)
    if response.request.method in ("HEAD",) or status in (204, 304):
        return True
    body = json_body(response)
    if body is _NO_BODY or body is _NOT_JSON:
        what_zh = "响应体为空" if body is _NO_BODY else "响应体不是合法的 JSON"
        what_en = "empty response body" if body is _NO_BODY else "response body is not valid JSON"
        ctx.fail(
            case,
            "Response is not the project envelope",
            f"{what_zh}（状态 {status}，Content-Type {media or '无'}），应为信封 {{code, message, data, requestId}}",
            f"{what_en} (status {status}, Content-Type {media or 'none'}); expected the envelope "
            "{code, message, data, requestId}",
            key=f"{'empty' if body is _NO_BODY else 'not-json'}:{media}",
        )
    ref = "error" if status >= 400 else "envelope"
    code = body.get("code") if isinstance(body, dict) else None
    contradiction = status_contradiction(status, code) if status < 400 else None
    if contradiction:
        ctx.fail(case, "The status contradicts the envelope", *contradiction, key=f"status-contradicts:{code}")
    ctx.check_schema(
        case,
        body,
        validator(ref),
        "Response is not the project envelope",
        f"状态 {status} 的响应体不符合 {ref}.schema.json",
        f"status {status} body does not match {ref}.schema.json",
        key=f"{ref}:",
    )
    return None


@check(clauses=("PROFILE.ERROR.1",))
def chinese_message(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """错误说明为中文 / Error message in Chinese

    an error body's ``message`` contains Chinese (汉字)
    """
    status = response.status_code
    if status < 400 or ctx.token_answer(case, status):
        return True
    body = json_body(response)
    if not isinstance(body, dict):
        return True  # the envelope check reports a missing or non-JSON body
    message = body.get("message")
    if isinstance(message, str) and _CJK.search(message):
        return None
    shown = message if isinstance(message, str) else orjson.dumps(message).decode()
    ctx.fail(
        case,
        "Error message is not in Chinese",
        f"状态 {status} 的错误说明 message 不含中文：“{shown[:120]}”",
        f"status {status} error message has no Chinese: {shown[:120]!r}",
        key="message",
    )


@check(clauses=("INFO2007.2.6.1",))
def identifiers(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """响应中的代码有效 / Identifiers in the response are valid

    every identifier-like value anywhere in the body, also where the schema leaves the data open, is valid by
    :func:`conformance.codes.check` (strict): keys named ``uscc`` / ``*Uscc``, ``division`` / ``*Division``,
    ``equipmentCode``, ``registrationNo``, ``dossierCode``, ``elicenseId``, ``itemCode``, ``catalogueCode`` and
    every property the JSON Schemas give one ``tzsb-*`` format (``issuerCode``, ``licenceNo`` …), except names the
    contracts also use for something else (``itemCode`` is SG 6-2021's 8-digit 事项代码 in gov-platform's
    ``implementation``): those are left to the schema
    """
    body = json_body(response)
    if body is _NO_BODY or body is _NOT_JSON:
        return True
    bad_zh: list[str] = []
    bad_en: list[str] = []
    keys: set[str] = set()
    for path, key, value in walk(body):
        if not key or not isinstance(value, str):
            continue
        kind = kind_for_key(key)
        if kind is None:
            continue
        result = check_code(kind, value, mode="held")  # data the target holds: every form really issued
        if not result.ok:
            bad_zh.append(f"{path}“{value[:60]}”（{kind}）：{result.reason('zh')}")
            bad_en.append(f"{path} {value[:60]!r} ({kind}): {result.reason('en')}")
            keys.add(f"{fold(path)}:{kind}")
    if bad_zh:
        ctx.fail(
            case,
            "Invalid identifier in the response",
            f"响应中的代码无效：{_listing(bad_zh)}",
            f"invalid identifiers in the response: {_listing(bad_en)}",
            key=";".join(sorted(keys)),
        )
    return None


@check(clauses=("PROFILE.DATE.1", "IPQS.DATE.1"))
def date_time_offset(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """日期时间带时区 / Date-times carry a UTC offset

    every date-time string carries a GB/T 7408 UTC offset (``Z`` / ``±hh:mm``)
    """
    body = json_body(response)
    if body is _NO_BODY or body is _NOT_JSON:
        return True
    found = [
        (path or "/", value)
        for path, _key, value in [("", "", body), *walk(body)]
        if isinstance(value, str) and _LOOKS_LIKE_DATETIME.match(value) and not DATETIME_WITH_OFFSET.match(value)
    ]
    bad = [f"{path}“{value[:40]}”" for path, value in found]
    if bad:
        ctx.fail(
            case,
            "Date-time without a UTC offset",
            f"日期时间不符合 GB/T 7408 扩展格式或缺少时区偏移（应如 2024-11-22T09:30:00+08:00）：{_listing(bad)}",
            f"date-times not in GB/T 7408 extended format with a UTC offset (e.g. 2024-11-22T09:30:00+08:00): "
            f"{_listing(bad)}",
            key=";".join(sorted({fold(p) for p, _v in found})),
        )
    return None


@check(clauses=("PROFILE.STATUS.1", "SHARE.IF.TECH.1"))
def response_contract(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """响应符合契约 / Response matches the contract

    the body validates against the operation's declared schema for its status and media type with
    :func:`conformance.check.schema.validator_at`, which enforces the project's named formats (``tzsb-*``) that
    schemathesis' own ``response_schema_conformance`` does not know; an undeclared 405 is checked against
    ``common.yaml#/components/responses/MethodNotAllowed``
    """
    op = ctx.operation(case)
    status = response.status_code
    declared = _declared_media(op, status)
    if declared is None and status == 405:
        declared = {
            "application/json": openapi_uri(
                "common", "/components/responses/MethodNotAllowed/content/application~1json/schema"
            )
        }
    if not declared:
        return True  # undeclared status: schemathesis' status_code_conformance reports it
    media = media_type(response)
    uri = declared.get(media or "") if media else None
    if uri is None:
        json_uris = [u for m, u in declared.items() if is_json_media(m) and u]
        if not (is_json_media(media) or media is None) or not json_uris:
            return True  # a media type the contract does not declare: content_type_conformance reports it
        uri = json_uris[0]
    body = json_body(response)
    if body is _NO_BODY or body is _NOT_JSON:
        return True  # reported by the envelope check
    ctx.check_schema(
        case,
        body,
        validator_at(uri),
        "Response does not match the contract",
        f"状态 {status} 的响应不符合契约",
        f"status {status} response does not match the contract",
    )
    return None


@check(clauses=("PROFILE.ERROR.1",))
def field_paths(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """错误项的字段路径为 JSON Pointer / Error field paths are JSON Pointers

    every ``errors[].path`` of an error body is an RFC 6901 JSON Pointer (``""`` or ``/``-separated tokens,
    ``~`` only as ``~0`` / ``~1``), as ``error.schema.json`` and common.yaml's ``BadRequest`` declare; a dotted
    (``registration.equipmentCode``), JSONPath (``$.name``) or bare field name is not one; the RFC 6749 token
    endpoint's errors are exempt
    """
    status = response.status_code
    if status < 400 or ctx.token_answer(case, status):
        return True
    body = json_body(response)
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return True  # no field errors; a body that is no error envelope is the envelope check's
    bad = [
        f"/errors/{i}/path“{e['path'][:80]}”"
        for i, e in enumerate(errors)
        if isinstance(e, dict) and isinstance(e.get("path"), str) and not _JSON_POINTER.fullmatch(e["path"])
    ]
    if bad:
        ctx.fail(
            case,
            "Error field path is not a JSON Pointer",
            f"状态 {status} 的错误项字段路径不是 JSON Pointer（RFC 6901，如 /registration/equipmentCode）："
            f"{_listing(bad)}",
            f"status {status} error field paths are not JSON Pointers (RFC 6901, e.g. /registration/equipmentCode): "
            f"{_listing(bad)}",
            key="/errors/*/path",
        )
    return None


# ---------------------------------------------------------------------------------------------- derived

#: Names of the project's checks, in the order they run.
PROJECT_CHECKS: tuple[str, ...] = tuple(CHECKS)


def make_checks(doc: str) -> list[CheckFunction]:
    """The project's checks for operations of OpenAPI document ``doc``, in the order they run."""
    return [c.bind(doc) for c in CHECKS.values()]


_ASSERTS_WIDTH = 76


def render_table() -> str:
    """The reST table of the registered checks: name, clause ids (one a line), title and what it asserts."""
    rows: list[tuple[list[str], list[str], list[str]]] = []
    for c in CHECKS.values():
        text = [f"{c.title_zh} / {c.title_en}:", *textwrap.wrap(c.asserts, _ASSERTS_WIDTH, break_on_hyphens=False)]
        rows.append(([f"``{c.name}``"], list(c.clauses), text))
    head = ("check", "clauses", "what it asserts")
    widths = [max(len(head[i]), *(len(line) for row in rows for line in row[i])) for i in range(3)]
    rule = " ".join("=" * w for w in widths)

    def line(cells: Iterable[str]) -> str:
        return " ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip()

    out = [rule, line(head), rule]
    for row in rows:
        out += [line(col[i] if i < len(col) else "" for col in row) for i in range(max(map(len, row)))]
    out.append(rule)
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # python -m conformance.fuzz.checks: the table of checks
    print(render_table(), end="")

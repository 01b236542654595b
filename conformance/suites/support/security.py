"""Helpers of the security suite (``test_security_*.py``); this module holds no tests.

Everything is read from the contracts (``schemas/openapi``, ``schemas/json``) and the target file;
nothing here knows the reference server.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import random
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest

from conformance.check.schema import validator
from conformance.client import TargetClient, TargetResponse
from conformance.client.http import static_key
from conformance.client.token import token_form, token_path
from conformance.clock import CHINA
from conformance.codes import FORMATS, KINDS
from conformance.contract import documents as contracts
from conformance.contract.documents import json_schema
from conformance.contract.errors import ErrorCode
from conformance.contract.openapi import Operation, documents_for_role
from conformance.contract.registry import registry
from conformance.harness.target import Target
from conformance.report.skips import untested

#: SQL-injection probes (classic tautologies, stacked queries, UNION, comment and time-based forms).
SQL_INJECTION = (
    "' OR '1'='1",
    "1' OR 1=1 --",
    "x'; DROP TABLE audit; --",
    '" OR ""="',
    "' UNION SELECT NULL,NULL,NULL --",
    "%' AND SLEEP(5) AND '%'='",
)

#: What an error body must never show (PROFILE.STATUS.6: no stack, SQL or internal address).
LEAK = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|\bsqlite3?\b|SQLSTATE|\bORA-\d{5}\b|psycopg|"
    r"SQLException|syntax error at or near|near \"[^\"]*\": syntax error|at [\w.$]+\([\w]+\.java:\d+\)|"
    r"(?:/usr|/home|/opt|/srv|/var)/[\w./-]+\.(?:py|java|go|js|php)\b|\b(?:10|127|192\.168)\.\d+\.\d+\.\d+:\d+\b",
    re.IGNORECASE,
)

_IDS = json_schema("identifiers")["$defs"]  # the masked and unmasked forms are the contract's, not re-declared
MASKED_CITIZEN_ID = re.compile(_IDS["maskedCitizenId"]["pattern"])
MASKED_MOBILE = re.compile(_IDS["maskedMobile"]["pattern"])
FULL_MOBILE = re.compile(_IDS["mobile"]["pattern"])
FULL_CITIZEN_ID = re.compile(_IDS["citizenId"]["pattern"], re.IGNORECASE)  # a lower-case x is still unmasked

AUTH_CODES = (ErrorCode.UNAUTHORIZED, ErrorCode.TOKEN_EXPIRED, ErrorCode.SIGNATURE_INVALID, ErrorCode.REPLAYED_NONCE)


# ------------------------------------------------------------------------------------------ requests


def param_schema(uri: str) -> dict[str, Any]:
    resolved = registry().resolver().lookup(uri)
    schema = resolved.contents
    while isinstance(schema, dict) and "$ref" in schema and "format" not in schema:
        resolved = resolved.resolver.lookup(schema["$ref"])
        schema = resolved.contents
    return schema if isinstance(schema, dict) else {}


def path_value(op: Operation, name: str, seed: int = 7) -> str:
    """A syntactically valid value of a path parameter (the project's identifier formats generated;
    otherwise a neutral placeholder): requests are refused for the reason under test, not for syntax."""
    param = next((p for p in op.params if p.name == name and p.location == "path"), None)
    fmt = param_schema(param.schema_uri).get("format") if param else None
    if isinstance(fmt, str) and fmt in FORMATS:
        return FORMATS[fmt].generate(random.Random(seed))
    return "NONEXISTENT-0000"


def param_maximum(op: Operation, name: str, default: int) -> int:
    """The declared maximum of an integer query parameter (e.g. ``size``), or ``default``."""
    param = next((p for p in op.params if p.name == name and p.location == "query"), None)
    value = param_schema(param.schema_uri).get("maximum") if param else None
    return int(value) if isinstance(value, int) else default


def param_type(op: Operation, name: str) -> str | None:
    param = next((p for p in op.params if p.name == name), None)
    kind = param_schema(param.schema_uri).get("type") if param else None
    return kind if isinstance(kind, str) else None


def concrete(op: Operation, values: dict[str, str] | None = None, seed: int = 7) -> str:
    """The operation's path with its parameters filled in (percent-encoded)."""
    values = values or {}

    def fill(m: re.Match[str]) -> str:
        name = m.group(1)
        return quote(values[name] if name in values else path_value(op, name, seed), safe="")

    return re.sub(r"\{(\w+)\}", fill, op.path)


def secured(ops: list[Operation]) -> list[Operation]:
    return [op for op in ops if op.secured and op.operation_id not in ("issueToken", "getHealth")]


def scopes_of(op: Operation) -> list[str]:
    scope: Any = op.scope
    return [scope] if isinstance(scope, str) else list(scope or ())


def call(
    client: TargetClient,
    op: Operation,
    *,
    token: str | None = None,
    path: str | None = None,
    headers: dict[str, str] | None = None,
    **kw: Any,
) -> TargetResponse:
    """One request of ``op`` (JSON ``{}`` as the body of an operation that takes one, unless given)."""
    hdrs = dict(headers or {})
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token}"
    if op.body_uri is not None and "json" not in kw and "raw_body" not in kw:
        kw["json"] = {}
    return client.request(op.method.upper(), path or concrete(op), headers=hdrs, **kw)


def probe_op(ops: list[Operation], scopes: frozenset[str] | set[str] | None = None) -> Operation:
    """A secured operation to probe with (within ``scopes``): a GET without path parameters if there is
    one, then any GET, then any; a skip (→ 未测) when there is none."""
    candidates = [op for op in secured(ops) if scopes is None or set(scopes_of(op)) & set(scopes)]
    for pick in (lambda o: o.method == "get" and "{" not in o.path, lambda o: o.method == "get", lambda o: True):
        for op in candidates:
            if pick(op):
                return op
    pytest.skip("未测：该角色没有该凭证可调用的受保护操作 / no secured operation this credential may call")


def request_id(tag: str) -> str:
    """A request id (identifiers requestId: 8–64 of ``[0-9A-Za-z_.:-]``) that marks the suite's requests."""
    return f"tzsbsec-{tag}-{secrets.token_hex(6)}"


# ------------------------------------------------------------------------------------------ tokens


@dataclass
class Grant:
    token: str
    granted: frozenset[str] | None  # None: a static key whose scopes the target file does not declare
    expires_in: int
    response: TargetResponse | None  # None: a static key, no token answer

    @property
    def scopes(self) -> frozenset[str]:
        """The scopes granted; a check that needs them cannot run for a static key nobody declared them of."""
        if self.granted is None:
            untested(
                "绑定以静态密钥认证，没有令牌应答说明其权限范围，目标文件也未声明 / a static key: no token answer names "
                "its scopes and the target file declares none",
                provide="在目标文件该客户端的表中声明密钥的权限范围（scopes = [...]）/ declare the key's scopes "
                "(scopes = [...]) in the client's table of the target file",
            )
        return self.granted


def issue(
    client: TargetClient,
    *,
    scope: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    exchange: bool = False,
) -> Grant:
    """A token by client credentials (RFC 6749 §4.4), optionally narrowed with ``scope``. Through a binding with a
    static key, the client's own key (its scopes as the target file declares them) unless the check needs what only
    a token exchange gives (``exchange``: the answer itself, a narrowed scope, another client's credentials): that
    request then meets :class:`NotOffered` at the edge."""
    if static_key(client.base_url) and not (exchange or scope or client_id or client_secret):
        client.token()
        held = client.granted
        assert held is not None
        return Grant(held.value, frozenset(held.scopes) if held.scopes is not None else None, 0, None)
    data = token_form(client_id or client.client_id or "", client_secret or client.client_secret, scope)
    r = client.request("POST", token_path(), data=data, auth=False)
    body = r.json()
    if r.status != 200 or not isinstance(body, dict) or not body.get("access_token"):
        raise AssertionError(f"令牌接口未签发令牌（{r.status}）/ token endpoint answered {r.status}")
    granted = frozenset(str(body.get("scope") or "").split())
    return Grant(str(body["access_token"]), granted, int(body.get("expires_in") or 0), r)


def role_scopes(ops: list[Operation]) -> set[str]:
    return {s for op in secured(ops) for s in scopes_of(op)}


def foreign_scope(op: Operation, available: set[str]) -> str | None:
    """A scope the caller may hold that does not open ``op``: for a write, the read scope of the same
    data set (a read-only token); for a read, the read scope of another data set; else any other."""
    needed = set(scopes_of(op))
    candidates = sorted(available - needed)
    if not candidates:
        return None
    ds = op.data_set
    is_read = op.method == "get"
    family = {n.split(":", 1)[0] for n in needed}  # "sharing", "gov", "licensing" ...

    def rank(s: str) -> tuple[int, int, int, str]:
        same_ds = bool(ds) and f":{ds}:" in s
        read = s.endswith(":read")
        first = (read and not same_ds) if is_read else (read and same_ds)
        return (0 if first else 1, 0 if s.split(":", 1)[0] in family else 1, 0 if read else 1, s)

    return min(candidates, key=rank)


def need_client(target: Target, tzsb_client: Any, name: str, purpose: str, role: str | None = None) -> TargetClient:
    """The target file's client ``name`` or a skip (→ 未测) saying what it is needed for."""
    if target.client(name) is None:
        pytest.skip(
            f"未测：目标文件未提供客户端 [clients.{name}]（{purpose}）/ not tested: the target file has no "
            f"client '{name}'"
        )
    return tzsb_client(role, name)


def basic_credentials(client: TargetClient) -> str:
    raw = f"{client.client_id}:{client.client_secret}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


# ------------------------------------------------------------------------------------------ responses


def check_error(
    r: TargetResponse,
    status: int | tuple[int, ...],
    what: str,
    *,
    codes: tuple[str, ...] | None = None,
    challenge: bool = False,
) -> list[str]:
    """Problems of an error response: status, error envelope, code, no data, WWW-Authenticate."""
    statuses = (status,) if isinstance(status, int) else status
    problems: list[str] = []
    if r.status not in statuses:
        return [f"{what}: 期望 {'/'.join(map(str, statuses))}，实际 {r.status} / expected {statuses}, got {r.status}"]
    body = r.json()
    body = body if isinstance(body, dict) else None
    if body is None or not validator("error").is_valid(body):
        problems.append(f"{what}: {r.status} 的响应体不是错误信封 / not the error envelope")
    elif codes and body.get("code") not in codes:
        problems.append(f"{what}: 错误代码 {body.get('code')}，应为 {' 或 '.join(codes)} / code should be {codes}")
    if body is not None and body.get("data") not in (None,):
        problems.append(f"{what}: 错误响应带有业务数据 / error response carries data")
    if challenge:
        value = r.header("WWW-Authenticate") or ""
        if not re.match(r"^Bearer( |$)", value):
            problems.append(f"{what}: 401 缺少 WWW-Authenticate: Bearer 质询 / no Bearer challenge")
    return problems


def leaks(r: TargetResponse) -> str | None:
    text = r.content[:65536].decode("utf-8", errors="replace")
    m = LEAK.search(text)
    return m.group(0) if m else None


def server_offset(client: TargetClient) -> float:
    """Server clock minus ours, seconds (from the health endpoint's time; 0 if unknown)."""
    r = client.get("/health", auth=False)
    body = r.json()
    try:
        server = dt.datetime.fromisoformat(str(body["data"]["time"]).replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError):
        return 0.0
    return server.timestamp() - dt.datetime.now(dt.UTC).timestamp()


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, CHINA).isoformat(timespec="seconds")


def healthy(client: TargetClient) -> list[str]:
    """The target still answers: health is up."""
    r = client.get("/health", auth=False)
    body = r.json()
    if (
        r.status != 200
        or not isinstance(body, dict)
        or not isinstance(body.get("data"), dict)
        or body["data"].get("status") == "down"
    ):
        return [f"健康检查异常：{r.status} / health check answered {r.status}"]
    return []


# ------------------------------------------------------------------------------------------ sensitive data


def _sensitive_kinds(node: Any, defs: dict[str, Any], depth: int = 0, *, inside: bool = False) -> set[str]:
    """``x-sensitive`` kinds of a property schema, through refs into identifiers.schema.json and combinators."""
    if not isinstance(node, dict) or depth > 8:
        return set()
    kinds = {node["x-sensitive"]} if isinstance(node.get("x-sensitive"), str) else set()
    ref = node.get("$ref")
    if isinstance(ref, str) and ("identifiers.schema.json#/$defs/" in ref or (inside and ref.startswith("#/$defs/"))):
        kinds |= _sensitive_kinds(defs.get(ref.rpartition("/")[2]), defs, depth + 1, inside=True)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in node.get(key) or ():
            kinds |= _sensitive_kinds(sub, defs, depth + 1, inside=inside)
    return kinds


@functools.cache
def sensitive_fields(role: str) -> dict[str, str]:
    """Record fields the contract marks ``x-sensitive`` citizen-id or phone (the kinds sharing.yaml
    says are masked), over the data sets (``x-data-sets``) of the role's documents."""
    defs = contracts.json_schema("identifiers").get("$defs", {})
    out: dict[str, str] = {}

    def walk(schema: Any) -> None:
        if not isinstance(schema, dict):
            return
        for name, sub in (schema.get("properties") or {}).items():
            kinds = _sensitive_kinds(sub, defs) & {"citizen-id", "phone"}
            if kinds:
                out[name] = "citizen-id" if "citizen-id" in kinds else "phone"
            walk(sub)
        walk(schema.get("items"))

    for doc in documents_for_role(role):
        for spec in (contracts.openapi(doc).get("x-data-sets") or {}).values():
            name = str(spec.get("schema", "")).rpartition("/")[2].removesuffix(".schema.json")
            if name:
                walk(contracts.json_schema(name))
    return out


def walk_strings(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk_strings(v, str(k))
    elif isinstance(node, list):
        for v in node:
            yield from walk_strings(v, key)
    elif isinstance(node, str):
        yield key, node


def is_citizen_id(value: str) -> bool:
    return bool(FULL_CITIZEN_ID.match(value)) and KINDS["citizen-id"].validate(value.upper(), "held").ok


@dataclass
class Scan:
    unmasked: list[str]
    masked: int
    records: int


def scan(records: list[Any], fields: dict[str, str]) -> Scan:
    """Unmasked citizen IDs and mobile numbers in the records (in a sensitive field, or any whole value
    that is a full mobile number / valid citizen ID in a sensitive field), and the masked values seen."""
    unmasked: list[str] = []
    masked = 0
    for rec in records:
        for key, value in walk_strings(rec):
            kind = fields.get(key)
            if MASKED_CITIZEN_ID.match(value) or MASKED_MOBILE.match(value):
                masked += 1
            elif FULL_MOBILE.match(value) or (kind == "citizen-id" and is_citizen_id(value)):
                unmasked.append(f"{key}={value[:3]}…{value[-2:]}")
    return Scan(unmasked, masked, len(records))

"""Checks of the OpenAPI 3.1 documents in ``schemas/openapi/`` (the interface contracts).

What is checked, and why:

* every document (``common.yaml`` included: it is components-only, ``paths: {}``, and still a
  valid OpenAPI 3.1 document) passes ``openapi_spec_validator`` with the file's URI as base, so
  the relative references to ``../json/*.schema.json`` and ``common.yaml`` are resolved;
* every operation carries what the suites and the report rely on: ``operationId`` (camelCase,
  unique per document), a Chinese ``summary`` (the standard's interface name where it has one),
  ``x-clause``, ``x-scope`` matching its ``security``, and every error it can produce;
* every callback declares its security (the scopes its receiver needs, or ``security: []`` with the
  reason); the corrected-report callback needs what the licensing operation it calls needs;
* every ``$ref`` resolves to an existing file and JSON pointer;
* each DB42/T 2279-2024 Table 5–7 interface appears on exactly one operation;
* the sharing platform has the five operations for each of its six data sets;
* schemathesis 4 can load every role document as written (relative external refs).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from openapi_spec_validator import validate

from conformance.contract import documents as contracts
from conformance.contract.clauses import load_catalogue

OPENAPI_DIR: Path = contracts.OPENAPI_DIR
ALL_DOCS = sorted(p.name for p in OPENAPI_DIR.glob("*.yaml"))
COMMON = "common.yaml"
ROLE_DOCS = [n for n in ALL_DOCS if n != COMMON]
EXPECTED_DOCS = {
    "common.yaml",
    "licensing.yaml",
    "workflow-driver.yaml",
    "gov-platform.yaml",
    "inspection.yaml",
    "supervision.yaml",
    "sharing.yaml",
}
ROLES = {"licensing", "gov-platform", "inspection", "supervision", "sharing"}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
UNAUTHENTICATED_PATHS = {"/oauth/token", "/health"}
CJK = re.compile(r"[\u4e00-\u9fff]")
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")

#: Interface names exactly as DB42/T 2279-2024 Tables 5–7 give them (T5-11 is a data standard).
INTERFACE_NAMES = {
    "T5-1": "实施清单查询接口",
    "T5-2": "业务办理项查询接口",
    "T5-3": "获取自然人用户信息接口",
    "T5-4": "获取法人用户信息接口",
    "T5-5": "申请信息推送接口服务",
    "T5-6": "上报补齐补正信息服务",
    "T5-7": "上报办件受理信息服务",
    "T5-8": "上报办理环节信息服务",
    "T5-9": "上报特别程序信息服务",
    "T5-10": "上报办件结果信息服务",
    "T5-11": "汇聚规范",
    "T5-12": "电子证照依事项检索服务接口",
    "T5-13": "电子证照依事项信息获取接口",
    "T5-14": "电子证照依事项文件下载地址获取接口",
    "T5-15": "电子证照依事项文件下载接口",
    "T5-16": "电子证照依事项缩略图下载接口",
    "T6-1": "检验检测信息查询服务接口",
    "T6-2": "异议数据反馈服务接口",
    "T7-1": "使用单位信息上报服务接口",
    "T7-2": "设备使用登记信息上报服务接口",
}
#: Rows that must be an operation exactly once (T5-11 may appear at most once).
REQUIRED_INTERFACES = set(INTERFACE_NAMES) - {"T5-11"}

#: data set -> (record schema, key); the sharing document must agree.
DATA_SETS = {
    "equipment": ("equipment.schema.json", "equipmentCode"),
    "units": ("unit.schema.json", "uscc"),
    "personnel": ("personnel.schema.json", "certificateNo"),
    "accidents": ("accident.schema.json", "accidentId"),
    "inspection-reports": ("inspection-report.schema.json", "reportNo"),
    "use-registrations": ("use-registration.schema.json", "registrationNo"),
}


# --------------------------------------------------------------------------- helpers


@functools.cache
def load(path: Path) -> Any:
    return contracts.load_data(path)


def doc(name: str) -> dict[str, Any]:
    return load(OPENAPI_DIR / name)


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(path, method, operation, path item) for every operation under ``paths``."""
    for path, item in (spec.get("paths") or {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method], item


def pointer(target: Any, fragment: str) -> Any:
    """Resolve a JSON pointer fragment (``/a/b~1c``); raise KeyError / IndexError if absent."""
    if fragment in ("", "/"):
        return target
    for raw in fragment.lstrip("/").split("/"):
        token = unquote(raw).replace("~1", "/").replace("~0", "~")
        target = target[int(token)] if isinstance(target, list) else target[token]
    return target


def resolve(ref: str, base: Path) -> tuple[Any, Path]:
    """Resolve ``ref`` found in file ``base``: (target object, file it lives in)."""
    file_part, _, fragment = ref.partition("#")
    file = (base.parent / file_part).resolve() if file_part else base
    assert file.is_file(), f"{base.name}: $ref {ref!r}: no file {file}"
    return pointer(load(file), fragment), file


def deref(obj: Any, base: Path) -> tuple[Any, Path]:
    """Follow Reference Objects until a concrete object."""
    for _ in range(10):
        if isinstance(obj, dict) and set(obj) <= {"$ref", "summary", "description"} and "$ref" in obj:
            obj, base = resolve(obj["$ref"], base)
        else:
            return obj, base
    raise AssertionError("reference chain too long")


def walk_refs(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield where, v
            else:
                yield from walk_refs(v, f"{where}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk_refs(v, f"{where}/{i}")


def all_parameters(spec_file: Path, op: dict[str, Any], item: dict[str, Any]) -> list[dict[str, Any]]:
    params = []
    for p in [*item.get("parameters", []), *op.get("parameters", [])]:
        params.append(deref(p, spec_file)[0])
    return params


def security_of(spec: dict[str, Any], op: dict[str, Any]) -> list[dict[str, list[str]]]:
    return op["security"] if "security" in op else spec.get("security", [])


def declared_scopes() -> set[str]:
    flows = doc(COMMON)["components"]["securitySchemes"]["clientCredentials"]["flows"]
    return set(flows["clientCredentials"]["scopes"])


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_operations() -> Iterator[tuple[str, str, str, dict[str, Any], dict[str, Any]]]:
    for name in ROLE_DOCS:
        for path, method, op, item in operations(doc(name)):
            yield name, path, method, op, item


# --------------------------------------------------------------------------- documents


def test_the_expected_documents_exist() -> None:
    assert set(ALL_DOCS) == EXPECTED_DOCS


@pytest.mark.parametrize("name", ALL_DOCS)
def test_document_is_valid_openapi_31(name: str) -> None:
    """``common.yaml`` is validated too: it is components-only with ``paths: {}``, which OAS 3.1 allows."""
    path = OPENAPI_DIR / name
    spec = doc(name)
    assert spec["openapi"] == "3.1.0"
    validate(spec, base_uri=path.as_uri())


@pytest.mark.parametrize("name", ROLE_DOCS)
def test_document_info_and_role(name: str) -> None:
    spec = doc(name)
    info = spec["info"]
    assert CJK.search(info["title"]), "info.title must be Chinese"
    assert info["version"] == "1.0.0"
    assert "tzsb-conformance" in info["description"]
    assert "DB42/T 2279-2024" in info["description"] or "征求意见稿" in info["description"]
    assert spec.get("x-role") in ROLES
    if name == "workflow-driver.yaml":
        assert spec["x-role"] == "licensing"
        assert spec["x-optional-feature"] == "workflow-driver"
    else:
        assert name.removesuffix(".yaml") == spec["x-role"]
    # security scheme names resolve in the entry document, so each declares them (as refs to common.yaml)
    schemes = spec["components"]["securitySchemes"]
    assert set(schemes) == {"clientCredentials", "bearerAuth"}
    # every role document has the token endpoint and the health check
    assert "post" in spec["paths"]["/oauth/token"]
    assert "get" in spec["paths"]["/health"]


def test_common_components() -> None:
    common = doc(COMMON)
    assert common["paths"] == {}
    comp = common["components"]
    cc = comp["securitySchemes"]["clientCredentials"]
    assert cc["type"] == "oauth2"
    assert cc["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"
    bearer = comp["securitySchemes"]["bearerAuth"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")
    scopes = declared_scopes()
    for ds in DATA_SETS:
        assert {f"sharing:{ds}:read", f"sharing:{ds}:write", f"sharing:{ds}:subscribe"} <= scopes
    signature = {p["name"]: p for p in comp["parameters"].values() if p["in"] == "header"}
    assert set(signature) == {"X-Timestamp", "X-Nonce", "X-Signature", "X-Signature-Method"}
    assert all(not p["required"] and p["x-optional-feature"] == "request-signature" for p in signature.values())
    assert signature["X-Signature-Method"]["schema"]["enum"] == ["HMAC-SM3", "HMAC-SHA256"]
    assert "METHOD" in common["info"]["description"] and "NONCE" in common["info"]["description"]


# --------------------------------------------------------------------------- operations


@pytest.mark.parametrize("name", ROLE_DOCS)
def test_operation_ids_unique_and_camel_case(name: str) -> None:
    ids = [op.get("operationId") for _, _, op, _ in operations(doc(name))]
    assert all(isinstance(i, str) and CAMEL.match(i) for i in ids), ids
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


@pytest.mark.parametrize("name", ROLE_DOCS)
def test_operation_annotations(name: str) -> None:
    spec = doc(name)
    scopes = declared_scopes()
    for path, method, op, _ in operations(spec):
        where = f"{name} {method.upper()} {path}"
        assert CJK.search(op.get("summary", "")), f"{where}: summary must contain Chinese"
        assert op.get("tags"), f"{where}: tags"
        clause = op.get("x-clause")
        assert clause and all(isinstance(c, str) and c for c in as_list(clause)), f"{where}: x-clause"
        security = security_of(spec, op)
        if path in UNAUTHENTICATED_PATHS:
            assert security == [], f"{where}: must not require authentication"
            continue
        assert "x-scope" in op, f"{where}: x-scope"
        x_scope = set(as_list(op["x-scope"]))
        assert x_scope <= scopes, f"{where}: undeclared scope {x_scope - scopes}"
        assert security, f"{where}: no security"
        used = {s for req in security for names in req.values() for s in names}
        assert used == x_scope, f"{where}: security scopes {used} != x-scope {x_scope}"


@pytest.mark.parametrize("name", ROLE_DOCS)
def test_operations_list_their_errors(name: str) -> None:
    spec = doc(name)
    spec_file = OPENAPI_DIR / name
    for path, method, op, item in operations(spec):
        where = f"{name} {method.upper()} {path}"
        codes = set(op["responses"])
        assert {"500", "503"} <= codes, where
        if security_of(spec, op):
            assert {"401", "403", "429"} <= codes, f"{where}: authenticated operations list 401/403/429"
        if "requestBody" in op:
            assert {"400", "413", "415"} <= codes, f"{where}: bodies list 400/413/415"
        params = all_parameters(spec_file, op, item)
        if any(p["in"] == "path" for p in params):
            assert "404" in codes, f"{where}: by-key operations list 404"
        if any(p["in"] in ("path", "query") for p in params):
            assert "400" in codes, f"{where}: parameters can be invalid"
        if op.get("x-idempotent-by"):
            assert "409" in codes, f"{where}: idempotent pushes list 409"


@pytest.mark.parametrize("name", ROLE_DOCS)
def test_success_responses_are_enveloped(name: str) -> None:
    """Every JSON 2xx except the RFC 6749 token response is ``allOf [envelope, {data: ...}]``."""
    spec_file = OPENAPI_DIR / name
    for path, method, op, _ in operations(doc(name)):
        for status, response in op["responses"].items():
            if not status.startswith("2"):
                continue
            resp, _ = deref(response, spec_file)
            schema = (resp.get("content") or {}).get("application/json", {}).get("schema")
            if schema is None:
                continue
            if path == "/oauth/token":
                assert schema["$ref"].endswith("security.schema.json#/$defs/token")
                continue
            where = f"{name} {method.upper()} {path} {status}"
            parts = schema.get("allOf", [])
            assert parts and parts[0].get("$ref", "").endswith("envelope.schema.json"), where
            assert any("data" in p.get("properties", {}) for p in parts[1:]), f"{where}: data untyped"


#: Interface keys of the clause catalogue that are not rows of Tables 5–7 (``dossier.query``, ``workflow.driver``, ...).
CATALOGUE_KEYS = {i for c in load_catalogue() for i in c.get("interfaces") or [] if "." in i}


def test_interfaces_appear_exactly_once() -> None:
    seen: dict[str, list[str]] = {}
    for name, path, method, op, _ in role_operations():
        if "x-interface" in op:
            iface = op["x-interface"]
            if iface in CATALOGUE_KEYS:  # an interface the catalogue names that is not a table row
                continue
            assert iface in INTERFACE_NAMES, f"{name} {path}: unknown x-interface {iface}"
            assert INTERFACE_NAMES[iface] in op["summary"], f"{name} {path}: summary must name {iface}"
            seen.setdefault(iface, []).append(f"{name} {method.upper()} {path}")
    for iface in REQUIRED_INTERFACES:
        assert len(seen.get(iface, [])) == 1, f"{iface}: {seen.get(iface)}"
    assert len(seen.get("T5-11", [])) <= 1


def callback_operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(where, method, operation) for every callback of every operation, ``$ref``'d callbacks followed."""
    for path, method, op, _ in operations(spec):
        for name, callback in (op.get("callbacks") or {}).items():
            if "$ref" in callback:
                callback = pointer(spec, callback["$ref"].removeprefix("#"))
            for expression, item in callback.items():
                for cb_method in METHODS:
                    if cb_method in item:
                        yield f"{method.upper()} {path} callback {name} {expression}", cb_method, item[cb_method]


@pytest.mark.parametrize("name", ROLE_DOCS)
def test_callbacks_declare_their_security(name: str) -> None:
    """A callback states how its receiver authenticates the caller: the scopes it needs (as ``x-scope``), or
    ``security: []`` explained in its description. A missing ``security`` would silently mean "none"."""
    spec = doc(name)
    scopes = declared_scopes()
    for where, _, op in callback_operations(spec):
        assert "security" in op, f"{name} {where}: no security"
        if op["security"] == []:
            assert "security: []" in op.get("description", ""), f"{name} {where}: say why it takes no credential"
            continue
        x_scope = set(as_list(op["x-scope"]))
        assert x_scope <= scopes, f"{name} {where}: undeclared scope {x_scope - scopes}"
        used = {s for req in op["security"] for names in req.values() for s in names}
        assert used == x_scope, f"{name} {where}: security scopes {used} != x-scope {x_scope}"
        assert {"401", "403"} <= set(op["responses"]), f"{name} {where}: an authenticated receiver answers 401/403"


def test_the_corrected_report_callback_is_the_licensing_operation() -> None:
    """The inspection system re-pushes a corrected report to a licensing system: the callback needs what
    licensing.yaml ``receiveCorrectedInspectionReport`` needs (security, body schema, error answers)."""
    (target,) = [
        op
        for _, _, op, _ in operations(doc("licensing.yaml"))
        if op["operationId"] == "receiveCorrectedInspectionReport"
    ]
    (callback,) = [
        op for _, _, op in callback_operations(doc("inspection.yaml")) if op["operationId"] == "pushCorrectedReport"
    ]
    assert callback["security"] == target["security"] and callback["x-scope"] == target["x-scope"]
    assert callback["requestBody"] == target["requestBody"]
    assert {s for s in callback["responses"] if s[0] in "45"} == {s for s in target["responses"] if s[0] in "45"}


def test_sharing_notifications_go_without_credentials() -> None:
    """The platform has no credential for a subscriber (a subscription request carries none), so the
    notification callback takes none; its 4xx / 5xx answers are retried (same messageId)."""
    spec = doc("sharing.yaml")
    ops = [op for _, _, op in callback_operations(spec) if op["operationId"] == "notifyChanges"]
    assert len(ops) == len(spec["x-data-sets"]), "one notification callback per data set's subscribe operation"
    request = load(contracts.JSON_DIR / "sharing.schema.json")["$defs"]["subscriptionRequest"]["properties"]
    assert not {k for k in request if any(w in k.lower() for w in ("token", "secret", "key", "auth"))}
    for op in ops:
        assert op["security"] == []
        assert {"4XX", "5XX"} <= set(op["responses"])


# --------------------------------------------------------------------------- references and headers


@pytest.mark.parametrize("name", ALL_DOCS)
def test_every_ref_resolves(name: str) -> None:
    path = OPENAPI_DIR / name
    refs = list(walk_refs(doc(name)))
    assert refs
    for where, ref in refs:
        try:
            resolve(ref, path)
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            pytest.fail(f"{name}{where}: $ref {ref!r} does not resolve ({exc!r})")


def _responses_everywhere() -> Iterator[tuple[str, str, dict[str, Any], Path]]:
    """(where, status, concrete response, file it lives in) for every operation response."""
    for name in ROLE_DOCS:
        spec_file = OPENAPI_DIR / name
        for path, method, op, _ in operations(doc(name)):
            for status, response in op["responses"].items():
                yield (f"{name} {method.upper()} {path}", status, *deref(response, spec_file))


def _header(resp: dict[str, Any], name: str, base: Path) -> dict[str, Any] | None:
    h = (resp.get("headers") or {}).get(name)
    return None if h is None else deref(h, base)[0]


def test_429_declares_retry_after_and_401_www_authenticate() -> None:
    checked = 0
    for where, status, resp, base in _responses_everywhere():
        if status == "429":
            h = _header(resp, "Retry-After", base)
            assert h and h["required"] is True and h["schema"]["type"] == "integer", where
            checked += 1
        if status == "401":
            h = _header(resp, "WWW-Authenticate", base)
            assert h and h["required"] is True, where
    assert checked > 50


# --------------------------------------------------------------------------- sharing


def test_sharing_data_sets_have_five_operations() -> None:
    spec = doc("sharing.yaml")
    x_ds = spec["x-data-sets"]
    assert set(x_ds) == set(DATA_SETS)
    enum = load(contracts.JSON_DIR / "identifiers.schema.json")["$defs"]["dataSet"]["enum"]
    assert set(enum) == set(DATA_SETS)
    paths = spec["paths"]
    for ds, (schema_file, key) in DATA_SETS.items():
        entry = x_ds[ds]
        assert entry["schema"] == f"../json/{schema_file}" and entry["key"] == key, ds
        assert CJK.search(entry["title"])
        record = load(contracts.JSON_DIR / schema_file)
        assert key in record["required"], f"{ds}: key {key} must be required in {schema_file}"
        base = f"/api/v1/{ds}"
        for path, method in [
            (f"{base}/{{{key}}}", "get"),
            (base, "get"),
            (f"{base}/changes", "get"),
            (f"{base}/push", "post"),
            (f"{base}/subscriptions", "post"),
        ]:
            assert method in paths.get(path, {}), f"{ds}: missing {method.upper()} {path}"
            op = paths[path][method]
            assert op["x-data-set"] == ds
        assert paths[f"{base}/push"]["post"]["x-scope"] == f"sharing:{ds}:write"
        assert paths[f"{base}/subscriptions"]["post"]["x-scope"] == f"sharing:{ds}:subscribe"
        assert paths[base]["get"]["x-scope"] == f"sharing:{ds}:read"
        query_params = {p.get("name") or p["$ref"].rsplit("/", 1)[-1] for p in paths[base]["get"]["parameters"]}
        assert {"UpdatedSince", "Page", "Size"} <= query_params, ds


# --------------------------------------------------------------------------- tooling


@pytest.mark.parametrize("name", ROLE_DOCS)
def test_schemathesis_loads_document_with_relative_refs(name: str) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    schema = schemathesis.openapi.from_path(str(OPENAPI_DIR / name))
    loaded = {(op.method.lower(), op.path) for op in (r.ok() for r in schema.get_all_operations())}
    expected = {(method, path) for path, method, _, _ in operations(doc(name))}
    assert loaded == expected

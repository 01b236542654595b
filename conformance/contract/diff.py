"""``tzsb-conform diff OLD NEW``: what changed between two contract trees, whether it breaks existing implementations,
which clauses and suite tests it touches, and which finished runs no longer cover the new contracts.

Plain structural comparison of the parsed documents (rules and the reasons for not using a diff library:
``docs/contract-diff.md``). Each change is classified by who it breaks: a change that makes a message stricter breaks
its **producers** (a message they send today may no longer validate), one that takes a guarantee away breaks its
**consumers**; the sides become **callers** or **providers** by where the schema is used (a request: callers produce
it; a response: providers produce it; a callback reverses both).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from conformance.contract.openapi import ROLES
from conformance.contract.tree import ContractTree, TreeError, TreeOperation, escape

EXIT_NONE, EXIT_CHANGES, EXIT_USAGE, EXIT_BREAKING = 0, 1, 2, 3
PRODUCERS, CONSUMERS = "producers", "consumers"
CALLERS, PROVIDERS = "callers", "providers"
_COMBINATORS = ("allOf", "anyOf", "oneOf")
_LOWER = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
_UPPER = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
_ANNOTATIONS = ("title", "description", "examples", "example", "$comment", "default", "deprecated", "$schema", "$id")
#: Keywords diff_schema compares one by one; any other keyword or extension that changes is reported as such.
_HANDLED = {
    "$ref", "type", "enum", "const", "pattern", "format", *_LOWER, *_UPPER, "required", "properties",
    "additionalProperties", "items", "not", "if", "then", "else", "contains", "propertyNames", *_COMBINATORS,
    "prefixItems", "$defs",
}  # fmt: skip
#: Keys of an operation object diff_operation compares one by one (or that only describe it).
_OP_HANDLED = {
    "operationId", "parameters", "requestBody", "responses", "security", "x-scope", "x-interface", "x-clause",
    "x-data-set", "callbacks", "summary", "description", "tags", "externalDocs", "x-source",
}  # fmt: skip
#: Top-level keys of an OpenAPI document compared as a whole (paths and component schemas are compared in detail).
_DOC_KEYS = ("x-role", "security", "x-data-sets")
#: Extensions that only trace a schema to its sources (a change breaks nobody).
_TRACE = {"x-source", "x-clause"}
#: Clause fields whose change changes the requirement (the others are wording, notes and cross-references).
NORMATIVE_CLAUSE_FIELDS = ("text", "level", "roles", "verification", "optional", "feature", "interfaces")
_CODELIST_META = ("name", "title", "source", "date", "notes")
_DECIDING = re.compile(r"(test_[A-Za-z0-9_]+)::(test_[A-Za-z0-9_]+)")


@dataclass
class Change:
    """One change: ``area`` operation | schema | codelist | clause | file; ``subject`` what changed (a document and
    operation, a schema location, a code-list entry, a clause id); ``code`` the kind of change; ``sides`` who it
    breaks (producers / consumers, made concrete as callers / providers where the use is known)."""

    area: str
    file: str
    subject: str
    code: str
    zh: str
    en: str
    sides: list[str] = field(default_factory=list)
    breaking: bool = False
    clauses: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    # internal: where a schema change sits (file, pointer), to find the operations that use it
    at: tuple[str, str] | None = field(default=None, repr=False)
    operations: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("at")
        return d


def _c(area: str, file: str, subject: str, code: str, zh: str, en: str, sides: list[str] | None = None, **kw: Any):
    sides = sorted(set(sides or []))
    return Change(area, file, subject, code, zh, en, sides, bool(sides), **kw)


# ---------------------------------------------------------------------- schemas


def _types(node: dict[str, Any]) -> set[str] | None:
    t = node.get("type")
    if t is None:
        return None
    return set(t) if isinstance(t, list) else {t}


def diff_schema(old: Any, new: Any, file: str, ptr: str, out: list[Change]) -> None:
    """Compare two schema nodes at one location (references compared as written, never followed: the target's own
    changes are reported where it is written)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        if old != new:
            out.append(
                _c(
                    "schema",
                    file,
                    ptr or "/",
                    "schema-changed",
                    "模式改变",
                    "schema changed",
                    [PRODUCERS, CONSUMERS],
                    at=(file, ptr),
                )
            )
        return

    def add(code: str, zh: str, en: str, sides: list[str], where: str = ptr) -> None:
        out.append(_c("schema", file, where or "/", code, zh, en, sides, at=(file, where)))

    if old.get("$ref") != new.get("$ref"):
        add(
            "ref-changed",
            f"引用由 {old.get('$ref')} 改为 {new.get('$ref')}",
            f"reference {old.get('$ref')} → {new.get('$ref')}",
            [PRODUCERS, CONSUMERS],
        )
    ot, nt = _types(old), _types(new)
    if ot != nt:
        if ot is None or (nt is not None and nt < ot):
            add(
                "type-narrowed",
                f"类型收窄 {sorted(ot or [])} → {sorted(nt or [])}",
                f"type narrowed {sorted(ot or [])} → {sorted(nt or [])}",
                [PRODUCERS],
            )
        elif nt is None or nt > ot:
            add(
                "type-widened",
                f"类型放宽 {sorted(ot)} → {sorted(nt or [])}",
                f"type widened {sorted(ot)} → {sorted(nt or [])}",
                [CONSUMERS],
            )
        else:
            add(
                "type-changed",
                f"类型改变 {sorted(ot)} → {sorted(nt)}",
                f"type changed {sorted(ot)} → {sorted(nt)}",
                [PRODUCERS, CONSUMERS],
            )
    if "enum" in old or "enum" in new:
        oe, ne = old.get("enum"), new.get("enum")
        if oe is None:
            add("enum-added", f"新增枚举 {ne}", f"enum added {ne}", [PRODUCERS])
        elif ne is None:
            add("enum-removed", "取消枚举限制", "enum restriction removed", [])
        else:
            gone = [v for v in oe if v not in ne]
            came = [v for v in ne if v not in oe]
            if gone:
                add("enum-narrowed", f"枚举删去 {gone}", f"enum narrowed: {gone} removed", [PRODUCERS])
            if came:
                add("enum-widened", f"枚举新增 {came}", f"enum widened: {came} added", [])
    for key, zh in (("pattern", "模式"), ("format", "格式"), ("const", "常量")):
        if old.get(key) != new.get(key):
            if key in new:
                add(
                    f"{key}-changed",
                    f"{zh}改为 {new[key]!r}（原 {old.get(key)!r}）",
                    f"{key} {old.get(key)!r} → {new[key]!r}",
                    [PRODUCERS],
                )
            else:
                add(f"{key}-removed", f"取消{zh} {old[key]!r}", f"{key} {old[key]!r} removed", [])
    for key in (*_LOWER, *_UPPER):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        stricter = b is not None and (a is None or (b > a if key in _LOWER else b < a))
        add(f"{key}-changed", f"{key} {a} → {b}", f"{key} {a} → {b}", [PRODUCERS] if stricter else [])
    o_req, n_req = set(old.get("required") or []), set(new.get("required") or [])
    o_props, n_props = old.get("properties") or {}, new.get("properties") or {}
    closed = new.get("additionalProperties") is False or old.get("additionalProperties") is False
    for name in n_props:
        where = f"{ptr}/properties/{escape(name)}"
        if name not in o_props:
            if name in n_req:
                add(
                    "property-added-required",
                    f"新增必填字段 {name}",
                    f"required property {name} added",
                    [PRODUCERS],
                    where,
                )
            else:
                add("property-added-optional", f"新增可选字段 {name}", f"optional property {name} added", [], where)
    for name in o_props:
        where = f"{ptr}/properties/{escape(name)}"
        if name not in n_props:
            sides = [CONSUMERS, *([PRODUCERS] if closed else [])]
            add("property-removed", f"删除字段 {name}", f"property {name} removed", sides, where)
        else:
            diff_schema(o_props[name], n_props[name], file, where, out)
    for name in sorted(n_req - o_req):
        if name in o_props:
            add(
                "required-added",
                f"字段 {name} 改为必填",
                f"property {name} now required",
                [PRODUCERS],
                f"{ptr}/properties/{escape(name)}",
            )
        elif name not in n_props:
            add("required-added", f"要求 {name} 必填", f"{name} now required", [PRODUCERS])
    for name in sorted(o_req - n_req):
        if name in n_props:
            add(
                "required-removed",
                f"字段 {name} 不再必填",
                f"property {name} no longer required",
                [CONSUMERS],
                f"{ptr}/properties/{escape(name)}",
            )
    oa, na = old.get("additionalProperties"), new.get("additionalProperties")
    if isinstance(oa, dict) and isinstance(na, dict):
        diff_schema(oa, na, file, f"{ptr}/additionalProperties", out)
    elif oa != na:
        if na is False or isinstance(na, dict):
            add("additional-closed", "不再接受未声明字段", "undeclared properties no longer allowed", [PRODUCERS])
        else:
            add("additional-opened", "允许未声明字段", "undeclared properties now allowed", [])
    for key in ("items", "not", "if", "then", "else", "contains", "propertyNames"):
        if key in old or key in new:
            if isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
                diff_schema(old[key], new[key], file, f"{ptr}/{key}", out)
            elif old.get(key) != new.get(key):
                add(f"{key}-changed", f"{key} 改变", f"{key} changed", [PRODUCERS, CONSUMERS])
    for key in (*_COMBINATORS, "prefixItems"):
        a, b = old.get(key) or [], new.get(key) or []
        if len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                diff_schema(x, y, file, f"{ptr}/{key}/{i}", out)
        else:
            add(
                f"{key}-changed",
                f"{key} 分支数 {len(a)} → {len(b)}",
                f"{key} branches {len(a)} → {len(b)}",
                [PRODUCERS, CONSUMERS],
            )
    for key in sorted({*old, *new} - _HANDLED - set(_ANNOTATIONS)):
        if old.get(key) != new.get(key):
            sides = [] if key in _TRACE else [PRODUCERS, CONSUMERS]
            add(f"{key}-changed", f"{key} 改变", f"{key} changed", sides)
    od, nd = old.get("$defs") or {}, new.get("$defs") or {}
    for name in nd:
        if name not in od:
            add("def-added", f"新增定义 {name}", f"definition {name} added", [], f"{ptr}/$defs/{escape(name)}")
        else:
            diff_schema(od[name], nd[name], file, f"{ptr}/$defs/{escape(name)}", out)
    for name in od:
        if name not in nd:
            add(
                "def-removed",
                f"删除定义 {name}",
                f"definition {name} removed",
                [CONSUMERS],
                f"{ptr}/$defs/{escape(name)}",
            )


# ---------------------------------------------------------------------- operations


def _op_key(op: TreeOperation) -> str:
    name = op.doc.rsplit("/", 1)[-1]
    parent = f" ← {op.callback_of.get('operationId')}" if op.callback_of is not None else ""
    return f"{name} {op.operation_id}{parent}"


def _scopes(tree: ContractTree, op: TreeOperation) -> list[str]:
    sec = op.raw.get("security")
    if sec is None:
        sec = tree.load(op.doc).get("security") or []
    scopes = {f"{name}:{s}" for req in sec or [] for name, ss in (req or {}).items() for s in ss or []}
    if not sec:
        scopes.add("(none)")
    if op.raw.get("x-scope"):
        scopes.add(f"x-scope:{op.raw['x-scope']}")
    return sorted(scopes)


def _params(tree: ContractTree, op: TreeOperation) -> dict[tuple[str, str], tuple[dict[str, Any], str]]:
    out = {}
    for p in [*op.shared_params, *(op.raw.get("parameters") or [])]:
        resolved, at = tree.deref(p, op.doc)
        if isinstance(resolved, dict) and "name" in resolved:
            out[(resolved["name"], resolved.get("in", ""))] = (resolved, at)
    return out


def _content(tree: ContractTree, holder: Any, doc: str) -> tuple[dict[str, Any], str, bool]:
    resolved, at = tree.deref(holder, doc)
    resolved = resolved if isinstance(resolved, dict) else {}
    return (
        {m: (s or {}).get("schema") for m, s in (resolved.get("content") or {}).items()},
        at,
        bool(resolved.get("required")),
    )


def _directions(op: TreeOperation) -> tuple[str, str]:
    """Who produces (request, response) of an operation: callers send requests to providers; a callback is the
    reverse (the role under the document makes the call)."""
    return (PROVIDERS, CALLERS) if op.callback_of is not None else (CALLERS, PROVIDERS)


def _concrete(sides: list[str], producer: str) -> list[str]:
    consumer = PROVIDERS if producer == CALLERS else CALLERS
    return sorted({producer if s == PRODUCERS else consumer if s == CONSUMERS else s for s in sides})


def diff_operation(old_t: ContractTree, old: TreeOperation, new_t: ContractTree, new: TreeOperation) -> list[Change]:
    out: list[Change] = []
    key, file = _op_key(new), new.doc
    req_by, resp_by = _directions(new)

    def add(code: str, zh: str, en: str, sides: list[str]) -> None:
        out.append(_c("operation", file, key, code, zh, en, sides, operations=[key]))

    def schemas(a: Any, b: Any, where: str, producer: str) -> None:
        found: list[Change] = []
        diff_schema(a, b, file, where, found)
        for ch in found:
            add(ch.code, f"{where}：{ch.zh}", f"{where}: {ch.en}", _concrete(ch.sides, producer))

    if (old.method, old.path) != (new.method, new.path):
        add(
            "path-changed",
            f"路径由 {old.method.upper()} {old.path} 改为 {new.method.upper()} {new.path}",
            f"{old.method.upper()} {old.path} → {new.method.upper()} {new.path}",
            [CALLERS, PROVIDERS],
        )
    op_, np_ = _params(old_t, old), _params(new_t, new)
    for k, (p, _) in np_.items():
        label = f"{k[1]} {k[0]}"
        if k not in op_:
            if p.get("required"):
                add("parameter-added-required", f"新增必填参数 {label}", f"required parameter {label} added", [CALLERS])
            else:
                add("parameter-added-optional", f"新增可选参数 {label}", f"optional parameter {label} added", [])
            continue
        q = op_[k][0]
        if bool(p.get("required")) and not q.get("required"):
            add("parameter-required", f"参数 {label} 改为必填", f"parameter {label} now required", [CALLERS])
        elif q.get("required") and not p.get("required"):
            add("parameter-optional", f"参数 {label} 不再必填", f"parameter {label} no longer required", [])
        schemas(q.get("schema"), p.get("schema"), f"parameter {label}", req_by)
    for k in op_:
        if k not in np_:
            add("parameter-removed", f"删除参数 {k[1]} {k[0]}", f"parameter {k[1]} {k[0]} removed", [CALLERS])
    ob = _content(old_t, old.raw["requestBody"], old.doc) if "requestBody" in old.raw else None
    nb = _content(new_t, new.raw["requestBody"], new.doc) if "requestBody" in new.raw else None
    if ob is None and nb is not None:
        add("request-body-added", "新增请求体", "request body added", [CALLERS] if nb[2] else [])
    elif ob is not None and nb is None:
        add("request-body-removed", "删除请求体", "request body removed", [CALLERS])
    elif ob is not None and nb is not None:
        if nb[2] and not ob[2]:
            add("request-body-required", "请求体改为必需", "request body now required", [CALLERS])
        for media in nb[0]:
            if media not in ob[0]:
                add(
                    "request-media-added", f"请求新增媒体类型 {media}", f"request media type {media} added", [PROVIDERS]
                )
            else:
                schemas(ob[0][media], nb[0][media], f"request {media}", req_by)
        for media in ob[0]:
            if media not in nb[0]:
                add(
                    "request-media-removed",
                    f"请求删除媒体类型 {media}",
                    f"request media type {media} removed",
                    [CALLERS],
                )
    o_resp, n_resp = old.raw.get("responses") or {}, new.raw.get("responses") or {}
    for status in n_resp:
        if status not in o_resp:
            add("status-added", f"新增响应状态 {status}", f"response status {status} added", [])
            continue
        oc, _, _ = _content(old_t, o_resp[status], old.doc)
        nc, _, _ = _content(new_t, n_resp[status], new.doc)
        for media in nc:
            if media not in oc:
                add(
                    "response-media-added",
                    f"{status} 新增媒体类型 {media}",
                    f"{status}: media type {media} added",
                    [CALLERS],
                )
            else:
                schemas(oc[media], nc[media], f"response {status} {media}", resp_by)
        for media in oc:
            if media not in nc:
                add(
                    "response-media-removed",
                    f"{status} 删除媒体类型 {media}",
                    f"{status}: media type {media} removed",
                    [PROVIDERS],
                )
    for status in o_resp:
        if status not in n_resp:
            add("status-removed", f"删除响应状态 {status}", f"response status {status} removed", [PROVIDERS])
    os_, ns_ = _scopes(old_t, old), _scopes(new_t, new)
    if os_ != ns_:
        add("security-changed", f"安全要求 {os_} → {ns_}", f"security {os_} → {ns_}", [CALLERS, PROVIDERS])
    for k in sorted({*old.raw, *new.raw} - _OP_HANDLED):
        if _strip(old.raw.get(k)) != _strip(new.raw.get(k)):
            add(f"{k}-changed", f"{k} 改变", f"{k} changed", [CALLERS, PROVIDERS])
    for ext in ("x-interface", "x-clause", "x-data-set"):
        if old.raw.get(ext) != new.raw.get(ext):
            add(
                f"{ext[2:]}-changed",
                f"{ext} {old.raw.get(ext)} → {new.raw.get(ext)}",
                f"{ext} {old.raw.get(ext)} → {new.raw.get(ext)}",
                [],
            )
    return out


# ---------------------------------------------------------------------- use of schemas, clauses, tests


def _reach(tree: ContractTree, node: Any, doc: str, seen: set[tuple[str, str]], depth: int = 0) -> None:
    """Every ``(document, pointer)`` a node reaches through ``$ref`` (transitively)."""
    if depth > 60:
        return
    if isinstance(node, list):
        for n in node:
            _reach(tree, n, doc, seen, depth + 1)
        return
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if isinstance(ref, str):
        try:
            tdoc, tptr, target = tree.resolve(ref, doc)
        except (KeyError, IndexError, ValueError):
            target = None
        if target is not None and (tdoc, tptr) not in seen:
            seen.add((tdoc, tptr))
            _reach(tree, target, tdoc, seen, depth + 1)
    for value in node.values():
        if isinstance(value, dict | list):
            _reach(tree, value, doc, seen, depth + 1)


@dataclass
class _Use:
    key: str
    role: str
    op: TreeOperation
    request: set[tuple[str, str]]
    response: set[tuple[str, str]]


def _uses(tree: ContractTree) -> list[_Use]:
    out = []
    for role, docs in tree.roles().items():
        for doc in docs:
            for op in tree.operations(doc):
                req: set[tuple[str, str]] = set()
                resp: set[tuple[str, str]] = set()
                _reach(tree, {k: op.raw.get(k) for k in ("requestBody", "parameters")}, op.doc, req)
                _reach(tree, op.shared_params, op.doc, req)
                _reach(tree, op.raw.get("responses"), op.doc, resp)
                ds = op.raw.get("x-data-set") or (op.callback_of or {}).get("x-data-set")
                spec = tree.data_sets(op.doc).get(ds) if ds else None
                if isinstance(spec, dict) and isinstance(spec.get("schema"), str):
                    try:
                        tdoc, tptr, _ = tree.resolve(spec["schema"], op.doc)
                        (req if op.method != "get" else resp).add((tdoc, tptr))
                    except KeyError:
                        pass
                out.append(_Use(_op_key(op), role, op, req, resp))
    return out


def _under(at: tuple[str, str], reached: set[tuple[str, str]]) -> bool:
    file, ptr = at
    return any(f == file and (ptr == p or ptr.startswith(p + "/") or p == "") for f, p in reached)


class _Catalogue:
    def __init__(self, *trees: ContractTree) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        for tree in trees:
            for name in tree.names("clauses", ".yaml"):
                data = tree.load(name)
                if isinstance(data, dict) and isinstance(data.get("clauses"), list):
                    for c in data["clauses"]:
                        self.by_id.setdefault(c["id"], {**c, "_file": name})

    def for_operation(self, tree: ContractTree, op: TreeOperation) -> set[str]:
        ids = {ref for ref in op.clause_refs if ref in self.by_id}
        iface = op.interface
        if iface:
            ids |= {cid for cid, c in self.by_id.items() if iface in (c.get("interfaces") or [])}
        ds = op.raw.get("x-data-set") or (op.callback_of or {}).get("x-data-set")
        spec = tree.data_sets(op.doc).get(ds) if ds else None
        if isinstance(spec, dict):
            refs = [spec.get("x-clause")] + [r.get("x-clause") for r in (spec.get("x-references") or {}).values()]
            for r in refs:
                ids |= {x for x in (r if isinstance(r, list) else [r]) if x in self.by_id}
        return ids

    def mentioning(self, needle: str) -> set[str]:
        return {
            cid
            for cid, c in self.by_id.items()
            if any(needle in str(c.get(k) or "") for k in ("text", "notes", "reason", "title_en"))
        }


#: Clause id → the suite tests that decide it when a role is under test (``conformance.selfcheck.coverage.decided_by``,
#: handed in by the command line: the suites sit above this layer).
DecidedBy = Callable[[str], Mapping[str, Iterable[str]]]


def deciding_tests(
    clause_ids: set[str], catalogue: _Catalogue, decided_by: DecidedBy | None = None
) -> dict[str, list[str]]:
    """Clause id → the suite tests that decide it: the tests the catalogue's notes name (判定测试), and with
    ``decided_by`` the clause marks of the suites as ``tzsb-conform clauses --coverage`` collects them (per role of
    the clause; nothing is sent). Parametrised ids are shown by their function."""
    out: dict[str, set[str]] = {cid: set() for cid in clause_ids}
    for cid in clause_ids:
        c = catalogue.by_id.get(cid) or {}
        for text in (c.get("notes"), c.get("reason")):
            out[cid] |= {f"{m}::{t}" for m, t in _DECIDING.findall(str(text or ""))}
    if decided_by is not None and clause_ids:
        roles = {r for cid in clause_ids for r in (catalogue.by_id.get(cid) or {}).get("roles") or []}
        for role in sorted(roles & set(ROLES)) if roles else ROLES:
            by = decided_by(role)
            for cid in clause_ids:
                for tid in by.get(cid, ()):
                    out[cid].add(tid.removeprefix("conformance.suites.").split("[", 1)[0])
    return {cid: sorted(ts) for cid, ts in out.items()}


# ---------------------------------------------------------------------- code lists, clauses


def _item_key(items: list[Any]) -> str | None:
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for k in items[0]:
        values = [i.get(k) for i in items]
        if all(isinstance(v, str | int) for v in values) and len(set(values)) == len(values):
            return k
    return None


def diff_codelist(name: str, old: Any, new: Any) -> list[Change]:
    out: list[Change] = []
    stem = name.rsplit("/", 1)[-1].removesuffix(".json")

    def add(code: str, subject: str, zh: str, en: str, sides: list[str]) -> None:
        out.append(_c("codelist", name, subject, code, zh, en, sides))

    if old is None or new is None:
        if old is None:
            add("codelist-added", stem, "新增代码表", "code list added", [])
        else:
            add("codelist-removed", stem, "删除代码表", "code list removed", [CONSUMERS])
        return out
    if not isinstance(old, dict) or not isinstance(new, dict):
        if old != new:
            add("codelist-changed", stem, "代码表改变", "code list changed", [PRODUCERS, CONSUMERS])
        return out
    oi, ni = old.get("items") or [], new.get("items") or []
    key = _item_key(ni) or _item_key(oi)
    if key:
        om, nm = {i[key]: i for i in oi}, {i[key]: i for i in ni}
        for k, v in nm.items():
            if k not in om:
                add("entry-added", f"{stem} {key}={k}", f"新增条目 {k}", f"entry {k} added", [])
            elif om[k] != v:
                fields = sorted(f for f in {*v, *om[k]} if v.get(f) != om[k].get(f))
                add(
                    "entry-changed",
                    f"{stem} {key}={k}",
                    f"条目 {k} 改变：{fields}",
                    f"entry {k} changed: {fields}",
                    [PRODUCERS, CONSUMERS],
                )
        for k in om:
            if k not in nm:
                add("entry-removed", f"{stem} {key}={k}", f"删除条目 {k}", f"entry {k} removed", [PRODUCERS])
    elif oi != ni:
        add("items-changed", stem, "条目改变", "items changed", [PRODUCERS, CONSUMERS])
    for k in sorted({*old, *new} - {"items"}):
        if old.get(k) != new.get(k):
            sides = [] if k in _CODELIST_META else [PRODUCERS, CONSUMERS]
            add("table-changed", f"{stem} {k}", f"{k} 改变", f"{k} changed", sides)
    return out


def diff_clauses(old: _Catalogue, new: _Catalogue) -> list[Change]:
    out: list[Change] = []
    for cid, c in new.by_id.items():
        if cid not in old.by_id:
            binding = c.get("verification") == "automated" and c.get("level") in ("shall", "should")
            out.append(
                _c(
                    "clause",
                    c["_file"],
                    cid,
                    "clause-added",
                    f"新增条款（{c.get('level')}）",
                    f"clause added ({c.get('level')})",
                    [PROVIDERS] if binding else [],
                    clauses=[cid],
                )
            )
            continue
        o = old.by_id[cid]
        normative = [k for k in NORMATIVE_CLAUSE_FIELDS if o.get(k) != c.get(k)]
        other = [k for k in {*o, *c} - {*NORMATIVE_CLAUSE_FIELDS, "_file"} if o.get(k) != c.get(k)]
        if normative:
            out.append(
                _c(
                    "clause",
                    c["_file"],
                    cid,
                    "clause-requirement-changed",
                    f"要求改变：{normative}",
                    f"requirement changed: {normative}",
                    [PROVIDERS, CALLERS],
                    clauses=[cid],
                )
            )
        if other:
            out.append(
                _c(
                    "clause",
                    c["_file"],
                    cid,
                    "clause-wording-changed",
                    f"说明改变：{sorted(other)}",
                    f"wording changed: {sorted(other)}",
                    [],
                    clauses=[cid],
                )
            )
    for cid, o in old.by_id.items():
        if cid not in new.by_id:
            out.append(_c("clause", o["_file"], cid, "clause-removed", "删除条款", "clause removed", [], clauses=[cid]))
    return out


# ---------------------------------------------------------------------- whole trees


def _strip(node: Any) -> Any:
    """A document without its annotations (titles, descriptions, examples, comments)."""
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in _ANNOTATIONS}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _schema_roots(tree: ContractTree) -> dict[str, dict[str, Any]]:
    """``{file: {pointer: schema}}``: every JSON Schema file (its root) and every OpenAPI ``components/schemas``."""
    out: dict[str, dict[str, Any]] = {}
    for name in tree.names("json", ".schema.json"):
        out[name] = {"": tree.load(name)}
    for name in tree.names("openapi", ".yaml"):
        comp = ((tree.load(name) or {}).get("components") or {}).get("schemas") or {}
        if comp:
            out[name] = {f"/components/schemas/{escape(k)}": v for k, v in comp.items()}
    return out


def _set_clauses(spec: Any, cat: _Catalogue) -> set[str]:
    """The clause ids a data set (``x-data-sets.<set>``) names: its own ``x-clause`` and its references'."""
    if not isinstance(spec, dict):
        return set()
    refs = [spec.get("x-clause")]
    refs += [r.get("x-clause") for r in (spec.get("x-references") or {}).values() if isinstance(r, dict)]
    return {x for r in refs for x in (r if isinstance(r, list) else [r]) if x in cat.by_id}


def _diff_document(name: str, o: dict[str, Any], n: dict[str, Any], cat: _Catalogue) -> list[Change]:
    out: list[Change] = []
    parts = [(k, o.get(k), n.get(k)) for k in _DOC_KEYS]
    schemes = [(d.get("components") or {}).get("securitySchemes") for d in (o, n)]
    parts.append(("components/securitySchemes", *schemes))
    for key, a, b in parts:
        if not (isinstance(a, dict) and isinstance(b, dict) and key == "x-data-sets"):
            if _strip(a) != _strip(b):
                code = f"{key.rsplit('/', 1)[-1]}-changed"
                out.append(_c("document", name, key, code, f"{key} 改变", f"{key} changed", [CALLERS, PROVIDERS]))
            continue
        for sub in sorted({*a, *b}):
            if _strip(a.get(sub)) == _strip(b.get(sub)):
                continue
            what = "added" if sub not in a else "removed" if sub not in b else "changed"
            sides = [] if what == "added" else [CALLERS, PROVIDERS]
            fields: list[str] = []
            if isinstance(a.get(sub), dict) and isinstance(b.get(sub), dict):
                fields = sorted(f for f in {*a[sub], *b[sub]} if _strip(a[sub].get(f)) != _strip(b[sub].get(f)))
                if not set(fields) - _TRACE - {"title"}:
                    sides = []
            zh = {"added": "新增", "removed": "删除", "changed": "改变"}[what] + (f"：{fields}" if fields else "")
            en = what + (f": {fields}" if fields else "")
            ids = _set_clauses(a.get(sub), cat) | _set_clauses(b.get(sub), cat)
            out.append(_c("document", name, f"{key}/{sub}", f"data-set-{what}", zh, en, sides, clauses=sorted(ids)))
    return out


def compare(old: ContractTree, new: ContractTree, *, decided_by: DecidedBy | None = None) -> dict[str, Any]:
    """Every change from ``old`` to ``new``, classified, with the clauses and suite tests it touches."""
    changes: list[Change] = []
    old_cat, new_cat = _Catalogue(old), _Catalogue(new)
    cat = _Catalogue(new, old)
    old_ops = {_op_key(op): op for d in old.openapi_documents() for op in old.operations(d)}
    new_ops = {_op_key(op): op for d in new.openapi_documents() for op in new.operations(d)}
    op_clauses: dict[str, set[str]] = {}
    for k, op in new_ops.items():
        op_clauses[k] = cat.for_operation(new, op)
    for k, op in old_ops.items():
        op_clauses.setdefault(k, set()).update(cat.for_operation(old, op))
    for k, op in new_ops.items():
        if k not in old_ops:
            sides = [PROVIDERS] if op.callback_of is None else [CALLERS]
            changes.append(
                _c(
                    "operation",
                    op.doc,
                    k,
                    "operation-added",
                    f"新增操作 {op.method.upper()} {op.path}",
                    f"operation added: {op.method.upper()} {op.path}",
                    sides,
                    operations=[k],
                )
            )
        else:
            changes += diff_operation(old, old_ops[k], new, op)
    for k, op in old_ops.items():
        if k not in new_ops:
            sides = [CALLERS] if op.callback_of is None else [PROVIDERS]
            changes.append(
                _c(
                    "operation",
                    op.doc,
                    k,
                    "operation-removed",
                    f"删除操作 {op.method.upper()} {op.path}",
                    f"operation removed: {op.method.upper()} {op.path}",
                    sides,
                    operations=[k],
                )
            )
    # document-level rules: the role, default security, security schemes, the data sets
    for name in sorted(set(old.openapi_documents()) & set(new.openapi_documents()) | {"openapi/common.yaml"}):
        if name in old.files and name in new.files:
            changes += _diff_document(name, old.load(name) or {}, new.load(name) or {}, cat)
    # schemas: each location once, attributed to the operations that use it
    o_roots, n_roots = _schema_roots(old), _schema_roots(new)
    schema_changes: list[Change] = []
    for file in sorted({*o_roots, *n_roots}):
        o, n = o_roots.get(file, {}), n_roots.get(file, {})
        for ptr in sorted({*o, *n}):
            if ptr not in o:
                schema_changes.append(
                    _c("schema", file, ptr or file, "schema-added", "新增模式", "schema added", [], at=(file, ptr))
                )
            elif ptr not in n:
                schema_changes.append(
                    _c(
                        "schema",
                        file,
                        ptr or file,
                        "schema-removed",
                        "删除模式",
                        "schema removed",
                        [CONSUMERS],
                        at=(file, ptr),
                    )
                )
            else:
                diff_schema(o[ptr], n[ptr], file, ptr, schema_changes)
    uses = [*_uses(new), *_uses(old)]
    for ch in schema_changes:
        producers: set[str] = set()
        for u in uses:
            in_req, in_resp = _under(ch.at, u.request), _under(ch.at, u.response)
            if not (in_req or in_resp):
                continue
            ch.operations = sorted({*ch.operations, u.key})
            req_by, resp_by = _directions(u.op)
            producers |= {req_by} if in_req else set()
            producers |= {resp_by} if in_resp else set()
        if producers and ch.sides:
            ch.sides = sorted({s for p in producers for s in _concrete(ch.sides, p)})
        ch.breaking = bool(ch.sides)
        stem = ch.file.rsplit("/", 1)[-1]
        ch.clauses = sorted({c for k in ch.operations for c in op_clauses.get(k, ())} | cat.mentioning(stem))
        changes.append(ch)
    for ch in changes:
        if ch.area == "operation":
            ch.clauses = sorted(op_clauses.get(ch.subject, set()))
    # code lists
    for name in sorted({*old.names("codelists", ".json"), *new.names("codelists", ".json")}):
        if old.files.get(name) == new.files.get(name):
            continue
        o = old.load(name) if name in old.files else None
        n = new.load(name) if name in new.files else None
        found = diff_codelist(name, o, n)
        stem = name.rsplit("/", 1)[-1].removesuffix(".json")
        for ch in found:
            ch.clauses = sorted(cat.mentioning(f"codelists/{stem}"))
        changes += found
    changes += diff_clauses(old_cat, new_cat)
    # files whose bytes changed with no change found above: editorial (titles, descriptions, order, comments), or
    # a shared document (common.yaml) whose changes are listed under the operations that use it
    seen = {ch.file for ch in changes}
    for name in sorted({*old.files, *new.files}):
        if old.files.get(name) == new.files.get(name) or name in seen:
            continue
        what = "added" if name not in old.files else "removed" if name not in new.files else "changed"
        zh = {"added": "文件新增", "removed": "文件删除", "changed": "文件改变"}[what]
        en = f"file {what}"
        if what == "changed":
            if _strip(old.load(name)) == _strip(new.load(name)):
                zh, en = zh + "（仅说明性内容）", en + " (annotations only)"
            else:
                zh, en = zh + "（变化列在使用它的操作下）", en + " (listed under the operations that use it)"
        changes.append(_c("file", name, name, f"file-{what}", zh, en, []))
    tests_by = deciding_tests({c for ch in changes for c in ch.clauses}, cat, decided_by)
    for ch in changes:
        ch.tests = sorted({t for c in ch.clauses for t in tests_by.get(c, [])})
    return {
        "schema": "tzsb-contract-diff/1",
        "old": old.label,
        "new": new.label,
        "changes": [ch.to_json() for ch in changes],
        "breaking": sum(ch.breaking for ch in changes),
        "clauses": sorted({c for ch in changes for c in ch.clauses}),
    }


# ---------------------------------------------------------------------- runs that no longer cover the contracts


def files_used_by(tree: ContractTree, role: str) -> set[str]:
    """The contract files a run of ``role`` depends on: its OpenAPI documents and every file they reach by
    ``$ref``, and the catalogue, code lists and XML schemas (read by every role's verdicts and checks)."""
    used: set[str] = set()
    for doc in tree.roles().get(role, []):
        used.add(doc)
        seen: set[tuple[str, str]] = set()
        _reach(tree, tree.load(doc), doc, seen)
        used |= {f for f, _ in seen}
    for folder in ("clauses", "codelists", "xml"):
        used |= {n for n in tree.files if n.startswith(folder + "/")}
    return used


def _run_folders(paths: list[Path]) -> list[Path]:
    out = []
    for p in paths:
        if (p / "report.json").is_file() or (p / "manifest.json").is_file():
            out.append(p)
        elif p.is_dir():
            out += sorted(q.parent for q in p.glob("*/report.json")) or sorted(
                q.parent for q in p.glob("*/manifest.json")
            )
    return list(dict.fromkeys(out))


def check_reports(tree: ContractTree, paths: list[Path]) -> list[dict[str, Any]]:
    """Per finished run folder: does it still cover ``tree``'s contracts (every file its role uses unchanged)?"""
    current = tree.digests()
    out = []
    for folder in _run_folders(paths):
        run: dict[str, Any] = {}
        for name in ("report.json", "manifest.json"):
            try:
                run = json.loads((folder / name).read_text(encoding="utf-8")).get("run") or {}
            except (OSError, ValueError, AttributeError):
                continue
            if run.get("contractDigests"):
                break
        digests = run.get("contractDigests") or {}
        role = ((run.get("target") or {}).get("role")) or ""
        if not digests or not role:
            out.append({"folder": str(folder), "role": role or None, "covers": False, "changed": [], "unknown": True})
            continue
        used = files_used_by(tree, role)
        changed = sorted(f for f in used if digests.get(f) != current.get(f))
        out.append({"folder": str(folder), "role": role, "covers": not changed, "changed": changed, "unknown": False})
    return out


# ---------------------------------------------------------------------- command line

_TEXT = {
    "head": ("契约差异：{old} → {new}", "contract diff: {old} → {new}"),
    "none": ("没有变化", "no changes"),
    "breaking": ("不兼容", "BREAKING"),
    "compatible": ("兼容", "compatible"),
    "sides": ("影响：{sides}", "breaks: {sides}"),
    "clauses": ("条款：{ids}", "clauses: {ids}"),
    "tests": ("判定测试：{ids}", "deciding tests: {ids}"),
    "ops": ("涉及操作：{ids}", "operations: {ids}"),
    "summary": (
        "共 {n} 处变化，其中不兼容 {b} 处；涉及条款 {c} 个",
        "{n} change(s), {b} breaking; {c} clause(s) touched",
    ),
    "runs": ("已完成的运行（{n} 个）：", "finished runs ({n}):"),
    "covers": ("仍覆盖当前契约", "still covers the current contracts"),
    "stale": ("不再覆盖当前契约（须重新测试）：{files}", "no longer covers the current contracts (re-test): {files}"),
    "unknown": ("无法判断：报告中没有契约摘要或角色", "cannot tell: no contract digests or role in the report"),
    "bad_tree": (
        "无法读取契约：{spec}（应为含 schemas/ 的目录、schemas/ 目录本身，或本仓库的 git 版本）",
        "cannot read contracts: {spec} (a folder holding schemas/, schemas/ itself, or a git revision of this repository)",
    ),
    "bad_reports": ("找不到运行目录：{path}", "no run folder: {path}"),
    "callers": ("调用方", "callers"),
    "providers": ("提供方", "providers"),
    "producers": ("发送方", "producers"),
    "consumers": ("接收方", "consumers"),
    "area.operation": ("操作", "operation"),
    "area.schema": ("JSON Schema", "JSON Schema"),
    "area.codelist": ("代码表", "code list"),
    "area.clause": ("条款", "clause"),
    "area.file": ("文件", "file"),
    "area.document": ("OpenAPI 文档", "OpenAPI document"),
}


def _tx(key: str, lang: str, **kw: Any) -> str:
    zh, en = _TEXT[key]
    return (en if lang == "en" else zh).format(**kw)


def _short(items: list[str], n: int = 8) -> str:
    return ", ".join(items[:n]) + (f" (+{len(items) - n})" if len(items) > n else "")


def render_text(result: dict[str, Any], lang: str = "zh") -> str:
    lines = [_tx("head", lang, old=result["old"], new=result["new"])]
    if not result["changes"]:
        lines.append(_tx("none", lang))
    for ch in result["changes"]:
        flag = _tx("breaking" if ch["breaking"] else "compatible", lang)
        text = ch["en"] if lang == "en" else ch["zh"]
        lines.append(f"[{flag}] {_tx('area.' + ch['area'], lang)} {ch['file']} {ch['subject']}: {text} ({ch['code']})")
        if ch["sides"]:
            lines.append("    " + _tx("sides", lang, sides=", ".join(_tx(s, lang) for s in ch["sides"])))
        if ch["operations"] and ch["area"] != "operation":
            lines.append("    " + _tx("ops", lang, ids=_short(ch["operations"])))
        if ch["clauses"]:
            lines.append("    " + _tx("clauses", lang, ids=_short(ch["clauses"], 12)))
        if ch["tests"]:
            lines.append("    " + _tx("tests", lang, ids=_short(ch["tests"])))
    lines.append(_tx("summary", lang, n=len(result["changes"]), b=result["breaking"], c=len(result["clauses"])))
    if result.get("runs") is not None:
        lines.append(_tx("runs", lang, n=len(result["runs"])))
        for r in result["runs"]:
            if r["unknown"]:
                state = _tx("unknown", lang)
            elif r["covers"]:
                state = _tx("covers", lang)
            else:
                state = _tx("stale", lang, files=_short(r["changed"]))
            lines.append(f"  {r['folder']} ({r['role'] or '-'}): {state}")
    return "\n".join(lines) + "\n"


def exit_code(result: dict[str, Any]) -> int:
    """0 nothing changed (and every run given still covers the contracts), 3 a breaking change, else 1."""
    if result["breaking"]:
        return EXIT_BREAKING
    stale = any(not r["covers"] for r in result.get("runs") or [])
    return EXIT_CHANGES if result["changes"] or stale else EXIT_NONE


def run_diff(
    old: str,
    new: str,
    reports: list[Path] | None,
    as_json: bool,
    lang: str = "zh",
    decided_by: DecidedBy | None = None,
) -> int:
    trees = []
    for spec in (old, new):
        try:
            trees.append(ContractTree.open(spec))
        except TreeError:
            print(_tx("bad_tree", lang, spec=spec), file=sys.stderr)
            return EXIT_USAGE
    for p in reports or []:
        if not Path(p).is_dir():
            print(_tx("bad_reports", lang, path=p), file=sys.stderr)
            return EXIT_USAGE
    result = compare(trees[0], trees[1], decided_by=decided_by)
    result["runs"] = check_reports(trees[1], [Path(p) for p in reports]) if reports else None
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(render_text(result, lang), end="")
    return exit_code(result)

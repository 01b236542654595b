"""Functional size of the interface set by COSMIC (ISO/IEC 19761), counted statically from the contracts.

Each operation of an OpenAPI document is one functional process; its data movements — Entries, Exits, Reads and
Writes, 1 CFP each — are counted from the request and response schemas by the rules of ``docs/functional-size.md``
(data groups are the named object schemas the messages carry; envelopes, pages, change lists and identifiers are
attributes or carriers, not data groups). :func:`role_size` is the size of one role (what a report may show);
:func:`measure` the size of every role; ``tzsb-conform size`` prints either.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from conformance.contract.tree import ContractTree, TreeOperation

SCHEMA = "tzsb-functional-size/1"
METHOD = "COSMIC ISO/IEC 19761:2011 (COSMIC 4.0.2)"
#: The one Exit per functional process for all its error and confirmation messages (COSMIC 4.0.2, 3.5.11).
ERROR_EXIT = "error/confirmation messages"
#: The triggering Entry of a process whose request carries no data group (only parameters or nothing).
TRIGGER = "triggering request (parameters)"
#: The Write of a state-changing request that carries no data group: the object its path names.
OBJECT = "object of interest named by the path"
#: A callback's acknowledgement (the receiver's status answer) entering the process that made the call.
ACK = "receiver's acknowledgement"

_COMBINATORS = ("allOf", "anyOf", "oneOf")
_NAMED = re.compile(r"^(|/\$defs/[^/]+|/components/schemas/[^/]+)$")
_READ_METHODS = ("get",)
#: Files of shared identifier types: their named objects (a data provider, an authority) are attributes of the
#: groups that use them, never data groups of their own (docs/functional-size.md rule 2).
ATTRIBUTE_FILES = ("identifiers.schema.json",)


def _is_success(status: str) -> bool:
    return str(status).startswith("2")


def _is_object(node: Any) -> bool:
    if not isinstance(node, dict):
        return False
    kind = node.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    return "properties" in node or "object" in kinds


def _is_open_slot(node: Any) -> bool:
    """A place the schema leaves open for the operation (or a sibling ``allOf``) to fill with a record: an object
    or untyped value with no properties, no reference, no combinator and no ``additionalProperties`` of its own."""
    if not isinstance(node, dict):
        return False
    if any(k in node for k in ("$ref", "properties", "additionalProperties", "enum", "const", *_COMBINATORS)):
        return False
    kind = node.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    return kind is None or "object" in kinds


@dataclass
class Process:
    """The data movements of one functional process (lists of data group names, in the order found)."""

    operation_id: str
    document: str
    method: str
    path: str
    interface: str | None
    callback_of: str | None
    entries: list[str] = field(default_factory=list)
    exits: list[str] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)

    @property
    def cfp(self) -> int:
        return len(self.entries) + len(self.exits) + len(self.reads) + len(self.writes)

    def to_json(self) -> dict[str, Any]:
        return {
            "operationId": self.operation_id,
            "document": self.document,
            "method": self.method,
            "path": self.path,
            "interface": self.interface,
            "callbackOf": self.callback_of,
            "entries": self.entries,
            "exits": self.exits,
            "reads": self.reads,
            "writes": self.writes,
            "cfp": self.cfp,
        }


class _Groups:
    """Data group identification over one tree (memoised per named schema)."""

    def __init__(self, tree: ContractTree) -> None:
        self.tree = tree
        self._carrier: dict[str, bool] = {}

    @staticmethod
    def name(doc: str, pointer: str) -> str:
        base = doc.rsplit("/", 1)[-1]
        return base + (f"#{pointer}" if pointer else "")

    def is_carrier(self, doc: str, pointer: str, node: Any, stack: frozenset[str] = frozenset()) -> bool:
        """A named object whose purpose is to carry records: one of its properties (directly, as array items or in a
        combinator branch) is an open slot or another carrier (the envelope, a page, a change list, a push)."""
        key = f"{doc}#{pointer}"
        if key in self._carrier:
            return self._carrier[key]
        if key in stack:
            return False
        stack = stack | {key}

        def slot(sub: Any, at: str, depth: int = 0) -> bool:
            if not isinstance(sub, dict) or depth > 8:
                return False
            if _is_open_slot(sub):
                return True
            if isinstance(sub.get("$ref"), str):
                try:
                    tdoc, tptr, target = self.tree.resolve(sub["$ref"], at)
                except (KeyError, IndexError, ValueError):
                    return False
                if _NAMED.match(tptr) and _is_object(target):
                    return self.is_carrier(tdoc, tptr, target, stack)
                return slot(target, tdoc, depth + 1)
            if isinstance(sub.get("items"), dict):
                return slot(sub["items"], at, depth + 1)
            return any(slot(b, at, depth + 1) for k in _COMBINATORS for b in sub.get(k) or [])

        def props(n: Any) -> list[Any]:
            out = list(((n or {}).get("properties") or {}).values()) if isinstance(n, dict) else []
            if isinstance(n, dict):
                for k in _COMBINATORS:
                    for branch in n.get(k) or []:
                        if isinstance(branch, dict) and "$ref" not in branch:
                            out += props(branch)
                for k in ("then", "else"):
                    out += props(n.get(k))
            return out

        result = any(slot(p, doc) for p in props(node))
        self._carrier[key] = result
        return result

    def is_group(self, doc: str, pointer: str, node: Any) -> bool:
        """A named object schema (a file's root, a ``$defs`` or ``components/schemas`` entry) that is neither a
        shared identifier type nor a carrier."""
        if not _NAMED.match(pointer) or not _is_object(node) or doc.rsplit("/", 1)[-1] in ATTRIBUTE_FILES:
            return False
        return not self.is_carrier(doc, pointer, node)

    def collect(self, node: Any, doc: str) -> list[str]:
        """The data groups a message schema carries, in the order found, each once."""
        found: list[str] = []
        self._walk(node, doc, found, frozenset(), 0)
        return list(dict.fromkeys(found))

    def _walk(self, node: Any, doc: str, found: list[str], stack: frozenset[str], depth: int) -> None:
        if depth > 40:
            return
        if isinstance(node, list):
            for item in node:
                self._walk(item, doc, found, stack, depth + 1)
            return
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str):
            try:
                tdoc, tptr, target = self.tree.resolve(ref, doc)
            except (KeyError, IndexError, ValueError):
                target = None
            if target is not None:
                key = f"{tdoc}#{tptr}"
                if key not in stack:
                    if self.is_group(tdoc, tptr, target):
                        found.append(self.name(tdoc, tptr))
                    self._walk(target, tdoc, found, stack | {key}, depth + 1)
        for k in (*_COMBINATORS, "prefixItems"):
            for branch in node.get(k) or []:
                self._walk(branch, doc, found, stack, depth + 1)
        for k in ("items", "additionalProperties", "then", "else", "contains"):
            if isinstance(node.get(k), dict):
                self._walk(node[k], doc, found, stack, depth + 1)
        for sub in (node.get("properties") or {}).values():
            self._walk(sub, doc, found, stack, depth + 1)

    def message(self, holder: Any, doc: str, fill: str | None = None) -> tuple[list[str], bool]:
        """``(data groups, has content)`` of a request body or response object (followed if a reference); ``fill``:
        the group of the operation's data set, for a JSON message whose carriers leave the record open."""
        resolved, at = self.tree.deref(holder, doc)
        groups: list[str] = []
        content = (resolved or {}).get("content") or {}
        for media, spec in content.items():
            schema = (spec or {}).get("schema")
            if schema is None:
                continue
            got = self.collect(schema, at)
            if not got and not media.endswith("json"):
                got = [f"{media} content"]  # a file (XML, text, PDF, OFD, a binary): one data group
            elif not got and fill and self.carries(schema, at):
                got = [fill]
            groups += got
        return list(dict.fromkeys(groups)), bool(content)

    def carries(self, node: Any, doc: str, depth: int = 0) -> bool:
        """The message schema reaches a carrier (through references, combinators, properties or items)."""
        if depth > 20:
            return False
        if isinstance(node, list):
            return any(self.carries(n, doc, depth + 1) for n in node)
        if not isinstance(node, dict):
            return False
        if isinstance(node.get("$ref"), str):
            try:
                tdoc, tptr, target = self.tree.resolve(node["$ref"], doc)
            except (KeyError, IndexError, ValueError):
                return False
            if _NAMED.match(tptr) and _is_object(target) and self.is_carrier(tdoc, tptr, target):
                return True
        subs = [*(node.get(k) or [] for k in _COMBINATORS), list((node.get("properties") or {}).values())]
        return any(self.carries(s, doc, depth + 1) for s in subs) or self.carries(node.get("items"), doc, depth + 1)

    def data_set_group(self, op: TreeOperation) -> str | None:
        """The group of the data set the operation (or the operation declaring it as a callback) serves."""
        name = op.raw.get("x-data-set") or (op.callback_of or {}).get("x-data-set")
        spec = self.tree.data_sets(op.doc).get(name) if name else None
        if not isinstance(spec, dict) or not isinstance(spec.get("schema"), str):
            return None
        try:
            tdoc, tptr, target = self.tree.resolve(spec["schema"], op.doc)
        except (KeyError, IndexError, ValueError):
            return None
        return self.name(tdoc, tptr) if self.is_group(tdoc, tptr, target) else None

    def parameters(self, op: TreeOperation) -> list[str]:
        groups: list[str] = []
        for p in [*op.shared_params, *(op.raw.get("parameters") or [])]:
            resolved, at = self.tree.deref(p, op.doc)
            if isinstance(resolved, dict) and "schema" in resolved:
                groups += self.collect(resolved["schema"], at)
        return groups


def count_operation(tree: ContractTree, op: TreeOperation, groups: _Groups | None = None) -> Process:
    """The COSMIC data movements of one operation (rules: docs/functional-size.md)."""
    g = groups or _Groups(tree)
    request: list[str] = []
    fill = g.data_set_group(op)
    if "requestBody" in op.raw:
        request, _ = g.message(op.raw["requestBody"], op.doc, fill)
    request = list(dict.fromkeys([*request, *g.parameters(op)]))
    success: list[str] = []
    error_or_confirmation = False
    for status, resp in (op.raw.get("responses") or {}).items():
        if not _is_success(str(status)):
            error_or_confirmation = True
            continue
        got, _ = g.message(resp, op.doc, fill)
        success += got
        if not got:
            error_or_confirmation = True  # a success with no data group (204, an empty 200): a confirmation
    success = list(dict.fromkeys(success))
    proc = Process(
        operation_id=op.operation_id,
        document=op.doc.rsplit("/", 1)[-1].removesuffix(".yaml"),
        method=op.method,
        path=op.path,
        interface=op.interface,
        callback_of=op.callback_of.get("operationId") if op.callback_of is not None else None,
    )
    if op.callback_of is not None:  # the role makes this call: it sends the request, receives the answer
        proc.exits = request or [TRIGGER]
        proc.entries = [*success, ACK]
        proc.reads = list(request)
        return proc
    proc.entries = request or [TRIGGER]
    proc.exits = [*success, *([ERROR_EXIT] if error_or_confirmation else [])]
    if op.method in _READ_METHODS:
        proc.reads = list(success)
    else:
        # a request that changes state persists the groups it carries; one without any (a DELETE, a cancel)
        # persists the object its path names
        proc.writes = list(request) or [OBJECT]
    return proc


def role_processes(role: str, tree: ContractTree | None = None) -> list[Process]:
    tree = tree or ContractTree.current()
    g = _Groups(tree)
    docs = tree.roles().get(role, [])
    return [count_operation(tree, op, g) for doc in docs for op in tree.operations(doc)]


def role_size(role: str, tree: ContractTree | None = None) -> dict[str, Any]:
    """The functional size of one role: its processes, the sums per interface and per document, and the total."""
    tree = tree or ContractTree.current()
    procs = role_processes(role, tree)
    by_interface: dict[str | None, list[Process]] = {}
    for p in procs:
        by_interface.setdefault(p.interface, []).append(p)
    by_doc: Counter[str] = Counter()
    for p in procs:
        by_doc[p.document] += p.cfp
    return {
        "role": role,
        "documents": [{"document": d, "cfp": n} for d, n in by_doc.items()],
        "cfp": sum(p.cfp for p in procs),
        "interfaces": [
            {
                "interface": name,
                "cfp": sum(p.cfp for p in ps),
                "operations": [p.operation_id for p in ps],
            }
            for name, ps in sorted(by_interface.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
        ],
        "operations": [p.to_json() for p in procs],
    }


def measure(tree: ContractTree | None = None, roles: list[str] | None = None) -> dict[str, Any]:
    """The functional size of the roles (all by default) of a tree, in the shape of functional-size.schema.json."""
    tree = tree or ContractTree.current()
    names = [r for r in tree.roles() if roles is None or r in roles]
    sized = [role_size(r, tree) for r in names]
    return {
        "schema": SCHEMA,
        "method": METHOD,
        "unit": "CFP",
        "contracts": tree.label,
        "total": sum(r["cfp"] for r in sized),
        "roles": sized,
    }


# ---------------------------------------------------------------------- command line

_TEXT = {
    "head": (
        "功能规模（COSMIC，ISO/IEC 19761；单位 CFP）：{contracts}",
        "Functional size (COSMIC, ISO/IEC 19761; unit CFP): {contracts}",
    ),
    "role": ("角色 {role}：{cfp} CFP（{docs}）", "role {role}: {cfp} CFP ({docs})"),
    "cols": (
        ("操作（功能处理）", "接口", "E 输入 X 输出 R 读 W 写"),
        ("operation (functional process)", "interface", "E entries X exits R reads W writes"),
    ),
    "iface": ("  按接口：", "  by interface:"),
    "none": ("（无 x-interface）", "(no x-interface)"),
    "total": ("合计：{total} CFP（{n} 个功能处理）", "total: {total} CFP ({n} functional processes)"),
    "callback": ("回调", "callback"),
    "unknown": ("未知角色 {role}（契约中的角色：{roles}）", "unknown role {role} (roles in the contracts: {roles})"),
}


def _pad(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` terminal columns (a CJK character takes two)."""
    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - shown)


def _tx(key: str, lang: str, **kw: Any) -> str:
    zh, en = _TEXT[key]
    return (en if lang == "en" else zh).format(**kw)


def render_text(result: dict[str, Any], lang: str = "zh") -> str:
    lines = [_tx("head", lang, contracts=result["contracts"]), ""]
    n = 0
    for r in result["roles"]:
        docs = ", ".join(f"{d['document']} {d['cfp']}" for d in r["documents"])
        lines.append(_tx("role", lang, role=r["role"], cfp=r["cfp"], docs=docs))
        op_col, if_col, moves = _TEXT["cols"][1 if lang == "en" else 0]
        lines.append(f"  {_pad(op_col, 44)} {_pad(if_col, 22)} {moves}")
        for op in r["operations"]:
            n += 1
            name = op["operationId"] + (f" ({_tx('callback', lang)} ← {op['callbackOf']})" if op["callbackOf"] else "")
            iface = op["interface"] or "-"
            e, x, rd, w = (len(op[k]) for k in ("entries", "exits", "reads", "writes"))
            lines.append(f"  {name:<44} {iface:<22} E{e} X{x} R{rd} W{w}  {op['cfp']:>3}")
        lines.append(_tx("iface", lang))
        for i in r["interfaces"]:
            lines.append(
                f"    {_pad(i['interface'] or _tx('none', lang), 26)} {i['cfp']:>4} CFP  ({len(i['operations'])})"
            )
        lines.append("")
    lines.append(_tx("total", lang, total=result["total"], n=n))
    return "\n".join(lines) + "\n"


def run_size(role: str | None, as_json: bool, lang: str = "zh") -> int:
    import sys

    tree = ContractTree.current()
    known = list(tree.roles())
    if role is not None and role not in known:
        print(_tx("unknown", lang, role=role, roles=", ".join(known)), file=sys.stderr)
        return 2
    result = measure(tree, [role] if role else None)
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(render_text(result, lang), end="")
    return 0

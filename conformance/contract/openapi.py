"""The operations of the OpenAPI documents, indexed for code that serves or calls them.

Nothing is re-declared: every schema is referenced by its URI inside the document (see
:func:`conformance.contract.registry.openapi_uri`), so request, parameter and response
validation always uses the contract as written.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from conformance.contract import documents as contracts
from conformance.contract.registry import openapi_uri

METHODS = ("get", "put", "post", "delete", "patch")
ROLES = ("licensing", "gov-platform", "inspection", "supervision", "sharing")
#: Counterparts the harness plays (and the reference calls) that answer from a role's contract without being that
#: role under test: the national platform above a provincial sharing platform serves ``sharing.yaml``
#: (docs/two-tier.md).
COUNTERPART_CONTRACTS = {"national": "sharing"}


def contract_role(role: str) -> str:
    """The contract role of a role or a counterpart (``national`` → ``sharing``)."""
    return COUNTERPART_CONTRACTS.get(role, role)


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class Param:
    name: str
    location: str  # path | query | header
    required: bool
    schema_uri: str


@dataclass(frozen=True)
class Operation:
    doc: str
    role: str
    path: str
    method: str
    operation_id: str
    summary: str
    scope: str | None
    interface: str | None
    clause: tuple[str, ...]
    data_set: str | None
    secured: bool
    params: tuple[Param, ...]
    body_uri: str | None  # JSON request body schema
    body_types: tuple[str, ...]
    responses: dict[str, dict[str, str | None]] = field(default_factory=dict)  # status → {media type: schema uri}
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @property
    def pointer(self) -> str:
        return f"/paths/{_escape(self.path)}/{self.method}"


def _deref(node: dict[str, Any], doc: str) -> tuple[dict[str, Any], str]:
    """Follow a Reference Object to ``common.yaml`` (the only other document operations point into)."""
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node, doc
    target, _, pointer = ref.partition("#")
    target_doc = target.removesuffix(".yaml") if target else doc
    data: Any = contracts.openapi(target_doc)
    for part in pointer.strip("/").split("/"):
        data = data[part.replace("~1", "/").replace("~0", "~")]
    return _deref(data, target_doc)


def _operation(
    doc: str,
    role: str,
    path: str,
    method: str,
    op: dict[str, Any],
    base: str,
    shared: tuple[tuple[str, list[Any]], ...],
) -> Operation:
    """One operation object of ``doc`` at the JSON Pointer ``base``; ``shared``: (pointer, list) of the parameters
    it inherits from its path item."""
    spec = contracts.openapi(doc)
    params: list[Param] = []
    for where, plist in (*shared, (f"{base}/parameters", op.get("parameters", []))):
        for i, p in enumerate(plist):
            resolved, in_doc = _deref(p, doc)
            if "$ref" in p:
                schema_uri = openapi_uri(in_doc, p["$ref"].partition("#")[2] + "/schema")
            else:
                schema_uri = openapi_uri(doc, f"{where}/{i}/schema")
            params.append(Param(resolved["name"], resolved["in"], bool(resolved.get("required")), schema_uri))
    body_uri = None
    body_types: tuple[str, ...] = ()
    if "requestBody" in op:
        body, body_doc = _deref(op["requestBody"], doc)
        content = body.get("content", {})
        body_types = tuple(content)
        if "application/json" in content:
            ptr = op["requestBody"]["$ref"].partition("#")[2] if "$ref" in op["requestBody"] else f"{base}/requestBody"
            body_uri = openapi_uri(body_doc, f"{ptr}/content/application~1json/schema")
    responses: dict[str, dict[str, str | None]] = {}
    for status, resp in (op.get("responses") or {}).items():
        resolved, in_doc = _deref(resp, doc)
        ptr = resp["$ref"].partition("#")[2] if "$ref" in resp else f"{base}/responses/{status}"
        responses[str(status)] = {
            media: (openapi_uri(in_doc, f"{ptr}/content/{_escape(media)}/schema") if "schema" in spec_ else None)
            for media, spec_ in (resolved.get("content") or {}).items()
        }
    clause = op.get("x-clause") or []
    return Operation(
        doc=doc,
        role=role,
        path=path,
        method=method,
        operation_id=op["operationId"],
        summary=op.get("summary", ""),
        scope=op.get("x-scope"),
        interface=op.get("x-interface"),
        clause=tuple(clause if isinstance(clause, list) else [clause]),
        data_set=op.get("x-data-set"),
        secured=bool(op.get("security", spec.get("security"))),
        params=tuple(params),
        body_uri=body_uri,
        body_types=body_types,
        responses=responses,
        raw=op,
    )


@functools.cache
def operations(doc: str) -> tuple[Operation, ...]:
    spec = contracts.openapi(doc)
    role = spec.get("x-role", doc)
    out: list[Operation] = []
    for path, item in (spec.get("paths") or {}).items():
        shared = ((f"/paths/{_escape(path)}/parameters", item.get("parameters", [])),)
        for method in METHODS:
            op = item.get(method)
            if op:
                out.append(_operation(doc, role, path, method, op, f"/paths/{_escape(path)}/{method}", shared))
    return tuple(out)


@dataclass(frozen=True)
class Callback:
    """A call the role under an operation makes to a URL it was given (OpenAPI ``callbacks``): ``operation`` is the
    call (its ``path`` the runtime expression that names the URL, its schemas' URIs where the contract writes them),
    ``parent`` the operation whose request gives the URL, ``name`` the callback's key under it."""

    name: str
    parent: Operation
    operation: Operation


@functools.cache
def callbacks(doc: str) -> tuple[Callback, ...]:
    """The callbacks the operations of ``doc`` declare (a shared ``components/callbacks`` entry once per operation
    that refers to it)."""
    out: list[Callback] = []
    for parent in operations(doc):
        for name, node in (parent.raw.get("callbacks") or {}).items():
            resolved, in_doc = _deref(node, doc)
            at = node["$ref"].partition("#")[2] if "$ref" in node else f"{parent.pointer}/callbacks/{_escape(name)}"
            for expression, item in resolved.items():
                if not isinstance(item, dict):
                    continue
                here = f"{at}/{_escape(expression)}"
                shared = ((f"{here}/parameters", item.get("parameters", [])),)
                for method in METHODS:
                    op = item.get(method)
                    if isinstance(op, dict) and "operationId" in op:
                        call = _operation(in_doc, parent.role, expression, method, op, f"{here}/{method}", shared)
                        out.append(Callback(name, parent, call))
    return tuple(out)


def role_callbacks(role: str) -> list[Callback]:
    return [cb for doc in documents_for_role(role) for cb in callbacks(doc)]


def declared_callback(role: str, parent: str) -> Operation:
    """The callback operation that the operation ``parent`` (an ``operationId``) of ``role`` declares."""
    (only,) = [cb.operation for cb in role_callbacks(role) if cb.parent.operation_id == parent]
    return only


def documents_for_role(role: str) -> list[str]:
    """OpenAPI documents a role serves (``licensing`` also serves the optional workflow driver)."""
    return [n for n in contracts.openapi_names() if n != "common" and contracts.openapi(n).get("x-role") == role]


def role_operations(role: str) -> list[Operation]:
    return [op for doc in documents_for_role(role) for op in operations(doc)]


def first_op(
    ops: list[Operation],
    *,
    method: str,
    secured: bool = True,
    with_body: bool | None = None,
    path_params: bool | None = None,
) -> Operation | None:
    """The first operation of ``ops`` of this shape (method, secured or not, with a body or not, with path
    parameters or not), the token endpoint left out."""
    for op in ops:
        if op.method != method or op.secured != secured or op.operation_id == "issueToken":
            continue
        if with_body is not None and (op.body_uri is not None) != with_body:
            continue
        if path_params is not None and ("{" in op.path) != path_params:
            continue
        return op
    return None


def pointer_get(doc: Any, pointer: str) -> Any:
    for part in pointer.strip("/").split("/"):
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part.replace("~1", "/").replace("~0", "~"))
    return doc


def idempotency_key(op: Operation, body: Any) -> str | None:
    """The key that identifies a message of ``op`` (its ``x-idempotent-by`` JSON pointers into the body, their values
    joined by ``|``), or None when the operation declares none or the body is no object."""
    idem = op.raw.get("x-idempotent-by")
    if not idem or not isinstance(body, dict):
        return None
    pointers = [idem] if isinstance(idem, str) else list(idem)
    return "|".join(str(pointer_get(body, p)) for p in pointers)

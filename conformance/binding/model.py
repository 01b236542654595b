"""A binding file read and checked: one vendor's dialect of the canonical contracts (``schemas/json/binding.schema.json``,
``docs/bindings.md``). Reading it validates it against its schema, applies its overlays to the canonical OpenAPI
documents and pairs every canonical operation with the vendor's by ``operationId``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.binding import overlay
from conformance.binding.fields import FieldMaps
from conformance.check.schema import validator
from conformance.client.token import token_path
from conformance.contract import documents as contracts
from conformance.contract.openapi import METHODS, Operation, documents_for_role, role_operations
from conformance.serving.routing import Router


class BindingError(ValueError):
    """A binding that cannot be used, or an exchange it cannot express; the message names what is missing."""


@dataclass(frozen=True)
class VendorParam:
    name: str  # the vendor's name
    location: str  # path | query | header
    canonical: str  # the canonical parameter it carries


@dataclass(frozen=True)
class VendorOp:
    path: str
    method: str
    operation_id: str
    params: tuple[VendorParam, ...]


@dataclass(frozen=True)
class Envelope:
    """Where the canonical envelope's members live in the vendor's answer (JSON Pointers), and its codes."""

    pointers: dict[str, str]  # canonical member (code, message, data, requestId, errors, …) → vendor pointer
    success: str
    codes: dict[str, str]  # canonical code → vendor code
    always_200: bool

    def pointer(self, member: str) -> str:
        return self.pointers.get(member, "/" + member)


@dataclass(frozen=True)
class TokenForm:
    """The client-credentials grant in the vendor's form: request fields (canonical form field → vendor field),
    the body's media type, the answer's fields inside the envelope's data, and RFC 6749 errors → vendor codes."""

    fields: dict[str, str]
    json_body: bool
    answer: dict[str, str]
    errors: dict[str, str]


@dataclass(frozen=True)
class Signature:
    """The request signature in the vendor's form: header names, timestamp form, the string it signs."""

    headers: dict[str, str]  # timestamp | nonce | signature | method | app_key (optional) → vendor header
    timestamp: str  # "iso" (GB/T 7408 with offset, as canonical) | "epoch-ms" | "epoch-s"
    parts: tuple[str, ...]  # of: method, path, query, path_query, timestamp, nonce, body_digest, key


@dataclass
class Binding:
    name: str
    name_en: str
    path: Path
    documents: dict[str, dict[str, Any]]  # canonical document name → the vendor's (overlaid) document
    envelope: Envelope
    maps: FieldMaps
    token: TokenForm | None
    bearer_header: str | None  # the vendor's header for the access token (None: Authorization: Bearer)
    #: a static key per caller in this header instead of a token (``auth.api_key``): the vendor has no token exchange
    api_key_header: str | None
    signature: Signature | None
    client_cert: tuple[str, str] | None  # mutual TLS: the certificate and key the harness presents
    client_ca: str | None  # mutual TLS: the CA a server speaking the dialect requires of its callers
    raw: dict[str, Any] = field(repr=False, compare=False)
    _routes: dict[str, Routes] = field(default_factory=dict, repr=False, compare=False)

    @property
    def credential_header(self) -> str | None:
        """The vendor's header for what the canonical contract sends as ``Authorization: Bearer``."""
        return self.api_key_header or self.bearer_header

    def offers(self, op: Operation) -> bool:
        """Whether the vendor's system offers this canonical exchange (a static key has no token exchange)."""
        return not (self.api_key_header and op.path == token_path())

    def routes(self, role: str) -> Routes:
        """The canonical and the vendor's operations of a role, paired."""
        if role not in self._routes:
            self._routes[role] = _pair(self, role)
        return self._routes[role]


def deref(doc: dict[str, Any], docs: dict[str, dict[str, Any]], node: Any) -> Any:
    """``node`` with its Reference Objects followed, inside ``doc`` or into another of ``docs`` (by file stem)."""
    ref = node.get("$ref") if isinstance(node, dict) else None
    if not isinstance(ref, str):
        return node
    target, _, pointer = ref.partition("#")
    data: Any = docs.get(target.removesuffix(".yaml"), doc) if target else doc
    for part in pointer.strip("/").split("/"):
        data = data[part.replace("~1", "/").replace("~0", "~")]
    return deref(doc, docs, data)


def vendor_operations(docs: dict[str, dict[str, Any]], names: list[str]) -> dict[str, VendorOp]:
    """The vendor's operations of the documents ``names``, by ``operationId``; a parameter renamed by the overlay
    names the canonical one it carries in ``x-tzsb-canonical``."""
    out: dict[str, VendorOp] = {}
    for name in names:
        doc = docs[name]
        for path, item in (doc.get("paths") or {}).items():
            for method in METHODS:
                op = item.get(method)
                if not isinstance(op, dict) or "operationId" not in op:
                    continue
                params = []
                for p in [*(item.get("parameters") or []), *(op.get("parameters") or [])]:
                    p = deref(doc, docs, p)
                    params.append(VendorParam(p["name"], p["in"], p.get("x-tzsb-canonical", p["name"])))
                out[op["operationId"]] = VendorOp(path, method, op["operationId"], tuple(params))
    return out


@dataclass(frozen=True)
class Routes:
    canonical: Router
    vendor: Router
    vendor_ops: dict[str, VendorOp]  # by operationId
    canonical_ops: dict[str, Operation]


def _pair(binding: Binding, role: str) -> Routes:
    canonical = {op.operation_id: op for op in role_operations(role)}
    names = [n for n in dict.fromkeys([*documents_for_role(role), "common"]) if n in binding.documents]
    vendor = vendor_operations(binding.documents, names)
    missing = sorted(op_id for op_id, op in canonical.items() if op_id not in vendor and binding.offers(op))
    if missing:
        raise BindingError(
            f"绑定的 {role} 文档缺少操作（overlay 不得删除或改名 operationId）：{', '.join(missing)} / the bound "
            f"{role} description lacks operations: {', '.join(missing)}"
        )
    return Routes(Router(canonical.values()), Router(vendor.values()), vendor, canonical)  # type: ignore[arg-type]


def _schema_errors(raw: Any) -> list[str]:
    return [f"{e.path or '/'}: {e.message_zh}" for e in validator("binding").errors(raw)]


def load(path: str | Path) -> Binding:
    """Read, validate and prepare a binding file; :class:`BindingError` names every problem found."""
    path = Path(path)
    try:
        raw = contracts.load_data(path)
    except (OSError, ValueError) as exc:
        raise BindingError(f"无法读取绑定文件 {path}：{exc} / cannot read binding {path}: {exc}") from exc
    errors = _schema_errors(raw)
    if errors:
        raise BindingError(
            f"绑定文件 {path} 不符合 binding.schema.json / binding does not match its schema:\n  " + "\n  ".join(errors)
        )
    docs = {name: contracts.openapi(name) for name in contracts.openapi_names()}
    for name, file in (raw.get("overlays") or {}).items():
        if name not in docs:
            raise BindingError(f"overlay 指向不存在的规范文档 {name} / overlay for an unknown document {name}")
        try:
            docs[name] = overlay.apply(docs[name], contracts.load_data(path.parent / file))
        except (OSError, ValueError) as exc:
            raise BindingError(
                f"overlay {file}（{name}）无法应用：{exc} / overlay {file} does not apply: {exc}"
            ) from exc
    env = raw.get("envelope") or {}
    auth = raw.get("auth") or {}
    token = auth.get("token")
    sig = auth.get("signature")
    tls = auth.get("mtls") or {}
    return Binding(
        name=raw["name"],
        name_en=raw.get("name_en", raw["name"]),
        path=path,
        documents=docs,
        envelope=Envelope(
            pointers=dict(env.get("members") or {}),
            success=str(env.get("success", "OK")),
            codes={k: str(v) for k, v in (env.get("codes") or {}).items()},
            always_200=env.get("status") == "always-200",
        ),
        maps=FieldMaps(
            names=raw.get("fields") or {},
            values=raw.get("values") or {},
            formats=raw.get("formats") or {},
            numbers_as_strings=raw.get("numbers") == "string",
            offset_hours=int(raw.get("offset_hours", 8)),
        ),
        token=(
            TokenForm(
                fields=dict(token.get("fields") or {}),
                json_body=token.get("body", "form") == "json",
                answer=dict(token.get("answer") or {}),
                errors={k: str(v) for k, v in (token.get("errors") or {}).items()},
            )
            if token
            else None
        ),
        bearer_header=(auth.get("bearer") or {}).get("header"),
        api_key_header=(auth.get("api_key") or {}).get("header"),
        signature=(
            Signature(headers=dict(sig["headers"]), timestamp=sig.get("timestamp", "iso"), parts=tuple(sig["string"]))
            if sig
            else None
        ),
        client_cert=(str(path.parent / tls["cert_file"]), str(path.parent / tls["key_file"])) if tls else None,
        client_ca=str(path.parent / tls["ca_file"]) if tls.get("ca_file") else None,
        raw=raw,
    )


_TEMPLATE = re.compile(r"\{(\w+)\}")


def fill(template: str, values: dict[str, str]) -> str:
    """A path template with its parameters filled in (values already percent-encoded as sent)."""
    return _TEMPLATE.sub(lambda m: values[m.group(1)], template)

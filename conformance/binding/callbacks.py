"""Callbacks in a vendor's dialect: the calls a system makes to a URL it was given (OpenAPI ``callbacks``: the
sharing platform's change notifications to a subscriber's ``callbackUrl``, ``notifyChanges``; the inspection
system's corrected report to an objection's ``callbackUrl``, ``pushCorrectedReport``).

The URL is the receiver's own, so no path changes; the body crosses by the callback operation's request schema and
the binding's field, value and date maps, the access token and a request signature as for any request of the
dialect (:meth:`conformance.binding.dialect.Dialect.credentials`), an answer by the callback's declared responses.
The sender (:meth:`Callbacks.vendor_request`, the reference serving a binding; :class:`CallbackEdge` for a callback
sent with a token through the one send path) and the receiver (:meth:`Callbacks.canonical_request`, the harness's
subscriber) use the same translation; what it cannot read (a field the maps do not know, a value in no declared
form) crosses unchanged, so the canonical contract still refuses it on the other side.

A callback that the operations of several data sets declare (one ``ChangeNotification`` for every subscribe
operation) carries the records of one data set, which the instance names in the property whose values the contract
enumerates as those data sets; what the data set's own operations say of the shared schemas (its change feed's
``record`` is its record schema) directs the walk below (:func:`specialised`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson
import requests

from conformance.binding.dialect import Dialect, Message, enum_values
from conformance.binding.edge import BindingEdge, carrying, prepared_message
from conformance.binding.model import Binding, BindingError, deref, load
from conformance.binding.shapes import Where, shape
from conformance.client.token import token_path
from conformance.contract.openapi import METHODS, Operation, documents_for_role, role_callbacks, role_operations


@dataclass(frozen=True)
class CallbackOp:
    """One callback operation of a role and the operations that declare it."""

    operation: Operation
    parents: tuple[Operation, ...]

    @property
    def data_sets(self) -> frozenset[str]:
        return frozenset(p.data_set for p in self.parents if p.data_set)


def _walk(where: Where, out: dict[str, dict[str, None]], seen: set[Where], depth: int = 0) -> None:
    if where in seen or depth > 12:
        return
    seen.add(where)
    sh = shape(where)
    if len(where) > 1:  # the contract says more of a named schema here than the schema itself
        for name in sh.names:
            out.setdefault(name, {}).update(dict.fromkeys(where))
    for sub in (*sh.props.values(), sh.items, sh.extra):
        if sub:
            _walk(sub, out, seen, depth + 1)


@functools.cache
def specialised(role: str, data_set: str) -> dict[str, Where]:
    """Named schema → what the operations of ``data_set`` say of it beyond the schema itself (the data set's
    ``change`` whose ``record`` is the data set's record, its ``page`` whose items are its records …), read from
    their request and answer schemas."""
    out: dict[str, dict[str, None]] = {}
    seen: set[Where] = set()
    for op in role_operations(role):
        if op.data_set != data_set:
            continue
        for uri in (op.body_uri, *(media.get("application/json") for media in op.responses.values())):
            if uri:
                _walk((uri,), out, seen)
    return {name: tuple(uris) for name, uris in out.items()}


def _vendor_callback_ids(binding: Binding, role: str) -> set[str]:
    """The ``operationId`` of every callback in the vendor's (overlaid) description of ``role``."""
    found: set[str] = set()
    docs = binding.documents
    for name in documents_for_role(role):
        doc = docs.get(name) or {}
        for item in (doc.get("paths") or {}).values():
            ops = [item.get(m) for m in METHODS] if isinstance(item, dict) else []
            for op in (o for o in ops if isinstance(o, dict)):
                for node in (op.get("callbacks") or {}).values():
                    for expression in (deref(doc, docs, node) or {}).values():
                        calls = [expression.get(m) for m in METHODS] if isinstance(expression, dict) else []
                        found.update(c["operationId"] for c in calls if isinstance(c, dict) and "operationId" in c)
    return found


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None


def _sized(msg: Message, original: Message) -> Message:
    """``msg`` with its ``Content-Length`` (if it had one) saying its body's length."""
    if msg.body == original.body or msg.header("Content-Length") is None:
        return msg
    return replace(msg, headers=(*msg.without("Content-Length"), ("Content-Length", str(len(msg.body)))))


class Callbacks:
    """The callbacks of one role's contract through one binding. ``secrets``: the keys a callback's request
    signature may have been made with (as for :class:`Dialect`). A binding whose description of the role lacks a
    callback operation (an overlay that removed it or renamed its ``operationId``) cannot be used: :class:`BindingError`
    names what is missing."""

    def __init__(self, binding: Binding, role: str, secrets: Callable[[], Mapping[str, str]] = dict) -> None:
        self.binding, self.role = binding, role
        self.dialect = Dialect(binding, role, secrets)
        found: dict[str, CallbackOp] = {}
        for cb in role_callbacks(role):
            known = found.get(cb.operation.operation_id)
            parents = (*known.parents, cb.parent) if known else (cb.parent,)
            found[cb.operation.operation_id] = CallbackOp(known.operation if known else cb.operation, parents)
        missing = sorted(set(found) - _vendor_callback_ids(binding, role))
        if missing:
            raise BindingError(
                f"绑定的 {role} 文档缺少回调操作（overlay 不得删除或改名回调的 operationId）：{', '.join(missing)} / "
                f"the bound {role} description lacks callback operations: {', '.join(missing)}"
            )
        self.ops = found

    def operation(self, operation_id: str) -> CallbackOp:
        found = self.ops.get(operation_id)
        if found is None:
            raise BindingError(
                f"{self.role} 的契约没有回调操作 {operation_id} / the {self.role} contract declares no callback "
                f"{operation_id}"
            )
        return found

    # ------------------------------------------------------------------ bodies
    def data_set(self, operation_id: str, canonical: Any) -> str | None:
        """The data set a callback instance (read canonically) is about: its declaring operations' one data set,
        or the value of its property that the contract enumerates the data sets in; None when neither says."""
        cb = self.operation(operation_id)
        sets = cb.data_sets
        if len(sets) <= 1:
            return next(iter(sets), None)
        if not isinstance(canonical, dict) or cb.operation.body_uri is None:
            return None
        for prop, where in shape(cb.operation.body_uri).props.items():
            allowed = enum_values(where)
            value = canonical.get(prop)
            if allowed and sets <= allowed and value in sets:
                return str(value)
        return None

    def translate(self, data: Any, operation_id: str, *, forward: bool) -> Any:
        """A callback's JSON body in the other form (the vendor's when ``forward``)."""
        op = self.operation(operation_id).operation
        if op.body_uri is None:
            return data
        maps = self.binding.maps
        canonical = data if forward else maps.translate(data, op.body_uri, forward=False)
        data_set = self.data_set(operation_id, canonical)
        special = specialised(self.role, data_set) if data_set else None
        return maps.translate(data, op.body_uri, forward=forward, special=special)

    def _body(self, body: bytes, operation_id: str, *, forward: bool) -> bytes:
        data = _json(body)
        if data is None:
            return body  # not JSON: crosses as it is, the other side refuses it
        out = self.translate(data, operation_id, forward=forward)
        if out == data:
            return body
        try:
            return orjson.dumps(out)
        except orjson.JSONEncodeError:
            return body

    # ------------------------------------------------------------------ requests and answers
    def vendor_request(self, msg: Message, operation_id: str) -> Message:
        """A canonical callback request (to the URL the receiver gave) as the vendor's system sends it."""
        out = replace(msg, body=self._body(msg.body, operation_id, forward=True))
        return _sized(self.dialect.credentials(msg, out, forward=True), msg)

    def canonical_request(self, msg: Message, operation_id: str) -> Message:
        """A callback request in the vendor's dialect read as the canonical contract reads it."""
        out = replace(msg, body=self._body(msg.body, operation_id, forward=False))
        return _sized(self.dialect.credentials(msg, out, forward=False), msg)

    def vendor_answer(self, answer: Message, request: Message, operation_id: str) -> Message:
        """The receiver's canonical answer to a callback as the vendor's system expects it."""
        return self.dialect.vendor_answer(answer, request, self.operation(operation_id).operation)

    def canonical_answer(self, answer: Message, request: Message, operation_id: str) -> Message:
        """A receiver's answer in the vendor's dialect read canonically."""
        return self.dialect.canonical_answer(answer, request, self.operation(operation_id).operation)

    # ------------------------------------------------------------------ the receiver's token endpoint
    def token_request(self, msg: Message) -> Message | None:
        """``msg`` (its path relative to the receiver's base URL) read canonically when it is the vendor's token
        request (a callback under ``clientCredentials`` asks the receiver's token endpoint first), else None."""
        canonical = self.dialect.canonical_request(msg)
        op = self.dialect.operation_of(canonical)
        return canonical if op is not None and op is self.dialect.token_op else None

    def token_answer(self, answer: Message, request: Message) -> Message:
        """The receiver's canonical token answer (to the canonical ``request``) in the vendor's form."""
        return self.dialect.vendor_answer(answer, request)


@functools.cache
def callbacks_for(path: Path, role: str) -> Callbacks:
    """The callbacks of ``role`` through the binding file at ``path`` (read once per process)."""
    return Callbacks(load(path), role)


class CallbackEdge(BindingEdge):
    """The sender's side of one callback through a binding, for a request under a bearer token sent through the one
    send path (:func:`conformance.client.http.send_bounded`): ``base_url`` is the receiver's base (where its token
    endpoint is), the token request crosses as the dialect's, every other request is the callback to the URL the
    receiver gave (its path kept) with the callback's body and answer translated."""

    def __init__(self, callbacks: Callbacks, base_url: str, operation_id: str) -> None:
        super().__init__(Dialect(callbacks.binding, callbacks.role, callbacks.dialect.secrets), base_url)
        self.callbacks, self.operation_id = callbacks, operation_id
        callbacks.operation(operation_id)  # unknown: refused here, before anything is sent

    def _is_callback(self, prepared: requests.PreparedRequest) -> bool:
        return self._local(prepared_message(prepared)).path != token_path()

    def outbound(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        if not self._is_callback(prepared):
            return super().outbound(prepared)
        return carrying(prepared, self.callbacks.vendor_request(prepared_message(prepared), self.operation_id))

    def inbound(
        self, prepared: requests.PreparedRequest, status: int, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if not self._is_callback(prepared):
            return super().inbound(prepared, status, headers, body)
        answer = self.callbacks.canonical_answer(
            Message(status=status, headers=tuple(headers.items()), body=body),
            prepared_message(prepared),
            self.operation_id,
        )
        return answer.status, dict(answer.headers), answer.body

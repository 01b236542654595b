"""A callback server of the harness in this process, at an address the target can reach (shared by the suites
that receive calls from the target: corrected inspection reports, subscription notifications).

Loopback when the target is on this machine; otherwise the target file's ``[thresholds] callback_host``
(and ``callback_port``, bound on every interface); without either the calling test is 未测 (skipped with the
reason), never passed. The server runs in a thread for the ``with`` block and is stopped after it.

A target with a binding calls back in its dialect (docs/bindings.md "Callbacks"): the receivers read each call
canonically (:func:`canonical_call`) and keep it as it came beside that reading.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import HTTPServer
from typing import TypeVar
from urllib.parse import parse_qsl, urlsplit

import pytest

from conformance.binding.callbacks import Callbacks, callbacks_for
from conformance.binding.dialect import Message
from conformance.harness.target import Target

S = TypeVar("S", bound=HTTPServer)

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@contextmanager
def callback_server(target: Target, make: Callable[[tuple[str, int]], S], path: str, purpose_zh: str) -> Iterator[S]:
    """``make(address)`` builds the server; it gets ``url`` (its public URL ending in ``path``) and is served
    for the duration of the block. ``purpose_zh`` says what cannot be received when the item is 未测."""
    host = urlsplit(target.url()).hostname or ""
    loopback = host in LOOPBACK
    public = target.thresholds.get("callback_host")
    if not loopback and not public:
        pytest.skip(
            f"未测：目标不在本机，且目标文件未给出目标可访问的本机回调地址（[thresholds] callback_host），{purpose_zh} / "
            "no callback address the target can reach ([thresholds] callback_host)"
        )
    server = make(("127.0.0.1", 0) if loopback else ("0.0.0.0", int(target.thresholds.get("callback_port", 0))))
    server.url = f"http://{'127.0.0.1' if loopback else public}:{server.server_address[1]}{path}"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def callback_dialect(target: Target, role: str) -> Callbacks | None:
    """The dialect the target makes ``role``'s callbacks in (its binding), None for the canonical contracts."""
    return callbacks_for(target.binding, role) if target.binding is not None else None


def canonical_call(
    dialect: Callbacks | None, operation_id: str, path: str, headers: dict[str, str], raw: bytes
) -> tuple[dict[str, str], bytes]:
    """A callback the target made (``path`` with its query, as received) read as the canonical contract reads it:
    its headers and body; unchanged without a dialect. What the dialect does not know stays in sight."""
    if dialect is None:
        return headers, raw
    parts = urlsplit(path)
    query = tuple(parse_qsl(parts.query, keep_blank_values=True))
    out = dialect.canonical_request(Message("POST", parts.path, query, tuple(headers.items()), raw), operation_id)
    return dict(out.headers), out.body

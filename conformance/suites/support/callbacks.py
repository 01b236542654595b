"""A callback server of the harness in this process, at an address the target can reach (shared by the suites
that receive calls from the target: corrected inspection reports, subscription notifications).

Loopback when the target is on this machine; otherwise the target file's ``[thresholds] callback_host``
(and ``callback_port``, bound on every interface); without either the calling test is 未测 (skipped with the
reason), never passed. The server runs in a thread for the ``with`` block and is stopped after it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import HTTPServer
from typing import TypeVar
from urllib.parse import urlsplit

import pytest

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

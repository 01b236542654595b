"""A deliberately broken loopback target for the harness's own tests: garbage, slow, huge,
gzip-bombed, wrongly typed and redirecting responses, plus a recorder for what reached it.

``/slow`` trickles one byte every :data:`TRICKLE_S` seconds for :data:`TRICKLE_BYTES` bytes (50 s in all): the gap
between bytes stays far below any read timeout the tests use (≥ 1 s), so only a client's overall deadline can cut it,
and the whole trickle lasts far longer than that deadline however slow the machine is."""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

#: Seconds between two bytes of ``/slow``, and how many bytes it trickles (50 s in all).
TRICKLE_S = 0.1
TRICKLE_BYTES = 500
#: Longest a ``hang`` request is held when the server is not stopped first.
HANG_S = 120.0
_BOMB: list[bytes] = []


def _bomb() -> bytes:
    """64 MiB of zeros, gzipped (about 64 KiB): compressed once per process, not on every request."""
    if not _BOMB:
        _BOMB.append(gzip.compress(b"0" * (64 * 1024 * 1024)))
    return _BOMB[0]


class HostileServer:
    def __init__(self, mode: str | None = None, redirect_to: str | None = None) -> None:
        """``mode`` makes every path behave one way (garbage, slow, huge, bomb, wrong-type, redirect-away; close:
        the connection closed without an answer; hang: no answer until the server stops);
        ``redirect_to`` is the other origin redirect-away sends to (default: localhost on this port)."""
        self.seen: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        self.mode = mode
        self.redirect_to = redirect_to
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                owner.seen.append(
                    {"path": self.path, "method": self.command, "headers": dict(self.headers), "body": body}
                )
                path = "/" + owner.mode if owner.mode else self.path.split("?")[0]
                if path == "/garbage":
                    self._send(200, b"\x00\xff\xfe garbage {{{", {"Content-Type": "application/json"})
                elif path == "/slow":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "1000000")
                    self.end_headers()
                    for _ in range(TRICKLE_BYTES):
                        try:
                            self.wfile.write(b" ")
                            self.wfile.flush()
                        except OSError:
                            return
                        time.sleep(TRICKLE_S)
                elif path == "/huge":
                    self._send(200, b"[" + b"1," * (6 * 1024 * 1024) + b"1]", {"Content-Type": "application/json"})
                elif path == "/bomb":
                    self._send(200, _bomb(), {"Content-Type": "application/json", "Content-Encoding": "gzip"})
                elif path == "/wrong-type":
                    self._send(
                        200,
                        b'{"code": 0, "message": 1, "data": "x", "requestId": null}',
                        {"Content-Type": "application/json"},
                    )
                elif path == "/redirect-away":
                    self._send(302, b"", {"Location": owner.redirect_to or f"http://localhost:{owner.port}/landing"})
                elif path == "/redirect-same":
                    self._send(302, b"", {"Location": "/landing"})
                elif path == "/redirect-loop":
                    self._send(302, b"", {"Location": "/redirect-loop"})
                elif path == "/truncated":
                    self.send_response(200)
                    self.send_header("Content-Length", "100")
                    self.end_headers()
                    self.wfile.write(b'{"code": "OK"')
                    self.close_connection = True
                elif path == "/close":  # the request is read, then the connection is closed without an answer
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                elif path == "/hang":  # the request is read and never answered (until the server stops)
                    owner.stopping.wait(HANG_S)
                    self.close_connection = True
                else:
                    self._send(
                        200,
                        b'{"code": "OK", "message": "ok", "data": null, "requestId": "rid-00000001"}',
                        {"Content-Type": "application/json"},
                    )

            do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> HostileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def target_file(path: Path, url: str, thresholds: str = "request_timeout_s = 1.0\n") -> Path:
    """A supervision target file at ``url`` with the harness's credentials and ``thresholds`` (TOML lines)."""
    path.write_text(
        f'name = "{path.stem}"\nrole = "supervision"\n[urls]\nsupervision = "{url}"\n'
        '[credentials]\nclient_id = "harness"\nclient_secret = "harness-secret"\n'
        f"[thresholds]\n{thresholds}",
        encoding="utf-8",
    )
    return path

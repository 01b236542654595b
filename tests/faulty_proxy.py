"""A loopback TCP proxy in front of a real server that can fall silent: after :meth:`FaultyProxy.silence` (or after
``answer_first`` connections) it still accepts connections but never forwards or answers — a target that stops
answering in the middle of a run."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any


class FaultyProxy:
    def __init__(self, upstream: str, *, answer_first: int | None = None) -> None:
        host_port = upstream.split("://", 1)[1].split("/", 1)[0]
        host, port = host_port.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.path = "/" + upstream.split("://", 1)[1].split("/", 1)[1] if "/" in upstream.split("://", 1)[1] else ""
        self.answer_first = answer_first
        self.connections = 0
        self.silent = threading.Event()
        self._held: list[socket.socket] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}{self.path}".rstrip("/")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def silence(self) -> None:
        self.silent.set()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            if self.answer_first is not None and self.connections > self.answer_first:
                self.silent.set()
            if self.silent.is_set():
                self._held.append(conn)  # accepted, never read, never answered
                continue
            threading.Thread(target=self._pipe_both, args=(conn,), daemon=True).start()

    def _pipe_both(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.upstream, timeout=30)
        except OSError:
            client.close()
            return
        threading.Thread(target=self._pipe, args=(server, client), daemon=True).start()
        self._pipe(client, server)

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while not self.silent.is_set():
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        if self.silent.is_set():
            self._held += [src, dst]  # a connection in use falls silent too
            return
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._sock.close()
        for s in self._held:
            with contextlib.suppress(OSError):
                s.close()

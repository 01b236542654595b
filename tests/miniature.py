"""Miniature targets: small loopback systems under test, each misbehaving in one way a real deployment does, for the
regression tests of honest verdicts (``tests/test_honest_verdicts.py``, ``docs/honest-verdicts.md``).

Each miniature is a context manager that starts its servers on 127.0.0.1 (free ports), writes the target file the
harness is given, and stops everything when the block ends. It yields a :class:`Miniature`: the target file, the role
it is certified for, and the servers behind it.

* :func:`empty_platform` — the reference sharing platform with no seed data;
* :func:`seeded_platform` — the same with its demo data (the control of the empty one);
* :func:`driverless_licensing` — a licensing system whose target file does not declare ``workflow-driver``, behind a
  proxy that answers 404 on every path of the workflow-driver contract (a harness that ignored the declaration
  would notice);
* :func:`partly_seeded_platform` — a seeded sharing platform where one data set has been emptied over the interface
  itself (its records deleted with DELETE pushes), the others keeping their records;
* :func:`unreachable` — a port where nothing listens (bound, never listening: nobody else can take it meanwhile);
* :func:`lying` — a proxy that answers every error with HTTP 200 and the error envelope unchanged;
* :func:`slow` — a proxy that delays every answer by :data:`SLOW_S` (slow, far from any timeout);
* :func:`plain` — the reference role server itself, unproxied (what ``slow`` and ``lying`` are compared with).

What a miniature changes is read from the contracts (the workflow driver's paths from
``schemas/openapi/workflow-driver.yaml``, the data sets from ``x-data-sets``), never re-declared here.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from conformance.contract.openapi import ROLES, operations, role_operations
from conformance.reference.server import RunningServer
from conformance.selfcheck.target_file import FEATURES, write_target
from tests.refserver import running

#: How long the slow proxy holds every answer: enough to be "slow", far below any timeout of the harness.
SLOW_S = 0.3
#: The data set :func:`partly_seeded_platform` empties by default (its records refer to others; none refer to it).
EMPTIED = "accidents"
#: Headers that belong to one connection, not to the message (RFC 9110 §7.6.1), plus the ones the proxy recomputes.
HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "content-encoding",
    }
)


@dataclass
class Answer:
    """One answer passing through the proxy; a ``transform`` may change it."""

    method: str
    path: str  # path and query as the client sent them
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Miniature:
    name: str
    #: the target file the harness is given
    target: Path
    role: str
    server: RunningServer | None = None
    proxy: Proxy | None = None
    #: what the miniature changed (e.g. the data set emptied), for the test's messages
    notes: dict[str, Any] = field(default_factory=dict)


class Proxy:
    """A small reverse proxy on 127.0.0.1: forwards every request to ``upstream`` (``requests``, no redirects
    followed) and answers with what came back, after ``route`` may have changed the path, ``transform`` the answer,
    and ``delay_s`` has passed."""

    def __init__(
        self,
        upstream: str,
        *,
        delay_s: float = 0.0,
        route: Callable[[str, str], str] | None = None,
        transform: Callable[[Answer], Answer] | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.delay_s = delay_s
        self.route = route
        self.transform = transform
        self.count = 0
        self._lock = threading.Lock()
        self._local = threading.local()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _forward(self) -> None:
                body = self._body()
                answer = owner.forward(self.command, self.path, [(k, v) for k, v in self.headers.items()], body)
                self.send_response(answer.status)
                for k, v in answer.headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _forward

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = self._local.session = requests.Session()
            s.trust_env = False  # loopback only: never through a proxy of the environment
        return s

    def forward(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        with self._lock:
            self.count += 1
        routed = self.route(method, path) if self.route else path
        sent = {k: v for k, v in headers if k.lower() not in HOP}
        try:
            r = self._session().request(
                method, self.upstream + routed, headers=sent, data=body or None, allow_redirects=False, timeout=(5, 120)
            )
            answer = Answer(
                method,
                path,
                r.status_code,
                [(k, v) for k, v in r.raw.headers.items() if k.lower() not in HOP],
                r.content,
            )
        except requests.RequestException as exc:  # the upstream is gone: say so as a gateway would
            answer = Answer(method, path, 502, [("Content-Type", "text/plain")], f"bad gateway: {exc}".encode())
        if self.transform:
            answer = self.transform(answer)
        if self.delay_s:
            time.sleep(self.delay_s)
        return answer

    def __enter__(self) -> Proxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------------------------------------- target files


def target_file(path: Path, urls: dict[str, str], role: str, *, features: tuple[str, ...] = FEATURES) -> Path:
    """The target file of a miniature: the reference's clients and credentials, the given URLs and features."""
    return write_target(path, urls, role, features=features)


def _dir(tmp_path: Path, name: str) -> Path:
    """A folder of its own for each miniature (its database), so two can run side by side in one test."""
    d = tmp_path / f"miniature-{name}"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _urls(base: str, mounted: bool, role: str) -> dict[str, str]:
    """Base URL per role of a server (``mounted``: role ``all``, every role under ``/<role>``) seen at ``base``."""
    return {r: f"{base}/{r}" for r in ROLES} if mounted else {role: base}


# ---------------------------------------------------------------------------------------------- miniatures


@contextmanager
def plain(
    tmp_path: Path, role: str = "supervision", *, defects: tuple[str, ...] = (), seed: int | None = None
) -> Iterator[Miniature]:
    """The reference server of one role, as it is."""
    d = _dir(tmp_path, "plain")
    with running(d, role, defects=defects, seed=seed, access_log=False) as srv:
        yield Miniature("plain", target_file(d / "target.toml", {role: srv.url()}, role), role, server=srv)


@contextmanager
def empty_platform(tmp_path: Path, *, defects: tuple[str, ...] = ()) -> Iterator[Miniature]:
    """The reference sharing platform with no seed: every data set is empty."""
    d = _dir(tmp_path, "empty")
    with running(d, "all", defects=defects, seed=None, access_log=False) as srv:
        urls = _urls(srv.base, True, "sharing")
        yield Miniature("empty", target_file(d / "target.toml", urls, "sharing"), "sharing", server=srv)


@contextmanager
def seeded_platform(tmp_path: Path, *, defects: tuple[str, ...] = ()) -> Iterator[Miniature]:
    """The reference sharing platform with its demo data (seed 1)."""
    d = _dir(tmp_path, "seeded")
    with running(d, "all", defects=defects, seed=1, access_log=False) as srv:
        urls = _urls(srv.base, True, "sharing")
        yield Miniature("seeded", target_file(d / "target.toml", urls, "sharing"), "sharing", server=srv)


def driver_paths() -> list[re.Pattern[str]]:
    """The paths only the workflow driver serves (workflow-driver.yaml minus what the licensing system's own contract
    also serves, such as the token and health operations), as patterns on the end of a request path."""
    own = {op.path for op in role_operations("licensing") if op.doc != "workflow-driver"}
    templates = sorted({op.path for op in operations("workflow-driver")} - own)
    return [re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(t)) + r"$") for t in templates]


#: Where the driverless proxy sends the driver's paths: a path no contract declares, so the upstream answers 404.
NOWHERE = "/__miniature_no_driver__"


@contextmanager
def driverless_licensing(tmp_path: Path) -> Iterator[Miniature]:
    """A licensing system that offers no workflow driver: the target file does not declare ``workflow-driver`` (every
    other feature of the reference is declared), and a proxy answers the driver's paths with the upstream's 404."""
    patterns = driver_paths()

    def route(method: str, path: str) -> str:
        bare, _, query = path.partition("?")
        for p in patterns:
            m = p.search(bare)
            if m:
                return bare[: m.start()] + NOWHERE + bare[m.start() :] + (f"?{query}" if query else "")
        return path

    d = _dir(tmp_path, "driverless")
    with running(d, "all", seed=1, access_log=False) as srv, Proxy(srv.base, route=route) as proxy:
        urls = _urls(proxy.url, True, "licensing")
        features = tuple(f for f in FEATURES if f != "workflow-driver")
        toml = target_file(d / "target.toml", urls, "licensing", features=features)
        yield Miniature("driverless", toml, "licensing", server=srv, proxy=proxy, notes={"features": features})


def empty_data_set(base: str, name: str, *, batch: int = 100) -> int:
    """Delete every record of data set ``name`` at the sharing platform ``base`` over its own push interface
    (DELETE operations, GB/T 38656-2020); returns how many were deleted. Uses the suites' own helpers, so the push
    message is the contract's."""
    from conformance.client import Evidence, TargetClient
    from conformance.contract.datasets import data_sets, max_size
    from conformance.suites.support.sharing import Sandbox, query

    ds = data_sets()[name]
    client = TargetClient(base, client_id="harness", client_secret="harness-secret", evidence=Evidence())
    box = Sandbox(client, "42")
    deleted = 0
    for _ in range(1000):  # bounded: each round deletes a full page
        keys = [r[ds.key] for r in query(client, ds, {"page": 1, "size": max_size(ds)})["items"]]
        if not keys:
            return deleted
        for i in range(0, len(keys), batch):
            r = box.push(name, [("DELETE", k, None) for k in keys[i : i + batch]])
            if r.status != 200:
                raise RuntimeError(f"could not empty {name}: push answered {r.status}")
        deleted += len(keys)
    raise RuntimeError(f"{name} still has records after 1000 rounds of deletion")


@contextmanager
def partly_seeded_platform(tmp_path: Path, emptied: str = EMPTIED) -> Iterator[Miniature]:
    """The seeded sharing platform with one data set (``emptied``) emptied over the interface; the others keep
    their records."""
    d = _dir(tmp_path, "partly-seeded")
    with running(d, "all", seed=1, access_log=False) as srv:
        urls = _urls(srv.base, True, "sharing")
        deleted = empty_data_set(urls["sharing"], emptied)
        toml = target_file(d / "target.toml", urls, "sharing")
        yield Miniature("partly-seeded", toml, "sharing", server=srv, notes={"emptied": emptied, "deleted": deleted})


@contextmanager
def unreachable(tmp_path: Path, role: str = "supervision") -> Iterator[Miniature]:
    """A port where nothing listens: the socket is bound (so no one else gets the port) but never listens, so every
    connection is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        yield Miniature(
            "unreachable",
            target_file(_dir(tmp_path, "unreachable") / "target.toml", {role: url}, role),
            role,
            notes={"url": url},
        )
    finally:
        sock.close()


def error_as_200(answer: Answer) -> Answer:
    """Success status with the error body: every 4xx/5xx becomes 200, the error envelope unchanged."""
    if answer.status >= 400:
        answer.status = 200
    return answer


@contextmanager
def lying(tmp_path: Path, role: str = "supervision") -> Iterator[Miniature]:
    """The reference role server behind a proxy that answers every error with 200 and the error envelope."""
    d = _dir(tmp_path, "lying")
    with running(d, role, access_log=False) as srv, Proxy(srv.url(), transform=error_as_200) as proxy:
        yield Miniature("lying", target_file(d / "target.toml", {role: proxy.url}, role), role, server=srv, proxy=proxy)


@contextmanager
def slow(tmp_path: Path, role: str = "supervision", delay_s: float = SLOW_S) -> Iterator[Miniature]:
    """The reference role server behind a proxy that holds every answer ``delay_s`` seconds."""
    d = _dir(tmp_path, "slow")
    with running(d, role, access_log=False) as srv, Proxy(srv.url(), delay_s=delay_s) as proxy:
        yield Miniature(
            "slow",
            target_file(d / "target.toml", {role: proxy.url}, role),
            role,
            server=srv,
            proxy=proxy,
            notes={"delay_s": delay_s},
        )


def run_quick(
    hang_s: float,
    target: Path | str,
    out: Path,
    *,
    role: str,
    suites: list[str] | None = None,
    extra: tuple[str, ...] | list[str] = (),
) -> int:
    """:func:`run_bounded` of a quick run in Chinese with the target file's own credentials and features, tests in
    file order (``-p no:randomly``) and the given extra pytest arguments."""
    return run_bounded(
        hang_s,
        target=str(target),
        role=role,
        profile="quick",
        client_id=None,
        features=[],
        out=out,
        answers=None,
        lang="zh",
        suites=suites,
        extra=["-p", "no:randomly", *extra],
    )


def run_bounded(hang_s: float, **kw: Any) -> int:
    """``conformance.harness.runner.run_suites(**kw)`` in a thread; fails the test (instead of hanging it) if the run has
    not ended after ``hang_s`` — a bound that only stops a hang, never a judgement on speed."""
    import threading

    from conformance.harness.runner import run_suites

    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["code"] = run_suites(**kw)
        except BaseException as exc:  # re-raised in the test's thread
            result["exc"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(hang_s)
    assert not thread.is_alive(), f"the run did not end within {hang_s:.0f} s: it hangs"
    if "exc" in result:
        raise result["exc"]
    return int(result["code"])

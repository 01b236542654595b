"""Run the reference server: ``tzsb-conform serve`` and an in-process runner for tests."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvicorn

from conformance.contract.openapi import ROLES, contract_role
from conformance.reference import roles
from conformance.reference.app import build_app
from conformance.reference.audit import AuditLog
from conformance.reference.context import BASE_URL_KEY, CALLBACKS_KEY, SEEDERS, SETUPS
from conformance.reference.db import Database
from conformance.reference.defects import BY_NAME, D, unknown
from conformance.reference.security import Security, load_clients
from conformance.reference.server_state import DEFAULT_MAX_BODY, RoleServer
from conformance.reference.tls import CredentialsInUrlGuard, TlsFiles, loopback_certificate, server_context

log = logging.getLogger("tzsb.reference")


@dataclass
class ServerConfig:
    role: str = "all"
    host: str = "127.0.0.1"
    port: int = 0
    db: Path = Path("reports/reference.sqlite3")
    defects: tuple[str, ...] = ()
    seed: int | None = None
    max_body: int = DEFAULT_MAX_BODY
    token_ttl: int = 7200
    counterparts: dict[str, str] = field(default_factory=dict)
    access_log: bool = True
    #: the public base URL clients reach the server at (behind a proxy, say), what every absolute URL it emits
    #: starts with (``Location``, download and reference addresses); default: the address it listens on, or
    #: relative references when that is a wildcard address. Never the request's ``Host`` header.
    public_url: str | None = None
    #: serve HTTPS (TLS ≥ 1.2); without ``tls_cert``/``tls_key`` a private test CA and a loopback certificate are made
    #: in ``tls_dir`` (default: ``<db file>-tls`` beside the database) with the openssl command line
    tls: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_dir: Path | None = None
    #: speak a vendor's dialect (a binding file, docs/bindings.md) instead of the canonical contracts
    binding: Path | None = None

    def tls_files(self) -> TlsFiles | None:
        """The certificate files to serve with, or None for plain HTTP (also under the ``plain-http`` defect)."""
        if not self.tls or D.PLAIN_HTTP in self.defects:
            if self.tls:
                log.warning("defect plain-http: serving plain HTTP although TLS was asked for")
            return None
        if self.tls_cert is not None:
            if self.tls_key is None:
                raise ValueError("tls_cert needs tls_key")
            return TlsFiles(self.tls_cert, self.tls_cert, self.tls_key)
        directory = self.tls_dir or self.db.with_name(f"{self.db.stem}-tls")
        return loopback_certificate(directory, self.host)


#: Listen addresses that name no host a client could use in a URL.
WILDCARD_HOSTS = ("", "0.0.0.0", "::")


def listen_url(scheme: str, host: str, port: int) -> str:
    """``scheme://host:port`` (an IPv6 address in brackets, RFC 3986 §3.2.2)."""
    return f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}"


def public_base(cfg: ServerConfig, listening: str) -> str:
    """The server's public base URL without a trailing slash: ``cfg.public_url``, else ``listening`` (the address
    it listens on); ``""`` (relative references) when that is a wildcard address, which no client can use."""
    if cfg.public_url:
        parts = urlsplit(cfg.public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"public_url must be an http(s) URL without query or fragment: {cfg.public_url!r}")
        return cfg.public_url.rstrip("/")
    return "" if cfg.host in WILDCARD_HOSTS else listening


def _edges_to_counterparts(path: Path | None, counterparts: dict[str, str]) -> None:
    """The reference's own calls to its counterparts (report-backs, pushes, notifications) in the binding's dialect,
    a vendor's system calling out in the dialect it answers in; without a binding, canonically (an edge another
    server of this process left for the same address is dropped)."""
    from conformance.client.http import bind_edge

    edge = None
    if path is not None:
        from conformance.binding.dialect import Dialect
        from conformance.binding.edge import BindingEdge
        from conformance.binding.model import load

        binding = load(path)
        secrets = {c.id: c.secret for c in load_clients().values()}

        def edge(role: str, url: str) -> Any:
            role = contract_role(role)  # a counterpart such as the national platform speaks its role's contract
            return BindingEdge(Dialect(binding, role, lambda: secrets), url) if role in ROLES else None

    for role, url in counterparts.items():
        bind_edge(url, edge(role, url) if edge else None)


def _callbacks_in_dialect(path: Path, servers: list[RoleServer]) -> None:
    """The roles' callbacks (change notifications, corrected reports) sent in the binding's dialect."""
    from conformance.binding.callbacks import Callbacks
    from conformance.binding.model import load

    binding = load(path)
    secrets = {c.id: c.secret for c in load_clients().values()}
    for s in servers:
        s.extras[CALLBACKS_KEY] = Callbacks(binding, s.role, lambda: secrets)


def make_servers(cfg: ServerConfig, base_url: str) -> list[RoleServer]:
    """The role servers of one process, sharing one database and one security context (``base_url``: the
    address the server listens on, what the roles call each other at)."""

    roles.register_all()  # handlers, setups, seeders

    bad = unknown(list(cfg.defects))
    if bad:
        raise ValueError(f"unknown defect(s): {', '.join(bad)}; known: {', '.join(sorted(BY_NAME))}")
    roles_here = list(ROLES) if cfg.role == "all" else [cfg.role]
    db = Database(cfg.db)
    defects = frozenset(cfg.defects)
    security = Security(load_clients(), token_ttl=cfg.token_ttl, defects=defects)
    audit = AuditLog(db, broken_chain=D.AUDIT_CHAIN_BROKEN in defects, disabled=D.AUDIT_NOT_WRITTEN in defects)
    mounted = cfg.role == "all"
    public = public_base(cfg, base_url)
    counterparts = {r: f"{base_url}/{r}" for r in ROLES} if mounted else {}
    counterparts.update(cfg.counterparts)
    _edges_to_counterparts(cfg.binding, counterparts)
    servers = [
        RoleServer(
            role=r,
            db=db,
            security=security,
            audit=audit,
            defects=defects,
            max_body=cfg.max_body,
            counterparts=counterparts,
            seed=cfg.seed,
            access_log=cfg.access_log,
        )
        for r in roles_here
    ]
    if cfg.binding is not None:
        _callbacks_in_dialect(cfg.binding, servers)
    for s in servers:
        s.extras[BASE_URL_KEY] = f"{public}/{s.role}" if mounted else public
        if s.role in SETUPS:
            SETUPS[s.role](s)
    if cfg.seed is not None and db.meta("seeded") is None:
        from conformance.datagen import DataGen

        gen = DataGen(cfg.seed)
        started = time.perf_counter()
        for s in servers:
            if s.role in SEEDERS:
                SEEDERS[s.role](s, gen)
        db.set_meta("seeded", str(cfg.seed))
        log.info("demo data (seed %s) written in %.1f s", cfg.seed, time.perf_counter() - started)
    return servers


def _bind(host: str, port: int) -> socket.socket:
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say they are TCP; without it every
    # small response waits for a delayed ACK (~40 ms)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _uvicorn(
    app: Any, tls: TlsFiles | None = None, *, weak_tls: bool = False, client_ca: str | None = None
) -> uvicorn.Server:
    extra: dict[str, Any] = {}
    if tls is not None:
        extra = {
            "ssl_certfile": str(tls.cert_file),
            "ssl_keyfile": str(tls.key_file),
            "ssl_context_factory": lambda _config, _default: server_context(tls, weak=weak_tls, client_ca=client_ca),
        }
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="on", loop="asyncio", timeout_graceful_shutdown=3, **extra
    )
    return uvicorn.Server(config)


def _app(cfg: ServerConfig, servers: list[RoleServer]) -> Any:
    """The ASGI app; the sharing role's paths refuse credentials in the URL (SHARE.SEC.AUTH.3)."""
    app: Any = build_app(servers, mount=cfg.role == "all")
    if any(s.role == "sharing" for s in servers):
        prefixes = ("/sharing/",) if cfg.role == "all" else ("/",)
        app = CredentialsInUrlGuard(app, prefixes, accept_query_token=D.TOKEN_IN_QUERY in cfg.defects)
    if cfg.binding is not None:
        from conformance.binding.model import load
        from conformance.reference.bound import BindingGateway

        roles = {s.role: (f"/{s.role}" if cfg.role == "all" else "") for s in servers}
        app = BindingGateway(app, load(cfg.binding), {prefix: role for role, prefix in roles.items()})
    return app


def _client_ca(cfg: ServerConfig, tls: TlsFiles | None) -> str | None:
    """The CA of the callers' certificates when the binding asks for mutual TLS (which needs TLS)."""
    if cfg.binding is None:
        return None
    from conformance.binding.model import load

    ca = load(cfg.binding).client_ca
    if ca is not None and tls is None:
        raise ValueError("绑定要求双向 TLS，须以 --tls 提供服务 / the binding asks for mutual TLS: serve with --tls")
    return ca


def _prepare(cfg: ServerConfig) -> tuple[socket.socket, TlsFiles | None, str, list[RoleServer], uvicorn.Server]:
    """The bound socket, the certificate files, the base URL, the role servers and the (not yet started) uvicorn
    server of ``cfg``; signals are the caller's."""
    sock = _bind(cfg.host, cfg.port)
    tls = cfg.tls_files()
    base = listen_url("https" if tls is not None else "http", cfg.host, sock.getsockname()[1])
    servers = make_servers(cfg, base)
    client_ca = _client_ca(cfg, tls)
    server = _uvicorn(_app(cfg, servers), tls, weak_tls=D.WEAK_TLS in cfg.defects, client_ca=client_ca)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    return sock, tls, base, servers, server


def serve(cfg: ServerConfig) -> int:
    """Foreground server (the CLI); stops cleanly on SIGINT / SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    sock, tls, base, servers, server = _prepare(cfg)
    roles_here = [s.role for s in servers]
    if tls is not None:
        print(f"tls: CA {tls.ca_file}", flush=True)
    if cfg.role == "all":
        for r in roles_here:
            print(f"{r}: {base}/{r}", flush=True)
    else:
        print(f"{cfg.role}: {base}", flush=True)
    print(f"ready {base}", flush=True)

    def stop(signum: int, frame: Any) -> None:
        server.should_exit = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    asyncio.run(server.serve(sockets=[sock]))
    for s in servers:
        s.audit.flush()
    servers[0].db.close()
    return 0


class RunningServer:
    """A reference server in a background thread of this process (for tests)."""

    def __init__(self, cfg: ServerConfig) -> None:
        self.cfg = cfg
        self.sock, self.tls, self.base, self.servers, self.server = _prepare(cfg)
        self.port = self.sock.getsockname()[1]
        #: the CA file a client verifies this server with (None: plain HTTP)
        self.ca_file = self.tls.ca_file if self.tls is not None else None
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])), daemon=True)

    def url(self, role: str | None = None) -> str:
        return f"{self.base}/{role}" if self.cfg.role == "all" and role else self.base

    def __enter__(self) -> RunningServer:
        self.thread.start()
        # the bound only stops a hang: seeding runs before the server starts, and a loaded machine is slow
        deadline = time.monotonic() + 180
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("reference server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.tls is not None:
            self._drop_idle_tls()
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.servers[0].db.close()
        _edges_to_counterparts(None, self.servers[0].counterparts)  # its calls' dialect ends with it

    def _drop_idle_tls(self) -> None:
        """A TLS connection a client keeps open would hold the stop for the graceful timeout (the TLS close waits
        for the peer's close_notify): cut them first — the tests that stop this server have finished talking to it."""
        listeners = getattr(self.server, "servers", None) or []
        if not listeners:
            return
        loop = listeners[0].get_loop()

        def abort() -> None:
            for conn in list(self.server.server_state.connections):
                transport = getattr(conn, "transport", None)
                if transport is not None:
                    transport.abort()

        loop.call_soon_threadsafe(abort)
        time.sleep(0.05)

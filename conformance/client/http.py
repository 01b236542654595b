"""A defensive HTTP client for talking to a target (which may be broken or hostile).

* connect / read timeouts on every request, and an overall deadline per request;
* response size cap (decompressed: a gzip bomb stops at the cap);
* redirects followed by hand (at most 3); credentials are never sent to another origin;
* every exchange recorded as evidence (masked, capped);
* bearer tokens by client credentials, refreshed once on 401;
* TLS certificates verified, with the target's own CA bundle where it names one (``[tls] ca_file``:
  registered per origin by :func:`trust_ca`, or given as ``ca_file``), else with the system's trust store.

Every response the harness reads from a target goes through one read path: :func:`read_body` (size cap after
decompression, overall deadline with a watchdog), under :func:`send_bounded` (one request, no redirect followed)
and :func:`request_once` (that, recorded as evidence). :class:`TargetClient` adds auth and redirects on top; probes
that must send a request exactly as given (a token in the query, plain HTTP) call :func:`request_once`; the fuzzer's
session reads with :func:`read_body`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import orjson
import requests

from conformance.check.limits import JSONLimitError, loads_bounded
from conformance.client.evidence import Evidence, Exchange, body_text, json_facts, mask_headers, mask_text
from conformance.client.token import Token, read_token, token_form, token_path


class NotOffered(Exception):
    """The target's dialect declares it has no such exchange (a static key has no token endpoint): a check that
    needs it cannot run. It leaves the send path (the one exception that does), and the plugin records the check as
    ``not-offered`` with this message and the exchange's ``interface`` (docs/verdicts.md)."""

    def __init__(self, message: str, interface: str | None = None) -> None:
        super().__init__(message)
        self.interface = interface


class Edge(Protocol):
    """A translation at the harness's edge, set as a session's ``edge`` (a binding's, ``conformance.binding.edge``):
    the canonical request out in the target's dialect, the target's answer back in the canonical one.
    ``static_key``: the dialect authenticates with the caller's static key in place of a token (no token exchange:
    the key itself goes where the canonical contract sends the bearer token)."""

    static_key: bool

    def outbound(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest: ...

    def inbound(
        self, prepared: requests.PreparedRequest, status: int, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]: ...

    def wire(
        self, sent: requests.PreparedRequest, status: int, headers: dict[str, str], body: bytes
    ) -> dict[str, Any]: ...


DEFAULT_TIMEOUT = (3.05, 15.0)
MAX_RESPONSE = 8 * 1024 * 1024
MAX_REDIRECTS = 3


@dataclass
class TargetResponse:
    status: int | None
    headers: dict[str, str]
    content: bytes
    truncated: bool
    elapsed_ms: float
    error: str | None = None
    url: str = ""
    #: through a binding: the exchange as it crossed the wire, in the vendor's dialect (docs/bindings.md)
    wire: dict[str, Any] | None = None

    def json(self) -> Any:
        """The JSON body, or None when it is absent, truncated, not JSON or nested deeper than
        :data:`conformance.check.limits.MAX_JSON_DEPTH` (never raises)."""
        if self.truncated or not self.content:
            return None
        try:
            return loads_bounded(self.content, max_bytes=max(len(self.content), MAX_RESPONSE))
        except (orjson.JSONDecodeError, JSONLimitError):
            return None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        low = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == low), None)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port


#: CA bundles of targets with a private CA, by origin (the target file's ``[tls] ca_file``, see :func:`trust_ca`).
_CA_FILES: dict[tuple[str, str, int | None], str] = {}


def _ca_key(url: str) -> tuple[str, str, int | None]:
    scheme, host, port = _origin(url)
    return scheme, host, port or {"https": 443, "http": 80}.get(scheme)


def trust_ca(url: str, ca_file: str) -> None:
    """Verify the TLS certificates of ``url``'s origin with ``ca_file`` (a PEM bundle) instead of the system's store."""
    _CA_FILES[_ca_key(url)] = ca_file


#: base URL → the edge its traffic crosses (a binding's translation, :class:`Edge`)
_EDGES: dict[str, Edge] = {}


def bind_edge(base_url: str, edge: Edge | None) -> None:
    """Send every request under ``base_url`` through ``edge`` (None: no longer)."""
    base = base_url.rstrip("/")
    if edge is None:
        _EDGES.pop(base, None)
    else:
        _EDGES[base] = edge


def edge_for(url: str) -> Edge | None:
    """The edge of the longest registered base URL ``url`` lies under."""
    best = max(
        (b for b in _EDGES if url == b or url.startswith(b + "/") or url.startswith(b + "?")), key=len, default=None
    )
    return _EDGES[best] if best is not None else None


def static_key(url: str) -> bool:
    """Whether the target at ``url`` takes the caller's static key instead of a token (:attr:`Edge.static_key`)."""
    return bool(getattr(edge_for(url), "static_key", False))


def ca_file_for(url: str) -> str | None:
    """The CA bundle registered for ``url``'s origin, if any."""
    return _CA_FILES.get(_ca_key(url))


class TargetClient:
    def __init__(
        self,
        base_url: str,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        evidence: Evidence | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        max_bytes: int = MAX_RESPONSE,
        scope: str | None = None,
        ca_file: str | None = None,
        key_scopes: tuple[str, ...] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        #: CA bundle for the target's certificates (default: the one registered for its origin, else the system's)
        self.ca_file = ca_file or ca_file_for(self.base_url)
        self.client_id, self.client_secret, self.scope = client_id, client_secret, scope
        self.evidence = evidence or Evidence()
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.session = requests.Session()
        self.session.trust_env = False  # never route a target's traffic through an environment proxy
        self._token: Token | None = None
        #: the scopes a static key carries, as the target file declares them (no token answer names them)
        self.key_scopes = key_scopes

    # ------------------------------------------------------------------ auth
    def token(self, *, refresh: bool = False) -> str | None:
        if not self.client_id:
            return None
        if self._token and not refresh and self._token.fresh():
            return self._token.value
        if static_key(self.base_url):  # the dialect's own credential: no token exchange, nothing to ask for
            self._token = Token(self.client_secret or "", float("inf"), float("inf"), self.key_scopes)
            return self._token.value
        form = token_form(self.client_id, self.client_secret, self.scope)
        r = self.request("POST", token_path(), data=form, auth=False)
        token = read_token(r.status, r.content)
        if token is None:
            raise PermissionError(f"token request failed: {r.status} {r.error or ''}".strip())
        self._token = token
        return token.value

    @property
    def granted(self) -> Token | None:
        """The token in use (its scopes when the token endpoint named them), once one was issued."""
        return self._token

    # ------------------------------------------------------------------ requests
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        raw_body: bytes | None = None,
    ) -> TargetResponse:
        hdrs = dict(headers or {})
        if auth and self.client_id and "Authorization" not in hdrs:
            hdrs["Authorization"] = f"Bearer {self.token()}"
        body: bytes | None = raw_body
        if json is not None:
            body = orjson.dumps(json)
            hdrs.setdefault("Content-Type", "application/json")
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        resp = self._send(method, url, hdrs, body, data, params)
        if resp.status == 401 and auth and self.client_id and not (headers or {}).get("Authorization"):
            hdrs["Authorization"] = f"Bearer {self.token(refresh=True)}"
            resp = self._send(method, url, hdrs, body, data, params)
        return resp

    def get(self, path: str, **kw: Any) -> TargetResponse:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> TargetResponse:
        return self.request("POST", path, json=body, **kw)

    def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        data: Any,
        params: dict[str, Any] | None,
    ) -> TargetResponse:
        origin = _origin(url)
        for _hop in range(MAX_REDIRECTS + 1):
            resp, exchange = request_once(
                self.session,
                method,
                url,
                headers=headers,
                body=body,
                data=data,
                params=params,
                timeout=self.timeout,
                verify=self._verify(url),
                max_bytes=self.max_bytes,
            )
            self.evidence.add(exchange)
            if resp.status in (301, 302, 303, 307, 308) and resp.header("location"):
                url = urljoin(url, resp.header("location") or "")
                params = None
                if _origin(url) != origin:
                    # never carry credentials to another origin: not the headers, not a body (a token request's
                    # body holds the client secret)
                    headers = {
                        k: v
                        for k, v in headers.items()
                        if k.lower() not in ("authorization", "cookie", "content-type", "x-signature")
                    }
                    body, data = None, None
                    method = "GET" if method in ("POST", "PUT", "PATCH", "DELETE") else method
                elif resp.status in (301, 302, 303) and method not in ("GET", "HEAD"):
                    method, body, data = "GET", None, None
                continue
            return resp
        return resp

    def _verify(self, url: str) -> str | bool:
        """The CA bundle that verifies ``url`` (the target's own for its origin, one registered for another), or the
        system's trust store."""
        return self.ca_file if self.ca_file and _ca_key(url) == _ca_key(self.base_url) else ca_file_for(url) or True


# ---------------------------------------------------------------------- the one read path


@dataclass
class Body:
    """A response body as read by :func:`read_body`."""

    content: bytes
    #: over the size cap: ``content`` is its first ``max_bytes`` (and at most one chunk more)
    too_large: bool = False
    #: not complete within the deadline: cut
    too_slow: bool = False
    #: what broke the read (connection reset, bad chunking, undecodable gzip …), if anything did
    failure: Exception | None = None

    @property
    def truncated(self) -> bool:
        return self.too_large or self.too_slow


def read_body(response: requests.Response, *, max_bytes: int = MAX_RESPONSE, seconds: float) -> Body:
    """Read the body of a response sent with ``stream=True``: every response the harness reads goes through here.

    At most ``max_bytes`` after decompression (a gzip bomb is inflated no further than the cap), within ``seconds``
    from now (a watchdog shuts the socket on a body that trickles in below the read timeout). Never raises; the
    response is closed."""
    conn = getattr(response.raw, "_connection", None)
    sock = getattr(conn, "sock", None)
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        with contextlib.suppress(OSError):  # wakes a blocked read at once
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        response.close()

    chunks: list[bytes] = []
    size = 0
    too_large = False
    failure: Exception | None = None
    watchdog = threading.Timer(max(0.1, seconds), cut)
    watchdog.daemon = True
    watchdog.start()
    try:
        for chunk in response.iter_content(64 * 1024):
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                too_large = True
                break
    except Exception as exc:  # a broken target must never crash the harness
        failure = exc
    finally:
        watchdog.cancel()
        response.close()
    return Body(b"".join(chunks), too_large, expired.is_set(), None if expired.is_set() else failure)


def send_bounded(
    session: requests.Session,
    prepared: requests.PreparedRequest,
    *,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    verify: str | bool = True,
    max_bytes: int = MAX_RESPONSE,
    edge: Edge | None = None,
) -> TargetResponse:
    """Send one prepared request as it is (no redirect followed, headers as given) and read the answer with
    :func:`read_body`: connect and read timeouts, an overall deadline of connect + 2 × read, the size cap.
    ``edge``: the translation it crosses (default: the session's, else the one registered for its URL).
    Never raises for the target's sake: a request that fails has ``status`` None and an ``error``; only
    :class:`NotOffered` (the dialect declares no such exchange) leaves it."""
    started = time.perf_counter()
    budget = timeout[0] + timeout[1] * 2  # a trickling body cannot hold us longer than this
    status: int | None = None
    headers: dict[str, str] = {}
    body = Body(b"")
    error: str | None = None
    edge = edge or getattr(session, "edge", None) or edge_for(prepared.url or "")
    wire: dict[str, Any] | None = None
    try:
        sent = edge.outbound(prepared) if edge else prepared
        cert = getattr(edge, "cert", None)  # a binding's mutual TLS
        with session.send(sent, timeout=timeout, stream=True, allow_redirects=False, verify=verify, cert=cert) as r:
            status, headers = r.status_code, dict(r.headers)
            body = read_body(r, max_bytes=max_bytes, seconds=budget - (time.perf_counter() - started))
        if edge and not body.truncated and body.failure is None:
            wire = edge.wire(sent, status, headers, body.content)
            status, headers, content = edge.inbound(prepared, status, headers, body.content)
            body = Body(content)
    except NotOffered:
        raise  # not a failure of the target: the check needs an exchange the dialect declares it lacks
    except Exception as exc:  # network errors, and a broken target must never crash the harness
        error = f"{type(exc).__name__}: {exc}"[:500]
    if body.too_slow:
        error = f"response too slow: cut after {budget:.0f} s"
    elif body.too_large:
        error = f"response larger than {max_bytes} bytes: cut"
    elif body.failure is not None:
        error = f"{type(body.failure).__name__}: {body.failure}"[:500]
    elapsed = (time.perf_counter() - started) * 1000
    return TargetResponse(status, headers, body.content, body.truncated, elapsed, error, prepared.url or "", wire)


def request_once(
    session: requests.Session,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    data: Any = None,
    params: dict[str, Any] | None = None,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    verify: str | bool = True,
    max_bytes: int = MAX_RESPONSE,
    mask_url: bool = False,
    probe: bool = False,
) -> tuple[TargetResponse, Exchange]:
    """One request through :func:`send_bounded` and its evidence record (masked; not yet added to an
    :class:`Evidence`). ``mask_url`` masks credentials in the recorded URL (a probe that puts a token in the query);
    ``probe`` marks a deliberate probe whose failure to connect is an expected outcome."""
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
    req = requests.Request(method, url, headers=headers or {}, data=body if body is not None else data, params=params)
    prepared = session.prepare_request(req)
    req_body = (
        prepared.body if isinstance(prepared.body, bytes) else (prepared.body or "").encode() if prepared.body else None
    )
    req_text, _ = body_text(req_body)
    sent_url = prepared.url or url
    record = Exchange(
        method,
        mask_text(sent_url) if mask_url else sent_url,
        mask_headers(dict(prepared.headers)),
        req_text,
        started_at=stamp,
        probe=probe,
    )
    resp = send_bounded(session, prepared, timeout=timeout, verify=verify, max_bytes=max_bytes)
    text, capped = body_text(resp.content)
    record.status, record.response_headers = resp.status, mask_headers(resp.headers)
    record.response_body, record.response_truncated = text, capped or resp.truncated
    record.response_bytes, record.elapsed_ms, record.error = len(resp.content), round(resp.elapsed_ms, 1), resp.error
    if not resp.truncated:
        record.facts = json_facts(resp.content)
    record.wire = resp.wire
    return resp, record

"""What runs inside the Locust processes (local, master and workers): imported by the locustfiles of
``loadtests/`` only — importing Locust monkey-patches the process with gevent, so nothing else of the
harness imports this module.

* :class:`TzsbUser` — a ``FastHttpUser`` whose requests go through :class:`Api`: the host list is
  checked before a connection is opened (:mod:`conformance.load.guard`), redirects are never
  followed, every request has an overall time budget (a trickling target cannot hold a user) and a
  response size cap, tokens come from the target's token endpoint (one per process, refreshed
  before expiry), requests are signed when the target file asks for it;
* the **recorder** — classifies every request (ok, throttled with or without ``Retry-After``, 5xx,
  timeout, connection error, unexpected status, refused by the host guard), keeps per-second
  series for the chart and, for the measured window only (warm-up excluded, by each request's
  start time), mergeable latency histograms per operation; samples the generator's own CPU and the
  event-loop lag; workers ship their part to the master with each stats report;
* the **binding** (the target file's ``[binding]``, docs/bindings.md): every request crosses the binding's dialect
  through :mod:`conformance.load.dialects` (translated before its clock starts, read back after it stops), so the
  checks judge the canonical reading of the vendor's answer;
* the **timeline** (master or local process) — warm-up, measured window, stop with the users' stop
  timeout, the workers' last reports, the results file, quit; and a progress line every few seconds.

The configuration comes from ``--tzsb-config`` (a file on the master, forwarded as JSON text to the
workers with Locust's own custom-argument forwarding); the client secret from the environment
variable it names (never from a file).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import gevent
import gevent.lock
import orjson
import psutil
from locust import FastHttpUser, events
from locust.runners import WORKER_REPORT_INTERVAL, MasterRunner, WorkerRunner

from conformance.binding.model import BindingError
from conformance.check.schema import validator_at
from conformance.client.token import Token, read_token, token_form, token_path
from conformance.load.dialects import Outbound, Translation
from conformance.load.discovery import sign_headers
from conformance.load.guard import HostGuard
from conformance.load.histogram import coarse_key, fine_key, merge, percentile

CONFIG_OPTION = "--tzsb-config"
PROGRESS_PREFIX = "TZSB-PROGRESS "
STOP_MESSAGE, FINAL_MESSAGE = "tzsb_stop", "tzsb_final"
ERROR_SAMPLES = 30
ALL_STATUSES = frozenset(range(100, 600))


class LoadError(Exception):
    """A failed request as Locust's statistics see it (the kind is the recorder's classification)."""


# ============================================================================== configuration


class Config:
    """The run's configuration (see :mod:`conformance.load.engine` for the fields)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.role: str = data["role"]
        self.base_url: str = data["baseUrl"].rstrip("/")
        self.guard = HostGuard(data["allowedOrigins"])
        self.client_id: str | None = data.get("clientId")
        self.secret_env: str = data.get("secretEnv") or "TZSB_LOAD_SECRET"
        self.sign: str | None = data.get("sign")
        self.timeout: float = float(data["requestTimeoutS"])
        self.connect_timeout: float = min(3.05, self.timeout)
        self.max_bytes: int = int(data.get("maxResponseBytes", 8 * 1024 * 1024))
        self.think: float = float(data.get("thinkTimeS", 0))
        self.warmup: float = float(data["warmupS"])
        self.duration: float = float(data["durationS"])
        self.stop_timeout: float = float(data["stopTimeoutS"])
        self.users: int = int(data["users"])
        self.mix: dict[str, float] = dict(data.get("mix") or {})
        self.writes: str = data.get("writes", "reversible")
        self.scopes: set[str] | None = set(data["scopes"]) if data.get("scopes") is not None else None
        self.op_scopes: dict[str, Any] = data.get("opScopes") or {}
        self.features: set[str] = set(data.get("features") or [])
        self.pools: dict[str, Any] = data.get("pools") or {}
        self.options: dict[str, Any] = data.get("options") or {}
        self.results: str | None = data.get("results")
        self.progress_s: float = float(data.get("progressS", 2.0))
        self.seed: int = int(data.get("seed") or secrets.randbits(32))
        self.validate_rate: float = float(data.get("validateRate", 0.02))
        #: the target's binding: ``file``, ``sha256`` and the role ``urls`` its dialect is spoken at (None: canonical)
        self.binding: dict[str, Any] | None = data.get("binding")

    @property
    def secret(self) -> str:
        return os.environ.get(self.secret_env, "")

    def granted(self, operation_id: str) -> bool:
        """The load client's token carries a scope the operation needs (per the contract's ``x-scope``)."""
        needed = self.op_scopes.get(operation_id)
        if self.scopes is None or not needed:
            return True
        needed = [needed] if isinstance(needed, str) else list(needed)
        return any(s in self.scopes for s in needed)

    def may_write(self, reversible: bool) -> bool:
        return self.writes == "all" or (self.writes == "reversible" and reversible)


class _State:
    config: Config | None = None
    recorder: Recorder | None = None
    tokens: Tokens | None = None
    translation: Translation | None = None
    environment: Any = None
    t0: float | None = None


STATE = _State()


def config() -> Config:
    if STATE.config is None:
        raise RuntimeError("tzsb load configuration not loaded (--tzsb-config)")
    return STATE.config


@events.init_command_line_parser.add_listener
def _add_option(parser: Any, **_kw: Any) -> None:
    parser.add_argument(CONFIG_OPTION, type=str, default="", help="tzsb-conformance: run configuration (file or JSON)")


def _read_config(value: str) -> dict[str, Any]:
    value = value.strip()
    if value.startswith("{"):
        return json.loads(value)
    with open(value, encoding="utf-8") as fh:
        return json.load(fh)


@events.init.add_listener
def _on_init(environment: Any, **_kw: Any) -> None:
    STATE.environment = environment
    runner = environment.runner
    opts = environment.parsed_options
    value = getattr(opts, "tzsb_config", "") if opts else ""
    if isinstance(runner, WorkerRunner):
        STATE.recorder = Recorder(environment, "worker")
        if value:  # a worker started with its own copy; else the master's arrives with the first spawn message
            _configure_or_quit(_read_config(value))
        return
    if not value:
        raise SystemExit("tzsb: --tzsb-config is required on the master / local process")
    data = _read_config(value)
    # forward the configuration itself (not a path of this machine) to remote workers
    opts.tzsb_config = json.dumps({k: v for k, v in data.items() if k != "results"}, ensure_ascii=False)
    _configure_or_quit(data)
    STATE.recorder = Recorder(environment, "master" if isinstance(runner, MasterRunner) else "local")
    _apportion(environment, STATE.config)  # type: ignore[arg-type]


def _configure(data: dict[str, Any]) -> None:
    cfg = Config(data)
    STATE.translation = None
    if cfg.binding:  # read once per process; BindingError when it cannot be used here
        STATE.translation = Translation.open(
            cfg.binding["file"],
            cfg.binding.get("sha256"),
            dict(cfg.binding.get("urls") or {cfg.role: cfg.base_url}),
            lambda: {cfg.client_id: cfg.secret} if cfg.client_id and cfg.secret else {},
        )
    STATE.config = cfg
    STATE.tokens = Tokens()
    TzsbUser.network_timeout = cfg.timeout
    TzsbUser.connection_timeout = cfg.connect_timeout


def _configure_or_quit(data: dict[str, Any]) -> None:
    """Configure this process; a binding it cannot use ends it before any user starts (never load a target that
    speaks a dialect in the canonical one)."""
    try:
        _configure(data)
    except BindingError as exc:
        print(f"tzsb: 绑定不可用 / the binding cannot be used: {exc}", file=sys.stderr, flush=True)
        os._exit(2)


def _apportion(environment: Any, cfg: Config) -> None:
    """Users per class from the profile's mix (largest remainder; every class with weight gets one when
    there are enough users); classes without weight or not allowed are left out."""
    classes = [c for c in environment.user_classes if cfg.mix.get(c.__name__, 0) > 0 and c.enabled(cfg)]
    if not classes:
        # nothing this target lets the load do (no data, no scope, no writes allowed): an empty result,
        # so that every group is 未测 with the preflight's reasons — not a harness error
        rec = STATE.recorder
        if cfg.results and rec is not None:
            rec.t0 = rec.ws = rec.we = time.time()
            rec.notes.append(
                f"没有可运行的用户类（调用组合 {sorted(cfg.mix)} 中的类均因缺少数据、权限或写操作许可而未启用）/ "
                "no user class could run"
            )
            extra = {"procs": [], "usersAtStart": {}, "usersAtEnd": {}, "usersTarget": cfg.users, "workers": 0}
            _write_results(cfg.results, rec.results({**extra, "locust": __import__("locust").__version__}))
        print("tzsb: no user class is enabled: nothing to load", file=sys.stderr, flush=True)
        os._exit(0)
    weights = {c: cfg.mix[c.__name__] for c in classes}
    total = sum(weights.values())
    counts = {c: int(cfg.users * w / total) for c, w in weights.items()}
    if cfg.users >= len(classes):
        for c in classes:
            counts[c] = max(counts[c], 1)
    while sum(counts.values()) > cfg.users:
        c = max(counts, key=lambda k: (counts[k], -weights[k]))
        counts[c] -= 1
    rest = sorted(
        classes, key=lambda c: cfg.users * weights[c] / total - int(cfg.users * weights[c] / total), reverse=True
    )
    i = 0
    while sum(counts.values()) < cfg.users:
        counts[rest[i % len(rest)]] += 1
        i += 1
    kept = []
    for c in environment.user_classes:
        n = counts.get(c, 0)
        if n > 0:
            c.fixed_count = n
            kept.append(c)
    environment.user_classes[:] = kept


@events.test_start.add_listener
def _on_test_start(environment: Any, **_kw: Any) -> None:
    runner = environment.runner
    opts = environment.parsed_options
    if isinstance(runner, WorkerRunner):
        value = getattr(opts, "tzsb_config", "") if opts else ""
        if value and (STATE.config is None or STATE.config.data.get("runId") != _read_config(value).get("runId")):
            _configure_or_quit(_read_config(value))
        STATE.t0 = float(getattr(opts, "tzsb_t0", 0) or time.time())
        if STATE.recorder is not None:
            STATE.recorder.start(STATE.t0)
        return
    STATE.t0 = time.time()
    if opts is not None:
        opts.tzsb_t0 = STATE.t0  # forwarded to the workers with the spawn messages
    assert STATE.recorder is not None
    STATE.recorder.start(STATE.t0)
    gevent.spawn(_timeline, environment)
    gevent.spawn(_progress, environment)


# ============================================================================== tokens and signing


class Tokens:
    """One bearer token per process (like one calling system), renewed shortly before it expires
    (``conformance.client.token``); how a token is obtained is :func:`acquire_token`'s alone."""

    def __init__(self, acquire: Callable[[Api], Token | None] | None = None) -> None:
        self.acquire = acquire or acquire_token
        self.token: Token | None = None
        self.failed_at = 0.0
        self.lock = gevent.lock.Semaphore()

    @property
    def value(self) -> str | None:
        return self.token.value if self.token else None

    def get(self, api: Api, *, refresh: bool = False) -> str | None:
        cfg = config()
        if not cfg.client_id:
            return None
        if self.token and not refresh and self.token.fresh():
            return self.token.value
        if self.token is None and time.time() - self.failed_at < 1.0:
            return None  # the token endpoint just failed: no storm of token requests
        with self.lock:
            if self.token and not refresh and self.token.fresh():
                return self.token.value
            if self.token is None and time.time() - self.failed_at < 1.0:
                return None
            self.token = self.acquire(api)
            if self.token is None:
                self.failed_at = time.time()
            return self.value


def acquire_token(api: Api) -> Token | None:
    """One token request: the contract's client-credentials grant (its token URL and form), sent like every other
    request — through the binding when the target has one, which renames the form and the answer — and the answer
    read by ``conformance.client.token``. None when the target gave no token."""
    cfg = config()
    if STATE.translation is not None and STATE.translation.binding.api_key_header:
        return Token(cfg.secret, float("inf"), float("inf"), None)  # a static key: no token exchange to ask
    reply = api.call(
        "auth.token",
        "issueToken",
        "POST",
        token_path(),
        raw=urlencode(token_form(cfg.client_id or "", cfg.secret)).encode(),
        content_type="application/x-www-form-urlencoded",
        auth=False,
        expect=(200,),
        envelope=False,
        parse=False,
    )
    return read_token(reply.status, reply.content) if reply.ok else None


# ============================================================================== requests


class _Overdue(Exception):
    """The request's overall time budget ran out."""


class _TooLarge(Exception):
    pass


@dataclass
class Reply:
    status: int | None
    ok: bool
    outcome: str
    elapsed_ms: float
    content: bytes = b""
    data: Any = None
    headers: Any = None
    error: str | None = None


class Api:
    """The requests of one user (its own connection, like one caller)."""

    def __init__(self, user: TzsbUser) -> None:
        self.user = user
        self.agent = user.client.client
        self.agent.valid_response_codes = ALL_STATUSES  # every answer is classified by the recorder
        self.agent.cookiejar = None
        self.uid = f"{STATE.recorder.proc_id if STATE.recorder else 'p'}-{id(user)}"

    def call(
        self,
        group: str,
        op: str,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        raw: bytes | None = None,
        content_type: str | None = None,
        expect: tuple[int, ...] = (200,),
        auth: bool = True,
        envelope: bool = True,
        parse: bool = True,
        records: int | Callable[[Any], int] | None = None,
        validate: str | dict[int, str | None] | None = None,
    ) -> Reply:
        """One request (once more with a new token after a 401); recorded under ``group`` and operation ``op``.
        ``data`` is the envelope's ``data`` (the whole JSON body with ``envelope=False``); ``records`` counts records
        moved. ``validate``: the contract's response schema (URI, or URI per status); a sample of the answers
        (``validateRate`` of the configuration) is checked against it, and a 2xx answer that breaks it is an error
        (“invalid”): a fast wrong answer is not a fast answer.

        Through a binding the request is built canonically, as here, and crosses the binding's dialect on its way
        out and back (:mod:`conformance.load.dialects`); everything judged here is the canonical reading of the
        answer, and the time measured is the exchange on the wire alone."""
        cfg = config()
        translation = STATE.translation
        url = path if path.startswith(("http://", "https://")) else cfg.base_url + path
        if params:
            # through a binding, encoded as the dialect re-encodes it, so that a signature over it crosses intact
            url += ("&" if "?" in url else "?") + urlencode(
                params, doseq=True, quote_via=quote if translation else quote_plus
            )
        if not cfg.guard.allows(url):
            reply = Reply(None, False, "refused", 0.0, error=f"refused: {url} is outside the target's host list")
            _record(self, group, op, method, url, time.time(), reply, 0)
            return reply
        payload = orjson.dumps(body) if body is not None else raw
        ctype = "application/json" if body is not None else content_type
        for retry in (False, True):
            start_time = time.time()
            headers = {"Accept": "application/json", "User-Agent": "tzsb-conformance-load"}
            if ctype:
                headers["Content-Type"] = ctype
            if auth and STATE.tokens is not None:
                token = STATE.tokens.get(self)
                if token:
                    headers["Authorization"] = f"Bearer {token}"
            if auth and cfg.sign:
                headers.update(sign_headers(cfg.sign, cfg.secret, method, url, payload or b""))
            wire: Outbound | None = None
            if translation is not None:
                try:
                    wire = translation.outbound(method, url, headers, payload)
                except Exception as exc:  # BindingError: a request the binding cannot express is not sent
                    reply = Reply(None, False, "untranslatable", 0.0, error=f"{type(exc).__name__}: {exc}"[:300])
                    _record(self, group, op, method, url, start_time, reply, 0)
                    return reply
            t0 = time.perf_counter()
            status: int | None = None
            content = b""
            rh: Any = None
            error: str | None = None
            outcome = "ok"
            resp = None
            try:
                with gevent.Timeout(cfg.timeout, _Overdue()):
                    if wire is None:
                        resp = self.agent.urlopen(url, method=method, headers=headers, payload=payload)
                    else:
                        resp = self.agent.urlopen(wire.url, method=method, headers=wire.headers, payload=wire.body)
                    status, rh = resp.status_code, resp.headers
                    content = _read(resp, cfg.max_bytes)
            except _Overdue:
                outcome, error = "timeout", f"no complete answer within {cfg.timeout:g} s"
            except _TooLarge:
                outcome, error = "too-large", f"response larger than {cfg.max_bytes} bytes"
            except Exception as exc:  # a broken target must never crash a user
                original = getattr(exc, "original", None) or exc
                text = f"{type(original).__name__}: {original}"[:300]
                timed = isinstance(original, (TimeoutError, socket.timeout, gevent.Timeout)) or "timed out" in text
                outcome, error = ("timeout" if timed else "connection"), text
            finally:
                if resp is not None:
                    with contextlib.suppress(Exception):
                        resp.release()
            elapsed = (time.perf_counter() - t0) * 1000
            if wire is not None and status is not None and outcome == "ok":
                try:  # the vendor's answer read as the canonical one, before anything judges it
                    status, rh, content = translation.inbound(wire, status, rh, content)  # type: ignore[union-attr]
                except Exception as exc:  # never expected: the dialect lets what it cannot read cross unchanged
                    outcome, error = "untranslatable", f"{type(exc).__name__}: {exc}"[:300]
                    status = None
            if status is not None:
                if status in expect:
                    outcome = "ok"
                elif status == 429:
                    outcome = "throttled" if _has(rh, "retry-after") else "throttled-no-retry-after"
                elif status >= 500:
                    outcome = "5xx"
                else:
                    outcome = f"status-{status}"
            schema = validate.get(status) if isinstance(validate, dict) and status is not None else validate
            if (
                outcome == "ok"
                and isinstance(schema, str)
                and self.user.rng.random() < cfg.validate_rate
                and not _valid(schema, content)
            ):
                outcome, error = "invalid", "the answer does not validate against the contract's response schema"
            reply = Reply(status, outcome == "ok", outcome, elapsed, content, None, rh, error)
            if reply.ok and parse and content:
                try:
                    body_json = orjson.loads(content)
                    reply.data = body_json.get("data") if envelope and isinstance(body_json, dict) else body_json
                except orjson.JSONDecodeError:
                    reply.data = None
            n = 0
            if reply.ok and records is not None:
                try:
                    n = records(reply.data) if callable(records) else int(records)
                except Exception:
                    n = 0
            _record(self, group, op, method, url, start_time, reply, n)
            if retry or status != 401 or not auth or STATE.tokens is None or not cfg.client_id:
                break
            STATE.tokens.get(self, refresh=True)  # a revoked or expired token: once more with a new one
        return reply


def _valid(schema_uri: str, content: bytes) -> bool:
    try:
        return bool(validator_at(schema_uri).is_valid(orjson.loads(content)))
    except orjson.JSONDecodeError:
        return False


def _has(headers: Any, name: str) -> bool:
    if headers is None:
        return False
    try:
        return bool(headers.get(name))
    except Exception:
        return False


def _read(resp: Any, cap: int) -> bytes:
    chunks = []
    size = 0
    while True:
        chunk = resp.read(65536)
        if not chunk:
            break
        size += len(chunk)
        if size > cap:
            raise _TooLarge
        chunks.append(chunk)
    data = b"".join(chunks)
    encoding = ""
    with contextlib.suppress(Exception):
        encoding = (resp.headers.get("content-encoding") or "").lower()
    if encoding in ("gzip", "deflate") and data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
        data = d.decompress(data, cap + 1)
        if len(data) > cap:
            raise _TooLarge
    return data


def _record(
    api: Api, group: str, op: str, method: str, url: str, start_time: float, reply: Reply, records: int
) -> None:
    env = STATE.environment
    exc = None if reply.outcome in ("ok", "throttled") else LoadError(f"{reply.outcome}: {reply.error or reply.status}")
    if reply.outcome == "throttled":
        exc = LoadError("throttled (429 with Retry-After)")
    env.events.request.fire(
        request_type=method,
        name=f"{group} {op}",
        response_time=reply.elapsed_ms,
        response_length=len(reply.content),
        exception=exc,
        start_time=start_time,
        url=url,
        response=None,
        context={"tzsb": (group, op, reply.outcome, records, api.uid, reply.status)},
    )


# ============================================================================== users


class TzsbUser(FastHttpUser):
    """Base of the locustfiles' users: guarded requests, think time from the profile."""

    abstract = True
    max_redirects = 0  # a redirect is recorded as it is, never followed (it could leave the host list)
    max_retries = 0
    insecure = False  # TLS certificates of the target are verified
    concurrency = 1
    #: (operation ids, reversible) a class needs: it is left out when the load client lacks the scopes,
    #: or when it writes and the target file does not allow it.
    operations: tuple[str, ...] = ()
    writes: bool = False
    reversible: bool = False

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self.api = Api(self)
        self.cfg = config()
        self.rng = __import__("random").Random(self.cfg.seed ^ id(self))

    def wait_time(self) -> float:
        return config().think

    @classmethod
    def enabled(cls, cfg: Config) -> bool:
        if cls.writes and not cfg.may_write(cls.reversible):
            return False
        return all(cfg.granted(op) for op in cls.operations)


# ============================================================================== recorder


class _Agg:
    """Counts of one operation in one phase."""

    __slots__ = ("bytes", "errors", "hist", "ok", "records", "throttled", "timeouts", "users")

    def __init__(self) -> None:
        self.ok = 0
        self.timeouts = 0
        self.throttled = 0
        self.records = 0
        self.bytes = 0
        self.errors: dict[str, int] = {}
        self.hist: dict[int, int] = {}
        self.users: set[str] = set()

    def dump(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "timeouts": self.timeouts,
            "throttled": self.throttled,
            "records": self.records,
            "bytes": self.bytes,
            "errors": dict(self.errors),
            "hist": dict(self.hist),
            "users": sorted(self.users),
        }

    def load(self, d: dict[str, Any]) -> None:
        self.ok += d["ok"]
        self.timeouts += d["timeouts"]
        self.throttled += d["throttled"]
        self.records += d["records"]
        self.bytes += d["bytes"]
        for k, n in d["errors"].items():
            self.errors[k] = self.errors.get(k, 0) + n
        merge(self.hist, d["hist"])
        self.users.update(d["users"])


class Recorder:
    def __init__(self, environment: Any, kind: str) -> None:
        self.environment = environment
        self.kind = kind
        self.host = socket.gethostname()
        self.proc_id = f"{self.host}:{os.getpid()}"
        self.t0: float | None = None
        self.ws = self.we = 0.0
        self.reset()
        self.procs: dict[str, dict[str, Any]] = {}
        self.leftover_sources: list[Callable[[], list[dict[str, Any]]]] = []
        self.leftovers_remote: dict[str, list[dict[str, Any]]] = {}
        self.notes_remote: dict[str, list[str]] = {}
        self.notes: list[str] = []
        self.started = False
        self.monitor: gevent.Greenlet | None = None
        self.finals: set[str] = set()
        environment.events.request.add_listener(self.on_request)
        runner = environment.runner
        if kind == "worker":
            environment.events.report_to_master.add_listener(self.on_report_to_master)
            runner.register_message(STOP_MESSAGE, self.on_stop_message, concurrent=True)
        else:
            environment.events.worker_report.add_listener(self.on_worker_report)
            if kind == "master":
                runner.register_message(FINAL_MESSAGE, self.on_final_message)

    def reset(self) -> None:
        self.window: dict[str, dict[str, _Agg]] = {}
        self.warm: dict[str, list[int]] = {}  # group → [ok, errors, throttled]
        self.after: dict[str, list[int]] = {}
        self.series: dict[int, dict[str, list[Any]]] = {}
        self.errors: list[dict[str, Any]] = []
        self.refused = 0
        self.cpu: list[list[float]] = []  # [t, process cpu seconds, machine cpu %]
        self.lag: list[list[float]] = []  # [t, max lag ms in the second]
        self.crossed: list[float] = [0, 0.0]  # through a binding: requests translated, seconds spent translating

    def _fold_translation(self) -> None:
        """Add what this process's translation cost since the last fold (conformance.load.dialects)."""
        if STATE.translation is not None:
            n, seconds = STATE.translation.cost()
            self.crossed[0] += n
            self.crossed[1] += seconds

    def start(self, t0: float) -> None:
        cfg = config()
        self.t0 = t0
        self.ws = t0 + cfg.warmup
        self.we = self.ws + cfg.duration
        if not self.started:
            self.started = True
            self.monitor = gevent.spawn(self._monitor)

    # ---------------------------------------------------------------------- per request (hot path)
    def on_request(
        self,
        request_type: str,
        name: str,
        response_time: float,
        response_length: int,
        exception: Any = None,
        context: Any = None,
        start_time: float | None = None,
        url: str | None = None,
        **_kw: Any,
    ) -> None:
        info = context.get("tzsb") if context else None
        if info is None:
            return
        group, op, outcome, records, uid, status = info
        st = start_time or time.time()
        sec = int(st)
        row = self.series.get(sec)
        if row is None:
            row = self.series[sec] = {}
        cell = row.get(group)
        if cell is None:
            cell = row[group] = [0, 0, 0, 0, {}]
        timed = outcome == "timeout"
        if outcome == "ok" or timed:
            k = coarse_key(response_time)
            hist = cell[4]
            hist[k] = hist.get(k, 0) + 1
        if outcome == "ok":
            cell[0] += 1
            cell[3] += records
        elif outcome == "throttled":
            cell[2] += 1
        else:
            cell[1] += 1
        if self.t0 is None or st < self.ws or st >= self.we:
            phase = self.warm if self.t0 is None or st < self.ws else self.after
            c = phase.get(group)
            if c is None:
                c = phase[group] = [0, 0, 0]
            c[0 if outcome == "ok" else 2 if outcome == "throttled" else 1] += 1
            return
        ops = self.window.get(group)
        if ops is None:
            ops = self.window[group] = {}
        agg = ops.get(op)
        if agg is None:
            agg = ops[op] = _Agg()
        agg.users.add(uid)
        if outcome == "ok" or timed:
            k = fine_key(response_time)
            agg.hist[k] = agg.hist.get(k, 0) + 1
        if outcome == "ok":
            agg.ok += 1
            agg.records += records
            agg.bytes += response_length
        elif outcome == "throttled":
            agg.throttled += 1
        else:
            agg.errors[outcome] = agg.errors.get(outcome, 0) + 1
            if timed:
                agg.timeouts += 1
            if outcome == "refused":
                self.refused += 1
            if len(self.errors) < ERROR_SAMPLES:
                self.errors.append(
                    {
                        "t": round(st, 3),
                        "group": group,
                        "op": op,
                        "outcome": outcome,
                        "status": status,
                        "url": (url or "")[:300],
                        "error": str(exception)[:300] if exception else None,
                        "ms": round(response_time, 1),
                    }
                )

    # ---------------------------------------------------------------------- monitoring
    def _monitor(self) -> None:
        """Own CPU (seconds used, cumulative), machine CPU %, event-loop lag; once a second."""
        proc = psutil.Process()
        psutil.cpu_percent(None)
        interval = 0.25
        worst = 0.0
        last = time.perf_counter()
        tick = 0
        while True:
            gevent.sleep(interval)
            now = time.perf_counter()
            worst = max(worst, (now - last - interval) * 1000)
            last = now
            tick += 1
            if tick % 4 == 0:
                times = proc.cpu_times()
                t = time.time()
                self.cpu.append([round(t, 3), round(times.user + times.system, 3), psutil.cpu_percent(None)])
                self.lag.append([round(t, 3), round(worst, 1)])
                worst = 0.0

    # ---------------------------------------------------------------------- distribution
    def _proc(self) -> dict[str, Any]:
        return {
            "id": self.proc_id,
            "host": self.host,
            "kind": self.kind,
            "pid": os.getpid(),
            "cpus": psutil.cpu_count(),
        }

    def _snapshot(self) -> dict[str, Any]:
        self._fold_translation()
        return {
            "proc": self._proc(),
            "now": time.time(),
            "window": {g: {op: a.dump() for op, a in ops.items()} for g, ops in self.window.items()},
            "warm": self.warm,
            "after": self.after,
            "series": {str(s): v for s, v in self.series.items()},
            "errors": self.errors,
            "refused": self.refused,
            "cpu": self.cpu,
            "lag": self.lag,
            "leftovers": self.leftovers(),
            "notes": self.notes,
            "crossed": self.crossed,
        }

    def leftovers(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for source in self.leftover_sources:
            with contextlib.suppress(Exception):
                out += source()
        return out

    def _take(self) -> dict[str, Any]:
        """A snapshot of what was recorded since the last one, and a reset (no yield in between)."""
        snap = self._snapshot()
        cpu, notes = self.cpu, self.notes
        self.reset()
        self.cpu = cpu[-1:]  # the last sample stays, so that the master can take differences over the window
        self.notes = notes
        return snap

    def on_report_to_master(self, client_id: str, data: dict[str, Any], **_kw: Any) -> None:
        data["tzsb"] = self._take()

    def on_stop_message(self, environment: Any, msg: Any, **_kw: Any) -> None:
        """The master's end of the window: stop the users here (each finishes its request and cleans up
        within the stop timeout), then send everything recorded since the last report."""
        runner = environment.runner
        with contextlib.suppress(Exception):
            runner.stop_users(dict(runner.user_classes_count))
        runner.send_message(FINAL_MESSAGE, self._take())

    def on_final_message(self, environment: Any, msg: Any, **_kw: Any) -> None:
        self.on_worker_report(msg.node_id, {"tzsb": msg.data})
        self.finals.add(msg.node_id)

    def on_worker_report(self, client_id: str, data: dict[str, Any], **_kw: Any) -> None:
        snap = data.get("tzsb")
        if not snap:
            return
        received = time.time()
        proc = self.procs.setdefault(snap["proc"]["id"], {**snap["proc"], "cpu": [], "lag": [], "skew": []})
        proc["cpu"] += [c for c in snap["cpu"] if not proc["cpu"] or c[0] > proc["cpu"][-1][0]]
        proc["lag"] += snap["lag"]
        proc["skew"].append(round(snap["now"] - received, 3))
        self.merge(snap)
        self.leftovers_remote[snap["proc"]["id"]] = snap["leftovers"]
        self.notes_remote[snap["proc"]["id"]] = snap["notes"]

    def merge(self, snap: dict[str, Any]) -> None:
        for g, ops in snap["window"].items():
            mine = self.window.setdefault(g, {})
            for op, d in ops.items():
                mine.setdefault(op, _Agg()).load(d)
        for name, phase in (("warm", self.warm), ("after", self.after)):
            for g, c in snap[name].items():
                p = phase.setdefault(g, [0, 0, 0])
                for i in range(3):
                    p[i] += c[i]
        for s, row in snap["series"].items():
            mine_row = self.series.setdefault(int(s), {})
            for g, cell in row.items():
                m = mine_row.setdefault(g, [0, 0, 0, 0, {}])
                for i in range(4):
                    m[i] += cell[i]
                merge(m[4], cell[4])
        room = ERROR_SAMPLES - len(self.errors)
        if room > 0:
            self.errors += snap["errors"][:room]
        self.refused += snap["refused"]
        crossed = snap.get("crossed") or [0, 0.0]
        self.crossed[0] += crossed[0]
        self.crossed[1] += crossed[1]

    # ---------------------------------------------------------------------- results
    def results(self, extra: dict[str, Any]) -> dict[str, Any]:
        cfg = config()
        self._fold_translation()
        own = {**self._proc(), "cpu": self.cpu, "lag": self.lag, "skew": []}
        leftovers = self.leftovers() + [x for v in self.leftovers_remote.values() for x in v]
        notes = list(dict.fromkeys(self.notes + [n for v in self.notes_remote.values() for n in v]))
        return {
            "schema": "tzsb-load-raw/1",
            "runId": cfg.data.get("runId"),
            "role": cfg.role,
            "t0": self.t0,
            "window": [self.ws, self.we],
            "warmupS": cfg.warmup,
            "durationS": cfg.duration,
            "groups": {g: {op: a.dump() for op, a in ops.items()} for g, ops in self.window.items()},
            "warm": self.warm,
            "after": self.after,
            "series": {str(s): row for s, row in sorted(self.series.items())},
            "errors": self.errors,
            "refused": self.refused,
            "procs": [own, *self.procs.values()],
            "leftovers": leftovers,
            "notes": notes,
            "translation": {"requests": int(self.crossed[0]), "seconds": round(self.crossed[1], 6)},
            **extra,
        }


def register_leftovers(source: Callable[[], list[dict[str, Any]]]) -> None:
    """A user's records created at the target and not deleted yet (reported if cleanup does not finish)."""
    if STATE.recorder is not None:
        STATE.recorder.leftover_sources.append(source)


def note(text: str) -> None:
    """A remark for the report (once per text): a class that could not do part of its work, and why."""
    rec = STATE.recorder
    if rec is not None and text not in rec.notes:
        rec.notes.append(text)


# ============================================================================== timeline (master / local)


def _users(runner: Any) -> dict[str, int]:
    with contextlib.suppress(Exception):
        if isinstance(runner, MasterRunner):
            out: dict[str, int] = {}
            for w in runner.clients.values():
                for k, n in (w.user_classes_count or {}).items():
                    out[k] = out.get(k, 0) + n
            return out
        return dict(runner.user_classes_count)
    return {}


def _timeline(environment: Any) -> None:
    cfg = config()
    rec = STATE.recorder
    assert rec is not None and rec.t0 is not None
    runner = environment.runner
    extra: dict[str, Any] = {"usersTarget": cfg.users, "locust": __import__("locust").__version__}
    try:
        gevent.sleep(max(0.0, rec.ws - time.time()))
        extra["usersAtStart"] = _users(runner)
        extra["workers"] = len(runner.clients) if isinstance(runner, MasterRunner) else 0
        _emit({"event": "measure", "users": sum(extra["usersAtStart"].values())})
        gevent.sleep(max(0.0, rec.we - time.time()))
        extra["usersAtEnd"] = _users(runner)
        _emit({"event": "stopping"})
        stopped = time.time()
        if isinstance(runner, MasterRunner):
            # each worker stops its users (current request, then on_stop's cleanup, within the stop timeout)
            # and answers with everything it recorded since its last report
            expected = set(runner.clients.keys())
            runner.send_message(STOP_MESSAGE, {})
            deadline = time.time() + cfg.stop_timeout + WORKER_REPORT_INTERVAL + 5
            while not expected <= rec.finals and time.time() < deadline:
                gevent.sleep(0.1)
            missing = sorted(expected - rec.finals)
            if missing:
                rec.notes.append(
                    f"{len(missing)} 个工作进程未在时限内交回最后的统计 / {len(missing)} worker(s) sent no final report"
                )
        else:
            runner.stop()  # users finish their current request (stop timeout), then on_stop (cleanup)
        extra["stopS"] = round(time.time() - stopped, 2)
        extra["ended"] = time.time()
        if cfg.results:
            _write_results(cfg.results, rec.results(extra))
        _emit({"event": "done"})
    except Exception as exc:  # never leave the run hanging
        print(f"tzsb: timeline failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
    finally:
        runner.quit()


def _write_results(path: str, data: dict[str, Any]) -> None:
    with open(path + ".tmp", "wb") as fh:
        fh.write(orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS))
    os.replace(path + ".tmp", path)


def _emit(data: dict[str, Any]) -> None:
    sys.stdout.write(PROGRESS_PREFIX + json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _progress(environment: Any) -> None:
    """A progress line every few seconds: phase, users, requests/s, errors, p95 (coarse), own CPU."""
    cfg = config()
    rec = STATE.recorder
    assert rec is not None and rec.t0 is not None
    runner = environment.runner
    proc = psutil.Process()
    proc.cpu_percent(None)
    lag = 2 if isinstance(runner, MasterRunner) else 0  # worker data arrives every 3 s
    while True:
        gevent.sleep(cfg.progress_s)
        now = time.time()
        lo, hi = int(now - cfg.progress_s) - lag, int(now) - lag
        ok = err = thr = 0
        hist: dict[int, int] = {}
        for s in range(lo, hi):
            for cell in rec.series.get(s, {}).values():
                ok += cell[0]
                err += cell[1]
                thr += cell[2]
                merge(hist, cell[4])
        total = ok + err + thr
        span = max(1, hi - lo)
        phase = "warmup" if now < rec.ws else "measure" if now < rec.we else "stop"
        cpu = proc.cpu_percent(None)
        if isinstance(runner, MasterRunner):  # the workers generate the load: show the busiest one
            busiest = [
                (p["cpu"][-1][1] - p["cpu"][-2][1]) / max(1e-6, p["cpu"][-1][0] - p["cpu"][-2][0]) * 100
                for p in rec.procs.values()
                if len(p["cpu"]) >= 2
            ]
            cpu = max(busiest, default=0.0)
        _emit(
            {
                "event": "progress",
                "t": round(now - rec.t0, 1),
                "phase": phase,
                "users": runner.user_count,
                "rps": round(total / span, 1),
                "errors": round(err / total, 4) if total else 0.0,
                "p95": percentile(hist, 95, coarse=True),
                "cpu": round(cpu, 1),
                "elapsed": round(now - rec.t0, 1),
                "total": round(cfg.warmup + cfg.duration, 1),
            }
        )

"""Contract fuzzing of any target with schemathesis: ``fuzz(doc, base_url, ...) -> FuzzReport``.

Loads ``schemas/openapi/<doc>.yaml`` (``from_dict`` of the document as written, with the schema's
``location`` set to the file, exactly what ``schemathesis.openapi.from_path`` does, so the relative
``$ref``s into ``../json/*.schema.json`` and ``common.yaml`` resolve against the file), points it at
``base_url`` and, for every operation (or the given operation ids), sends

* **coverage** cases (schemathesis' deterministic coverage phase: boundary values, missing and
  wrongly typed fields, undeclared methods, undeclared and malformed ``Content-Type`` …), at most
  ``max_coverage`` per operation, picked round-robin over the coverage scenarios so every kind of
  probe is represented; and
* **fuzzing** cases: ``max_examples`` positive and ``max_examples`` negative cases drawn by Hypothesis
  from ``operation.as_strategy(mode)`` under a fixed seed (``@hypothesis.seed``, no database, no
  shrinking). The seed is reported with every failure; the same seed against the same target sends
  the same requests.

Every ``tzsb-*`` format gets valid values of the identifier library (``fast_valid``: the generator of
``conformance.codes.strategies.valid``), so positive data carries realistic identifiers.
Authentication: a bearer token from ``{base_url}/oauth/token`` (client credentials), fetched once,
cached, fetched again when a request with it is answered 401 (that request is replayed once). It is
applied through the schema's own auth storage (``schema.auth()``), not registered globally, and
schemathesis leaves it off where it removes credentials on purpose (negative security cases).

Checks on every response: **all** of schemathesis' built-in checks (every check registered by
schemathesis itself, enabled by its default configuration), each run on its own so that a failure
names its check, plus every check registered in :mod:`conformance.fuzz.checks` (``CHECKS``, in the order they
are defined; ``python -m conformance.fuzz.checks`` prints them as a table).

Safety: every request has a timeout (``request_timeout``: connect, each read, and the whole body)
and a size cap (``max_response_bytes``); the run has a ``deadline`` (seconds) after which it stops
and names the operations not (fully) tested; network errors, non-HTTP answers, oversized bodies
and a failing token endpoint are failures in the report, never exceptions. Redirects are followed
only within the target's origin.

Configuration decisions (schemathesis' defaults against the tzsb-conformance profile)
------------------------------------------------------------------------------------

All built-in checks stay on; where the contract allows more than schemathesis assumes, the
expectation is widened for exactly that case, never by switching a check off:

1. ``negative_data_rejection`` expects ``400 401 403 404 405 406 409 413 415 422 428 429 5xx``:
   schemathesis' list plus **413**, documented by common.yaml for a body over the target's limit.
2. ``positive_data_acceptance``: a **400 on an operation that documents 400** is accepted.
   common.yaml's ``BadRequest`` covers "业务规则不满足" and the descriptions name such rules
   (``registration.equipmentCode`` must equal ``equipment.equipmentCode``; the item must fit the
   equipment's catalogue; only corrected reports …) which JSON Schema does not express, so
   schema-valid data can rightly be refused. Operations whose positive cases are never accepted
   get a note in ``OperationStats.notes`` (the functional suites must exercise them).
   Also, a "positive" case that violates a ``tzsb-*`` format is not positive: the coverage phase
   builds values from ``pattern`` / lengths only (e.g. the USCC ``000000000000000000``), so the
   request is re-validated with the project's validators (``_valid_by_contract``) first.
3. **405** is defined once in ``common.yaml#/components/responses/MethodNotAllowed`` ("任何路径都可能
   产生，不在各操作中逐一列出"): schemathesis already skips status checks for its undeclared-method
   probes, and ``response_contract`` validates such a 405 against that response (JSON error envelope).
   ``unsupported_method`` (405 with ``Allow``) and ``allow_header_conformance`` run as they are.
4. Optional features: parameters marked ``x-optional-feature`` (the ``request-signature`` headers
   ``X-Timestamp`` / ``X-Nonce`` / ``X-Signature`` / ``X-Signature-Method``) are removed from the
   document unless the target declares the feature (``optional_features``): common.yaml says a
   server without the feature ignores them, so a negative case whose only invalid part is such a
   header is not negative for that target; and the fuzzer cannot sign, so a target with the feature
   would answer everything 401 (the security suite tests signing).
5. ``not_a_server_error`` keeps ``2xx 3xx 4xx``: a 5xx is a failure although every operation lists
   500 / 503 (a conformant server does not fail on fuzzed input).
6. ``ignored_auth`` (re-sends a successful request without and with invalid credentials) runs until it
   has confirmed once per operation that auth is enforced, as schemathesis' own engine does.
7. ``max_response_time`` is on only when ``max_response_time`` is given.
8. The project checks are passed explicitly, not registered with ``@schemathesis.check`` (which would
   switch them on for every schemathesis run in the process).
9. One connection per request (``Connection: close``) unless ``keep_alive``: each case stands alone,
   so a request the target mis-parses (a body it never read) cannot corrupt the next case, and the
   curl reproduction is exactly one exchange.

Stateful testing (schemathesis' link-based phase) is not run: the contracts declare no OpenAPI
links; the functional and workflow suites cover state.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import requests
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from conformance.client.http import static_key
from conformance.client.token import read_token, token_form, token_path

#: Every OpenAPI document with operations (``workflow-driver`` is served by the licensing role).
DOCS: tuple[str, ...] = ("supervision", "licensing", "workflow-driver", "gov-platform", "inspection", "sharing")
#: Phases ``fuzz`` can run.
PHASES: tuple[str, ...] = ("coverage", "fuzzing")
DEFAULT_MAX_RESPONSE = 8 * 1024 * 1024

NEGATIVE_EXPECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]


#: Characters of a response body kept with a failure.
EXCERPT = 1000
#: Answered exchanges kept per operation, phase and generation mode as the item's evidence.
SAMPLES_PER_KIND = 2


def _excerpt(response: Any) -> str:
    if response is None:
        return ""
    content = response.content or b""
    return _clip(content[: EXCERPT * 4].decode("utf-8", errors="replace"), EXCERPT)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sample(stats: OperationStats, response: Any, where: dict[str, str]) -> None:
    """Keep ``response`` (and its request) among the operation's samples while its phase and mode have room."""
    from conformance.client.evidence import body_text, mask_headers, mask_text

    kind = f"{where['phase']}/{where['mode']}"
    if sum(1 for x in stats.samples if x["kind"] == kind) >= SAMPLES_PER_KIND:
        return
    request = response.request
    body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
    stats.samples.append(
        {
            "kind": kind,
            "mode": where["mode"],
            "method": request.method or "",
            "url": mask_text(request.url or ""),
            "request_headers": mask_headers(dict(request.headers)),
            "request_body": body_text(body)[0],
            "status": response.status_code,
            "response_headers": {
                k: ", ".join(v) if isinstance(v, list) else str(v)
                for k, v in response.headers.items()
                if k.lower() == "content-type"
            },
            "response_body": mask_text(_excerpt(response)),
            # schemathesis' response: seconds as a float (requests': a timedelta)
            "elapsed_ms": round(getattr(response.elapsed, "total_seconds", lambda: response.elapsed)() * 1000, 1),
        }
    )


class ResponseTooLarge(requests.exceptions.RequestException):
    """The response body exceeded the size cap."""


class _OutOfTime(KeyboardInterrupt):
    """The run's deadline passed (a BaseException, so Hypothesis stops at once instead of shrinking)."""


# ============================================================================================ report


@dataclass
class FuzzFailure:
    """One distinct finding: operation, check, bilingual explanation, status, reproduction, seed."""

    operation: str
    label: str
    check: str
    title: str
    message_zh: str
    message_en: str
    status: int | None
    curl: str
    seed: int
    phase: str  # coverage | fuzzing | setup
    mode: str  # positive | negative | "" (setup)
    occurrences: int = 1
    #: The start of the response body (at most ``EXCERPT`` characters), for the evidence.
    response: str = ""

    def message(self, lang: str = "zh") -> str:
        return self.message_en if lang == "en" else self.message_zh

    def render(self, lang: str = "zh") -> str:
        status = "-" if self.status is None else str(self.status)
        head = (
            f"[{self.operation}] {self.check} (status {status}, {self.phase}/{self.mode or '-'}, "
            f"seed {self.seed}, x{self.occurrences})"
        )
        return f"{head}\n  {_clip(self.message(lang), 600)}\n  {_clip(self.curl, 600)}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class OperationStats:
    operation: str
    label: str
    requests: int = 0
    cases: Counter[str] = field(default_factory=Counter)  # coverage / positive / negative
    statuses: Counter[int] = field(default_factory=Counter)
    failures: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    positive_sent: int = 0
    positive_accepted: int = 0
    #: date-time values seen in successful JSON responses (what ``date_time_offset`` had to judge)
    date_times: int = 0
    #: by generation mode (positive / negative): cases answered with an HTTP status, answered with a 4xx, and
    #: without a usable answer (network error, timeout, a body cut at the size cap or the deadline)
    answered: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    unanswered: Counter[str] = field(default_factory=Counter)
    #: a few answered exchanges per phase and mode (``SAMPLES_PER_KIND``), masked like the evidence: what a passing
    #: item shows it did (every failing case is kept as a :class:`FuzzFailure` besides)
    samples: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FuzzReport:
    doc: str
    base_url: str
    seed: int
    started_at: str
    elapsed: float = 0.0
    timed_out: bool = False
    checks: list[str] = field(default_factory=list)
    operations: dict[str, OperationStats] = field(default_factory=dict)
    failures: list[FuzzFailure] = field(default_factory=list)
    #: Harness-side problems (schema could not be loaded or generated from): never a pass.
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.errors and not self.timed_out

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.operations.values())

    def failures_for(self, check: str | None = None, operation: str | None = None) -> list[FuzzFailure]:
        return [
            f
            for f in self.failures
            if (check is None or f.check == check) and (operation is None or f.operation == operation)
        ]

    def summary(self, lang: str = "zh") -> str:
        en = lang == "en"
        lines = [
            (
                f"{self.doc} @ {self.base_url}: {len(self.operations)} operations, {self.requests} requests, "
                f"{len(self.failures)} failures, {len(self.errors)} errors, {self.elapsed:.1f} s, seed {self.seed}"
                + (", deadline reached" if self.timed_out else "")
            )
            if en
            else (
                f"{self.doc} @ {self.base_url}：{len(self.operations)} 个操作，{self.requests} 个请求，"
                f"{len(self.failures)} 项不符合，{len(self.errors)} 个错误，用时 {self.elapsed:.1f} 秒，种子 {self.seed}"
                + ("，已到总时限" if self.timed_out else "")
            )
        ]
        lines += [f.render(lang) for f in self.failures]
        lines += [f"error: {e}" if en else f"错误：{e}" for e in self.errors]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        return out


# ============================================================================================ HTTP


class _BoundedSession(requests.Session):
    """A session that reads every body itself: a total time bound and a size cap, never a hang.

    Redirects are followed only within the same origin (credentials never leave it).
    """

    def __init__(self, *, max_bytes: int, total_timeout: Callable[[], float], keep_alive: bool = False) -> None:
        super().__init__()
        self.trust_env = False  # proxies and REQUESTS_CA_BUNDLE from the environment must not redirect or re-trust
        if not keep_alive:
            self.headers["Connection"] = "close"
        self.max_bytes = max_bytes
        self.total_timeout = total_timeout
        self.max_redirects = 3

    def get_redirect_target(self, resp: requests.Response) -> str | None:  # type: ignore[override]
        target = super().get_redirect_target(resp)
        if target is None:
            return None
        from urllib.parse import urljoin

        if self.should_strip_auth(resp.url, urljoin(resp.url, target)):  # type: ignore[no-untyped-call]
            return None
        return target

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        from conformance.client.http import ca_file_for, edge_for

        kwargs["stream"] = True
        ca = ca_file_for(request.url or "")
        if ca:  # the target file's CA (``[tls] ca_file``) verifies the target, not the environment's bundle
            kwargs["verify"] = ca
        edge = edge_for(request.url or "")  # a target speaking a vendor's dialect: fuzz the canonical contract
        if edge is not None and getattr(edge, "cert", None):
            kwargs["cert"] = edge.cert
        response = super().send(edge.outbound(request) if edge else request, **kwargs)
        if not response._content_consumed:  # type: ignore[attr-defined]
            self._read(response)
        if edge:
            status, headers, content = edge.inbound(
                request, response.status_code, dict(response.headers), response.content
            )
            response.status_code, response._content = status, content  # type: ignore[attr-defined]
            response.headers = requests.structures.CaseInsensitiveDict(headers)
            response.request = request
        return response

    def _read(self, response: requests.Response) -> None:
        """The body through the harness's one read path (:func:`conformance.client.http.read_body`: the size cap
        after decompression, the total time bound with a watchdog); what stops it is raised as a requests error."""
        from urllib3.exceptions import ReadTimeoutError

        from conformance.client.http import read_body

        body = read_body(response, max_bytes=self.max_bytes, seconds=self.total_timeout())
        if body.too_slow:
            raise requests.exceptions.ReadTimeout(
                f"response body not complete within {self.total_timeout():.1f} s", request=response.request
            )
        if body.too_large:
            raise ResponseTooLarge(f"response body over {self.max_bytes} bytes", request=response.request)
        failure = body.failure
        if failure is not None:
            if isinstance(failure, requests.ConnectionError) and any(
                isinstance(a, ReadTimeoutError) for a in failure.args
            ):
                raise requests.exceptions.ReadTimeout(str(failure), request=response.request) from failure
            if isinstance(failure, requests.RequestException):
                raise failure
            raise requests.exceptions.ConnectionError(str(failure), request=response.request) from failure
        response._content = body.content  # type: ignore[attr-defined]
        response._content_consumed = True  # type: ignore[attr-defined]


_PROBES_LOCK = threading.Lock()
_PROBES: list[Any] = []  # the schemathesis session class replaced, while runs are under way (one entry per run)


@contextlib.contextmanager
def bounded_probes(max_bytes: int, total_timeout: Callable[[], float]) -> Any:
    """Make the sessions schemathesis opens for its own check probes (``ignored_auth`` re-sends a request without
    the run's session, hence without its credentials) read like the run's: :class:`_BoundedSession`, size cap and
    time bound, through the harness's one read path. Restored when the last run ends."""
    import schemathesis.transport.requests as transport

    class _ProbeSession(_BoundedSession):
        def __init__(self) -> None:
            super().__init__(max_bytes=max_bytes, total_timeout=total_timeout)

    with _PROBES_LOCK:
        if not _PROBES:
            _PROBES.append(transport.SameHostRedirectsSession)
            transport.SameHostRedirectsSession = _ProbeSession  # type: ignore[misc]
        else:
            _PROBES.append(None)
    try:
        yield
    finally:
        with _PROBES_LOCK:
            original = _PROBES[0]
            _PROBES.pop()
            if not _PROBES:
                transport.SameHostRedirectsSession = original  # type: ignore[misc]


class _TokenSource:
    """Client-credentials bearer token: fetched once, cached, re-fetched on demand (after a 401)."""

    def __init__(
        self, base_url: str, client_id: str, client_secret: str, session: requests.Session, timeout: Callable[[], float]
    ) -> None:
        self.url = f"{base_url.rstrip('/')}{token_path()}"
        self.client_id = client_id
        self.client_secret = client_secret
        self.session = session
        self.timeout = timeout
        self.token: str | None = None
        self.failures = 0
        self.last_error: tuple[str, str, int | None] | None = None
        self._lock = threading.Lock()

    def curl(self) -> str:
        return (
            f"curl -X POST '{self.url}' -H 'Content-Type: application/x-www-form-urlencoded' "
            f"-d 'grant_type=client_credentials&client_id={self.client_id}&client_secret=***'"
        )

    def get(self, *, refresh: bool = False) -> str | None:
        with self._lock:
            if refresh:
                self.token = None
            if self.token is None and self.failures < 2:
                self._fetch()
            return self.token

    def _fetch(self) -> None:
        if static_key(self.url):  # the target's dialect takes the caller's key itself: no token exchange
            self.token, self.failures = self.client_secret, 0
            return
        data = token_form(self.client_id, self.client_secret)
        try:
            r = self.session.post(self.url, data=data, timeout=self.timeout(), allow_redirects=False)
        except requests.RequestException as exc:
            self._fail(f"令牌请求失败：{exc}", f"token request failed: {exc}", None)
            return
        token = read_token(r.status_code, r.content)  # its size: capped by the session
        if token is None:
            self._fail(
                f"令牌端点返回 {r.status_code}，未给出 access_token：{r.content[:200]!r}",
                f"token endpoint answered {r.status_code} without an access_token: {r.content[:200]!r}",
                r.status_code,
            )
            return
        self.token = token.value
        self.failures = 0

    def _fail(self, zh: str, en: str, status: int | None) -> None:
        self.failures += 1
        self.last_error = (zh, en, status)


# ============================================================================================ formats


@functools.cache
def register_formats() -> None:
    """Hypothesis strategies for every ``tzsb-*`` format (once; schemathesis' registry is global)."""
    import schemathesis

    from conformance.codes import KINDS

    for name, kind in KINDS.items():
        schemathesis.openapi.format(kind.format_name, fast_valid(name))


#: Values per identifier kind in the pool the fuzzer draws from (see ``fast_valid``).
POOL_SIZE = 256


def fast_valid(kind: str) -> Any:
    """Valid values of ``kind`` for schemathesis: a fixed pool of ``POOL_SIZE`` values made by the same
    generator as ``conformance.codes.strategies.valid(kind)`` (``KINDS[kind].generate`` with
    ``random.Random(i)``), in a strategy that applies ``map`` and ``filter`` to the pool at once.

    Why not ``valid(kind)`` itself: schemathesis' coverage phase asks for format values at length
    boundaries and under other schema constraints, i.e. filters the format strategy; with an open
    generator every impossible constraint costs Hypothesis hundreds of rejected draws (enumerating
    the coverage cases of the registration report took 4 s instead of 0.5 s). Filtering a finite
    pool once is exact and cheap. The fuzzer never shrinks, so nothing is lost."""
    return Pool(_pool(kind))


@functools.cache
def _pool(kind: str) -> tuple[str, ...]:
    from conformance.codes import KINDS

    generate = KINDS[kind].generate
    return tuple(dict.fromkeys(generate(random.Random(i)) for i in range(POOL_SIZE)))


class Pool(SearchStrategy):  # type: ignore[type-arg]
    """A finite pool of values whose ``map`` and ``filter`` apply to the pool at once (no rejection
    sampling: a filter nothing in the pool satisfies is ``nothing()`` straight away).

    A small ``SearchStrategy`` subclass (``do_draw`` draws an index); Hypothesis does not promise this
    extension point, so ``tests/test_fuzz.py`` exercises it through schemathesis on every run."""

    def __init__(self, values: Iterable[Any]) -> None:
        super().__init__()
        self.values = tuple(values)

    def do_draw(self, data: Any) -> Any:
        return self.values[data.draw_integer(0, len(self.values) - 1)]

    def map(self, pack: Callable[[Any], Any]) -> Any:  # type: ignore[override]
        return Pool(pack(v) for v in self.values)

    def filter(self, condition: Callable[[Any], Any]) -> Any:  # type: ignore[override]
        kept = tuple(v for v in self.values if condition(v))
        return Pool(kept) if kept else st.nothing()

    def __repr__(self) -> str:
        return f"Pool({len(self.values)} values)"


# ============================================================================================ runner


def _now() -> str:
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


def _without_optional_parameters(doc: str, spec: dict[str, Any], features: frozenset[str]) -> dict[str, Any]:
    """The document ``doc`` (``spec``: a copy) without parameters of optional features the target does not declare
    (decision 4)."""
    from conformance.contract.openapi import _deref

    def feature(param: Any) -> str | None:
        value = _deref(param, doc)[0].get("x-optional-feature") if isinstance(param, dict) else None
        return value if isinstance(value, str) else None

    def keep(params: Any) -> Any:
        if not isinstance(params, list):
            return params
        return [p for p in params if (f := feature(p)) is None or f in features]

    for item in (spec.get("paths") or {}).values():
        if not isinstance(item, dict):
            continue
        if "parameters" in item:
            item["parameters"] = keep(item["parameters"])
        for method, op in item.items():
            if method != "parameters" and isinstance(op, dict) and "parameters" in op:
                op["parameters"] = keep(op["parameters"])
    return spec


def _load_schema(doc: str, base_url: str, max_response_time: float | None, features: frozenset[str]) -> Any:
    import copy

    import schemathesis

    from conformance.contract import documents as contracts
    from conformance.contract.documents import OPENAPI_DIR

    config_data: dict[str, Any] = {
        "base-url": base_url.rstrip("/"),
        "checks": {"negative_data_rejection": {"expected-statuses": NEGATIVE_EXPECTED}},
    }
    if max_response_time is not None:
        config_data["checks"]["max_response_time"] = max_response_time
    config = schemathesis.Config.from_dict(config_data)
    path = OPENAPI_DIR / f"{doc}.yaml"
    spec = _without_optional_parameters(doc, copy.deepcopy(contracts.openapi(doc)), features)
    schema = schemathesis.openapi.from_dict(spec, config=config)
    # as ``from_path`` does: relative ``$ref``s resolve against the document's own location
    schema.location = path.absolute().as_uri()
    return schema


def _builtin_checks(selected: set[str] | None, max_response_time: float | None) -> list[Any]:
    from schemathesis.checks import CHECKS, load_all_checks
    from schemathesis.checks import max_response_time as mrt

    load_all_checks()
    out = [c for c in CHECKS.get_all() if not isinstance(c, type) and c.__module__.startswith("schemathesis.")]
    if max_response_time is not None:
        out.append(mrt)
    return [c for c in out if selected is None or c.__name__ in selected]


def _documented_400(response: Any, op: Any) -> bool:
    """Decision 2: a 400 on an operation that documents 400 (a business-rule rejection is allowed)."""
    return response.status_code == 400 and op is not None and "400" in op.responses


def _typed(value: Any) -> list[Any]:
    """A wire value and the typed readings a server may give it (query and path values arrive as text)."""
    out = [value]
    if isinstance(value, str):
        if value in ("true", "false"):
            out.append(value == "true")
        for conv in (int, float):
            with contextlib.suppress(ValueError):
                out.append(conv(value))
    return out


def _valid_by_contract(case: Any, op: Any) -> bool:
    """Whether a generated request satisfies the operation's schemas *with* the project's named formats.

    schemathesis' coverage phase builds "positive" values from ``pattern`` / length alone (it does not
    use the strategies registered for ``tzsb-*`` formats there), so a positive case can carry e.g. the
    USCC ``000000000000000000``; such a case is not positive under the contract.
    """
    from urllib.parse import unquote

    from conformance.check.schema import validator_at

    for p in op.params:
        container = {"path": case.path_parameters, "query": case.query, "header": case.headers}.get(p.location) or {}
        if p.name not in container:
            if p.required:
                return False
            continue
        value = container[p.name]
        if p.location == "path" and isinstance(value, str):
            value = unquote(value)
        v = validator_at(p.schema_uri)
        if not any(v.is_valid(reading) for reading in _typed(value)):
            return False
    media = (case.media_type or "").split(";")[0].strip().lower()
    if op.body_uri is not None and media == "application/json":
        from schemathesis.core import NotSet

        if not isinstance(case.body, NotSet) and not validator_at(op.body_uri).is_valid(case.body):
            return False
    return True


class _Run:
    def __init__(
        self,
        doc: str,
        base_url: str,
        *,
        client_id: str,
        client_secret: str,
        max_examples: int,
        seed: int,
        checks: str | Iterable[str],
        phases: Sequence[str],
        max_coverage: int,
        request_timeout: float,
        deadline: float,
        max_response_bytes: int,
        max_response_time: float | None,
        keep_alive: bool,
    ) -> None:
        from conformance.fuzz import checks as fuzz_checks

        self.doc = doc
        self.base_url = base_url.rstrip("/")
        self.max_examples = max_examples
        self.seed = seed
        self.phases = tuple(phases)
        self.max_coverage = max_coverage
        self.request_timeout = request_timeout
        self.started = time.monotonic()
        self.deadline = self.started + deadline
        self.report = FuzzReport(doc=doc, base_url=self.base_url, seed=seed, started_at=_now())
        self.session = _BoundedSession(max_bytes=max_response_bytes, total_timeout=self.timeout, keep_alive=keep_alive)
        self.tokens = _TokenSource(self.base_url, client_id, client_secret, self.session, self.timeout)
        selected = None if checks == "all" else set(checks if not isinstance(checks, str) else [checks])
        self.builtin = _builtin_checks(selected, max_response_time)
        self.project = [c for c in fuzz_checks.make_checks(doc) if selected is None or c.__name__ in selected]
        self.report.checks = [c.__name__ for c in (*self.builtin, *self.project)]
        if selected is not None:
            unknown = selected - set(self.report.checks)
            if unknown:
                raise ValueError(f"unknown check(s): {', '.join(sorted(unknown))}")
        self.index = fuzz_checks._index(doc)
        self.auth_confirmed: set[str] = set()
        self.token_independent_401: set[str] = set()
        self._seen: dict[tuple[str, str, str, int | None], FuzzFailure] = {}

    # ------------------------------------------------------------------ time
    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def timeout(self) -> float:
        return max(0.05, min(self.request_timeout, self.remaining()))

    def out_of_time(self) -> bool:
        return self.remaining() <= 0

    # ------------------------------------------------------------------ recording
    def record(self, *, response: Any = None, key: str | None = None, **fields: Any) -> None:
        """Add a finding (``fields``: those of :class:`FuzzFailure` but the seed and the response excerpt); the same
        (operation, check, key, status) again only counts an occurrence."""
        failure = FuzzFailure(**fields, seed=self.seed, response=_excerpt(response))
        op_id = failure.operation
        same = (op_id, failure.check, failure.message_en.split("\n")[0][:200] if key is None else key, failure.status)
        existing = self._seen.get(same)
        if existing is not None:
            existing.occurrences += 1
            return
        self._seen[same] = failure
        self.report.failures.append(failure)
        if op_id in self.report.operations:
            self.report.operations[op_id].failures += 1

    # ------------------------------------------------------------------ auth
    def install_auth(self, schema: Any) -> None:
        tokens, secured = self.tokens, self.secured

        class Provider:
            def get(self, case: Any, context: Any) -> str | None:
                return tokens.get() if secured(case.operation) else None

            def set(self, case: Any, data: str, context: Any) -> None:
                case.headers = case.headers or {}
                case.headers["Authorization"] = f"Bearer {data}"

        schema.auth(refresh_interval=None)(Provider)

    @staticmethod
    def _op_id(operation: Any) -> str:
        raw = getattr(operation.definition, "raw", None) or {}
        return str(raw.get("operationId") or operation.label)

    def secured(self, operation: Any) -> bool:
        """Whether the contract secures ``operation`` (an operation it does not know: yes)."""
        op = self.index.get(self._op_id(operation))
        return op is None or op.secured

    # ------------------------------------------------------------------ one case
    def curl(self, case: Any, response: Any | None = None) -> str:
        try:
            headers = dict(response.request.headers) if response is not None else None
            text = case.as_curl_command(headers=headers, base_url=self.base_url)
        except Exception as exc:  # a malformed generated case must not crash the report
            return f"(no curl: {exc})"
        return text.split("\n\n⚠️")[0]

    def execute(self, case: Any, *, phase: str, mode: str, stats: OperationStats) -> None:
        if self.out_of_time():
            raise _OutOfTime
        where = {"operation": stats.operation, "label": stats.label, "phase": phase, "mode": mode}
        stats.cases[mode if phase == "fuzzing" else "coverage"] += 1
        response = self._call(case, where, stats)
        if response is None:
            return
        if 200 <= response.status_code < 300:
            from conformance.fuzz.checks import count_date_times

            stats.date_times += count_date_times(response)
        self.validate(case, response, where)

    def _call(self, case: Any, where: dict[str, str], stats: OperationStats) -> Any:
        label, mode = where["label"], where["mode"]

        def call() -> Any:
            stats.requests += 1
            return case.call(base_url=self.base_url, session=self.session, timeout=self.timeout())

        try:
            response = call()
            auth = (case.headers or {}).get("Authorization", "")
            if (
                response.status_code == 401
                and self.tokens.token
                and auth == f"Bearer {self.tokens.token}"
                and label not in self.token_independent_401
                and not case.operation.schema.is_security_param_negated(case)
            ):
                token = self.tokens.get(refresh=True)
                if token:
                    case.headers["Authorization"] = f"Bearer {token}"
                    response = call()
                    if response.status_code == 401:
                        self.token_independent_401.add(label)
        except Exception as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            stats.unanswered[mode] += 1
            self.record(
                check="transport",
                title="Network error",
                key=type(exc).__name__,
                message_zh=f"请求失败（网络错误、超时、响应过大或不是 HTTP）：{type(exc).__name__}：{exc}",
                message_en=f"request failed (network error, timeout, oversized or non-HTTP response): "
                f"{type(exc).__name__}: {exc}",
                status=status,
                curl=self.curl(case),
                **where,
            )
            return None
        stats.statuses[response.status_code] += 1
        stats.answered[mode] += 1
        _sample(stats, response, where)
        stats.refused[mode] += 400 <= response.status_code < 500
        if mode == "positive" and case.method.lower() == case.operation.method.lower():
            stats.positive_sent += 1
            stats.positive_accepted += 200 <= response.status_code < 300
        return response

    def validate(self, case: Any, response: Any, where: dict[str, str]) -> None:
        """Every selected check on one response; each failure is recorded under the check that raised it."""
        from schemathesis.core.failures import FailureGroup

        from conformance.fuzz.checks import TzsbFailure

        op_id, label = where["operation"], where["label"]
        op = self.index.get(op_id)
        builtin = [c for c in self.builtin if not (c.__name__ == "ignored_auth" and label in self.auth_confirmed)]
        failed: set[str] = set()
        # schemathesis' checks in one pass (one check context); a failure names its check through its
        # class (``Failure.checks``); the rare ambiguous one is attributed by re-running its candidates.
        try:
            case.validate_response(response, checks=builtin, transport_kwargs=self._transport())
        except FailureGroup as group:
            names = {c.__name__ for c in builtin}
            for failure in group.exceptions:
                candidates = [n for n in type(failure).checks if n in names]
                if len(candidates) == 1:
                    failed.add(candidates[0])
                    self._schemathesis_failure(failure, candidates[0], case, response, op, where)
                else:
                    for check in (c for c in builtin if c.__name__ in candidates or not candidates):
                        failed.add(check.__name__)
                        self._run_one(check, case, response, op, where)
        except _OutOfTime:
            raise
        except Exception:  # a check's probe request failed, or a check broke: run them one by one
            for check in builtin:
                if not self._run_one(check, case, response, op, where):
                    failed.add(check.__name__)
        if (
            "ignored_auth" not in failed
            and 200 <= response.status_code < 300
            and any(c.__name__ == "ignored_auth" for c in builtin)
        ):
            self.auth_confirmed.add(label)
        for check in self.project:  # the project's checks need no schemathesis context
            try:
                check(None, response, case)
            except TzsbFailure as failure:
                self._schemathesis_failure(failure, check.__name__, case, response, op, where)
            except Exception as exc:
                self.report.errors.append(f"{op_id}: check {check.__name__} raised {type(exc).__name__}: {exc}")

    def _transport(self) -> dict[str, Any]:
        from conformance.client.http import ca_file_for

        out: dict[str, Any] = {"base_url": self.base_url, "session": self.session, "timeout": self.timeout()}
        ca = ca_file_for(self.base_url)
        if ca:  # schemathesis' auth probes drop the session: they must still trust the target's CA
            out["verify"] = ca
        return out

    def _schemathesis_failure(
        self, failure: Any, name: str, case: Any, response: Any, op: Any, where: dict[str, str]
    ) -> None:
        """Record a failure a check raised (a project check's :class:`TzsbFailure` or one of schemathesis')."""
        from conformance.fuzz.checks import BUILTIN_ZH, TzsbFailure

        if name == "positive_data_acceptance" and (
            _documented_400(response, op) or (op is not None and not _valid_by_contract(case, op))
        ):
            return  # decision 2
        if isinstance(failure, TzsbFailure):
            zh, en = failure.message_zh, failure.message_en
        else:
            en = f"{failure.title}: {failure.message}".strip()
            zh = f"{BUILTIN_ZH.get(name, '检查未通过')}（schemathesis {name}）：{failure.title}。{failure.message}".strip()
        try:
            key = f"{type(failure).__name__}:{failure._unique_key}"
        except Exception:  # a failure class that cannot say
            key = f"{type(failure).__name__}:{failure.title}"
        self.record(
            check=name,
            title=failure.title,
            message_zh=zh,
            message_en=en,
            status=response.status_code,
            curl=self.curl(case, response),
            response=response,
            key=key,
            **where,
        )

    def _run_one(self, check: Any, case: Any, response: Any, op: Any, where: dict[str, str]) -> bool:
        """Run one built-in check; True when it passed."""
        from schemathesis.core.failures import FailureGroup

        name = check.__name__
        try:
            case.validate_response(response, checks=[check], transport_kwargs=self._transport())
        except FailureGroup as group:
            for failure in group.exceptions:
                self._schemathesis_failure(failure, name, case, response, op, where)
            return False
        except requests.RequestException as exc:  # the check's own probe request failed
            self.record(
                check=name,
                title="Network error in a check probe",
                message_zh=f"检查 {name} 的探测请求失败：{type(exc).__name__}：{exc}",
                message_en=f"probe request of check {name} failed: {type(exc).__name__}: {exc}",
                status=response.status_code,
                curl=self.curl(case, response),
                response=response,
                key=f"probe:{type(exc).__name__}",
                **where,
            )
            return False
        except _OutOfTime:
            raise
        except Exception as exc:
            self.report.errors.append(f"{where['operation']}: check {name} raised {type(exc).__name__}: {exc}")
            return False
        return True

    # ------------------------------------------------------------------ phases
    def coverage(self, operation: Any, stats: OperationStats) -> None:
        from schemathesis import GenerationMode
        from schemathesis.generation.drivers import CoverageGenerator
        from schemathesis.generation.feedback import FeedbackSources
        from schemathesis.generation.meta import coverage_scenario
        from schemathesis.generation.overrides import Override

        if self.max_coverage <= 0:
            return
        schema = operation.schema
        generator = CoverageGenerator(
            operation=operation,
            generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
            generation_config=schema.config.generation_for(operation=operation, phase="coverage"),
            auth_storage=None,
            override=Override(),
            feedback=FeedbackSources(),
        )
        buckets: dict[str, list[Any]] = {}
        for case in generator:
            buckets.setdefault(str(coverage_scenario(case)), []).append(case)
            if self.out_of_time():
                raise _OutOfTime
        picked: list[Any] = []
        depth = 0
        while len(picked) < self.max_coverage and any(depth < len(b) for b in buckets.values()):
            for bucket in buckets.values():
                if depth < len(bucket) and len(picked) < self.max_coverage:
                    picked.append(bucket[depth])
            depth += 1
        for case in picked:
            mode = case.meta.generation.mode.value if case.meta is not None else "positive"
            self.execute(case, phase="coverage", mode=mode, stats=stats)

    def fuzzing(self, operation: Any, stats: OperationStats, mode: Any) -> None:
        import hypothesis
        from hypothesis import HealthCheck, Phase, Verbosity
        from hypothesis.errors import Unsatisfiable

        strategy = operation.as_strategy(generation_mode=mode)

        @hypothesis.settings(
            max_examples=self.max_examples,
            deadline=None,
            derandomize=False,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
            print_blob=False,
        )
        @hypothesis.seed(self.seed)
        @hypothesis.given(case=strategy)
        def run(case: Any) -> None:
            self.execute(case, phase="fuzzing", mode=mode.value, stats=stats)

        try:
            run()
        except Unsatisfiable:
            stats.notes.append(f"{mode.value}: nothing to generate (no parameters or body to negate)")

    def operation(self, operation: Any) -> None:
        from schemathesis import GenerationMode

        op_id = self._op_id(operation)
        stats = self.report.operations.setdefault(op_id, OperationStats(operation=op_id, label=operation.label))
        started = time.monotonic()
        try:
            if "coverage" in self.phases:
                self.coverage(operation, stats)
            if "fuzzing" in self.phases:
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    self.fuzzing(operation, stats, mode)
        except _OutOfTime:
            raise
        except Exception as exc:
            self.report.errors.append(f"{op_id}: generation failed: {type(exc).__name__}: {exc}")
        finally:
            stats.seconds = round(time.monotonic() - started, 3)
            if stats.positive_sent and not stats.positive_accepted:
                stats.notes.append(
                    f"no positive case was accepted ({stats.positive_sent} sent): business rules or "
                    "missing state; the functional suites must cover this operation"
                )


def fuzz(
    doc: str,
    base_url: str,
    *,
    client_id: str,
    client_secret: str,
    max_examples: int = 10,
    seed: int | None = None,
    operations: list[str] | None = None,
    checks: str | Iterable[str] = "all",
    phases: Sequence[str] = PHASES,
    max_coverage: int = 40,
    request_timeout: float = 10.0,
    deadline: float = 600.0,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE,
    max_response_time: float | None = None,
    optional_features: Iterable[str] = (),
    keep_alive: bool = False,
) -> FuzzReport:
    """Fuzz the operations of ``schemas/openapi/<doc>.yaml`` at ``base_url``; never raises for the target.

    ``checks``: ``"all"`` or names (schemathesis built-ins such as ``not_a_server_error``, and
    ``conformance.fuzz.checks.PROJECT_CHECKS``). ``operations``: operation ids (default: all).
    ``seed``: Hypothesis seed (random when None; reported either way). ``deadline``: seconds for
    the whole run; ``request_timeout``: seconds per request (connect, each read, and the whole body).
    """
    from conformance.contract.openapi import operations as index_ops

    if doc not in DOCS:
        raise ValueError(f"unknown document {doc!r}; known: {', '.join(DOCS)}")
    bad_phases = set(phases) - set(PHASES)
    if bad_phases:
        raise ValueError(f"unknown phase(s): {', '.join(sorted(bad_phases))}; known: {', '.join(PHASES)}")
    known_ids = [op.operation_id for op in index_ops(doc)]
    if operations is not None:
        unknown = [o for o in operations if o not in known_ids]
        if unknown:
            raise ValueError(f"unknown operation id(s) in {doc}: {', '.join(unknown)}")
    seed = seed if seed is not None else random.SystemRandom().getrandbits(32)
    run = _Run(
        doc,
        base_url,
        client_id=client_id,
        client_secret=client_secret,
        max_examples=max_examples,
        seed=seed,
        checks=checks,
        phases=phases,
        max_coverage=max_coverage,
        request_timeout=request_timeout,
        deadline=deadline,
        max_response_bytes=max_response_bytes,
        max_response_time=max_response_time,
        keep_alive=keep_alive,
    )
    report = run.report
    probes = contextlib.ExitStack()
    try:
        probes.enter_context(bounded_probes(max_response_bytes, run.timeout))
        register_formats()
        schema = _load_schema(doc, base_url, max_response_time, frozenset(optional_features))
        run.install_auth(schema)
        ops = []
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation is None:
                report.errors.append(f"invalid operation in {doc}: {result.err()}")
                continue
            if static_key(base_url) and operation.path == token_path():
                continue  # the target's dialect takes a static key: it offers no token exchange to fuzz
            if operations is None or run._op_id(operation) in operations:
                ops.append(operation)
        if any(run.secured(o) for o in ops) and run.tokens.get() is None:
            zh, en, status = run.tokens.last_error or ("无法取得访问令牌", "no access token", None)
            run.record(
                operation="issueToken",
                label=f"POST {token_path()}",
                check="authentication",
                title="No access token",
                message_zh=f"无法取得访问令牌（受保护的操作将不带令牌测试）：{zh}",
                message_en=f"no access token (protected operations are tested without one): {en}",
                status=status,
                curl=run.tokens.curl(),
                phase="setup",
                mode="",
            )
        for i, operation in enumerate(ops):
            try:
                run.operation(operation)
            except _OutOfTime:
                report.timed_out = True
                untested = [run._op_id(o) for o in ops[i:]]
                run.record(
                    operation=run._op_id(operation),
                    label=operation.label,
                    check="deadline",
                    title="Deadline reached",
                    message_zh=f"已到总时限（{deadline:.0f} 秒），未测完的操作：{'、'.join(untested)}",
                    message_en=f"deadline of {deadline:.0f} s reached; operations not (fully) tested: {', '.join(untested)}",
                    status=None,
                    curl="",
                    phase="setup",
                    mode="",
                )
                break
    except Exception as exc:  # the harness must report, not crash
        report.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        probes.close()
        report.elapsed = round(time.monotonic() - run.started, 3)
        run.session.close()
    return report

"""Contract fuzzing (``conformance.fuzz.engine``): the reference server passes, defects and a hostile target fail.

Fast by construction: few examples per operation, a fixed seed, a deadline on every run.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conformance.fuzz.checks import date_time_offset, envelope, identifiers, response_contract
from conformance.fuzz.engine import DOCS, FuzzReport, fuzz
from tests.refserver import running

SEED = 20241122
QUICK: dict[str, Any] = {"max_examples": 2, "seed": SEED, "max_coverage": 12, "request_timeout": 5.0, "deadline": 60.0}
#: The role whose server offers a document (the workflow driver is the licensing system's optional feature).
ROLE = {"workflow-driver": "licensing"}


@contextlib.contextmanager
def _server_or_skip(tmp_path: Path, role: str, **kw: Any) -> Iterator[Any]:
    stack = contextlib.ExitStack()
    try:
        srv = stack.enter_context(running(tmp_path, role, **kw))
    except Exception as exc:  # a role still being written: its server cannot start yet
        stack.close()
        pytest.skip(f"reference server for role {role!r} cannot start yet: {type(exc).__name__}: {exc}")
    with stack:
        yield srv


def _fuzz(base: str, doc: str, **kw: Any) -> FuzzReport:
    report = fuzz(doc, base, client_id="harness", client_secret="harness-secret", **{**QUICK, **kw})
    print(report.summary("en"))
    return report


@pytest.mark.parametrize("doc", DOCS)
def test_reference_server_passes_contract_fuzzing(tmp_path: Path, doc: str) -> None:
    with _server_or_skip(tmp_path, ROLE.get(doc, doc)) as srv:
        report = _fuzz(srv.url(), doc)
    assert report.operations, "no operation was fuzzed"
    assert report.requests > 0
    assert not report.errors, report.errors
    assert not report.timed_out
    assert not report.failures, "\n" + report.summary("en")


def test_fuzzing_catches_a_missing_envelope_code(tmp_path: Path) -> None:
    with _server_or_skip(tmp_path, "supervision", defects=("envelope-missing-code",)) as srv:
        report = _fuzz(srv.url(), "supervision", operations=["getHealth", "reportUnit"])
    found = [f for f in report.failures_for(envelope.name) if f.status is not None and f.status < 400]
    assert found and all("/code" in f.message_en for f in found)
    assert {f.operation for f in found} == {"getHealth", "reportUnit"}
    assert report.failures_for("response_schema_conformance")  # schemathesis sees it too
    first = found[0]
    assert first.curl.startswith("curl ") and first.seed == SEED and first.message_zh != first.message_en


def test_fuzzing_catches_date_times_without_offset(tmp_path: Path) -> None:
    with _server_or_skip(tmp_path, "supervision", defects=("date-without-offset",)) as srv:
        report = _fuzz(srv.url(), "supervision", operations=["getHealth", "reportUnit"])
    dates = report.failures_for(date_time_offset.name)
    assert dates, report.summary("en")
    assert {f.operation for f in dates} >= {"getHealth"}
    assert "GB/T 7408" in dates[0].message_zh


# ------------------------------------------------------------------------------------ hostile target


#: How long the hostile target sits on a registration report: far above the fuzzer's 1 s request timeout.
SLEEP_S = 30.0


class _Hostile(BaseHTTPRequestHandler):
    """Garbage instead of HTTP for the token endpoint and the health check, a :data:`SLEEP_S` sleep for
    registration reports, a non-JSON 200 for everything else; every request's method and path is recorded
    (``server.seen``)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _drain(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def _answer(self) -> None:
        self._drain()
        path = self.path.split("?")[0]
        self.server.seen.append((self.command, path))  # type: ignore[attr-defined]
        if path in ("/oauth/token", "/health"):
            self.wfile.write(b"\x00\xff\xfe garbage {{{ not HTTP\r\n\r\n")
            self.close_connection = True
        elif path == "/api/v1/registrations":
            self.server.stopping.wait(SLEEP_S)  # type: ignore[attr-defined]
            self.close_connection = True
        else:
            body = b"<html>surely not JSON</html>"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_TRACE = _answer


@pytest.fixture
def hostile() -> Iterator[Any]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    server.block_on_close = False
    server.seen = []  # type: ignore[attr-defined]
    server.stopping = threading.Event()  # type: ignore[attr-defined]
    server.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()


def test_hostile_target_yields_failures(hostile: Any) -> None:
    """Garbage, a non-JSON body and a request the target sits on are each reported. The run's deadline is
    generous (it only stops a hang): the failures must not depend on how fast this machine generates cases."""
    report = fuzz(
        "supervision",
        hostile.url,
        client_id="harness",
        client_secret="harness-secret",
        max_examples=1,
        seed=SEED,
        max_coverage=1,
        request_timeout=1.0,
        deadline=600.0,
        operations=["getHealth", "reportUnit", "reportRegistration"],
    )
    print(report.summary("en"), {s.operation: s.seconds for s in report.operations.values()})
    checks = {f.check for f in report.failures}
    assert "authentication" in checks  # the token endpoint answers garbage
    assert report.failures_for("transport", "getHealth")  # garbage bytes
    timeouts = report.failures_for("transport", "reportRegistration")
    assert timeouts and any("Timeout" in f.message_en for f in timeouts)  # a 30 s sleep, a 1 s timeout
    assert any("not valid JSON" in f.message_en for f in report.failures_for(envelope.name, "reportUnit"))
    assert not report.timed_out and not report.ok


def test_the_deadline_stops_the_run_and_names_what_was_left(hostile: Any) -> None:
    """A 2 s deadline while the target sits on every registration report for 30 s (each request cut at 1 s): the
    deadline is reached inside reportRegistration whatever the machine's speed, the run stops there, and the
    operation after it is named as not tested and never requested."""
    report = fuzz(
        "supervision",
        hostile.url,
        client_id="harness",
        client_secret="harness-secret",
        max_examples=2,
        seed=SEED,
        max_coverage=3,
        request_timeout=1.0,
        deadline=2.0,
        operations=["reportRegistration", "getReportedUnit"],
    )
    print(report.summary("en"))
    assert report.timed_out and report.failures_for("deadline")
    assert "getReportedUnit" in report.failures_for("deadline")[0].message_en
    assert not [p for m, p in hostile.seen if m == "GET" and p.startswith("/api/v1/units/")], hostile.seen
    assert not report.ok


def test_unreachable_target_is_a_failure_not_a_crash() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    report = fuzz(
        "supervision",
        f"http://127.0.0.1:{port}",
        client_id="x",
        client_secret="y",
        max_examples=1,
        seed=SEED,
        max_coverage=1,
        request_timeout=1.0,
        deadline=10.0,
        operations=["getReportedUnit"],
    )
    assert {"authentication", "transport"} <= {f.check for f in report.failures}
    assert not report.ok


def test_usage_errors_raise() -> None:
    with pytest.raises(ValueError, match="unknown document"):
        fuzz("nope", "http://127.0.0.1:9", client_id="a", client_secret="b")
    with pytest.raises(ValueError, match="unknown operation"):
        fuzz("supervision", "http://127.0.0.1:9", client_id="a", client_secret="b", operations=["nope"])


def test_fuzzing_catches_wrong_uscc_check_characters(tmp_path: Path) -> None:
    with _server_or_skip(tmp_path, "sharing", defects=("wrong-uscc-check",), seed=1) as srv:
        report = _fuzz(srv.url(), "sharing", operations=["queryUnits"], max_coverage=4)
    bad = report.failures_for(identifiers.name, "queryUnits")
    assert bad and "uscc" in bad[0].message_en, report.summary("en")
    assert report.failures_for(response_contract.name, "queryUnits")  # the schema's tzsb-uscc format, via validator_at

"""Contract fuzzing (``conformance.fuzz``): the reference server passes, defects and a hostile target fail.

Fast by construction: few examples per operation, a fixed seed, a deadline on every run.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conformance.fuzz import DOCS, FuzzReport, fuzz
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
    envelope = [f for f in report.failures_for("envelope") if f.status is not None and f.status < 400]
    assert envelope and all("/code" in f.message_en for f in envelope)
    assert {f.operation for f in envelope} == {"getHealth", "reportUnit"}
    assert report.failures_for("response_schema_conformance")  # schemathesis sees it too
    first = envelope[0]
    assert first.curl.startswith("curl ") and first.seed == SEED and first.message_zh != first.message_en


def test_fuzzing_catches_date_times_without_offset(tmp_path: Path) -> None:
    with _server_or_skip(tmp_path, "supervision", defects=("date-without-offset",)) as srv:
        report = _fuzz(srv.url(), "supervision", operations=["getHealth", "reportUnit"])
    dates = report.failures_for("date_time_offset")
    assert dates, report.summary("en")
    assert {f.operation for f in dates} >= {"getHealth"}
    assert "GB/T 7408" in dates[0].message_zh


# ------------------------------------------------------------------------------------ hostile target


class _Hostile(BaseHTTPRequestHandler):
    """Garbage instead of HTTP for the token endpoint and the health check, a 10 s sleep for
    registration reports, a non-JSON 200 for everything else."""

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
        if path in ("/oauth/token", "/health"):
            self.wfile.write(b"\x00\xff\xfe garbage {{{ not HTTP\r\n\r\n")
            self.close_connection = True
        elif path == "/api/v1/registrations":
            time.sleep(10)
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
def hostile() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_hostile_target_yields_failures_in_bounded_time(hostile: str) -> None:
    started = time.monotonic()
    report = fuzz("supervision", hostile, client_id="harness", client_secret="harness-secret", max_examples=2,
                  seed=SEED, max_coverage=3, request_timeout=1.0, deadline=6.0,
                  operations=["getHealth", "reportUnit", "reportRegistration", "getReportedUnit"])
    elapsed = time.monotonic() - started
    print(report.summary("en"), {s.operation: s.seconds for s in report.operations.values()})
    assert elapsed < 6.0 + 2.5, f"run took {elapsed:.1f} s"
    checks = {f.check for f in report.failures}
    assert "authentication" in checks  # the token endpoint answers garbage
    assert report.failures_for("transport", "getHealth")  # garbage bytes
    timeouts = report.failures_for("transport", "reportRegistration")
    assert timeouts and any("Timeout" in f.message_en for f in timeouts)  # 10 s sleep, 1 s timeout
    assert any("not valid JSON" in f.message_en for f in report.failures_for("envelope", "reportUnit"))
    assert report.timed_out and report.failures_for("deadline")
    assert "getReportedUnit" in report.failures_for("deadline")[0].message_en
    assert not report.ok


def test_unreachable_target_is_a_failure_not_a_crash() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    report = fuzz("supervision", f"http://127.0.0.1:{port}", client_id="x", client_secret="y", max_examples=1,
                  seed=SEED, max_coverage=1, request_timeout=1.0, deadline=10.0, operations=["getReportedUnit"])
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
    bad = report.failures_for("identifiers", "queryUnits")
    assert bad and "uscc" in bad[0].message_en, report.summary("en")
    assert report.failures_for("response_contract", "queryUnits")  # the schema's tzsb-uscc format, via validator_at

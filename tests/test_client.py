"""The harness's HTTP client against a hostile target: bounded time, bounded memory, no
credential leaves its origin, every exchange recorded and masked.

No test here judges a duration: a slow body is shown cut by the client's own deadline (its error says so,
and the hostile server would trickle for 50 s), a redirect loop by the number of hops that reached the server.
Timeouts are generous except against ``/slow``, where they only shorten the test."""

from __future__ import annotations

import pytest

from conformance.check.limits import MAX_JSON_DEPTH
from conformance.client import Evidence, TargetClient, TargetResponse
from conformance.client.evidence import mask_text
from conformance.client.http import MAX_REDIRECTS, MAX_RESPONSE
from tests.hostile import HostileServer

#: Against the hostile server's prompt answers: generous, so a loaded machine never turns them into timeouts.
GENEROUS = (15.0, 30.0)


def _client(url: str, timeout: tuple[float, float] = GENEROUS, **kw: object) -> TargetClient:
    return TargetClient(url, timeout=timeout, **kw)  # type: ignore[arg-type]


def test_garbage_wrong_type_and_truncated_do_not_crash() -> None:
    with HostileServer() as srv:
        c = _client(srv.url)
        r = c.get("/garbage", auth=False)
        assert r.status == 200 and r.json() is None
        assert c.get("/wrong-type", auth=False).json()["code"] == 0
        t = c.get("/truncated", auth=False)
        assert t.json() is None and (t.error or t.content)


def test_slow_response_is_cut_in_bounded_time() -> None:
    with HostileServer() as srv:
        # 1 s per read (each byte comes 0.1 s after the last), so the client's overall deadline (1 + 2 x 1 s) cuts it
        r = _client(srv.url, timeout=(1.0, 1.0)).get("/slow", auth=False)
        assert r.truncated and r.error is not None and "too slow" in r.error, r.error


def test_huge_and_gzip_bomb_are_capped() -> None:
    with HostileServer() as srv:
        c = _client(srv.url, max_bytes=1024 * 1024)
        for path in ("/huge", "/bomb"):
            r = c.get(path, auth=False)
            assert r.truncated and len(r.content) <= 1024 * 1024 + 64 * 1024 and r.json() is None


def test_credentials_never_follow_a_redirect_to_another_origin() -> None:
    with HostileServer() as srv:
        c = _client(srv.url)
        c.get("/redirect-away", headers={"Authorization": "Bearer s3cret-token"}, auth=False)
        landing = [s for s in srv.seen if s["path"] == "/landing"]
        assert landing and all("Authorization" not in s["headers"] for s in landing)
        srv.seen.clear()
        c.get("/redirect-same", headers={"Authorization": "Bearer s3cret-token"}, auth=False)
        assert any(s["path"] == "/landing" and "Authorization" in s["headers"] for s in srv.seen)
        srv.seen.clear()
        r = c.get("/redirect-loop", auth=False)
        assert r.status == 302
        assert [s["path"] for s in srv.seen] == ["/redirect-loop"] * (MAX_REDIRECTS + 1), "redirects are not bounded"


def test_evidence_is_recorded_masked_with_curl() -> None:
    with HostileServer() as srv:
        ev = Evidence()
        ev.current_test = "t1"
        c = _client(srv.url, evidence=ev)
        c.post(
            "/echo",
            {"personId": "420102199003071234", "phone": "13907151234", "client_secret": "abc"},
            headers={"Authorization": "Bearer s3cret-token"},
            auth=False,
        )
        (x,) = ev.for_test("t1")
        assert x.request_headers["Authorization"] == "Bearer ***"
        assert "13907151234" not in (x.request_body or "") and "139****1234" in (x.request_body or "")
        assert "420102199003071234" not in (x.request_body or "")
        assert "abc" not in (x.request_body or "")
        assert x.curl().startswith("curl -sS -X POST") and "$TOKEN" in x.curl()
        assert x.status == 200 and x.elapsed_ms >= 0


def test_unreachable_target_is_an_error_not_an_exception() -> None:
    r = _client("http://127.0.0.1:9").get("/x", auth=False)
    assert r.status is None and r.error


def test_mask_text() -> None:
    assert mask_text('{"id": "42010219900307123X"}') == '{"id": "420102********123X"}'


#: What a capped body may hold: the cap and at most one more read chunk.
_CAPPED = MAX_RESPONSE + 64 * 1024


@pytest.mark.parametrize("mode", ["bomb", "huge"])
def test_every_read_path_keeps_at_most_the_cap(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The transport suite's own probe (``_raw``: no redirects, tokens in the query, plain HTTP) inflated a gzip bomb
    in full with ``r.content``; it, the fuzzer's session and the simulators' control channel now read through the
    client's one read path (``read_body``): the body kept is at most the cap, the rest is never read."""
    import schemathesis.transport.requests as schemathesis_requests

    from conformance.fuzz.engine import ResponseTooLarge, _BoundedSession, bounded_probes
    from conformance.simulators import handle
    from conformance.suites.test_sharing_transport import _raw

    with HostileServer(mode) as srv:
        ev = Evidence()
        r = _raw(ev, "GET", f"{srv.url}/x?access_token=s3cret-token-value", {}, True)
        assert len(r.content) <= _CAPPED
        assert r.status == 200 and r.truncated and "larger than" in (r.error or "")
        (x,) = ev.exchanges
        assert x.response_truncated and "s3cret-token-value" not in x.url and x.status == 200
        session = _BoundedSession(max_bytes=MAX_RESPONSE, total_timeout=lambda: 60.0)
        with pytest.raises(ResponseTooLarge):
            session.get(f"{srv.url}/x", timeout=GENEROUS)
        session.close()
        own = schemathesis_requests.SameHostRedirectsSession  # what schemathesis' check probes open for themselves
        with (
            bounded_probes(MAX_RESPONSE, lambda: 60.0),
            schemathesis_requests.SameHostRedirectsSession() as probe,
            pytest.raises(ResponseTooLarge),
        ):
            probe.get(f"{srv.url}/x", timeout=GENEROUS)
        assert schemathesis_requests.SameHostRedirectsSession is own
        monkeypatch.setattr(handle, "CONTROL_MAX_BYTES", MAX_RESPONSE)  # its own cap is larger than these bodies
        with pytest.raises(RuntimeError, match="larger than"):
            handle.SimulatorHandle("x", srv.url)._control("GET", "info")


def test_the_one_read_path_cuts_a_trickle_and_reports_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.suites import test_sharing_transport as transport
    from conformance.suites.test_sharing_transport import _raw

    monkeypatch.setattr(transport, "TIMEOUT", 1.0)  # each byte comes 0.1 s after the last: only the deadline cuts it
    with HostileServer("slow") as srv:
        r = _raw(Evidence(), "GET", f"{srv.url}/x", {}, True)
    assert r.truncated and "too slow" in (r.error or "")
    r = _raw(Evidence(), "GET", "http://127.0.0.1:9/x", {}, True)
    assert r.status is None and r.error and not r.content
    with HostileServer("close") as srv:
        r = _raw(Evidence(), "GET", f"{srv.url}/x", {}, True)
    assert r.status is None and r.error


def test_a_response_nested_too_deep_is_not_json() -> None:
    deep = b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)
    r = TargetResponse(200, {}, deep, False, 1.0)
    assert r.json() is None
    assert TargetResponse(200, {}, deep[1:-1], False, 1.0).json() is not None

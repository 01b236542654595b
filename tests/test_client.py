"""The harness's HTTP client against a hostile target: bounded time, bounded memory, no
credential leaves its origin, every exchange recorded and masked.

No test here judges a duration: a slow body is shown cut by the client's own deadline (its error says so,
and the hostile server would trickle for 50 s), a redirect loop by the number of hops that reached the server.
Timeouts are generous except against ``/slow``, where they only shorten the test."""

from __future__ import annotations

from conformance.client import Evidence, TargetClient
from conformance.client.evidence import mask_text
from conformance.client.http import MAX_REDIRECTS
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

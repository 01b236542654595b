"""Each generic defect switch of the reference server changes behaviour exactly as described in
conformance/reference/defects/declared.py (the clean server behaves correctly on the same request)."""

from __future__ import annotations

import datetime as dt
import random
import secrets
import time
from pathlib import Path

import pytest
import requests

from conformance.codes import KINDS
from conformance.crypto import canonical_string, sign
from conformance.datagen import DataGen
from conformance.reference.audit import verify_chain
from conformance.reference.context import now_iso
from tests.refserver import Api, running, token

UNITS = "/api/v1/units"
#: a valid USCC no unit has (so a read of it is a clean 404)
ABSENT = f"{UNITS}/" + KINDS["uscc"].generate(random.Random(77), division="420102")


def _unit_report(mid: str | None = None) -> dict:
    return {
        "messageId": mid or f"msg-{secrets.token_hex(6)}",
        "reportedAt": "2025-01-01T10:00:00+08:00",
        "unit": DataGen(3).unit(),
    }


def _both(tmp_path: Path, role: str, defect: str, probe, **kw: object) -> tuple[object, object]:
    """The probe's result on a clean server and on one with the defect."""
    with running(tmp_path / "clean", role, **kw) as clean:  # type: ignore[arg-type]
        good = probe(clean)
    with running(tmp_path / "broken", role, defects=(defect,), **kw) as broken:  # type: ignore[arg-type]
        bad = probe(broken)
    return good, bad


def test_malformed_json_500(tmp_path: Path) -> None:
    def probe(srv: object) -> int:
        return Api(srv.url()).post(UNITS, data=b"{bad", headers={"Content-Type": "application/json"}).status_code  # type: ignore[attr-defined]

    assert _both(tmp_path, "supervision", "malformed-json-500", probe) == (400, 500)


def test_error_message_english(tmp_path: Path) -> None:
    def probe(srv: object) -> bool:
        msg = Api(srv.url()).post(UNITS, {**_unit_report(), "extra": 1}).json()["message"]  # type: ignore[attr-defined]
        return any("\u4e00" <= ch <= "\u9fff" for ch in msg)

    assert _both(tmp_path, "supervision", "error-message-english", probe) == (True, False)


def test_no_field_paths(tmp_path: Path) -> None:
    def probe(srv: object) -> bool:
        return "errors" in Api(srv.url()).post(UNITS, {**_unit_report(), "extra": 1}).json()  # type: ignore[attr-defined]

    assert _both(tmp_path, "supervision", "no-field-paths", probe) == (True, False)


def test_accept_unknown_fields(tmp_path: Path) -> None:
    def probe(srv: object) -> int:
        return Api(srv.url()).post(UNITS, {**_unit_report(), "extra": 1}).status_code  # type: ignore[attr-defined]

    assert _both(tmp_path, "supervision", "accept-unknown-fields", probe) == (400, 201)


def test_accept_expired_token(tmp_path: Path) -> None:
    def probe(srv: object) -> int:
        api = Api(srv.url())  # type: ignore[attr-defined]
        time.sleep(1.2)
        return api.get(ABSENT).status_code

    good, bad = _both(tmp_path, "supervision", "accept-expired-token", probe, token_ttl=1)
    assert good == 401 and bad == 404


def test_ignore_scopes(tmp_path: Path) -> None:
    def probe(srv: object) -> int:
        return Api(srv.url(), client="reader").post(UNITS, _unit_report()).status_code  # type: ignore[attr-defined]

    assert _both(tmp_path, "supervision", "ignore-scopes", probe) == (403, 201)


def _signed_get(base: str, path: str, *, nonce: str, stamp: str) -> int:
    session = requests.Session()
    tok = Api(base, client="signer").session.headers["Authorization"]
    sig = sign("HMAC-SM3", b"signer-secret", canonical_string("GET", path, stamp, nonce, b"", "HMAC-SM3"))
    headers = {
        "Authorization": tok,
        "X-Timestamp": stamp,
        "X-Nonce": nonce,
        "X-Signature": sig,
        "X-Signature-Method": "HMAC-SM3",
    }
    return session.get(base + path, headers=headers, timeout=30).status_code


def test_accept_replayed_nonce(tmp_path: Path) -> None:
    def probe(srv: object) -> tuple[int, int]:
        nonce, stamp = secrets.token_hex(10), now_iso()
        first = _signed_get(srv.url(), ABSENT, nonce=nonce, stamp=stamp)  # type: ignore[attr-defined]
        again = _signed_get(srv.url(), ABSENT, nonce=nonce, stamp=stamp)  # type: ignore[attr-defined]
        return first, again

    assert _both(tmp_path, "supervision", "accept-replayed-nonce", probe) == ((404, 401), (404, 404))


def test_accept_stale_timestamp(tmp_path: Path) -> None:
    stale = (dt.datetime.now(dt.timezone(dt.timedelta(hours=8))) - dt.timedelta(minutes=20)).isoformat(
        timespec="seconds"
    )

    def probe(srv: object) -> int:
        return _signed_get(srv.url(), ABSENT, nonce=secrets.token_hex(10), stamp=stale)  # type: ignore[attr-defined]

    assert _both(tmp_path, "supervision", "accept-stale-timestamp", probe) == (401, 404)


def _burst(srv: object, n: int = 30) -> list[requests.Response]:
    """Calls of ``limited`` (5 a second, burst 5; 40 a day) back to back until the first 429, at most ``n``: a rate
    limiter answers 429 unless each call takes over 1/6 s, and 30 admitted calls stay within the daily quota."""
    api = Api(srv.url(), client="limited")  # type: ignore[attr-defined]
    out: list[requests.Response] = []
    for _ in range(n):
        out.append(api.get("/api/v1/equipment"))
        if out[-1].status_code == 429:
            break
    return out


def test_no_rate_limit(tmp_path: Path) -> None:
    def probe(srv: object) -> bool:
        return any(r.status_code == 429 for r in _burst(srv))

    assert _both(tmp_path, "sharing", "no-rate-limit", probe) == (True, False)


def test_retry_after_missing(tmp_path: Path) -> None:
    def probe(srv: object) -> bool:
        limited = [r for r in _burst(srv) if r.status_code == 429]
        assert limited
        return all(r.headers.get("Retry-After", "").isdigit() for r in limited)

    assert _both(tmp_path, "sharing", "retry-after-missing", probe) == (True, False)


def _audit_after_reads(srv: object) -> list[dict]:
    Api(srv.url()).get("/api/v1/equipment")  # type: ignore[attr-defined]
    time.sleep(0.5)  # reads are flushed to the audit log every 0.2 s
    return Api(srv.url(), client="auditor").get("/api/v1/audit", params={"size": 500}).json()["data"]["items"]  # type: ignore[attr-defined]


def test_audit_not_written(tmp_path: Path) -> None:
    def probe(srv: object) -> bool:
        return any(e["action"] == "queryEquipment" for e in _audit_after_reads(srv))

    assert _both(tmp_path, "sharing", "audit-not-written", probe) == (True, False)


@pytest.mark.parametrize("reads", [10])
def test_audit_chain_broken(tmp_path: Path, reads: int) -> None:
    def probe(srv: object) -> bool:
        api = Api(srv.url())  # type: ignore[attr-defined]
        for _ in range(reads):
            api.get("/api/v1/equipment")
        return verify_chain(_audit_after_reads(srv)) is None

    assert _both(tmp_path, "sharing", "audit-chain-broken", probe) == (True, False)


def test_retry_after_implausible(tmp_path: Path) -> None:
    def probe(srv: object) -> tuple[str, int]:
        limited = [r for r in _burst(srv) if r.status_code == 429]
        assert limited
        return limited[0].headers["Retry-After"], limited[0].json()["retryAfter"]

    good, bad = _both(tmp_path, "sharing", "retry-after-implausible", probe)
    assert int(good[0]) == good[1] <= 86400 and bad == ("604800", 604800)


def test_token_lifetime_in_ms(tmp_path: Path) -> None:
    def probe(srv: object) -> int:
        r = requests.post(
            srv.url() + "/oauth/token",
            timeout=30,  # type: ignore[attr-defined]
            data={"grant_type": "client_credentials", "client_id": "harness", "client_secret": "harness-secret"},
        )
        return r.json()["expires_in"]

    good, bad = _both(tmp_path, "supervision", "token-lifetime-in-ms", probe)
    assert bad == good * 1000


def test_write_scope_implies_read(tmp_path: Path) -> None:
    def probe(srv: object) -> int:
        headers = {"Authorization": f"Bearer {token(srv.url(), scope='sharing:units:write')}"}  # type: ignore[attr-defined]
        return requests.get(srv.url() + UNITS, headers=headers, timeout=30).status_code  # type: ignore[attr-defined]

    assert _both(tmp_path, "sharing", "write-scope-implies-read", probe) == (403, 200)


def test_not_found_as_200(tmp_path: Path) -> None:
    def probe(srv: object) -> tuple[int, str]:
        r = Api(srv.url()).get(ABSENT)  # type: ignore[attr-defined]
        return r.status_code, r.json()["code"]

    assert _both(tmp_path, "sharing", "not-found-as-200", probe) == ((404, "NOT_FOUND"), (200, "NOT_FOUND"))


def test_future_timestamps(tmp_path: Path) -> None:
    def probe(srv: object) -> float:
        stamp = Api(srv.url()).get("/health").json()["data"]["time"]  # type: ignore[attr-defined]
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() - time.time()

    good, bad = _both(tmp_path, "supervision", "future-timestamps", probe)
    assert abs(good) < 3600 and bad > 7 * 3600

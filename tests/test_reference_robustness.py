"""Bad input never crashes the reference server nor changes what it stores; concurrent writers of
the same message never duplicate it."""

from __future__ import annotations

import json
import secrets
import threading
from pathlib import Path

import requests

from conformance.datagen import DataGen
from tests.refserver import Api, running

UNITS = "/api/v1/units"
BAD_BODIES: list[tuple[bytes, str]] = [
    (b"{bad", "application/json"),
    (b"\xff\xfe\x00", "application/json"),
    (b"[" * 3000 + b"]" * 3000, "application/json"),
    (b'{"messageId": 5, "reportedAt": true, "unit": []}', "application/json"),
    (
        json.dumps(
            {
                "messageId": "x'; DROP TABLE records; --",
                "reportedAt": "2025-01-01T10:00:00+08:00",
                "unit": {"uscc": "' OR 1=1 --"},
            }
        ).encode(),
        "application/json",
    ),
    (b"<xml/>", "application/xml"),
    (b"", "application/json"),
    (b"null", "application/json"),
    (b'"just a string"', "application/json"),
    (json.dumps({"messageId": "m" * 5000}).encode(), "application/json"),
]


def test_bad_input_gets_4xx_envelopes_and_changes_nothing(tmp_path: Path) -> None:
    with running(tmp_path, "supervision") as srv:
        api = Api(srv.url())
        stored = {"messageId": "keep-00000001", "reportedAt": "2025-01-01T10:00:00+08:00", "unit": DataGen(8).unit()}
        assert api.post(UNITS, stored).status_code == 201
        before = api.get(f"{UNITS}/{stored['unit']['uscc']}").json()["data"]
        for body, ctype in BAD_BODIES:
            r = api.post(UNITS, data=body, headers={"Content-Type": ctype})
            assert 400 <= r.status_code < 500, (body[:40], r.status_code, r.text[:200])
            assert r.json()["code"] != "OK" and r.json()["data"] is None
        for path in (
            f"{UNITS}/' OR '1'='1",
            f"{UNITS}/%00",
            f"{UNITS}/{'9' * 500}",
            "/api/v1/registrations/梯11鄂A'--",
        ):
            r = api.get(path)
            assert 400 <= r.status_code < 500, (path, r.status_code)
        assert requests.get(f"{srv.url()}/health", timeout=30).status_code == 200
        assert api.get(f"{UNITS}/{stored['unit']['uscc']}").json()["data"] == before
        # the same message again is still recognised: the receipt table survived too
        assert api.post(UNITS, stored).json()["data"]["duplicate"] is True


def test_concurrent_copies_of_one_message_are_processed_once(tmp_path: Path) -> None:
    with running(tmp_path, "supervision") as srv:
        msg = {
            "messageId": f"race-{secrets.token_hex(4)}",
            "reportedAt": "2025-01-01T10:00:00+08:00",
            "unit": DataGen(9).unit(),
        }
        statuses: list[int] = []
        lock = threading.Lock()
        barrier = threading.Barrier(8)

        def send() -> None:
            api = Api(srv.url())
            barrier.wait()
            r = api.post(UNITS, msg)
            with lock:
                statuses.append(r.status_code)

        threads = [threading.Thread(target=send) for _ in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=120)  # only stops a hang (each request has its own 30 s timeout)
        assert sorted(statuses) == [200] * 7 + [201]
        rows = srv.servers[0].db.all("SELECT COUNT(*) FROM changes WHERE key = ?", msg["unit"]["uscc"])
        assert rows[0][0] == 1

"""Reference server, supervision role (DB42/T 2279-2024 表7) and the generic pipeline."""

from __future__ import annotations

from pathlib import Path

import requests

from conformance.check.schema import validator
from conformance.datagen import DataGen
from tests.refserver import Api, running


def _unit_report(seed: int = 1, mid: str = "msg-00000001") -> dict:
    return {"messageId": mid, "reportedAt": "2025-01-01T10:00:00+08:00", "unit": DataGen(seed).unit()}


def test_unit_report_is_idempotent_and_read_back(tmp_path: Path) -> None:
    with running(tmp_path, "supervision") as srv:
        api = Api(srv.url())
        msg = _unit_report()
        first = api.post("/api/v1/units", msg)
        assert first.status_code == 201
        assert validator("gov-platform#/$defs/receipt").is_valid(first.json()["data"])
        again = api.post("/api/v1/units", msg)
        assert again.status_code == 200 and again.json()["data"]["duplicate"] is True
        assert again.json()["data"]["receivedAt"] == first.json()["data"]["receivedAt"]
        changed = api.post("/api/v1/units", {**msg, "reportedAt": "2025-01-02T10:00:00+08:00"})
        assert changed.status_code == 409 and changed.json()["code"] == "DUPLICATE"
        back = api.get(f"/api/v1/units/{msg['unit']['uscc']}")
        assert back.status_code == 200 and back.json()["data"] == msg["unit"]


def test_pipeline_errors_use_the_envelope(tmp_path: Path) -> None:
    with running(tmp_path, "supervision") as srv:
        api = Api(srv.url())
        base = srv.url()
        r = requests.get(f"{base}/api/v1/units/91420100MA4K2ABC1E", timeout=30)
        assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
        r = api.post("/api/v1/units", data=b"{bad", headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and "JSON" in r.json()["message"]
        r = api.post("/api/v1/units", {**_unit_report(), "extra": 1})
        assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/extra"
        r = api.post("/api/v1/units", data=b"x" * (2 * 1024 * 1024), headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and r.json()["code"] == "PAYLOAD_TOO_LARGE"
        r = api.post("/api/v1/units", data=b"\xff\xfe", headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and "UTF-8" in r.json()["message"]
        r = api.post("/api/v1/units", data=b"<x/>", headers={"Content-Type": "application/xml"})
        assert r.status_code == 415
        r = api.delete("/api/v1/units")
        assert r.status_code == 405 and r.headers["Allow"] == "POST"
        r = api.get("/api/v1/units/XYZ")
        assert r.status_code == 400 and {e["rule"] for e in r.json()["errors"]} >= {"pattern"}
        r = api.get("/no/such/path")
        assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
        for resp in (r,):
            assert validator("error").is_valid(resp.json())


def test_scope_is_enforced(tmp_path: Path) -> None:
    with running(tmp_path, "supervision") as srv:
        api = Api(srv.url(), client="reader")
        r = api.post("/api/v1/units", _unit_report())
        assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN"


def test_defect_supervision_drops_unit(tmp_path: Path) -> None:
    with running(tmp_path, "supervision", defects=("supervision-drops-unit",)) as srv:
        api = Api(srv.url())
        msg = _unit_report()
        assert api.post("/api/v1/units", msg).status_code == 201
        assert api.get(f"/api/v1/units/{msg['unit']['uscc']}").status_code == 404

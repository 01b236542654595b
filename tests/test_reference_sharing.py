"""Reference server, sharing role (安全监管信息共享平台): every operation of schemas/openapi/sharing.yaml."""

from __future__ import annotations

import asyncio
import datetime as dt
import fnmatch
import functools
import http.server
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest
import requests

from conformance.check.schema import validator, validator_at
from conformance.codes import lists as code_lists
from conformance.contract.openapi import role_operations
from conformance.crypto import canonical_string, sign
from conformance.datagen import DataGen
from conformance.reference.audit import GENESIS, AuditLog, verify_chain
from conformance.reference.context import Ctx, handler_for, now_iso
from conformance.reference.db import Database
from conformance.reference.errors import ApiError
from conformance.reference.roles.sharing import access
from conformance.reference.roles.sharing import data as sd
from conformance.reference.roles.sharing import push as sharing_push
from conformance.reference.roles.sharing.handlers import factory, setup
from conformance.reference.roles.sharing.seed import demo_records, seed
from conformance.reference.security import Security, load_clients
from conformance.reference.server_state import RoleServer
from tests.refserver import Api, running

OPS = {op.operation_id: op for op in role_operations("sharing")}
SETS = sd.data_sets()
MASKED_ID = re.compile(r"^[0-9]{6}\*{8}[0-9]{3}[0-9X]$")
MASKED_MOBILE = re.compile(r"^1[3-9][0-9]\*{4}[0-9]{4}$")


@functools.cache
def demo() -> dict[str, list[dict[str, Any]]]:
    """The records the seeded server holds (seed 1)."""
    return demo_records(DataGen(1))


#: The providing subject the reference platform stamps on the harness's pushes (clients.json ``org``, the push's ``source``).
HARNESS_PROVIDER_ORG = next(
    c
    for c in json.loads((Path(__file__).parents[1] / "conformance/reference/clients.json").read_text(encoding="utf-8"))[
        "clients"
    ]
    if c["id"] == "harness"
)["org"]


def ok(op_id: str, resp: requests.Response, status: int = 200) -> Any:
    """The response has the expected status and validates against the contract's schema for it."""
    assert resp.status_code == status, resp.text[:500]
    body = resp.json()
    v = validator_at(OPS[op_id].responses[str(status)]["application/json"])
    assert v.is_valid(body), [e.as_dict() for e in v.errors(body)[:5]]
    return body["data"]


def error(resp: requests.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text[:500]
    body = resp.json()
    assert validator("error").is_valid(body), body
    return body


class SignedApi(Api):
    """A client that must sign its requests (``signer`` in clients.json)."""

    def __init__(self, base: str, client: str = "signer") -> None:
        super().__init__(base, client)
        self.secret = f"{client}-secret".encode()

    def _headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        ts, nonce = now_iso(), secrets.token_hex(8)
        sig = sign("HMAC-SHA256", self.secret, canonical_string(method, path, ts, nonce, body, "HMAC-SHA256"))
        return {"X-Timestamp": ts, "X-Nonce": nonce, "X-Signature": sig, "X-Signature-Method": "HMAC-SHA256"}

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.session.get(self.base + path, headers=self._headers("GET", path, b""), timeout=30, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.session.delete(self.base + path, headers=self._headers("DELETE", path, b""), timeout=30, **kw)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One seeded server for the read-only tests (no test changes its records)."""
    with running(tmp_path_factory.mktemp("sharing"), "sharing", seed=1) as srv:
        yield srv


def _push(api: Api, data_set: str, records: list[tuple[str, str, Any]], mid: str | None = None) -> requests.Response:
    body = {
        "messageId": mid or f"msg-{secrets.token_hex(6)}",
        "sentAt": now_iso(),
        "records": [{"operation": op, "key": key, "record": rec} for op, key, rec in records],
    }
    return api.post(f"{SETS[data_set].path}/push", body)


def _upload(api: Api, data_set: str, recs: list[dict[str, Any]]) -> dict[str, Any]:
    key = SETS[data_set].key
    return ok(
        "push" + {"equipment": "Equipment", "units": "Units", "personnel": "Personnel"}[data_set],
        _push(api, data_set, [("UPLOAD", r[key], r) for r in recs]),
    )


def _walk_changes(
    api: Api, path: str, limit: int, cursor: str | None = None, between: Any = None
) -> tuple[list[dict], str]:
    items: list[dict[str, Any]] = []
    while True:
        r = api.get(f"{path}/changes", params={"limit": limit, **({"cursor": cursor} if cursor else {})})
        data = r.json()["data"]
        items += data["items"]
        cursor = data["nextCursor"]
        if between is not None:
            between(len(items))
        if not data["hasMore"]:
            return items, cursor


# ---------------------------------------------------------------------------- demo data


def test_demo_data_is_valid_and_consistent(tmp_path: Path) -> None:
    counts = {n: len(r) for n, r in demo().items()}
    assert counts["equipment"] == 3000 and counts["personnel"] >= 590 and counts["accidents"] == 60
    assert counts["inspection-reports"] == 3000 and counts["use-registrations"] == 3000 and counts["units"] > 1000
    for name, recs in demo().items():
        v = validator(SETS[name].schema)
        bad = [r for r in recs if not v.is_valid(r)]
        assert not bad, (name, [e.as_dict() for e in v.errors(bad[0])[:3]])
    units = {u["uscc"] for u in demo()["units"]}
    equipment = {e["equipmentCode"]: e for e in demo()["equipment"]}
    reports = {r["reportNo"] for r in demo()["inspection-reports"]}
    assert all(
        e["useUnitUscc"] in units and e["manufacturerUscc"] in units and e["lastReportNo"] in reports
        for e in equipment.values()
    )
    assert all(
        r["equipmentCode"] in equipment and r["inspectionOrgUscc"] in units for r in demo()["inspection-reports"]
    )
    assert all(r["equipmentCode"] in equipment and r["authority"]["uscc"] in units for r in demo()["use-registrations"])
    assert all(a["equipmentCode"] in equipment for a in demo()["accidents"])
    assert all(p["employerUscc"] in units for p in demo()["personnel"])
    assert len({e["division"][:2] for e in equipment.values()}) >= 5
    db = Database(tmp_path / "seed.sqlite3")
    server = RoleServer(role="sharing", db=db, security=Security(load_clients()), audit=AuditLog(db))
    setup(server)
    seed(server, DataGen(1))  # how long this takes is recorded by benchmarks/bench_seeding.py, not judged here
    assert db.one("SELECT COUNT(*) FROM changes")[0] == sum(counts.values())
    db.close()


# ---------------------------------------------------------------------------- catalogue, get, query


def test_catalogue_is_the_contract(seeded: Any) -> None:
    data = ok("getCatalogue", Api(seeded.url(), "reader").get("/api/v1/catalogue"))
    assert [e["operationId"] for e in data] == list(OPS)
    for entry in data:
        op = OPS[entry["operationId"]]
        assert (entry["method"], entry["path"], entry["name"]) == (op.method.upper(), op.path, op.summary)
        assert entry.get("dataSet") == op.data_set
        if isinstance(op.scope, list):  # one scope text for the list: ``*`` where its scopes differ
            assert "*" in entry["scope"] and all(fnmatch.fnmatchcase(s, entry["scope"]) for s in op.scope), entry
        else:
            assert entry["scope"] == (op.scope or "none")


@pytest.mark.parametrize("name", list(SETS))
def test_get_by_key(seeded: Any, name: str) -> None:
    ds = SETS[name]
    api = Api(seeded.url())
    query_op = next(op for op in OPS.values() if op.data_set == name and op.path == ds.path and op.method == "get")
    get_op = next(op for op in OPS.values() if op.data_set == name and op.path.startswith(ds.path + "/{"))
    first = ok(query_op.operation_id, api.get(ds.path, params={"size": 1}))["items"][0]
    assert handler_for(get_op) is factory(get_op), f"{get_op.operation_id} is answered by another role's handler"
    got = ok(get_op.operation_id, api.get(f"{ds.path}/{first[ds.key]}"))
    assert got == first
    expected = next(r for r in demo()[name] if r[ds.key] == first[ds.key])
    assert {k: v for k, v in got.items() if k not in ds.sensitive and k != "provider"} == {
        k: v for k, v in expected.items() if k not in ds.sensitive
    }
    assert set(got["provider"]) == {"uscc", "name", "division", "system"}  # the seeded providing subject
    missing = _other_record(name)[ds.key]
    assert all(r[ds.key] != missing for r in demo()[name])
    body = error(api.get(f"{ds.path}/{missing}"), 404)
    assert body["code"] == "NOT_FOUND" and "不存在" in body["message"]


def _other_record(name: str) -> dict[str, Any]:
    """A valid record of a data set that the seeded server does not hold (another seed)."""
    gen = DataGen(99)
    equipment = gen.equipment()
    make = {
        "equipment": lambda: equipment,
        "units": gen.unit,
        "personnel": gen.personnel,
        "accidents": lambda: gen.accident(equipment),
        "inspection-reports": lambda: gen.inspection_report(equipment),
        "use-registrations": lambda: gen.use_registration(
            equipment, {"name": "武汉市市场监督管理局", "uscc": equipment["useUnitUscc"], "division": "420100"}
        ),
    }
    return make[name]()


def test_get_errors_and_literal_paths_first(seeded: Any) -> None:
    api = Api(seeded.url())
    body = error(api.get("/api/v1/equipment/XYZ"), 400)
    assert body["errors"][0]["path"] == "/path/equipmentCode"
    body = error(api.get("/api/v1/accidents/SG42002025999999"), 404)
    assert body["code"] == "NOT_FOUND" and "不存在" in body["message"]
    ok("personnelChanges", api.get("/api/v1/personnel/changes", params={"limit": 1}))


def _expected(name: str, pred: Any) -> list[str]:
    key = SETS[name].key
    return sorted(r[key] for r in demo()[name] if pred(r))


def _all_keys(api: Api, op_id: str, path: str, params: dict[str, Any], size: int = 500) -> tuple[list[str], int]:
    keys: list[str] = []
    page, total = 1, None
    key = SETS[OPS[op_id].data_set].key  # type: ignore[index]
    while True:
        data = ok(op_id, api.get(path, params={**params, "page": page, "size": size}))
        total = data["total"] if total is None else total
        assert data["total"] == total and data["page"] == page and data["size"] == size
        if not data["items"]:
            return keys, total
        keys += [r[key] for r in data["items"]]
        page += 1


def test_query_filters(seeded: Any) -> None:
    api = Api(seeded.url())
    cases: list[tuple[str, str, dict[str, Any], Any]] = [
        ("queryEquipment", "equipment", {"division": "420000"}, lambda r: r["division"].startswith("42")),
        ("queryEquipment", "equipment", {"catalogueCode": "3000"}, lambda r: r["catalogueCode"].startswith("3")),
        (
            "queryEquipment",
            "equipment",
            {"catalogueCode": "3100", "status": "in-use"},
            lambda r: r["catalogueCode"] in code_lists.catalogue_descendants("3100") and r["status"] == "in-use",
        ),
        (
            "queryEquipment",
            "equipment",
            {"updatedSince": "2025-05-01T00:00:00Z"},
            lambda r: sd.instant(r["updatedAt"]) >= sd.instant("2025-05-01T00:00:00+00:00"),
        ),
        (
            "queryUnits",
            "units",
            {"unitType": "inspection", "division": "370000"},
            lambda r: r["unitType"] == "inspection" and r["division"][:2] == "37",
        ),
        ("queryPersonnel", "personnel", {"workItem": "Q2"}, lambda r: "Q2" in r["workItems"]),
        (
            "queryAccidents",
            "accidents",
            {"occurredFrom": "2023-01-01T00:00:00+08:00", "occurredTo": "2024-06-30T23:59:59+08:00"},
            lambda r: "2023-01-01" <= r["occurredAt"][:10] <= "2024-06-30",
        ),
        (
            "queryInspectionReports",
            "inspection-reports",
            {"conclusion": "不合格", "inspectionDateFrom": "2025-01-01"},
            lambda r: r["conclusion"] == "不合格" and r["inspectionDate"] >= "2025-01-01",
        ),
        ("queryUseRegistrations", "use-registrations", {"status": "suspended"}, lambda r: r["status"] == "suspended"),
    ]
    prefecture = next(
        e["division"][:4] + "00" for e in demo()["equipment"] if e["division"][:4] + "00" in code_lists.divisions()
    )
    cases.append(
        ("queryEquipment", "equipment", {"division": prefecture}, lambda r: r["division"][:4] == prefecture[:4])
    )
    unit = demo()["equipment"][0]["useUnitUscc"]
    cases.append(("queryEquipment", "equipment", {"useUnitUscc": unit}, lambda r: r["useUnitUscc"] == unit))
    for op_id, name, params, pred in cases:
        keys, total = _all_keys(api, op_id, SETS[name].path, params)
        expected = _expected(name, pred)
        assert expected, (op_id, params)
        assert keys == expected and total == len(expected), (op_id, params, total, len(expected))


def test_query_limits_and_ranges(seeded: Any) -> None:
    api = Api(seeded.url())
    assert error(api.get("/api/v1/equipment", params={"size": 501}), 400)["errors"][0]["path"] == "/query/size"
    assert error(api.get("/api/v1/equipment", params={"page": 0}), 400)["errors"][0]["path"] == "/query/page"
    data = ok("queryEquipment", api.get("/api/v1/equipment", params={"page": 99, "size": 500}))
    assert data["items"] == [] and data["total"] == 3000
    default = ok("queryEquipment", api.get("/api/v1/equipment"))
    assert default["page"] == 1 and default["size"] == 50 and len(default["items"]) == 50
    body = error(
        api.get(
            "/api/v1/accidents",
            params={"occurredFrom": "2024-01-01T00:00:00+08:00", "occurredTo": "2023-01-01T00:00:00+08:00"},
        ),
        400,
    )
    assert body["errors"][0]["path"] == "/query/occurredTo"
    error(
        api.get(
            "/api/v1/inspection-reports", params={"inspectionDateFrom": "2025-02-01", "inspectionDateTo": "2025-01-01"}
        ),
        400,
    )


def test_paging_walk_is_complete_and_stable(seeded: Any) -> None:
    api = Api(seeded.url(), "reader")
    keys, total = _all_keys(api, "queryEquipment", "/api/v1/equipment", {}, size=137)
    assert total == len(keys) == len(set(keys)) == 3000
    assert keys == sorted(keys) == _expected("equipment", lambda r: True)


# ---------------------------------------------------------------------------- open data, grants


def test_open_data_is_masked(seeded: Any) -> None:
    api = Api(seeded.url(), "open-data")
    people = 0
    for page in (1, 2):
        data = ok("queryOpenPersonnel", api.get("/api/v1/open/personnel", params={"page": page, "size": 300}))
        for p in data["items"]:
            assert MASKED_ID.match(p["personId"]) and MASKED_MOBILE.match(p["phone"]), p
            people += 1
    assert people == data["total"] == len(demo()["personnel"])
    data = ok("queryOpenUnits", api.get("/api/v1/open/units", params={"division": "420000", "size": 500}))
    assert data["items"] and all(MASKED_MOBILE.match(u["contactPhone"]) for u in data["items"] if "contactPhone" in u)
    assert any(
        u["unitType"] == "supervision" and "contactPhone" not in u for u in data["items"]
    )  # 12315 is not a mobile
    person = demo()["personnel"][0]
    data = ok("queryOpenPersonnel", api.get("/api/v1/open/personnel", params={"employerUscc": person["employerUscc"]}))
    assert person["certificateNo"] in {p["certificateNo"] for p in data["items"]}
    shown = next(p for p in data["items"] if p["certificateNo"] == person["certificateNo"])
    assert shown["personId"] == person["personId"][:6] + "********" + person["personId"][-4:]
    assert shown["phone"] == person["phone"][:3] + "****" + person["phone"][-4:]
    assert Api(seeded.url(), "reader").get("/api/v1/open/personnel").status_code == 403


def test_sensitive_fields_need_the_owners_grant(seeded: Any) -> None:
    base = seeded.url()
    harness, other = Api(base), SignedApi(base)
    person = demo()["personnel"][1]
    path = f"/api/v1/personnel/{person['certificateNo']}"
    before = ok("getPersonnel", harness.get(path))
    assert MASKED_ID.match(before["personId"]) and MASKED_MOBILE.match(before["phone"])
    grant = {
        "grantId": f"g-{secrets.token_hex(4)}",
        "ownerUscc": person["employerUscc"],
        "granteeClientId": "harness",
        "dataSet": "personnel",
        "fields": ["personId", "phone"],
        "purpose": "事故调查核实持证人员身份",
        "validTo": (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat(timespec="seconds"),
    }
    created = ok("createGrant", harness.post("/api/v1/grants", grant), 201)
    assert created["createdAt"] and {k: created[k] for k in grant} == grant
    assert ok("createGrant", harness.post("/api/v1/grants", grant), 200) == created
    assert error(harness.post("/api/v1/grants", {**grant, "purpose": "其他用途"}), 409)["code"] == "CONFLICT"
    after = ok("getPersonnel", harness.get(path))
    assert (after["personId"], after["phone"]) == (person["personId"], person["phone"])
    listed = ok("queryPersonnel", harness.get("/api/v1/personnel", params={"employerUscc": person["employerUscc"]}))
    assert person["personId"] in {p["personId"] for p in listed["items"]}
    ok("personnelChanges", harness.get("/api/v1/personnel/changes", params={"limit": 1000}))
    # another client, and other owners' records, stay masked
    assert MASKED_ID.match(ok("getPersonnel", other.get(path))["personId"])
    stranger = next(p for p in demo()["personnel"] if p["employerUscc"] != person["employerUscc"])
    assert MASKED_ID.match(
        ok("getPersonnel", harness.get(f"/api/v1/personnel/{stranger['certificateNo']}"))["personId"]
    )
    # the open endpoint ignores grants
    open_item = ok(
        "queryOpenPersonnel", harness.get("/api/v1/open/personnel", params={"employerUscc": person["employerUscc"]})
    )
    assert all(MASKED_ID.match(p["personId"]) for p in open_item["items"])
    # a grant to `reader` for one unit's contact phone; expiry restores masking. It is valid for more than 4 s (whole
    # seconds): far more than the two requests that must fall inside it take, however loaded the machine
    unit = next(u for u in demo()["units"] if u["unitType"] == "use")
    reader = Api(base, "reader")
    upath = f"/api/v1/units/{unit['uscc']}"
    assert MASKED_MOBILE.match(ok("getUnit", reader.get(upath))["contactPhone"])
    valid_to = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=5)
    short = {
        **grant,
        "grantId": f"g-{secrets.token_hex(4)}",
        "ownerUscc": unit["uscc"],
        "granteeClientId": "reader",
        "dataSet": "units",
        "fields": ["contactPhone"],
        "validTo": valid_to.isoformat(timespec="seconds"),
    }
    ok("createGrant", harness.post("/api/v1/grants", short), 201)
    assert ok("getUnit", reader.get(upath))["contactPhone"] == unit["contactPhone"]
    assert MASKED_MOBILE.match(ok("getUnit", harness.get(upath))["contactPhone"])
    time.sleep(max(0.0, sd.instant(short["validTo"]) - time.time()) + 0.1)
    assert MASKED_MOBILE.match(ok("getUnit", reader.get(upath))["contactPhone"])
    # grant validation
    body = error(
        harness.post("/api/v1/grants", {**grant, "grantId": "g-bad-field", "fields": ["personId", "nickname"]}), 400
    )
    assert body["errors"][0]["path"] == "/fields/1"
    body = error(
        harness.post("/api/v1/grants", {**grant, "grantId": "g-past", "validTo": "2020-01-01T00:00:00+08:00"}), 400
    )
    assert body["errors"][0]["path"] == "/validTo"
    assert error(reader.post("/api/v1/grants", {**grant, "grantId": "g-scope"}), 403)["code"] == "FORBIDDEN"


# ---------------------------------------------------------------------------- audit, security


def test_audit_is_written_and_chained(seeded: Any) -> None:
    base = seeded.url()
    Api(base).get("/api/v1/equipment", params={"size": 1})
    Api(base, "open-data").get("/api/v1/open/units", params={"size": 1})
    auditor = Api(base, "auditor")
    time.sleep(0.3)  # reads are flushed every 0.2 s (the query flushes too)
    entries: list[dict[str, Any]] = []
    page, total = 1, None
    while True:  # each audit query is itself audited: the log grows while it is read
        data = ok("queryAudit", auditor.get("/api/v1/audit", params={"page": page, "size": 50}))
        total = data["total"] if total is None else total
        entries += data["items"]
        if not data["items"]:
            break
        page += 1
    assert len(entries) >= total and [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0]["prevHash"] == GENESIS
    assert verify_chain(entries) is None
    actions = {e["action"] for e in entries}
    assert {"queryEquipment", "queryOpenUnits"} <= actions
    only = ok("queryAudit", auditor.get("/api/v1/audit", params={"action": "queryOpenUnits"}))
    assert only["total"] >= 1 and {e["action"] for e in only["items"]} == {"queryOpenUnits"}
    first = entries[0]["time"]
    first_utc = dt.datetime.fromisoformat(first).astimezone(dt.UTC).isoformat()
    window = ok("queryAudit", auditor.get("/api/v1/audit", params={"from": first_utc, "to": first}))
    assert window["total"] >= 1 and all(e["time"] == first for e in window["items"])
    assert error(
        auditor.get("/api/v1/audit", params={"from": "2025-02-01T00:00:00+08:00", "to": "2025-01-01T00:00:00+08:00"}),
        400,
    )
    assert error(Api(base, "reader").get("/api/v1/audit"), 403)["code"] == "FORBIDDEN"


def test_security_401_403_429(seeded: Any) -> None:
    base = seeded.url()
    r = requests.get(f"{base}/api/v1/equipment", timeout=30)
    assert error(r, 401)["code"] == "UNAUTHORIZED" and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert error(requests.get(f"{base}/api/v1/units", headers={"Authorization": "Bearer forged"}, timeout=30), 401)
    reader = Api(base, "reader")
    assert error(reader.get("/api/v1/personnel"), 403)["code"] == "FORBIDDEN"
    assert error(_push(reader, "equipment", [("DELETE", demo()["equipment"][0]["equipmentCode"], None)]), 403)
    # `limited` may make 5 calls a second (burst 5) and 40 a day: calls back to back until the first 429, at most 30
    # (a 429 comes unless each call takes over 1/6 s; 30 admitted calls stay within the quota)
    limited = Api(base, "limited")
    codes = []
    for _ in range(30):
        r = limited.get("/api/v1/catalogue")
        codes.append(r.status_code)
        if r.status_code == 429:
            break
    assert codes[0] == 200 and codes[-1] == 429, codes
    body = error(r, 429)
    assert body["code"] == "RATE_LIMITED" and int(r.headers["Retry-After"]) >= 1 and body["retryAfter"] >= 1
    time.sleep(int(r.headers["Retry-After"]))  # the bucket refills while we wait: waiting longer only helps
    assert limited.get("/api/v1/catalogue").status_code == 200
    client = seeded.servers[0].security.clients["limited"]
    client.used = client.quota
    r = limited.get("/api/v1/catalogue")
    assert error(r, 429)["code"] == "QUOTA_EXCEEDED" and int(r.headers["Retry-After"]) > 0


# ---------------------------------------------------------------------------- push and change feed


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[Any]:
    with running(tmp_path, "sharing") as srv:
        yield srv


def test_push_receipt_idempotency_and_rejections(empty: Any) -> None:
    api = Api(empty.url())
    gen = DataGen(11)
    a, b = gen.equipment(), gen.equipment()
    msg = {
        "messageId": "push-0000001",
        "sentAt": now_iso(),
        "source": "湖北省特种设备安全监管平台",
        "sourceDivision": "420000",
        "records": [
            {"operation": "UPLOAD", "key": a["equipmentCode"], "record": a},
            {"operation": "UPDATE", "key": b["equipmentCode"], "record": b},
            {"operation": "DELETE", "key": b["equipmentCode"], "record": None},
            {"operation": "UPLOAD", "key": b["equipmentCode"], "record": a},
        ],
    }
    first = ok("pushEquipment", api.post("/api/v1/equipment/push", msg))
    assert (first["accepted"], first["rejected"], first["duplicate"]) == (1, 3, False)
    assert [r["status"] for r in first["results"]] == ["accepted", "rejected", "rejected", "rejected"]
    assert [r["errors"][0]["path"] for r in first["results"][1:]] == [
        "/records/1/key",
        "/records/2/key",
        "/records/3/key",
    ]
    assert all(re.search(r"[\u4e00-\u9fff]", r["errors"][0]["message"]) for r in first["results"][1:])
    seqs = len(api.get("/api/v1/equipment/changes").json()["data"]["items"])
    again = ok("pushEquipment", api.post("/api/v1/equipment/push", msg))
    assert again == {**first, "duplicate": True}
    assert len(api.get("/api/v1/equipment/changes").json()["data"]["items"]) == seqs == 1
    assert error(api.post("/api/v1/equipment/push", {**msg, "source": "其他来源"}), 409)["code"] == "DUPLICATE"
    shown = ok("getEquipment", api.get(f"/api/v1/equipment/{a['equipmentCode']}"))
    provider = {
        "uscc": HARNESS_PROVIDER_ORG["uscc"],
        "name": HARNESS_PROVIDER_ORG["name"],
        "division": msg["sourceDivision"],
        "system": msg["source"],
    }
    assert shown == {**access.mask(SETS["equipment"], a), "provider": provider} and MASKED_MOBILE.match(
        shown["emergencyPhone"]
    )  # x-sensitive mobile; the harness's organisation provides it
    # an out-of-order (older) update never overwrites newer data; a newer one does
    older = {**a, "status": "scrapped", "updatedAt": "2020-01-01T00:00:00+08:00"}
    stale = ok("pushEquipment", _push(api, "equipment", [("UPDATE", a["equipmentCode"], older)]))
    assert stale["rejected"] == 1 and stale["results"][0]["errors"][0]["path"] == "/records/0/record/updatedAt"
    newer = {**a, "status": "suspended", "updatedAt": "2030-01-01T00:00:00+08:00"}
    assert ok("pushEquipment", _push(api, "equipment", [("UPDATE", a["equipmentCode"], newer)]))["accepted"] == 1
    assert ok("getEquipment", api.get(f"/api/v1/equipment/{a['equipmentCode']}"))["status"] == "suspended"
    # a record that breaks its schema: the whole message is refused, nothing applied (the contract)
    bad = {**b, "catalogueCode": "ZZZZ"}
    r = _push(api, "equipment", [("UPLOAD", b["equipmentCode"], b), ("UPLOAD", bad["equipmentCode"], bad)])
    body = error(r, 400)
    assert any(e["path"].startswith("/records/1/record") for e in body["errors"]), body["errors"]
    assert error(api.get(f"/api/v1/equipment/{b['equipmentCode']}"), 404)["code"] == "NOT_FOUND"
    # DELETE, then the record is gone (404) and UPDATE of it is refused
    assert ok("pushEquipment", _push(api, "equipment", [("DELETE", a["equipmentCode"], None)]))["accepted"] == 1
    error(api.get(f"/api/v1/equipment/{a['equipmentCode']}"), 404)
    assert ok("pushEquipment", _push(api, "equipment", [("UPDATE", a["equipmentCode"], newer)]))["rejected"] == 1


def test_change_feed_with_pushes_between_pages(empty: Any) -> None:
    api = Api(empty.url())
    gen = DataGen(5)
    recs = [gen.equipment() for _ in range(30)]
    _upload(api, "equipment", recs[:20])
    _upload(api, "units", [gen.unit()])
    done: list[str] = []

    def between(seen: int) -> None:  # writes while the consumer is mid-way
        if seen >= 7 and "update" not in done:
            done.append("update")
            newer = {**recs[2], "status": "suspended", "updatedAt": "2031-01-01T00:00:00+08:00"}
            ok(
                "pushEquipment",
                _push(
                    api,
                    "equipment",
                    [("UPDATE", recs[2]["equipmentCode"], newer), ("DELETE", recs[15]["equipmentCode"], None)],
                ),
            )
        if seen >= 14 and "upload" not in done:
            done.append("upload")
            _upload(api, "equipment", recs[20:30])

    items, cursor = _walk_changes(api, "/api/v1/equipment", 7, between=between)
    seqs = [c["seq"] for c in items]
    assert seqs == sorted(set(seqs)) and len(items) == 20 + 2 + 10
    full = ok("equipmentChanges", api.get("/api/v1/equipment/changes", params={"limit": 1000}))
    assert full["items"] == items and not full["hasMore"]
    deleted = [c for c in items if c["operation"] == "DELETE"]
    assert [(c["key"], c["record"]) for c in deleted] == [(recs[15]["equipmentCode"], None)]
    assert {c["operation"] for c in items} == {"UPLOAD", "UPDATE", "DELETE"}
    # replaying the feed gives the current state
    state: dict[str, Any] = {}
    for c in items:
        if c["operation"] == "DELETE":
            state.pop(c["key"])
        else:
            state[c["key"]] = c["record"]
    keys, total = _all_keys(api, "queryEquipment", "/api/v1/equipment", {})
    assert sorted(state) == keys and total == 29
    # the same cursor gives the same changes; no new changes keep the cursor
    page1 = ok("equipmentChanges", api.get("/api/v1/equipment/changes", params={"limit": 5}))
    again = api.get("/api/v1/equipment/changes", params={"limit": 5, "cursor": page1["nextCursor"]}).json()["data"]
    assert (
        again == api.get("/api/v1/equipment/changes", params={"limit": 5, "cursor": page1["nextCursor"]}).json()["data"]
    )
    assert again["items"][0]["seq"] == items[5]["seq"]
    tail = ok("equipmentChanges", api.get("/api/v1/equipment/changes", params={"cursor": cursor}))
    assert tail == {"items": [], "nextCursor": cursor, "hasMore": False}
    # invalid, tampered and foreign cursors: 400 with a Chinese reason
    _, units_cursor = _walk_changes(api, "/api/v1/units", 10)
    for bad, word in (
        ("not-a-cursor", "游标无效"),
        (cursor[:-1] + ("0" if cursor[-1] != "0" else "1"), "校验"),
        (units_cursor, "units"),
    ):
        body = error(api.get("/api/v1/equipment/changes", params={"cursor": bad}), 400)
        assert word in body["message"] and body["errors"][0]["path"] == "/query/cursor"


def test_every_data_set_family_answers_per_contract(empty: Any) -> None:
    """Push, get, query, changes and subscribe of each data set: responses valid against the contract."""
    api = Api(empty.url())
    for name, ds in SETS.items():
        ops = {
            op.path.removeprefix(ds.path).split("/")[1] if op.path != ds.path else "": op.operation_id
            for op in OPS.values()
            if op.data_set == name and op.path.startswith(ds.path)
        }
        record = _other_record(name)
        receipt = ok(ops["push"], _push(api, name, [("UPLOAD", record[ds.key], record)]))
        assert receipt["accepted"] == 1
        get_id = ops[next(k for k in ops if k.startswith("{"))]
        if handler_for(OPS[get_id]) is factory(OPS[get_id]):  # see test_get_by_key (inspection-reports)
            assert {
                k: v for k, v in ok(get_id, api.get(f"{ds.path}/{record[ds.key]}")).items() if k != "provider"
            } == access.mask(ds, record)
        assert ok(ops[""], api.get(ds.path))["total"] == 1
        changes = ok(ops["changes"], api.get(f"{ds.path}/changes"))
        assert [(c["operation"], c["key"]) for c in changes["items"]] == [("UPLOAD", record[ds.key])]
        sub = ok(
            ops["subscriptions"],
            api.post(f"{ds.path}/subscriptions", {"dataSet": name, "callbackUrl": "https://example.invalid/hook"}),
            201,
        )
        assert sub["dataSet"] == name and sub["status"] == "active"


# ---------------------------------------------------------------------------- subscriptions


class _Callback(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, Any], str]]] = []
    fail_first: ClassVar[bool] = True

    def do_POST(self) -> None:
        body = orjson.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append((body, self.headers.get("Content-Type", "")))
        status = 500 if type(self).fail_first and len(type(self).received) == 1 else 204
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_subscription_notifications(empty: Any) -> None:
    _Callback.received, _Callback.fail_first = [], True  # class state: a second session in one process starts clean
    callback = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Callback)
    threading.Thread(target=callback.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{callback.server_address[1]}/hook"
    api = Api(empty.url())
    try:
        request = {"dataSet": "equipment", "callbackUrl": url, "operations": ["UPLOAD", "DELETE"], "division": "420000"}
        r = api.post("/api/v1/equipment/subscriptions", request)
        sub = ok("subscribeEquipment", r, 201)
        assert sub["status"] == "active" and r.headers["Location"].endswith(
            f"/api/v1/subscriptions/{sub['subscriptionId']}"
        )
        assert ok("subscribeEquipment", api.post("/api/v1/equipment/subscriptions", request)) == sub
        assert error(api.post("/api/v1/equipment/subscriptions", {**request, "operations": ["UPDATE"]}), 409)
        body = error(
            api.post("/api/v1/equipment/subscriptions", {**request, "callbackUrl": "ftp://example.org/x"}), 400
        )
        assert body["errors"][0]["path"] == "/callbackUrl"
        assert error(api.post("/api/v1/equipment/subscriptions", {**request, "dataSet": "units"}), 400)
        assert error(api.post("/api/v1/personnel/subscriptions", {**request, "dataSet": "personnel"}), 400)
        gen = DataGen(8)
        hubei = [gen.equipment("42") for _ in range(3)]
        other = gen.equipment("44")
        _upload(api, "equipment", [*hubei, other])
        ok(
            "pushEquipment",
            _push(
                api,
                "equipment",
                [("UPDATE", hubei[0]["equipmentCode"], hubei[0]), ("DELETE", hubei[1]["equipmentCode"], None)],
            ),
        )
        deadline = time.monotonic() + 120  # only stops a hang: delivery and its retry take a few seconds
        while time.monotonic() < deadline:
            seen = {c["seq"] for b, _ in _Callback.received[1:] for c in b["changes"]}
            if len(seen) >= 4:
                break
            time.sleep(0.05)
        assert len(_Callback.received) >= 2, "no notification delivered"
        first, retry = _Callback.received[0][0], _Callback.received[1][0]
        assert retry == first, "a retry carries the same message id and body"
        v = validator("sharing#/$defs/notification")
        changes = []
        ids = set()
        for note, ctype in _Callback.received[1:]:
            assert v.is_valid(note) and ctype.startswith("application/json")
            assert note["subscriptionId"] == sub["subscriptionId"] and note["dataSet"] == "equipment"
            ids.add(note["messageId"])
            changes += note["changes"]
        assert [(c["operation"], c["key"]) for c in changes] == [
            *(("UPLOAD", e["equipmentCode"]) for e in hubei),
            ("DELETE", hubei[1]["equipmentCode"]),
        ]
        assert [c["seq"] for c in changes] == sorted({c["seq"] for c in changes})
        log = sharing_push.notifications(empty.servers[0], sub["subscriptionId"])
        assert log[0]["attempts"] == 2 and log[0]["status"] == "sent" and {n["messageId"] for n in log} == ids
        sid = sub["subscriptionId"]
        assert ok("getSubscription", api.get(f"/api/v1/subscriptions/{sid}")) == sub
        assert error(SignedApi(empty.url()).get(f"/api/v1/subscriptions/{sid}"), 404)["code"] == "NOT_FOUND"
        assert error(Api(empty.url(), "reader").get(f"/api/v1/subscriptions/{sid}"), 403)
        cancelled = ok("cancelSubscription", api.delete(f"/api/v1/subscriptions/{sid}"))
        assert cancelled == {**sub, "status": "cancelled"}
        assert ok("cancelSubscription", api.delete(f"/api/v1/subscriptions/{sid}")) == cancelled
        assert error(api.get("/api/v1/subscriptions/sub-unknown"), 404)
    finally:
        callback.shutdown()


# ---------------------------------------------------------------------------- defects


def _with_defect(tmp_path: Path, name: str) -> Any:
    return running(tmp_path, "sharing", defects=(name,))


def _fill(api: Api) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    gen = DataGen(3)
    equipment = [gen.equipment() for _ in range(25)]
    people = [gen.personnel() for _ in range(3)]
    unit = gen.unit()
    _upload(api, "equipment", equipment)
    _upload(api, "personnel", people)
    _upload(api, "units", [unit])
    return equipment, people, unit


def test_defect_paging_drops_boundary(tmp_path: Path) -> None:
    with _with_defect(tmp_path, "paging-drops-boundary") as srv:
        api = Api(srv.url())
        _fill(api)
        keys, total = _all_keys(api, "queryEquipment", "/api/v1/equipment", {}, size=10)
        assert total == 25 and len(keys) < 25


def test_defect_paging_wrong_total(tmp_path: Path) -> None:
    with _with_defect(tmp_path, "paging-wrong-total") as srv:
        api = Api(srv.url())
        _fill(api)
        assert api.get("/api/v1/equipment", params={"size": 10}).json()["data"]["total"] != 25


def test_defect_changes_skip(tmp_path: Path) -> None:
    with _with_defect(tmp_path, "changes-skip") as srv:
        api = Api(srv.url())
        _fill(api)
        items, _ = _walk_changes(api, "/api/v1/equipment", 5)
        assert len(items) < 25


def test_defect_unmasked_open_data(tmp_path: Path) -> None:
    with _with_defect(tmp_path, "unmasked-open-data") as srv:
        api = Api(srv.url())
        _, people, _ = _fill(api)
        items = api.get("/api/v1/open/personnel").json()["data"]["items"]
        assert {p["personId"] for p in items} == {p["personId"] for p in people}


def test_defect_sensitive_without_grant(tmp_path: Path) -> None:
    with _with_defect(tmp_path, "sensitive-without-grant") as srv:
        api = Api(srv.url())
        _, people, _ = _fill(api)
        assert api.get(f"/api/v1/personnel/{people[0]['certificateNo']}").json()["data"]["phone"] == people[0]["phone"]


def test_defect_push_not_idempotent(tmp_path: Path) -> None:
    with _with_defect(tmp_path, "push-not-idempotent") as srv:
        api = Api(srv.url())
        unit = DataGen(4).unit()
        r1 = _push(api, "units", [("UPLOAD", unit["uscc"], unit)], mid="push-dup-0001")
        r2 = _push(api, "units", [("UPLOAD", unit["uscc"], unit)], mid="push-dup-0001")
        assert r1.status_code == r2.status_code == 200 and r2.json()["data"]["duplicate"] is False


def test_defect_wrong_uscc_check(tmp_path: Path) -> None:
    with _with_defect(tmp_path, "wrong-uscc-check") as srv:
        api = Api(srv.url())
        _, _, unit = _fill(api)
        shown = api.get(f"/api/v1/units/{unit['uscc']}").json()["data"]["uscc"]
        assert shown != unit["uscc"] and not validator("unit").is_valid({**unit, "uscc": shown})


# ---------------------------------------------------------------------------- durability and readers


def test_a_reader_outside_a_write_sees_only_committed_state(tmp_path: Path) -> None:
    """While a group commit is open, its writes are not durable: reads outside a write do not see them (the work of
    the group reads its own writes), the message-id look-up of idempotent pushes does."""
    db = Database(tmp_path / "group.sqlite3")

    async def scenario() -> None:
        with db.grouped():
            db.put_record("units", "K-1", {"n": 1}, "2025-01-01T00:00:00+08:00")
            db.remember_message("scope", "msg-00000001", "digest", 200, {"ok": True})
            assert db.get_record("units", "K-1") == {"n": 1}  # the writer reads its own writes
        assert db.get_record("units", "K-1") is None
        assert db.one("SELECT COALESCE(MAX(seq), 0) FROM changes")[0] == 0
        assert db.all("SELECT key FROM changes") == []
        assert db.message("scope", "msg-00000001") is not None  # a repeat waits for the group, never runs twice
        await db.durable()
        assert db.get_record("units", "K-1") == {"n": 1}
        assert db.one("SELECT COALESCE(MAX(seq), 0) FROM changes")[0] == 1

    asyncio.run(scenario())
    db.close()


def test_feed_reads_and_queries_serve_no_change_that_is_not_durable(tmp_path: Path) -> None:
    """Every read path of a data set — change feed (and its cursor), read by key, paged query — answers from
    committed state while pushes wait in an open group commit."""
    db = Database(tmp_path / "feed.sqlite3")
    server = RoleServer(role="sharing", db=db, security=Security(load_clients()), audit=AuditLog(db))
    setup(server)
    ds = SETS["equipment"]
    gen = DataGen(21)
    a, b = gen.equipment(), gen.equipment()

    def ctx(op_id: str, query: dict[str, Any] | None = None, path: dict[str, str] | None = None) -> Ctx:
        return Ctx(
            op=OPS[op_id],
            server=server,
            request_id="req-1",
            path=path or {},
            query=query or {},
            headers={},
            body=None,
            body_bytes=b"",
        )

    async def scenario() -> None:
        changes, get, query = (factory(OPS[i]) for i in ("equipmentChanges", "getEquipment", "queryEquipment"))
        assert changes is not None and get is not None and query is not None
        sd.store(db, ds, a["equipmentCode"], a, now_iso())
        start = (await changes(ctx("equipmentChanges", {"limit": 10}))).data
        assert [c["key"] for c in start["items"]] == [a["equipmentCode"]]
        with db.grouped():
            sd.store(db, ds, b["equipmentCode"], b, now_iso())  # not durable until the group commits
        feed = (await changes(ctx("equipmentChanges", {"limit": 10}))).data
        assert [c["key"] for c in feed["items"]] == [a["equipmentCode"]] and feed == start
        tail = (await changes(ctx("equipmentChanges", {"limit": 10, "cursor": start["nextCursor"]}))).data
        assert tail == {"items": [], "nextCursor": start["nextCursor"], "hasMore": False}
        with pytest.raises(ApiError) as absent:
            await get(ctx("getEquipment", path={"equipmentCode": b["equipmentCode"]}))
        assert absent.value.status == 404
        assert (await query(ctx("queryEquipment"))).data["total"] == 1
        await db.durable()
        tail = (await changes(ctx("equipmentChanges", {"limit": 10, "cursor": start["nextCursor"]}))).data
        assert [c["key"] for c in tail["items"]] == [b["equipmentCode"]]
        assert (await query(ctx("queryEquipment"))).data["total"] == 2

    asyncio.run(scenario())
    db.close()


def test_a_cursor_whose_change_is_gone_is_refused_not_answered_with_a_gap(tmp_path: Path) -> None:
    """A cursor standing for a change the log no longer has as it was issued (a restored database, or a cursor a
    server handed out for a change that did not survive kill -9, whose number then went to another change) is a 400
    with the advice to reload — not a 200 from a position that silently skips the changes now numbered below it."""
    with running(tmp_path, "sharing") as srv:
        api = Api(srv.url())
        gen = DataGen(31)
        _upload(api, "units", [gen.unit() for _ in range(3)])
        _, cursor = _walk_changes(api, "/api/v1/units", 10)
        # the log loses its last two changes, as if they had never been committed; their numbers are free again
        other = Database(srv.cfg.db)
        with other.write() as c:
            c.execute("DELETE FROM changes WHERE seq > 1")
            c.execute("UPDATE sqlite_sequence SET seq = 1 WHERE name = 'changes'")
        other.close()
        body = error(api.get("/api/v1/units/changes", params={"cursor": cursor}), 400)
        assert "游标已失效" in body["message"] and body["errors"][0]["path"] == "/query/cursor"
        new = [gen.unit() for _ in range(3)]
        _upload(api, "units", new)  # numbers 2, 3, 4: the cursor's number exists again, for another change
        body = error(api.get("/api/v1/units/changes", params={"cursor": cursor}), 400)
        assert "游标已失效" in body["message"] and "从头同步" in body["message"]
        items, _ = _walk_changes(api, "/api/v1/units", 10)
        assert [c["seq"] for c in items] == [1, 2, 3, 4]  # reloading from the start gives everything


def test_defect_changes_seq_reused(tmp_path: Path) -> None:
    with _with_defect(tmp_path, "changes-seq-reused") as srv:
        api = Api(srv.url())
        gen = DataGen(6)
        a, b = gen.unit(), gen.unit()
        _upload(api, "units", [a, b])
        first, _ = _walk_changes(api, "/api/v1/units", 10)
        newer = {**b, "updatedAt": "2031-01-01T00:00:00+08:00"}
        assert ok("pushUnits", _push(api, "units", [("UPDATE", b["uscc"], newer)]))["accepted"] == 1
        again, _ = _walk_changes(api, "/api/v1/units", 10)
        was = {c["seq"]: (c["operation"], c["key"]) for c in first}
        now = {c["seq"]: (c["operation"], c["key"]) for c in again}
        assert was[2] == ("UPLOAD", b["uscc"]) and now[2] == ("UPDATE", b["uscc"])  # number 2 reused

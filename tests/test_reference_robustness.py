"""Bad input never crashes the reference server nor changes what it stores; concurrent writers of
the same message never duplicate it."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from conformance.check.limits import MAX_JSON_BYTES, MAX_JSON_DEPTH
from conformance.check.schema import validator, validator_at
from conformance.contract.openapi import ROLES, Operation, role_operations
from conformance.datagen import DataGen
from conformance.reference.context import now_iso
from conformance.reference.db import Database
from conformance.reference.roles import inspection
from conformance.reference.server import RunningServer
from conformance.suites.support.security import concrete
from tests.refserver import Api, running, token
from tests.test_reference_gov_platform import _new_cert
from tests.test_reference_inspection import objection
from tests.test_reference_licensing import application

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


# ------------------------------------------------------------------------------------------ hostile input, every role
#
# One server of every role (demo data, seed 1) for the tests below; each test takes the role it probes.

ALL_ROLES = tuple(ROLES)
#: UTF-8 text as a header carries it: the octets, written as the Latin-1 characters of the same values.
NON_ASCII = "签名密钥é"
NON_ASCII_WIRE = NON_ASCII.encode("utf-8").decode("latin-1")
SIGNATURE_HEADERS = ("X-Timestamp", "X-Nonce", "X-Signature", "X-Signature-Method")
FORGED_HOST = "tzsb-forged-host.invalid"
#: 1,000 levels (within orjson's 1,024): the parse succeeds; whatever walks the value next recursed that deep.
DEEP = b'[{"a":' * 500 + b"1" + b"}]" * 500


@pytest.fixture(scope="module")
def every_role(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running(tmp_path_factory.mktemp("robust"), "all", seed=1, access_log=False) as srv:
        yield srv


def _token_error(r: requests.Response, status: int, error: str) -> str:
    """The RFC 6749 error body the contract gives the token endpoint; returns its description."""
    assert r.status_code == status, (r.status_code, r.text[:300])
    body = r.json()
    assert validator("security#/$defs/tokenError").is_valid(body), body
    assert body["error"] == error and "access_token" not in body, body
    return str(body.get("error_description", ""))


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_token_endpoint_answers_hostile_credentials_with_4xx(every_role: RunningServer, role: str) -> None:
    """A valid client id with a non-ASCII secret (form, JSON; with non-ASCII signature headers too), a secret or a
    scope of another JSON type, a body nested 1,000 levels: RFC 6749 errors, never a 500 nor a token."""
    url = every_role.url(role) + "/oauth/token"
    grant = {"grant_type": "client_credentials", "client_id": "harness"}
    signature = dict.fromkeys(SIGNATURE_HEADERS, NON_ASCII_WIRE)
    for kw in (
        {"data": {**grant, "client_secret": NON_ASCII}},
        {"json": {**grant, "client_secret": NON_ASCII}},
        {"data": {**grant, "client_secret": NON_ASCII}, "headers": signature},
    ):
        _token_error(requests.post(url, timeout=30, **kw), 401, "invalid_client")  # type: ignore[arg-type]
    for wrong in (
        {**grant, "client_secret": ["harness-secret"]},
        {**grant, "client_secret": "harness-secret", "scope": 5},
        {**grant, "client_secret": "harness-secret", "scope": {"a": ["sharing:open"]}},
    ):
        assert "类型" in _token_error(requests.post(url, json=wrong, timeout=30), 400, "invalid_request")
    deep = b'{"grant_type": "client_credentials", "client_id": "harness", "client_secret": ' + DEEP + b"}"
    r = requests.post(url, data=deep, headers={"Content-Type": "application/json"}, timeout=30)
    assert "嵌套" in _token_error(r, 400, "invalid_request")
    # the token endpoint declares no signature headers: right credentials still get their token
    r = requests.post(url, data={**grant, "client_secret": "harness-secret"}, headers=signature, timeout=30)
    assert r.status_code == 200 and r.json()["access_token"], r.text[:300]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_a_non_ascii_signature_of_a_signing_client_is_a_401(every_role: RunningServer, role: str) -> None:
    """The signing client's non-ASCII X-Signature is a wrong signature (401 SIGNATURE_INVALID), not a 500."""
    base = every_role.url(role)
    op, path = _probe_get(role)
    headers = {
        "Authorization": f"Bearer {token(base, 'signer')}",
        "X-Timestamp": now_iso(),
        "X-Nonce": secrets.token_hex(16),
        "X-Signature-Method": "HMAC-SHA256",
        "X-Signature": NON_ASCII_WIRE,
    }
    r = requests.get(base + path, headers=headers, timeout=30)
    assert r.status_code == 401 and r.json()["code"] == "SIGNATURE_INVALID", (op.operation_id, r.status_code, r.text)


def _nested(depth: int) -> bytes:
    """``depth`` levels of arrays and objects, alternating."""
    return (
        b"".join(b'{"a":' if i % 2 else b"[" for i in range(depth))
        + b"1"
        + b"".join(b"}" if i % 2 else b"]" for i in reversed(range(depth)))
    )


@pytest.mark.parametrize("role", ALL_ROLES)
def test_deeply_nested_bodies_are_a_400_on_every_operation(every_role: RunningServer, role: str) -> None:
    """Every operation with a JSON body: a value nested 1,000 levels, or one level past ``MAX_JSON_DEPTH`` (in a
    field, in a pushed record) is refused 400 BAD_REQUEST in the error envelope, saying so; one exactly at the
    limit is not a 5xx either (the contracts nest a few levels: it is refused by the schema)."""
    base = every_role.url(role)
    api = Api(base)
    ops = [o for o in role_operations(role) if o.secured and o.body_uri]
    assert ops
    over = _nested(MAX_JSON_DEPTH - 2)  # inside {"records": [...]} below: MAX_JSON_DEPTH + 1 in all
    for op in ops:
        path = concrete(op)
        for body in (
            b'{"messageId": "deep-00000001", "tzsb": ' + DEEP + b"}",
            b'{"messageId": "deep-00000002", "records": [{"key": "k", "record": ' + over + b"}]}",
        ):
            r = api.session.post(base + path, data=body, headers={"Content-Type": "application/json"}, timeout=30)
            assert r.status_code == 400, (op.operation_id, r.status_code, r.text[:300])
            err = r.json()
            assert validator("error").is_valid(err) and err["code"] == "BAD_REQUEST", err
            assert "嵌套" in err["message"] and str(MAX_JSON_DEPTH) in err["message"], err["message"]
        at_limit = b'{"messageId": "deep-00000003", "tzsb": ' + _nested(MAX_JSON_DEPTH - 1) + b"}"
        r = api.session.post(base + path, data=at_limit, headers={"Content-Type": "application/json"}, timeout=30)
        assert 400 <= r.status_code < 500 and validator("error").is_valid(r.json()), (op.operation_id, r.text[:300])
    assert requests.get(f"{base}/health", timeout=30).status_code == 200


def _probe_get(role: str) -> tuple[Operation, str]:
    """A secured read of ``role`` (one without path parameters if there is one) and its path, filled in."""
    gets = [o for o in role_operations(role) if o.secured and o.method == "get"]
    op = next((o for o in gets if "{" not in o.path), gets[0])
    return op, concrete(op)


def _header_schema(role: str, name: str) -> str:
    op, _ = _probe_get(role)
    return next(p.schema_uri for p in op.params if p.name == name)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_malformed_signature_headers_are_a_400_for_clients_that_do_not_sign(
    every_role: RunningServer, role: str
) -> None:
    """A signature header that is present must be what the contract says (its schema in common.yaml), whether or
    not the client signs: each malformed one is a 400 VALIDATION_FAILED naming ``/header/<name>``; well-formed ones
    are ignored for a client that does not sign."""
    base = every_role.url(role)
    api = Api(base)
    _, path = _probe_get(role)
    for name in SIGNATURE_HEADERS:
        v = validator_at(_header_schema(role, name))
        for value in (NON_ASCII_WIRE, "tzsb not valid!", "x"):
            assert not v.is_valid(value), (name, value)  # malformed by the contract, not by this test
            r = api.get(path, headers={name: value})
            assert r.status_code == 400, (name, value, r.status_code, r.text[:300])
            err = r.json()
            assert err["code"] == "VALIDATION_FAILED" and f"/header/{name}" in {e["path"] for e in err["errors"]}, err
    well_formed = {
        "X-Timestamp": now_iso(),
        "X-Nonce": secrets.token_hex(16),
        "X-Signature": "0" * 64,
        "X-Signature-Method": "HMAC-SM3",
    }
    assert all(validator_at(_header_schema(role, k)).is_valid(v) for k, v in well_formed.items())
    r = api.get(path, headers=well_formed)
    assert r.status_code in (200, 404), r.text[:300]  # 404: a made-up key in the path


def _created(every_role: RunningServer, role: str, api: Api, headers: dict[str, str]) -> requests.Response:
    """A new resource of ``role`` (201), sent with ``headers``."""
    tag = secrets.token_hex(4)
    if role == "licensing":
        path, body = "/api/v1/applications", application(f"HOST-{tag}", mid=f"host-{tag}")
    elif role == "gov-platform":
        path, body = "/api/v1/elicenses", _new_cert(int(tag, 16))
    elif role == "inspection":
        db = Database(every_role.cfg.db)
        try:
            report = inspection.get_report(db, inspection.report_numbers(db, 1)[0])
        finally:
            db.close()
        assert report is not None
        path, body = "/api/v1/objections", objection(report, mid=f"host-{tag}")
    elif role == "supervision":
        path = "/api/v1/units"
        body = {
            "messageId": f"host-{tag}",
            "reportedAt": "2025-01-01T10:00:00+08:00",
            "unit": DataGen(int(tag, 16)).unit(),
        }
    else:
        path, body = "/api/v1/units/subscriptions", {"dataSet": "units", "callbackUrl": f"http://127.0.0.1:9/{tag}"}
    return api.post(path, body, headers=headers)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_a_forged_host_never_reaches_a_location(every_role: RunningServer, role: str) -> None:
    """A new resource's ``Location`` (and the absolute URLs of a body: dossier and download addresses) start with
    the server's own base URL whatever ``Host`` / ``X-Forwarded-Host`` the request carries."""
    base = every_role.url(role)
    api = Api(base, "harness")
    for forged in ({"Host": FORGED_HOST}, {"X-Forwarded-Host": FORGED_HOST, "Forwarded": f"host={FORGED_HOST}"}):
        r = _created(every_role, role, api, forged)
        assert r.status_code == 201, (role, r.status_code, r.text[:300])
        location = r.headers["Location"]
        assert location.startswith(base + "/") and FORGED_HOST not in location, location
        if role == "licensing":
            listed = api.get("/api/v1/dossiers", params={"size": 5}, headers=forged)
            assert listed.status_code == 200 and listed.json()["data"]["items"], listed.text[:300]
            assert FORGED_HOST not in listed.text and f'"{base}/api/v1/dossiers/' in listed.text
        if role == "gov-platform":
            eid = location.rsplit("/", 1)[1]
            address = api.get(f"/api/v1/elicenses/{eid}/download-address", headers=forged)
            assert address.status_code == 200, address.text[:300]
            assert address.json()["data"]["url"].startswith(f"{base}/api/v1/elicenses/{eid}/file?"), address.text


def test_the_public_url_is_the_base_of_every_location(tmp_path: Path) -> None:
    """``ServerConfig.public_url`` (a server behind a proxy) is what absolute URLs start with."""
    with running(tmp_path, "sharing", public_url="https://tzsb.example.org/sharing/") as srv:
        r = Api(srv.url()).post(
            "/api/v1/units/subscriptions",
            {"dataSet": "units", "callbackUrl": "http://127.0.0.1:9/cb"},
            headers={"Host": FORGED_HOST},
        )
        assert r.status_code == 201, r.text[:300]
        assert r.headers["Location"].startswith("https://tzsb.example.org/sharing/api/v1/subscriptions/")


def test_a_body_over_the_json_size_bound_is_a_413_on_every_role(tmp_path: Path) -> None:
    """A server whose body limit is above ``MAX_JSON_BYTES`` still refuses a larger JSON body, 413 in the envelope
    (the size half of the bound), on the one parse path every role shares."""
    with running(tmp_path, "all", max_body=MAX_JSON_BYTES + 1024 * 1024, access_log=False) as srv:
        body = b'{"messageId": "big-00000001", "pad": "' + b"x" * MAX_JSON_BYTES + b'"}'
        for role in ALL_ROLES:
            op = next(o for o in role_operations(role) if o.secured and o.body_uri and "{" not in o.path)
            api = Api(srv.url(role))
            r = api.session.post(
                srv.url(role) + op.path, data=body, headers={"Content-Type": "application/json"}, timeout=60
            )
            assert r.status_code == 413, (role, op.operation_id, r.status_code, r.text[:300])
            assert validator("error").is_valid(r.json()) and r.json()["code"] == "PAYLOAD_TOO_LARGE", r.text[:300]

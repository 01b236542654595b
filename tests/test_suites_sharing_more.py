"""The remaining sharing-platform suites (``test_sharing_access``, ``test_sharing_transport``,
``test_sharing_delivery``, ``test_sharing_open``) against the reference server: on a clean TLS server
every clause they mark conforms (SHARE.MECH.SUBJECT.1 included: the records' ``provider``, the
contract's dataProvider), and each defect they are meant to catch makes its
clauses 不符合 (the kill matrix of docs/design.md principle 7). The plain-HTTP server (``plain-http``) makes
SHARE.SEC.SECMGMT.3 不符合.

Each defect run uses its own sharing-only server (seed 1) and only the tests that carry the check
(``-k``). Also here: direct checks of the reference server's transport security (the TLS
configuration, the refusal of credentials in URLs, the certificate reuse) and division scoping.

The defect switches these suites catch are run by the kill matrix (``conformance/selfcheck/kill_matrix.py``,
``tests/test_kill_matrix.py``).
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import warnings
from pathlib import Path
from typing import Any

import pytest
import requests

from conformance.contract.clauses import load_catalogue
from conformance.harness.runner import run_suites
from conformance.harness.target import load_target
from conformance.reference.tls import loopback_certificate
from conformance.selfcheck.target_file import write_target
from tests.refserver import running

SUITES = ["test_sharing_access", "test_sharing_transport", "test_sharing_delivery", "test_sharing_open"]
#: The shall-clauses these suites were written for.
CLAUSES = (
    "SHARE.MECH.SUBJECT.1",
    "SHARE.SEC.ACCESS.2",
    "SHARE.SEC.AUTH.3",
    "SHARE.SEC.SECMGMT.3",
    "SHARE.SEC.RETRY.1",
    "SHARE.SEC.RETRY.3",
    "SHARE.MECH.METHOD.1",
    "IPQS.OPEN.FORM.1",
    "IPQS.OPEN.SEC.2",
)


class _Client:
    """A minimal authenticated client that trusts the server's test CA."""

    def __init__(self, base: str, ca_file: Path | None, client: str = "harness") -> None:
        self.base = base
        self.session = requests.Session()
        self.session.trust_env = False  # an environment CA bundle would replace the test CA
        self.session.verify = str(ca_file) if ca_file else True
        r = self.session.post(
            f"{base}/oauth/token",
            data={"grant_type": "client_credentials", "client_id": client, "client_secret": f"{client}-secret"},
            timeout=30,
        )
        r.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.session.get(self.base + path, timeout=30, **kw)


def _totals(api: _Client) -> dict[str, int]:
    from conformance.contract.datasets import data_sets

    return {name: api.get(ds.path, params={"size": 1}).json()["data"]["total"] for name, ds in data_sets().items()}


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sharing database with the demo data of seed 1, made once and copied for each run (seeding is the slow part)."""
    where = tmp_path_factory.mktemp("seeded")
    with running(where, "sharing", seed=1, access_log=False):
        pass
    return where / "sharing.sqlite3"


def _run(
    tmp_path: Path,
    seeded_db: Path,
    *,
    tls: bool = True,
    defects: tuple[str, ...] = (),
    suites: list[str] = SUITES,
    k: str | None = None,
    totals: list[dict[str, int]] | None = None,
) -> dict[str, Any]:
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{seeded_db}{suffix}").is_file():
            shutil.copyfile(f"{seeded_db}{suffix}", tmp_path / f"sharing.sqlite3{suffix}")
    with running(tmp_path, "sharing", seed=1, defects=defects, access_log=False, tls=tls) as srv:
        target = write_target(tmp_path / "t.toml", {"sharing": srv.url()}, "sharing", ca_file=srv.ca_file)
        # the audit query flushes the log, so the entries are there at once: the bound only stops a hang
        target.write_text(
            target.read_text(encoding="utf-8").replace("[thresholds]\n", "[thresholds]\naudit_wait_s = 60\n"),
            encoding="utf-8",
        )
        if totals is not None:
            totals.append(_totals(_Client(srv.url(), srv.ca_file)))
        run_suites(
            target=str(target),
            role="sharing",
            profile="quick",
            client_id=None,
            features=[],
            out=tmp_path / "out",
            answers=None,
            lang="zh",
            suites=suites,
            extra=["-p", "no:randomly", *(["-k", k] if k else [])],
        )
        if totals is not None:
            totals.append(_totals(_Client(srv.url(), srv.ca_file)))
    return json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))


def _verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["verdict"] for c in report["clauses"]}


def test_the_tls_reference_server_conforms_to_every_clause_these_suites_mark(tmp_path: Path, seeded_db: Path) -> None:
    totals: list[dict[str, int]] = []
    report = _run(tmp_path, seeded_db, totals=totals)
    assert totals[0] == totals[1], f"the suites left records behind or removed some: {totals}"
    tests = report["tests"]
    marked = {c for t in tests for c in t["clauses"]}
    known = {c["id"] for c in load_catalogue()}
    assert marked - known == set(), sorted(marked - known)
    bad = [
        (t["nodeid"], t["outcome"], (t["message"] or "")[-400:]) for t in tests if t["outcome"] in ("failed", "error")
    ]
    assert not bad, bad
    verdicts = _verdicts(report)
    assert {c: verdicts.get(c) for c in CLAUSES} == dict.fromkeys(CLAUSES, "符合")
    skipped = {t["nodeid"].rsplit("::", 1)[-1].split("[")[0] for t in tests if t["outcome"] == "skipped"}
    # a local OpenSSL that cannot offer TLS 1.0 / 1.1 or insecure suites at all makes those items 未测 (said so)
    assert skipped <= {"test_legacy_tls_versions_are_refused", "test_insecure_cipher_suites_are_refused"}, skipped
    assert {c: verdicts[c] for c in marked if verdicts.get(c) != "符合"} == {}


# ---------------------------------------------------------------------------- the reference server itself


def _handshake(port: int, ca: Path, version: ssl.TLSVersion, ciphers: str | None = None) -> str | None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(ca))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if ciphers:
            ctx.set_ciphers(ciphers)
        ctx.minimum_version = ctx.maximum_version = version
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=30) as raw,
            ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            return tls.version()
    except (ssl.SSLError, OSError):
        return None


def test_tls_is_1_2_or_later_with_a_loopback_certificate(tmp_path: Path) -> None:
    with running(tmp_path, "sharing", access_log=False, tls=True) as srv:
        assert srv.base.startswith("https://") and srv.ca_file is not None and srv.ca_file.is_file()
        assert _handshake(srv.port, srv.ca_file, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
        assert _handshake(srv.port, srv.ca_file, ssl.TLSVersion.TLSv1_3) == "TLSv1.3"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            legacy = (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)
        assert all(_handshake(srv.port, srv.ca_file, v, "DEFAULT:@SECLEVEL=0") is None for v in legacy)
        r = requests.get(f"{srv.url()}/health", verify=str(srv.ca_file), timeout=30)
        assert r.status_code == 200
        with pytest.raises(requests.ConnectionError):  # plain HTTP on the TLS port: refused, nothing served
            requests.get(f"http://127.0.0.1:{srv.port}/health", timeout=30)
    # the target file names the CA, and the harness client verifies with it
    target = load_target(str(write_target(tmp_path / "t.toml", {"sharing": srv.url()}, "sharing", ca_file=srv.ca_file)))
    assert target.ca_file == str(srv.ca_file.resolve())
    assert target.client("city-reader") is not None and target.client("city-reader").division == "420100"


def test_the_test_certificate_is_made_once_and_reused(tmp_path: Path) -> None:
    first = loopback_certificate(tmp_path / "tls")
    stamp = first.cert_file.stat().st_mtime_ns
    again = loopback_certificate(tmp_path / "tls")
    assert again == first and again.cert_file.stat().st_mtime_ns == stamp
    other = loopback_certificate(tmp_path / "tls", "tzsb.example")  # another host: a new certificate
    assert other.cert_file.stat().st_mtime_ns != stamp


def test_credentials_in_the_url_are_refused_before_use(tmp_path: Path) -> None:
    with running(tmp_path, "all", seed=None, access_log=False) as srv:
        base = srv.url("sharing")
        api = _Client(base, None)
        token = api.session.headers["Authorization"].split()[1]
        for headers in ({}, {"Authorization": f"Bearer {token}"}):
            r = requests.get(f"{base}/api/v1/catalogue", params={"access_token": token}, headers=headers, timeout=30)
            assert r.status_code == 401 and r.json()["code"] == "UNAUTHORIZED" and r.json()["data"] is None
            assert r.json()["errors"][0]["path"] == "/query/access_token"
            assert r.headers["WWW-Authenticate"].startswith("Bearer ")
        r = requests.post(
            f"{base}/oauth/token?client_id=harness&client_secret=harness-secret",
            data={"grant_type": "client_credentials"},
            timeout=30,
        )
        assert r.status_code == 400 and r.json()["error"] == "invalid_request" and "access_token" not in r.json()
        assert api.get("/api/v1/catalogue").status_code == 200
        # other roles are not touched by the sharing guard
        assert requests.get(f"{srv.url('gov-platform')}/health", params={"token": "x"}, timeout=30).status_code == 200


def test_division_scope_follows_references(tmp_path: Path) -> None:
    """Records without a division of their own (inspection reports, use registrations) follow their equipment."""
    with running(tmp_path, "sharing", seed=1, access_log=False) as srv:
        city, harness = _Client(srv.url(), None, "city-reader"), _Client(srv.url(), None)
        equipment = {
            e["equipmentCode"] for e in city.get("/api/v1/equipment", params={"size": 500}).json()["data"]["items"]
        }
        assert (
            equipment and len(equipment) < harness.get("/api/v1/equipment", params={"size": 1}).json()["data"]["total"]
        )
        for path in ("/api/v1/inspection-reports", "/api/v1/use-registrations"):
            items = city.get(path, params={"size": 500}).json()["data"]["items"]
            assert items and {r["equipmentCode"] for r in items} <= equipment, path
        outside = next(
            r
            for r in harness.get("/api/v1/inspection-reports", params={"size": 50}).json()["data"]["items"]
            if r["equipmentCode"] not in equipment
        )
        assert city.get(f"/api/v1/inspection-reports/{outside['reportNo']}").status_code == 404

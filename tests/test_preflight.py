"""The preflight (conformance/harness/preflight.py): what a target offers and lacks, before any suite runs.

Against the reference server (seeded: every item ok; unseeded: the data missing, each with how to provide
it), a port where nothing listens, a server that accepts and never answers, hostile answers, TLS with and
without the target's CA, and roles the contracts do not know. No duration is asserted: each run is only
bounded by a generous hang guard (a preflight that hangs fails the test instead of holding the run).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.contract import documents as contracts
from conformance.harness.preflight import MISSING, OK, Preflight, _width, known_roles, run_preflight
from conformance.harness.target import Credentials, Target, load_target
from conformance.selfcheck.demo_target import demo_target
from conformance.selfcheck.stack import sharing_stack
from tests.hostile import HostileServer
from tests.refserver import running

#: Only stops a hang: far above anything the preflight's own bounds allow.
HANG_S = 90


def preflight(target: Target, **kw: object) -> Preflight:
    """``run_preflight`` in a thread, failing the test if it hangs (never a timing assertion)."""
    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["result"] = run_preflight(target, **kw)  # type: ignore[arg-type]
        except BaseException as exc:  # reported below: the preflight must never raise
            box["error"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(HANG_S)
    assert not thread.is_alive(), "the preflight hung"
    assert "error" not in box, f"the preflight raised: {box.get('error')!r}"
    result = box["result"]
    assert isinstance(result, Preflight)
    json.dumps(result.to_json(), ensure_ascii=False)  # always serialisable
    result.render("zh")
    result.render("en")
    return result


def data_sets() -> list[str]:
    return list(contracts.openapi("sharing")["x-data-sets"])


def bare(url: str, role: str = "sharing", *, credentials: bool = True) -> Target:
    creds = Credentials("harness", "harness-secret") if credentials else None
    return Target(name="probe", role=role, urls={role: url}, credentials=creds)


# ---------------------------------------------------------------------------------------------- reference server
@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, object]]:
    tmp = tmp_path_factory.mktemp("preflight-seeded")
    # a provincial platform reporting up to the national simulator (docs/two-tier.md): nothing it needs is missing
    with sharing_stack(tmp / "sharing.sqlite3") as (sims, srv):
        yield demo_target(tmp / "target.toml", srv, "sharing", simulators=sims), srv


def test_a_seeded_reference_sharing_platform_is_all_ok(seeded: tuple[Path, object]) -> None:
    pf = preflight(load_target(str(seeded[0])))
    bad = [(c.key, c.status, c.detail) for c in pf.checks if c.status != OK]
    assert not bad, bad
    assert not pf.fatal
    keys = {c.key for c in pf.checks}
    assert {"role", "reach:sharing", "token", "op:getCatalogue", "callback"} <= keys
    assert {f"data:{n}" for n in data_sets()} | {f"feed:{n}" for n in data_sets()} <= keys
    assert {"client:auditor", "client:reader", "client:city-reader", "client:limited"} <= keys
    assert {"sim:national", "feature:upstream-exchange", "client:national-platform", "client:enterprise"} <= keys
    out = pf.to_json()
    assert out["summary"]["ok"] == len(pf.checks) and out["fatal"] == []


def test_without_credentials_the_token_is_missing_and_says_where_to_give_it(seeded: tuple[Path, object]) -> None:
    target = load_target(str(seeded[0]))
    target.credentials = None
    target.clients = {}
    pf = preflight(target)
    token = pf.get("token")
    assert token is not None and token.status == MISSING and not token.fatal
    assert "[credentials]" in (token.provide or "") and "[credentials]" in (token.provide_en or "")
    reader = pf.get("client:reader")
    assert reader is not None and reader.status == MISSING and "[clients.reader]" in (reader.provide or "")
    assert not pf.fatal


def test_the_table_is_chinese_by_default_english_on_request_and_aligned(seeded: tuple[Path, object]) -> None:
    target = load_target(str(seeded[0]))
    target.clients.pop("city-reader")
    pf = preflight(target)
    zh, en = pf.render(), pf.render("en")
    assert "检查项" in zh and "正常" in zh and "缺少" in zh and "[clients.city-reader]" in zh
    assert "how to provide" in en and "missing" in en and "预检" not in en
    # the status column starts at the same display column on every row (a CJK character is 2 cells wide)
    header = zh.splitlines()[0]
    column = _width(header[: header.index("状态")])
    for check in pf.checks:
        line = next(li for li in zh.splitlines() if li.startswith(check.label))
        status = "正常" if check.status == OK else "缺少" if check.status == MISSING else "失败"
        assert _width(line[: line.index(status, len(check.label))]) == column, line


def test_an_unseeded_reference_sharing_platform_lacks_its_data(tmp_path: Path) -> None:
    with running(tmp_path, "sharing", access_log=False) as srv:
        pf = preflight(load_target(str(demo_target(tmp_path / "target.toml", srv, "sharing"))))
    assert not pf.fatal
    for name in data_sets():
        for key in (f"data:{name}", f"feed:{name}"):
            check = pf.get(key)
            assert check is not None and check.status == MISSING, (key, check)
            assert check.provide and check.provide_en and "--seed" in check.provide
    assert pf.get("token").status == OK  # type: ignore[union-attr]
    assert pf.get("op:getCatalogue").status == OK  # type: ignore[union-attr]


def test_a_licensing_system_without_driver_or_attended_mode_says_how_to_provide_one(tmp_path: Path) -> None:
    with running(tmp_path, "licensing", access_log=False) as srv:
        target = load_target(str(demo_target(tmp_path / "target.toml", srv, "licensing", features=())))
        pf = preflight(target)
        driver = pf.get("driver")
        assert driver is not None and driver.status == MISSING
        assert "attended" in (driver.provide or "") and "workflow-driver" in (driver.provide or "")
        assert not any(c.key.startswith("client:officer-") for c in pf.checks)  # no driver: no post clients asked
        dossiers = pf.get("data:dossiers")
        assert dossiers is not None and dossiers.status == MISSING
        target.simulators.attended = True
        assert preflight(target).get("driver").status == OK  # type: ignore[union-attr]


def test_the_reference_inspection_system_with_its_sample_reports_is_ok(tmp_path: Path) -> None:
    with running(tmp_path, "inspection", seed=1, access_log=False) as srv:
        target = load_target(str(demo_target(tmp_path / "target.toml", srv, "inspection")))
        pf = preflight(target)
        assert pf.get("data:report_numbers").status == OK  # type: ignore[union-attr]
        target.thresholds.pop("report_numbers")
        reports = preflight(target).get("data:report_numbers")
    assert reports is not None and reports.status == MISSING and "report_numbers" in (reports.provide or "")


# ---------------------------------------------------------------------------------------------- TLS
def test_tls_handshake_with_the_targets_ca_and_without_it(tmp_path: Path) -> None:
    with running(tmp_path, "sharing", access_log=False, tls=True) as srv:
        url = srv.url()
        trusted = bare(url)
        trusted.ca_file = str(srv.ca_file)
        ok = preflight(trusted)
        untrusted = preflight(bare(url))
    tls = ok.get("tls:sharing")
    assert tls is not None and tls.status == OK and not ok.fatal
    bad = untrusted.get("tls:sharing")
    assert bad is not None and bad.fatal and "ca_file" in (bad.provide or "")
    assert [c.key for c in untrusted.fatal] == ["tls:sharing"]


# ---------------------------------------------------------------------------------------------- unreachable, hostile
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_port_where_nothing_listens_is_fatal() -> None:
    pf = preflight(bare(f"http://127.0.0.1:{_free_port()}"))
    assert [c.key for c in pf.fatal] == ["reach:sharing"]
    assert pf.get("token") is None  # nothing further is tried against an unreachable target
    assert not pf.fatal[0].stops  # nothing answered the connection: a usage error (wrong URL, target down)
    reach = pf.get("reach:sharing")
    assert reach is not None and "[urls] sharing" in (reach.provide or "")


def test_a_server_that_accepts_and_never_answers_is_fatal() -> None:
    with socket.socket() as listener:  # the kernel completes the handshake; nobody ever reads or answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        pf = preflight(bare(f"http://127.0.0.1:{listener.getsockname()[1]}"))
    assert [c.key for c in pf.fatal] == ["reach:sharing"]
    assert pf.fatal[0].stops  # reached, and silent: 不通过 with every check 未测 (exit 1), not a usage error


def test_a_trickling_server_is_fatal() -> None:
    with HostileServer("slow") as hostile:
        pf = preflight(bare(hostile.url))
    assert [c.key for c in pf.fatal] == ["reach:sharing"]
    assert pf.fatal[0].stops


@pytest.mark.parametrize("mode", ["garbage", "huge", "redirect-loop", "wrong-type"])
def test_hostile_answers_never_raise_and_are_reported(mode: str) -> None:
    with HostileServer(mode) as hostile:
        pf = preflight(bare(hostile.url))
    assert pf.get("reach:sharing") is not None
    assert any(c.status != OK for c in pf.checks), mode  # the token or the operation is not as the contract says


def test_an_unreachable_counterpart_url_is_not_fatal(seeded: tuple[Path, object]) -> None:
    target = load_target(str(seeded[0]))
    target.urls["inspection"] = f"http://127.0.0.1:{_free_port()}"
    pf = preflight(target)
    other = pf.get("reach:inspection")
    assert other is not None and other.status != OK and not other.fatal
    assert not pf.fatal


# ---------------------------------------------------------------------------------------------- roles
def test_an_unknown_role_is_fatal_and_names_the_known_roles() -> None:
    pf = preflight(bare("http://127.0.0.1:9", role="elevator-vendor"))
    assert [c.key for c in pf.fatal] == ["role"]
    role = pf.fatal[0]
    assert all(r in role.detail for r in known_roles())
    assert len(pf.checks) == 1


def test_the_role_under_test_without_a_url_is_fatal() -> None:
    target = Target(name="probe", role="sharing", urls={}, credentials=None)
    pf = preflight(target)
    assert [c.key for c in pf.fatal] == ["reach:sharing"]
    assert "[urls] sharing" in (pf.fatal[0].provide or "")


def test_the_known_roles_come_from_the_contracts() -> None:
    roles = set(known_roles())
    assert roles == {
        contracts.openapi(n)["x-role"]
        for n in contracts.openapi_names()
        if not contracts.openapi(n).get("x-components-only")
    }


def test_a_target_refusing_the_harness_credential_stops_the_run(tmp_path: Path) -> None:
    """A well-formed RFC 6749 refusal of the harness's own credential (a wrong secret, a client the target never
    registered) is no proof against the target: the preflight stops the run (every check 未测, exit 1)."""
    with running(tmp_path, "sharing", access_log=False) as srv:
        target = bare(srv.url("sharing"))
        target.credentials = Credentials("harness", "not-the-secret")
        pf = preflight(target)
    token = pf.get("token")
    assert token is not None and token.status != OK
    assert token in pf.fatal and token.stops, token


def test_a_broken_token_endpoint_does_not_stop_the_run() -> None:
    """Garbage from the token endpoint is the target's own fault: the run goes on and judges it."""
    with HostileServer("garbage") as hostile:
        pf = preflight(bare(hostile.url))
    token = pf.get("token")
    assert token is not None and token.status != OK
    assert not token.stops

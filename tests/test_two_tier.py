"""The two-tier exchange (docs/two-tier.md): a provincial sharing platform reporting up to the national platform.

* Two reference servers, one the other's upstream: the national one ends with exactly the province's records of its
  own division in their last state — none of another province, none the nation pushed down, nothing twice.
* The national-platform simulator: the sharing contract's push with receipts, idempotent by message id, the records
  kept and readable, every call recorded.
* The suite ``test_sharing_tiers`` on a provincial reference platform with the national simulator: every check
  passes; on a platform that does not declare ``upstream-exchange``, or whose national simulator cannot be reached,
  INFO2007.2.5.3 is 未测 with the reason, never 符合 and never 不适用.

The defect switches of the exchange (``upstream-*``, ``national-update-not-applied``) are run by the kill matrix
(``tests/test_kill_matrix.py``).
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import requests

from conformance.contract.datasets import data_sets
from conformance.datagen.sharing import Builder
from conformance.harness.runner import run_suites
from conformance.selfcheck.demo_target import demo_target, fast_outbox
from conformance.selfcheck.stack import sharing_stack
from conformance.simulators.handle import start
from tests.refserver import Api, running

UNITS = next(ds for ds in data_sets().values() if ds.schema == "unit")
#: A bound on waiting for the province's outbox (never a duration asserted: only how long we look).
WAIT_S = 20.0


def _push(api: Api, items: list[tuple[str, dict[str, Any]]], mid: str) -> dict[str, Any]:
    body = {
        "messageId": mid,
        "sentAt": "2026-12-07T10:00:00+08:00",
        "records": [{"operation": op, "key": r[UNITS.key], "record": None if op == "DELETE" else r} for op, r in items],
    }
    r = api.post(f"{UNITS.path}/push", body)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def _live(api: Api) -> dict[str, dict[str, Any]]:
    r = api.get(UNITS.path, params={"size": 100})
    assert r.status_code == 200, r.text
    return {x[UNITS.key]: x for x in r.json()["data"]["items"]}


def test_two_reference_platforms_exchange_and_the_nation_holds_exactly_the_province_records(tmp_path: Path) -> None:
    (tmp_path / "n").mkdir()
    (tmp_path / "p").mkdir()
    with (
        fast_outbox(),
        running(tmp_path / "n", "sharing", access_log=False) as nation,
        running(tmp_path / "p", "sharing", access_log=False, counterparts={"national": nation.url()}) as province,
    ):
        city, insp, national = (
            Api(province.url(), "city-supervision"),
            Api(province.url(), "inspection-institution"),
            Api(province.url(), "national-platform"),
        )
        _, (a, b, e) = Builder("42", seed=7).make(UNITS.name, 3)
        _, (c,) = Builder("43", seed=8).make(UNITS.name, 1)
        _, (d,) = Builder("42", seed=9).make(UNITS.name, 1)
        _push(city, [("UPLOAD", a), ("UPLOAD", b), ("UPLOAD", e)], "city-msg-0001")
        a2 = {**a, "name": "更名后的单位", "updatedAt": "2026-12-07T10:00:00+08:00"}
        _push(city, [("UPDATE", a2)], "city-msg-0002")
        _push(city, [("DELETE", b)], "city-msg-0003")
        again = _push(city, [("DELETE", b)], "city-msg-0003")  # a source's retransmission: not reported again
        assert again["duplicate"] is True
        _push(insp, [("UPLOAD", c)], "insp-msg-0001")  # another province's record: not the province's to report
        _push(national, [("UPLOAD", d)], "nat-msg-00001")  # pushed down: applied, never sent back up
        assert d[UNITS.key] in _live(Api(province.url()))

        reader = Api(nation.url())
        want = {a[UNITS.key]: a2["name"], e[UNITS.key]: e["name"]}
        deadline = time.monotonic() + WAIT_S
        held: dict[str, dict[str, Any]] = {}
        while time.monotonic() < deadline:
            held = _live(reader)
            if {k: v.get("name") for k, v in held.items()} == want:
                break
            time.sleep(0.2)
        assert {k: v.get("name") for k, v in held.items()} == want
        assert held[a[UNITS.key]]["provider"]["division"] == "420100"  # the source, not the province
        time.sleep(1.0)  # anything stray (an echo, a re-send) would have come by now
        assert {k: v.get("name") for k, v in _live(reader).items()} == want
        changes = reader.get(f"{UNITS.path}/changes", params={"limit": 100}).json()["data"]["items"]
        assert [(x["key"], x["operation"]) for x in changes] == [
            (a[UNITS.key], "UPLOAD"),
            (b[UNITS.key], "UPLOAD"),
            (e[UNITS.key], "UPLOAD"),
            (a[UNITS.key], "UPDATE"),
            (b[UNITS.key], "DELETE"),
        ]


def test_the_national_simulator_takes_pushes_idempotently_and_keeps_the_records() -> None:
    with start(roles=("national",)) as sims:
        base = sims["national"].url
        token = requests.post(
            f"{base}/oauth/token", data={"grant_type": "client_credentials", "client_id": "province"}, timeout=10
        ).json()["access_token"]
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {token}"
        _, (u,) = Builder("42", seed=3).make(UNITS.name, 1)
        body = {"messageId": "up-000000001", "sentAt": "2026-12-07T10:00:00+08:00", "records": []}
        body["records"] = [{"operation": "UPLOAD", "key": u[UNITS.key], "record": u}]
        first = s.post(f"{base}{UNITS.path}/push", json=body, timeout=10)
        assert first.status_code == 200 and first.json()["data"]["duplicate"] is False
        repeat = s.post(f"{base}{UNITS.path}/push", json=body, timeout=10)
        assert repeat.status_code == 200 and repeat.json()["data"] == {**first.json()["data"], "duplicate": True}
        other = {**body, "records": [{"operation": "DELETE", "key": u[UNITS.key], "record": None}]}
        assert s.post(f"{base}{UNITS.path}/push", json=other, timeout=10).status_code == 409
        got = s.get(f"{base}{UNITS.record_path(u[UNITS.key])}", timeout=10)
        assert got.status_code == 200 and got.json()["data"] == u
        assert s.get(f"{base}{UNITS.path}", timeout=10).json()["data"]["total"] == 1
        feed = s.get(f"{base}{UNITS.path}/changes", timeout=10).json()["data"]
        assert [x["key"] for x in feed["items"]] == [u[UNITS.key]]
        assert s.post(f"{base}{UNITS.path}/push", json={"records": []}, timeout=10).status_code == 400
        calls = sims["national"].calls()
        ops = [c.operation for c in calls]
        assert ops[0] == "issueToken" and ops.count(UNITS.push.operation_id) == 4 and len(ops) == 8, ops
        assert [c.status for c in calls if c.operation == UNITS.push.operation_id] == [200, 200, 409, 400]
        assert all(c.client_id == "province" for c in calls)


def _tiers_report(tmp_path: Path, target: Path) -> dict[str, Any]:
    run_suites(
        target=str(target),
        role="sharing",
        profile="quick",
        client_id=None,
        features=[],
        out=tmp_path / "out",
        answers=None,
        lang="zh",
        extra=["-p", "no:randomly", "-p", "no:cacheprovider", "-k", "test_sharing_tiers"],
    )
    return json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))


def _outcomes(report: dict[str, Any]) -> dict[str, str]:
    return {t["nodeid"].rsplit("::", 1)[1]: t["outcome"] for t in report["tests"]}


def _verdicts(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in report["clauses"]}


def test_a_provincial_reference_platform_passes_the_tiers_suite(tmp_path: Path) -> None:
    with sharing_stack(tmp_path / "p.sqlite3") as (sims, srv):
        report = _tiers_report(tmp_path, demo_target(tmp_path / "t.toml", srv, "sharing", simulators=sims))
    outcomes = _outcomes(report)
    assert len(outcomes) == 7 and set(outcomes.values()) == {"passed"}, outcomes
    verdicts = _verdicts(report)
    assert verdicts["INFO2007.2.5.3"]["verdict"] == "符合"
    assert verdicts["SHARE.MECH.SUBJECT.1"]["verdict"] == "符合"


def test_without_upstream_exchange_the_exchange_is_untested_never_conforming(tmp_path: Path) -> None:
    with running(tmp_path, "sharing", seed=1, access_log=False) as srv:
        report = _tiers_report(tmp_path, demo_target(tmp_path / "t.toml", srv, "sharing"))
    verdict = _verdicts(report)["INFO2007.2.5.3"]
    assert verdict["verdict"] == "未测", verdict
    assert "upstream-exchange" in json.dumps(verdict, ensure_ascii=False)
    assert "不适用" not in {_verdicts(report)[c]["verdict"] for c in ("INFO2007.2.5.3",)}


def test_an_unreachable_national_simulator_leaves_the_exchange_untested(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # bound, never listening: connections refused
        with running(tmp_path, "sharing", seed=1, access_log=False) as srv:
            target = demo_target(tmp_path / "t.toml", srv, "sharing")
            text = target.read_text(encoding="utf-8").replace("[features]\n", "[features]\nupstream-exchange = true\n")
            text += f'\n[simulators]\nwait_s = 2\n\n[simulators.urls]\nnational = "http://127.0.0.1:{closed}"\n'
            target.write_text(text, encoding="utf-8")
            report = _tiers_report(tmp_path, target)
    verdict = _verdicts(report)["INFO2007.2.5.3"]
    assert verdict["verdict"] == "未测", verdict
    assert "模拟国家平台" in json.dumps(verdict, ensure_ascii=False)


def test_the_province_is_declared_or_taken_from_the_sources_never_guessed(tmp_path: Path) -> None:
    """``upstream_division`` first; else the one province of the declared sources' divisions; sources of two provinces
    and no declaration: unknown (the checks are then 未测), whatever data the platform holds."""
    from conformance.harness.target import load_target
    from conformance.suites.support.tiers import own_province

    def target(extra: str) -> Path:
        path = tmp_path / f"t{len(list(tmp_path.iterdir()))}.toml"
        path.write_text(f'role = "sharing"\n[urls]\nsharing = "http://127.0.0.1:9"\n{extra}', encoding="utf-8")
        return path

    sources = '[clients.city-supervision]\nclient_id = "a"\nclient_secret = "s"\ndivision = "420100"\n'
    other = '[clients.enterprise]\nclient_id = "b"\nclient_secret = "s"\ndivision = "440100"\n'
    assert own_province(load_target(str(target(sources)))) == "42"
    assert own_province(load_target(str(target(sources + other)))) is None
    declared = sources + other + '[thresholds]\nupstream_division = "440000"\n'
    assert own_province(load_target(str(target(declared)))) == "44"

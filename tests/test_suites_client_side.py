"""The client-side suites against the reference licensing server: the simulators are started first,
then the reference server in role ``licensing`` with its counterparts pointing at them, then the suites
run through ``run_suites`` (pytest in-process with the plugin; report.json gives the verdicts).

* Clean, with the workflow driver: every clause the suites mark is 符合, and each carries the recorded
  inbound calls as evidence in the certification report.
* Attended mode (no driver): a fake operator reads the instructions file and performs each step through
  the reference server's driver; the clauses are judged the same way.

The reference server's outbox runs with short back-off and timeout (``TZSB_OUTBOX_*``) and the simulators
hold a "timed-out" call for ``SIMULATOR_WAITS["hold_s"]`` seconds. The suites' bounds on waiting for a call
(``wait_s``, ``attended_timeout_s``, ``retry_window_s``) are generous here (:data:`WAITS`): on the clean server every
awaited call comes, so they only stop a hang and never judge how fast a loaded machine is.

The defect switches these suites catch are run by the kill matrix (``conformance/selfcheck/kill_matrix.py``,
``tests/test_kill_matrix.py``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conformance.harness.target import SimulatorSettings
from conformance.selfcheck.demo_target import SIMULATOR_WAITS, fast_outbox
from conformance.selfcheck.stack import licensing_stack
from conformance.selfcheck.target_file import FEATURES, write_target
from conformance.simulators import Simulators
from tests import miniature
from tests.refserver import Api, running

#: Only stops a hang (the client-side suites wait out real retry back-offs: minutes).
HANG_S = 3600.0

SUITES = ["test_client_side", "test_client_side_retry"]
SIM = SIMULATOR_WAITS
#: Bounds on the waits for calls that do come (the clean server makes each): generous, they only stop a hang.
WAITS = {"wait_s": 120, "retry_window_s": 60, "attended_timeout_s": 120}
CLIENT_SIDE = {
    "DB42.4.3.2",
    "DB42.4.7.b.1",
    "DB42.7.1.5.a.1",
    "DB42.7.1.5.b.1",
    "DB42.7.2.4.1",
    "DB42.7.2.5.b.2",
    "DB42.7.2.5.e.1",
    "DB42.7.3.2.b.1",
    "DB42.7.4.2.c.1",
    "DB42.7.4.4.a.1",
    "DB42.7.4.4.b.1",
    "DB42.7.4.4.b.2",
    "DB42.7.4.5.c4.1",
    "PROFILE.DB42.7.4.5.c4",
    "DB42.7.5.2.3",
    "DB42.10.3.T6-1.1",
    "DB42.10.4.1",
    "DB42.10.4.T7-1.1",
    "DB42.10.4.T7-2.1",
    "SHARE.SEC.RETRY.1",
    "SHARE.SEC.RETRY.2",
    "SHARE.SEC.RETRY.3",
    "PROFILE.PUSH.1",
    "PROFILE.PUSH.2",
    "DB42.7.1.4.1",
    *{f"DB42.10.2.T5-{n}.1" for n in range(1, 12) if n != 5},
}


@contextmanager
def stack(tmp_path: Path, defects: tuple[str, ...] = ()) -> Iterator[tuple[Simulators, Any]]:
    """Simulators first, then the reference licensing server calling them (short outbox timing)."""
    with licensing_stack(tmp_path / "licensing.sqlite3", defects=defects, seed=None) as (sims, srv):
        yield sims, srv


def _run(
    tmp_path: Path,
    sims: Simulators,
    srv: Any,
    suites: list[str],
    *,
    features: tuple[str, ...] = FEATURES,
    **simulators: object,
) -> dict[str, Any]:
    toml = write_target(
        tmp_path / "t.toml",
        {"licensing": srv.url()},
        "licensing",
        features=features,
        simulators={**SIM, **WAITS, **simulators, "urls": sims.urls()},
    )
    out = tmp_path / "out"
    code = miniature.run_quick(HANG_S, toml, out, role="licensing", suites=suites)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    report["exit"] = code
    report["evidence"] = json.loads((out / "evidence.json").read_text(encoding="utf-8"))
    return report


def _tested(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["verdict"] for c in report["clauses"] if c["tests"]}


def test_the_reference_server_conforms_and_the_report_carries_the_inbound_calls(tmp_path: Path) -> None:
    with stack(tmp_path) as (sims, srv):
        report = _run(tmp_path, sims, srv, SUITES)
    verdicts = _tested(report)
    failing = [t for t in report["tests"] if t["outcome"] != "passed"]
    assert not failing, failing
    assert set(verdicts) >= CLIENT_SIDE, sorted(CLIENT_SIDE - set(verdicts))
    assert {v for cid, v in verdicts.items() if cid in CLIENT_SIDE} == {"符合"}, {
        c: v for c, v in verdicts.items() if v != "符合"
    }
    # T5-12…T5-16 (e-licence look-ups) are not the licensing system's calls: not marked
    assert not {f"DB42.10.2.T5-{n}.1" for n in range(12, 17)} & set(verdicts)
    evidence = report["evidence"]
    for c in report["clauses"]:
        if c["id"] in CLIENT_SIDE:
            inbound = [evidence[i] for i in c["evidence"] if evidence[i].get("direction") == "inbound"]
            assert inbound, c["id"]
            assert all(x["simulator"] in ("gov-platform", "inspection", "supervision") for x in inbound)
    inbound = [x for x in evidence if x.get("direction") == "inbound"]
    assert all("***" in x["request_headers"].get("Authorization", "Bearer ***") for x in inbound)
    sms = [x for x in inbound if x["url"].endswith("/api/v1/sms")]
    assert sms and all("****" in x["request_body"] for x in sms)  # the mobile number is masked in the evidence


#: What the paths suite decides (test_client_side_paths): every path's report-backs and what must not be sent.
PATHS = {
    "DB42.10.2.T5-6.1",
    "DB42.7.2.2.a1.1",
    "DB42.7.2.3.a1.1",
    "DB42.7.2.3.a1.2",
    "DB42.10.2.T5-7.1",
    "DB42.7.2.2.a2.1",
    "DB42.7.2.3.a2.1",
    "DB42.7.2.5.e.1",
    "DB42.7.4.4.a.1",
    "DB42.7.4.2.b.1",
    "DB42.7.4.2.c.1",
    "DB42.7.3.2.b.1",
    "DB42.10.2.T5-8.1",
    "DB42.10.2.T5-9.1",
    "DB42.10.2.T5-10.1",
    "DB42.7.5.2.3",
    "DB42.7.5.4.2",
    "DB42.10.4.T7-2.1",
    "DB42.10.4.1",
    "DB42.7.4.4.b.2",
    "PROFILE.DB42.10.4.T7-2",
    "DB42.10.2.T5-11.1",
    "DB42.7.1.5.f.1",
    "DB42.7.2.5.f.1",
    "PROFILE.PUSH.1",
}


def test_every_path_of_the_exchange_conforms(tmp_path: Path) -> None:
    """不予受理, 补齐补正, 不予许可, 退回, special procedures, changes, the pre-fill and the objection against the reference."""
    with stack(tmp_path) as (sims, srv):
        report = _run(tmp_path, sims, srv, ["test_client_side_paths"])
        calls = sims.calls()
    verdicts = _tested(report)
    failing = [t for t in report["tests"] if t["outcome"] != "passed"]
    assert not failing, failing
    assert set(verdicts) == PATHS, sorted(PATHS ^ set(verdicts))
    assert set(verdicts.values()) == {"符合"}, {c: v for c, v in verdicts.items() if v != "符合"}
    evidence = report["evidence"]
    for c in report["clauses"]:
        if c["id"] in PATHS:
            assert any(evidence[i].get("direction") == "inbound" for i in c["evidence"]), c["id"]
    # the walks reached the counterparts as the paths say: a refusal to accept, a refusal, the changes, an objection
    results = [(c.json or {}).get("result") for c in calls if c.key in ("T5-7", "T5-10")]
    assert {"不予受理", "不予许可"} <= set(results), results
    statuses = {((c.json or {}).get("registration") or {}).get("status") for c in calls if c.key == "T7-2"}
    assert {"changed", "suspended", "cancelled", "scrapped"} <= statuses, statuses
    assert [c for c in calls if c.key == "T6-2"]


def test_a_system_not_wired_to_the_simulators_is_untested_not_failed(tmp_path: Path) -> None:
    """The reference licensing server alone, its counterparts not the simulators: after the first call a step must
    cause does not come and no call of the system is on record at all, the paths are 未测 with what to provide —
    never 不符合 (nothing it sent can be judged), never 符合 (not even "no licence data left")."""
    from conformance.simulators.handle import start

    with fast_outbox(), start(SimulatorSettings()) as sims, running(tmp_path, "licensing") as srv:
        report = _run(tmp_path, sims, srv, ["test_client_side_paths"], wait_s=2)
        assert not [c for c in sims.calls() if c.operation != "getHealth"]  # the preflight probes their health
    outcomes = {t["outcome"] for t in report["tests"]}
    assert outcomes <= {"skipped"}, [t for t in report["tests"] if t["outcome"] != "skipped"]
    assert all("从未调用任何模拟对端" in (t["reason"] or "") for t in report["tests"]), report["tests"][:2]
    assert {c["verdict"] for c in report["clauses"] if c["tests"]} <= {"未测", "不适用"}


class FakeOperator:
    """Reads the instructions file and performs each instruction through the reference server's driver."""

    def __init__(self, path: Path, base: str) -> None:
        self.path, self.base = path, base
        self.stop = threading.Event()
        self.done: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self.work, daemon=True)

    def work(self) -> None:
        apis: dict[str, Api] = {}
        seen = 0
        while not self.stop.is_set():
            lines = self.path.read_text(encoding="utf-8").splitlines() if self.path.exists() else []
            for line in lines[seen:]:
                seen += 1
                ins = json.loads(line)
                api = apis.setdefault(ins["post"], Api(self.base, f"officer-{ins['post']}"))
                time.sleep(0.2)  # a person takes a moment
                if ins["action"] == "step":
                    r = api.post(
                        f"/driver/v1/cases/{ins['caseNo']}/steps",
                        {
                            "step": ins["step"],
                            "outcome": ins["outcome"],
                            "opinion": ins["opinion"],
                            "operatorName": "操作员",
                        },
                    )
                elif ins["action"] == "objection":
                    r = api.post(
                        f"/driver/v1/cases/{ins['caseNo']}/objections",
                        {"items": ins["items"], "operatorName": "操作员"},
                    )
                else:
                    r = api.post(
                        f"/driver/v1/cases/{ins['caseNo']}/special-procedures",
                        {
                            "procedure": ins["procedure"],
                            "action": ins["specialAction"],
                            "opinion": ins["opinion"],
                            "operatorName": "操作员",
                        },
                    )
                (self.done if r.status_code == 200 else self.errors).append(ins if r.status_code == 200 else r.text)
            time.sleep(0.05)


def test_attended_mode_tells_the_operator_and_waits(tmp_path: Path) -> None:
    instructions = tmp_path / "instructions.jsonl"
    with stack(tmp_path) as (sims, srv):
        operator = FakeOperator(instructions, srv.url())
        operator.thread.start()
        try:
            report = _run(
                tmp_path,
                sims,
                srv,
                ["test_client_side"],
                features=tuple(f for f in FEATURES if f != "workflow-driver"),
                attended=True,
                instructions_file=str(instructions),
            )
        finally:
            operator.stop.set()
            operator.thread.join(timeout=60)
    assert not operator.errors, operator.errors
    lines = [json.loads(x) for x in instructions.read_text(encoding="utf-8").splitlines()]
    assert [x.get("step") for x in lines if x["action"] == "step"] == [
        "accept",
        "accept",
        "review",
        "decide",
        "certify",
        "issue",
        "conclude",
    ]
    assert all(x["zh"] and x["en"] and x["caseNo"] for x in lines)
    verdicts = _tested(report)
    for cid in (
        "DB42.10.2.T5-7.1",
        "DB42.10.2.T5-8.1",
        "DB42.10.2.T5-10.1",
        "DB42.10.2.T5-11.1",
        "DB42.10.4.T7-2.1",
        "DB42.7.4.4.a.1",
        "DB42.10.2.T5-9.1",
    ):
        assert verdicts[cid] == "符合", (cid, verdicts[cid])
    assert not [t for t in report["tests"] if t["outcome"] in ("failed", "error")]

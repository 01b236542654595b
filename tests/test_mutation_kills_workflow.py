"""Kills the surviving mutants of the licensing workflow (docs/mutation.md;
conformance/reference/roles/licensing/workflow.py).

The steps are driven in process on the reference server's licensing role (no HTTP): ``licensing`` and
``walk`` are shared with test_mutation_kills_dossier.py, where a step needs its own time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conformance.contract.documents import codelist
from conformance.reference.errors import ApiError
from conformance.reference.roles.licensing import store
from conformance.reference.roles.licensing import workflow as flow
from conformance.reference.server import ServerConfig, make_servers
from conformance.reference.server_state import RoleServer
from tests.test_reference_licensing import GRANTED, application

#: The Annex A post of each step, from the code list (the first post the step allows).
POST = {s["code"]: s["roles"][0] for s in codelist("workflow")["steps"]}
#: The post of each outcome that names its own (workflow.json ``outcomes[].roles``).
OUTCOME_POST = {(o["step"], o["code"]): o["roles"][0] for o in codelist("workflow")["outcomes"] if o.get("roles")}


@contextmanager
def licensing(tmp_path: Path) -> Iterator[RoleServer]:
    """The licensing role of a reference server, without its HTTP front (nothing is reported)."""
    servers = make_servers(ServerConfig(role="licensing", db=tmp_path / "licensing.sqlite3"), "http://127.0.0.1:9")
    try:
        yield servers[0]
    finally:
        servers[0].db.close()


def walk(
    server: RoleServer, case_no: str, steps: list[tuple[str, str]], at: dict[str, str] | None = None
) -> store.Case:
    """Push the application and perform ``steps`` (each with the time given in ``at``, else now)."""
    at = at or {}
    flow.receive_application(server, application(case_no), at=at.get("apply"))
    case = store.load_case(server.db, case_no)
    for step, outcome in steps:
        post = OUTCOME_POST.get((step, outcome), POST[step])
        case = flow.perform_step(
            server, case_no, step, outcome, flow.Actor("张三", post), "同意。", at=at.get(step), report=False
        )
    assert case is not None
    return case


def test_an_ended_case_shows_its_last_step(tmp_path: Path) -> None:
    """已归档（已结束）的办件，其当前步骤为最后执行的步骤“归档”，而不是历史中的其他步骤。
    An archived (ended) case shows the last step performed, 归档, as its current step — no other step of its history.

    Kills ``current_step__mutmut_13`` (``entries[+1]``: the second entry of the history)."""
    with licensing(tmp_path) as server:
        case = walk(server, "CASE-ENDED-01", GRANTED)
        view = flow.case_state(server, case, "http://127.0.0.1:9")
        assert view["ended"] is True, "办件应已结束 / the case has ended"
        assert view["currentStep"] == "archive", f"当前步骤应为归档 / current step archive: {view['currentStep']}"


def test_an_outcome_with_its_own_posts_narrows_the_steps_posts(tmp_path: Path) -> None:
    """结论自带岗位（workflow.json ``outcomes[].roles``）时只有这些岗位可给出该结论：形式审查岗可作受理环节的
    “补齐补正”，不能作“受理”，受理岗可以。
    An outcome that names its own posts narrows the step's: the formal-review post may give 受理's "correction"
    but not "accepted"; the accept post may.

    Kills ``allowed_roles__mutmut_2`` … ``_5`` (the outcome's own posts ignored: the step's posts allowed)."""
    workflow = codelist("workflow")
    step_posts = {s["code"]: s["roles"] for s in workflow["steps"]}
    narrowed = [
        (o["step"], o["code"], p)
        for o in workflow["outcomes"]
        if o.get("roles")
        for p in step_posts[o["step"]]
        if p not in o["roles"]
    ]
    assert ("accept", "accepted", "formal-review") in narrowed, "契约应有此限制 / the contract narrows 受理"
    with licensing(tmp_path) as server:
        for n, (step, outcome, post) in enumerate(narrowed):
            case_no = f"CASE-POST-{n:02d}"
            walk(server, case_no, [])
            try:
                flow.perform_step(server, case_no, step, outcome, flow.Actor("张三", post), "同意。", report=False)
            except ApiError as err:
                assert err.status == 403, f"{step}/{outcome} 由 {post}：应为 403 / expected 403: {err}"
            else:
                raise AssertionError(f"{post} 不应能给出 {step}/{outcome} / {post} may not give {step}/{outcome}")
            allowed = OUTCOME_POST[(step, outcome)]
            case = flow.perform_step(
                server, case_no, step, outcome, flow.Actor("张三", allowed), "同意。", report=False
            )
            assert case.state != "submitted", f"{allowed} 应能给出 {step}/{outcome} / {allowed} may give it"
        walk(server, "CASE-POST-CORR", [])
        corrected = flow.perform_step(
            server,
            "CASE-POST-CORR",
            "accept",
            "correction",
            flow.Actor("张三", "formal-review"),
            "请补正。",
            report=False,
        )
        assert corrected.state == "awaiting-correction", "形式审查岗可作补齐补正 / formal-review may ask for correction"


def test_the_certify_after_refusal_switch_lets_only_an_unconcluded_refused_case_be_certified(tmp_path: Path) -> None:
    """缺陷开关 certify-after-refusal 只放过“已决定、尚未制证、尚未办结”的办件的制证：不予许可后待办结的办件可制证；
    未决定、已制证（发证后）、已办结的办件，其他步骤，以及未打开开关时都不放过。
    The switch certify-after-refusal lets 制证 through only for a decided, uncertified, unconcluded case (a refused
    case awaiting 办结); not an undecided, a certified or a concluded case, not another step, not without the switch.

    Kills the mutants of ``_certifies_any_decision`` (the clean server never reaches its right-hand side)."""
    on = frozenset({"certify-after-refusal"})
    refused = [("accept", "accepted"), ("review", "failed"), ("decide", "refused")]
    with licensing(tmp_path) as server:
        awaiting = walk(server, "CASE-SWITCH-REF", refused)
        concluded = walk(server, "CASE-SWITCH-CON", [*refused, ("conclude", "concluded")])
        undecided = walk(server, "CASE-SWITCH-UND", refused[:2])
        issued = walk(server, "CASE-SWITCH-ISS", GRANTED[:5])
        assert flow._certifies_any_decision(awaiting, "certify", on), "不予许可待办结 / refused, awaiting 办结"
        assert not flow._certifies_any_decision(awaiting, "certify", frozenset()), "开关未开 / switch off"
        assert not flow._certifies_any_decision(awaiting, "issue", on), "只涉及制证 / certify only"
        assert not flow._certifies_any_decision(concluded, "certify", on), "已办结 / concluded"
        assert not flow._certifies_any_decision(undecided, "certify", on), "未决定 / not decided"
        assert not flow._certifies_any_decision(issued, "certify", on), "已制证 / already certified"

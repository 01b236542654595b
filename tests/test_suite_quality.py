"""The data-set suite's audit (conformance/suites/support/quality.py): the pulled records audited once, the report's
``dataQuality`` section (valid against report.schema.json), references the pulled records do not resolve left 未测,
and the judgement the indicator tests make from the audit's verdicts (fail with figures, 未测, vacuous, warning).

The end-to-end runs (the suite against the reference server, the wrong-uscc-check kill run) are in
tests/test_suites_sharing.py and tests/test_kill_matrix.py."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.check.schema import validator
from conformance.datagen import DataGen
from conformance.suites.support import quality


def _break_uscc(value: str) -> str:
    return value[:17] + ("0" if value[17] != "0" else "1")


@pytest.fixture(scope="module")
def pulled() -> dict[str, list[dict[str, Any]]]:
    g = DataGen(11)
    eq = [g.equipment() for _ in range(8)]
    units = []
    for e in eq[:4]:  # the use units of half the equipment pulled: the other references are outside the sample
        u = g.unit()
        u["uscc"], u["name"] = e["useUnitUscc"], e["useUnitName"]
        units.append(u)
    eq[5]["useUnitUscc"] = _break_uscc(eq[5]["useUnitUscc"])  # one wrong check character in eight
    eq[6]["equipmentCode"] = eq[7]["equipmentCode"]  # one key twice
    return {"equipment": eq, "units": units}


@pytest.fixture(scope="module")
def section(pulled: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    report = quality.run_audit(pulled)
    counts = {name: (len(pulled.get(name, [])), 3 * len(pulled.get(name, []))) for name in ("equipment", "units")}
    return quality.section(report, counts, 8, lambda c: ["X.1"] if c["dimension"] == "uniqueness" else [])


def test_the_section_follows_the_report_schema(section: dict[str, Any]) -> None:
    errors = validator("report").errors({"dataQuality": section})  # the other members are missing: not looked at
    assert [e.path for e in errors if "dataQuality" not in e.path] != [], "the validator saw no error at all"
    mine = [(e.path, e.message_en) for e in errors if "dataQuality" in e.path]
    assert not mine, mine[:5]
    assert section["dataSets"][0] == {
        "name": "equipment",
        "title": section["dataSets"][0]["title"],
        "pulled": 8,
        "total": 24,
        "complete": False,
    }


def test_the_figures_are_those_of_the_pulled_records(section: dict[str, Any]) -> None:
    by_id = {c["id"]: c for c in section["checks"]}
    dup = by_id["uniqueness/equipment/equipmentCode/key"]
    assert (dup["denominator"], dup["failing"], dup["verdict"]) == (8, 2, "不符合")
    assert dup["clauses"] == ["X.1"] and len(dup["samples"]) == 2
    bad = by_id["accuracy/equipment/useUnitUscc/identifier"]
    assert (bad["denominator"], bad["failing"]) == (8, 1)
    assert by_id["completeness/equipment/equipmentCode/required"]["clauses"] == []
    assert section["asOf"] and section["engine"]["threads"] == quality.THREADS


def test_a_reference_not_found_among_the_pulled_records_is_untested(section: dict[str, Any]) -> None:
    ref = next(c for c in section["checks"] if c["id"] == "consistency/equipment/useUnitUscc/reference")
    assert ref["failing"] == 4  # the figure stays
    assert ref["verdict"] == "未测"
    assert "4/12" in ref["untested"] and "403" in ref["untested"]


def test_judging_fails_with_the_figures_and_samples(section: dict[str, Any]) -> None:
    checks = quality.of(section, "equipment", lambda c: c["dimension"] == "uniqueness")
    with pytest.raises(AssertionError) as raised:
        quality.judge(checks, "唯一性", "uniqueness", "设备")
    text = str(raised.value)
    assert "uniqueness/equipment/equipmentCode/key" in text and "分母 8，不合格 2" in text
    assert checks[0]["samples"][0] in text


def test_judging_without_a_decided_check_is_untested_or_vacuous(section: dict[str, Any]) -> None:
    absent = quality.of(section, "accidents", lambda c: c["dimension"] == "completeness")
    assert absent and all(c["verdict"] == "未测" for c in absent if c["kind"] == "rate")
    with pytest.raises(pytest.skip.Exception, match=r"^未测："):
        quality.judge(absent, "完整性", "completeness", "事故")
    with pytest.raises(pytest.skip.Exception, match=r"^无可检验项："):
        quality.judge([], "完整性", "completeness", "事故")


def test_a_check_met_with_failing_records_warns(section: dict[str, Any]) -> None:
    met = [{**c, "verdict": "符合"} for c in quality.of(section, "equipment", lambda c: c["rule"] == "identifier")]
    with pytest.warns(UserWarning, match="未超过阈值"):
        quality.judge(met, "编码规范性", "coding rules", "设备")

"""The nightly comparison: tonight's audit report against the previous night's (``tzsb-conform audit --previous``).

:func:`load_previous` reads the previous ``audit.json`` and holds it to schemas/json/audit-report.schema.json (a file
that is not an audit report is :class:`NotAReport`); :func:`compare` matches the checks by id and adds to tonight's
report its ``previous`` (what changed: regressions, new failures, fixes, checks newly 未测, data sets and provinces
that stopped delivering or dropped sharply) and, per check, its ``change``. When a rise of a failing rate counts and
when a record count dropped sharply is ``trend`` of schemas/quality/data-quality.yaml (:func:`rules.trend_rule`);
docs/data-audit.md "每晚对比 / Nightly comparison" gives the reasons.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from conformance.audit import rules
from conformance.audit.report import problems
from conformance.audit.run import MET, NOT_MET, UNTESTED

#: the per-check statuses that make the lists of ``previous`` (status → list)
LISTS = {
    "regressed": "regressions",
    "new-failure": "newFailures",
    "fixed": "fixed",
    "newly-untested": "newlyUntested",
}
TESTED = (MET, NOT_MET)


class NotAReport(ValueError):
    """The previous file is not an audit report: ``kind`` is ``unreadable``, ``not-json`` or ``not-report``."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


def load_previous(path: Path) -> dict[str, Any]:
    """The previous night's report, checked against the report's schema."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NotAReport("unreadable", str(exc)) from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotAReport("not-json", str(exc)) from exc
    if not isinstance(doc, dict):
        raise NotAReport("not-report", f"a JSON {type(doc).__name__}, not an object")
    found = problems(doc)
    if found:
        raise NotAReport("not-report", "; ".join(found[:3]) + (f" (+{len(found) - 3})" if len(found) > 3 else ""))
    return doc


def z_rise(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """How many standard errors the failing rate rose from ``x1/n1`` to ``x2/n2``: the two-proportion z statistic
    with the pooled rate (None when either denominator is 0; 0 when neither night has a failing record, or both
    fail every record)."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    delta = x2 / n2 - x1 / n1
    return 0.0 if se == 0 else delta / se


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def _province_changes(now: dict[str, Any], before: dict[str, Any], z_limit: float) -> list[dict[str, Any]]:
    """Per province (present both times) the rate before and now, largest rise first."""
    old = {p["code"]: p for p in before.get("byProvince", []) if p.get("code") and "hits" in p}
    out = []
    for p in now.get("byProvince", []):
        q = old.get(p.get("code"))
        if q is None or "hits" not in p:
            continue
        z = z_rise(q["hits"], q["denominator"], p["hits"], p["denominator"])
        rate, prev = p.get("rate"), q.get("rate")
        delta = None if rate is None or prev is None else rate - prev
        out.append(
            {
                "code": p["code"],
                "name": p.get("name") or "",
                "previousDenominator": q["denominator"],
                "denominator": p["denominator"],
                "previousRate": prev,
                "rate": rate,
                "delta": _round(delta, 6),
                "z": _round(z),
                "worse": bool(z is not None and delta is not None and delta > 0 and z > z_limit),
            }
        )
    return sorted(out, key=lambda e: (-(e["delta"] or 0), e["code"]))


def check_change(now: dict[str, Any], before: dict[str, Any] | None, rule: rules.TrendRule) -> dict[str, Any]:
    """The ``change`` of one check against the previous report's check of the same id (None: it had none)."""
    if before is None:
        return {"status": "new-failure" if now["verdict"] == NOT_MET else "new"}
    change: dict[str, Any] = {
        "previousVerdict": before["verdict"],
        "previousDenominator": before["denominator"],
    }
    if now["kind"] == "figure" or before["kind"] == "figure":
        value, prev = now.get("value"), before.get("value")
        change.update(status="figure", previousValue=prev)
        change["delta"] = None if value is None or prev is None else _round(value - prev, 6)
        return change
    change.update(previousFailing=before["failing"], previousRate=before["rate"])
    if before["threshold"]["maxRate"] != now["threshold"]["maxRate"]:
        change["previousMaxRate"] = before["threshold"]["maxRate"]
    v, pv = now["verdict"], before["verdict"]
    measured = v in TESTED and pv in TESTED and now["rate"] is not None and before["rate"] is not None
    delta = z = None
    if measured:
        delta = now["rate"] - before["rate"]
        z = z_rise(before["failing"], before["denominator"], now["failing"], now["denominator"])
    change["delta"], change["z"] = _round(delta, 6), _round(z)
    reasons = []
    if measured and pv == MET and v == NOT_MET:
        reasons.append("verdict")
    if delta is not None and z is not None and delta > 0 and z > rule.z:
        reasons.append("rate")
    if reasons:
        if "previousMaxRate" in change:
            reasons.append("threshold")
        change["status"], change["reasons"] = "regressed", reasons
    elif v == NOT_MET and pv not in TESTED:
        change["status"] = "new-failure"
    elif pv == NOT_MET and v == MET:
        change["status"] = "fixed"
    elif pv in TESTED and v == UNTESTED:
        change["status"] = "newly-untested"
    elif pv == UNTESTED and v == MET:
        change["status"] = "tested-again"
    else:
        change["status"] = "steady"
    if delta is not None and delta > 0:
        change["byProvince"] = _province_changes(now, before, rule.z)
    return change


def _item(now: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    item = {
        "id": now["id"],
        "previousVerdict": change.get("previousVerdict"),
        "verdict": now["verdict"],
        "previousRate": change.get("previousRate"),
        "rate": now["rate"],
        "delta": change.get("delta"),
        "z": change.get("z"),
    }
    if "reasons" in change:
        item["reasons"] = change["reasons"]
    if now["verdict"] == UNTESTED:
        item["untested"] = now.get("untested")
    return item


def _province_records(report: dict[str, Any], data_set: str, ids: set[str]) -> dict[str, tuple[str, int]]:
    """Records per province of a data set: the largest denominator of its checks among ``ids`` (the rate checks
    measured both times; the record check counts every record)."""
    out: dict[str, tuple[str, int]] = {}
    for c in report["checks"]:
        if c["dataSet"] != data_set or c["id"] not in ids:
            continue
        for p in c["byProvince"]:
            if p.get("code") and p["denominator"] > out.get(p["code"], ("", -1))[1]:
                out[p["code"]] = (p.get("name") or "", p["denominator"])
    return out


def _data_sets(
    report: dict[str, Any], previous: dict[str, Any], measured: set[str], rule: rules.TrendRule
) -> list[dict[str, Any]]:
    """Per data set its records before and now; missing (stopped delivering), dropped, new; and the provinces whose
    records stopped or dropped sharply."""
    before = {d["name"]: d for d in previous["dataSets"]}
    now = {d["name"]: d for d in report["dataSets"]}
    out = []
    for name in [*now, *(n for n in before if n not in now)]:
        b, n = before.get(name), now.get(name)
        was = bool(b and b["present"])
        is_ = bool(n and n["present"])
        prev_records = b["records"] if was and b else None
        records = n["records"] if is_ and n else None
        entry: dict[str, Any] = {"name": name, "previousRecords": prev_records, "records": records}
        if was and not is_:
            entry["status"] = "missing"
        elif is_ and not was:
            entry["status"] = "new"
        elif not was:
            entry["status"] = "absent"
        else:
            entry["status"] = "steady"
            if prev_records is not None and records is not None:
                entry["change"] = _round(records / prev_records - 1, 6) if prev_records else None
                if rule.dropped(prev_records, records):
                    entry["status"] = "dropped"
            old = _province_records(previous, name, measured)
            new = _province_records(report, name, measured)
            provinces = []
            for code, (label, count) in sorted(old.items()):
                got = new.get(code, (label, 0))[1]
                if rule.dropped(count, got):
                    provinces.append(
                        {
                            "code": code,
                            "name": label,
                            "status": "stopped" if got == 0 else "dropped",
                            "previousRecords": count,
                            "records": got,
                        }
                    )
            if provinces:
                entry["provinces"] = provinces
        out.append(entry)
    return out


def _order(item: dict[str, Any]) -> tuple[int, float, str]:
    return (0 if "verdict" in item.get("reasons", []) else 1, -(item.get("z") or 0.0), item["id"])


def compare(report: dict[str, Any], previous: dict[str, Any], file: str) -> dict[str, Any]:
    """Compare ``report`` with ``previous`` (a report of the same schema): set each check's ``change`` and the
    report's ``previous``, and return the latter."""
    rule = rules.trend_rule()
    before = {c["id"]: c for c in previous["checks"]}
    lists: dict[str, list[dict[str, Any]]] = {name: [] for name in LISTS.values()}
    for c in report["checks"]:
        change = check_change(c, before.get(c["id"]), rule)
        c["change"] = change
        if change["status"] in LISTS:
            lists[LISTS[change["status"]]].append(_item(c, change))
    lists["regressions"].sort(key=_order)
    ids_now = {c["id"] for c in report["checks"]}
    measured = {
        c["id"]
        for c in report["checks"]
        if c["kind"] == "rate" and c["verdict"] in TESTED and c["change"].get("previousVerdict") in TESTED
    }
    data_sets = _data_sets(report, previous, measured, rule)
    provinces = [p for d in data_sets for p in d.get("provinces", [])]
    out: dict[str, Any] = {
        "file": file,
        "asOf": previous["asOf"],
        "startedAt": previous["startedAt"],
        "complete": previous["complete"],
        "verdict": previous["verdict"],
        "summary": previous["summary"],
        "rule": rule.as_dict(),
        "counts": {
            **{name: len(items) for name, items in lists.items()},
            "dataSetsMissing": sum(d["status"] == "missing" for d in data_sets),
            "dataSetsDropped": sum(d["status"] == "dropped" for d in data_sets),
            "provincesStopped": sum(p["status"] == "stopped" for p in provinces),
            "provincesDropped": sum(p["status"] == "dropped" for p in provinces),
        },
        **lists,
        "newChecks": sorted(ids_now - set(before)),
        "droppedChecks": sorted(set(before) - ids_now),
        "dataSets": data_sets,
    }
    report["previous"] = out
    return out

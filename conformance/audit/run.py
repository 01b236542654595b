"""Run an audit: load the input's data sets into an engine, build their audit tables, run every check of the
catalogue and judge it against its threshold. Returns the report as a dict (:mod:`conformance.audit.report` writes
it); an interruption (Ctrl-C) ends the run with the checks finished so far, marked incomplete.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from conformance.audit import encoding, sql
from conformance.audit.catalogue import DIMENSION_TITLES, Check, checks
from conformance.audit.engine import Engine
from conformance.audit.inputs import Source, discover, not_read
from conformance.codes import lists
from conformance.contract.datasets import data_sets

SCHEMA_NAME = "tzsb-audit/1"
MET, NOT_MET, UNTESTED = "符合", "不符合", "未测"


@dataclass
class Options:
    as_of: dt.date
    samples: int | None = 5  # failing records listed per check; None: all of them (engine comparisons)
    only: Callable[[Check], bool] | None = None  # a subset of the catalogue (tests)


@dataclass
class State:
    """What the engine holds: the data sets loaded, their record counts and the fields the input has."""

    sources: dict[str, Source] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)
    fields: dict[str, set[str]] = field(default_factory=dict)
    #: data sets whose files are there but could not be read (a truncated Parquet file, a CSV in no encoding read):
    #: name → {error, message}; their checks, and the checks joining them, are 未测 with the reason
    unreadable: dict[str, dict[str, str]] = field(default_factory=dict)
    #: CSV data sets: the text encoding of each file (encoding.sniff), in the order of the source's files
    encodings: dict[str, list[str]] = field(default_factory=dict)


def _name_of_division(code: str) -> str:
    full = code + "0" * (6 - len(code)) if code and code.isdigit() else ""
    return lists.division_name(full) if full else ""


def _name_of_kind(code: str) -> str:
    item = lists.catalogue().get(code or "")
    return str(item["name"]) if item else ""


def _rate(hits: int, n: int) -> float | None:
    return hits / n if n else None


def _breakdown(groups: dict[str, list[int]], namer: Callable[[str], str]) -> list[dict[str, Any]]:
    out = []
    for code in sorted(groups, key=lambda c: (c is None, c or "")):
        n, hits = groups[code]
        out.append(
            {
                "code": code,
                "name": namer(code) if code else "",
                "denominator": n,
                "hits": hits,
                "rate": _rate(hits, n),
            }
        )
    return out


def _readable(engine: Engine, source: Source, state: State) -> Source:
    """The source as the engine reads it: a CSV file in another encoding than UTF-8 replaced by a UTF-8 copy in the
    engine's temporary directory (:mod:`conformance.audit.encoding`)."""
    if source.format != "csv":
        return source
    found = [encoding.sniff(path) for path in source.files]
    state.encodings[source.data_set] = found
    work = engine.temp_directory / "utf8"
    return replace(source, files=tuple(encoding.as_utf8(p, e, work) for p, e in zip(source.files, found, strict=True)))


def load(engine: Engine, folder: Path, on_load: Callable[[str, int, float], None] | None = None) -> State:
    """Every data set of the input into the engine, as its audit table (``on_load``: data set, records, seconds).
    A data set the engine cannot read (``engine.unreadable``) is left out with the reason (``state.unreadable``);
    the others are loaded."""
    state = State(sources=discover(folder))
    sets = data_sets()
    for name, source in list(state.sources.items()):
        start = time.perf_counter()
        ds = sets[name]
        read = source
        try:
            read = _readable(engine, source, state)
            view = engine.load(read, ds)
            tree = sql.audit_table(ds, view, source.columnar, engine.dialect, engine.typed_columns(view))
            engine.execute(sql.render(tree, engine.dialect))
            row = engine.rows(sql.render(sql.filled(ds), engine.dialect))[0]
        except (encoding.Unreadable, *engine.unreadable) as exc:
            state.unreadable[name] = {"error": type(exc).__name__, "message": _first_line(exc)}
            continue
        finally:  # the audit table is built: a UTF-8 copy is not read again
            for copy in set(read.files) - set(source.files):
                copy.unlink(missing_ok=True)
        state.records[name] = int(row[0])
        state.fields[name] = {f for f, n in zip(ds.properties, row[1:], strict=True) if n}
        if on_load:
            on_load(name, state.records[name], time.perf_counter() - start)
    return state


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:500]


def _untested(check: Check, state: State) -> str | None:
    """Why a check cannot be measured on this input (None: it can)."""
    for name in (check.data_set, *check.needs_sets):
        if name in state.unreadable:
            why = state.unreadable[name]["message"]
            return f"数据集 {name} 无法读取：{why} / data set {name} could not be read: {why}"
    if check.data_set not in state.sources:
        return f"数据集 {check.data_set} 不在输入中 / data set {check.data_set} not in the input"
    for other in check.needs_sets:
        if other not in state.sources:
            return f"被引数据集 {other} 不在输入中 / referenced data set {other} not in the input"
    if check.dimension != "completeness":
        missing = sorted(sql.needed_fields(check) - state.fields[check.data_set])
        if missing:
            return f"输入没有字段 {', '.join(missing)} / the input has no field {', '.join(missing)}"
    return None


#: checks of one data set counted in one scan (more make the query wide without saving scans)
BATCH = 64


def prefetch(engine: Engine, todo: list[Check], state: State, opts: Options) -> dict[str, list[tuple[Any, ...]]]:
    """The count rows (prefecture, kind, n, hits) of every batchable check, several checks of a data set per scan."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    by_set: dict[str, list[Check]] = {}
    for check in todo:
        if sql.batchable(check) and _untested(check, state) is None:
            by_set.setdefault(check.data_set, []).append(check)
    for batch in (group[i : i + BATCH] for group in by_set.values() for i in range(0, len(group), BATCH)):
        rows = engine.rows(sql.render(sql.counts_many(batch, opts.as_of), engine.dialect))
        for i, check in enumerate(batch):
            out[check.id] = [(r[0], r[1], r[2 + 2 * i], r[3 + 2 * i]) for r in rows]
    return out


def run_check(
    engine: Engine, check: Check, state: State, opts: Options, counted: list[tuple[Any, ...]] | None = None
) -> dict[str, Any]:
    """One check's result; ``counted``: its count rows when already counted with others (:func:`prefetch`)."""
    start = time.perf_counter()
    threshold = check.threshold
    result: dict[str, Any] = {
        "id": check.id,
        "dimension": check.dimension,
        "dataSet": check.data_set,
        "field": check.field,
        "rule": check.rule,
        "definition": {"zh": check.zh, "en": check.en},
        "kind": "figure" if check.figure else "rate",
        "threshold": threshold.as_dict(),
        "denominator": 0,
        "failing": None,
        "rate": None,
        "value": None,
        "verdict": None if check.figure else UNTESTED,
        "untested": None,
        "samples": [],
        "byProvince": [],
        "byPrefecture": [],
        "byKind": [],
    }
    why = _untested(check, state)
    if why:
        result["untested"] = why
        result["verdict"] = UNTESTED
        result["seconds"] = round(time.perf_counter() - start, 3)
        return result
    if check.rule == "lag":
        rows = engine.rows(sql.render(sql.figure(check, opts.as_of, engine.dialect), engine.dialect))
        total = sum(int(r[1]) for r in rows)
        result["denominator"] = total
        _figure_overall(result, engine, check, opts, total)
        result["byProvince"] = [
            {
                "code": r[0],
                "name": _name_of_division(r[0] or ""),
                "denominator": int(r[1]),
                "median": r[2],
                "p90": r[3],
            }
            for r in sorted(rows, key=lambda r: (r[0] is None, r[0] or ""))
        ]
    else:
        rows = (
            counted if counted is not None else engine.rows(sql.render(sql.counts(check, opts.as_of), engine.dialect))
        )
        prov: dict[str, list[int]] = {}
        pref: dict[str, list[int]] = {}
        kind: dict[str, list[int]] = {}
        n = hits = 0
        for p, k, cn, ch in rows:
            cn, ch = int(cn or 0), int(ch or 0)
            n += cn
            hits += ch
            for groups, key in ((prov, p[:2] if p else None), (pref, p), (kind, k)):
                slot = groups.setdefault(key, [0, 0])  # type: ignore[arg-type]
                slot[0] += cn
                slot[1] += ch
        result["denominator"] = n
        if check.figure:
            result["value"] = _rate(hits, n)
        else:
            result["failing"] = hits
            result["rate"] = _rate(hits, n)
        result["byProvince"] = _breakdown(prov, _name_of_division)
        result["byPrefecture"] = _breakdown(pref, _name_of_division)
        result["byKind"] = _breakdown(kind, _name_of_kind)
        if not check.figure:
            if n == 0:
                result["verdict"] = UNTESTED
                result["untested"] = "分母为零：没有适用的记录 / no record the check applies to"
            else:
                assert threshold.max_rate is not None
                result["verdict"] = MET if hits / n <= threshold.max_rate else NOT_MET
            if hits and opts.samples != 0:
                key = data_sets()[check.data_set].key
                got = engine.rows(sql.render(sql.samples(check, key, opts.as_of, opts.samples), engine.dialect))
                result["samples"] = [{"row": int(r[0]), "key": r[1], "divisionCode": r[2]} for r in got]
    if check.figure and result["denominator"] == 0:
        result["untested"] = "没有可计算的记录 / no record to compute from"
    result["seconds"] = round(time.perf_counter() - start, 3)
    return result


def _figure_overall(result: dict[str, Any], engine: Engine, check: Check, opts: Options, total: int) -> None:
    tree = sql.figure(check, opts.as_of, engine.dialect)
    tree.set("group", None)
    tree = tree.select(*[e for e in tree.expressions if e.alias != "prov"], append=False)
    row = engine.rows(sql.render(tree, engine.dialect))[0] if total else (0, None, None)
    result["value"] = row[1]
    result["p90"] = row[2]
    result["unit"] = "day"


def audit(
    engine: Engine,
    folder: Path,
    opts: Options,
    on_check: Callable[[int, int, dict[str, Any]], None] | None = None,
    on_load: Callable[[str, int, float], None] | None = None,
) -> dict[str, Any]:
    """The report of an audit of ``folder`` (see schemas/json/audit-report.schema.json)."""
    started = dt.datetime.now(dt.UTC)
    report: dict[str, Any] = {
        "schema": SCHEMA_NAME,
        "input": str(folder),
        "asOf": opts.as_of.isoformat(),
        "startedAt": started.isoformat(timespec="seconds"),
        "engine": engine.describe(),
        "complete": False,
        "dataSets": [],
        "dimensions": [{"id": d, "zh": zh, "en": en} for d, (zh, en) in DIMENSION_TITLES.items()],
        "checks": [],
    }
    todo = [c for c in checks() if opts.only is None or opts.only(c)]
    try:
        report["notRead"] = not_read(folder)
        state = load(engine, folder, on_load)
        for name, ds in data_sets().items():
            src = state.sources.get(name)
            report["dataSets"].append(
                {
                    "name": name,
                    "title": ds.title,
                    "key": ds.key,
                    "present": src is not None,
                    "format": src.format if src else None,
                    "files": [str(p) for p in src.files] if src else [],
                    "records": state.records.get(name),
                    "fields": sorted(state.fields.get(name, ())),
                    **({"encodings": state.encodings[name]} if name in state.encodings else {}),
                    **({"unreadable": state.unreadable[name]} if name in state.unreadable else {}),
                }
            )
        counted = prefetch(engine, todo, state, opts)
        for i, check in enumerate(todo, 1):
            result = run_check(engine, check, state, opts, counted.get(check.id))
            report["checks"].append(result)
            if on_check:
                on_check(i, len(todo), result)
        report["complete"] = True
    except (KeyboardInterrupt, *engine.interrupts):
        report["complete"] = False
    except engine.failures as exc:  # the engine cannot go on: the report says why, with what finished
        report["complete"] = False
        report["stopped"] = {"error": type(exc).__name__, "message": _first_line(exc)}
    finally:
        report["finishedAt"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        report["summary"] = summary(report["checks"])
        report["verdict"] = overall(report["checks"])
        unread = any("unreadable" in d for d in report["dataSets"])
        if (unread or not report["complete"]) and report["verdict"] == MET:  # what was not run is not met either
            report["verdict"] = UNTESTED
    return report


def summary(results: list[dict[str, Any]]) -> dict[str, int]:
    out = {MET: 0, NOT_MET: 0, UNTESTED: 0, "figures": 0}
    for r in results:
        out["figures" if r["verdict"] is None else r["verdict"]] += 1
    return out


def overall(results: list[dict[str, Any]]) -> str:
    verdicts = {r["verdict"] for r in results}
    if NOT_MET in verdicts:
        return NOT_MET
    return MET if MET in verdicts else UNTESTED

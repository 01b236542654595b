"""The audit's checks expressed in a peer tool, Great Expectations (GX 1.x), on the same records: same counts?

    tzsb-conform generate --equipment 1000000 --out /tmp/n
    python benchmarks/peer_gx.py --data /tmp/n --gx-python /path/to/venv-gx/bin/python --out /tmp/peer.json

GX is not a dependency of the project (optional extra ``peer``); it runs in its own interpreter (``--gx-python``),
a child process that executes ``benchmarks/peer_gx_suite.py`` over a plan this script derives. The plan is derived
from the same contracts as the audit catalogue (:func:`conformance.audit.catalogue.checks`, the record schemas, the
code lists, ``data-quality.yaml``): every check of the catalogue is either mapped to GX built-in expectations whose
failing records are exactly the check's, or listed as not expressed, with the reason. Nothing is hand-listed.

Mapped (check rule → expectations, on the Parquet column of the field):

* ``completeness/…/required`` → ``ExpectColumnValuesToNotBeNull`` + ``ExpectColumnValuesToNotMatchRegex`` of the
  blank text (the characters DuckDB's ``trim`` removes, asked from DuckDB itself): null and blank are disjoint, the
  check fails a record in either.
* ``normativeness/…/schema`` → one expectation per keyword of the field's own schema: ``enum`` → in set,
  ``pattern`` → regex (rewritten so that Python ``re``, which GX on pandas uses, reads it as the project's validator
  does: its ``\\s``/``\\d``/``\\w`` classes and its ``$``, asked of the validator's engine), ``minLength``/
  ``maxLength`` → value lengths, ``minimum``/``maximum`` → between, ``format: date`` → its pattern and
  ``ExpectColumnValuesToMatchStrftimeFormat('%Y-%m-%d')`` (a real calendar day); a record fails when any of them
  fails (the union of GX's unexpected row indexes). Fields whose schema holds a keyword no built-in expectation says
  (an identifier ``format`` with its check character, ``date-time``, ``anyOf``, objects, arrays) are not expressed.
* ``normativeness/…/code-list`` → ``ExpectColumnValuesToBeInSet`` of every code of the code-list table.
* ``accuracy/…/date`` → ``ExpectColumnValuesToBeBetween`` on the field's calendar date (the GX side types the date
  column first: a date's text, a date-time's first 10 characters, parsed ``%Y-%m-%d``, no such day → null, as the
  audit's ``TRY_CAST``; DuckDB also reads some texts that break the date pattern, e.g. ``' 2030-01-01'`` or
  ``'2030-01-01 00:00:00'``, which pandas leaves null: a known difference, docs/data-audit.md).
* ``uniqueness/…/key`` → ``ExpectColumnValuesToBeUnique`` (GX, like the audit, fails every record of a repeated key).
* ``consistency/…/reference`` → ``ExpectColumnValuesToBeInSet`` of the referenced data set's keys (read by the GX
  side from the referenced Parquet files: GX has no expectation across two data sets).

Both runs are child processes, timed whole (wall, CPU, peak RSS from ``os.wait4``): GX, then the audit restricted to
the mapped checks (``Options(only=…)``, DuckDBEngine). The per-check counts of GX, the audit and ``truth.json``
``expected`` are compared; exit 1 on any difference.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from conformance.audit import rules  # noqa: E402
from conformance.audit.catalogue import CODE_LISTS, Check, checks, date_fields, identifier_sites, prop  # noqa: E402
from conformance.contract.datasets import data_sets  # noqa: E402

SUITE = Path(__file__).resolve().parent / "peer_gx_suite.py"

#: schema keywords that say nothing about a value (annotations)
ANNOTATIONS = frozenset({"title", "description", "$comment", "examples", "default", "deprecated"})
#: JSON type of a field → Arrow types of a Parquet column whose every value has that type
ARROW_TYPES = {
    "string": ("string", "large_string"),
    "integer": ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"),
    "number": ("int8", "int16", "int32", "int64", "float", "double"),
    "boolean": ("bool",),
}
DATE_FORMAT = "%Y-%m-%d"
BOUNDS = frozenset({"minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})

MESSAGES = {
    "zh": {
        "head": "检查项 | GX | 审计 | 答案 | 一致",
        "same": "是",
        "diff": "否",
        "gx": "Great Expectations（{engine}）：墙钟 {wall:.1f} 秒，CPU {cpu:.1f} 秒，峰值内存 {rss:.0f} MiB",
        "audit": "tzsb-conform audit（DuckDB，同一子集）：墙钟 {wall:.1f} 秒，CPU {cpu:.1f} 秒，峰值内存 {rss:.0f} MiB",
        "ratio": "时间比（GX / 审计）：墙钟 {wall:.2f}，CPU {cpu:.2f}",
        "summary": "对照 {n} 项检查，计数不一致 {bad} 项；未表达 {ex} 项（原因见 {out}）",
    },
    "en": {
        "head": "check | GX | audit | truth | same",
        "same": "yes",
        "diff": "NO",
        "gx": "Great Expectations ({engine}): wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {rss:.0f} MiB",
        "audit": "tzsb-conform audit (DuckDB, same subset): wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {rss:.0f} MiB",
        "ratio": "time ratio (GX / audit): wall {wall:.2f}, CPU {cpu:.2f}",
        "summary": "{n} checks compared, {bad} with different counts; {ex} not expressed (reasons in {out})",
    },
}


def blank_characters() -> list[str]:
    """The characters the audit's ``trim`` removes (DuckDB's own answer, every code point asked once): a value made
    of them only is empty for ``completeness/…/required``."""
    import duckdb

    row = (
        duckdb.connect()
        .execute(
            "SELECT list(i ORDER BY i) FROM range(1, 1114112) t(i) "
            "WHERE (i < 55296 OR i > 57343) AND trim(chr(CAST(i AS INTEGER))) = ''"
        )
        .fetchone()
    )
    return [chr(i) for i in (row[0] if row and row[0] else [])]


def blank_regex(chars: list[str]) -> str:
    """A Python regex matching a text made of ``chars`` only."""
    return "^[" + _chars(chars) + "]*\\Z"


def _chars(chars: list[str]) -> str:
    return "".join(re.escape(c) for c in chars)


@functools.cache
def validator_regex() -> dict[str, Any]:
    """What the regex engine of the project's schema validator (jsonschema-rs, ECMA-262 leaning) means by ``\\s``,
    ``\\d``, ``\\w`` (the characters each matches), ``.`` (the characters it does not match) and ``$`` (whether it
    matches before a final newline) — asked of the engine itself, every code point once."""
    import jsonschema_rs

    points = [chr(i) for i in range(0x110000) if not 0xD800 <= i <= 0xDFFF]

    def matching(pattern: str) -> list[str]:
        v = jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
        return [c for c in points if v.is_valid(c)]

    dot = set(matching("^.$"))
    newline_end = jsonschema_rs.validator_for({"type": "string", "pattern": "^a$"}).is_valid("a\n")
    return {
        "s": matching(r"^\s$"),
        "d": matching(r"^\d$"),
        "w": matching(r"^\w$"),
        "not-dot": [c for c in points if c not in dot],
        "newline-end": newline_end,
    }


def python_regex(pattern: str, engine: dict[str, Any]) -> str:
    """A schema ``pattern`` rewritten so that Python ``re`` (what GX on pandas matches with: pandas' Arrow strings fall
    back to ``re`` wherever RE2 would differ) accepts exactly the texts the validator's engine accepts: ``\\s``,
    ``\\d``, ``\\w`` and their negations become the engine's classes, ``.`` excludes what the engine's dot excludes,
    ``$`` (outside a class) the end of the text where the engine does not match before a final newline."""
    out: list[str] = []
    escaped = in_class = False
    for ch in pattern:
        if escaped:
            escaped = False
            if ch.lower() in "sdw":
                chars = _chars(engine[ch.lower()])
                if in_class and ch.isupper():
                    raise ValueError(f"\\{ch} inside a class")
                out.append(chars if in_class else f"[{'^' if ch.isupper() else ''}{chars}]")
            else:
                out.append("\\" + ch)
        elif ch == "\\":
            escaped = True
        elif in_class:
            out.append(ch)
            in_class = ch != "]"
        elif ch == "[":
            out.append(ch)
            in_class = True
        elif ch == "." and engine["not-dot"] != ["\n"]:
            out.append(f"[^{_chars(engine['not-dot'])}]")
        elif ch == "$" and not engine["newline-end"]:
            out.append("\\Z")
        else:
            out.append(ch)
    return "".join(out)


def _expectation(kind: str, column: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": kind, "kwargs": {"column": column, **kwargs}}


def schema_expectations(schema: dict[str, Any], column: str, engine: dict[str, Any]) -> list[dict[str, Any]] | str:
    """GX built-in expectations whose union of failing values is exactly the values breaking ``schema`` (a field's
    own schema, ``type`` left to the column type), or why there are none."""
    out: list[dict[str, Any]] = []
    for key, value in schema.items():
        if key in ANNOTATIONS or key.startswith("x-") or key == "type":
            continue
        if key == "enum":
            out.append(_expectation("ExpectColumnValuesToBeInSet", column, value_set=list(value)))
        elif key == "pattern":
            try:
                regex = python_regex(value, engine)
            except ValueError as e:
                return f"pattern {value}: {e}"
            out.append(_expectation("ExpectColumnValuesToMatchRegex", column, regex=regex))
        elif key == "format" and value == "date":
            out.append(_expectation("ExpectColumnValuesToMatchStrftimeFormat", column, strftime_format=DATE_FORMAT))
        elif key == "format":
            return f"format {value}: no built-in expectation says it"
        elif key in BOUNDS:  # one expectation per pair, below
            continue
        else:
            return f"schema keyword {key}: no built-in expectation says it"
    if "minLength" in schema or "maxLength" in schema:
        out.append(
            _expectation(
                "ExpectColumnValueLengthsToBeBetween",
                column,
                min_value=schema.get("minLength"),
                max_value=schema.get("maxLength"),
            )
        )
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if low is not None or high is not None:
        out.append(
            _expectation(
                "ExpectColumnValuesToBeBetween",
                column,
                min_value=low,
                max_value=high,
                strict_min="exclusiveMinimum" in schema,
                strict_max="exclusiveMaximum" in schema,
            )
        )
    if not out:
        return "no constraint besides the type"
    return out


def _type_ok(schema: dict[str, Any], arrow_type: str) -> bool:
    kind = schema.get("type")
    return isinstance(kind, str) and arrow_type in ARROW_TYPES.get(kind, ())


def map_check(check: Check, columns: dict[str, dict[str, str]], as_of: dt.date, blank: str) -> dict[str, Any] | str:
    """The GX form of one catalogue check over the Parquet columns (data set → field → Arrow type), or why none."""
    if check.figure:
        return "a figure, not a failing count"
    have = columns.get(check.data_set)
    if have is None:
        return f"data set {check.data_set} not in the input"
    ds = data_sets()[check.data_set]
    name = check.field
    if name != "-" and name not in have:
        return f"no column {name} in the input"
    entry: dict[str, Any] = {"id": check.id, "dataSet": check.data_set, "field": name, "rule": check.rule}
    if check.rule == "required":
        exps = [_expectation("ExpectColumnValuesToNotBeNull", name)]
        if have[name] in ARROW_TYPES["string"]:
            exps.append(_expectation("ExpectColumnValuesToNotMatchRegex", name, regex=blank))
        return {**entry, "expectations": exps}
    if check.rule == "schema":
        schema = prop(ds, name)
        if "anyOf" in schema or "oneOf" in schema:
            return "alternatives (anyOf/oneOf): no built-in expectation says one of several schemas"
        if not _type_ok(schema, have[name]):
            return f"type {schema.get('type')!r} against column type {have[name]}: not one keyword per value"
        exps = schema_expectations(schema, name, validator_regex())
        return exps if isinstance(exps, str) else {**entry, "expectations": exps}
    if check.rule == "code-list":
        from conformance.audit.engine import code_list_rows

        kind = dict(identifier_sites(check.data_set))[name]
        codes = sorted(row[0] for row in code_list_rows()[CODE_LISTS[kind]][1])
        return {**entry, "expectations": [_expectation("ExpectColumnValuesToBeInSet", name, value_set=codes)]}
    if check.rule == "date":
        q = rules.quality()["dates"]
        late = None if name in set(q["future"].get(check.data_set, ())) else as_of.isoformat()
        exp = _expectation("ExpectColumnValuesToBeBetween", f"{name}@date", min_value=q["earliest"], max_value=late)
        head = dict(date_fields(ds))[name] == "date-time"  # the audit's as_date: the first 10 characters
        return {**entry, "dateColumns": [[name, head]], "expectations": [exp]}
    if check.rule == "key":
        return {**entry, "expectations": [_expectation("ExpectColumnValuesToBeUnique", name)]}
    if check.rule == "reference":
        target = ds.references[name][0]
        if target not in columns:
            return f"referenced data set {target} not in the input"
        keys = {"keysOf": [target, data_sets()[target].key]}
        return {**entry, "expectations": [_expectation("ExpectColumnValuesToBeInSet", name, value_set=keys)]}
    reasons = {
        "record": "the whole record against its JSON Schema with the project's identifier formats: no built-in "
        "expectation (GX's JSON-schema expectation reads one JSON column and knows no tzsb-* format)",
        "identifier": "check characters (GB 32100, TSG 08 …): needs custom code, no built-in expectation",
        "overdue": "a rule of data-quality.yaml in SQL: not derivable into built-in expectations",
        "stale": "greatest() of several date fields: no built-in expectation",
    }
    if check.rule in reasons:
        return reasons[check.rule]
    return "a between-field rule of data-quality.yaml in SQL (joins, substr): no built-in expectation"


def parquet_columns(folder: Path) -> dict[str, dict[str, str]]:
    """Data set → field → Arrow type, from the first Parquet part of each data set folder of the input."""
    import pyarrow.parquet as pq

    out = {}
    for name in data_sets():
        parts = sorted((folder / name).glob("*.parquet")) if (folder / name).is_dir() else []
        if parts:
            schema = pq.read_schema(parts[0])
            out[name] = {f.name: str(f.type) for f in schema}
    return out


def plan(folder: Path, as_of: dt.date) -> dict[str, Any]:
    columns = parquet_columns(folder)
    blank = blank_regex(blank_characters())
    mapped, excluded = [], []
    for check in checks():
        got = map_check(check, columns, as_of, blank)
        if isinstance(got, str):
            excluded.append({"id": check.id, "reason": got})
        else:
            mapped.append(got)
    parts = {ds: [str(p) for p in sorted((folder / ds).glob("*.parquet"))] for ds in columns}
    return {
        "asOf": as_of.isoformat(),
        "dateFormat": DATE_FORMAT,
        "parts": parts,
        "checks": mapped,
        "excluded": excluded,
    }


def timed(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Run a child process to its end: wall seconds, CPU seconds (user + sys) and peak RSS (MiB) of that child."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[1]} exited with {proc.returncode}")
    rss = usage.ru_maxrss / 1024  # KiB on Linux
    return {"wall": round(wall, 2), "cpu": round(usage.ru_utime + usage.ru_stime, 2), "peakRssMiB": round(rss, 1)}


def audit_child(data: Path, ids_file: Path, as_of: dt.date, out: Path, memory_limit: str) -> None:
    """In the child: the audit restricted to the mapped checks; failing count per check id."""
    from conformance.audit.engine import DuckDBEngine
    from conformance.audit.run import Options, audit

    ids = set(json.loads(ids_file.read_text()))
    engine = DuckDBEngine(memory_limit=memory_limit)
    try:
        report = audit(engine, data, Options(as_of=as_of, samples=0, only=lambda c: c.id in ids))
    finally:
        engine.close()
    counts = {c["id"]: c["failing"] for c in report["checks"]}
    out.write_text(json.dumps({"complete": report["complete"], "failing": counts}, ensure_ascii=False))


def compare(the_plan: dict[str, Any], gx: dict[str, Any], audited: dict[str, Any], expected: dict[str, int]) -> list:
    rows = []
    for entry in the_plan["checks"]:
        cid = entry["id"]
        g, a, t = gx["failing"].get(cid), audited["failing"].get(cid), expected.get(cid, 0)
        rows.append({"id": cid, "gx": g, "audit": a, "truth": t, "same": g == a == t, "perExpectation": gx["per"][cid]})
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, required=True, help="a folder written by tzsb-conform generate (Parquet)")
    p.add_argument("--gx-python", default=os.environ.get("GX_PYTHON", "python"), help="interpreter with GX 1.x")
    p.add_argument("--as-of", type=dt.date.fromisoformat, help="default: parameters.asOf of truth.json")
    p.add_argument("--out", type=Path, default=Path("peer-gx.json"))
    p.add_argument("--memory-limit", default="4GB", help="DuckDB memory limit of the audit")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.add_argument("--audit-child", type=Path, help=argparse.SUPPRESS)  # ids file: run as the audit child
    p.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    truth = json.loads((args.data / "truth.json").read_text())
    as_of = args.as_of or dt.date.fromisoformat(truth["parameters"]["asOf"])
    if args.audit_child:
        audit_child(args.data, args.audit_child, as_of, args.child_out, args.memory_limit)
        return 0
    m = MESSAGES[args.lang]
    the_plan = plan(args.data, as_of)
    with tempfile.TemporaryDirectory(prefix="tzsb-peer-") as tmp:
        plan_file, ids_file = Path(tmp) / "plan.json", Path(tmp) / "ids.json"
        gx_out, audit_out = Path(tmp) / "gx.json", Path(tmp) / "audit.json"
        plan_file.write_text(json.dumps(the_plan, ensure_ascii=False))
        ids_file.write_text(json.dumps([c["id"] for c in the_plan["checks"]]))
        gx_time = timed([args.gx_python, str(SUITE), "--plan", str(plan_file), "--out", str(gx_out)])
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        me = [sys.executable, str(Path(__file__).resolve()), "--data", str(args.data), "--as-of", as_of.isoformat()]
        audit_time = timed(
            [*me, "--memory-limit", args.memory_limit, "--audit-child", str(ids_file), "--child-out", str(audit_out)],
            env,
        )
        gx, audited = json.loads(gx_out.read_text()), json.loads(audit_out.read_text())
    rows = compare(the_plan, gx, audited, truth.get("expected", {}))
    bad = [r for r in rows if not r["same"]]
    print(m["head"])
    for r in rows:
        print(f"{r['id']} | {r['gx']} | {r['audit']} | {r['truth']} | {m['same'] if r['same'] else m['diff']}")
    print(m["gx"].format(engine=gx["engine"], wall=gx_time["wall"], cpu=gx_time["cpu"], rss=gx_time["peakRssMiB"]))
    print(m["audit"].format(wall=audit_time["wall"], cpu=audit_time["cpu"], rss=audit_time["peakRssMiB"]))
    ratio = {k: round(gx_time[k] / audit_time[k], 2) for k in ("wall", "cpu")}
    print(m["ratio"].format(**ratio))
    print(m["summary"].format(n=len(rows), bad=len(bad), ex=len(the_plan["excluded"]), out=args.out))
    result = {
        "data": str(args.data),
        "asOf": as_of.isoformat(),
        "records": truth.get("records"),
        "gx": {"version": gx["version"], "engine": gx["engine"], "phases": gx["phases"], **gx_time},
        "audit": {"complete": audited["complete"], **audit_time},
        "ratio": ratio,
        "checks": rows,
        "excluded": the_plan["excluded"],
        "differences": len(bad),
    }
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    return 1 if bad or not audited["complete"] else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Each check compiled to SQL once, with SQLGlot: built and checked as a syntax tree in the DuckDB dialect (the
dialect of the rules in data-quality.yaml), then written for the engine that runs it (``duckdb``, ``spark``).

Why SQLGlot and not Ibis: the rules are SQL text in a contract file, and SQLGlot parses that text (a broken rule
fails at load), finds the fields a rule reads (a field the input lacks makes the check 未测) and transpiles the same
tree to Spark SQL; Ibis would have us restate each rule as Python expressions (a second declaration) and carries a
backend per engine, while its own SQL layer is SQLGlot anyway.

The queries (``r``: the data set's audit table, one row per record; see :func:`audit_table`):

* counts: per prefecture and equipment kind, the records of the denominator (``n``) and the hits (``hits``);
  the totals and the breakdowns per province are sums of these rows (one scan per check);
* samples: up to N failing records with their keys;
* a figure (update lag): the median and 90th percentile of its value.
"""

from __future__ import annotations

import datetime as dt
import functools

import sqlglot
from sqlglot import exp

from conformance.audit import rules
from conformance.audit.catalogue import Check, Join, col, table
from conformance.contract.datasets import DataSet

READ = "duckdb"


def _parse(sql: str, as_of: dt.date) -> exp.Expression:
    return sqlglot.parse_one(sql.replace(":as_of", f"DATE '{as_of.isoformat()}'"), read=READ)


@functools.cache
def needed_fields(check: Check) -> frozenset[str]:
    """The fields of ``r`` a check reads (found in its SQL)."""
    found: set[str] = set()
    for part in (check.when, check.hit, *(j.on for j in check.joins)):
        for c in _parse(part, dt.date(2000, 1, 1)).find_all(exp.Column):
            if c.table == "r" and not c.name.startswith("_"):
                found.add(c.name)
    return frozenset(found)


def _join_source(j: Join) -> exp.Expression:
    if j.dedupe_key:  # first record per key (portable: no QUALIFY)
        inner = f'SELECT *, row_number() OVER (PARTITION BY "{j.dedupe_key}" ORDER BY _row) AS _rn FROM {j.source}'
        return sqlglot.parse_one(f"SELECT * FROM ({inner}) AS _d WHERE _rn = 1", read=READ).subquery(j.alias)
    if j.source.lstrip().upper().startswith("SELECT"):
        return sqlglot.parse_one(j.source, read=READ).subquery(j.alias)
    return exp.to_table(j.source).as_(j.alias)


def _from(check: Check, as_of: dt.date) -> exp.Select:
    q = exp.select().from_(exp.to_table(table(check.data_set)).as_("r"))
    for j in check.joins:
        q = q.join(_join_source(j), on=_parse(j.on, as_of), join_type="left")
    return q


def counts(check: Check, as_of: dt.date) -> exp.Select:
    """Per (prefecture, kind): ``n`` records in the denominator, ``hits`` failing (or filled) among them."""
    when = _parse(check.when, as_of)
    hit = _parse(check.hit, as_of)
    n = exp.func("SUM", exp.If(this=when, true=exp.Literal.number(1), false=exp.Literal.number(0)))
    both = exp.and_(exp.paren(when.copy()), exp.paren(hit))
    hits = exp.func("SUM", exp.If(this=both, true=exp.Literal.number(1), false=exp.Literal.number(0)))
    return (
        _from(check, as_of)
        .select(
            exp.column("_pref", "r").as_("pref"), exp.column("_kind", "r").as_("kind"), n.as_("n"), hits.as_("hits")
        )
        .group_by(exp.column("_pref", "r"), exp.column("_kind", "r"))
    )


def samples(check: Check, key: str, as_of: dt.date, limit: int) -> exp.Select:
    """Up to ``limit`` failing records: line (row) number, key, division code."""
    cond = exp.and_(exp.paren(_parse(check.when, as_of)), exp.paren(_parse(check.hit, as_of)))
    return (
        _from(check, as_of)
        .select(
            exp.column("_row", "r").as_("row"),
            sqlglot.parse_one(col(key), read=READ).as_("key"),
            exp.column("_div", "r").as_("division_code"),
        )
        .where(cond)
        .order_by(exp.column("_row", "r"))
        .limit(limit)
    )


def figure(check: Check, as_of: dt.date) -> exp.Select:
    """A figure's median and 90th percentile, overall and per province (``prov`` NULL: overall)."""
    value = _parse(check.hit, as_of)
    q = _from(check, as_of).where(_parse(check.when, as_of))
    return q.select(
        exp.column("_prov", "r").as_("prov"),
        exp.func("COUNT", exp.Star()).as_("n"),
        exp.func("MEDIAN", value).as_("median"),
        exp.func("QUANTILE_CONT", value.copy(), exp.Literal.number(0.9)).as_("p90"),
    ).group_by(exp.column("_prov", "r"))


def audit_table(ds: DataSet, source: str, columnar: bool) -> exp.Expression:
    """``CREATE TABLE`` of a data set's audit table from the engine's source view (one column ``_rec``, the record as
    JSON text): the row number, the record verdict and its failing fields (``_bad``), every property as text, and
    where the record sits (``_div``, ``_prov``, ``_pref``, ``_kind``; data-quality.yaml ``breakdown``)."""
    spec = rules.quality()["breakdown"].get(ds.name, {})
    flag = "TRUE" if columnar else "FALSE"
    # one parse of the record for all its fields (a path list), not one per field: a quarter of the memory
    paths = ", ".join(f"'$.\"{name}\"'" for name in ds.properties)
    fields = ", ".join(f'_v[{i}] AS "{name}"' for i, name in enumerate(ds.properties, 1))
    division = spec.get("division", "NULL")
    catalogue = spec.get("catalogue", "NULL")
    sql = f"""
    CREATE TABLE {table(ds.name)} AS
    WITH s0 AS (
      SELECT row_number() OVER () AS _row, _rec, CASE WHEN json_valid(_rec) THEN _rec END AS _json FROM {source}
    ), s AS (
      SELECT _row, _rec, CASE WHEN json_type(_json) = 'OBJECT' THEN _json END AS _obj FROM s0
    ), v AS (
      SELECT _row, _rec, json_extract_string(_obj, [{paths}]) AS _v FROM s
    ), f AS (
      SELECT _row, tzsb_record_problems('{ds.name}', _rec, {flag}) AS _bad, {fields} FROM v
    ), g AS (
      SELECT r.*, {division} AS _div, {catalogue} AS _cat FROM f AS r
    )
    SELECT g.*, substr(g._div, 1, 2) AS _prov, substr(g._div, 1, 4) AS _pref, c.kind AS _kind
    FROM g LEFT JOIN cl_catalogue AS c ON c.code = g._cat
    """
    return sqlglot.parse_one(sql, read=READ)


def render(tree: exp.Expression, dialect: str = READ) -> str:
    return tree.sql(dialect=dialect)

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

Where a dialect needs its own words (parsing the record text, the exact quantile), the branch sits here, at the one
definition, with its reason.
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


def _one_greatest(node: exp.Expression) -> exp.Expression:
    """``greatest(x)`` is ``x``: DuckDB takes one argument, Spark wants two or more (a record with one event date)."""
    if isinstance(node, exp.Greatest) and not node.expressions:
        return node.this
    return node


def _parse(sql: str, as_of: dt.date) -> exp.Expression:
    tree = sqlglot.parse_one(sql.replace(":as_of", f"DATE '{as_of.isoformat()}'"), read=READ)
    return tree.transform(_one_greatest)


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


def samples(check: Check, key: str, as_of: dt.date, limit: int | None) -> exp.Select:
    """Up to ``limit`` failing records (``None``: all of them): line (row) number, key, division code."""
    cond = exp.and_(exp.paren(_parse(check.when, as_of)), exp.paren(_parse(check.hit, as_of)))
    q = (
        _from(check, as_of)
        .select(
            exp.column("_row", "r").as_("row"),
            sqlglot.parse_one(col(key), read=READ).as_("key"),
            exp.column("_div", "r").as_("division_code"),
        )
        .where(cond)
        .order_by(exp.column("_row", "r"))
    )
    return q if limit is None else q.limit(limit)


def _quantile(value: exp.Expression, q: float, dialect: str) -> exp.Expression:
    """The exact (interpolated) ``q`` quantile. One per-dialect branch: SQLGlot writes DuckDB's ``QUANTILE_CONT(x,
    q)`` for Spark as ``PERCENTILE_CONT(x, q)``, which Spark does not have, and the standard ``PERCENTILE_CONT(q)
    WITHIN GROUP (ORDER BY x)`` as the approximate ``PERCENTILE_APPROX``; Spark's exact one is ``percentile(x, q)``."""
    if dialect == "spark":
        return exp.Anonymous(this="percentile", expressions=[value, exp.Literal.number(q)])
    return exp.func("QUANTILE_CONT", value, exp.Literal.number(q))


def figure(check: Check, as_of: dt.date, dialect: str = READ) -> exp.Select:
    """A figure's median and 90th percentile, overall and per province (``prov`` NULL: overall)."""
    value = _parse(check.hit, as_of)
    q = _from(check, as_of).where(_parse(check.when, as_of))
    return q.select(
        exp.column("_prov", "r").as_("prov"),
        exp.func("COUNT", exp.Star()).as_("n"),
        exp.func("MEDIAN", value).as_("median"),
        _quantile(value.copy(), 0.9, dialect).as_("p90"),
    ).group_by(exp.column("_prov", "r"))


# Parsing the record text into its fields: the one step the two dialects say differently (one branch each).
# DuckDB: json_valid / json_type, and all fields from one parse with a JSON path list (one json_extract_string per
# field made the table build use 4x the memory). Spark has neither: json_object_keys is NULL for anything but a JSON
# object, and from_json with every field typed STRING gives scalars as their text and objects and arrays as their
# JSON text, as json_extract_string does. Both end in ``_v``, the fields as a list of text in property order.
_PARSE = {
    "duckdb": """
    s0 AS (SELECT _row, _rec, CASE WHEN json_valid(_rec) THEN _rec END AS _json FROM {source}),
    s AS (SELECT _row, _rec, CASE WHEN json_type(_json) = 'OBJECT' THEN _json END AS _obj FROM s0),
    v AS (SELECT _row, _rec, json_extract_string(_obj, [{paths}]) AS _v FROM s)
    """,
    "spark": """
    s AS (SELECT _row, _rec, CASE WHEN json_object_keys(_rec) IS NOT NULL THEN _rec END AS _obj FROM {source}),
    p AS (SELECT _row, _rec, from_json(_obj, '{struct}') AS _p FROM s),
    v AS (SELECT _row, _rec, CASE WHEN _p IS NOT NULL THEN array({members}) END AS _v FROM p)
    """,
}


def _parse_step(ds: DataSet, source: str, dialect: str) -> list[exp.CTE]:
    names = list(ds.properties)
    quoted = [name.replace("`", "``") for name in names]
    text = _PARSE["spark" if dialect == "spark" else READ].format(
        source=source,
        paths=", ".join(f"'$.\"{name}\"'" for name in names),
        struct="STRUCT<" + ", ".join(f"`{q}`: STRING" for q in quoted) + ">",
        members=", ".join(f"_p.`{q}`" for q in quoted),
    )
    read = "spark" if dialect == "spark" else READ
    tree = sqlglot.parse_one(f"WITH {text} SELECT * FROM v", read=read)
    with_ = tree.find(exp.With)
    assert with_ is not None
    return list(with_.expressions)


def audit_table(ds: DataSet, source: str, columnar: bool, dialect: str = READ) -> exp.Expression:
    """``CREATE TABLE`` of a data set's audit table from the engine's source view (columns ``_row``, the record's
    number in input order from 1, and ``_rec``, the record as JSON text): the row number, the record verdict and its
    failing fields (``_bad``), every property as text, and where the record sits (``_div``, ``_prov``, ``_pref``,
    ``_kind``; data-quality.yaml ``breakdown``). ``dialect``: the engine's (see ``_PARSE``)."""
    spec = rules.quality()["breakdown"].get(ds.name, {})
    flag = "TRUE" if columnar else "FALSE"
    fields = ", ".join(f'_v[{i}] AS "{name}"' for i, name in enumerate(ds.properties, 1))
    division = spec.get("division", "NULL")
    catalogue = spec.get("catalogue", "NULL")
    sql = f"""
    CREATE TABLE {table(ds.name)} AS
    WITH v AS (SELECT _row, _rec, NULL AS _v FROM {source}), f AS (
      SELECT _row, tzsb_record_problems('{ds.name}', _rec, {flag}) AS _bad, {fields} FROM v
    ), g AS (
      SELECT r.*, {division} AS _div, {catalogue} AS _cat FROM f AS r
    )
    SELECT g.*, substr(g._div, 1, 2) AS _prov, substr(g._div, 1, 4) AS _pref, c.kind AS _kind
    FROM g LEFT JOIN cl_catalogue AS c ON c.code = g._cat
    """
    tree = sqlglot.parse_one(sql, read=READ)
    with_ = tree.find(exp.With)
    assert with_ is not None
    with_.set("expressions", [*_parse_step(ds, source, dialect), *with_.expressions[1:]])
    return tree


def filled(ds: DataSet) -> exp.Select:
    """The records of a data set's audit table and, per property, how many have it (0: the input lacks it)."""
    counted = ", ".join(f'count("{name}")' for name in ds.properties)
    return sqlglot.parse_one(f"SELECT count(*), {counted} FROM {table(ds.name)}", read=READ)  # type: ignore[return-value]


def render(tree: exp.Expression, dialect: str = READ) -> str:
    return tree.sql(dialect=dialect)

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
from typing import Any

import sqlglot
from sqlglot import exp

from conformance.audit import rules, verdict
from conformance.audit.catalogue import Check, Join, col, ok_column, table, top_identifiers
from conformance.contract.datasets import DataSet
from conformance.contract.registry import registry, schema_uri

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
def _columns_read(check: Check, alias: str) -> frozenset[str]:
    """The columns of ``alias`` (``r``, or a lookup's alias) a check reads (found in its SQL)."""
    found: set[str] = set()
    for part in (check.when, check.hit, *(j.on for j in check.joins)):
        for c in _parse(part, dt.date(2000, 1, 1)).find_all(exp.Column):
            if c.table == alias:
                found.add(c.name)
    return frozenset(found)


def needed_fields(check: Check) -> frozenset[str]:
    """The fields of ``r`` a check reads (its own columns such as ``_ok_…`` left out)."""
    return frozenset(c for c in _columns_read(check, "r") if not c.startswith("_"))


def _join_source(j: Join, check: Check) -> exp.Expression:
    if j.dedupe_key:  # first record per key (portable: no QUALIFY), only the columns the check reads
        needed = ", ".join(_quoted(c) for c in sorted({*_columns_read(check, j.alias), j.dedupe_key}))
        inner = (
            f'SELECT {needed}, row_number() OVER (PARTITION BY "{j.dedupe_key}" ORDER BY _row) AS _rn FROM {j.source}'
        )
        return sqlglot.parse_one(f"SELECT * FROM ({inner}) AS _d WHERE _rn = 1", read=READ).subquery(j.alias)
    if j.source.lstrip().upper().startswith("SELECT"):
        return sqlglot.parse_one(j.source, read=READ).subquery(j.alias)
    return exp.to_table(j.source).as_(j.alias)


def _from(check: Check, as_of: dt.date) -> exp.Select:
    q = exp.select().from_(exp.to_table(table(check.data_set)).as_("r"))
    for j in check.joins:
        q = q.join(_join_source(j, check), on=_parse(j.on, as_of), join_type="left")
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


def batchable(check: Check) -> bool:
    """Counted together with the other checks of its data set, in one scan (no lookup joined, not a figure of
    quantiles)."""
    return not check.joins and check.rule != "lag"


def counts_many(batch: list[Check], as_of: dt.date) -> exp.Select:
    """:func:`counts` of several checks of one data set (none joining a lookup) in one scan: per (prefecture, kind),
    ``n<i>`` and ``hits<i>`` of the i-th check."""
    assert batch and all(batchable(c) for c in batch) and len({c.data_set for c in batch}) == 1
    one, zero = exp.Literal.number(1), exp.Literal.number(0)
    q = exp.select(exp.column("_pref", "r").as_("pref"), exp.column("_kind", "r").as_("kind")).from_(
        exp.to_table(table(batch[0].data_set)).as_("r")
    )
    for i, check in enumerate(batch):
        when, hit = _parse(check.when, as_of), _parse(check.hit, as_of)
        both = exp.and_(exp.paren(when.copy()), exp.paren(hit))
        q = q.select(
            exp.func("SUM", exp.If(this=when, true=one.copy(), false=zero.copy())).as_(f"n{i}"),
            exp.func("SUM", exp.If(this=both, true=one.copy(), false=zero.copy())).as_(f"hits{i}"),
        )
    return q.group_by(exp.column("_pref", "r"), exp.column("_kind", "r"))


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
    v AS (SELECT _row, _rec, _obj, json_extract_string(_obj, [{paths}]) AS _v, json_type(_obj, [{paths}]) AS _t FROM s)
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


def _schema(ds: DataSet) -> tuple[dict[str, Any], Any]:
    """A data set's record schema and the resolver of its document."""
    found = registry().resolver().lookup(schema_uri(ds.schema))
    return found.contents, found.resolver


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _record_json(columns: dict[str, str]) -> str:
    """The row as the record's JSON text (for the records the SQL leaves to the per-record validator)."""
    pairs = []
    for name, kind in columns.items():
        c = _quoted(name)
        value = (
            f"to_json(strftime(timezone('UTC', {c}), '%Y-%m-%dT%H:%M:%S') || 'Z')"
            if kind.startswith("TIMESTAMP WITH TIME ZONE")
            else f"to_json({c})"
        )
        pairs.append(f"{verdict.literal(name)}, {value}")
    return f"CAST(json_object({', '.join(pairs)}) AS VARCHAR)"


def _ok_columns(ds: DataSet, values: dict[str, verdict.Value]) -> tuple[str, dict[str, str]]:
    """The identifier verdict of each top-level identifier field, as columns of a first step (``f0``): the select
    list, and each field's text → its column (for the record verdict)."""
    found = top_identifiers(ds.name)
    select = "".join(
        f", tzsb_identifier_ok({verdict.literal(kind)}, {values[name].text}) AS {_quoted(ok_column(name))}"
        for name, kind in found
    )
    return select, {values[name].text: _quoted(ok_column(name)) for name, _ in found}


def _carried(ds: DataSet) -> str:
    return "".join(f", {_quoted(ok_column(name))}" for name, _ in top_identifiers(ds.name))


def _typed_fields(ds: DataSet, source: str, columns: dict[str, str]) -> tuple[str, str]:
    """The ``f0`` and ``f`` steps from a typed source (DuckDB over Parquet): the properties as text straight from
    their columns, and the verdict asked of Python only for the records the compiled schema does not vouch for."""
    schema, resolver = _schema(ds)
    values = {
        name: verdict.typed_value(_quoted(name), columns[name]) if name in columns else verdict.ABSENT
        for name in ds.properties
    }
    others = [f"{_quoted(c)} IS NOT NULL" for c in columns if c not in ds.properties]
    oks, identifiers = _ok_columns(ds, values)
    sure = verdict.record_ok(schema, resolver, values, others, True, identifiers)
    texts = ", ".join(f"{values[name].text} AS {_quoted(name)}" for name in ds.properties)
    return f"SELECT *{oks} FROM {source}", (
        f"SELECT _row, CASE WHEN {sure} THEN NULL "
        f"ELSE tzsb_record_problems('{ds.name}', {_record_json(columns)}, TRUE) END AS _bad, {texts}{_carried(ds)} "
        "FROM f0"
    )


def _parsed_fields(ds: DataSet, columnar: bool, dialect: str) -> tuple[str, str]:
    """The ``f0`` and ``f`` steps from the parsed record text (``v``): on DuckDB the verdict is asked of Python only
    for the records the compiled schema does not vouch for; Spark asks it for every record."""
    flag = "TRUE" if columnar else "FALSE"
    values = {name: verdict.Value(f"_t[{i}]", f"_v[{i}]") for i, name in enumerate(ds.properties, 1)}
    fields = ", ".join(f"{values[name].text} AS {_quoted(name)}" for name in ds.properties)
    oks, identifiers = _ok_columns(ds, values)
    problems = f"tzsb_record_problems('{ds.name}', _rec, {flag})"
    first = f"SELECT *{oks} FROM v"
    if dialect == "spark":
        return first, f"SELECT _row, {problems} AS _bad, {fields}{_carried(ds)} FROM f0"
    schema, resolver = _schema(ds)
    keys = "[" + ", ".join(verdict.literal(k) for k in ds.properties) + "]::VARCHAR[]"
    if columnar:  # a CSV row: its object is made from the columns (no name twice), a null member is absent
        others, repeated = [verdict.extra_keys("_obj", keys, True)], "FALSE"
    else:  # a member outside the properties or a name given twice: more names than properties present in ``_t``
        others, repeated = [verdict.names_beyond("_obj", "list_aggregate(_t, 'count')")], verdict.repeated_keys("_obj")
    sure = verdict.record_ok(schema, resolver, values, others, columnar, identifiers, repeated)
    return first, (
        f"SELECT _row, CASE WHEN _obj IS NOT NULL AND {sure} THEN NULL ELSE {problems} END AS _bad, "
        f"{fields}{_carried(ds)} FROM f0"
    )


def audit_table(
    ds: DataSet, source: str, columnar: bool, dialect: str = READ, columns: dict[str, str] | None = None
) -> exp.Expression:
    """``CREATE TABLE`` of a data set's audit table from the engine's source view: the row number, the record verdict
    and its failing fields (``_bad``), every property as text, and where the record sits (``_div``, ``_prov``,
    ``_pref``, ``_kind``; data-quality.yaml ``breakdown``). The source view has ``_row`` (the record's number in
    input order from 1) and either ``_rec`` (the record as JSON text) or, ``columns`` given (name → DuckDB type), the
    record's typed columns. ``dialect``: the engine's (see ``_PARSE``)."""
    spec = rules.quality()["breakdown"].get(ds.name, {})
    division = spec.get("division", "NULL")
    catalogue = spec.get("catalogue", "NULL")
    first, step = _typed_fields(ds, source, columns) if columns is not None else _parsed_fields(ds, columnar, dialect)
    sql = f"""
    CREATE TABLE {table(ds.name)} AS
    WITH v AS (SELECT _row, _rec, NULL AS _v FROM {source}), f0 AS (
      {first}
    ), f AS (
      {step}
    ), g AS (
      SELECT r.*, {division} AS _div, {catalogue} AS _cat FROM f AS r
    )
    SELECT g.*, substr(g._div, 1, 2) AS _prov, substr(g._div, 1, 4) AS _pref, c.kind AS _kind
    FROM g LEFT JOIN cl_catalogue AS c ON c.code = g._cat
    """
    tree = sqlglot.parse_one(sql, read=READ)
    with_ = tree.find(exp.With)
    assert with_ is not None
    parse = [] if columns is not None else _parse_step(ds, source, dialect)
    with_.set("expressions", [*parse, *with_.expressions[1:]])
    return tree


def filled(ds: DataSet) -> exp.Select:
    """The records of a data set's audit table and, per property, how many have it (0: the input lacks it)."""
    counted = ", ".join(f'count("{name}")' for name in ds.properties)
    return sqlglot.parse_one(f"SELECT count(*), {counted} FROM {table(ds.name)}", read=READ)  # type: ignore[return-value]


#: DuckDB's JSON functions fail on text that is not JSON (a record whose object field holds a plain string would stop
#: the audit); Spark's answer NULL. On DuckDB their text argument is read only where it is valid JSON.
_JSON_READERS = (exp.JSONExtractScalar, exp.JSONExtract, exp.JSONType, exp.JSONKeys)


def _json_only(node: exp.Expression) -> exp.Expression:
    if isinstance(node, _JSON_READERS):
        text = node.this
        if not (isinstance(text, exp.Case) or (isinstance(text, exp.Column) and text.name in ("_obj", "_json"))):
            guarded = exp.Case(ifs=[exp.If(this=exp.func("json_valid", text.copy()), true=text.copy())])
            node.set("this", guarded)
    return node


def render(tree: exp.Expression, dialect: str = READ) -> str:
    if dialect == "duckdb":
        tree = tree.copy().transform(_json_only)
    return tree.sql(dialect=dialect)

"""The catalogue of checks: every data-quality check of ``tzsb-conform audit``, derived from the contracts.

Data sets, keys and references come from ``x-data-sets`` (:mod:`conformance.contract.datasets`); required fields,
properties, formats and titles from the record schemas; thresholds, date bounds, between-field rules and timeliness
rules from ``schemas/quality/data-quality.yaml`` (:mod:`conformance.audit.rules`). A check is a data set, the record
condition of its denominator (``when``) and of its hits (``hit``: failing records, or filled ones for a figure), as
SQL over the record ``r`` of the data set's audit table (:mod:`conformance.audit.sql`), and the lookups it joins.

Check ids: ``<dimension>/<data-set>/<field>/<rule>`` (docs/data-audit.md).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from conformance.audit import rules
from conformance.check.formats import format_kinds, format_sites
from conformance.contract.datasets import DataSet, data_sets
from conformance.contract.registry import resolve, schema_uri

DIMENSIONS = ("completeness", "normativeness", "accuracy", "uniqueness", "consistency", "timeliness")
DIMENSION_TITLES = {
    "completeness": ("完整性", "completeness"),
    "normativeness": ("规范性", "normativeness"),
    "accuracy": ("准确性", "accuracy"),
    "uniqueness": ("唯一性", "uniqueness"),
    "consistency": ("一致性", "consistency"),
    "timeliness": ("时效性", "timeliness"),
}


#: Identifier kinds that are codes of a code list, and the code-list table (conformance.audit.engine.code_list_rows)
#: holding every code of every table the project ships: a value in none of them is reported under normativeness.
CODE_LISTS = {"division": "cl_divisions"}


@dataclass(frozen=True)
class Join:
    """A lookup joined to the record ``r``: ``LEFT JOIN (<source>) <alias> ON <on>``; ``source`` names a data set's
    audit table or a code-list table (``data_set`` None)."""

    alias: str
    source: str
    on: str
    data_set: str | None = None
    dedupe_key: str | None = None  # the data set's contract key: first record per key only


@dataclass(frozen=True)
class Check:
    id: str
    dimension: str
    data_set: str
    field: str
    rule: str
    zh: str
    en: str
    when: str
    hit: str
    figure: bool = False
    joins: tuple[Join, ...] = ()

    @property
    def threshold(self) -> rules.Threshold:
        return rules.threshold(self.dimension, self.rule)

    @property
    def needs_sets(self) -> tuple[str, ...]:
        return tuple(j.data_set for j in self.joins if j.data_set)


def table(data_set: str) -> str:
    """The audit table of a data set (``inspection-reports`` → ``t_inspection_reports``)."""
    return "t_" + data_set.replace("-", "_")


def col(name: str, alias: str = "r") -> str:
    """A field of the record as SQL: ``r."useUnitUscc"``, a nested one from its JSON text."""
    top, _, rest = name.partition(".")
    if rest:
        return f"json_extract_string({alias}.\"{top}\", '$.{rest}')"
    return f'{alias}."{top}"'


def prop(ds: DataSet, name: str) -> dict[str, Any]:
    """A top-level property's schema with its ``$ref`` chain followed."""
    return resolve(f"{schema_uri(ds.schema)}#/properties/{name}")


def title(ds: DataSet, name: str) -> str:
    top = name.split(".")[0]
    return str(prop(ds, top).get("title") or name) if top in ds.properties else name


def ok_column(name: str) -> str:
    """The audit-table column that holds, per record, whether the top-level identifier field ``name`` is valid
    (``tzsb_identifier_ok`` run once per record: by the record verdict and by the accuracy check)."""
    return f"_ok_{name}"


def top_identifiers(data_set: str) -> tuple[tuple[str, str], ...]:
    """(field, identifier kind) of the top-level identifier sites of a data set (they get an :func:`ok_column`)."""
    return tuple((name, kind) for name, kind in identifier_sites(data_set) if "." not in name)


@functools.cache
def identifier_sites(data_set: str) -> tuple[tuple[str, str], ...]:
    """(field, identifier kind) of every identifier-format site of a data set's records (``provider.uscc`` for a
    nested one); where the format sits under a combinator only, the top-level properties with a format of their own."""
    ds = data_sets()[data_set]
    found = format_sites(schema_uri(ds.schema))
    if found is not None:
        return tuple((".".join(path), kind) for path, kind in found if path)
    kinds = format_kinds()
    out = []
    for name in ds.properties:
        fmt = prop(ds, name).get("format")
        if fmt in kinds:
            out.append((name, kinds[fmt]))
    return tuple(out)


def date_fields(ds: DataSet) -> tuple[tuple[str, str], ...]:
    """(field, ``date`` | ``date-time``) of the top-level properties with a date format."""
    out = []
    for name in ds.properties:
        fmt = prop(ds, name).get("format")
        if fmt in ("date", "date-time"):
            out.append((name, str(fmt)))
    return tuple(out)


def as_date(expr: str, fmt: str) -> str:
    """SQL: the calendar date of a date or date-time text (the date as written, before its UTC offset)."""
    return f"TRY_CAST({expr} AS DATE)" if fmt == "date" else f"TRY_CAST(substr({expr}, 1, 10) AS DATE)"


def _text(zh: str, en: str) -> tuple[str, str]:
    return zh, en


def completeness(ds: DataSet) -> list[Check]:
    out = []
    for name in ds.properties:
        c, ttl = col(name), title(ds, name)
        if name in ds.required:
            zh, en = _text(
                f"必填字段“{ttl}”（{name}）为空、缺失或空串", f"required field {name} is null, absent or empty"
            )
            hit = f"{c} IS NULL OR trim({c}) = ''"
            out.append(
                Check(
                    f"completeness/{ds.name}/{name}/required",
                    "completeness",
                    ds.name,
                    name,
                    "required",
                    zh,
                    en,
                    "TRUE",
                    hit,
                )
            )
        else:
            zh, en = _text(f"可选字段“{ttl}”（{name}）的填充率", f"fill rate of the optional field {name}")
            hit = f"{c} IS NOT NULL AND trim({c}) <> ''"
            out.append(
                Check(
                    f"completeness/{ds.name}/{name}/filled",
                    "completeness",
                    ds.name,
                    name,
                    "filled",
                    zh,
                    en,
                    "TRUE",
                    hit,
                    figure=True,
                )
            )
    return out


def normativeness(ds: DataSet) -> list[Check]:
    zh, en = _text(
        f"记录不符合其 JSON Schema（{ds.schema}.schema.json；与 tzsb-conform validate 判定相同）",
        f"record invalid against its JSON Schema ({ds.schema}.schema.json; the verdict of tzsb-conform validate)",
    )
    out = [
        Check(
            f"normativeness/{ds.name}/-/record",
            "normativeness",
            ds.name,
            "-",
            "record",
            zh,
            en,
            "TRUE",
            "r._bad IS NOT NULL",
        )
    ]
    for name in ds.properties:
        zh, en = _text(
            f"字段“{title(ds, name)}”（{name}）不符合其自身模式（类型、代码表、格式、长度、范围）",
            f"field {name} breaks its own schema (type, enum, pattern, length, range, format)",
        )
        out.append(
            Check(
                f"normativeness/{ds.name}/{name}/schema",
                "normativeness",
                ds.name,
                name,
                "schema",
                zh,
                en,
                f"{col(name)} IS NOT NULL OR list_contains(r._bad, '{name}')",
                f"list_contains(r._bad, '{name}')",
            )
        )
    for name, kind in identifier_sites(ds.name):
        if kind not in CODE_LISTS or "." in name:
            continue
        c = col(name)
        zh, en = _text(
            f"“{title(ds, name)}”（{name}）不在项目所带的任一年代码表中（{kind}；宽松校验只作警告）",
            f"{name} found in no table the project ships ({kind}; lenient validation only warns)",
        )
        listed = Join("cl", f"SELECT code AS _code FROM {CODE_LISTS[kind]}", f"cl._code = {c}")
        out.append(
            Check(
                f"normativeness/{ds.name}/{name}/code-list",
                "normativeness",
                ds.name,
                name,
                "code-list",
                zh,
                en,
                f"{c} IS NOT NULL",
                "cl._code IS NULL",
                joins=(listed,),
            )
        )
    return out


def accuracy(ds: DataSet) -> list[Check]:
    q = rules.quality()["dates"]
    future = set(q["future"].get(ds.name, ()))
    out = []
    for name, kind in identifier_sites(ds.name):
        c = col(name)
        zh, en = _text(
            f"“{title(ds, name)}”（{name}）的代码结构或校验位错误（{kind}）",
            f"{name}: wrong structure or check character ({kind})",
        )
        out.append(
            Check(
                f"accuracy/{ds.name}/{name}/identifier",
                "accuracy",
                ds.name,
                name,
                "identifier",
                zh,
                en,
                f"{c} IS NOT NULL",
                f'NOT r."{ok_column(name)}"' if "." not in name else f"NOT tzsb_identifier_ok('{kind}', {c})",
            )
        )
    for name, fmt in date_fields(ds):
        d = as_date(col(name), fmt)
        late = "" if name in future else f"{d} > :as_of OR "
        zh, en = _text(
            f"“{title(ds, name)}”（{name}）{'' if name in future else '晚于评价基准日或'}早于 {q['earliest']}",
            f"{name} {'' if name in future else 'after the as-of date or '}before {q['earliest']}",
        )
        out.append(
            Check(
                f"accuracy/{ds.name}/{name}/date",
                "accuracy",
                ds.name,
                name,
                "date",
                zh,
                en,
                f"{d} IS NOT NULL",
                f"{late}{d} < DATE '{q['earliest']}'",
            )
        )
    return out


def uniqueness(ds: DataSet) -> list[Check]:
    c = col(ds.key)
    zh, en = _text(f"键“{ds.key}”的值在数据集中出现多于一次", f"the key {ds.key} occurs more than once")
    dup = Join(
        "d", f'SELECT "{ds.key}" AS _k FROM {table(ds.name)} GROUP BY "{ds.key}" HAVING count(*) > 1', f"d._k = {c}"
    )
    return [
        Check(
            f"uniqueness/{ds.name}/{ds.key}/key",
            "uniqueness",
            ds.name,
            ds.key,
            "key",
            zh,
            en,
            f"{c} IS NOT NULL",
            "d._k IS NOT NULL",
            joins=(dup,),
        )
    ]


def consistency(ds: DataSet) -> list[Check]:
    sets = data_sets()
    out = []
    for name, (target, _clauses) in ds.references.items():
        key = sets[target].key
        c = col(name)
        zh, en = _text(
            f"“{title(ds, name)}”（{name}）在数据集 {target} 中找不到（按键 {key}）",
            f"{name} not found in data set {target} (by its key {key})",
        )
        ref = Join("x", f'SELECT DISTINCT "{key}" AS _k FROM {table(target)}', f"x._k = {c}", data_set=target)
        out.append(
            Check(
                f"consistency/{ds.name}/{name}/reference",
                "consistency",
                ds.name,
                name,
                "reference",
                zh,
                en,
                f"{c} IS NOT NULL",
                "x._k IS NULL",
                joins=(ref,),
            )
        )
    for rule in rules.quality()["rules"]:
        if rule["data-set"] != ds.name:
            continue
        joins = []
        for alias, spec in (rule.get("lookups") or {}).items():
            if "data-set" in spec:
                other = sets[spec["data-set"]]
                joins.append(
                    Join(
                        alias,
                        table(other.name),
                        f'{alias}."{other.key}" = {col(spec["on-field"])}',
                        other.name,
                        other.key,
                    )
                )
            else:
                joins.append(Join(alias, spec["code-list"], spec["match"]))
        out.append(
            Check(
                f"consistency/{ds.name}/{rule['field']}/{rule['id']}",
                "consistency",
                ds.name,
                rule["field"],
                rule["id"],
                rule["definition"]["zh"],
                rule["definition"]["en"],
                rule["when"],
                f"NOT coalesce({rule['holds']}, FALSE)",
                joins=tuple(joins),
            )
        )
    return out


def timeliness(ds: DataSet) -> list[Check]:
    spec = rules.quality()["timeliness"]
    out = []
    over = spec["overdue"]
    if over["data-set"] == ds.name:
        zh, en = over["definition"]["zh"], over["definition"]["en"]
        out.append(
            Check(
                f"timeliness/{ds.name}/{over['field']}/overdue",
                "timeliness",
                ds.name,
                over["field"],
                "overdue",
                zh,
                en,
                over["when"],
                over["fails"],
            )
        )
    events = spec["events"].get(ds.name) or ()
    formats = dict(date_fields(ds))
    if "updatedAt" in ds.properties and events:
        updated = as_date(col("updatedAt"), formats.get("updatedAt", "date-time"))
        latest = f"greatest({', '.join(as_date(col(e), formats.get(e, 'date')) for e in events)})"
        zh, en = _text(
            f"更新时间（updatedAt）早于记录自身的最新事件日期（{'、'.join(events)}）",
            f"updatedAt earlier than the record's latest event date ({', '.join(events)})",
        )
        out.append(
            Check(
                f"timeliness/{ds.name}/updatedAt/stale",
                "timeliness",
                ds.name,
                "updatedAt",
                "stale",
                zh,
                en,
                f"{updated} IS NOT NULL AND {latest} IS NOT NULL",
                f"{updated} < {latest}",
            )
        )
    if "updatedAt" in ds.properties:
        updated = as_date(col("updatedAt"), formats.get("updatedAt", "date-time"))
        zh, en = _text(
            "更新滞后：评价基准日与更新时间相差的天数（中位数）",
            "update lag: days from updatedAt to the as-of date (median)",
        )
        out.append(
            Check(
                f"timeliness/{ds.name}/updatedAt/lag",
                "timeliness",
                ds.name,
                "updatedAt",
                "lag",
                zh,
                en,
                f"{updated} IS NOT NULL",
                f"date_diff('day', {updated}, :as_of)",
                figure=True,
            )
        )
    return out


@functools.cache
def checks() -> tuple[Check, ...]:
    """Every check, by data set in the contract's order, then by dimension."""
    out: list[Check] = []
    for ds in data_sets().values():
        for make in (completeness, normativeness, accuracy, uniqueness, consistency, timeliness):
            out.extend(make(ds))
    return tuple(out)

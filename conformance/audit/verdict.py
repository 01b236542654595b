"""Which records are surely valid, said in SQL: a record's JSON Schema compiled to one condition that holds only for
records ``validate`` would accept, so that only the others reach the per-record validator in Python.

The verdict stays ``validate``'s: the condition is *sound* (true only for valid records) and not complete; a record
it leaves open goes to :func:`conformance.audit.udfs.record_problems_many`, which judges it as ``validate`` does. So
every keyword the compiler does not understand, or understands only loosely, compiles to FALSE (ask Python), and each
keyword it does compile is at least as strict in SQL as in Python:

* ``type`` string / integer / number / boolean / object / null (an integer written ``1.0`` is left open);
* ``enum`` and ``const`` of strings, ``minLength`` / ``maxLength`` (code points, as DuckDB's ``length``),
  ``minimum`` / ``maximum`` and their exclusive forms;
* ``pattern``: JSON Schema searches with the ECMA-262 dialect, the validators with Python's or Rust's engine; DuckDB
  runs RE2. A pattern is used only if it has no construct where RE2 could be looser (``\\D``, ``\\S``, ``\\W``,
  ``\\b``, ``\\B``, look-around, back-references); RE2's ``\\d`` (ASCII) and ``$`` (end of text only) are stricter;
* ``format``: ``date`` and ``date-time`` by a strict RFC 3339 shape and a real calendar date, and the project's
  identifier formats through ``tzsb_identifier_ok`` (the UDF that judges them exactly as ``validate``);
* ``properties`` / ``required`` / ``additionalProperties: false`` of objects, ``$ref`` (both the target and the
  siblings apply) and ``anyOf`` (any alternative surely valid).

A field is given to the compiler as its JSON type (DuckDB ``json_type`` words: VARCHAR, BIGINT, UBIGINT, DOUBLE,
BOOLEAN, OBJECT, ARRAY, NULL; NULL when absent) and its text (``json_extract_string``). ``columnar``: the record is a
Parquet or CSV row, where a null is an absent field (validate drops them before judging, see
:mod:`conformance.audit.udfs`). The tests hold the audit's record verdict equal to ``validate``'s on every record of
the generated defects and on values chosen to sit on each keyword's edge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from conformance.check.formats import format_kinds

ANNOTATIONS = frozenset(
    {"title", "description", "examples", "default", "$comment", "deprecated", "readOnly", "writeOnly", "$id"}
)
STRING_KEYWORDS = frozenset({"pattern", "minLength", "maxLength", "format", "enum", "const"})
NUMBER_KEYWORDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
OBJECT_KEYWORDS = frozenset({"properties", "required", "additionalProperties"})
KNOWN = ANNOTATIONS | STRING_KEYWORDS | NUMBER_KEYWORDS | OBJECT_KEYWORDS | {"type", "$ref", "anyOf"}

#: JSON Schema type → the json_type words that surely are it
JSON_TYPES = {
    "string": ("VARCHAR",),
    "integer": ("BIGINT", "UBIGINT"),
    "number": ("BIGINT", "UBIGINT", "DOUBLE"),
    "boolean": ("BOOLEAN",),
    "object": ("OBJECT",),
    "null": ("NULL",),
}

DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DATE_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"

#: pattern constructs where RE2 may accept what Python's or Rust's engine rejects (or that RE2 lacks)
_LOOSER = re.compile(r"\\[DWbBpPk1-9]|\(\?|\\u\{")
_UNICODE_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})")
#: ``\S`` for RE2: not any character one of the validators' engines calls a space: Python's (str.isspace, a superset
#: of Unicode White_Space, which Rust's engine uses) and ECMA-262's (which jsonschema-rs follows: it adds U+FEFF), and
#: U+180E (White_Space in older Unicode); RE2's own ``\S`` excludes ASCII spaces only and would be looser
_SPACES = sorted({c for c in range(0x3001) if chr(c).isspace()} | {0x180E, 0xFEFF})
_NOT_SPACE = "[^" + "".join(f"\\x{{{c:x}}}" for c in _SPACES) + "]"
_DOT = "[^\\x{a}\\x{d}\\x{2028}\\x{2029}]"

MAX_DEPTH = 4


@dataclass(frozen=True)
class Value:
    """A JSON value as SQL: its ``json_type`` word (NULL: absent) and its text."""

    type: str
    text: str

    @property
    def object(self) -> str:
        """The text where it is a JSON object, else NULL (JSON functions fail on text that is not JSON)."""
        return f"CASE WHEN {self.type} = 'OBJECT' THEN {self.text} END"

    def member(self, name: str) -> Value:
        path = literal('$."' + name.replace('"', '\\"') + '"')
        return Value(f"json_type({self.object}, {path})", f"json_extract_string({self.object}, {path})")

    def has_other(self, keys: list[str], columnar: bool) -> str:
        """SQL: the object has a member outside ``keys``, or names one twice (see :func:`repeated_keys`)."""
        if not columnar:  # one pass over the names: as many as the properties present, none else and none twice
            count = " + ".join(f"(CASE WHEN {self.member(k).type} IS NOT NULL THEN 1 ELSE 0 END)" for k in keys) or "0"
            return f"coalesce({names_beyond(self.object, count)}, TRUE)"
        listed = "[" + ", ".join(literal(k) for k in keys) + "]::VARCHAR[]"
        return f"coalesce({extra_keys(self.object, listed, columnar)} OR {repeated_keys(self.object)}, TRUE)"

    def has_repeated(self) -> str:
        """SQL: the object names a member twice (an object open to other members)."""
        return f"coalesce({repeated_keys(self.object)}, TRUE)"


@dataclass(frozen=True)
class StructValue(Value):
    """A typed struct column (DuckDB over Parquet): its members read straight from the struct, without parsing JSON
    text once per member. ``members``: name → DuckDB type; ``column``: the struct as SQL."""

    column: str = ""
    members: tuple[tuple[str, str], ...] = ()

    def member(self, name: str) -> Value:
        kinds = dict(self.members)
        if name not in kinds:
            return ABSENT
        return typed_value(f"{self.column}.{quoted(name)}", kinds[name])

    def has_other(self, keys: list[str], columnar: bool) -> str:
        others = [f"{self.column}.{quoted(m)} IS NOT NULL" for m, _ in self.members if m not in keys]
        return _any(others) if columnar else ("TRUE" if any(m not in keys for m, _ in self.members) else "FALSE")

    def has_repeated(self) -> str:
        return "FALSE"  # a struct's members are unique


def quoted(name: str) -> str:
    """A SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


_STRUCT = re.compile(r"^STRUCT\((.*)\)$")
_MEMBER = re.compile(r'^\s*("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_]*)\s+([A-Z][A-Z0-9_ ]*)\s*$')


def struct_members(kind: str) -> tuple[tuple[str, str], ...] | None:
    """The members of a flat DuckDB struct type of scalar members (``STRUCT(name VARCHAR, "a b" BIGINT)``)."""
    m = _STRUCT.match(kind)
    if not m or "(" in m.group(1):
        return None
    out = []
    for part in m.group(1).split(","):
        found = _MEMBER.match(part)
        if not found:
            return None
        name = found.group(1)
        out.append((name[1:-1].replace('""', '"') if name.startswith('"') else name, found.group(2).strip()))
    return tuple(out)


def typed_value(expr: str, kind: str) -> Value:
    """A typed column (or struct member) as a JSON value: its json_type word and its text, as the record's JSON
    would say them."""
    if kind == "VARCHAR":
        return Value(f"CASE WHEN {expr} IS NOT NULL THEN 'VARCHAR' END", expr)
    if kind.startswith("TIMESTAMP WITH TIME ZONE"):
        text = f"strftime(timezone('UTC', {expr}), '%Y-%m-%dT%H:%M:%S') || 'Z'"
        return Value(f"CASE WHEN {expr} IS NOT NULL THEN 'VARCHAR' END", text)
    members = struct_members(kind)
    generic = Value(f"json_type(to_json({expr}))", f"json_extract_string(to_json({expr}), '$')")
    if members is not None:
        return StructValue(f"CASE WHEN {expr} IS NOT NULL THEN 'OBJECT' END", generic.text, expr, members)
    return generic


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


#: a field the input does not have
ABSENT = Value("CAST(NULL AS VARCHAR)", "CAST(NULL AS VARCHAR)")


def extra_keys(text: str, keys: str, columnar: bool) -> str:
    """SQL: the JSON object ``text`` has a member outside ``keys`` (a SQL list); in a columnar row a member holding
    null is absent and does not count."""
    if not columnar:
        return f"NOT list_has_all({keys}, json_keys({text}))"
    path = "'$.\"' || replace(k, '\"', '\\\"') || '\"'"
    return f"len(list_filter(json_keys({text}), lambda k: NOT list_contains({keys}, k) AND json_type({text}, {path}) <> 'NULL')) > 0"


def names_beyond(text: str, count: str) -> str:
    """SQL: the JSON object ``text`` has more member names than ``count`` (SQL: how many of the schema's properties
    it has, each counted once), that is a member outside the properties or a name given twice. One pass over the
    names, where a test for each (``list_has_all`` and ``list_unique``) read them twice and hashed them: 12 % more
    CPU for the 1 M-equipment audit from JSON Lines."""
    return f"len(json_keys({text})) <> {count}"


def repeated_keys(text: str) -> str:
    """SQL: the JSON object ``text`` names a member twice. DuckDB reads the first of the two, ``validate`` (orjson, as
    most JSON parsers) the last: the SQL does not vouch for such an object, the record goes to the Python verdict,
    which is validate's."""
    return f"len(json_keys({text})) <> list_unique(json_keys({text}))"


def _all(parts: list[str]) -> str:
    parts = [p for p in parts if p != "TRUE"]
    if "FALSE" in parts:
        return "FALSE"
    return "(" + " AND ".join(parts) + ")" if parts else "TRUE"


def _any(parts: list[str]) -> str:
    parts = [p for p in parts if p != "FALSE"]
    if "TRUE" in parts:
        return "TRUE"
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


def present(value: Value, columnar: bool) -> str:
    """The field is there (in a columnar row a null is an absent field)."""
    return f"({value.type} IS NOT NULL AND {value.type} <> 'NULL')" if columnar else f"{value.type} IS NOT NULL"


def pattern_sql(pattern: str) -> str | None:
    """The pattern for RE2, or None where RE2 could be looser than the validators."""
    if _LOOSER.search(pattern):
        return None
    out, in_class, i = [], False, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            pair = pattern[i : i + 2]
            if pair == "\\S":
                if in_class:
                    return None
                out.append(_NOT_SPACE)
            else:
                out.append(pair)
            i += 2
            continue
        if ch == "." and not in_class:  # ECMA-262's dot leaves out every line terminator, RE2's only \n
            out.append(_DOT)
            i += 1
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        out.append(ch)
        i += 1
    return _UNICODE_ESCAPE.sub(lambda m: "\\x{" + m.group(1) + "}", "".join(out))


def _date_ok(text: str) -> str:
    return f"(TRY_CAST(substr({text}, 1, 10) AS DATE) IS NOT NULL AND substr({text}, 1, 4) <> '0000')"


class Compiler:
    """Compiles schema nodes, following ``$ref`` with the resolver of the document it sits in."""

    def __init__(self, columnar: bool, identifiers: dict[str, str] | None = None) -> None:
        self.columnar = columnar
        self.kinds = format_kinds()
        self.identifiers = identifiers or {}  # a field's text → the column holding its tzsb_identifier_ok

    def ok(self, node: Any, resolver: Any, value: Value, depth: int = 0) -> str:
        """SQL that holds only if ``value`` (present) is valid against ``node``."""
        if node is True:
            return "TRUE"
        if not isinstance(node, dict) or depth > MAX_DEPTH:
            return "FALSE"
        unknown = {k for k in node if k not in KNOWN and not k.startswith("x-")}
        if unknown:
            return "FALSE"
        parts: list[str] = []
        if "$ref" in node:
            target = resolver.lookup(node["$ref"])
            parts.append(self.ok(target.contents, target.resolver, value, depth + 1))
        if "anyOf" in node:
            parts.append(_any([self.ok(alt, resolver, value, depth + 1) for alt in node["anyOf"]]))
        asserting = {k for k in node if k in STRING_KEYWORDS | NUMBER_KEYWORDS | OBJECT_KEYWORDS}
        if "type" in node:
            types = node["type"] if isinstance(node["type"], list) else [node["type"]]
            parts.append(_any([self._typed(str(t), node, resolver, value, depth) for t in types]))
        elif asserting:
            return "FALSE"  # keywords without a type apply per instance type: left to Python
        return _all(parts)

    def _typed(self, kind: str, node: dict[str, Any], resolver: Any, value: Value, depth: int) -> str:
        words = JSON_TYPES.get(kind)
        if words is None:
            return "FALSE"
        is_type = f"{value.type} IN ({', '.join(literal(w) for w in words)})"
        if kind == "null" and self.columnar:
            return "FALSE"  # a columnar null is an absent field, never a null value
        if kind == "string":
            return _all([is_type, *self._string(node, value.text)])
        if kind in ("integer", "number"):
            return _all([is_type, *self._number(node, value.text)])
        if kind == "object":
            return _all([is_type, *self._object(node, resolver, value, depth)])
        return is_type  # boolean, null: the type is the whole of it

    def _string(self, node: dict[str, Any], text: str) -> list[str]:
        out: list[str] = []
        if "enum" in node:
            strings = [v for v in node["enum"] if isinstance(v, str)]
            out.append(f"{text} IN ({', '.join(literal(v) for v in strings)})" if strings else "FALSE")
        if "const" in node:
            out.append(f"{text} = {literal(node['const'])}" if isinstance(node["const"], str) else "FALSE")
        if "minLength" in node:
            out.append(f"length({text}) >= {int(node['minLength'])}")
        if "maxLength" in node:
            out.append(f"length({text}) <= {int(node['maxLength'])}")
        if "pattern" in node:
            rx = pattern_sql(str(node["pattern"]))
            out.append(f"regexp_matches({text}, {literal(rx)})" if rx is not None else "FALSE")
        fmt = node.get("format")
        if fmt == "date":
            out.append(f"(regexp_full_match({text}, {literal(DATE)}) AND {_date_ok(text)})")
        elif fmt == "date-time":
            out.append(f"(regexp_full_match({text}, {literal(DATE_TIME)}) AND {_date_ok(text)})")
        elif fmt in self.kinds:
            ok = self.identifiers.get(text) or f"tzsb_identifier_ok({literal(self.kinds[fmt])}, {text})"
            out.append(f"coalesce({ok}, FALSE)")
        elif fmt is not None:
            out.append("FALSE")
        return out

    def _number(self, node: dict[str, Any], text: str) -> list[str]:
        out: list[str] = []
        number = f"TRY_CAST({text} AS DOUBLE)"
        for key, op in (("minimum", ">="), ("maximum", "<="), ("exclusiveMinimum", ">"), ("exclusiveMaximum", "<")):
            if key in node:
                bound = node[key]
                if not isinstance(bound, int | float) or isinstance(bound, bool) or abs(bound) > 2**52:
                    return ["FALSE"]
                out.append(f"{number} {op} {bound!r}")
        if "enum" in node or "const" in node:
            return ["FALSE"]
        return out

    def _object(self, node: dict[str, Any], resolver: Any, value: Value, depth: int) -> list[str]:
        props: dict[str, Any] = node.get("properties", {})
        out: list[str] = []
        for name in node.get("required", []):
            out.append(present(value.member(name), self.columnar))
        for name, sub in props.items():
            member = value.member(name)
            out.append(f"(NOT {present(member, self.columnar)} OR {self.ok(sub, resolver, member, depth + 1)})")
        extra = node.get("additionalProperties", True)
        if extra is False:
            out.append(f"NOT ({value.has_other(list(props), self.columnar)})")
        elif extra is not True:
            return ["FALSE"]
        elif value.has_repeated() != "FALSE":
            out.append(f"NOT ({value.has_repeated()})")
        return out


def record_ok(
    schema: dict[str, Any],
    resolver: Any,
    fields: dict[str, Value],
    others: list[str],
    columnar: bool,
    identifiers: dict[str, str] | None = None,
    repeated: str = "FALSE",
) -> str:
    """SQL that holds only for records valid against ``schema`` (a top-level object schema): ``fields``, the
    properties as values; ``others``, SQL texts each true when the record has a member outside the properties (or
    names one twice); ``identifiers``, a field's text → a column already holding its identifier verdict;
    ``repeated``, SQL true when the record names a member twice (for a schema open to other members)."""
    compiler = Compiler(columnar, identifiers)
    if schema.get("type") != "object" or set(schema) - KNOWN - {"$schema", "$defs"} - {
        k for k in schema if k.startswith("x-")
    }:
        return "FALSE"
    parts = [present(fields[name], columnar) for name in schema.get("required", [])]
    for name, sub in schema.get("properties", {}).items():
        v = fields[name]
        parts.append(f"(NOT {present(v, columnar)} OR {compiler.ok(sub, resolver, v)})")
    extra = schema.get("additionalProperties", True)
    if extra is False:
        parts.extend(f"NOT ({o})" for o in others)
    elif extra is not True:
        return "FALSE"
    elif repeated != "FALSE":
        parts.append(f"NOT ({repeated})")
    return _all(parts)

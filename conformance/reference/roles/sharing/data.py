"""The six data sets of the sharing platform as the contract declares them, and their storage.

Everything here is read from ``schemas/openapi/sharing.yaml`` (``x-data-sets``: title, record
schema, key, path; the query parameters of each operation) and from the record schemas
(``x-sensitive`` marks) — nothing is re-declared:

* :class:`DataSet` — key field, validator name, sensitive fields, query filters;
* the filter index ``sharing_index``: one row per live record with the values its declared
  filters need (division, catalogue code, status, dates as instants ...), kept in the same
  transaction as ``db.put_record`` / ``db.delete_record`` (:func:`store`, :func:`remove`);
* paged queries (:func:`query_page`), with the records' masked forms stored beside them;
* the division scope of every record (``sharing_scope``, SHARE.SEC.ACCESS.2): a caller registered for a
  division (``dataDivision`` in clients.json) reads only records of that division and its subordinate
  ones. A record's division is its own ``division`` field where its schema has one, else the division of
  the first record it refers to that has one — a field named like another data set's key
  (``equipmentCode`` → equipment) or a unit's credit code (``…Uscc`` → units), in the schema's order:
  an inspection report or a use registration is where its equipment is, a person where the employer is.
  A record that resolves to no division is visible to national-level callers only. Deleted records keep
  their row (for the DELETE entries of the change feed).

The change feed is in ``sharing_feed``, masking and grants in ``sharing_access``.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import orjson

from conformance.codes import lists as code_lists
from conformance.contract import datasets as contract
from conformance.contract import documents as contracts
from conformance.contract.openapi import Operation, role_operations
from conformance.contract.registry import resolve
from conformance.reference.db import Database, dumps, loads
from conformance.reference.errors import bad_request
from conformance.reference.roles.sharing.access import mask

ROLE = "sharing"
#: Columns of the filter index available to one data set's filters.
INDEX_COLUMNS = 6
INDEX_VERSION = 3

DDL = f"""
CREATE TABLE IF NOT EXISTS sharing_index (
  data_set TEXT NOT NULL, key TEXT NOT NULL, updated REAL, masked BLOB,
  {", ".join(f"c{i}" for i in range(INDEX_COLUMNS))},
  PRIMARY KEY (data_set, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sharing_scope (
  data_set TEXT NOT NULL, key TEXT NOT NULL, division TEXT, PRIMARY KEY (data_set, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sharing_grants (
  grant_id TEXT PRIMARY KEY, digest TEXT NOT NULL, body BLOB NOT NULL, grantee TEXT NOT NULL,
  data_set TEXT NOT NULL, owner TEXT NOT NULL, valid_to REAL NOT NULL);
"""


# ---------------------------------------------------------------------------- contract


def instant(value: str) -> float:
    """Seconds since the epoch of a GB/T 7408 date-time with offset (``Z`` accepted)."""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _schema_marks(node: Any, base: str, depth: int = 0) -> tuple[set[str], set[str]]:
    """(x-sensitive kinds, names of the ``$defs`` reached) of a property schema of the document ``base``, through
    refs (``registry.resolve``) and anyOf/oneOf/allOf."""
    kinds: set[str] = set()
    defs: set[str] = set()
    if not isinstance(node, dict) or depth > 8:
        return kinds, defs
    if isinstance(node.get("x-sensitive"), str):
        kinds.add(node["x-sensitive"])
    branches = [(b, base) for key in ("anyOf", "oneOf", "allOf") for b in node.get(key, [])]
    if isinstance(node.get("$ref"), str):
        uri = urljoin(base, node["$ref"])
        defs.add(uri.rpartition("/")[2])
        branches.insert(0, (resolve(uri), uri.partition("#")[0]))
    for branch, where in branches:
        k, d = _schema_marks(branch, where, depth + 1)
        kinds |= k
        defs |= d
    return kinds, defs


@dataclass(frozen=True)
class DataSet(contract.DataSet):
    """A data set as the contract declares it, and how the platform stores and masks its records."""

    #: sensitive field → kind of x-sensitive (citizen-id, phone) that has a masking rule
    sensitive: dict[str, str] = field(default_factory=dict)
    #: record field → (index column, value type: text | instant | list)
    columns: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: operationId → param → filter of each paged query (``updatedAt`` is the index's column ``updated``, every other
    #: field one of :attr:`columns`)
    indexed_filters: dict[str, dict[str, contract.Filter]] = field(default_factory=dict)

    def index_row(self, key: str, record: dict[str, Any]) -> tuple[Any, ...]:
        values: list[Any] = [None] * INDEX_COLUMNS
        for fname, (column, vtype) in self.columns.items():
            value = record.get(fname)
            if value is None:
                continue
            idx = int(column[1:])
            if vtype == "instant":
                values[idx] = instant(value)
            elif vtype == "list":
                values[idx] = "|" + "|".join(map(str, value)) + "|"
            else:
                values[idx] = str(value)
        updated = record.get("updatedAt")
        shown = mask(self, record) if self.sensitive else record
        return (
            self.name,
            key,
            instant(updated) if isinstance(updated, str) else None,
            dumps(shown) if shown is not record else None,
            *values,
        )


#: Kinds of ``x-sensitive`` the contract says are returned masked (公民身份号码、手机号码).
MASKED_KINDS = ("citizen-id", "phone")


def _field_type(props: dict[str, Any], fname: str, schema_name: str) -> str:
    prop = props[fname]
    if prop.get("type") == "array":
        return "list"
    _, defs = _schema_marks(prop, contracts.json_schema_id(schema_name))
    return "instant" if "dateTime" in defs else "text"


@functools.cache
def data_sets() -> dict[str, DataSet]:
    ops = role_operations(ROLE)
    out: dict[str, DataSet] = {}
    for name, declared in contract.data_sets().items():
        schema_name, props = declared.schema, declared.properties
        sensitive: dict[str, str] = {}
        for fname, prop in props.items():
            kinds, _ = _schema_marks(prop, contracts.json_schema_id(schema_name))
            for kind in MASKED_KINDS:
                if kind in kinds:
                    sensitive[fname] = kind
        columns: dict[str, tuple[str, str]] = {}
        filters: dict[str, dict[str, contract.Filter]] = {}
        for op in ops:
            if op.data_set != name or op.method != "get" or not any(p.name == "page" for p in op.params):
                continue
            filters[op.operation_id] = {f.name: f for f in declared.filters_of(op)}
            for fname in (f.field for f in filters[op.operation_id].values()):
                if fname == "updatedAt" or fname in columns:  # the index keeps updatedAt in its own column
                    continue
                if len(columns) >= INDEX_COLUMNS:
                    raise RuntimeError(f"sharing: data set {name} has more than {INDEX_COLUMNS} filter fields")
                columns[fname] = (f"c{len(columns)}", _field_type(props, fname, schema_name))
        # whose grant unlocks a record's sensitive fields (工业产品质量安全监管数据规范体系 授权查询共享: "需经数据所属
        # 主体授权"): the unit of the contract's x-owner; a data set with sensitive fields and no owner is always masked
        owner = declared.owner if declared.owner in props else None
        given = {**vars(declared), "owner": owner}
        out[name] = DataSet(**given, sensitive=sensitive, columns=columns, indexed_filters=filters)
    return out


def layout_signature() -> str:
    """Changes when the index would hold other columns or values (then it is rebuilt)."""
    return orjson.dumps(
        {
            "version": INDEX_VERSION,
            "sets": {
                n: [sorted(d.columns.items()), sorted(d.sensitive.items())] for n, d in sorted(data_sets().items())
            },
        }
    ).decode()


def param_value(op: Operation, query: dict[str, Any], name: str) -> Any:
    """A query parameter as given, else its declared default."""
    value = query.get(name)
    if value is None:
        value = contract.param_default(op, name)
    return value


# ---------------------------------------------------------------------------- storage


def setup_storage(db: Database) -> None:
    layout = layout_signature()
    if db.meta("sharing.index-layout") not in (None, layout):
        db.ensure("DROP TABLE IF EXISTS sharing_index; DROP TABLE IF EXISTS sharing_scope")
    db.ensure(DDL)
    marks = ", ".join("?" * len(data_sets()))
    live = db.one(f"SELECT COUNT(*) FROM records WHERE data_set IN ({marks}) AND deleted = 0", *data_sets())[0]
    indexed = db.one("SELECT COUNT(*) FROM sharing_index")[0]
    if db.meta("sharing.index-layout") != layout or live != indexed:
        rebuild_index(db)
        db.set_meta("sharing.index-layout", layout)


def rebuild_index(db: Database) -> None:
    with db.write() as c:
        c.execute("DELETE FROM sharing_index")
        c.execute("DELETE FROM sharing_scope")
        # data sets with their own division first: the others take theirs from the records they refer to
        for ds in sorted(data_sets().values(), key=lambda d: "division" not in d.properties):
            rows = c.execute("SELECT key, body, deleted FROM records WHERE data_set = ?", (ds.name,)).fetchall()
            c.executemany(_INSERT_INDEX, [ds.index_row(k, loads(b)) for k, b, deleted in rows if not deleted])
            c.executemany(_INSERT_SCOPE, [(ds.name, k, record_division(db, ds, loads(b))) for k, b, _ in rows])


_INSERT_INDEX = (
    f"INSERT OR REPLACE INTO sharing_index (data_set, key, updated, masked, "
    f"{', '.join(f'c{i}' for i in range(INDEX_COLUMNS))}) VALUES ({', '.join('?' * (INDEX_COLUMNS + 4))})"
)


_INSERT_SCOPE = "INSERT OR REPLACE INTO sharing_scope (data_set, key, division) VALUES (?, ?, ?)"


@functools.cache
def _references(name: str) -> tuple[tuple[str, str], ...]:
    """(field, data set) of the references a record of ``name`` takes its division from, in the schema's order."""
    sets = data_sets()
    by_key = {d.key: d.name for d in sets.values() if d.name != name}
    units = next((d.name for d in sets.values() if d.key == "uscc"), None)
    out = []
    for fname in sets[name].properties:
        if fname in by_key:
            out.append((fname, by_key[fname]))
        elif fname.endswith("Uscc") and units and units != name:
            out.append((fname, units))
    return tuple(out)


def record_division(db: Database, ds: DataSet, record: dict[str, Any]) -> str | None:
    """The division a record belongs to for access control (see the module docstring)."""
    own = record.get("division")
    if "division" in ds.properties:
        return own if isinstance(own, str) else None
    for fname, target in _references(ds.name):
        value = record.get(fname)
        if isinstance(value, str):
            row = db.one("SELECT division FROM sharing_scope WHERE data_set = ? AND key = ?", target, value)
            if row and row[0]:
                return str(row[0])
    return None


def store(db: Database, ds: DataSet, key: str, record: dict[str, Any], at: str, *, compact: bool = False) -> str:
    """Insert or update a record (change logged by ``put_record``), its filter index row and its division scope.

    ``compact``: the defect ``changes-seq-reused`` (:func:`compact_changes`)."""
    with db.write() as c:
        op = db.put_record(ds.name, key, record, at)
        if compact:
            compact_changes(c, ds, key)
        c.execute(_INSERT_INDEX, ds.index_row(key, record))
        c.execute(_INSERT_SCOPE, (ds.name, key, record_division(db, ds, record)))
        return op


def compact_changes(c: Any, ds: DataSet, key: str) -> None:
    """Defect ``changes-seq-reused``, a vendor's "sync table": only a record's latest change is kept, numbered right
    after the highest remaining change. A change already served vanishes, and when it was the newest its number is
    given to the next change (a consumer's cursor then points at another change)."""
    new = c.execute("SELECT MAX(seq) FROM changes WHERE data_set = ? AND key = ?", (ds.name, key)).fetchone()[0]
    c.execute("DELETE FROM changes WHERE data_set = ? AND key = ? AND seq < ?", (ds.name, key, new))
    top = c.execute("SELECT COALESCE(MAX(seq), 0) FROM changes WHERE seq < ?", (new,)).fetchone()[0]
    if top + 1 < new:
        c.execute("UPDATE changes SET seq = ? WHERE seq = ?", (top + 1, new))
        c.execute("UPDATE records SET seq = ? WHERE data_set = ? AND key = ?", (top + 1, ds.name, key))
        c.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'changes'", (top + 1,))


def scope_condition(alias: str, prefix: str | None) -> tuple[str, list[Any]]:
    """SQL condition on ``<alias>.division`` (a ``sharing_scope`` row) for a caller scoped to ``prefix``."""
    if prefix is None:
        return "1", []
    if len(prefix) < 6:
        return f"substr({alias}.division, 1, {len(prefix)}) = ?", [prefix]
    return f"{alias}.division = ?", [prefix]


def in_scope(db: Database, ds: DataSet, key: str, prefix: str | None) -> bool:
    """Whether a caller scoped to ``prefix`` (None: every division) may see the record ``key``."""
    if prefix is None:
        return True
    row = db.one("SELECT division FROM sharing_scope WHERE data_set = ? AND key = ?", ds.name, key)
    return bool(row and row[0] and str(row[0]).startswith(prefix))


def remove(db: Database, ds: DataSet, key: str, at: str, *, compact: bool = False) -> bool:
    with db.write() as c:
        if not db.delete_record(ds.name, key, at):
            return False
        if compact:
            compact_changes(c, ds, key)
        c.execute("DELETE FROM sharing_index WHERE data_set = ? AND key = ?", (ds.name, key))
        return True


def live_updated(db: Database, ds: DataSet, key: str) -> tuple[bool, float | None]:
    """(exists and not deleted, its updatedAt as an instant)."""
    row = db.one("SELECT updated FROM sharing_index WHERE data_set = ? AND key = ?", ds.name, key)
    return (True, row[0]) if row else (False, None)


# ---------------------------------------------------------------------------- queries


def division_prefix(code: str) -> str:
    """The leading digits every division under ``code`` (GB/T 2260: province 2, prefecture 4) shares."""
    level = code_lists.divisions().get(code, {}).get("level")
    if level == "province" or (level is None and code.endswith("0000")):
        return code[:2]
    if level == "prefecture" or (level is None and code.endswith("00")):
        return code[:4]
    return code


def where_clause(ds: DataSet, op: Operation, query: dict[str, Any]) -> tuple[str, list[Any]]:
    """SQL condition on ``sharing_index i`` for the filters given; 400 for an empty range."""
    where, args = ["i.data_set = ?"], [ds.name]
    bounds: dict[str, dict[str, tuple[str, Any]]] = {}
    for pname, f in ds.indexed_filters.get(op.operation_id, {}).items():
        if pname not in query:
            continue
        value = query[pname]
        column, vtype = ("updated", "instant") if f.field == "updatedAt" else ds.columns[f.field]
        col = f"i.{column}"
        if f.kind == "division":
            prefix = division_prefix(str(value))
            where.append(f"substr({col}, 1, {len(prefix)}) = ?" if len(prefix) < 6 else f"{col} = ?")
            args.append(prefix)
        elif f.kind == "catalogue":
            codes = code_lists.catalogue_descendants(str(value)) or (str(value),)
            where.append(f"{col} IN ({', '.join('?' * len(codes))})")
            args.extend(codes)
        elif f.kind == "contains":
            where.append(f"instr({col}, ?) > 0")
            args.append(f"|{value}|")
        elif f.kind in ("from", "to"):
            bound = instant(value) if vtype == "instant" else str(value)
            where.append(f"{col} {'>=' if f.kind == 'from' else '<='} ?")
            args.append(bound)
            bounds.setdefault(f.field, {})[f.kind] = (pname, bound)
        else:
            where.append(f"{col} = ?")
            args.append(str(value))
    for b in bounds.values():
        if "from" in b and "to" in b and b["to"][1] < b["from"][1]:
            (p_from, _), (p_to, _) = b["from"], b["to"]
            raise bad_request(
                f"查询条件 {p_to} 早于 {p_from}",
                f"{p_to} is before {p_from}",
                [{"path": f"/query/{p_to}", "message": f"{p_to} 不得早于 {p_from}", "rule": "range"}],
            )
    return " AND ".join(where), args


def query_page(
    db: Database,
    ds: DataSet,
    op: Operation,
    query: dict[str, Any],
    page: int,
    size: int,
    *,
    drop_boundary: bool = False,
    stored_mask: bool = False,
    scope: str | None = None,
) -> tuple[int, list[Any]]:
    """(total, records of the page), ordered by key; one count and one page query.

    ``stored_mask``: the records as JSON fragments, masked as stored for callers without grants
    (no parsing); otherwise parsed records. ``scope``: the caller's division prefix (None: every division).
    """
    cond, args = where_clause(ds, op, query)
    source = "sharing_index i"
    if scope is not None:
        scond, sargs = scope_condition("s", scope)
        source = "sharing_index i CROSS JOIN sharing_scope s ON s.data_set = i.data_set AND s.key = i.key"
        cond, args = f"{cond} AND {scond}", [*args, *sargs]
    total = db.one(f"SELECT COUNT(*) FROM {source} WHERE {cond}", *args)[0]
    offset = (page - 1) * size
    if offset >= total:
        return total, []
    rows = db.all(
        f"SELECT r.body, i.masked FROM {source} CROSS JOIN records r "
        f"ON r.data_set = i.data_set AND r.key = i.key WHERE {cond} ORDER BY i.key LIMIT ? OFFSET ?",
        *args,
        size,
        offset,
    )
    if drop_boundary and len(rows) == size and offset + size < total:
        rows = rows[:-1]  # defect paging-drops-boundary: the last record of every full page is lost
    if stored_mask:
        return total, [orjson.Fragment(masked or body) for body, masked in rows]
    return total, [loads(body) for body, _ in rows]


_GET_STORED = (
    "SELECT r.body, i.masked FROM records r LEFT JOIN sharing_index i ON i.data_set = r.data_set AND i.key = r.key "
    "WHERE r.data_set = ? AND r.key = ? AND r.deleted = 0"
)


def get_stored(db: Database, ds: DataSet, key: str) -> orjson.Fragment | None:
    """A record as stored for callers without grants (sensitive fields masked), not parsed."""
    row = db.one(_GET_STORED, ds.name, key)
    return None if row is None else orjson.Fragment(row[1] or row[0])

"""Engines that run the audit's SQL. The interface (:class:`Engine`) is what a check needs: the input's data sets as
source views of one column ``_rec`` (the record as JSON text), the code-list tables, the two UDFs of
:mod:`conformance.audit.udfs` under their SQL names, and a way to run SQL of its dialect. DuckDB (embedded, spilling
to disk) is the default; :class:`conformance.audit.spark.SparkEngine` reads the same files into the same views,
registers the same Python functions as Arrow-backed ``pandas_udf`` and runs the same SQL transpiled by SQLGlot
(:mod:`conformance.audit.sql`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from conformance.audit import lines
from conformance.audit.inputs import Source
from conformance.codes import lists
from conformance.contract.datasets import DataSet
from conformance.contract.registry import resolve, schema_uri


class Engine(Protocol):
    name: str
    dialect: str  # SQLGlot dialect of the SQL it runs
    interrupts: tuple[type[BaseException], ...]  # what the engine raises on Ctrl-C (besides KeyboardInterrupt)
    failures: tuple[type[BaseException], ...]  # what it raises when it cannot go on (out of memory, disk full …)
    unreadable: tuple[type[BaseException], ...]  # what it raises on input it cannot read (a truncated Parquet file …)
    temp_directory: Path  # where it spills, and where a CSV file in another encoding is copied as UTF-8

    def load(self, source: Source, ds: DataSet) -> str:
        """A view of the source's records: ``_row`` (the record's number in input order, from 1: files in the order of
        ``source.files``, rows in file order) and ``_rec`` (the record as JSON text); returns its name. The view may
        be readable once only (a stream of JSON Lines): its audit table is built from it right away."""

    def typed_columns(self, view: str) -> dict[str, str] | None:
        """The typed columns of a loaded view (name → DuckDB type) when it has them instead of ``_rec``."""

    def execute(self, sql: str) -> None: ...

    def rows(self, sql: str) -> list[tuple[Any, ...]]: ...

    def describe(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


def code_list_rows() -> dict[str, tuple[tuple[str, str], list[tuple[Any, ...]]]]:
    """The code-list tables the SQL joins: name → ((column, type) …, rows); read from schemas/codelists."""
    catalogue = [(code, lists.catalogue_kind_of(code), item.get("level")) for code, item in lists.catalogue().items()]
    provinces = [(abbr, item["code"]) for abbr, (item, _alt) in lists.province_by_abbr().items()]
    divisions = sorted(lists.division_codes() | set(lists.division_history()))
    return {
        "cl_divisions": ((("code", "VARCHAR"),), [(c,) for c in divisions]),
        "cl_catalogue": ((("code", "VARCHAR"), ("kind", "VARCHAR"), ("level", "VARCHAR")), catalogue),
        "cl_provinces": ((("abbr", "VARCHAR"), ("code", "VARCHAR")), provinces),
    }


def _quote(text: str) -> str:
    """Text inside a SQL string literal."""
    return text.replace("'", "''")


def _files(source: Source) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in source.files) + "]"


def _json_type(ds: DataSet, name: str) -> str | None:
    if name not in ds.properties:
        return None
    kind = resolve(f"{schema_uri(ds.schema)}#/properties/{name}").get("type")
    return kind if isinstance(kind, str) else None


def _csv_value(ds: DataSet, name: str) -> str:
    """A CSV cell (text) as the JSON value the schema expects: numbers and booleans as such when they read as
    such, objects and arrays from their JSON text; anything else stays a string (and fails where it must)."""
    c = '"' + name.replace('"', '""') + '"'
    kind = _json_type(ds, name)
    if kind == "integer":
        return (
            f"CASE WHEN TRY_CAST({c} AS BIGINT) IS NOT NULL THEN to_json(TRY_CAST({c} AS BIGINT)) ELSE to_json({c}) END"
        )
    if kind == "number":
        return (
            f"CASE WHEN TRY_CAST({c} AS DOUBLE) IS NOT NULL THEN to_json(TRY_CAST({c} AS DOUBLE)) ELSE to_json({c}) END"
        )
    if kind == "boolean":
        return f"CASE WHEN lower({c}) IN ('true', 'false') THEN to_json(lower({c}) = 'true') ELSE to_json({c}) END"
    if kind in ("object", "array"):
        return f"CASE WHEN json_valid({c}) THEN {c}::JSON ELSE to_json({c}) END"
    return f"to_json({c})"


class DuckDBEngine:
    """DuckDB embedded: ``memory_limit`` and ``temp_directory`` set so that large inputs spill to disk, one thread
    per core."""

    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, memory_limit: str = "4GB", temp_directory: Path | None = None, threads: int | None = None):
        import duckdb

        from conformance.audit import udfs

        self.interrupts: tuple[type[BaseException], ...] = (duckdb.InterruptException,)
        self.failures: tuple[type[BaseException], ...] = (duckdb.OutOfMemoryException, duckdb.IOException)
        # a file that is not what its name says (no Parquet footer, a cell DuckDB cannot read): that data set is
        # 未测 with the reason, the others are audited
        self.unreadable: tuple[type[BaseException], ...] = (
            duckdb.InvalidInputException,
            duckdb.ConversionException,
            pa.ArrowInvalid,
        )
        self._tmp = None if temp_directory else tempfile.TemporaryDirectory(prefix="tzsb-audit-")
        self.temp_directory = Path(temp_directory or self._tmp.name)  # type: ignore[union-attr]
        self.memory_limit = memory_limit
        self._typed: dict[str, dict[str, str]] = {}
        self._unsized: set[str] = set()  # views of a stream not read yet (see execute)
        self.threads = threads or os.cpu_count() or 1
        # the audit tables live in a database file in the temporary directory, not in memory: DuckDB compresses
        # stored columns (dictionary, FSST for text), where an in-memory table spills its blocks uncompressed (the
        # 21 M-equipment audit spilled over 23 GB before its tables were built)
        self.temp_directory.mkdir(parents=True, exist_ok=True)
        self._database = self.temp_directory / f"audit-{os.getpid()}-{id(self):x}.duckdb"
        self.con = duckdb.connect(str(self._database), config={"memory_limit": memory_limit, "threads": self.threads})
        self.con.execute(f"SET temp_directory = '{self.temp_directory}'")
        self.con.execute("SET preserve_insertion_order = true")
        self.con.execute("SET enable_progress_bar = false")  # the audit reports progress per check itself
        varchar, boolean = duckdb.sqltype("VARCHAR"), duckdb.sqltype("BOOLEAN")
        self.con.create_function(
            "tzsb_identifier_ok", udfs.identifier_ok, [varchar, varchar], boolean, type="arrow", null_handling="special"
        )
        self.con.create_function(
            "tzsb_record_problems",
            udfs.record_problems,
            [varchar, varchar, boolean],
            duckdb.list_type(varchar),
            type="arrow",
            null_handling="special",
        )
        for name, (columns, rows) in code_list_rows().items():
            self.con.execute(f"CREATE TABLE {name} ({', '.join(f'{c} {t}' for c, t in columns)})")
            if rows:
                self.con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' for _ in columns)})", rows)

    def load(self, source: Source, ds: DataSet) -> str:
        view = "src_" + ds.name.replace("-", "_")
        files = _files(source)
        if source.format == "jsonl":
            # every line as validate numbers it (a blank or broken line is a record too), cut in NumPy and scanned
            # by DuckDB on all its threads; a window numbering the lines made the table build one thread
            self.con.register(f"{view}_lines", lines.reader(source.files))
            body = f"SELECT _row, CAST(_rec AS VARCHAR) AS _rec FROM {view}_lines"
            self._unsized.add(view)
        elif source.format == "csv":
            head = f"read_csv({files}, all_varchar = true, header = true, union_by_name = true)"
            names = [r[0] for r in self.con.execute(f"DESCRIBE SELECT * FROM {head}").fetchall()]
            pairs = ", ".join(f"'{_quote(n)}', {_csv_value(ds, n)}" for n in names if n != "filename")
            body = f"SELECT row_number() OVER () AS _row, CAST(json_object({pairs}) AS VARCHAR) AS _rec FROM {head}"
        else:  # the typed columns as they are: the audit table reads them without a detour through JSON text
            head = f"read_parquet({files}, union_by_name = true)"
            described = self.con.execute(f"DESCRIBE SELECT * FROM {head}").fetchall()
            self._typed[view] = {str(n): str(kind) for n, kind, *_ in described if not str(n).startswith("_")}
            names = ", ".join('"' + n.replace('"', '""') + '"' for n in self._typed[view])
            # the row number from each file's own row numbers and the rows before it (Parquet metadata), not a
            # window over the whole input: a window makes the table build one thread
            first, cases = 1, []
            for path in source.files:
                cases.append(f"WHEN '{_quote(str(path))}' THEN {first}")
                first += pq.ParquetFile(path).metadata.num_rows
            scan = f"read_parquet({files}, union_by_name = true, filename = true, file_row_number = true)"
            body = f"SELECT CASE filename {' '.join(cases)} END + file_row_number AS _row, {names} FROM {scan}"
        self.con.execute(f"CREATE OR REPLACE VIEW {view} AS {body}")
        return view

    def typed_columns(self, view: str) -> dict[str, str] | None:
        return self._typed.get(view)

    def _run(self, sql: str) -> Any:
        try:
            return self.con.execute(sql)
        except RuntimeError as exc:  # Ctrl-C while DuckDB runs a query (a Python UDF was running): "Query interrupted"
            if "interrupted" in str(exc).lower():
                raise KeyboardInterrupt from exc
            raise

    def execute(self, sql: str) -> None:
        unsized = {view for view in self._unsized if view in sql}
        if not unsized:
            self._run(sql)
            return
        # DuckDB cannot know how many records a stream holds and takes it for the smaller side of a join: it would
        # build its hash table from every record (the code-list join of the audit table; 21 M equipment ran out of
        # memory). The side is left as written, the lookup built, for the statement that reads the stream (once).
        self._run("SET disabled_optimizers = 'build_side_probe_side'")
        try:
            self._run(sql)
        finally:
            self._run("RESET disabled_optimizers")
            self._unsized -= unsized

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self._run(sql).fetchall()

    def describe(self) -> dict[str, Any]:
        import duckdb

        return {
            "name": self.name,
            "version": duckdb.__version__,
            "memoryLimit": self.memory_limit,
            "threads": self.threads,
            "tempDirectory": str(self.temp_directory),
        }

    def close(self) -> None:
        self.con.close()
        for path in (self._database, self._database.with_name(self._database.name + ".wal")):
            path.unlink(missing_ok=True)
        if self._tmp is not None:
            self._tmp.cleanup()

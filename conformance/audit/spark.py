"""The Apache Spark engine of ``tzsb-conform audit`` (``--engine spark --master URL``): for dumps that outgrow one
machine. The same checks with the same results as :class:`conformance.audit.engine.DuckDBEngine`:

* the same source views: ``_row`` (the record's number in input order) and ``_rec`` (the record as JSON text), read
  from the same JSON Lines (as text lines), CSV or Parquet files;
* the same code-list tables (:func:`conformance.audit.engine.code_list_rows`);
* the same two UDFs: the very functions of :mod:`conformance.audit.udfs`, registered as Spark Arrow UDFs
  (``arrow_udf``, the vectorised kind of ``pandas_udf`` that hands over ``pyarrow.Array`` batches: a batch of values
  crosses to Python as Arrow and goes to the NumPy code of :mod:`conformance.codes.vectorized`);
* the same SQL, written for Spark by SQLGlot (:mod:`conformance.audit.sql`); an audit table is a local checkpoint
  kept by the executors (no warehouse needed on a cluster).

The row number in input order is computed without a global sort: each file split (file, block start) is read by one
task in file order, so within a split ``monotonically_increasing_id`` grows by one per row; the rows per split,
counted once, give each split's first row number.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import orjson

from conformance.audit.engine import code_list_rows
from conformance.audit.inputs import Source
from conformance.contract.datasets import DataSet

DEFAULT_MASTER = "local[*]"
#: Spark's own log: errors only (the audit reports its progress itself)
QUIET_LOG4J = """rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""
#: input bytes per shuffle partition (Spark's own default split size)
BYTES_PER_PARTITION = 128 * 1024 * 1024


class EngineUnavailable(RuntimeError):
    """What the Spark engine needs is not installed: ``missing`` is ``pyspark`` (4.1 or later) or ``java``."""

    def __init__(self, missing: str) -> None:
        super().__init__(missing)
        self.missing = missing


def check_available() -> None:
    """Raise :class:`EngineUnavailable` when pyspark or a Java runtime is missing."""
    if importlib.util.find_spec("pyspark") is None:
        raise EngineUnavailable("pyspark")
    from pyspark.sql import functions

    if not hasattr(functions, "arrow_udf"):  # Arrow UDFs came with pyspark 4.1
        raise EngineUnavailable("pyspark")
    java_home = os.environ.get("JAVA_HOME")
    if not (java_home and (Path(java_home) / "bin" / "java").exists()) and shutil.which("java") is None:
        raise EngineUnavailable("java")


def _spark_memory(limit: str) -> str:
    """``4GB`` → ``4g`` (Spark's size units)."""
    text = limit.strip().lower().replace("ib", "").replace("b", "")
    return text or "1g"


def _arrow_udfs() -> tuple[Any, Any]:
    """``tzsb_identifier_ok`` and ``tzsb_record_problems``: the very Arrow functions of :mod:`conformance.audit.udfs`
    (``pyarrow.Array`` in, ``pyarrow.Array`` out) as Spark Arrow UDFs (``arrow_udf``, pyspark 4.1+: the vectorised
    UDF of ``pandas_udf`` without the pandas conversion, and without needing pandas)."""
    from pyspark.sql.functions import arrow_udf

    from conformance.audit import udfs

    return arrow_udf(udfs.identifier_ok, "boolean"), arrow_udf(udfs.record_problems, "array<string>")


class SparkEngine:
    """A SparkSession (``master``: ``local[*]`` by default, or a cluster URL) running the audit's SQL.

    ``memory_limit`` is the driver's memory (in local mode, all of it); on a cluster the executors' memory is the
    cluster's configuration. ``session``: an existing SparkSession to use (left running by :meth:`close`)."""

    name = "spark"
    dialect = "spark"

    def __init__(
        self,
        master: str | None = None,
        memory_limit: str = "4GB",
        temp_directory: Path | None = None,
        session: Any = None,
    ) -> None:
        check_available()
        from pyspark.sql import SparkSession

        self.interrupts: tuple[type[BaseException], ...] = ()
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException

        self.failures: tuple[type[BaseException], ...] = (PySparkException, Py4JError)
        # Spark reports an unreadable file as a failure of the job (above): the whole audit stops with the reason
        self.unreadable: tuple[type[BaseException], ...] = ()
        self._tmp = None if temp_directory else tempfile.TemporaryDirectory(prefix="tzsb-audit-spark-")
        self.temp_directory = Path(temp_directory or self._tmp.name)  # type: ignore[union-attr]
        self.memory_limit = memory_limit
        self._own = session is None
        if session is None:
            quiet = self.temp_directory / "log4j2.properties"
            quiet.write_text(QUIET_LOG4J, encoding="utf-8")
            try:
                session = (
                    SparkSession.builder.master(master or DEFAULT_MASTER)
                    .appName("tzsb-conform audit")
                    .config("spark.ui.enabled", "false")
                    .config("spark.ui.showConsoleProgress", "false")
                    .config("spark.driver.memory", _spark_memory(memory_limit))
                    .config("spark.driver.extraJavaOptions", f"-Dlog4j.configurationFile=file:{quiet}")
                    .config("spark.local.dir", str(self.temp_directory))
                    .config("spark.sql.warehouse.dir", str(self.temp_directory / "warehouse"))
                    .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                    .config("spark.sql.session.timeZone", "UTC")
                    .config("spark.sql.shuffle.partitions", "4")
                    .config("spark.sql.adaptive.enabled", "true")
                    .getOrCreate()
                )
            except Exception as exc:  # the JVM did not start: almost always no (usable) Java
                if "java" in str(exc).lower():
                    raise EngineUnavailable("java") from exc
                raise
            session.sparkContext.setLogLevel("ERROR")
        self.spark = session
        self.master = session.sparkContext.master
        self._bytes = 0
        identifier_ok, record_problems = _arrow_udfs()
        session.udf.register("tzsb_identifier_ok", identifier_ok)
        session.udf.register("tzsb_record_problems", record_problems)
        for name, (columns, rows) in code_list_rows().items():
            ddl = ", ".join(f"{c} STRING" for c, _type in columns)
            data = [tuple(None if v is None else str(v) for v in row) for row in rows]
            session.createDataFrame(data, ddl).createOrReplaceTempView(name)
        self._cached: list[str] = []

    def _partitions(self, source: Source) -> None:
        """Shuffle partitions by input size: few for a small input (each costs a task), more for a big one."""
        self._bytes += sum(p.stat().st_size for p in source.files)
        cores = self.spark.sparkContext.defaultParallelism
        self.spark.conf.set("spark.sql.shuffle.partitions", str(max(cores, self._bytes // BYTES_PER_PARTITION)))

    def _read(self, source: Source, ds: DataSet) -> Any:
        """The source's records as JSON text (column ``_rec``), with file and split of each row."""
        from pyspark.sql import functions as F

        paths = [str(p) for p in source.files]
        if source.format == "jsonl":
            # every line as it is (a blank or broken line is a record too, as validate counts it)
            df = self.spark.read.text(paths).withColumnRenamed("value", "_rec")
        elif source.format == "csv":
            df = self.spark.read.csv(paths, header=True, inferSchema=False, multiLine=True)
            members = ", ".join(_csv_member(ds, n) for n in df.columns)
            df = df.select(F.expr(f"concat('{{', concat_ws(',', {members}), '}}')").alias("_rec"), "_metadata")
        else:
            df = self.spark.read.parquet(*paths)
            fmt = {"timestampFormat": "yyyy-MM-dd'T'HH:mm:ss'Z'", "ignoreNullFields": "false"}
            df = df.select(F.to_json(F.struct(*[F.col(f"`{n}`") for n in df.columns]), fmt).alias("_rec"), "_metadata")
        return df.select(
            "_rec",
            F.col("_metadata.file_path").alias("_file"),
            F.col("_metadata.file_block_start").alias("_block"),
            F.monotonically_increasing_id().alias("_id"),
        )

    def typed_columns(self, view: str) -> dict[str, str] | None:
        return None  # Spark's views carry the record text (``_rec``)

    def load(self, source: Source, ds: DataSet) -> str:
        from pyspark.sql import functions as F

        self._partitions(source)
        view = "src_" + ds.name.replace("-", "_")
        df = self._read(source, ds)
        order = {str(p.resolve()): i for i, p in enumerate(source.files)}
        splits = df.groupBy("_file", "_block").agg(F.count("*").alias("n"), F.min("_id").alias("first")).collect()
        splits.sort(key=lambda r: (order.get(str(Path(unquote(urlparse(r["_file"]).path)).resolve()), 0), r["_block"]))
        bases, seen = [], 0
        for r in splits:
            bases.append((r["_file"], int(r["_block"]), seen + 1 - int(r["first"])))
            seen += int(r["n"])
        base = self.spark.createDataFrame(bases, "_file STRING, _block LONG, _base LONG")
        rows = df.join(F.broadcast(base), ["_file", "_block"]).select(
            (F.col("_base") + F.col("_id")).alias("_row"), "_rec"
        )
        rows.createOrReplaceTempView(view)
        return view

    def execute(self, sql: str) -> None:
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(sql, read=self.dialect)
        if isinstance(tree, exp.Create) and tree.kind == "TABLE" and tree.expression is not None:
            # a table is computed once and kept by the executors (memory, then disk; no warehouse needed on a
            # cluster), its lineage cut: a cached plan is not matched for a subquery over it (the plan holds
            # monotonically_increasing_id, not deterministic), so a join on it recomputed the whole table
            name = tree.this.sql(dialect=self.dialect)
            df = self.spark.sql(tree.expression.sql(dialect=self.dialect)).localCheckpoint(eager=True)
            df.createOrReplaceTempView(name)
            self._cached.append(name)
            return
        self.spark.sql(sql).collect()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.spark.sql(sql).collect()]

    def describe(self) -> dict[str, Any]:
        import pyspark

        return {
            "name": self.name,
            "version": pyspark.__version__,
            "master": self.master,
            "parallelism": self.spark.sparkContext.defaultParallelism,
            "memoryLimit": self.memory_limit,
            "tempDirectory": str(self.temp_directory),
        }

    def close(self) -> None:
        for name in self._cached:
            self.spark.catalog.dropTempView(name)
        self.spark.catalog.clearCache()
        self._cached = []
        if self._own:
            self.spark.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def _csv_member(ds: DataSet, name: str) -> str:
    """Spark SQL: a CSV cell as the ``"name": value`` member of the record's JSON text, typed as DuckDB's engine types
    it (:func:`conformance.audit.engine._csv_value`): numbers and booleans as such when they read as such, objects
    and arrays from their JSON text, anything else a string; NULL for an empty cell (an absent field)."""
    from conformance.audit.engine import _json_type

    c = "`" + name.replace("`", "``") + "`"
    text = f"regexp_extract(to_json(named_struct('v', {c})), '^[{{]\"v\":(.*)[}}]$', 1)"
    kind = _json_type(ds, name)
    if kind == "integer":
        value = f"CASE WHEN try_cast({c} AS BIGINT) IS NOT NULL THEN CAST(try_cast({c} AS BIGINT) AS STRING) ELSE {text} END"
    elif kind == "number":
        value = f"CASE WHEN try_cast({c} AS DOUBLE) IS NOT NULL THEN CAST(try_cast({c} AS DOUBLE) AS STRING) ELSE {text} END"
    elif kind == "boolean":
        value = f"CASE WHEN lower({c}) IN ('true', 'false') THEN lower({c}) ELSE {text} END"
    elif kind in ("object", "array"):
        valid = f"json_object_keys({c}) IS NOT NULL OR json_array_length({c}) IS NOT NULL"
        value = f"CASE WHEN {valid} THEN {c} ELSE {text} END"
    else:
        value = text
    key = orjson.dumps(name).decode().replace("'", "\\'")
    return f"CASE WHEN {c} IS NOT NULL THEN concat('{key}:', {value}) END"

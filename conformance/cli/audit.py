"""``tzsb-conform audit DIR``: GB/T 36344 data-quality indicators over dumps of the shared data sets
(docs/data-audit.md).

    tzsb-conform audit dumps/ --out reports/audit --as-of 2026-12-01 --memory-limit 4GB
    tzsb-conform audit dumps/ --engine spark --master spark://host:7077

Exit codes: 0 every indicator with a threshold is met (or 未测), 1 some indicator is 不符合, 2 usage error,
130 interrupted (the report is still written, with what finished, marked incomplete).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

from conformance.clock import CHINA

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

MESSAGES: dict[str, tuple[str, str]] = {
    "cmd": (
        "数据质量评价：按 GB/T 36344 的指标（完整性、规范性、准确性、唯一性、一致性、时效性）评价共享数据集的导出数据",
        "data-quality audit: GB/T 36344 indicators (completeness, normativeness, accuracy, uniqueness, consistency, "
        "timeliness) over dumps of the shared data sets",
    ),
    "dir": (
        "输入文件夹：每个数据集一个 <数据集>.jsonl / .csv / .parquet，或一个 <数据集>/ 文件夹",
        "input folder: per data set <data-set>.jsonl / .csv / .parquet, or a folder <data-set>/ of such files",
    ),
    "out": ("报告输出文件夹（默认 reports/audit）", "output folder of the report (default reports/audit)"),
    "as_of": ("评价基准日 YYYY-MM-DD（默认今天，北京时间）", "as-of date YYYY-MM-DD (default today, Beijing time)"),
    "engine": (
        "执行引擎：duckdb（单机，默认）或 spark（Apache Spark，数据超出一台机器时）",
        "engine: duckdb (one machine, default) or spark (Apache Spark, for data that outgrows one machine)",
    ),
    "master": (
        "Spark 主节点 URL（仅 --engine spark；默认 local[*]，即本机全部核心），如 spark://host:7077、yarn",
        "Spark master URL (--engine spark only; default local[*], all cores of this machine), e.g. spark://host:7077, yarn",
    ),
    "err_pyspark": (
        "--engine spark 需要 pyspark 4.1 或更高版本：pip install 'tzsb-conformance[spark]'（或 pip install 'pyspark>=4.1'）",
        "--engine spark needs pyspark 4.1 or later: pip install 'tzsb-conformance[spark]' (or pip install 'pyspark>=4.1')",
    ),
    "err_java": (
        "--engine spark 需要 Java 17 或更高版本（未找到 java，也未设置 JAVA_HOME）：Debian/Ubuntu 上 apt-get install openjdk-17-jre-headless",
        "--engine spark needs Java 17 or later (no java found, no JAVA_HOME): on Debian/Ubuntu apt-get install openjdk-17-jre-headless",
    ),
    "err_master": ("--master 只用于 --engine spark", "--master is for --engine spark only"),
    "memory": (
        "引擎内存上限，超出部分写入临时目录（默认 4GB）",
        "engine memory limit; beyond it spills to disk (default 4GB)",
    ),
    "temp": ("引擎临时目录（默认系统临时目录）", "engine spill directory (default: a system temporary directory)"),
    "samples": ("每项检查列出的不合格记录样例数（默认 5）", "failing records listed per check (default 5)"),
    "no_progress": ("不显示逐项进度", "show no progress per check"),
    "err_dir": ("输入文件夹不存在：{dir}", "no such input folder: {dir}"),
    "err_empty": (
        "输入文件夹中没有任何共享数据集（{names}）",
        "the input folder holds none of the shared data sets ({names})",
    ),
    "err_mixed": ("数据集的文件格式不一：{what}", "a data set in more than one format: {what}"),
    "err_as_of": ("评价基准日格式应为 YYYY-MM-DD：{value}", "the as-of date must be YYYY-MM-DD: {value}"),
    "loading": ("正在载入数据集并建立评价表……", "loading the data sets into audit tables ..."),
    "loaded": ("已载入 {name}：{records} 条记录（{secs:.1f} 秒）", "loaded {name}: {records} records ({secs:.1f} s)"),
    "line": ("[{i}/{n}] {id}  {result}  ({secs:.1f} 秒)", "[{i}/{n}] {id}  {result}  ({secs:.1f} s)"),
    "written": ("报告：{json}，{html}", "report: {json}, {html}"),
    "verdict": (
        "结论：{verdict}（符合 {met}，不符合 {not_met}，未测 {untested}，数值 {figures}）{incomplete}",
        "verdict: {verdict} (met {met}, not met {not_met}, not tested {untested}, figures {figures}){incomplete}",
    ),
    "interrupted_writing": (
        "写报告时收到中断：报告已完整写出",
        "interrupted while writing: the report was written in full",
    ),
    "incomplete": ("；已中断，报告不完整", "; interrupted, the report is incomplete"),
}


def t(key: str, lang: str, **kw: object) -> str:
    zh, en = MESSAGES[key]
    text = en if lang == "en" else zh
    return text.format(**kw) if kw else text


def register(sub: Any, lang: str) -> None:
    """Add ``audit`` to the subcommands of the main parser."""

    a = sub.add_parser("audit", help=t("cmd", lang), description=t("cmd", lang))
    a.add_argument("dir", type=Path, metavar="DIR", help=t("dir", lang))
    a.add_argument("--out", type=Path, default=Path("reports/audit"), metavar="DIR", help=t("out", lang))
    a.add_argument("--as-of", default=None, metavar="DATE", help=t("as_of", lang))
    a.add_argument("--engine", choices=sorted(ENGINES), default="duckdb", help=t("engine", lang))
    a.add_argument("--master", default=None, metavar="URL", help=t("master", lang))
    a.add_argument("--memory-limit", default="4GB", metavar="SIZE", help=t("memory", lang))
    a.add_argument("--temp-directory", type=Path, default=None, metavar="DIR", help=t("temp", lang))
    a.add_argument("--samples", type=int, default=5, metavar="N", help=t("samples", lang))
    a.add_argument("--no-progress", action="store_true", help=t("no_progress", lang))


def _result_text(result: dict[str, Any], lang: str) -> str:
    if result["verdict"] is None:
        value = result.get("value")
        return "—" if value is None else f"{value:.4g}"
    rate = result.get("rate")
    return f"{result['verdict']}" + ("" if rate is None else f" {rate:.2%}")


def _close(engine: Any) -> None:
    """Close the engine, even through a Ctrl-C (its temporary files go with it)."""
    try:
        engine.close()
    except KeyboardInterrupt:
        engine.close()


def run(args: argparse.Namespace, lang: str) -> int:
    from conformance.audit.inputs import InputProblem, discover
    from conformance.audit.report import write
    from conformance.audit.run import NOT_MET, Options, audit
    from conformance.contract.datasets import data_sets

    try:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else dt.datetime.now(CHINA).date()
    except ValueError:
        print(t("err_as_of", lang, value=args.as_of), file=sys.stderr)
        return EXIT_USAGE
    if not args.dir.is_dir():
        print(t("err_dir", lang, dir=args.dir), file=sys.stderr)
        return EXIT_USAGE
    try:
        if not discover(args.dir):
            print(t("err_empty", lang, names=", ".join(data_sets())), file=sys.stderr)
            return EXIT_USAGE
    except InputProblem as exc:
        print(t("err_mixed", lang, what=exc), file=sys.stderr)
        return EXIT_USAGE
    progress = not args.no_progress

    def on_check(i: int, n: int, result: dict[str, Any]) -> None:
        if progress:
            line = t("line", lang, i=i, n=n, id=result["id"], result=_result_text(result, lang), secs=result["seconds"])
            print(line, file=sys.stderr, flush=True)

    def on_load(name: str, records: int, secs: float) -> None:
        if progress:
            print(t("loaded", lang, name=name, records=f"{records:,}", secs=secs), file=sys.stderr, flush=True)

    if args.master and args.engine != "spark":
        print(t("err_master", lang), file=sys.stderr)
        return EXIT_USAGE
    options: dict[str, Any] = {"memory_limit": args.memory_limit, "temp_directory": args.temp_directory}
    if args.engine == "spark":
        from conformance.audit.spark import EngineUnavailable

        try:  # pyspark or Java missing: a usage error that says what to install
            engine = ENGINES["spark"](master=args.master, **options)
        except EngineUnavailable as exc:
            print(t(f"err_{exc.missing}", lang), file=sys.stderr)
            return EXIT_USAGE
    else:
        engine = ENGINES[args.engine](**options)
    started = time.perf_counter()
    try:
        if progress:
            print(t("loading", lang), file=sys.stderr, flush=True)
        report = audit(engine, args.dir, Options(as_of=as_of, samples=max(args.samples, 0)), on_check, on_load)
    finally:
        _close(engine)
    report["seconds"] = round(time.perf_counter() - started, 3)
    report["lang"] = lang
    try:
        json_path, html_path = write(report, args.out, lang)
    except KeyboardInterrupt:  # Ctrl-C while writing: the report is whole, write it again and say it was interrupted
        json_path, html_path = write(report, args.out, lang)
        print(t("interrupted_writing", lang), file=sys.stderr)
        return EXIT_INTERRUPTED
    s = report["summary"]
    print(t("written", lang, json=json_path, html=html_path))
    print(
        t(
            "verdict",
            lang,
            verdict=report["verdict"],
            met=s["符合"],
            not_met=s["不符合"],
            untested=s["未测"],
            figures=s["figures"],
            incomplete="" if report["complete"] else t("incomplete", lang),
        )
    )
    if not report["complete"]:
        return EXIT_INTERRUPTED
    return EXIT_FAIL if report["verdict"] == NOT_MET else EXIT_OK


def _spark(**kw: Any) -> Any:
    """The Spark engine, imported only when asked for (pyspark is an optional extra)."""
    from conformance.audit.spark import SparkEngine

    return SparkEngine(**kw)


def _duckdb(**kw: Any) -> Any:
    from conformance.audit.engine import DuckDBEngine

    return DuckDBEngine(**kw)


#: The engines ``--engine`` names.
ENGINES: dict[str, Any] = {"duckdb": _duckdb, "spark": _spark}

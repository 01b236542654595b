"""``tzsb-conform audit DIR``: GB/T 36344 data-quality indicators over dumps of the shared data sets
(docs/data-audit.md); ``tzsb-conform audit --target FILE``: the same over the data sets pulled from a sharing target
through its change feed (:mod:`conformance.harness.pull`).

    tzsb-conform audit dumps/ --out reports/audit --as-of 2026-12-01 --memory-limit 4GB
    tzsb-conform audit dumps/ --engine spark --master spark://host:7077
    tzsb-conform audit --target target.toml --out reports/audit
    tzsb-conform audit dumps/ --out reports/2026-12-02 --previous reports/2026-12-01/audit.json

``--previous FILE`` compares tonight's report with the previous night's (:mod:`conformance.audit.trend`): regressions,
new failures, fixes, checks newly 未测 and data sets that stopped delivering or dropped sharply go into the report
(``previous``, each check's ``change``) and one line of the summary. They do not change the exit code: it keeps
saying whether tonight's data meets the thresholds (a regression that crosses one is already 不符合, exit 1);
a previous file that is not an audit report is a usage error (2) before anything is audited.

Exit codes (``--previous`` or not): 0 every indicator with a threshold is met (or 未测) and, with ``--target``, every data set the credential
may read was pulled in full; 1 some indicator is 不符合; 2 usage error, or (``--target``) some data set could not be
pulled in full or none could be pulled (the report is still written, their checks 未测 with the reason);
2 also when the engine cannot go on (out of memory, disk full: the report is still written, with what finished and
the engine's error under ``stopped``); 130 interrupted (the report is still written, with what finished, marked
incomplete; an interrupted pull writes its ``pull.json`` and audits nothing).
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
        "输入文件夹：每个数据集一个 <数据集>.jsonl / .csv / .parquet，或一个 <数据集>/ 文件夹（与 --target 二选一）",
        "input folder: per data set <data-set>.jsonl / .csv / .parquet, or a folder <data-set>/ of such files "
        "(or --target)",
    ),
    "target": (
        "目标文件（TOML，见 docs/target-file.md）：经共享平台（[urls] sharing）的增量同步拉取凭证可读的全部共享数据集，"
        "再评价（与 DIR 二选一）",
        "target file (TOML, see docs/target-file.md): pull every shared data set the credential may read through the "
        "change feed of its sharing platform ([urls] sharing), then audit them (or DIR)",
    ),
    "client": (
        "以目标文件中 [clients.NAME] 的凭证拉取（默认 [credentials]）",
        "pull as the client [clients.NAME] of the target file (default: [credentials])",
    ),
    "pull_dir": (
        "拉取的数据写入此文件夹（默认 <--out>/pulled）",
        "folder the pulled data goes to (default <--out>/pulled)",
    ),
    "pull_timeout": (
        "每个数据集拉取的时间上限（秒，默认 1800）",
        "time bound of the pull of one data set (seconds, default 1800)",
    ),
    "pull_pages": ("每个数据集最多拉取的页数（默认 100000）", "most pages pulled of one data set (default 100000)"),
    "err_source": (
        "须给出输入文件夹 DIR 或 --target，二者只能取一",
        "give an input folder DIR or --target, one of the two",
    ),
    "err_pull_only": (
        "--client、--pull-dir、--pull-timeout、--pull-pages 只用于 --target",
        "--client, --pull-dir, --pull-timeout and --pull-pages are for --target only",
    ),
    "err_bound": ("--pull-timeout 与 --pull-pages 须为正数", "--pull-timeout and --pull-pages must be positive"),
    "err_target": ("目标文件无法使用：{why}", "the target file cannot be used: {why}"),
    "err_no_sharing": (
        "目标文件没有共享平台的地址（[urls] sharing），无从拉取",
        "the target file gives no sharing platform URL ([urls] sharing) to pull from",
    ),
    "err_client": ("目标文件中没有 [clients.{name}]", "the target file has no [clients.{name}]"),
    "err_pull_dir": (
        "拉取文件夹中已有不是拉取写入的数据集文件，不会覆盖（换一个 --pull-dir）：{files}",
        "the pull folder holds data set files no pull wrote; they are not overwritten (choose another --pull-dir): "
        "{files}",
    ),
    "pulling": (
        "正在经增量同步从 {url} 拉取共享数据集（凭证 {client}）……",
        "pulling the shared data sets through the change feed of {url} (as {client}) ...",
    ),
    "pull_running": (
        "  {name}：已读 {changes} 条变更，{pages} 页（{secs:.0f} 秒）……",
        "  {name}: {changes} changes read, {pages} pages ({secs:.0f} s) ...",
    ),
    "pull_complete": (
        "  {name}：{records} 条记录（{changes} 条变更，其中删除 {deletions}；{pages} 页，{secs:.1f} 秒）",
        "  {name}: {records} records ({changes} changes, {deletions} deletions; {pages} pages, {secs:.1f} s)",
    ),
    "pull_not": (
        "  {name}：{status}（{pages} 页，{secs:.1f} 秒）：{reason}",
        "  {name}: {status} ({pages} pages, {secs:.1f} s): {reason}",
    ),
    "st_refused": ("被拒绝，未拉取", "refused, not pulled"),
    "st_failed": ("失败，未拉取", "failed, not pulled"),
    "st_incomplete": ("中途停止，不完整，未评价", "stopped early, incomplete, not audited"),
    "as_above": ("同上", "as above"),
    "pull_written": ("拉取记录：{path}", "pull account: {path}"),
    "pull_partial": (
        "拉取不完整：{names} 未能完整拉取，其检查为未测（原因见报告）",
        "the pull is incomplete: {names} could not be pulled in full; their checks are 未测 (reasons in the report)",
    ),
    "pull_nothing": ("凭证未能拉取到任何数据集", "no data set could be pulled with this credential"),
    "pull_interrupted": (
        "拉取被中断：拉取记录已写出（{path}），未作评价",
        "pull interrupted: its account was written ({path}); nothing was audited",
    ),
    "previous": (
        "上一次（如昨晚）的 audit.json：按检查标识逐项对比，报告退步、新增不符合、已修复、新变为未测，以及停止交付或记录数骤降的数据集与省份"
        "（规则见 data-quality.yaml 的 trend）；不改变退出码",
        "the previous (e.g. last night's) audit.json: compared check by check (by id); regressions, new failures, fixes, "
        "checks newly not tested, and data sets and provinces that stopped delivering or dropped sharply are reported "
        "(rules: trend of data-quality.yaml); the exit code is not changed",
    ),
    "err_prev_unreadable": ("无法读取上次的报告 {path}：{why}", "cannot read the previous report {path}: {why}"),
    "err_prev_not-json": (
        "上次的报告 {path} 不是 JSON：{why}",
        "the previous report {path} is not JSON: {why}",
    ),
    "err_prev_not-report": (
        "{path} 不是评价报告（不符合 audit-report.schema.json）：{why}",
        "{path} is not an audit report (it breaks audit-report.schema.json): {why}",
    ),
    "trend": (
        "与上次（{as_of}）相比：退步 {regressions}，新增不符合 {new}，已修复 {fixed}，新变为未测 {untested}；"
        "停止交付或骤降的数据集 {sets}，省份 {provinces}",
        "compared with the previous run ({as_of}): regressions {regressions}, new failures {new}, fixed {fixed}, "
        "newly not tested {untested}; data sets stopped or dropped {sets}, provinces {provinces}",
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
    "not_read_name": (
        "注意：未读取 {file}：不是任何数据集的名称（数据集名称见 x-data-sets，如 equipment、units）",
        "note: {file} not read: no data set has this name (names as in x-data-sets, e.g. equipment, units)",
    ),
    "not_read_format": (
        "注意：未读取 {file}：只读取 .jsonl、.ndjson、.csv（也可 .gz 压缩）与 .parquet",
        "note: {file} not read: only .jsonl, .ndjson, .csv (also gzip-compressed, .gz) and .parquet are read",
    ),
    "unreadable": (
        "错误：数据集 {name} 的文件无法读取（{error}：{message}）；其检查为未测。",
        "error: the files of data set {name} could not be read ({error}: {message}); its checks are not tested.",
    ),
    "incomplete": ("；已中断，报告不完整", "; interrupted, the report is incomplete"),
    "incomplete_stopped": ("；引擎中途停止，报告不完整", "; the engine stopped, the report is incomplete"),
    "stopped": (
        "错误：评价引擎无法继续（{error}：{message}）；报告只含已完成的检查。可加大 --memory-limit，或用 "
        "--temp-directory 指向空间更大的磁盘。",
        "error: the audit engine could not go on ({error}: {message}); the report holds the checks finished only. "
        "Raise --memory-limit, or point --temp-directory at a disk with more room.",
    ),
}


def t(key: str, lang: str, **kw: object) -> str:
    zh, en = MESSAGES[key]
    text = en if lang == "en" else zh
    return text.format(**kw) if kw else text


def register(sub: Any, lang: str) -> None:
    """Add ``audit`` to the subcommands of the main parser."""

    a = sub.add_parser("audit", help=t("cmd", lang), description=t("cmd", lang))
    a.add_argument("dir", type=Path, nargs="?", default=None, metavar="DIR", help=t("dir", lang))
    a.add_argument("--target", type=Path, default=None, metavar="FILE", help=t("target", lang))
    a.add_argument("--client", default=None, metavar="NAME", help=t("client", lang))
    a.add_argument("--pull-dir", type=Path, default=None, metavar="DIR", help=t("pull_dir", lang))
    a.add_argument("--pull-timeout", type=float, default=None, metavar="S", help=t("pull_timeout", lang))
    a.add_argument("--pull-pages", type=int, default=None, metavar="N", help=t("pull_pages", lang))
    a.add_argument("--out", type=Path, default=Path("reports/audit"), metavar="DIR", help=t("out", lang))
    a.add_argument("--as-of", default=None, metavar="DATE", help=t("as_of", lang))
    a.add_argument("--previous", type=Path, default=None, metavar="FILE", help=t("previous", lang))
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


def _input_folder(args: argparse.Namespace, lang: str) -> int | None:
    """Check the input folder DIR (None: it can be audited; else the exit code)."""
    from conformance.audit.inputs import InputProblem, discover
    from conformance.contract.datasets import data_sets

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
    return None


def _load_target(args: argparse.Namespace, lang: str) -> Any:
    """The target of ``--target`` (an int: the exit code of a target that cannot be used)."""
    from conformance.harness.target import load_target

    bad_timeout = args.pull_timeout is not None and args.pull_timeout <= 0
    if bad_timeout or (args.pull_pages is not None and args.pull_pages < 1):
        print(t("err_bound", lang), file=sys.stderr)
        return EXIT_USAGE
    try:
        target = load_target(str(args.target), lang=lang)
    except (OSError, ValueError) as exc:
        print(t("err_target", lang, why=exc), file=sys.stderr)
        return EXIT_USAGE
    if "sharing" not in target.urls:
        print(t("err_no_sharing", lang), file=sys.stderr)
        return EXIT_USAGE
    if args.client is not None and target.client(args.client) is None:
        print(t("err_client", lang, name=args.client), file=sys.stderr)
        return EXIT_USAGE
    return target


def _pull(args: argparse.Namespace, target: Any, folder: Path, lang: str, progress: bool) -> Any:
    """Pull the target's data sets into ``folder`` (an int: the exit code of a pull that could not start or was
    interrupted)."""
    from conformance.harness.pull import COMPLETE, PULL_FILE, DataSetPull, Limits, PullProblem, pull

    defaults = Limits()
    limits = Limits(
        seconds=args.pull_timeout if args.pull_timeout is not None else defaults.seconds,
        pages=args.pull_pages if args.pull_pages is not None else defaults.pages,
    )

    said: list[str | None] = [None]  # the reason last printed: the same one again is "as above"

    def on_progress(one: DataSetPull, done: bool) -> None:
        if not progress and not (done and one.status != COMPLETE):
            return  # a data set not pulled is said even with --no-progress
        kw = {"name": one.name, "pages": one.pages, "secs": one.seconds}
        if not done:
            line = t("pull_running", lang, changes=f"{one.changes:,}", **kw)
        elif one.status == COMPLETE:
            line = t(
                "pull_complete",
                lang,
                records=f"{one.records:,}",
                changes=f"{one.changes:,}",
                deletions=f"{one.deletions:,}",
                **kw,
            )
        else:
            reason = t("as_above", lang) if one.reason == said[0] else one.reason
            said[0] = one.reason
            line = t("pull_not", lang, status=t(f"st_{one.status}", lang), reason=reason, **kw)
        print(line, file=sys.stderr, flush=True)

    creds = target.client(args.client) if args.client else target.credentials
    if progress:
        who = creds.client_id if creds else "—"
        print(t("pulling", lang, url=target.url("sharing"), client=who), file=sys.stderr, flush=True)
    try:
        return pull(target, folder, client=args.client, limits=limits, on_progress=on_progress)
    except PullProblem as exc:
        print(t("err_pull_dir", lang, files=exc), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(t("pull_interrupted", lang, path=folder / PULL_FILE), file=sys.stderr)
        return EXIT_INTERRUPTED


def run(args: argparse.Namespace, lang: str) -> int:
    from conformance.audit.report import write
    from conformance.audit.run import NOT_MET, Options, audit

    try:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else dt.datetime.now(CHINA).date()
    except ValueError:
        print(t("err_as_of", lang, value=args.as_of), file=sys.stderr)
        return EXIT_USAGE
    if (args.dir is None) == (args.target is None):
        print(t("err_source", lang), file=sys.stderr)
        return EXIT_USAGE
    pull_options = (args.client, args.pull_dir, args.pull_timeout, args.pull_pages)
    if args.target is None and any(v is not None for v in pull_options):
        print(t("err_pull_only", lang), file=sys.stderr)
        return EXIT_USAGE
    if args.master and args.engine != "spark":
        print(t("err_master", lang), file=sys.stderr)
        return EXIT_USAGE
    previous: dict[str, Any] | None = None
    if args.previous is not None:  # before the audit: a wrong file is said at once, not after hours of work
        from conformance.audit.trend import NotAReport, load_previous

        try:
            previous = load_previous(args.previous)
        except NotAReport as exc:
            print(t(f"err_prev_{exc.kind}", lang, path=args.previous, why=exc.detail), file=sys.stderr)
            return EXIT_USAGE
    progress = not args.no_progress
    pulled: Any = None
    if args.target is None:
        problem = _input_folder(args, lang)
        if problem is not None:
            return problem
        folder = args.dir
    else:
        target = _load_target(args, lang)
        if isinstance(target, int):
            return target
        folder = args.pull_dir if args.pull_dir is not None else args.out / "pulled"
        pulled = _pull(args, target, folder, lang, progress)
        if isinstance(pulled, int):
            return pulled

    def on_check(i: int, n: int, result: dict[str, Any]) -> None:
        if progress:
            line = t("line", lang, i=i, n=n, id=result["id"], result=_result_text(result, lang), secs=result["seconds"])
            print(line, file=sys.stderr, flush=True)

    def on_load(name: str, records: int, secs: float) -> None:
        if progress:
            print(t("loaded", lang, name=name, records=f"{records:,}", secs=secs), file=sys.stderr, flush=True)

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
        report = audit(engine, folder, Options(as_of=as_of, samples=max(args.samples, 0)), on_check, on_load)
    finally:
        _close(engine)
    if pulled is not None:
        from conformance.audit.pulled import annotate

        annotate(report, pulled.as_dict())
    if previous is not None:
        from conformance.audit.trend import compare

        compare(report, previous, str(args.previous))
    report["seconds"] = round(time.perf_counter() - started, 3)
    report["lang"] = lang
    try:
        json_path, html_path = write(report, args.out, lang)
    except KeyboardInterrupt:  # Ctrl-C while writing: the report is whole, write it again and say it was interrupted
        json_path, html_path = write(report, args.out, lang)
        print(t("interrupted_writing", lang), file=sys.stderr)
        return EXIT_INTERRUPTED
    s = report["summary"]
    if pulled is not None:
        print(t("pull_written", lang, path=folder / "pull.json"))
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
            incomplete=""
            if report["complete"]
            else t("incomplete_stopped" if report.get("stopped") else "incomplete", lang),
        )
    )
    if previous is not None:
        n = report["previous"]["counts"]
        print(
            t(
                "trend",
                lang,
                as_of=previous["asOf"],
                regressions=n["regressions"],
                new=n["newFailures"],
                fixed=n["fixed"],
                untested=n["newlyUntested"],
                sets=n["dataSetsMissing"] + n["dataSetsDropped"],
                provinces=n["provincesStopped"] + n["provincesDropped"],
            )
        )
    for f in report.get("notRead", ()):
        print(t(f"not_read_{f['why']}", lang, file=f["file"]), file=sys.stderr)
    unreadable = [d for d in report["dataSets"] if "unreadable" in d]
    for d in unreadable:
        print(t("unreadable", lang, name=d["name"], **d["unreadable"]), file=sys.stderr)
    if report.get("stopped"):
        print(t("stopped", lang, **report["stopped"]), file=sys.stderr)
        return EXIT_USAGE
    if not report["complete"]:
        return EXIT_INTERRUPTED
    if report["verdict"] == NOT_MET:
        return EXIT_FAIL
    if unreadable:  # nothing 不符合 among what was read, but not all of the input was read: no verdict to give
        return EXIT_USAGE
    if pulled is not None:
        short = [d.name for d in pulled.data_sets if d.status not in ("complete", "refused")]
        if short or pulled.interrupted:
            print(t("pull_partial", lang, names=", ".join(short)), file=sys.stderr)
            return EXIT_USAGE
        if not any(d.status == "complete" for d in pulled.data_sets):
            print(t("pull_nothing", lang), file=sys.stderr)
            return EXIT_USAGE
    return EXIT_OK


def _spark(**kw: Any) -> Any:
    """The Spark engine, imported only when asked for (pyspark is an optional extra)."""
    from conformance.audit.spark import SparkEngine

    return SparkEngine(**kw)


def _duckdb(**kw: Any) -> Any:
    from conformance.audit.engine import DuckDBEngine

    return DuckDBEngine(**kw)


#: The engines ``--engine`` names.
ENGINES: dict[str, Any] = {"duckdb": _duckdb, "spark": _spark}

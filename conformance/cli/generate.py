"""``tzsb-conform generate``: national-scale data sets of the sharing contract (units, equipment, use
registrations, inspection reports) with seeded defects and an exact answer key (docs/national-data.md).

    tzsb-conform generate --equipment 1000000 --out /data/national --format both --seed 7

``register(subparsers, lang)`` adds the subcommand; ``run(args, lang)`` runs it
(exit 0: written; 2: usage error).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

from conformance.cli.progress import interval_from_env

EXIT_OK, EXIT_USAGE = 0, 2

MESSAGES: dict[str, tuple[str, str]] = {
    "cmd": (
        "生成全国规模的共享数据集（单位、特种设备、使用登记、检验报告），按给定比例植入缺陷并写出精确的答案文件 truth.json",
        "generate national-scale sharing data sets (units, equipment, use registrations, inspection reports) with "
        "defects seeded at given rates and an exact answer key, truth.json",
    ),
    "equipment": ("特种设备记录数（单位约为其 1/8，使用登记与检验报告随设备生成）", "number of equipment records "
                  "(units about 1/8 of it; registrations and reports follow the equipment)"),
    "out": ("输出目录（<目录>/<数据集>/part-NNNNN.parquet 与 truth.json）", "output folder "
            "(<dir>/<data-set>/part-NNNNN.parquet and truth.json)"),
    "format": ("输出格式：parquet（默认）、jsonl（只留 JSON Lines）或 both", "output: parquet (default), jsonl (JSON "
               "Lines only) or both"),
    "seed": ("随机种子（同一种子生成相同的文件；默认 0）", "random seed (the same seed writes the same files; default 0)"),
    "as_of": ("生成基准日 YYYY-MM-DD（数据中没有晚于它的日期；默认 {default}）", "the generation's date YYYY-MM-DD "
              "(no date in clean data is later; default {default})"),
    "defect": ("缺陷比例 KIND=RATE（检查标识=比例，可重复；--list-defects 列出全部及默认比例）", "defect rate KIND=RATE "
               "(check id = rate, repeatable; --list-defects lists them with their default rates)"),
    "no_defects": ("不植入任何缺陷", "seed no defect at all"),
    "list_defects": ("列出全部缺陷种类及其默认比例", "list every defect kind with its default rate"),
    "units_ratio": ("每条设备对应的单位数（默认 0.125）", "units per equipment record (default 0.125)"),
    "chunk": ("每个 Parquet 分片的设备行数（默认 1000000；决定内存上限）", "equipment rows per Parquet part "
              "(default 1000000; bounds the memory used)"),
    "no_progress": ("不显示进度", "show no progress"),
    "progress": ("生成进度：{name} 已写 {done:,} 条（用时 {secs:.1f} 秒）", "progress: {name}: {done:,} records written "
                 "({secs:.1f} s)"),
    "done": ("已生成：{out}（用时 {secs:.1f} 秒）", "generated: {out} ({secs:.1f} s)"),
    "records": ("  {name}: {count:,} 条", "  {name}: {count:,} records"),
    "defects": ("  植入缺陷 {kinds} 种，共 {count:,} 条记录（见 truth.json）", "  {kinds} defect kinds seeded in "
                "{count:,} records (see truth.json)"),
    "err.defect": ("缺陷参数有误：{why}", "bad defect option: {why}"),
    "err.as_of": ("--as-of 应为 YYYY-MM-DD：{value}", "--as-of must be YYYY-MM-DD: {value}"),
    "err.equipment": ("--equipment 应为正整数", "--equipment must be a positive integer"),
}  # fmt: skip


def tr(key: str, lang: str, **kw: Any) -> str:
    zh, en = MESSAGES[key]
    text = en if lang == "en" else zh
    return text.format(**kw) if kw else text


def register(subparsers: Any, lang: str) -> argparse.ArgumentParser:
    from conformance.datagen.national.frames import Plan

    default_as_of = Plan(1).as_of.isoformat()
    p = subparsers.add_parser("generate", help=tr("cmd", lang), description=tr("cmd", lang))
    p.add_argument("--equipment", type=int, default=None, metavar="N", help=tr("equipment", lang))
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help=tr("out", lang))
    p.add_argument("--format", choices=["parquet", "jsonl", "both"], default="parquet", help=tr("format", lang))
    p.add_argument("--seed", type=int, default=0, help=tr("seed", lang))
    p.add_argument("--as-of", default=default_as_of, metavar="DATE", help=tr("as_of", lang, default=default_as_of))
    p.add_argument("--defect", action="append", default=[], metavar="KIND=RATE", help=tr("defect", lang))
    p.add_argument("--no-defects", action="store_true", help=tr("no_defects", lang))
    p.add_argument("--list-defects", action="store_true", help=tr("list_defects", lang))
    p.add_argument("--units-per-equipment", type=float, default=0.125, metavar="R", help=tr("units_ratio", lang))
    p.add_argument("--chunk-rows", type=int, default=1_000_000, metavar="N", help=tr("chunk", lang))
    p.add_argument("--no-progress", action="store_true", help=tr("no_progress", lang))
    return p


def _rates(args: argparse.Namespace) -> dict[str, float]:
    from conformance.datagen.national.defects import default_rates

    rates = {k: 0.0 for k in default_rates()} if args.no_defects else default_rates()
    for item in args.defect:
        kind, sep, value = item.partition("=")
        if not sep:
            raise ValueError(item)
        rates[kind.strip()] = float(value)
    return rates


def run(args: argparse.Namespace, lang: str) -> int:
    from conformance.datagen.national import defects
    from conformance.datagen.national.frames import Plan
    from conformance.datagen.national.generate import generate

    if args.list_defects:
        for k in defects.KINDS:
            print(f"{k.id:<62} {k.default_rate:<6g} {k.en if lang == 'en' else k.zh}")
        return EXIT_OK
    if not args.equipment or args.equipment < 1 or args.out is None:
        print(tr("err.equipment", lang), file=sys.stderr)
        return EXIT_USAGE
    try:
        as_of = dt.date.fromisoformat(args.as_of)
    except ValueError:
        print(tr("err.as_of", lang, value=args.as_of), file=sys.stderr)
        return EXIT_USAGE
    try:
        rates = _rates(args)
    except ValueError as exc:
        print(tr("err.defect", lang, why=exc), file=sys.stderr)
        return EXIT_USAGE
    problems = defects.check_rates(rates)
    if problems:
        print(tr("err.defect", lang, why="; ".join(problems)), file=sys.stderr)
        return EXIT_USAGE
    plan = Plan(
        equipment=args.equipment,
        seed=args.seed,
        as_of=as_of,
        units_per_equipment=args.units_per_equipment,
        chunk_rows=max(1, args.chunk_rows),
        rates=rates,
    )
    start = time.perf_counter()
    interval = interval_from_env(lang)
    shown: dict[str, float] = {}

    def report(name: str, done: int) -> None:
        now = time.perf_counter()
        if args.no_progress or now - shown.get(name, -1e9) < min(interval, 1.0):
            return
        shown[name] = now
        print(tr("progress", lang, name=name, done=done, secs=now - start), file=sys.stderr, flush=True)

    doc = generate(plan, args.out, args.format, report)
    print(tr("done", lang, out=args.out, secs=time.perf_counter() - start))
    for name, count in doc["records"].items():
        print(tr("records", lang, name=name, count=count))
    seeded = [d for d in doc["defects"].values() if d["count"]]
    print(tr("defects", lang, kinds=len(seeded), count=sum(d["count"] for d in seeded)))
    return EXIT_OK

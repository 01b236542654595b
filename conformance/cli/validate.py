"""``tzsb-conform validate``: a code, a JSON or XML file, the text form of the dossier metadata, or a JSON Lines dump.

A long validation shows its progress on standard error (:mod:`conformance.cli.progress`): the record loop
here reports the records done every ``progress.STEP`` records; with ``--jobs N`` each worker process keeps its
count in shared memory and the main process reports the sum while it waits.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from io import StringIO
from pathlib import Path
from typing import Any, TextIO

from conformance.check.files import InputError, JsonlSummary, Verdict, check_json_file, iter_jsonl, jsonl_parts
from conformance.cli.progress import REFRESH_S, STEP, Progress
from conformance.contract import documents as contracts
from conformance.i18n import t

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
_JSONL_SUFFIXES = {".jsonl", ".ndjson", ".jsonlines"}


def _usage(msg: str) -> int:
    print(msg, file=sys.stderr)
    return EXIT_USAGE


def _json_line(out: TextIO, record: dict[str, Any]) -> None:
    out.write(json.dumps(record, ensure_ascii=False) + "\n")


def validate_code(kind: str, value: str, *, strict: bool, lang: str, out: TextIO, output: str = "text") -> int:
    from conformance.codes import KINDS, check

    if kind not in KINDS:
        return _usage(t("err.unknown_kind", lang, kind=kind, kinds=", ".join(KINDS)))
    result = check(kind, value, strict=strict)
    title = KINDS[kind].title_en if lang == "en" else KINDS[kind].title_zh
    if output == "jsonl":
        _json_line(
            out,
            {
                "kind": kind,
                "value": value,
                "valid": result.ok,
                "mode": result.mode,
                "message": result.message(lang),
                "parts": [{"name": p.name_en if lang == "en" else p.name_zh, "value": p.value} for p in result.parts],
                "problems": [
                    {"part": q.part, "severity": q.severity, "message": q.en if lang == "en" else q.zh}
                    for q in result.problems
                ],
            },
        )
    else:
        key = "code.valid" if result.ok else "code.invalid"
        why = result.reason(lang)
        if result.ok and why:
            why = f", with a warning: {why}" if lang == "en" else f"，但有警告：{why}"
        out.write(t(key, lang, kind=title, value=value, why=why) + "\n")
        out.write("  " + t("rule.issued" if strict else "rule.held", lang) + "\n")
        for part in result.parts:
            out.write(f"  {part.name_en if lang == 'en' else part.name_zh}: {part.value}\n")
        for q in result.problems:
            if result.ok or q.severity != "error":
                out.write(f"  [{q.severity}] {q.en if lang == 'en' else q.zh}\n")
    return EXIT_OK if result.ok else EXIT_FAIL


def _resolve_json_ref(name: str) -> str | None:
    from conformance.contract.registry import schema_uri

    try:
        schema_uri(name)
    except KeyError:
        return None
    return name


def _available(lang: str) -> str:
    return ", ".join(contracts.json_schema_names() + contracts.xsd_names())


def _write_verdict(out: TextIO, output: str, verdict: Verdict, lang: str, max_errors: int, **where: object) -> None:
    if output == "jsonl":
        rec = {**where, "valid": verdict.ok}
        if not verdict.ok:
            rec["problem"] = verdict.problem
            rec["errors"] = [e.as_dict(lang) for e in verdict.errors[:max_errors]]
        _json_line(out, rec)
        return
    if "line" in where:
        key = "line.valid" if verdict.ok else "line.invalid"
        out.write(t(key, lang, n=where["line"], why=verdict.why(lang, max_errors)) + "\n")
    else:
        out.write((t("valid", lang) if verdict.ok else verdict.why(lang, max_errors)) + "\n")


def _write_jsonl(
    path: Path,
    ref: str,
    out: TextIO,
    *,
    strict: bool,
    lang: str,
    output: str,
    failures_only: bool,
    max_errors: int,
    part: tuple[int, int, int] | None = None,
    report: Callable[[int], None] | None = None,
) -> JsonlSummary:
    """Write the verdicts of a JSON Lines file (or of one part of it) and return the counts; ``report``
    is given the lines done in this pass every ``STEP`` lines."""
    summary = JsonlSummary()
    sink = StringIO()
    before = part[2] - 1 if part else 0  # lines of the file before this part
    every = STEP - 1
    for n, verdict in iter_jsonl(path, ref, summary, lang=lang, strict=strict, part=part):
        if not n & every and report is not None:
            report(n - before)
        if failures_only and verdict.ok:
            continue
        _write_verdict(sink, output, verdict, lang, max_errors, line=n)
        if sink.tell() > 1 << 16:
            out.write(sink.getvalue())
            sink.seek(0)
            sink.truncate()
    out.write(sink.getvalue())
    return summary


#: in a worker process of ``--jobs``: the lines done of every part, then a stop flag, shared with the main process
_SHARED: Any = None


class _Stopped(Exception):
    """A worker of ``--jobs`` told to stop (the main process was interrupted or its output closed)."""


def _share(shared: Any) -> None:
    """Initialiser of the worker processes (shared memory is handed over when a process starts)."""
    global _SHARED
    _SHARED = shared


def _count_into(slot: int) -> Callable[[int], None]:
    shared = _SHARED

    def report(done: int) -> None:
        shared[slot] = done
        if shared[-1]:
            raise _Stopped

    return report


def _jsonl_part(
    path: Path, ref: str, part: tuple[int, int, int], slot: int, into: str, opts: dict[str, Any]
) -> tuple[int, int]:
    """One worker of ``--jobs``: the verdicts of one part into a file of its own."""
    with open(into, "w", encoding="utf-8") as fh:
        summary = _write_jsonl(path, ref, fh, part=part, report=_count_into(slot), **opts)
    return summary.total, summary.ok


def _parallel_jsonl(
    path: Path, ref: str, out: TextIO, jobs: int, progress: Progress | None = None, **opts: Any
) -> JsonlSummary:
    """``--jobs N`` (N > 1; else one pass in this process): the file cut at line starts into N parts, one process
    each; the verdicts are written in file order (each part waits in a temporary file), the counts added up. The
    workers keep their line counts in shared memory (the progress adds them up) and stop early when the main
    process is interrupted or its output is closed (a stop flag there, read at each count)."""
    parts = jsonl_parts(path, jobs) if jobs > 1 else []
    if len(parts) < 2:
        return _write_jsonl(path, ref, out, report=progress.update if progress else None, **opts)
    start = time.perf_counter()
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    shared = context.RawArray("q", len(parts) + 1)  # lines done per part, then the stop flag
    summary = JsonlSummary()
    with (
        tempfile.TemporaryDirectory(prefix="tzsb-validate-") as tmp,
        ProcessPoolExecutor(len(parts), mp_context=context, initializer=_share, initargs=(shared,)) as pool,
    ):
        files = [str(Path(tmp) / f"part-{i}.txt") for i in range(len(parts))]
        futures = [
            pool.submit(_jsonl_part, path, ref, part, slot, into, opts)
            for slot, (part, into) in enumerate(zip(parts, files, strict=True))
        ]
        try:
            for future, into in zip(futures, files, strict=True):
                while True:
                    try:
                        total, ok = future.result(timeout=REFRESH_S if progress else None)
                        break
                    except FutureTimeout:
                        if progress:
                            progress.update(sum(shared[:-1]))
                with open(into, encoding="utf-8") as fh:
                    shutil.copyfileobj(fh, out)
                summary.total += total
                summary.ok += ok
        except BaseException:
            shared[-1] = 1  # the workers stop at their next count instead of finishing their parts
            raise
    summary.seconds = time.perf_counter() - start
    return summary


def validate_file(
    path: Path,
    schema: str,
    *,
    strict: bool,
    lang: str,
    out: TextIO,
    output: str = "text",
    failures_only: bool = False,
    max_errors: int = 5,
    jobs: int = 1,
    progress: Progress | None = None,
) -> int:
    """Validate one file: an XML or JSON document, the text form of the dossier metadata (``*.txt``, §9.3.2), or a
    JSON Lines dump (streamed; ``progress`` follows it)."""
    is_xml = path.suffix.lower() == ".xml" or schema in contracts.xsd_names()
    is_text = path.suffix.lower() == ".txt"
    if is_xml or is_text:
        from conformance.check import metadata_text
        from conformance.check.xsd import validate_xml

        names = [metadata_text.SCHEMA] if is_text else contracts.xsd_names()
        if schema not in names:
            return _usage(t("err.unknown_schema", lang, schema=schema, names=", ".join(names)))
        if not path.is_file():
            return _usage(t("err.no_file", lang, file=path))
        if progress:
            progress.document(path)
        issues: list[Any] = metadata_text.validate_text(path, strict=strict) if is_text else validate_xml(path, schema)
        ok = not issues
        if output == "jsonl":
            errors = [{"layer": i.layer, "path": i.path, "message": i.message(lang)} for i in issues[:max_errors]]
            _json_line(out, {"file": str(path), "valid": ok, "errors": errors})
        else:
            key = "file.valid" if ok else "file.invalid"
            out.write(t(key, lang, file=path, schema=schema, count=len(issues)) + "\n")
            for i in issues[:max_errors]:
                out.write(f"  [{i.layer}] {f'{i.path}: ' if i.path else ''}{i.message(lang)}\n")
        return EXIT_OK if ok else EXIT_FAIL

    ref = _resolve_json_ref(schema)
    if ref is None:
        return _usage(t("err.unknown_schema", lang, schema=schema, names=_available(lang)))
    try:
        if path.suffix.lower() in _JSONL_SUFFIXES:
            opts = {
                "strict": strict,
                "lang": lang,
                "output": output,
                "failures_only": failures_only,
                "max_errors": max_errors,
            }
            summary = _parallel_jsonl(path, ref, out, jobs, progress=progress, **opts)
            if output == "jsonl":
                counts = {"total": summary.total, "valid": summary.ok, "invalid": summary.bad}
                _json_line(out, {"summary": {**counts, "seconds": round(summary.seconds, 3)}})
            else:
                out.write(summary.text(lang) + "\n")
            return EXIT_OK if summary.total and summary.bad == 0 else EXIT_FAIL
        if progress:
            progress.document(path)
        verdict = check_json_file(path, ref, lang=lang, strict=strict)
    except InputError as exc:
        return _usage(str(exc))
    if output == "jsonl":
        _write_verdict(out, output, verdict, lang, max_errors, file=str(path))
    else:
        key = "file.valid" if verdict.ok else "file.invalid"
        out.write(t(key, lang, file=path, schema=schema, count=len(verdict.errors) or 1) + "\n")
        if not verdict.ok:
            if verdict.problem:
                out.write(f"  {verdict.problem}\n")
            for e in verdict.errors[:max_errors]:
                out.write(f"  {e.path or '/'}: {e.message(lang)}\n")
    return EXIT_OK if verdict.ok else EXIT_FAIL


def run_validate(args: argparse.Namespace, lang: str) -> int:
    out = sys.stdout
    strict = bool(args.strict)  # default: held (every form really issued); --lenient says the same explicitly
    if args.code:
        kind, value = args.code
        return validate_code(kind, value, strict=strict, lang=lang, out=out, output=args.output)
    if args.file is None:
        return _usage(t("err.need_target", lang))
    if not args.schema:
        return _usage(t("err.need_schema", lang))
    if args.jobs < 0:
        return _usage(t("err.jobs", lang))
    jobs = args.jobs or os.cpu_count() or 1
    with Progress(args.file, lang, enabled=not args.no_progress) as progress:
        return validate_file(
            args.file,
            args.schema,
            strict=strict,
            lang=lang,
            out=progress.writer(out),
            output=args.output,
            failures_only=args.failures_only,
            max_errors=args.max_errors,
            jobs=jobs,
            progress=progress,
        )

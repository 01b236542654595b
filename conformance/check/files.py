"""Validate files against the contracts: one JSON document, a JSON Lines dump, or an XML document.

Bad input (missing, empty, not UTF-8, not JSON, too large) is reported as a verdict with a
clear message, never a traceback. JSON Lines are streamed: memory stays flat however long
the dump is, and only failing records are handed to the slower explaining engine.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import orjson

from conformance.check import limits
from conformance.check.schema import FieldError, validator
from conformance.i18n import t

#: Largest single JSON document read whole (bigger data belongs in JSON Lines).
MAX_JSON_BYTES = 256 * 1024 * 1024
#: Largest single JSON Lines record.
MAX_LINE_BYTES = limits.MAX_JSON_BYTES  # one record: the bound of every JSON the project parses
_BOM = b"\xef\xbb\xbf"


class InputError(Exception):
    """The file cannot be read as asked (missing, not a file): a usage error."""


@dataclass
class Verdict:
    """Outcome for one document or one line."""

    ok: bool
    errors: list[FieldError] = field(default_factory=list)
    problem: str | None = None  # an input problem (encoding, syntax) instead of field errors

    def why(self, lang: str, limit: int = 5) -> str:
        if self.problem:
            return self.problem
        parts = [
            f"{e.path or '/'}：{e.message(lang)}" if lang == "zh" else f"{e.path or '/'}: {e.message(lang)}"
            for e in self.errors[:limit]
        ]
        more = len(self.errors) - limit
        if more > 0:
            parts.append(f"……另有 {more} 处" if lang == "zh" else f"... {more} more")
        return "；".join(parts) if lang == "zh" else "; ".join(parts)


def _decode_problem(exc: orjson.JSONDecodeError | UnicodeDecodeError, raw: bytes, lang: str) -> str:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as u:
        return t("err.encoding", lang, pos=u.start)
    try:  # nested beyond what any contract allows (orjson itself refuses past 1,024 levels): say that
        limits.check_json(raw, max_bytes=len(raw))
    except limits.JSONLimitError as limit:
        zh, _, en = str(limit).partition(" / ")
        return en if lang == "en" and en else zh
    return t("err.not_json", lang, why=str(exc))


def _require_file(path: Path, lang: str) -> None:
    if not path.exists():
        raise InputError(t("err.no_file", lang, file=path))
    if not path.is_file():
        raise InputError(t("err.not_file", lang, file=path))


def check_json_file(
    path: Path, ref: str, *, lang: str = "zh", strict: bool = True, max_bytes: int = MAX_JSON_BYTES
) -> Verdict:
    """Validate one JSON document file against a schema reference."""
    _require_file(path, lang)
    size = path.stat().st_size
    if size > max_bytes:
        return Verdict(False, problem=t("err.too_big", lang, size=size, limit=max_bytes))
    raw = path.read_bytes()
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    if not raw.strip():
        return Verdict(False, problem=t("err.empty", lang, file=path))
    try:
        instance = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Verdict(False, problem=_decode_problem(exc, raw, lang))
    v = validator(ref, strict)
    if v.is_valid(instance):
        return Verdict(True)
    return Verdict(False, errors=v.errors(instance))


@dataclass
class JsonlSummary:
    total: int = 0
    ok: int = 0
    seconds: float = 0.0

    @property
    def bad(self) -> int:
        return self.total - self.ok

    def text(self, lang: str) -> str:
        rate = self.total / self.seconds if self.seconds > 0 else 0.0
        return t("summary.jsonl", lang, total=self.total, ok=self.ok, bad=self.bad, rate=rate, secs=self.seconds)


def jsonl_parts(path: Path, parts: int, block: int = 1 << 24) -> list[tuple[int, int, int]]:
    """Split a JSON Lines file into up to ``parts`` byte ranges that start at line starts, as
    ``(start, end, first line number)``: one pass counting newlines, nothing parsed."""
    size = path.stat().st_size
    targets = [size * k // parts for k in range(1, parts)]
    cuts = [0]
    lines_before = [0]
    seen = 0  # newlines before the current block
    with path.open("rb") as fh:
        pos = 0
        while targets and (data := fh.read(block)):
            while targets and targets[0] < pos + len(data):
                at = data.find(b"\n", max(targets[0] - pos, 0))
                if at < 0:
                    break  # the cut falls in the next block
                cut = pos + at + 1
                targets.pop(0)
                if cut > cuts[-1] and cut < size:
                    cuts.append(cut)
                    lines_before.append(seen + data.count(b"\n", 0, at + 1))
            seen += data.count(b"\n")
            pos += len(data)
    ends = [*cuts[1:], size]
    return [(a, b, n + 1) for a, b, n in zip(cuts, ends, lines_before, strict=True)]


def _batches(fh: BinaryIO, end: int | None) -> Iterator[list[bytes]]:
    """Lines of about 4 MiB at a time, up to byte ``end`` (a line start) or the end of the file."""
    while True:
        if end is None:
            lines = fh.readlines(1 << 22)
        else:
            left = end - fh.tell()
            if left <= 0:
                return
            # readlines stops once the lines read exceed the hint: left - 1 stops it exactly at ``end``
            lines = fh.readlines(min(1 << 22, left - 1)) if left > 1 else [fh.readline()]
        if not lines:
            return
        yield lines


def iter_jsonl(
    path: Path,
    ref: str,
    summary: JsonlSummary,
    *,
    lang: str = "zh",
    strict: bool = True,
    explain: bool = True,
    part: tuple[int, int, int] | None = None,
) -> Iterator[tuple[int, Verdict]]:
    """Yield ``(line number, verdict)`` for every line of a JSON Lines file, streaming in batches.

    Records are validated by :class:`conformance.check.bulk.BulkValidator` (the same verdict as the
    single-record validator); only failing lines are parsed again and explained. ``summary`` is
    filled in as lines are read (its ``seconds`` when the file ends). ``part`` (from
    :func:`jsonl_parts`) limits the pass to one byte range of the file.
    """
    from conformance.check.bulk import BulkValidator

    _require_file(path, lang)
    bulk = BulkValidator(ref, strict=strict)
    explainer = bulk.single
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    valid = Verdict(True)
    start = time.perf_counter()
    first, end, first_line = part or (0, None, 1)
    total, ok = first_line - 1, 0
    pending: list[tuple[int, bytes, Verdict | None]] = []  # line, raw, verdict already known (input problem)

    def flush() -> Iterator[tuple[int, Verdict]]:
        nonlocal ok
        verdicts = iter(bulk.finish())
        for n, raw, known in pending:
            if known is not None:
                yield n, known
            elif next(verdicts):
                ok += 1
                yield n, valid
            else:
                yield n, Verdict(False, errors=explainer.errors(loads(raw)) if explain else [])
        pending.clear()

    with path.open("rb") as fh:
        fh.seek(first)
        for lines in _batches(fh, end):
            if total == 0 and lines[0].startswith(_BOM):
                lines[0] = lines[0][len(_BOM) :]
            fits = [len(raw) <= MAX_LINE_BYTES for raw in lines]
            parsed = iter(bulk.add_lines([raw for raw, fit in zip(lines, fits, strict=True) if fit]))
            for raw, fit in zip(lines, fits, strict=True):
                total += 1
                if not fit:
                    pending.append(
                        (
                            total,
                            b"",
                            Verdict(False, problem=t("err.line_too_long", lang, size=len(raw), limit=MAX_LINE_BYTES)),
                        )
                    )
                elif next(parsed):
                    pending.append((total, raw, None))
                else:
                    try:
                        loads(raw)
                        problem = t("err.not_json", lang, why="?")
                    except decode_error as exc:
                        problem = t("err.empty_line", lang) if not raw.strip() else _decode_problem(exc, raw, lang)
                    pending.append((total, raw, Verdict(False, problem=problem)))
            yield from flush()
    summary.total = total - (first_line - 1)
    summary.ok = ok
    summary.seconds = time.perf_counter() - start

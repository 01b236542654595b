"""The input of an audit: a folder with, per data set (names as in ``x-data-sets``), ``<ds>.jsonl`` / ``<ds>.csv`` /
``<ds>.parquet`` (the text formats also gzip-compressed: ``<ds>.jsonl.gz``) or a folder ``<ds>/`` of such files
(e.g. ``part-*.parquet``)."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from conformance.contract.datasets import data_sets

#: suffix → format
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
#: text formats read as they are or compressed with gzip (``equipment.jsonl.gz``); Parquet compresses inside
GZIP = ".gz"
TEXT = ("jsonl", "csv")


def format_of(path: Path) -> str | None:
    """The format of a file by its name (``.jsonl``, ``.csv.gz`` …); None for a file the audit does not read."""
    name = path.name.lower()
    packed = name.endswith(GZIP)
    suffix = Path(name.removesuffix(GZIP)).suffix
    found = FORMATS.get(suffix)
    return None if found is None or (packed and found not in TEXT) else found


def open_bytes(path: Path) -> BinaryIO:
    """A data file's bytes, decompressed when its name ends in ``.gz``."""
    if path.name.lower().endswith(GZIP):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb", buffering=0)


def _stem(path: Path) -> str:
    """The name without its format suffixes (``equipment.jsonl.gz`` → ``equipment``)."""
    name = path.name.removesuffix(GZIP).removesuffix(GZIP.upper())
    return Path(name).stem


@dataclass(frozen=True)
class Source:
    data_set: str
    format: str  # jsonl | csv | parquet
    files: tuple[Path, ...]

    @property
    def columnar(self) -> bool:
        """A null in a row is an absent field (Parquet, CSV); JSON Lines say absent and null apart."""
        return self.format != "jsonl"


class InputProblem(ValueError):
    """The folder cannot be audited as given (a usage error)."""


def _one_format(name: str, files: list[Path]) -> Source:
    formats = {str(format_of(f)) for f in files}
    if len(formats) > 1:
        raise InputProblem(f"{name}: {', '.join(sorted(formats))}")
    return Source(name, formats.pop(), tuple(sorted(files)))


def discover(folder: Path) -> dict[str, Source]:
    """The data sets found in ``folder`` (the others are absent: their checks are 未测)."""
    if not folder.is_dir():
        raise InputProblem(str(folder))
    found: dict[str, Source] = {}
    for name in data_sets():
        files = [p for p in folder.iterdir() if p.is_file() and _stem(p) == name and format_of(p)]
        sub = folder / name
        if sub.is_dir():
            files += [p for p in sub.iterdir() if p.is_file() and format_of(p)]
        files = [p for p in files if p.stat().st_size > 0 or format_of(p) != "parquet"]
        if files:
            found[name] = _one_format(name, files)
    return found


def _hidden(path: Path) -> bool:
    return path.name.startswith((".", "_"))


def not_read(folder: Path) -> list[dict[str, str]]:
    """The files of the input that look like data but are not read, with why: ``name``, a data file (JSON Lines, CSV,
    Parquet) or a folder of them under a name no data set has (``devices.jsonl``); ``format``, a file of a data set
    in a format the audit does not read (``equipment.json``, ``equipment.xlsx``, ``equipment.parquet.gz``). A dump
    delivered under a wrong name is said, not silently absent. Other files (``truth.json``, a README) and hidden ones
    (``.…``, and ``_…`` as Hadoop and Spark hide ``_SUCCESS``) are left out. A notice, not a verdict: a data set
    not read is absent, its checks 未测."""
    if not folder.is_dir():
        return []
    names = set(data_sets())
    out = []
    for path in sorted(folder.iterdir()):
        if _hidden(path):
            continue
        if path.is_dir():
            inner = sorted(p for p in path.iterdir() if p.is_file() and not _hidden(p))
            if path.name in names:
                out += [{"file": str(p), "why": "format"} for p in inner if not format_of(p)]
            elif any(format_of(p) for p in inner):
                out.append({"file": str(path), "why": "name"})
        elif _stem(path) in names:
            if not format_of(path):
                out.append({"file": str(path), "why": "format"})
        elif format_of(path):
            out.append({"file": str(path), "why": "name"})
    return out

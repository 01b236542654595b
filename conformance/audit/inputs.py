"""The input of an audit: a folder with, per data set (names as in ``x-data-sets``), ``<ds>.jsonl`` / ``<ds>.csv`` /
``<ds>.parquet`` or a folder ``<ds>/`` of such files (e.g. ``part-*.parquet``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conformance.contract.datasets import data_sets

#: suffix → format
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}


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
    formats = {FORMATS[f.suffix.lower()] for f in files}
    if len(formats) > 1:
        raise InputProblem(f"{name}: {', '.join(sorted(formats))}")
    return Source(name, formats.pop(), tuple(sorted(files)))


def discover(folder: Path) -> dict[str, Source]:
    """The data sets found in ``folder`` (the others are absent: their checks are 未测)."""
    if not folder.is_dir():
        raise InputProblem(str(folder))
    found: dict[str, Source] = {}
    for name in data_sets():
        files = [folder / f"{name}{suffix}" for suffix in FORMATS if (folder / f"{name}{suffix}").is_file()]
        sub = folder / name
        if sub.is_dir():
            files += [p for p in sub.iterdir() if p.is_file() and p.suffix.lower() in FORMATS]
        files = [p for p in files if p.stat().st_size > 0 or p.suffix.lower() != ".parquet"]
        if files:
            found[name] = _one_format(name, files)
    return found

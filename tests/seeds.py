"""The standards' texts (the seeds) for the tests that compare the contracts with them.

The seeds are not part of the repository. The tests that need them read the folder named by
``$TZSB_SEEDS_DIR`` and nothing else (``TZSB_SEEDS_DIR=/path/to/seeds python -m pytest tests/test_clauses.py``,
see ``schemas/clauses/README.md``); without it they are skipped with a reason naming the variable.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ENV = "TZSB_SEEDS_DIR"


def seeds_dir() -> Path | None:
    """The seeds folder ``$TZSB_SEEDS_DIR`` names, or None when the variable is unset, empty or not a folder."""
    value = os.environ.get(ENV, "").strip()
    return Path(value) if value and Path(value).is_dir() else None


def skip_reason() -> str:
    value = os.environ.get(ENV, "").strip()
    if not value:
        return f"{ENV} 未设置，未与标准原文核对 / {ENV} is not set: the seeds (standards' texts) are not checked"
    return f"{ENV}={value} 不是目录，未与标准原文核对 / {ENV}={value} is not a folder: the seeds are not checked"


def seed_file(name: str) -> Path:
    """One seed file; the test is skipped when ``$TZSB_SEEDS_DIR`` is not given, and fails when the folder given
    lacks the file (a wrong folder must not pass for an absent one)."""
    folder = seeds_dir()
    if folder is None:
        pytest.skip(skip_reason())
    path = folder / name
    assert path.is_file(), f"{ENV}={folder} 中没有 {name} / {name} is not in {ENV}={folder}"
    return path

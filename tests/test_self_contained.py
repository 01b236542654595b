"""The repository carries its own design: no file cites a design or domain document that lives outside
it (a user's clone has none of them), and every citation of the project's own docs resolves.

* No file of the repository (tracked, or new and not ignored) other than this test names ``DESIGN.md``,
  ``DOMAIN.md``, ``../shared`` or a sibling ``shared/seeds`` folder. The standards' texts (the seeds) are not
  in the repository; the tests that need them read ``$TZSB_SEEDS_DIR`` only (``schemas/clauses/README.md``).
* Every ``docs/design.md principle N`` names a principle of ``docs/design.md`` (numbered 1, 2, 3 … without a
  gap), and every ``docs/<page>.md "Section"`` names a page and a heading that exist.
* ``docs/design.md`` "Where things are" names only paths that exist today.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
THIS = Path(__file__).resolve()
DOCS = ROOT / "docs"
DESIGN = DOCS / "design.md"

#: A citation of a file outside the repository: the design and domain notes it was written from, the
#: folder they sit in beside a checkout, or the seeds folder there (``"shared" / "seeds"`` as a path).
OUTSIDE = re.compile(
    r"DESIGN\.md|DOMAIN\.md|\bDESIGN principle|\bDOMAIN §"
    r"|\.\./shared\b|\bshared/(?:seeds|DESIGN|DOMAIN)\b"
    r"|[\"']shared[\"']\s*/\s*[\"']seeds[\"']"
)
#: ``docs/design.md principle 3``, ``docs/design.md principles 3 and 7``.
PRINCIPLE_CITE = re.compile(r"docs/design\.md,?\s+principles?\s+(\d+(?:\s*(?:,|and|or|&|/)\s*\d+)*)")
#: ``docs/<page>.md "Section"`` (straight or curly quotes, escaped inside a JSON string, optionally after a comma).
SECTION_CITE = re.compile(r"docs/([\w.-]+\.md)`?,?\s?\\?[\"“]([^\"”\n\\]{1,80})\\?[\"”]")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.MULTILINE)
PRINCIPLE = re.compile(r"^(\d+)\.\s+\*\*", re.MULTILINE)


def _files() -> list[Path]:
    """The repository's files: tracked ones and new ones git does not ignore (present in the working tree)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"不是 git 工作区，无法列出仓库文件 / not a git checkout, files not listed: {exc}")
    paths = {ROOT / p for p in out.decode("utf-8", "surrogateescape").split("\0") if p}
    return sorted(p for p in paths if p.is_file() and p.resolve() != THIS)


def _texts() -> Iterator[tuple[str, str]]:
    for path in _files():
        yield path.relative_to(ROOT).as_posix(), path.read_bytes().decode("utf-8", "replace")


def _section(text: str, title: str) -> str:
    """The body of the level-2 section whose heading starts with ``title`` (up to the next level-2 heading)."""
    match = re.search(rf"^## {re.escape(title)}.*$", text, re.MULTILINE)
    assert match, f"docs/design.md: no section “{title}”"
    end = re.search(r"^## ", text[match.end() :], re.MULTILINE)
    return text[match.end() : match.end() + end.start()] if end else text[match.end() :]


def _principles() -> set[int]:
    numbers = [int(n) for n in PRINCIPLE.findall(_section(DESIGN.read_text(encoding="utf-8"), "Principles"))]
    assert numbers == list(range(1, len(numbers) + 1)), f"principles not numbered 1…n: {numbers}"
    return set(numbers)


def test_no_file_cites_a_file_outside_the_repository() -> None:
    found = [
        f"{name}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
        for name, text in _texts()
        for m in OUTSIDE.finditer(text)
    ]
    assert not found, "仓库外文件的引用 / citations of files outside the repository:\n" + "\n".join(found)


def test_every_cited_principle_and_docs_section_exists() -> None:
    principles = _principles()
    headings: dict[str, list[str]] = {}
    problems: list[str] = []
    cited: set[int] = set()
    for name, text in _texts():
        for m in PRINCIPLE_CITE.finditer(text):
            for n in map(int, re.findall(r"\d+", m.group(1))):
                cited.add(n)
                if n not in principles:
                    problems.append(f"{name}: docs/design.md principle {n} does not exist")
        for m in SECTION_CITE.finditer(text):
            page, title = m.group(1), m.group(2).strip()
            if page not in headings:
                path = DOCS / page
                headings[page] = HEADING.findall(path.read_text(encoding="utf-8")) if path.is_file() else []
            if not any(h.startswith(title) for h in headings[page]):
                problems.append(f"{name}: docs/{page} has no section “{title}”")
    assert not problems, "\n".join(problems)
    assert cited, "no file cites a principle of docs/design.md"


def test_where_things_are_names_only_what_exists() -> None:
    body = _section(DESIGN.read_text(encoding="utf-8"), "Where things are")
    # every path in backquotes (``schemas/``, ``conformance/cli/__init__.py``; placeholders such as ``<role>`` do not match)
    named = {p.rstrip("/") for p in re.findall(r"`((?:\.?[\w-]+/)+(?:[\w-]+(?:\.\w+)?)?)`", body)}
    assert named, "“Where things are” names no path"
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"docs/design.md “Where things are” names paths that do not exist: {missing}"

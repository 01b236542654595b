"""The requirement catalogue (schemas/clauses/*.yaml) is well-formed and faithful to its sources."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from tests import seeds

ROOT = Path(__file__).resolve().parent.parent
CLAUSES_DIR = ROOT / "schemas" / "clauses"
SCHEMA_PATH = CLAUSES_DIR / "clause.schema.json"
README = CLAUSES_DIR / "README.md"
# The seeds (the standards' texts) are not in the repository: read from $TZSB_SEEDS_DIR only (tests/seeds.py).
SEEDS_DIR = seeds.seeds_dir()

ID_RE = re.compile(r"^[A-Z0-9]+(\.[A-Za-z0-9-]+)+$")
CJK_RE = re.compile(r"[\u4e00-\u9fff]")
ELLIPSIS_RE = re.compile(r"…+")
EXPECTED_FILES = {
    "db42-t-2279-2024.yaml": "DB42",
    "sharing-interface-draft.yaml": "SHARE",
    "ipqs-data-system.yaml": "IPQS",
    "informatisation-2007.yaml": "INFO2007",
    "profile.yaml": "PROFILE",
}
TABLE_ROWS = [f"T5-{n}" for n in range(1, 17)] + ["T6-1", "T6-2", "T7-1", "T7-2"]
SHARE_NOTE = "征求意见稿全文未公开，条款内容为本项目依据章节大纲拟定"

# DB42/T 2279-2024 locations the catalogue must cover (id prefixes; see README.md).
DB42_REQUIRED = [
    "DB42.4.1",
    "DB42.4.2",
    "DB42.4.3",
    "DB42.4.5",
    "DB42.4.6",
    *(f"DB42.4.7.{x}" for x in "abcdef"),
    "DB42.5.1",
    "DB42.5.2",
    *(f"DB42.5.T1-{g:02d}" for g in range(1, 11)),
    "DB42.6.1",
    "DB42.7.1.4",
    *(f"DB42.7.1.5.{x}" for x in "abcdef"),
    "DB42.7.2.2.a.",
    "DB42.7.2.2.a1",
    "DB42.7.2.2.a2",
    "DB42.7.2.3",
    "DB42.7.2.4",
    "DB42.7.2.5.b",
    "DB42.7.2.5.f",
    "DB42.7.3.2",
    "DB42.7.3.3",
    "DB42.7.4.2.a",
    "DB42.7.4.2.b",
    "DB42.7.4.3",
    "DB42.7.4.4",
    "DB42.7.4.5.b2",
    "DB42.7.4.5.c4",
    "DB42.7.5.2",
    "DB42.7.5.3",
    "DB42.7.5.4",
    "DB42.7.5.5.b",
    "DB42.7.5.5.c",
    "DB42.7.5.6.a",
    "DB42.7.5.6.b",
    "DB42.7.5.6.c2",
    "DB42.8.1",
    *(f"DB42.A.{n}" for n in range(1, 7)),
    *(f"DB42.9.1.T2-{n}" for n in range(1, 10)),
    *(f"DB42.9.2.{n}" for n in range(1, 12)),
    "DB42.9.3.1",
    "DB42.9.3.2",
    "DB42.9.3.3",
    "DB42.10.3",
    "DB42.10.4",
    "DB42.11",
]


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


CATALOGUE = {p.name: _load(p) for p in sorted(CLAUSES_DIR.glob("*.yaml"))}
ALL_CLAUSES = [(name, c) for name, doc in CATALOGUE.items() for c in doc.get("clauses") or []]
ALL_IDS = {c["id"] for _, c in ALL_CLAUSES}


def _squash(text: str) -> str:
    """Remove all whitespace: the seeds come from PDF/Word conversions with arbitrary breaks."""
    return re.sub(r"\s+", "", text)


def _ids(file_name: str) -> list[str]:
    return [c["id"] for c in CATALOGUE[file_name]["clauses"]]


def test_expected_files_present():
    assert set(CATALOGUE) == set(EXPECTED_FILES)
    for name, key in EXPECTED_FILES.items():
        assert CATALOGUE[name]["document"]["key"] == key, name


def test_schema_is_valid_2020_12():
    Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_file_validates_against_schema(name):
    validator = Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    errors = sorted(validator.iter_errors(CATALOGUE[name]), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:20])


def test_ids_unique_and_well_formed():
    counts = Counter(c["id"] for _, c in ALL_CLAUSES)
    assert not [i for i, n in counts.items() if n > 1], "duplicate ids"
    bad = [i for i in counts if not ID_RE.match(i)]
    assert not bad, bad


def test_id_prefix_is_document_key():
    for name, doc in CATALOGUE.items():
        key = doc["document"]["key"]
        wrong = [c["id"] for c in doc["clauses"] if not c["id"].startswith(key + ".")]
        assert not wrong, (name, wrong)


def test_non_automated_clauses_have_a_reason():
    missing = [
        c["id"] for _, c in ALL_CLAUSES if c["verification"] != "automated" and not (c.get("reason") or "").strip()
    ]
    assert not missing, missing


def test_every_shall_clause_is_automated_or_reasoned():
    for _, c in ALL_CLAUSES:
        if c["level"] == "shall":
            assert c["verification"] == "automated" or (c.get("reason") or "").strip(), c["id"]


def test_optional_clauses_name_a_documented_feature():
    readme = README.read_text(encoding="utf-8")
    for _, c in ALL_CLAUSES:
        if c["optional"]:
            assert c.get("feature"), c["id"]
            assert f"`{c['feature']}`" in readme, f"feature {c['feature']} of {c['id']} not in README"
        else:
            assert c.get("feature") is None, c["id"]


def test_titles_chinese_and_english():
    for _, c in ALL_CLAUSES:
        assert CJK_RE.search(c["title"]), c["id"]
        assert not CJK_RE.search(c["title_en"]), c["id"]


def test_related_ids_resolve():
    dangling = [(c["id"], r) for _, c in ALL_CLAUSES for r in c.get("related") or [] if r not in ALL_IDS]
    assert not dangling, dangling


def test_draft_standard_clauses_are_marked_as_ours():
    for c in CATALOGUE["sharing-interface-draft.yaml"]["clauses"]:
        assert c["quote"] is False, c["id"]
        assert (c.get("notes") or "").startswith(SHARE_NOTE), c["id"]


def test_every_table_row_interface_is_referenced():
    referenced = {i for _, c in ALL_CLAUSES for i in c.get("interfaces") or []}
    missing = [row for row in TABLE_ROWS if row not in referenced]
    assert not missing, missing
    # and each row has its own clause in DB42 §10
    db42 = _ids("db42-t-2279-2024.yaml")
    for row in TABLE_ROWS:
        assert any(f".{row}." in i for i in db42), row


@pytest.mark.parametrize("prefix", DB42_REQUIRED)
def test_db42_coverage(prefix):
    assert any(i.startswith(prefix) for i in _ids("db42-t-2279-2024.yaml")), prefix


def test_sharing_outline_coverage():
    ids = _ids("sharing-interface-draft.yaml")
    outline = [
        "SHARE.MECH.SUBJECT",
        "SHARE.MECH.MODE",
        "SHARE.MECH.CONTENT",
        "SHARE.MECH.METHOD",
        "SHARE.IF.FUNC",
        "SHARE.IF.TECH",
        "SHARE.IF.PERF",
        "SHARE.IF.MGMT",
        "SHARE.SEC.ACCESS",
        "SHARE.SEC.AUTH",
        "SHARE.SEC.VOLUME",
        "SHARE.SEC.RETRY",
        "SHARE.SEC.BACKUP",
        "SHARE.SEC.SECMGMT",
        "SHARE.VERIFY.METHOD",
        "SHARE.VERIFY.SIZE",
    ]
    for prefix in outline:
        assert any(i.startswith(prefix + ".") for i in ids), prefix


def _seed_text(name: str) -> str:
    return _squash(seeds.seed_file(name).read_text(encoding="utf-8"))


@pytest.mark.skipif(
    SEEDS_DIR is None,
    reason=seeds.skip_reason(),
)
@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_quotes_occur_in_seed(name):
    """Every quote: true text occurs in its seed, fragment by fragment (split at ……), in order."""
    doc = CATALOGUE[name]
    seed = doc["document"]["seed"]
    quoted = [c for c in doc["clauses"] if c["quote"]]
    if seed is None:
        assert not quoted, f"{name} has no seed but quotes"
        return
    text = _seed_text(seed)
    problems = []
    for c in quoted:
        pos = 0
        for fragment in ELLIPSIS_RE.split(c["text"]):
            fragment = _squash(fragment)
            if len(fragment) < 2:
                continue
            found = text.find(fragment, pos)
            if found < 0:
                problems.append(f"{c['id']}: {fragment[:40]}")
                break
            pos = found + len(fragment)
    assert not problems, "\n".join(problems)

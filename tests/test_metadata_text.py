"""The text form of the dossier metadata (DB42/T 2279-2024 §9.3.2 "*.txt或XML"; x-text-form of
schemas/json/dossier-metadata.schema.json, docs/dossier-metadata.md): its labelled fixtures, the reading and writing of
``conformance.check.metadata_text`` and ``tzsb-conform validate`` on a ``*.txt``."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
import xmlschema

from conformance.check.metadata_text import TextIssue, parse_text, text_form, validate_text, write_text
from conformance.cli.validate import EXIT_FAIL, EXIT_OK, validate_file
from conformance.contract.documents import FIXTURES, load_data, xsd_path

FOLDER = FIXTURES / "txt" / "dossier-metadata"
LABELS: list[dict[str, Any]] = load_data(FOLDER / "labels.yaml")
METADATA = orjson.loads((FIXTURES / "json" / "dossier-metadata" / "valid-metadata.json").read_bytes())


def _mentions(issue: TextIssue, text: str) -> bool:
    return text in issue.path or text in issue.message_zh or text in issue.message_en


def test_every_fixture_has_a_label_and_the_set_covers_both_layers() -> None:
    assert sorted(p.name for p in FOLDER.glob("*.txt")) == sorted(label["file"] for label in LABELS)
    valid = [label for label in LABELS if label["valid"]]
    assert len(valid) >= 2
    for layer in ("parser", "schema"):
        assert sum(1 for label in LABELS if not label["valid"] and label["layer"] == layer) >= 5, layer


@pytest.mark.parametrize("label", LABELS, ids=[label["file"] for label in LABELS])
def test_the_fixture_is_judged_as_labelled(label: dict[str, Any]) -> None:
    issues = validate_text(FOLDER / label["file"])
    if label["valid"]:
        assert issues == [], [str(i) for i in issues]
        return
    hits = [i for i in issues if i.layer == label["layer"] and _mentions(i, label["expect"])]
    assert hits, (label["rule"], [str(i) for i in issues])
    lenient = validate_text(FOLDER / label["file"], strict=False)
    assert bool(lenient) is not label.get("strict_only", False), [str(i) for i in lenient]


def test_the_names_are_table_2s_in_its_order_as_the_xsd_documents_them() -> None:
    schema = xmlschema.XMLSchema10(str(xsd_path("dossier-metadata")))
    documented = []
    for child in schema.elements["dossierMetadata"].type.content.iter_elements():
        docs = {d.get("{http://www.w3.org/XML/1998/namespace}lang"): d.text for d in child.annotation.documentation}
        found = re.search(r"元数据元素：([^；]+)；", docs.get("zh") or "")
        assert found, child.name
        documented.append(found[1])
    assert list(text_form().names) == documented
    assert len(documented) == 9


def test_written_text_reads_back_as_the_json_form() -> None:
    text = write_text(METADATA)
    assert text.decode("utf-8").count("\n") == 9 and validate_text(text) == []
    values, issues = parse_text(text)
    assert issues == [] and values == METADATA
    assert text == (FOLDER / "valid-metadata.txt").read_bytes()


def test_a_malformed_text_never_raises() -> None:
    for junk in (b"\x00" * 10, b"\xff\xfe\x00<", "类别".encode() * 40000, b"\r\r\r", "：：：\n:".encode()):
        issues = validate_text(junk)
        assert issues and all(i.layer == "parser" for i in issues)


@pytest.mark.parametrize(("name", "code"), [("valid-metadata.txt", EXIT_OK), ("invalid-gbk.txt", EXIT_FAIL)])
def test_validate_reads_a_txt_as_the_text_form(name: str, code: int) -> None:
    out = io.StringIO()
    assert validate_file(Path(FOLDER / name), "dossier-metadata", strict=True, lang="zh", out=out) == code
    assert ("符合" if code == EXIT_OK else "不符合") in out.getvalue()


class _Answer:
    def __init__(self, content: bytes, content_type: str) -> None:
        self.content, self._type = content, content_type

    def header(self, name: str) -> str | None:
        return self._type if name.lower() == "content-type" else None


@pytest.mark.parametrize(
    "content_type, readable",
    [
        ("text/plain; charset=GB18030", True),
        ("text/plain; charset=gbk", True),
        ("text/plain; charset=utf-8", False),  # GBK bytes served as UTF-8: the reference's metadata-txt-gbk defect
        ("text/plain", False),
    ],
)
def test_a_text_form_is_read_in_the_encoding_its_answer_declares(content_type: str, readable: bool) -> None:
    from conformance.suites.test_dossier import _declared_text

    utf8 = (FOLDER / "valid-metadata.txt").read_bytes()
    gbk = utf8.decode("utf-8").encode("gbk")
    issues = parse_text(_declared_text(_Answer(gbk, content_type)))[1]
    assert (not issues) is readable, issues

"""The XML Schemas of the dossier, their labelled fixtures and the validator (conformance.check.xsd)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from conformance.check.xsd import (
    XmlIssue,
    format_annotations,
    schema_names,
    validate_xml,
    xml_issue_messages,
)
from conformance.contract.documents import FIXTURES, XML_DIR, load_data, xsd_names, xsd_path

DOC_SCHEMAS = ["dossier-metadata", "dossier-register"]
FIXTURE_DIR = FIXTURES / "xml"
CONVENTIONS = Path(__file__).resolve().parent.parent / "docs" / "CONVENTIONS.md"


def _labels(schema: str) -> list[dict[str, Any]]:
    return load_data(FIXTURE_DIR / schema / "labels.yaml")


def _cases() -> list[Any]:
    cases = []
    for schema in DOC_SCHEMAS:
        for label in _labels(schema):
            cases.append(pytest.param(schema, label, id=f"{schema}/{label['file']}"))
    return cases


def _mentions(issue: XmlIssue, text: str) -> bool:
    return text in issue.path or text in issue.message_en or text in issue.message_zh


# --------------------------------------------------------------------------- schemas


def test_schema_files() -> None:
    assert set(xsd_names()) == {"tzsb-types", *DOC_SCHEMAS}
    assert schema_names() == DOC_SCHEMAS  # tzsb-types declares no document


@pytest.mark.parametrize("name", ["tzsb-types", *DOC_SCHEMAS])
def test_xsd_loads_as_xsd_1_0(name: str) -> None:
    schema = xmlschema.XMLSchema10(str(xsd_path(name)), allow="sandbox")
    assert schema.XSD_VERSION == "1.0"
    assert schema.validity == "valid"
    assert schema.target_namespace == "urn:tzsb-conformance:dossier:1"
    text = xsd_path(name).read_text(encoding="utf-8")
    assert "xs:assert" not in text and "vc:minVersion" not in text  # nothing of XSD 1.1


def test_one_root_element_each() -> None:
    assert list(xmlschema.XMLSchema10(str(xsd_path("dossier-metadata"))).elements) == ["dossierMetadata"]
    assert list(xmlschema.XMLSchema10(str(xsd_path("dossier-register"))).elements) == ["dossierRegister"]


def test_metadata_is_table_2_with_chinese_documentation() -> None:
    schema = xmlschema.XMLSchema10(str(xsd_path("dossier-metadata")))
    children = list(schema.elements["dossierMetadata"].type.content.iter_elements())
    assert len(children) == 9
    zh_names = [
        "类别",
        "统一社会信用代码",
        "单位名称",
        "许可机关",
        "许可机关统一社会信用代码",
        "许可机关行政区划",
        "卷宗编号",
        "创建时间",
        "更新时间",
    ]
    for n, (child, zh) in enumerate(zip(children, zh_names, strict=True), start=1):
        docs = {d.get("{http://www.w3.org/XML/1998/namespace}lang"): d.text for d in child.annotation.documentation}
        assert docs.get("zh", "").startswith(f"表2 序号{n} 元数据元素：{zh}；采集要求："), child.name


def _convention_formats() -> set[str]:
    return set(re.findall(r"`(tzsb-[a-z-]+)`", CONVENTIONS.read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", DOC_SCHEMAS)
def test_format_annotations_are_derived_from_the_xsd(name: str) -> None:
    found = format_annotations(name)
    assert found, "no tzsb:format annotation found"
    assert set(found.values()) <= _convention_formats()


def test_format_annotations_cover_the_identifiers() -> None:
    assert format_annotations("dossier-metadata") == {
        "/dossierMetadata/unitCreditCode": "tzsb-uscc",
        "/dossierMetadata/authorityCreditCode": "tzsb-uscc",
        "/dossierMetadata/authorityDivision": "tzsb-division",
        "/dossierMetadata/dossierCode": "tzsb-dossier-code",
    }
    register = format_annotations("dossier-register")
    assert register["/dossierRegister/dossierCode"] == "tzsb-dossier-code"
    assert register["/dossierRegister/applicant/creditCode"] == "tzsb-uscc"
    assert register["/dossierRegister/licensingAuthority/creditCode"] == "tzsb-uscc"
    assert register["/dossierRegister/licensingAuthority/division"] == "tzsb-division"
    assert register["/dossierRegister/licenceItem/itemCode"] == "tzsb-item-code"
    assert register["/dossierRegister/result/granted/certificateNumber"] == "tzsb-registration-no"
    assert register["/dossierRegister/equipmentCodes/equipmentCode"] == "tzsb-equipment-code"


def test_format_names_map_to_identifier_kinds() -> None:
    codes = pytest.importorskip("conformance.codes")
    known = {spec.format_name for spec in codes.KINDS.values()}
    for name in DOC_SCHEMAS:
        assert set(format_annotations(name).values()) <= known


# --------------------------------------------------------------------------- fixtures


@pytest.mark.parametrize("schema", DOC_SCHEMAS)
def test_labels_list_every_fixture(schema: str) -> None:
    labels = _labels(schema)
    files = sorted(p.name for p in (FIXTURE_DIR / schema).glob("*.xml"))
    assert sorted(label["file"] for label in labels) == files
    valid = [lb for lb in labels if lb["valid"]]
    invalid = [lb for lb in labels if not lb["valid"]]
    assert len(valid) >= 2 and len(invalid) >= 4
    assert {lb["layer"] for lb in invalid} >= {"xsd", "format", "parser"}
    for label in labels:
        assert label.get("rule"), label
        if not label["valid"]:
            assert label["layer"] in {"parser", "xsd", "format"} and label.get("expect"), label


@pytest.mark.parametrize(("schema", "label"), _cases())
def test_fixture_as_labelled(schema: str, label: dict[str, Any]) -> None:
    issues = validate_xml(FIXTURE_DIR / schema / label["file"], schema)
    messages = "\n".join(xml_issue_messages(issues, "en"))
    if label["valid"]:
        assert issues == [], messages
        return
    assert issues, f"{label['file']} should fail: {label['rule']}"
    layers = {issue.layer for issue in issues}
    assert layers == {label["layer"]}, messages
    assert any(_mentions(issue, label["expect"]) for issue in issues), messages


@pytest.mark.parametrize("schema", DOC_SCHEMAS)
def test_sources_bytes_str_path_agree(schema: str) -> None:
    for label in _labels(schema):
        path = FIXTURE_DIR / schema / label["file"]
        by_path = validate_xml(path, schema)
        assert validate_xml(path.read_bytes(), schema) == by_path
        assert validate_xml(path.read_text(encoding="utf-8"), schema) == by_path
        assert (not by_path) is label["valid"]


def test_lenient_mode_is_passed_to_the_identifier_library() -> None:
    pytest.importorskip("conformance.codes")
    path = FIXTURE_DIR / "dossier-register" / "valid-granted-elevator.xml"
    text = path.read_text(encoding="utf-8").replace("梯11鄂A01234(24)", "梯11鄂A01234（24）")
    strict = validate_xml(text, "dossier-register")
    assert [i.layer for i in strict] == ["format"]
    assert strict[0].path.endswith("/certificateNumber")
    assert validate_xml(text, "dossier-register", strict=False) == []


def test_wrong_root_element() -> None:
    path = FIXTURE_DIR / "dossier-metadata" / "valid-elevator-wuhan.xml"
    issues = validate_xml(path, "dossier-register")
    assert issues and {i.layer for i in issues} == {"xsd"}


def test_messages_in_both_languages() -> None:
    path = FIXTURE_DIR / "dossier-metadata" / "invalid-missing-dossier-code.xml"
    issues = validate_xml(path, "dossier-metadata")
    zh, en = xml_issue_messages(issues, "zh"), xml_issue_messages(issues, "en")
    assert len(zh) == len(en) == len(issues)
    assert all(line.startswith("[xsd] /dossierMetadata") for line in zh + en)
    assert "不符合 XML 模式" in zh[0] and "dossierCode" in en[0]


def test_unknown_schema_name_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown XML schema"):
        validate_xml(b"<a/>", "no-such-schema")


# --------------------------------------------------------------------------- hostile and broken input

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 16)
    )
    + b']>\n<dossierMetadata xmlns="urn:tzsb-conformance:dossier:1"><unitName>&lol15;</unitName></dossierMetadata>'
)


@pytest.mark.parametrize("schema", DOC_SCHEMAS)
def test_billion_laughs_rejected_without_expansion(schema: str) -> None:
    # expanding &lol15; would need 10^15 "lol"s: a parser that expanded it would never return. How long the
    # rejection takes is recorded by benchmarks/bench_checks.py, not judged here.
    for source in (BILLION_LAUGHS, FIXTURE_DIR / schema / "hostile-billion-laughs.xml"):
        issues = validate_xml(source, schema)
        assert len(issues) == 1 and issues[0].layer == "parser"
        assert "DTD" in issues[0].message_en and "lollol" not in issues[0].message_en


def test_external_entity_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        '<dossierMetadata xmlns="urn:tzsb-conformance:dossier:1"><unitName>&x;</unitName></dossierMetadata>'
    )
    issues = validate_xml(doc, "dossier-metadata")
    assert [i.layer for i in issues] == ["parser"]
    assert "TOP-SECRET" not in repr(issues)


GBK_DECLARED_UTF8 = '<?xml version="1.0" encoding="UTF-8"?><a>武汉市</a>'.encode("gbk")

BROKEN: list[Any] = [
    pytest.param(b"", id="empty-bytes"),
    pytest.param("", id="empty-str"),
    pytest.param(b"   \n\t ", id="blank"),
    pytest.param(b"\x00\xff\xfe garbage \x80\x81", id="garbage"),
    pytest.param(b"not xml at all", id="text"),
    pytest.param(b"<dossierMetadata xmlns='urn:tzsb-conformance:dossier:1'><category>", id="truncated"),
    pytest.param(GBK_DECLARED_UTF8, id="gbk-bytes-declared-utf8"),
    pytest.param(b'<?xml version="1.0" encoding="GBK"?><a>\xff\xff</a>', id="invalid-gbk-bytes"),
    pytest.param(b'<?xml version="1.0" encoding="x-no-such-encoding"?><a/>', id="unknown-encoding"),
    pytest.param(b"<a>" * 5000 + b"</a>" * 5000, id="deep-nesting"),
    pytest.param(b"<a/><b/>", id="two-roots"),
]


@pytest.mark.parametrize("source", BROKEN)
@pytest.mark.parametrize("schema", DOC_SCHEMAS)
def test_broken_input_gives_a_parser_issue(schema: str, source: Any) -> None:
    issues = validate_xml(source, schema)
    assert len(issues) == 1 and issues[0].layer == "parser", issues
    assert issues[0].message_zh and issues[0].message_en


def test_declared_gb18030_document_is_read() -> None:
    path = FIXTURE_DIR / "dossier-metadata" / "valid-elevator-wuhan.xml"
    text = path.read_text(encoding="utf-8").replace('encoding="UTF-8"', 'encoding="GB18030"')
    assert validate_xml(text.encode("gb18030"), "dossier-metadata") == []


def test_size_cap(tmp_path: Path) -> None:
    path = FIXTURE_DIR / "dossier-metadata" / "valid-elevator-wuhan.xml"
    data = path.read_bytes()
    for source in (data, data.decode("utf-8"), path):
        issues = validate_xml(source, "dossier-metadata", max_bytes=100)
        assert [i.layer for i in issues] == ["parser"]
        assert "100" in issues[0].message_en and "limit" in issues[0].message_en
    assert validate_xml(data, "dossier-metadata", max_bytes=len(data)) == []
    missing = validate_xml(tmp_path / "missing.xml", "dossier-metadata")
    assert [i.layer for i in missing] == ["parser"]


def test_default_size_cap_is_20_mib() -> None:
    big = b"<a>" + b" " * (20 * 1024 * 1024) + b"</a>"
    issues = validate_xml(big, "dossier-metadata")
    assert [i.layer for i in issues] == ["parser"] and str(20 * 1024 * 1024) in issues[0].message_en


def test_schema_dir_is_the_checkout_or_bundle() -> None:
    assert (XML_DIR / "README.md").is_file()

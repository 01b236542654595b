"""The explaining engine validates against an inlined copy of each schema: same errors as with the
references, fewer lookups; the referring field's title names the field."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from conformance.check.formats import format_checker
from conformance.check.schema import _explained, validator
from conformance.contract import documents as contracts
from conformance.contract.inline import NotInlinable, inline
from conformance.contract.registry import registry

FIXTURES = contracts.FIXTURES / "json"


def _fixture_instances() -> list[tuple[str, object]]:
    import yaml

    out = []
    for labels in sorted(FIXTURES.glob("*/labels.yaml")):
        for entry in yaml.safe_load(labels.read_text(encoding="utf-8")) or []:
            out.append((entry["schema"], json.loads((labels.parent / entry["file"]).read_text(encoding="utf-8"))))
    return out


def _errors(v: Draft202012Validator, instance: object) -> list[tuple[tuple[object, ...], str, str]]:
    return sorted((tuple(e.absolute_path), str(e.validator), e.message) for e in v.iter_errors(instance))


def test_inlined_schemas_give_the_same_errors_on_every_fixture() -> None:
    checked = 0
    for ref, instance in _fixture_instances():
        uri = validator(ref).uri
        with_refs = Draft202012Validator({"$ref": uri}, registry=registry(), format_checker=format_checker())
        inlined = Draft202012Validator(_explained(uri), registry=registry(), format_checker=format_checker())
        assert "$ref" not in json.dumps(inlined.schema), ref
        assert _errors(inlined, instance) == _errors(with_refs, instance), ref
        checked += 1
    assert checked > 200


def test_the_referring_fields_title_names_the_field() -> None:
    from conformance.datagen import DataGen

    rec = DataGen(4).equipment()
    rec["useUnitUscc"] = rec["useUnitUscc"][:17] + ("0" if rec["useUnitUscc"][17] != "0" else "1")
    (err,) = validator("equipment").errors(rec)
    assert err.path == "/useUnitUscc" and "使用单位统一社会信用代码" in err.message_zh


def _resolver(doc: dict[str, object]):  # type: ignore[no-untyped-def]
    reg = Registry().with_resource("urn:t", DRAFT202012.create_resource(doc))  # type: ignore[call-arg]
    found = reg.resolver().lookup("urn:t")
    return found.contents, found.resolver


def test_validation_siblings_of_a_reference_keep_it_as_all_of() -> None:
    doc = {
        "$id": "urn:t",
        "$defs": {"a": {"$id": "urn:a", "type": "string", "minLength": 2, "title": "A"}},
        "properties": {"x": {"$ref": "#/$defs/a", "maxLength": 3}, "y": {"$ref": "#/$defs/a", "title": "Y"}},
    }
    out = inline(*_resolver(doc))
    assert out["properties"]["x"] == {"allOf": [{"type": "string", "minLength": 2, "title": "A"}], "maxLength": 3}
    assert out["properties"]["y"] == {"type": "string", "minLength": 2, "title": "Y"}


def test_only_schema_positions_are_inlined() -> None:
    doc = {
        "$id": "urn:t",
        "$defs": {"a": {"type": "string"}},
        "properties": {"type": {"$ref": "#/$defs/a"}, "enum": {"$ref": "#/$defs/a"}},
        "examples": [{"$ref": "#/$defs/a"}],
        "x-note": {"$ref": "#/$defs/a"},
    }
    out = inline(*_resolver(doc))
    assert out["properties"] == {"type": {"type": "string"}, "enum": {"type": "string"}}
    assert out["examples"] == [{"$ref": "#/$defs/a"}] and out["x-note"] == {"$ref": "#/$defs/a"}


def test_cyclic_references_are_not_inlined() -> None:
    doc = {"$id": "urn:t", "properties": {"child": {"$ref": "#"}}}
    with pytest.raises(NotInlinable):
        inline(*_resolver(doc))

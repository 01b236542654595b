"""``tzsb-conform size``: the COSMIC functional size counted from the contracts (docs/functional-size.md)."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from conformance.cli import main
from conformance.contract import documents as contracts
from conformance.contract.openapi import role_callbacks, role_operations
from conformance.contract.size import ERROR_EXIT, TRIGGER, count_operation, measure, role_size
from conformance.contract.tree import ContractTree


@pytest.fixture(scope="module")
def result() -> dict:
    return measure()


def _validate(data: dict) -> None:
    schema = contracts.json_schema("functional-size")
    errors = list(Draft202012Validator(schema).iter_errors(data))
    assert not errors, [e.message for e in errors[:5]]


def test_the_worked_example_of_the_doc_push_equipment() -> None:
    """docs/functional-size.md "Worked example": pushEquipment counted by hand — 4 CFP."""
    tree = ContractTree.current()
    (op,) = [o for o in tree.operations("openapi/sharing.yaml") if o.operation_id == "pushEquipment"]
    proc = count_operation(tree, op)
    assert proc.entries == ["equipment.schema.json"]  # the push and its record carriers are no groups
    assert proc.exits == ["sharing.schema.json#/$defs/pushReceipt", ERROR_EXIT]
    assert proc.reads == []
    assert proc.writes == ["equipment.schema.json"]
    assert proc.cfp == 4


def test_a_read_by_key_has_its_triggering_entry_and_reads_what_it_exits() -> None:
    tree = ContractTree.current()
    (op,) = [o for o in tree.operations("openapi/sharing.yaml") if o.operation_id == "getEquipment"]
    proc = count_operation(tree, op)
    assert proc.entries == [TRIGGER]
    assert proc.exits == ["equipment.schema.json", ERROR_EXIT]
    assert proc.reads == ["equipment.schema.json"] and proc.writes == []


def test_the_output_conforms_to_its_schema(result: dict) -> None:
    _validate(result)


def test_sums_are_consistent(result: dict) -> None:
    assert result["total"] == sum(r["cfp"] for r in result["roles"])
    for r in result["roles"]:
        ops = r["operations"]
        assert r["cfp"] == sum(o["cfp"] for o in ops)
        assert r["cfp"] == sum(i["cfp"] for i in r["interfaces"]) == sum(d["cfp"] for d in r["documents"])
        for o in ops:
            assert o["cfp"] == sum(len(o[k]) for k in ("entries", "exits", "reads", "writes"))
            assert o["entries"], o["operationId"]  # every process has at least one Entry
            assert len(o["exits"]) == len(set(o["exits"])), o["operationId"]
            assert o["exits"].count(ERROR_EXIT) <= 1
        named = [op for i in r["interfaces"] for op in i["operations"]]
        assert sorted(named) == sorted(o["operationId"] for o in ops)


def test_every_operation_and_callback_of_the_contract_is_a_process(result: dict) -> None:
    """The processes are the operations the project's own loader finds (conformance.contract.openapi)."""
    for r in result["roles"]:
        expected = [o.operation_id for o in role_operations(r["role"])]
        expected += [cb.operation.operation_id for cb in role_callbacks(r["role"])]
        assert sorted(o["operationId"] for o in r["operations"]) == sorted(expected)


def test_the_size_is_stable(result: dict) -> None:
    assert measure() == result
    sharing = role_size("sharing")
    assert sharing == next(r for r in result["roles"] if r["role"] == "sharing")


def test_the_command_prints_json_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["size", "--role", "sharing", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    _validate(data)
    assert [r["role"] for r in data["roles"]] == ["sharing"]
    assert main(["size", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "Functional size" in out and "total:" in out
    assert main(["size"]) == 0
    assert "合计" in capsys.readouterr().out


def test_an_unknown_role_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["size", "--role", "nobody"]) == 2
    assert "nobody" in capsys.readouterr().err

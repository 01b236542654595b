"""The error codes come from the contract (error.schema.json): the source names them as ``ErrorCode.X`` only, every
such name is a code of the schema, and no code is typed as a string literal in code (docstrings aside)."""

from __future__ import annotations

import ast
import io
import tokenize

from conformance.contract import documents as contracts
from conformance.contract.errors import ErrorCode
from tests.imports_graph import modules

CODES = set(contracts.json_schema("error")["properties"]["code"]["enum"])


def test_the_enum_is_the_schemas() -> None:
    assert {c.value for c in ErrorCode} == CODES


def test_every_error_code_named_in_the_source_is_in_the_schema() -> None:
    unknown = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "ErrorCode"
                and node.attr not in CODES
            ):
                unknown.append(f"{name}:{node.lineno} ErrorCode.{node.attr}")
    assert not unknown, "error codes the schema does not have:\n" + "\n".join(unknown)


def test_no_error_code_is_typed_as_a_string() -> None:
    typed = []
    for name, path in modules().items():
        if name == "conformance.contract.errors":
            continue
        text = path.read_text(encoding="utf-8")
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.STRING and tok.string[1:-1] in CODES and tok.string[0] in "\"'":
                typed.append(f"{name}:{tok.start[0]} {tok.string}")
    assert not typed, "write ErrorCode.X instead of the string:\n" + "\n".join(typed)

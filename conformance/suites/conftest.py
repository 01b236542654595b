"""Shared fixtures of the suites: the operations of the role under test, read from the contracts."""

from __future__ import annotations

import pytest

from conformance.contract.openapi import Operation, role_operations
from conformance.harness.target import Target


@pytest.fixture(scope="session")
def role_ops(tzsb_target: Target) -> list[Operation]:
    return role_operations(tzsb_target.role)


def first_op(
    ops: list[Operation],
    *,
    method: str,
    secured: bool = True,
    with_body: bool | None = None,
    path_params: bool | None = None,
) -> Operation | None:
    for op in ops:
        if op.method != method or op.secured != secured or op.operation_id == "issueToken":
            continue
        if with_body is not None and (op.body_uri is not None) != with_body:
            continue
        if path_params is not None and ("{" in op.path) != path_params:
            continue
        return op
    return None

"""Shared fixtures of the suites: the operations of the role under test, read from the contracts."""

from __future__ import annotations

import pytest

from conformance.contract.openapi import Operation, role_operations
from conformance.harness.target import Target


@pytest.fixture(scope="session")
def role_ops(tzsb_target: Target) -> list[Operation]:
    return role_operations(tzsb_target.role)

"""Handlers of every role; importing this package registers them (the role packages are listed once, here)."""

import importlib

ROLE_MODULES = (
    "conformance.reference.roles.common",
    "conformance.reference.roles.inspection",
    "conformance.reference.roles.supervision",
    "conformance.reference.roles.gov_platform.handlers",
    "conformance.reference.roles.licensing.handlers",
    "conformance.reference.roles.sharing.handlers",
)

for _name in ROLE_MODULES:
    importlib.import_module(_name)

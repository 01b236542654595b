"""Handlers of every role, one module or package per role. Importing this package registers nothing:
:func:`register_all` (called when an app is built) imports each role's handlers, which register their operations."""


def register_all() -> None:
    """Import the handler module of every role (the list of roles the reference server serves)."""
    from conformance.reference.roles import common, inspection, supervision  # noqa: F401
    from conformance.reference.roles.gov_platform import handlers as gov_platform  # noqa: F401
    from conformance.reference.roles.licensing import handlers as licensing  # noqa: F401
    from conformance.reference.roles.sharing import handlers as sharing  # noqa: F401

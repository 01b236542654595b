"""Handlers of every role; importing this package registers them."""

from conformance.reference.roles import common, gov_platform, inspection, licensing, sharing, supervision  # noqa: F401

"""Bindings: a vendor's wire format described against the canonical contracts, and the translations at the
harness's edge that let the canonical suites judge a system speaking it (docs/bindings.md)."""

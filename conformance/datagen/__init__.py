"""Deterministic, realistic records for the theme data sets (:class:`DataGen`), the sharing platform's push records
with what they refer to (:mod:`.sharing`) and licensing applications (:mod:`.licensing`)."""

from conformance.datagen.records import PROVINCES, DataGen

__all__ = ["PROVINCES", "DataGen"]

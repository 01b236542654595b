"""tzsb-conformance: conformance harness for special-equipment supervision sharing interfaces."""

__version__ = "0.1.0"

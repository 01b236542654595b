"""The conformance suites (run with ``tzsb-conform run`` or ``pytest --pyargs conformance.suites --tzsb-target ...``)."""

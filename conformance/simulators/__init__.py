"""Simulators of the counterparts a system under test calls (DB42/T 2279-2024 §10): the
government-service platform with its e-licence library, unified identity authentication and SMS
gateway (``gov-platform.yaml``), the inspection system (``inspection.yaml``) and the supervision
system (``supervision.yaml``). Each answers from its contract and records every call it receives;
the client-side suites (``conformance/suites/test_client_side*.py``) read the records and judge them.

Run them standalone (e.g. for a vendor's system configured with fixed counterpart URLs)::

    python -m conformance.simulators --host 127.0.0.1 --gov-platform 18701 --inspection 18702 --supervision 18703
"""

from conformance.simulators.handle import Call, SimulatorHandle, Simulators, connect, for_settings, start
from conformance.simulators.server import Fault, InboundCall, Simulator

__all__ = [
    "Call",
    "Fault",
    "InboundCall",
    "Simulator",
    "SimulatorHandle",
    "Simulators",
    "connect",
    "for_settings",
    "start",
]

"""The HTTP client every suite uses: auth, timeouts, size caps, safe redirects, evidence."""

from conformance.client.evidence import Evidence, Exchange
from conformance.client.http import TargetClient, TargetResponse

__all__ = ["Evidence", "Exchange", "TargetClient", "TargetResponse"]

"""Project-wide pytest configuration: Hypothesis profiles for the project's own tests.

``HYPOTHESIS_PROFILE=ci`` (set by .ci/run) derandomises runs so CI is reproducible.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

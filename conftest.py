"""Project-wide pytest configuration: Hypothesis profiles for the project's own tests.

``HYPOTHESIS_PROFILE=ci`` (set by .ci/run) derandomises runs so CI is reproducible.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_configure(config: pytest.Config) -> None:
    """The project's tests sign their runs with a key of their own (a fresh one per session, in a temporary folder):
    they never create or use the user's key under ``~/.config`` (docs/evidence-signing.md)."""
    from conformance.report.signing import KEY_ENV, Signer

    if os.environ.get(KEY_ENV) or config.getoption("--tzsb-target", default=None):
        return
    key = Path(tempfile.mkdtemp(prefix="tzsb-test-key-")) / "sm2-signing.key"
    key.write_text(Signer.generate().private_hex + "\n", encoding="ascii")
    os.environ[KEY_ENV] = str(key)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No run made by the project's tests leaves a credential in any file it wrote: every run folder under this
    session's temporary directory (the workers' included) is searched for the reference clients' secrets and for
    anything shaped like a live token; one found fails the session."""
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None or hasattr(session.config, "workerinput") or session.config.option.collectonly:
        return
    if session.config.getoption("--tzsb-target", default=None):  # a conformance run, not the project's tests
        return
    from tests.secrets_scan import find_secrets, run_folders

    base = factory.getbasetemp()
    if not run_folders(base):
        return
    found = find_secrets(base, runs_only=True)
    if found:
        tr = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = ["credentials found in files written by runs of the project's tests:", *found[:50]]
        if tr is not None:
            tr.write_line("\n".join(lines), red=True)
        else:
            print("\n".join(lines))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

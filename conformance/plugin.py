"""The pytest plugin of tzsb-conformance (entry point ``pytest11``), so plain ``pytest`` works
in a vendor's CI. Inert unless ``--tzsb-target`` is given.

Options (namespaced): ``--tzsb-target URL|target.toml``, ``--tzsb-role``, ``--tzsb-profile``
(quick | standard | certification), ``--tzsb-client-id`` / ``--tzsb-client-secret-env``,
``--tzsb-feature NAME`` (repeatable), ``--tzsb-evidence DIR``, ``--tzsb-report DIR``,
``--tzsb-lang zh|en``, ``--tzsb-answers FILE`` (attestation answers).

Markers: ``@pytest.mark.clause("DB42.9.2.1", ...)`` ties a test to catalogue clauses;
``@pytest.mark.feature("workflow-driver")`` makes a test 不适用 (not a silent skip) when the
target does not declare that optional feature; ``@pytest.mark.role("sharing")`` runs a test only
when that role is under test.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from conformance.client import Evidence, TargetClient
from conformance.report.verdicts import Outcome
from conformance.target import Target, load_target

PROFILES = ("quick", "standard", "certification")
_NA = "tzsb-not-applicable"


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("tzsb", "tzsb-conformance 特种设备信息共享接口一致性测试")
    g.addoption("--tzsb-target", help="被测系统：URL 或 target.toml / system under test: URL or target TOML")
    g.addoption("--tzsb-role", help="被测角色 / role under test (licensing, gov-platform, inspection, supervision, sharing)")
    g.addoption("--tzsb-profile", choices=PROFILES, default=None, help="测试深度 / depth: quick, standard, certification")
    g.addoption("--tzsb-client-id", help="客户端标识 / client id (overrides the target file)")
    g.addoption("--tzsb-client-secret-env", default="TZSB_CLIENT_SECRET", help="存放客户端密钥的环境变量 / env var with the secret")
    g.addoption("--tzsb-feature", action="append", default=[], help="声明的可选特性（可重复）/ declared optional feature")
    g.addoption("--tzsb-evidence", help="证据目录 / evidence directory")
    g.addoption("--tzsb-report", help="报告目录 / report directory (report.json, report.html, manifest)")
    g.addoption("--tzsb-lang", choices=["zh", "en"], default="zh", help="报告语言 / report language")
    g.addoption("--tzsb-answers", help="证明材料答复文件（YAML）/ attestation answers file")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clause(*ids): 该测试验证的条款 / catalogue clauses this test verifies")
    config.addinivalue_line("markers", "feature(name): 仅当目标声明该可选特性时适用 / applies only if the target declares it")
    config.addinivalue_line("markers", "role(*roles): 仅对这些角色运行 / runs only for these roles")
    config.addinivalue_line("markers", "level(level): 要求级别 shall/should/may（默认取自条款目录）")
    spec = config.getoption("--tzsb-target", default=None)
    if not spec:
        return
    secret_env = config.getoption("--tzsb-client-secret-env")
    target = load_target(spec, role=config.getoption("--tzsb-role"), client_id=config.getoption("--tzsb-client-id"),
                         client_secret=os.environ.get(secret_env), features=config.getoption("--tzsb-feature"),
                         profile=config.getoption("--tzsb-profile"))
    config.stash[_STATE] = _State(target, Evidence())
    config.pluginmanager.register(_Recorder(config), "tzsb-recorder")


class _State:
    def __init__(self, target: Target, evidence: Evidence) -> None:
        self.target = target
        self.evidence = evidence
        self.outcomes: list[Outcome] = []
        self.started = time.time()


_STATE = pytest.StashKey[_State]()


def state(config: pytest.Config) -> _State:
    if _STATE not in config.stash:
        raise pytest.UsageError("tzsb-conformance: give --tzsb-target to run the conformance suites")
    return config.stash[_STATE]


class _Recorder:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        st = state(self.config)
        st.evidence.current_test = item.nodeid
        for m in item.iter_markers("feature"):
            if m.args[0] not in st.target.features:
                item.stash[_NA_KEY] = True
                pytest.skip(f"不适用：目标未声明可选特性 {m.args[0]} / not applicable: feature {m.args[0]} not declared")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            clauses = tuple(c for m in item.iter_markers("clause") for c in m.args)
            if report.passed:
                kind = "passed"
            elif report.skipped:
                kind = "not-applicable" if item.stash.get(_NA_KEY, False) else "skipped"
            elif call.excinfo is not None and not call.excinfo.errisinstance(AssertionError) and report.when == "call":
                kind = "error"
            else:
                kind = "failed" if report.when == "call" else "error"
            seed = getattr(item, "_hypothesis_internal_use_seed", None)
            st = state(self.config)
            st.outcomes.append(Outcome(item.nodeid, kind, clauses, report.duration,
                                       str(report.longrepr)[-2000:] if report.failed else None,
                                       str(seed) if seed is not None else None,
                                       (item.obj.__doc__ or "").strip().splitlines()[0] if getattr(item, "obj", None) and item.obj.__doc__ else None))

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """Tests of other roles are deselected (not skipped): they say nothing about this target."""
        role = state(config).target.role
        keep, drop = [], []
        for item in items:
            roles = [r for m in item.iter_markers("role") for r in m.args]
            (drop if roles and role not in roles else keep).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        out = self.config.getoption("--tzsb-report")
        if out:
            from conformance.report.writer import write_report

            write_report(Path(out), state(self.config), lang=self.config.getoption("--tzsb-lang"),
                         answers_file=self.config.getoption("--tzsb-answers"))


_NA_KEY = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def tzsb_target(request: pytest.FixtureRequest) -> Target:
    """The system under test."""
    return state(request.config).target


@pytest.fixture(scope="session")
def tzsb_evidence(request: pytest.FixtureRequest) -> Evidence:
    return state(request.config).evidence


@pytest.fixture(scope="session")
def tzsb_client(request: pytest.FixtureRequest) -> Any:
    """``tzsb_client(role=None, client=None)`` → an authenticated :class:`TargetClient` for that role's URL."""
    st = state(request.config)
    cache: dict[tuple[str, str | None], TargetClient] = {}

    def make(role: str | None = None, client: str | None = None) -> TargetClient:
        key = (role or st.target.role, client)
        if key not in cache:
            creds = st.target.client(client) if client else st.target.credentials
            if client and creds is None:
                pytest.skip(f"目标文件未提供客户端 {client} 的凭证 / no credentials for client {client}")
            read_timeout = float(st.target.thresholds.get("request_timeout_s", 15.0))
            cache[key] = TargetClient(st.target.url(key[0]), client_id=creds.client_id if creds else None,
                                      client_secret=creds.client_secret if creds else None, evidence=st.evidence,
                                      timeout=(min(3.05, read_timeout), read_timeout), ca_file=st.target.ca_file)
        return cache[key]

    return make

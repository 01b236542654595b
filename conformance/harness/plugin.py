"""The pytest plugin of tzsb-conformance (entry point ``pytest11``), so plain ``pytest`` works
in a vendor's CI. Inert unless ``--tzsb-target`` is given.

Options: the ``--tzsb-*`` group of :func:`pytest_addoption` (``pytest --help`` lists them).

Markers: ``@pytest.mark.clause("DB42.9.2.1", ...)`` ties a test to catalogue clauses (the test is one
of the clause's deciding checks); ``@pytest.mark.feature("thumbnail")`` needs a feature of
``schemas/codelists/target-features.json``: an undeclared *option of the standard* makes the test
不适用, an absent *means of testing* (``workflow-driver``, ``sms-gateway``) makes it 未测 with what would
make it testable; ``@pytest.mark.role("sharing")`` runs a test only when that role is under test.

One verdict everywhere: the run ends with the interface verdict, the attestation status and the
certification verdict (and what is missing for 通过), and pytest's exit status is that verdict —
0 通过, 1 不通过 (also a run that stopped early: its deadline, a target that stopped answering, SIGINT or
SIGTERM — what it could not test is 未测 with the reason), 2 usage or harness error (nothing answers at the
target's address, an unknown role, a harness failure). The report folder (``--tzsb-report``, default
``reports/<run-id>``) always gets report.json, report.html, JUnit XML and allure-results, also when the run
stops early; every file in it is masked (``conformance.report.output``). ``--tzsb-deadline`` and
``--tzsb-breaker`` set the run's limits (``conformance.harness.run_guard``, ``docs/reliability.md``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conformance.client import Evidence, TargetClient
from conformance.client.evidence import remember_secret
from conformance.client.http import NotOffered
from conformance.contract.openapi import ROLES
from conformance.harness import profiles
from conformance.harness.run_guard import (
    BREAKER_FAILURES,
    KIND_BREAKER,
    KIND_SIGNAL,
    RunGuard,
    no_answer,
)
from conformance.harness.runner import EXIT_FAIL, EXIT_OK, EXIT_USAGE, run_id
from conformance.harness.target import Target, load_target
from conformance.report.skips import is_vacuous
from conformance.report.verdicts import SCOPES, Outcome


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("tzsb", "tzsb-conformance 特种设备信息共享接口一致性测试")
    g.addoption("--tzsb-target", help="被测系统：URL 或 target.toml / system under test: URL or target TOML")
    g.addoption(
        "--tzsb-role", help="被测角色 / role under test (licensing, gov-platform, inspection, supervision, sharing)"
    )
    g.addoption(
        "--tzsb-profile", choices=profiles.NAMES, default=None, help="测试深度 / depth: quick, standard, certification"
    )
    g.addoption("--tzsb-client-id", help="客户端标识 / client id (overrides the target file)")
    g.addoption(
        "--tzsb-client-secret-env",
        default="TZSB_CLIENT_SECRET",
        help="存放客户端密钥的环境变量 / env var with the secret",
    )
    g.addoption(
        "--tzsb-feature", action="append", default=[], help="声明的可选特性（可重复）/ declared optional feature"
    )
    g.addoption("--tzsb-evidence", help="证据目录 / evidence directory")
    g.addoption("--tzsb-report", help="报告目录 / report directory (report.json, report.html, manifest)")
    g.addoption("--tzsb-lang", choices=["zh", "en"], default="zh", help="报告语言 / report language")
    g.addoption("--tzsb-answers", help="证明材料答复文件（YAML）/ attestation answers file")
    g.addoption(
        "--tzsb-scope",
        choices=SCOPES,
        default="full",
        help="认证范围：full（接口与证明材料，默认）或 interface（仅接口）/ certification scope",
    )
    g.addoption("--tzsb-no-preflight", action="store_true", help="不做预检 / skip the preflight")
    g.addoption(
        "--tzsb-deadline",
        type=float,
        default=None,
        help="整个运行的时限（秒；默认取目标文件 [run] deadline_s，否则按测试深度）/ whole-run deadline in seconds",
    )
    g.addoption(
        "--tzsb-breaker",
        type=int,
        default=None,
        help="连续多少次请求无应答即提前结束运行（默认 5）/ requests in a row without an answer that stop the run",
    )
    g.addoption(
        "--tzsb-clause",
        action="append",
        default=[],
        metavar="ID",
        help="只运行判定这些条款的测试（可重复）/ run only the tests that decide these clauses (repeatable)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clause(*ids): 该测试验证的条款 / catalogue clauses this test verifies")
    config.addinivalue_line(
        "markers",
        "feature(name): 需要该特性（标准的可选项或测试手段）/ needs this feature (an option or a means of testing)",
    )
    config.addinivalue_line("markers", "role(*roles): 仅对这些角色运行 / runs only for these roles")
    config.addinivalue_line("markers", "level(level): 要求级别 shall/should/may（默认取自条款目录）")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--tzsb-clause``: the tests whose ``clause`` marks name none of the given clauses are deselected (an unknown
    clause id is a usage error: a typo would otherwise select nothing and prove nothing)."""
    wanted = set(config.getoption("--tzsb-clause", default=None) or ())
    if not wanted:
        return
    from conformance.contract.clauses import load_catalogue

    unknown = sorted(wanted - {c["id"] for c in load_catalogue()})
    if unknown:
        raise pytest.UsageError(f"未知条款 / unknown clause(s): {', '.join(unknown)}")
    keep, drop = [], []
    for item in items:
        (keep if set(_clauses(item)) & wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Load the target before any plugin configures, so JUnit and allure get the report folder by default."""
    spec = config.getoption("--tzsb-target", default=None)
    if not spec or hasattr(config, "workerinput"):
        return
    lang = config.getoption("--tzsb-lang")
    secret_env = config.getoption("--tzsb-client-secret-env")
    try:
        target = load_target(
            spec,
            role=config.getoption("--tzsb-role"),
            client_id=config.getoption("--tzsb-client-id"),
            client_secret=os.environ.get(secret_env),
            features=config.getoption("--tzsb-feature"),
            profile=config.getoption("--tzsb-profile"),
            lang=lang,
        )
    except (OSError, ValueError, KeyError) as exc:
        _usage(f"目标无法读取 / cannot read the target: {exc}")
    if target.role not in ROLES:  # an unknown --tzsb-role (a target file's own role is checked by its schema)
        roles = ", ".join(ROLES)
        _usage(f"未知角色 {target.role}（可选：{roles}）/ unknown role {target.role} (one of {roles})")
    out = Path(config.getoption("--tzsb-report") or Path("reports") / run_id()).resolve()
    config.option.tzsb_report = str(out)
    if not config.option.collectonly:  # collecting only (e.g. clauses --coverage) writes no report
        if not getattr(config.option, "xmlpath", None):
            config.option.xmlpath = str(out / "junit.xml")
        if hasattr(config.option, "allure_report_dir") and not config.option.allure_report_dir:
            config.option.allure_report_dir = str(out / "allure-results")
    st = _State(target, Evidence(), out, lang)
    deadline = (
        config.getoption("--tzsb-deadline") or target.run.get("deadline_s") or profiles.depth(target.profile).deadline_s
    )
    breaker = config.getoption("--tzsb-breaker") or target.run.get("breaker_failures") or BREAKER_FAILURES
    st.guard = RunGuard(float(deadline), int(breaker))
    for creds in [target.credentials, *target.clients.values()]:
        remember_secret(creds.client_secret if creds else None)
    config.stash[_STATE] = st
    config.pluginmanager.register(_Recorder(config), "tzsb-recorder")


def _usage(message: str) -> None:
    sys.stderr.write(f"tzsb-conformance: {message}\n")
    raise SystemExit(EXIT_USAGE)


def _test_item(
    item: pytest.Item, doc: str | None, report: pytest.TestReport, call: pytest.CallInfo[None]
) -> dict[str, Any]:
    """The test's GB/T 34990 item as its docstring states it (conformance.report.items), with its number; a failed
    one with where it stopped (its assertion) and the first line of what it raised, read from the whole traceback."""
    from conformance.report.items import assertion, item_number, parse_doc

    callspec = getattr(item, "callspec", None)
    function = getattr(getattr(item, "function", None), "__name__", item.name.split("[", 1)[0])
    number = item_number(getattr(item, "module", None), function, callspec.id if callspec is not None else None)
    sent = dict(item.user_properties).get("requests")  # a test whose evidence keeps a sample says what it sent
    out = {"number": number, **parse_doc(doc), **({"requests": sent} if isinstance(sent, int) else {})}
    if report.failed and call.excinfo is not None:
        raised = str(call.excinfo.value).strip().splitlines()
        out["failure"] = (raised[0] if raised else call.excinfo.typename)[:400]
        stopped = assertion(str(report.longrepr))
        if stopped:
            out["assertion"] = stopped[-3000:]
    return out


def canonical_id(item: pytest.Item) -> str:
    """The same test id wherever pytest was started: ``<module>::<test>[<params>]``."""
    module = getattr(getattr(item, "module", None), "__name__", None)
    rest = item.nodeid.split("::", 1)[1] if "::" in item.nodeid else item.nodeid
    return f"{module}::{rest}" if module else item.nodeid


class _State:
    def __init__(self, target: Target, evidence: Evidence, out: Path | None = None, lang: str = "zh") -> None:
        self.target = target
        self.evidence = evidence
        self.outcomes: list[Outcome] = []
        self.started = time.time()
        self.out = out
        self.lang = lang
        #: pytest node id → the canonical id the report uses (evidence is recorded under the node id)
        self.ids: dict[str, str] = {}
        self.preflight: Any = None
        #: why the run could not judge the target at all (preflight fatal, interrupted): exit 2
        self.harness_error: str | None = None
        self.interrupted = False
        self.summary: dict[str, Any] | None = None
        #: the deadline, the circuit breaker and the signals (conformance.harness.run_guard)
        self.guard: RunGuard | None = None
        #: the vendor's dialect the run went through and where it departs from the profile (docs/bindings.md)
        self.binding: dict[str, Any] | None = None
        #: the data audit of the records the data-set suite pulled (report.json ``dataQuality``; None: not run)
        self.data_quality: dict[str, Any] | None = None
        if target.binding is not None:
            from conformance.binding.deviations import summary
            from conformance.binding.model import load

            self.binding = summary(load(target.binding))


_STATE = pytest.StashKey[_State]()


def state(config: pytest.Config) -> _State:
    if _STATE not in config.stash:
        raise pytest.UsageError("tzsb-conformance: give --tzsb-target to run the conformance suites")
    return config.stash[_STATE]


class _Recorder:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        st = state(self.config)
        if self.config.option.collectonly:
            return
        if st.guard is not None:
            st.guard.arm()
        try:
            if not self.config.getoption("--tzsb-no-preflight"):
                self._preflight(st)
        finally:
            if st.guard is not None:
                st.evidence.observer = st.guard.observe

    def _preflight(self, st: _State) -> None:
        from conformance.harness.preflight import run_preflight

        st.evidence.current_test = "preflight"
        st.preflight = run_preflight(st.target, evidence=st.evidence)
        st.evidence.current_test = None
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        text = st.preflight.render(st.lang)
        if tr is not None:
            tr.write_line(text)
        else:
            print(text)
        fatal = st.preflight.fatal
        if fatal and all(c.stops for c in fatal) and st.guard is not None:
            # reached, but silent or refusing the harness's credential: not a usage error; the run stops, every check
            # 未测 with this reason (exit 1)
            c = fatal[0]
            st.guard.stop(KIND_BREAKER, f"预检：{c.label}：{c.detail}", f"preflight: {c.label_en}: {c.detail_en}")
        elif fatal:
            st.harness_error = "；".join(f"{c.label}：{c.detail}" for c in fatal)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        from conformance.contract.clauses import is_means_of_testing, provide_text
        from conformance.report.skips import untested

        st = state(self.config)
        st.evidence.current_test = item.nodeid
        st.ids[item.nodeid] = canonical_id(item)
        if st.guard is not None:
            st.guard.check()  # the run has stopped (deadline, breaker): 未测 with the reason
        for m in item.iter_markers("feature"):
            name = m.args[0]
            if name in st.target.features:
                continue
            if is_means_of_testing(name):
                untested(
                    f"目标未提供测试手段 {name} / the target offers no means of testing {name}",
                    provide=provide_text(name),
                )
            item.stash[_NA_KEY] = True
            pytest.skip(f"不适用：目标未声明可选特性 {name} / not applicable: feature {name} not declared")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            reason = absent = None
            if call.excinfo is not None and call.excinfo.errisinstance(NotOffered):
                kind, reason, absent = "not-offered", str(call.excinfo.value), call.excinfo.value.interface
                report.outcome, report.longrepr = "skipped", (str(item.path), 0, f"Skipped: {reason}")
            elif report.passed:
                kind = "passed"
            elif report.skipped:
                reason = _skip_reason(report)
                if item.stash.get(_NA_KEY, False):
                    kind = "not-applicable"
                elif is_vacuous(reason):
                    kind = "vacuous"
                else:
                    kind = "skipped"
            elif call.excinfo is not None and not call.excinfo.errisinstance(AssertionError) and report.when == "call":
                kind = "error"
            else:
                kind = "failed" if report.when == "call" else "error"
            st = state(self.config)
            unanswered = _unanswered(st.evidence.for_test(item.nodeid)) if kind == "failed" else 0
            if unanswered:
                kind = "error"  # no answer is no proof: the check could not reach a judgement
                reason = (
                    f"目标对该检验的 {unanswered} 次请求没有任何应答，无从判定 / "
                    f"the target gave no answer at all to {unanswered} of this check's requests: no judgement"
                )
            seed = getattr(item, "_hypothesis_internal_use_seed", None)
            doc = getattr(getattr(item, "obj", None), "__doc__", None)
            st.outcomes.append(
                Outcome(
                    canonical_id(item),
                    kind,
                    _clauses(item),
                    report.duration,
                    str(report.longrepr)[-2000:] if report.failed else None,
                    str(seed) if seed is not None else None,
                    doc.strip().splitlines()[0] if doc and doc.strip() else None,
                    reason,
                    absent,
                    _test_item(item, doc, report, call),
                )
            )

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """Tests of other roles are deselected (not skipped): they say nothing about this target. When the
        preflight found the target unusable, nothing runs: the run ends with exit 2 and its report."""
        st = state(config)
        role = st.target.role
        keep, drop = [], []
        for item in items:
            roles = [r for m in item.iter_markers("role") for r in m.args]
            (drop if st.harness_error or (roles and role not in roles) else keep).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
        # the checks over every recorded exchange run last, whatever the order of collection
        last = [i for i in items if getattr(getattr(i, "module", None), "__name__", "").endswith(".test_zz_exchanges")]
        if last:
            items[:] = [i for i in items if i not in last] + last

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        st = state(self.config)
        st.interrupted = True
        if st.guard is not None:
            st.guard.interrupted()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        st = state(self.config)
        if self.config.option.collectonly:
            return
        if st.guard is not None:
            st.guard.disarm()
            st.evidence.observer = None
        stop = st.guard.stopped() if st.guard is not None else None
        if exitstatus == pytest.ExitCode.INTERRUPTED or (stop and stop["kind"] == KIND_SIGNAL):
            st.interrupted = True  # also when a library inside a check swallowed the KeyboardInterrupt
        if exitstatus == pytest.ExitCode.INTERNAL_ERROR:
            st.harness_error = st.harness_error or "测试工具内部错误 / the harness failed"
        self._not_run(session, st)
        with _no_interruptions():  # a second Ctrl-C must not cost the report
            self._write(st)
        if st.harness_error or exitstatus == pytest.ExitCode.USAGE_ERROR:
            session.exitstatus = EXIT_USAGE
        elif exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
            st.harness_error = "没有可运行的测试 / no test was collected"
            session.exitstatus = EXIT_USAGE
        else:
            cert = (st.summary or {}).get("certification")
            session.exitstatus = EXIT_OK if cert == "通过" and not st.interrupted else EXIT_FAIL

    def _not_run(self, session: pytest.Session, st: _State) -> None:
        """Every selected check that has no outcome (the run stopped before it, or while it ran) is 未测, with why."""
        why = (st.guard.reason_text() if st.guard is not None else None) or (
            "运行被中断 / the run was interrupted" if st.interrupted else None
        )
        if why is None:
            return
        done = {o.nodeid for o in st.outcomes}
        for item in getattr(session, "items", None) or []:
            cid = canonical_id(item)
            if cid in done:
                continue
            reason = f"未运行：运行提前结束 / did not run: the run stopped early: {why}"
            st.outcomes.append(Outcome(cid, "skipped", _clauses(item), reason=reason))

    def _write(self, st: _State) -> None:
        from conformance.report.output import scrub_tree
        from conformance.report.writer import write_report

        try:
            scrub_tree(st.out)  # JUnit XML and allure-results, written by their plugins
            write_report(
                st.out,
                st,
                lang=st.lang,
                answers_file=self.config.getoption("--tzsb-answers"),
                scope=self.config.getoption("--tzsb-scope"),
            )
        except (OSError, ValueError) as exc:
            st.harness_error = st.harness_error or f"报告无法写出 / the report could not be written: {exc}"

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """The verdict block, as the run's last lines (after pytest's own summary)."""
        from conformance.report.verdicts import summary_lines

        st = state(config)
        if config.option.collectonly:
            return
        zh = st.lang == "zh"
        lines = ["", "=" * 24 + (" 一致性结论 / conformance verdict " if zh else " conformance verdict ") + "=" * 24]
        if st.harness_error:
            lines.append(("测试工具错误（退出码 2）：" if zh else "Harness error (exit 2): ") + st.harness_error)
            lines.append(
                "认证结论：不通过（无法判定被测系统）"
                if zh
                else "Certification verdict: fail (the target could not be judged)"
            )
        elif st.summary:
            lines += summary_lines(st.summary, st.lang)
        stopped = st.guard.reason_text() if st.guard is not None else None
        if stopped or st.interrupted:
            why = stopped or ("运行被中断 / the run was interrupted")
            lines.append(("运行提前结束：" if zh else "The run stopped early: ") + why)
        lines.append(("报告：" if zh else "Report: ") + str(st.out))
        print("\n".join(lines), flush=True)


def _clauses(item: pytest.Item) -> tuple[str, ...]:
    return tuple(c for m in item.iter_markers("clause") for c in m.args)


def _unanswered(exchanges: list[Any]) -> int:
    """How many of the check's requests got no answer at all (a failure with any of them is not a proof)."""
    return sum(1 for x in exchanges if x.direction == "outbound" and not x.probe and no_answer(x))


@contextlib.contextmanager
def _no_interruptions() -> Any:
    """SIGINT and SIGTERM held off while the report is written (main thread only; restored after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _skip_reason(report: pytest.TestReport) -> str | None:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr) if longrepr else None


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
        from conformance.report.skips import untested

        key = (role or st.target.role, client)
        if key not in cache:
            if client and st.target.client(client) is None:
                untested(
                    f"目标文件未提供客户端 {client} 的凭证 / no credentials for client {client}",
                    provide=f"在目标文件中加入 [clients.{client}]（client_id、client_secret_env）/ add [clients.{client}] to the target file",
                )
            read_timeout = float(st.target.thresholds.get("request_timeout_s", 15.0))
            timeout = (min(3.05, read_timeout), read_timeout)
            cache[key] = st.target.http_client(key[0], client, evidence=st.evidence, timeout=timeout)
        return cache[key]

    return make

"""The run's guard: a whole-run deadline, a circuit breaker on a target that stops answering, and the signals
that end a run. Whatever ends it, the run stops early and still writes its report, in which every check that
could not run is 未测 with the reason (see ``docs/reliability.md``).

* **Deadline** (``--tzsb-deadline`` / ``tzsb-conform run --deadline``, the target file's ``[run] deadline_s``,
  default per profile :mod:`conformance.harness.profiles`): once it has passed no further check starts, a check that makes its
  next request is stopped there, and one still running :data:`GRACE_S` later (waiting for a callback, a load
  run) is interrupted.
* **Circuit breaker** (``--tzsb-breaker`` / ``[run] breaker_failures``, default :data:`BREAKER_FAILURES`): that
  many exchanges in a row that got no answer at all (connection refused or reset, no response within the
  timeouts, a body cut for being too slow) stop the run: a target that has stopped answering is not waited on for
  every remaining check. Deliberate probes that expect no answer (``Exchange.probe``) are not counted.
* **Signals**: SIGINT and SIGTERM stop the run the same way (pytest's interruption path), and the report is
  written.
"""

from __future__ import annotations

import ctypes
import signal
import threading
import time
from typing import Any

from conformance.client.evidence import Exchange

#: Exchanges in a row without any answer that stop the run.
BREAKER_FAILURES = 5
#: Seconds a check still running after the deadline is given before it is interrupted.
GRACE_S = 60.0

KIND_DEADLINE, KIND_BREAKER, KIND_SIGNAL = "deadline", "breaker", "signal"


def no_answer(exchange: Exchange) -> bool:
    """The exchange got no answer at all (not: an answer that was wrong, too large or an error status)."""
    return exchange.status is None or "too slow" in (exchange.error or "")


class RunGuard:
    def __init__(self, deadline_s: float, breaker: int = BREAKER_FAILURES) -> None:
        self.deadline_s = float(deadline_s)
        self.breaker = max(1, int(breaker))
        self.started = time.monotonic()
        self.end = self.started + self.deadline_s
        #: why the run stopped early: {"kind", "zh", "en"}; None while it runs
        self.stop_reason: dict[str, str] | None = None
        self.silent = 0
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._runner = threading.current_thread()
        self._previous: dict[int, Any] = {}

    # ------------------------------------------------------------------ state
    def stop(self, kind: str, zh: str, en: str) -> None:
        with self._lock:
            if self.stop_reason is None:
                self.stop_reason = {"kind": kind, "zh": zh, "en": en}

    def reason_text(self) -> str | None:
        r = self.stopped()
        return f"{r['zh']} / {r['en']}" if r else None

    def stopped(self) -> dict[str, str] | None:
        if self.stop_reason is None and time.monotonic() >= self.end:
            self.stop(
                KIND_DEADLINE,
                f"运行时限 {self.deadline_s:g} 秒已到，此后的检验未运行",
                f"the run's deadline of {self.deadline_s:g} s has passed; later checks did not run",
            )
        return self.stop_reason

    def check(self) -> None:
        """Stop the current check (未测, with the reason) if the run has stopped."""
        reason = self.reason_text()
        if reason:
            from conformance.report.skips import untested

            untested(f"运行提前结束 / the run stopped early: {reason}")

    def observe(self, exchange: Exchange) -> None:
        """Called for every exchange the harness made (``Evidence.observer``)."""
        if not exchange.probe:
            with self._lock:
                self.silent = self.silent + 1 if no_answer(exchange) else 0
                tripped = self.silent >= self.breaker
            if tripped:
                self.stop(
                    KIND_BREAKER,
                    f"目标停止应答：连续 {self.breaker} 次请求没有任何应答（最后一次：{exchange.error or '无应答'}）",
                    f"the target stopped answering: {self.breaker} requests in a row got no answer at all "
                    f"(the last: {exchange.error or 'no answer'})",
                )
        self.check()

    # ------------------------------------------------------------------ the hard stop and signals
    def arm(self) -> None:
        """Start the hard stop (deadline + grace) and take SIGTERM (main thread only)."""
        self._timer = threading.Timer(max(0.0, self.end - time.monotonic()) + GRACE_S, self._hard_stop)
        self._timer.daemon = True
        self._timer.start()
        if threading.current_thread() is threading.main_thread():
            # ours, not only pytest's KeyboardInterrupt: a library inside a check may swallow the interruption
            # (schemathesis ends its fuzzing quietly on one), and the run must stop all the same
            self._previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, self._on_signal)
            self._previous[signal.SIGINT] = signal.signal(signal.SIGINT, self._on_signal)

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _on_signal(self, signum: int, frame: Any) -> None:
        if signum == signal.SIGTERM:
            self.stop(KIND_SIGNAL, "收到 SIGTERM，运行被终止", "SIGTERM received: the run was terminated")
        else:
            self.interrupted()
        raise KeyboardInterrupt

    def interrupted(self) -> None:
        """pytest saw an interruption (SIGINT, or one of ours): say why, if nothing has yet."""
        self.stop(KIND_SIGNAL, "运行被中断（SIGINT）", "the run was interrupted (SIGINT)")

    def _hard_stop(self) -> None:
        self.stopped()  # the deadline's reason first: the SIGINT below must not read as the user's
        runner = self._runner
        if runner is threading.main_thread() and runner.ident is not None:
            signal.pthread_kill(runner.ident, signal.SIGINT)  # also wakes a blocking system call
        elif runner.ident is not None and runner.is_alive():
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(runner.ident), ctypes.py_object(KeyboardInterrupt)
            )

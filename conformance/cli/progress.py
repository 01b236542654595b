"""Progress of a long ``tzsb-conform validate`` on standard error.

On a terminal: one live line drawn with ``rich`` (spinner, file, records done, records/s, time), shown once
the validation has lasted :data:`BAR_DELAY_S` (or ``TZSB_PROGRESS_INTERVAL`` if shorter) and cleared when it
ends. Otherwise (a log, a pipe, CI): a plain line every ``TZSB_PROGRESS_INTERVAL`` seconds (default
:data:`DEFAULT_INTERVAL_S`; ``0``: at every report).
Standard output (the verdicts and the summary) is never touched.

The record loop reports the records done every :data:`STEP` records (:meth:`Progress.update`): the clock is
read there, never per record, and ``rich`` is imported only when a bar is drawn.
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO, cast

from conformance.i18n import t

INTERVAL_ENV = "TZSB_PROGRESS_INTERVAL"
DEFAULT_INTERVAL_S = 5.0
#: a validation shorter than this shows no bar on a terminal
BAR_DELAY_S = 0.5
#: the shortest time between two redraws of the bar
REFRESH_S = 0.1
#: records between two reports from a record loop (a power of two: the loop tests ``n & (STEP - 1)``)
STEP = 256
#: a single document at least this large gets a line saying it is being read and checked
BIG_DOCUMENT_BYTES = 16 * 1024 * 1024


def interval_from_env(lang: str = "zh", stream: TextIO | None = None) -> float:
    """Seconds between two plain progress lines: ``TZSB_PROGRESS_INTERVAL``, else :data:`DEFAULT_INTERVAL_S`."""
    raw = os.environ.get(INTERVAL_ENV, "").strip()
    if not raw:
        return DEFAULT_INTERVAL_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also NaN
        print(
            t("progress.err_interval", lang, name=INTERVAL_ENV, value=raw, default=DEFAULT_INTERVAL_S),
            file=stream or sys.stderr,
        )
        return DEFAULT_INTERVAL_S
    return value


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    """Records done in one validation, reported on ``stream`` (standard error by default).

    ``mode``: ``"bar"`` (``rich``, ``stream`` a terminal), ``"plain"`` (a line every ``interval`` seconds) or
    ``"off"``; by default the first two by whether ``stream`` is a terminal. A context manager: leaving it
    clears the bar.
    """

    def __init__(
        self,
        label: str | Path,
        lang: str,
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
        mode: str | None = None,
        interval: float | None = None,
    ) -> None:
        self.label = str(label)
        self.lang = lang
        self.stream = stream or sys.stderr
        self.mode = "off" if not enabled else mode or ("bar" if _is_terminal(self.stream) else "plain")
        self.interval = interval_from_env(lang, self.stream) if interval is None else interval
        self.start = time.perf_counter()
        self._next = self.start + (min(BAR_DELAY_S, self.interval) if self.mode == "bar" else self.interval)
        self._bar: Any = None  # rich.progress.Progress once shown
        self._task: Any = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def update(self, done: int) -> None:
        """``done`` records checked so far: shown if it is time to."""
        if self.mode == "off":
            return
        now = time.perf_counter()
        if now < self._next:
            return
        secs = now - self.start
        rate = done / secs if secs > 0 else 0.0
        if self.mode == "plain":
            line = t("progress.line", self.lang, file=self.label, done=done, rate=rate, secs=secs)
            print(line, file=self.stream, flush=True)
            self._next = now + self.interval
            return
        if self._bar is None:
            self._show_bar()
        self._bar.update(
            self._task,
            completed=done,
            records=t("progress.records", self.lang, done=done),
            rate=t("progress.rate", self.lang, rate=rate),
            refresh=True,
        )
        self._next = now + REFRESH_S

    def document(self, path: Path) -> None:
        """Before one document is read whole: a line saying so when it is big (no record count to show)."""
        if self.mode == "off":
            return
        try:
            size = path.stat().st_size
        except OSError:
            return
        if size >= BIG_DOCUMENT_BYTES:
            print(t("progress.document", self.lang, file=self.label, mb=size / 1e6), file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _show_bar(self) -> None:
        from rich.console import Console
        from rich.progress import Progress as Bar
        from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

        self._bar = Bar(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.fields[records]}"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=Console(file=self.stream),
            auto_refresh=False,  # redrawn from update(): no thread competing with the record loop
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task = self._bar.add_task(self.label, total=None, records="", rate="")
        self._bar.start()

    def writer(self, out: TextIO) -> TextIO:
        """Where to write standard output during the validation: ``out`` itself, or (when ``out`` is the
        terminal the bar is drawn on) a writer that prints above the bar instead of through it."""
        if self.mode == "bar" and _is_terminal(out):
            return cast(TextIO, _AboveBar(self, out))
        return out


class _AboveBar(io.TextIOBase):
    """Text for a terminal that also shows the bar: printed above the bar while it is shown."""

    def __init__(self, progress: Progress, out: TextIO) -> None:
        super().__init__()
        self._progress = progress
        self._out = out

    def write(self, text: str) -> int:
        bar = self._progress._bar
        if bar is None:
            return self._out.write(text)
        self._out.flush()
        bar.console.out(text, end="", highlight=False)
        return len(text)

    def flush(self) -> None:
        self._out.flush()

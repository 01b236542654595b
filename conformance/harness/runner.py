"""``tzsb-conform run``: the suites against a target, through pytest with the plugin; JUnit XML,
allure-results and the certification report in ``reports/<run-id>/``.

The exit status is the plugin's: 0 only when the certification verdict printed is 通过, 1 when it is
不通过 (a run stopped early by its deadline, the circuit breaker or a signal included), 2 for a usage or harness
error (unknown role, unreadable target, nothing answering at the target's address).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sys
from pathlib import Path

import pytest

from conformance.i18n import t

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def run_id() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def run_suites(
    *,
    target: str,
    role: str | None,
    profile: str,
    client_id: str | None,
    features: list[str],
    out: Path | None,
    answers: str | None,
    lang: str,
    extra: list[str] | None = None,
    suites: list[str] | None = None,
    scope: str = "full",
    pdf: bool = False,
) -> int:
    """Run the suites (all, or the named modules of ``conformance.suites``) through pytest with the plugin."""
    from conformance.contract.openapi import ROLES

    if role and role not in ROLES:
        print(t("err.unknown_role", lang, role=role, roles=", ".join(ROLES)), file=sys.stderr)
        return EXIT_USAGE
    if answers:
        from conformance.report.writer import load_answers

        try:
            load_answers(answers)
        except (OSError, ValueError) as exc:
            print(exc, file=sys.stderr)
            return EXIT_USAGE
    out = (out or Path("reports") / run_id()).resolve()
    out.mkdir(parents=True, exist_ok=True)
    modules = [f"conformance.suites.{s}" for s in suites] if suites else ["conformance.suites"]
    options = {"target": target, "profile": profile, "report": out, "lang": lang, "scope": scope}
    options |= {k: v for k, v in (("role", role), ("client-id", client_id), ("answers", answers)) if v}
    args = ["--pyargs", *modules, "-q", "-p", "no:cacheprovider", "-o", "console_output_style=progress"]
    args += [f"--tzsb-{k}={v}" for k, v in options.items()]
    args += [f"--tzsb-feature={f}" for f in features]
    args += extra or []
    try:
        code = int(pytest.main(args))
    except SystemExit as exc:  # the plugin refuses a target it cannot read (usage error)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    report_file = out / "report.json"
    if not report_file.is_file():
        return EXIT_USAGE
    summary = json.loads(report_file.read_text(encoding="utf-8"))["summary"]
    print(t("run.done", lang, path=out / "report.html", verdict=summary["certification"]))
    if pdf:
        from conformance.report.pdf import PdfError, write_pdf

        try:
            print(write_pdf(out, lang))
        except PdfError as exc:  # asked for and not written: a harness error, the run's own files stand
            print(exc, file=sys.stderr)
            return EXIT_USAGE
    return code if code in (EXIT_OK, EXIT_FAIL) else EXIT_USAGE

"""The defect kill matrix (docs/design.md principle 7): for every defect switch of the reference server, the
smallest run of the suites that must catch it, and the runner that proves it does.

A defect is *caught* when the run against the reference server with that switch on ends 不通过 and at
least one of the clauses the defect declares (``conformance/reference/defects.py``) is 不符合. The
table ``KILLS`` is the one place that says which suites (and which tests, ``-k``) carry each check;
``tests/test_kill_matrix.py`` runs it in CI and fails on an uncaught defect or a defect without a row;
``tzsb-conform selfcheck --defects`` prints it and writes it into the self-check report.

Each row runs in its own worker process with its own server (one defect per server), so rows are
independent and run in parallel (``jobs``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from conformance.reference.defects import BY_NAME, DEFECTS


@dataclass(frozen=True)
class Kill:
    """How to catch one defect: the role under test, the suite modules, the tests (``-k``), the server."""

    role: str
    suites: tuple[str, ...]
    select: str | None = None
    #: the server: every role in one process ("all") or only ``role``; with demo data (seed 1) or empty
    server_role: str = "all"
    seed: bool = True
    #: extra ``ServerConfig`` settings, e.g. ``(("token_ttl", 2),)``
    server: tuple[tuple[str, Any], ...] = ()
    #: ``TZSB_HYPOTHESIS_SEED`` for the run (the workflow suite's walks), when it matters
    hypothesis_seed: str | None = None
    #: the simulators first, then the server calling them: a licensing server (``demo_target.licensing_stack``)
    #: or, for the gov-platform role, the platform alone pushing to the licensing simulator (``platform_stack``)
    simulators: bool = False


SEC = ("test_security_auth", "test_security_volume", "test_security_input", "test_security_data")
SHARING = ("test_sharing_functional", "test_sharing_sync", "test_sharing_dataset")
LICENSING_SEED = "20241122"
TLS: tuple[tuple[str, Any], ...] = (("tls", True),)

KILLS: dict[str, Kill] = {
    # ---- generic (any role): run against one small role
    "envelope-missing-code": Kill("supervision", ("test_security_basics",), "envelope", "supervision", False),
    "malformed-json-500": Kill("supervision", SEC, "malformed_bodies", seed=False),
    "error-message-english": Kill("supervision", SEC, "malformed_bodies", seed=False),
    "no-field-paths": Kill("supervision", SEC, "malformed_bodies", seed=False),
    "date-without-offset": Kill("supervision", ("test_contract",), "date_times", "supervision", False),
    "accept-unknown-fields": Kill("supervision", ("test_contract",), "unknown_fields", "supervision", False),
    "no-body-limit": Kill("supervision", ("test_security_basics",), "oversized", "supervision", False),
    "not-found-as-200": Kill(
        "supervision",
        ("test_security_input", "test_zz_exchanges"),
        "path_parameters or agrees_with_its_envelope",
        "supervision",
        False,
    ),
    "future-timestamps": Kill(
        "supervision", ("test_security_basics", "test_zz_exchanges"), "health or event_time", "supervision", False
    ),
    "accept-missing-auth": Kill("supervision", SEC, "malformed_authorization", seed=False),
    "accept-expired-token": Kill("supervision", SEC, "expired", seed=False),
    "ignore-scopes": Kill("sharing", SEC, "without_the_scope or distinguished", seed=False),
    "accept-replayed-nonce": Kill("sharing", SEC, "replayed", seed=False),
    "accept-stale-timestamp": Kill("sharing", SEC, "stale", seed=False),
    "no-rate-limit": Kill("sharing", SEC, "rate_limit", seed=False),
    "retry-after-missing": Kill("sharing", SEC, "rate_limit", seed=False),
    "retry-after-implausible": Kill("sharing", SEC, "rate_limit", seed=False),
    "token-lifetime-in-ms": Kill("supervision", ("test_security_basics",), "bearer_token", "supervision", False),
    "write-scope-implies-read": Kill("sharing", ("test_security_scope",), "its_scope_sharing", "sharing", False),
    "audit-not-written": Kill("sharing", SEC, "audit", seed=False),
    "audit-chain-broken": Kill("sharing", SEC, "hash_chain", seed=False),
    # ---- sharing platform
    "paging-drops-boundary": Kill("sharing", ("test_sharing_functional",), "walking or slice"),
    "paging-wrong-total": Kill("sharing", ("test_sharing_functional",), "walking or slice or boundaries"),
    "changes-skip": Kill("sharing", ("test_sharing_sync",), "between_pages"),
    "changes-seq-reused": Kill("sharing", ("test_sharing_sync",), "keeps_its_number"),
    "push-not-idempotent": Kill("sharing", ("test_sharing_sync",), "repeated or other_content"),
    "unmasked-open-data": Kill("sharing", SEC, "open_data"),
    "sensitive-without-grant": Kill("sharing", SEC, "masked_without or grant_shows"),
    "wrong-uscc-check": Kill("sharing", ("test_sharing_dataset",), "coded or validity"),
    "grant-ignores-owner": Kill("sharing", ("test_security_scope",), "grant_opens_only", "sharing"),
    "division-filter-overrides-scope": Kill("sharing", ("test_sharing_access",), "widen", "sharing"),
    "no-division-scoping": Kill("sharing", ("test_sharing_access",), "queries_only or not_revealed", "sharing"),
    "open-data-undescribed-fields": Kill("sharing", ("test_sharing_open",), "machine_readable", "sharing"),
    "open-data-not-audited": Kill("sharing", ("test_sharing_open",), "traced", "sharing"),
    "subscription-retry-new-message-id": Kill("sharing", ("test_sharing_delivery",), "unreceipted", "sharing"),
    "subscription-resend-after-receipt": Kill("sharing", ("test_sharing_delivery",), "unreceipted", "sharing"),
    "subscription-ignores-retry-after": Kill("sharing", ("test_sharing_delivery",), "retry_after", "sharing"),
    "subscription-retry-fixed-interval": Kill("sharing", ("test_sharing_delivery",), "back_off", "sharing"),
    # ---- sharing platform, transport: a TLS server (reference/tls.py)
    "plain-http": Kill(
        "sharing", ("test_sharing_transport",), "served_over_https or plain_http", "sharing", False, TLS
    ),
    "weak-tls": Kill("sharing", ("test_sharing_transport",), "legacy", "sharing", False, TLS),
    "token-in-query": Kill("sharing", ("test_sharing_transport",), "url_query_is_refused", "sharing", False, TLS),
    # ---- licensing: items, workflow, dossier
    "accept-unknown-item": Kill("licensing", ("test_workflow",), hypothesis_seed=LICENSING_SEED),
    "accept-piping-move-out": Kill("licensing", ("test_workflow",), hypothesis_seed=LICENSING_SEED),
    "step-out-of-order": Kill("licensing", ("test_workflow",), hypothesis_seed=LICENSING_SEED),
    "step-wrong-role": Kill("licensing", ("test_workflow",), hypothesis_seed=LICENSING_SEED),
    "certify-after-refusal": Kill("licensing", ("test_workflow_refusals",)),
    "no-notice": Kill("licensing", ("test_workflow",), hypothesis_seed=LICENSING_SEED),
    "registration-no-malformed": Kill("licensing", ("test_workflow",), hypothesis_seed=LICENSING_SEED),
    "dossier-code-17-uscc": Kill("licensing", ("test_dossier",)),
    "dossier-seq-restart": Kill("licensing", ("test_dossier",)),
    "dossier-seq-skip": Kill("licensing", ("test_dossier",)),
    "metadata-missing-element": Kill("licensing", ("test_dossier",)),
    "file-naming-wrong": Kill("licensing", ("test_dossier",)),
    # ---- licensing, client side (the harness plays the counterparts)
    "no-report-back": Kill("licensing", ("test_client_side",), simulators=True),
    "report-back-wrong-order": Kill("licensing", ("test_client_side",), simulators=True),
    "wrong-case-number": Kill("licensing", ("test_client_side",), simulators=True),
    "no-retry": Kill("licensing", ("test_client_side_retry",), simulators=True),
    "retry-new-message-id": Kill("licensing", ("test_client_side_retry",), simulators=True),
    # ---- gov-platform, inspection, supervision
    # the platform alone, the harness playing the licensing system its applications are pushed to
    "thumbnail-to-city": Kill(
        "gov-platform", ("test_gov_platform_elicenses",), "city", "gov-platform", simulators=True
    ),
    "report-back-any-order": Kill(
        "gov-platform", ("test_gov_platform_cases",), "result_before_acceptance", "gov-platform", simulators=True
    ),
    "report-back-not-idempotent": Kill(
        "gov-platform", ("test_gov_platform_cases",), "repeated", "gov-platform", simulators=True
    ),
    "objection-no-correction": Kill("inspection", ("test_inspection",), "checked", "inspection"),
    "supervision-drops-unit": Kill("supervision", ("test_supervision",), "unit", "supervision", False),
    # ---- hostile input (test_security_input)
    "host-header-trusted": Kill("sharing", SEC, "forged_host", seed=False),
    "json-depth-unbounded": Kill("supervision", SEC, "malformed_bodies or token_endpoint", seed=False),
    "signature-headers-unchecked": Kill("supervision", SEC, "signature_headers", seed=False),
}


@dataclass
class Row:
    """One defect's run: its declared clauses and their verdicts, whether it was caught, the overall verdict."""

    defect: str
    role: str
    clauses: dict[str, str] = field(default_factory=dict)  # declared clause → verdict
    verdict: str = ""
    caught: bool = False
    seconds: float = 0.0
    error: str | None = None
    tests: int = 0


def missing() -> list[str]:
    """Defects without a row in ``KILLS`` (each is a failure of the build, by name)."""
    return [d.name for d in DEFECTS if d.name not in KILLS]


def run_one(
    defect: str | None, kill: Kill, *, profile: str = "quick", workdir: Path | None = None, quiet: bool = True
) -> Row:
    """Run ``kill`` against a fresh reference server with ``defect`` switched on (None: the clean server)."""
    from conformance.harness.runner import run_suites
    from conformance.reference.server import RunningServer, ServerConfig
    from conformance.selfcheck.demo_target import demo_target, licensing_stack
    from conformance.selfcheck.stack import platform_stack

    started = time.monotonic()
    row = Row(defect or "(无缺陷 / clean)", kill.role)
    env_before = os.environ.get("TZSB_HYPOTHESIS_SEED")
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        tmp_path = Path(tmp)
        try:
            if kill.hypothesis_seed:
                os.environ["TZSB_HYPOTHESIS_SEED"] = kill.hypothesis_seed
            defects = (defect,) if defect else ()
            cfg = ServerConfig(
                role=kill.server_role,
                db=tmp_path / "ref.sqlite3",
                defects=defects,
                seed=1 if kill.seed else None,
                access_log=False,
                **dict(kill.server),
            )
            stack = licensing_stack if kill.role == "licensing" else platform_stack
            with (
                stack(tmp_path / "ref.sqlite3", defects=defects) if kill.simulators else _plain(RunningServer(cfg))
            ) as (sims, srv):
                target = demo_target(tmp_path / "target.toml", srv, kill.role, simulators=sims)
                extra = ["-p", "no:randomly", "-p", "no:cacheprovider", *(["-k", kill.select] if kill.select else [])]
                sink = io.StringIO()
                with contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext():
                    run_suites(
                        target=str(target),
                        role=kill.role,
                        profile=profile,
                        client_id=None,
                        features=[],
                        out=tmp_path / "out",
                        answers=None,
                        lang="zh",
                        suites=list(kill.suites),
                        extra=extra,
                    )
            report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
        except Exception as exc:  # a row that could not run is reported, not raised
            row.error = f"{type(exc).__name__}: {exc}"
            row.seconds = round(time.monotonic() - started, 1)
            return row
        finally:
            if env_before is None:
                os.environ.pop("TZSB_HYPOTHESIS_SEED", None)
            else:
                os.environ["TZSB_HYPOTHESIS_SEED"] = env_before
    verdicts = {c["id"]: c["verdict"] for c in report["clauses"]}
    declared = BY_NAME[defect].clauses if defect else ()
    row.clauses = {c: verdicts.get(c, "未测") for c in declared}
    row.verdict = report["summary"]["interface"]
    row.tests = len(report["tests"])
    row.caught = bool(defect) and row.verdict == "不通过" and "不符合" in row.clauses.values()
    row.seconds = round(time.monotonic() - started, 1)
    return row


@contextlib.contextmanager
def _plain(server: Any) -> Any:
    """A reference server without simulators, shaped like ``licensing_stack``: ``(None, server)``."""
    with server as srv:
        yield None, srv


def _run_row(args: tuple[str, str]) -> dict[str, Any]:
    defect, profile = args
    return asdict(run_one(defect, KILLS[defect], profile=profile))


def run_matrix(
    defects: list[str] | None = None, *, jobs: int = 2, profile: str = "quick", progress: Any = None
) -> list[Row]:
    """Every row of the matrix (or the named defects), ``jobs`` at a time, each in its own process."""
    names = defects or list(KILLS)
    rows: dict[str, Row] = {}
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        for name, result in zip(names, pool.map(_run_row, [(n, profile) for n in names]), strict=True):
            rows[name] = Row(**result)
            if progress is not None:
                progress(rows[name])
    return [rows[n] for n in names]


def render(rows: list[Row], lang: str = "zh") -> str:
    """The matrix as a Markdown table (defect × declared clauses, caught or not)."""
    en = lang == "en"
    head = (
        "| defect | role | declared clauses (verdict) | run verdict | caught |"
        if en
        else "| 缺陷 | 角色 | 声明破坏的条款（判定） | 运行结论 | 是否检出 |"
    )
    out = [head, "|---|---|---|---|---|"]
    for r in rows:
        clauses = ", ".join(f"{c} ({v})" for c, v in r.clauses.items()) or (r.error or "")
        caught = ("yes" if en else "检出") if r.caught else ("NO" if en else "未检出")
        out.append(f"| `{r.defect}` | {r.role} | {clauses} | {r.verdict or '-'} | {caught} |")
    return "\n".join(out)


def write(rows: list[Row], out: Path, lang: str = "zh") -> Path:
    """``kill-matrix.json`` and ``kill-matrix.md`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "kill-matrix.json").write_text(
        json.dumps({"schema": "tzsb-kill-matrix/1", "rows": [asdict(r) for r in rows]}, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    (out / "kill-matrix.md").write_text(render(rows, lang) + "\n", encoding="utf-8")
    return out / "kill-matrix.md"

"""The defect kill matrix (docs/design.md principle 7): every defect switch of the reference server against the tests
that decide the clauses it declares, and the runner that proves they catch it.

Every row is derived from the defect's declaration (``conformance/reference/defects/declared.py``): the run it names
(:class:`~conformance.reference.defects.Run`: the role under test, the server it needs) and its clauses — the suites
run with ``--tzsb-clause`` for each, so only the tests that decide one of them run. A defect is *caught* when that run
ends 不通过 and at least one of its declared clauses is 不符合. ``tests/test_kill_matrix.py`` runs every row in CI;
``tzsb-conform selfcheck --defects`` runs them and writes the result into the self-check report.

The README's table of the matrix is rendered from the declarations (:func:`readme_table`) and written by
``python -m conformance.selfcheck.kill_matrix --write-readme``; a test fails when README.md differs from it.

Each row runs in its own worker process with its own server (one defect per server), so rows are independent and
run in parallel (``jobs``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from conformance.reference.defects import BY_NAME, DEFECTS, Defect, seams
from conformance.selfcheck.coverage import decided_by

README = Path(__file__).resolve().parents[2] / "README.md"
START, END = "<!-- kill-matrix:start -->", "<!-- kill-matrix:end -->"


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
    #: how many tests the run ran (those that decide a declared clause)
    tests: int = 0


# ------------------------------------------------------------------------------------------ which tests


def selected(defect: Defect) -> list[str]:
    """The tests a defect's kill run runs: those of its run's role that decide one of its declared clauses."""
    by_clause = decided_by(defect.run.role)
    return sorted({t for c in defect.clauses for t in by_clause.get(c, ())})


def missing() -> list[str]:
    """Defects whose kill run would run nothing: no test of the run's role decides a declared clause (each is a
    failure of the build, by name)."""
    return [d.name for d in DEFECTS if not selected(d)]


# ------------------------------------------------------------------------------------------ running


def run_one(
    defect: str, *, profile: str = "quick", workdir: Path | None = None, quiet: bool = True, binding: Path | None = None
) -> Row:
    """The kill run of ``defect``: a fresh reference server as its declaration says, with that switch on, and the
    suites' tests that decide its declared clauses (through ``binding`` when given: server, simulators and
    harness speak its dialect)."""
    from conformance.harness.runner import run_suites
    from conformance.reference.server import RunningServer, ServerConfig
    from conformance.selfcheck.demo_target import demo_target
    from conformance.selfcheck.stack import licensing_stack, platform_stack, sharing_stack

    declared = BY_NAME[defect]
    run = declared.run
    started = time.monotonic()
    row = Row(defect, run.role)
    env_before = os.environ.get("TZSB_HYPOTHESIS_SEED")
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        tmp_path = Path(tmp)
        try:
            if run.hypothesis_seed:
                os.environ["TZSB_HYPOTHESIS_SEED"] = run.hypothesis_seed
            defects = (defect,)
            cfg = ServerConfig(
                role=run.server_role,
                db=tmp_path / "ref.sqlite3",
                defects=defects,
                seed=1 if run.seed else None,
                access_log=False,
                tls=run.tls,
                binding=binding,
            )
            stack = {"licensing": licensing_stack, "sharing": sharing_stack}.get(run.role, platform_stack)
            with (
                stack(tmp_path / "ref.sqlite3", defects=defects, binding=binding)
                if run.simulators
                else _plain(RunningServer(cfg)) as (
                    sims,
                    srv,
                )
            ):
                target = demo_target(tmp_path / "target.toml", srv, run.role, simulators=sims, binding=binding)
                extra = ["-p", "no:randomly", "-p", "no:cacheprovider"]
                extra += [f"--tzsb-clause={c}" for c in declared.clauses]
                sink = io.StringIO()
                with contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext():
                    run_suites(
                        target=str(target),
                        role=run.role,
                        profile=profile,
                        client_id=None,
                        features=[],
                        out=tmp_path / "out",
                        answers=None,
                        lang="zh",
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
    row.clauses = {c: verdicts.get(c, "未测") for c in declared.clauses}
    row.verdict = report["summary"]["interface"]
    row.tests = len(report["tests"])
    row.caught = row.verdict == "不通过" and "不符合" in row.clauses.values()
    row.seconds = round(time.monotonic() - started, 1)
    return row


@contextlib.contextmanager
def _plain(server: Any) -> Any:
    """A reference server without simulators, shaped like ``licensing_stack``: ``(None, server)``."""
    with server as srv:
        yield None, srv


def _run_row(args: tuple[str, str, Path | None]) -> dict[str, Any]:
    defect, profile, binding = args
    return asdict(run_one(defect, profile=profile, binding=binding))


def run_matrix(
    defects: list[str] | None = None,
    *,
    jobs: int = 2,
    profile: str = "quick",
    progress: Any = None,
    binding: Path | None = None,
) -> list[Row]:
    """Every row of the matrix (or the named defects), ``jobs`` at a time, each in its own process."""
    names = defects or [d.name for d in DEFECTS]
    rows: dict[str, Row] = {}
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        for name, result in zip(names, pool.map(_run_row, [(n, profile, binding) for n in names]), strict=True):
            rows[name] = Row(**result)
            if progress is not None:
                progress(rows[name])
    return [rows[n] for n in names]


# ------------------------------------------------------------------------------------------ tables


def render(rows: list[Row], lang: str = "zh") -> str:
    """A run of the matrix as a Markdown table (defect × declared clauses, caught or not)."""
    en = lang == "en"
    head = (
        "| defect | role | declared clauses (verdict) | tests run | run verdict | caught |"
        if en
        else "| 缺陷 | 角色 | 声明破坏的条款（判定） | 运行的测试 | 运行结论 | 是否检出 |"
    )
    out = [head, "|---|---|---|---|---|---|"]
    for r in rows:
        clauses = ", ".join(f"{c} ({v})" for c, v in r.clauses.items()) or (r.error or "")
        caught = ("yes" if en else "检出") if r.caught else ("NO" if en else "未检出")
        out.append(f"| `{r.defect}` | {r.role} | {clauses} | {r.tests} | {r.verdict or '-'} | {caught} |")
    return "\n".join(out)


def readme_table(lang: str = "zh") -> str:
    """The matrix as the declarations give it (README.md, between the kill-matrix markers): each defect, the role
    whose server carries it, what it does, the clauses whose tests must catch it, the run, and where it lives."""
    en = lang == "en"
    lines = [
        (
            "Generated from `conformance/reference/defects/declared.py` by "
            "`python -m conformance.selfcheck.kill_matrix --write-readme`; `tests/test_kill_matrix.py` runs every row."
            if en
            else "由 `conformance/reference/defects/declared.py` 生成（`python -m conformance.selfcheck.kill_matrix "
            "--write-readme`）；`tests/test_kill_matrix.py` 逐行运行，每个缺陷都须检出。"
        ),
        "",
        "| defect | role | what it does | clauses (the tests run) | run | seam |"
        if en
        else "| 缺陷 | 角色 | 缺陷内容 | 破坏的条款（只运行判定它们的测试） | 检出运行 | 所在 |",
        "|---|---|---|---|---|---|",
    ]
    for d in DEFECTS:
        where = ", ".join(seams.seams_of(d.name)) or ("handler / server" if en else "处理程序 / 服务器")
        what = (d.en if en else d.zh).replace("|", "\\|")
        lines.append(f"| `{d.name}` | {d.role} | {what} | {', '.join(d.clauses)} | {d.run.describe(lang)} | {where} |")
    return "\n".join(lines)


def readme_section(text: str) -> str:
    """What README.md holds between the kill-matrix markers."""
    return text.split(START, 1)[1].split(END, 1)[0].strip("\n")


def write_readme(path: Path = README) -> bool:
    """Write :func:`readme_table` between the markers of ``path``; True when the file changed."""
    text = path.read_text(encoding="utf-8")
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"{path}: no {START} … {END} section")
    new = f"{head}{START}\n{readme_table()}\n{END}{tail}"
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def write(rows: list[Row], out: Path, lang: str = "zh") -> Path:
    """``kill-matrix.json`` and ``kill-matrix.md`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "kill-matrix.json").write_text(
        json.dumps({"schema": "tzsb-kill-matrix/1", "rows": [asdict(r) for r in rows]}, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    (out / "kill-matrix.md").write_text(render(rows, lang) + "\n", encoding="utf-8")
    return out / "kill-matrix.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.selfcheck.kill_matrix",
        description="缺陷检出矩阵：打印或写入 README 的矩阵表 / the kill matrix's README table",
    )
    parser.add_argument("--write-readme", action="store_true", help="把矩阵表写入 README.md / write it into README.md")
    parser.add_argument("--lang", choices=["zh", "en"], default="zh")
    args = parser.parse_args(argv)
    if args.write_readme:
        changed = write_readme()
        print(f"{README}: {'已更新 / updated' if changed else '无变化 / unchanged'}")
        return 0
    print(readme_table(args.lang))
    return 0


if __name__ == "__main__":
    sys.exit(main())

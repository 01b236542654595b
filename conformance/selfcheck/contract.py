"""Checks of the contract kit itself: every document valid, every reference resolved,
every fixture behaving as labelled, every code list and clause catalogue consistent.

``tzsb-conform selfcheck`` runs them all; the project's tests run them one by one.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from conformance.contract import documents as contracts
from conformance.contract.documents import fixture_labels
from conformance.i18n import t


@dataclass
class Check:
    name: str
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def iter_refs(node: Any) -> Iterator[str]:
    """Every ``$ref`` value in a JSON-like tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from iter_refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from iter_refs(v)


def check_json_schema(name: str) -> list[str]:
    """Meta-schema validity and resolution of every ``$ref`` of one schema file."""
    from jsonschema import Draft202012Validator
    from referencing.exceptions import Unresolvable

    from conformance.contract.registry import registry

    doc = contracts.json_schema(name)
    problems = [f"{name}: {e.message}" for e in Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(doc)]
    if doc.get("$id") != contracts.json_schema_id(name):
        problems.append(f"{name}: $id should be {contracts.json_schema_id(name)}")
    resolver = registry().resolver(base_uri=contracts.json_schema_id(name))
    for ref in iter_refs(doc):
        try:
            resolver.lookup(ref)
        except Unresolvable as exc:
            problems.append(f"{name}: $ref {ref} does not resolve ({exc})")
    return problems


def check_openapi(name: str) -> list[str]:
    """openapi-spec-validator over one document, relative references resolved from its folder."""
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    path = contracts.OPENAPI_DIR / f"{name}.yaml"
    try:
        validate(contracts.openapi(name), base_uri=path.as_uri())
    except OpenAPIValidationError as exc:
        return [f"{name}: {exc}"]
    except Exception as exc:  # unresolvable reference and the like
        return [f"{name}: {type(exc).__name__}: {exc}"]
    return []


def check_json_fixture(folder: str, label: dict[str, Any]) -> list[str]:
    import orjson

    from conformance.check.schema import validator

    where = f"{folder}/{label['file']}"
    path = contracts.FIXTURES / "json" / folder / label["file"]
    if not path.is_file():
        return [f"{where}: missing"]
    instance = orjson.loads(path.read_bytes())
    v = validator(label["schema"])
    fast, errors = v.is_valid(instance), v.errors(instance)
    if label["valid"]:
        return [] if fast and not errors else [f"{where}: expected valid, got {[e.as_dict('en') for e in errors][:3]}"]
    if fast:
        return [f"{where}: expected invalid ({label.get('rule')}), but it validates"]
    expect = label.get("expect") or {}
    hit = any(e.path == expect.get("path") and e.keyword == expect.get("keyword") for e in errors)
    return [] if hit else [f"{where}: expected {expect}, got {[(e.path, e.keyword) for e in errors][:5]}"]


def check_xml_fixture(folder: str, label: dict[str, Any]) -> list[str]:
    from conformance.check.xsd import validate_xml

    where = f"{folder}/{label['file']}"
    path = contracts.FIXTURES / "xml" / folder / label["file"]
    if not path.is_file():
        return [f"{where}: missing"]
    issues = validate_xml(path, label.get("schema", folder))
    if label["valid"]:
        return [] if not issues else [f"{where}: expected valid, got {[i.message_en for i in issues][:3]}"]
    layer = label.get("layer")
    expect = label.get("expect", "")
    if any(i.layer == layer and any(expect in t for t in (i.path, i.message_en, i.message_zh)) for i in issues):
        return []
    return [f"{where}: expected {layer} issue with {expect!r}, got {[(i.layer, i.path) for i in issues][:5]}"]


def check_text_fixture(folder: str, label: dict[str, Any]) -> list[str]:
    """A fixture of the text form of the dossier metadata (``fixtures/txt``, x-text-form of its JSON schema)."""
    from conformance.check.metadata_text import validate_text

    where = f"{folder}/{label['file']}"
    path = contracts.FIXTURES / "txt" / folder / label["file"]
    if not path.is_file():
        return [f"{where}: missing"]
    issues = validate_text(path)
    if label["valid"]:
        return [] if not issues else [f"{where}: expected valid, got {[i.message_en for i in issues][:3]}"]
    layer, expect = label.get("layer"), label.get("expect", "")
    if any(i.layer == layer and any(expect in t for t in (i.path, i.message_en, i.message_zh)) for i in issues):
        return []
    return [f"{where}: expected {layer} issue with {expect!r}, got {[(i.layer, i.path) for i in issues][:5]}"]


def check_xsd(name: str) -> list[str]:
    import xmlschema

    try:
        xmlschema.XMLSchema10(str(contracts.xsd_path(name)))
    except Exception as exc:
        return [f"{name}: {exc}"]
    return []


def check_licence_items() -> list[str]:
    data = contracts.codelist("licence-items")
    items = data["items"]
    problems = [] if len(items) == 114 else [f"licence-items: {len(items)} items, Table 1 has 114"]
    want = {"01": 12, "02": 13, "03": 12, "04": 12, "05": 12, "06": 12, "07": 9, "08": 10, "09": 10, "10": 12}
    for group, count in want.items():
        got = sum(1 for i in items if i["group"] == group)
        if got != count:
            problems.append(f"licence-items: group {group} has {got}, Table 1 has {count}")
    if len({i["code"] for i in items}) != len(items):
        problems.append("licence-items: duplicate codes")
    return problems


def check_clauses() -> list[str]:
    from conformance.contract.clauses import load_catalogue

    try:
        clauses = load_catalogue()
    except Exception as exc:
        return [f"clauses: {exc}"]
    ids = [c["id"] for c in clauses]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    problems = [f"clauses: duplicate ids {dup}"] if dup else []
    for c in clauses:
        if c["level"] == "shall" and c["verification"] != "automated" and not c.get("reason"):
            problems.append(f"clauses: {c['id']} is a shall-clause with neither a test nor a reason")
    return problems


def all_checks() -> Iterator[tuple[str, Callable[[], list[str]]]]:
    for name in contracts.openapi_names():
        yield f"OpenAPI {name}", lambda n=name: check_openapi(n)
    for name in contracts.json_schema_names():
        yield f"JSON Schema {name}", lambda n=name: check_json_schema(n)
    for name in contracts.xsd_names():
        yield f"XSD {name}", lambda n=name: check_xsd(n)
    yield "JSON fixtures", lambda: [p for f, lab in fixture_labels("json") for p in check_json_fixture(f, lab)]
    yield "XML fixtures", lambda: [p for f, lab in fixture_labels("xml") for p in check_xml_fixture(f, lab)]
    yield "text fixtures", lambda: [p for f, lab in fixture_labels("txt") for p in check_text_fixture(f, lab)]
    yield "licence items (Table 1)", check_licence_items
    yield "clause catalogue", check_clauses
    yield "clause coverage (deciding checks)", check_coverage


def check_coverage() -> list[str]:
    """Every automated clause has at least one deciding check (``tzsb-conform clauses --coverage``)."""
    from conformance.selfcheck.coverage import coverage

    return [
        f"{r['id']}: no deciding check (automated clause without a test or load check)"
        for r in coverage()
        if not r["checks"]
    ]


def _role_run(args: tuple[str, str, str, str, str]) -> dict[str, Any]:
    """One role's suites in a worker process (pytest's output to a log file beside the report)."""
    import json
    from pathlib import Path

    from conformance.harness.runner import run_suites

    role, target, out, profile, lang = args
    Path(out).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(Path(out) / "pytest.log", "w", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        code = run_suites(
            target=target,
            role=role,
            profile=profile,
            client_id=None,
            features=[],
            out=Path(out),
            answers=None,
            lang=lang,
            extra=["-p", "no:warnings"],
            scope="interface",
        )
    report = json.loads((Path(out) / "report.json").read_text(encoding="utf-8"))
    return {
        "role": role,
        "code": code,
        "summary": report["summary"],
        "seconds": time.perf_counter() - started,
        "failed": [x["nodeid"] for x in report["tests"] if x["outcome"] in ("failed", "error")],
        "tested": sum(1 for c in report["clauses"] if c["tests"]),
    }


@contextlib.contextmanager
def _server_log(path: Any) -> Iterator[None]:
    """The reference servers' and simulators' log (retries, failed deliveries) to a file beside the reports,
    not onto the console where it would bury the self-check's own lines."""
    import logging

    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger("tzsb")
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    saved = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate, logger.level = False, logging.INFO
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()
        logger.propagate, logger.level = saved


def reference_checks(
    lang: str, *, profile: str = "quick", jobs: int = 2, out: Any = None, binding: Any = None
) -> list[Check]:
    """Part 2 of the self-check: the reference server (every role, demo data, loopback) and every suite run
    against each role (the contract suite fuzzes every operation with schemathesis), ``jobs`` roles at a
    time in worker processes, a certification report per role. Each role's check passes when its run ends
    通过: every applicable shall-clause 符合 (or 按绑定). ``binding``: a binding file; every server and simulator
    then speaks its dialect and every run goes through it (the self-test of a binding, docs/bindings.md)."""
    import tempfile
    from concurrent.futures import ProcessPoolExecutor
    from pathlib import Path

    from conformance.contract.openapi import ROLES
    from conformance.harness.runner import run_id
    from conformance.reference.server import RunningServer, ServerConfig
    from conformance.report.verdicts import summary_lines
    from conformance.selfcheck.demo_target import demo_target
    from conformance.selfcheck.stack import licensing_stack, platform_stack, sharing_stack

    results: list[Check] = []
    out = Path(out) if out is not None else Path("reports") / f"selfcheck-{run_id()}"
    with (
        _server_log(out / "reference-server.log"),
        tempfile.TemporaryDirectory() as tmp,
        RunningServer(
            ServerConfig(role="all", db=Path(tmp) / "ref.db", seed=1, access_log=False, binding=binding)
        ) as srv,
        licensing_stack(Path(tmp) / "licensing.db", binding=binding) as (sims, lic),
        platform_stack(Path(tmp) / "gov-platform.db", binding=binding) as (psims, plat),
        sharing_stack(Path(tmp) / "sharing.db", binding=binding, tls=True) as (nsims, share),
    ):
        # the licensing system is certified with the harness playing its counterparts (client-side clauses);
        # the sharing platform over TLS (SHARE.SEC.SECMGMT.3), with its own test CA in the target file, as a provincial
        # platform reporting up to the harness's national simulator (docs/two-tier.md)
        print(t("self.server", lang, url=srv.base))
        print(t("self.licensing", lang, url=lic.base, sims=", ".join(sims.urls().values())))
        print(t("self.sharing", lang, url=share.base, sims=", ".join(nsims.urls().values())))
        # the government-service platform alone (no licensing role on its server), the harness playing the
        # licensing system that receives its application pushes (T5-5)
        print(t("self.platform", lang, url=plat.base, sims=", ".join(psims.urls().values())))
        servers = {"licensing": lic, "sharing": share, "gov-platform": plat}
        stacks = {"licensing": sims, "gov-platform": psims, "sharing": nsims}
        runs = [
            (
                role,
                str(
                    demo_target(
                        Path(tmp) / f"{role}.toml",
                        servers.get(role, srv),
                        role,
                        simulators=stacks.get(role),
                        binding=binding,
                    )
                ),
                str(out / role),
                profile,
                lang,
            )
            for role in ROLES
        ]
        with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
            for r in pool.map(_role_run, runs):
                s = r["summary"]
                problems = [f"{x}" for x in r["failed"]]
                problems += [f"{c}: {t('self.untested', lang)}" for c in s["shallUntested"]]
                problems += [f"{c}: {t('self.nonconforming', lang)}" for c in s["shallNonConforming"]]
                if r["code"] == 2:
                    problems.append("exit 2")
                results.append(
                    Check(
                        t(
                            "self.suites",
                            lang,
                            role=r["role"],
                            tested=r["tested"],
                            verdict=s["certification"],
                            secs=r["seconds"],
                            path=out / r["role"] / "report.html",
                        ),
                        problems,
                    )
                )
                _print(results[-1], lang)
                for line in summary_lines(s, lang):
                    print(f"      {line}")
    return results


def defect_checks(lang: str, *, jobs: int = 2, out: Any = None, binding: Any = None) -> list[Check]:
    """Part 3 (``--defects``): the kill matrix, every defect switch against the suites that must catch it."""
    from pathlib import Path

    from conformance.selfcheck.kill_matrix import missing, render, run_matrix, write

    print(t("self.matrix", lang))
    rows = run_matrix(
        jobs=jobs,
        binding=binding,
        progress=lambda r: print(
            f"  [{t('self.ok', lang) if r.caught else t('self.fail', lang)}] {r.defect} ({r.role}, {r.seconds:.0f} s)",
            flush=True,
        ),
    )
    print(render(rows, lang))
    if out is not None:
        write(rows, Path(out), lang)
    problems = [f"{r.defect}: {r.error or r.clauses}" for r in rows if not r.caught]
    problems += [f"{name}: {t('self.no_row', lang)}" for name in missing()]
    return [Check(t("self.matrix_summary", lang, caught=sum(r.caught for r in rows), total=len(rows)), problems)]


def _print(check: Check, lang: str) -> None:
    mark = t("self.ok", lang) if check.ok else t("self.fail", lang)
    print(f"  [{mark}] {check.name}")
    for p in check.problems[:10]:
        print(f"      - {p}")


def _role_documents(out: Any, lang: str, *, pdf: bool) -> list[Check]:
    """The index page over the role reports and, on request, each role's PDF (one check: every PDF printed)."""
    from conformance.report.index import write_index

    index = write_index(out, lang)
    if index is not None:
        print(t("self.index", lang, path=index))
    if not pdf:
        return []
    from conformance.report.pdf import PdfError, write_pdf

    problems = []
    for report in sorted(out.glob("*/report.json")):
        try:
            write_pdf(report.parent, lang)
        except PdfError as exc:
            problems.append(f"{report.parent.name}: {exc}")
    if index is not None:
        write_index(out, lang)  # again, with the links to the PDFs
    check = Check(t("self.pdf", lang), problems)
    _print(check, lang)
    return [check]


def run_selfcheck(
    lang: str,
    *,
    with_reference: bool = True,
    profile: str = "quick",
    jobs: int = 2,
    defects: bool = False,
    binding: Any = None,
    pdf: bool = False,
) -> int:
    start = time.perf_counter()
    results: list[Check] = []
    print(t("self.title", lang))
    for name, func in all_checks():
        try:
            problems = func()
        except Exception as exc:  # a broken check is a failed check, reported, not a traceback
            problems = [f"{type(exc).__name__}: {exc}"]
        results.append(Check(name, problems))
        _print(results[-1], lang)
    from pathlib import Path

    from conformance.harness.runner import run_id

    out = Path("reports") / f"selfcheck-{run_id()}"
    if with_reference:
        try:
            results += reference_checks(lang, profile=profile, jobs=jobs, out=out, binding=binding)
        except Exception as exc:  # the self-check reports, it does not crash
            results.append(Check(t("self.server_failed", lang), [f"{type(exc).__name__}: {exc}"]))
            _print(results[-1], lang)
    if defects:
        results += defect_checks(lang, jobs=jobs, out=out, binding=binding)
        _print(results[-1], lang)
    if with_reference:
        results += _role_documents(out, lang, pdf=pdf)
    passed = sum(r.ok for r in results)
    verdict = t("self.ok", lang) if passed == len(results) else t("self.fail", lang)
    print(t("self.summary", lang, verdict=verdict, passed=passed, total=len(results), secs=time.perf_counter() - start))
    return 0 if passed == len(results) else 1

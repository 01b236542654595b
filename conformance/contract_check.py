"""Checks of the contract kit itself: every document valid, every reference resolved,
every fixture behaving as labelled, every code list and clause catalogue consistent.

``tzsb-conform selfcheck`` runs them all; the project's tests run them one by one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from conformance import contracts
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

    from conformance.schema_registry import registry

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


def fixture_labels(kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(folder, label)`` for every labelled fixture of ``fixtures/<kind>/*/labels.yaml``."""
    for labels in sorted((contracts.FIXTURES / kind).glob("*/labels.yaml")):
        for label in contracts.load_data(labels) or []:
            yield labels.parent.name, label


def check_json_fixture(folder: str, label: dict[str, Any]) -> list[str]:
    import orjson

    from conformance.validation import validator

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
    from conformance.xmlcheck import validate_xml

    where = f"{folder}/{label['file']}"
    path = contracts.FIXTURES / "xml" / folder / label["file"]
    if not path.is_file():
        return [f"{where}: missing"]
    issues = validate_xml(path, label.get("schema", folder))
    if label["valid"]:
        return [] if not issues else [f"{where}: expected valid, got {[i.message_en for i in issues][:3]}"]
    layer = label.get("layer")
    expect = label.get("expect", "")
    hit = any(i.layer == layer and (expect in i.path or expect in i.message_en or expect in i.message_zh) for i in issues)
    return [] if hit else [f"{where}: expected {layer} issue with {expect!r}, got {[(i.layer, i.path) for i in issues][:5]}"]


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
    from conformance.clauses import load_catalogue

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
    yield "licence items (Table 1)", check_licence_items
    yield "clause catalogue", check_clauses


def reference_checks(lang: str) -> list[Check]:
    """Part 2 of the self-check: the reference server (every role, demo data, loopback) fuzzed against
    every contract with schemathesis, and the suites run against each role with a report."""
    import tempfile
    from pathlib import Path

    from conformance.fuzz import fuzz
    from conformance.openapi_index import ROLES, documents_for_role
    from conformance.reference.server import RunningServer, ServerConfig
    from conformance.reference.target_file import write_target
    from conformance.runner import run_id, run_suites

    results: list[Check] = []
    out = Path("reports") / f"selfcheck-{run_id()}"
    with tempfile.TemporaryDirectory() as tmp, RunningServer(ServerConfig(role="all", db=Path(tmp) / "ref.db", seed=1,
                                                                                   access_log=False)) as srv:
        print(t("self.server", lang, url=srv.base))
        for role in ROLES:
            for doc in documents_for_role(role):
                report = fuzz(doc, srv.url(role), client_id="harness", client_secret="harness-secret", max_examples=3,
                              max_coverage=12, seed=1, deadline=120)
                problems = [f"{f.operation_id}: {f.message_en if lang == 'en' else f.message_zh}" for f in report.failures]
                problems += report.errors
                results.append(Check(t("self.fuzz", lang, doc=doc, n=report.requests), problems))
                _print(results[-1], lang)
            target = write_target(Path(tmp) / f"{role}.toml", {r: srv.url(r) for r in ROLES}, role)
            code = run_suites(target=str(target), role=role, profile="quick", client_id=None, features=[],
                              out=out / role, answers=None, lang=lang, extra=["-qq", "--no-header", "-p", "no:warnings"])
            import json

            report_json = json.loads((out / role / "report.json").read_text(encoding="utf-8"))
            failed = [x["nodeid"] for x in report_json["tests"] if x["outcome"] in ("failed", "error")]
            tested = sum(1 for c in report_json["clauses"] if c["tests"])
            results.append(Check(t("self.suites", lang, role=role, tested=tested, path=out / role / "report.html"),
                                 failed + ([f"exit {code}"] if code == 2 else [])))
            _print(results[-1], lang)
    return results


def _print(check: Check, lang: str) -> None:
    mark = t("self.ok", lang) if check.ok else t("self.fail", lang)
    print(f"  [{mark}] {check.name}")
    for p in check.problems[:10]:
        print(f"      - {p}")


def run_selfcheck(lang: str, *, with_reference: bool = True) -> int:
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
    if with_reference:
        try:
            results += reference_checks(lang)
        except Exception as exc:  # the self-check reports, it does not crash
            results.append(Check(t("self.server_failed", lang), [f"{type(exc).__name__}: {exc}"]))
            _print(results[-1], lang)
    passed = sum(r.ok for r in results)
    verdict = t("self.ok", lang) if passed == len(results) else t("self.fail", lang)
    print(t("self.summary", lang, verdict=verdict, passed=passed, total=len(results), secs=time.perf_counter() - start))
    return 0 if passed == len(results) else 1

"""The project's fuzz checks (``conformance.fuzz.checks``): the registry, and checks fed single exchanges.

* The registry: each check is one decorated function with a bilingual title and clause ids that resolve in the
  catalogue; what the engine runs, what ``fuzz(checks=...)`` accepts and the table of checks
  (``python -m conformance.fuzz.checks``) are the registry.
* ``field_paths``: the reference server's real validation errors pass (every project check passes them), the same
  answers with a dotted, JSONPath, bare or badly escaped field path fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from schemathesis.core.transport import Response

from conformance.contract.clauses import load_catalogue
from conformance.fuzz import checks as fc
from conformance.fuzz.engine import _load_schema, fuzz
from tests.refserver import running, token

DOC = "supervision"


# ------------------------------------------------------------------------------------ the registry


def test_the_table_is_rendered_from_the_registry() -> None:
    table = fc.render_table()
    for c in fc.CHECKS.values():
        assert f"``{c.name}``" in table and f"{c.title_zh} / {c.title_en}:" in table, c.name
        assert all(clause in table for clause in c.clauses), c.name
    assert " ".join(table.split()).count(" ".join(fc.CHECKS["field_paths"].asserts.split())) == 1


def test_every_check_has_a_bilingual_title_and_clauses_of_the_catalogue() -> None:
    known = {c["id"] for c in load_catalogue()}
    assert fc.CHECKS
    for c in fc.CHECKS.values():
        assert fc._CJK.search(c.title_zh) and c.title_en and not fc._CJK.search(c.title_en), c.name
        assert c.asserts and c.clauses, c.name
        assert set(c.clauses) <= known, f"{c.name}: clauses not in the catalogue: {set(c.clauses) - known}"


def test_what_runs_is_the_registry() -> None:
    assert tuple(fc.CHECKS) == fc.PROJECT_CHECKS
    assert [f.__name__ for f in fc.make_checks(DOC)] == list(fc.CHECKS)
    report = fuzz(DOC, "http://127.0.0.1:9", client_id="a", client_secret="b", operations=[])  # sends nothing
    assert not report.errors, report.errors
    assert report.checks[-len(fc.CHECKS) :] == list(fc.CHECKS)
    only = fuzz(DOC, "http://127.0.0.1:9", client_id="a", client_secret="b", operations=[], checks=["field_paths"])
    assert only.checks == ["field_paths"]


def test_one_decorated_function_is_a_check_the_engine_runs() -> None:
    """The issue's promise: a new check is one function; the engine, the selection and the table pick it up."""
    before = dict(fc.CHECKS)
    try:

        @fc.check(clauses=("PROFILE.ERROR.1",))
        def scratch_check(ctx: fc.CheckContext, response: Any, case: Any) -> bool | None:
            """临时检查 / Scratch check

            fails every response
            """
            ctx.fail(case, "scratch", "总是失败", "always fails", key="scratch")

        assert fc.CHECKS["scratch_check"] is scratch_check and scratch_check.clauses == ("PROFILE.ERROR.1",)
        assert (scratch_check.title_zh, scratch_check.title_en) == ("临时检查", "Scratch check")
        assert "``scratch_check``" in fc.render_table() and "fails every response" in fc.render_table()
        bound = fc.make_checks(DOC)[-1]
        assert bound.__name__ == "scratch_check"
        report = fuzz(
            DOC, "http://127.0.0.1:9", client_id="a", client_secret="b", operations=[], checks=["scratch_check"]
        )
        assert report.checks == ["scratch_check"]
    finally:
        fc.CHECKS.clear()
        fc.CHECKS.update(before)


def test_a_malformed_check_is_refused_at_definition() -> None:
    before = dict(fc.CHECKS)
    with pytest.raises(TypeError, match="中文 / English"):

        @fc.check(clauses=("PROFILE.ERROR.1",))
        def untitled(ctx: fc.CheckContext, response: Any, case: Any) -> bool | None:
            """Only English

            asserts something
            """
            return None

    with pytest.raises(TypeError, match="no clause ids"):

        @fc.check(clauses=())
        def unclaused(ctx: fc.CheckContext, response: Any, case: Any) -> bool | None:
            """无条款 / No clauses

            asserts something
            """
            return None

    with pytest.raises(TypeError, match="does not say what it asserts"):

        @fc.check(clauses=("PROFILE.ERROR.1",))
        def silent(ctx: fc.CheckContext, response: Any, case: Any) -> bool | None:
            """无说明 / No description"""
            return None

    for taken in ("envelope", "not_a_server_error"):  # a project check, a schemathesis check
        with pytest.raises(TypeError, match="name is taken"):
            fc.check(clauses=("PROFILE.ERROR.1",))(_named(taken))
    assert before == fc.CHECKS


def _named(name: str) -> Any:
    def function(ctx: fc.CheckContext, response: Any, case: Any) -> bool | None:
        """重名 / Same name

        asserts something
        """
        return None

    function.__name__ = name
    return function


# ------------------------------------------------------------------------------------ field_paths


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The supervision role's reference server (empty) and a token for it."""
    with running(tmp_path_factory.mktemp("fuzz-checks"), DOC) as srv:
        yield srv.url(), token(srv.url())


def _exchange(reference: tuple[str, str], operation_id: str, body: Any) -> tuple[Any, Response]:
    """One case of the contract's operation sent to the reference server as the fuzzer sends it."""
    base, tok = reference
    operation = _load_schema(DOC, base, None, frozenset()).find_operation_by_id(operation_id)
    case = operation.Case(body=body, headers={"Authorization": f"Bearer {tok}"}, media_type="application/json")
    return case, case.call(base_url=base, timeout=10)


def _with_body(response: Response, body: Any) -> Response:
    """The same answer with another body (a target that says the same thing wrongly)."""
    return Response(
        status_code=response.status_code,
        headers=response.headers,
        content=orjson.dumps(body),
        request=response.request,
        elapsed=response.elapsed,
        verify=response.verify,
    )


#: Field names the reference server reports unchanged, and one it must escape (RFC 6901 §3: ``~0``, ``~1``).
ODD_FIELD = "a~b/c"


@pytest.fixture(scope="module")
def refused(reference: tuple[str, str]) -> tuple[Any, Response, dict[str, Any]]:
    """The reference server's 400 for a report that lacks every required field and has an odd extra one."""
    case, response = _exchange(reference, "reportUnit", {ODD_FIELD: 1})
    body = orjson.loads(response.content)
    assert response.status_code == 400, response.content
    return case, response, body


def test_reference_validation_errors_pass_every_project_check(refused: tuple[Any, Response, dict[str, Any]]) -> None:
    case, response, body = refused
    paths = [e["path"] for e in body["errors"]]
    assert "/messageId" in paths and "/a~0b~1c" in paths, paths  # the extra field's name escaped
    for run in fc.make_checks(DOC):
        run(None, response, case)  # raises TzsbFailure when the answer breaks the check


@pytest.mark.parametrize(
    ("wrong", "shown"),
    [
        (lambda p: p.strip("/").replace("/", "."), "“messageId”"),  # bare / dotted field names
        (lambda p: "$." + p.strip("/").replace("/", "."), "“$.messageId”"),  # JSONPath
        (lambda p: "/a~b/c" if p == "/a~0b~1c" else p, "“/a~b/c”"),  # an unescaped "~"
        (lambda p: p + "~2" if p == "/unit" else p, "“/unit~2”"),  # an escape RFC 6901 does not have
    ],
    ids=["dotted", "jsonpath", "unescaped", "bad-escape"],
)
def test_field_paths_fails_paths_that_are_no_json_pointer(
    refused: tuple[Any, Response, dict[str, Any]], wrong: Any, shown: str
) -> None:
    case, response, body = refused
    bad = {**body, "errors": [{**e, "path": wrong(e["path"])} for e in body["errors"]]}
    with pytest.raises(fc.TzsbFailure) as caught:
        fc.field_paths.bind(DOC)(None, _with_body(response, bad), case)
    failure = caught.value
    assert failure.check == "field_paths" and failure.operation == case.operation.label
    assert "JSON Pointer" in failure.message_zh and "字段路径" in failure.message_zh
    assert shown in failure.message_zh and "not JSON Pointers" in failure.message_en
    assert failure.key == "/errors/*/path"


def test_field_paths_judges_only_error_bodies_with_field_errors(
    reference: tuple[str, str], refused: tuple[Any, Response, dict[str, Any]]
) -> None:
    case, response, body = refused
    run = fc.field_paths.bind(DOC)
    dotted = [{**e, "path": "unit.name"} for e in body["errors"]]
    assert run(None, _with_body(response, {**body, "errors": []}), case) is None  # nothing to judge, nothing wrong
    ok = Response(200, response.headers, orjson.dumps({**body, "errors": dotted}), response.request, 0.0, True)
    assert run(None, ok, case) is True  # a success is not an error body
    token_case, token_response = _exchange(reference, "issueToken", {"grant_type": "password"})
    assert token_response.status_code == 400, token_response.content
    rfc6749 = _with_body(token_response, {"error": "invalid_request", "errors": dotted})
    assert run(None, rfc6749, token_case) is True  # RFC 6749 §5.2 errors are not the project's envelope

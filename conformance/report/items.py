"""Test items in the GB/T 34990 form (测试项编号, 测试目的, 前置条件, 测试步骤, 预期结果; per run 实际结果 and 判定).

What a test item *is* is written once, beside the test, in its docstring (the style the suites use for purposes):

    \"\"\"<测试目的: the first paragraph>

    前置条件：<what must hold before, e.g. the clients and data the check needs>
    测试步骤：
    1. <step>
    2. <step>
    预期结果：<what the target must do>

    <English summary>
    \"\"\"

A docstring without the sections still gives its purpose (the first paragraph); steps and expected result then read
"see the purpose" and the steps actually performed are the item's recorded exchanges. The number is the module's name
and the test's place in it (``SUPERVISION-04[unit]``): stable while the module keeps its order. What the run adds —
实际结果 and 判定 — comes from the outcome (:func:`actual`, :data:`OUTCOME_VERDICT`)."""

from __future__ import annotations

import functools
import inspect
import re
from typing import Any

from conformance.report.verdicts import CONFORMS, ERROR, FAILS, NOT_APPLICABLE, UNTESTED

#: The docstring sections, in the order a test item lists them (Chinese heading → field).
SECTIONS = {"前置条件": "preconditions", "测试步骤": "steps", "预期结果": "expected"}
_HEADING = re.compile(r"^\s*(前置条件|测试步骤|预期结果)[：:]\s*(.*)$")
_STEP = re.compile(r"^\s*(?:\d+[.、)）]|[-*•])\s*")
#: A test's outcome as a GB/T 34990 verdict word (docs/certification-report.md): what is not proven is never 符合.
OUTCOME_VERDICT = {
    "passed": CONFORMS,
    "failed": FAILS,
    "error": ERROR,
    "skipped": UNTESTED,
    "vacuous": UNTESTED,
    "not-applicable": NOT_APPLICABLE,
    "not-offered": UNTESTED,
    "missing": UNTESTED,
}


def parse_doc(doc: str | None) -> dict[str, Any]:
    """``purpose``, ``preconditions``, ``steps`` (a list) and ``expected`` of a test's docstring (None / [] when it
    does not say)."""
    out: dict[str, Any] = {"purpose": None, "preconditions": None, "steps": [], "expected": None}
    if not doc or not doc.strip():
        return out
    lines = inspect.cleandoc(doc).splitlines()
    purpose: list[str] = []
    current: str | None = None
    text: dict[str, list[str]] = {"preconditions": [], "steps": [], "expected": []}
    for line in lines:
        heading = _HEADING.match(line)
        if heading:
            current = SECTIONS[heading.group(1)]
            if heading.group(2).strip():
                text[current].append(heading.group(2).strip())
            continue
        if current is None:
            if not line.strip() and purpose:
                current = "-"  # the first paragraph is the purpose; what follows without a heading is not an item field
                continue
            if line.strip():
                purpose.append(line.strip())
        elif current != "-":
            if not line.strip():
                current = "-"  # a blank line ends a section (the English summary follows)
            else:
                text[current].append(line.strip())
    out["purpose"] = "".join(purpose) or None
    out["preconditions"] = "".join(text["preconditions"]) or None
    out["expected"] = "".join(text["expected"]) or None
    steps: list[str] = []
    for line in text["steps"]:
        if _STEP.match(line) or not steps:
            steps.append(_STEP.sub("", line, count=1))
        else:
            steps[-1] += line
    out["steps"] = steps
    return out


@functools.cache
def _order(module: Any) -> dict[str, int]:
    """The place (1-based) of each test function of ``module``, in the order they are written."""
    tests = [
        (obj.__code__.co_firstlineno, name)
        for name, obj in vars(module).items()
        if name.startswith("test_") and inspect.isfunction(obj)
    ]
    return {name: i for i, (_, name) in enumerate(sorted(tests), start=1)}


def item_number(module: Any, function: str, params: str | None) -> str:
    """``<MODULE>-<nn>[<params>]``: the module without ``test_``, upper case, and the test's place in it."""
    name = getattr(module, "__name__", "suite").rsplit(".", 1)[-1].removeprefix("test_").upper().replace("_", "-")
    number = _order(module).get(function, 0)
    return f"{name}-{number:02d}" + (f"[{params}]" if params else "")


def actual(outcome: str, message: str | None, reason: str | None, exchanges: int, requests: int | None = None) -> str:
    """实际结果 in a line: what the run saw (``requests``: what the item sent when its evidence keeps a sample)."""
    lines = [ln.strip() for ln in (message or "").splitlines() if ln.strip()]
    first = next((ln[1:].strip() for ln in lines if ln.startswith("E ")), None) or (
        lines[0] if len(lines) == 1 else None
    )
    if outcome == "passed":
        if requests is not None:
            return (
                f"与预期一致（发出 {requests} 个请求，证据中留存 {exchanges} 个样例）/ "
                f"as expected ({requests} requests sent, {exchanges} kept as samples in the evidence)"
            )
        return f"与预期一致（{exchanges} 次交互）/ as expected ({exchanges} exchanges)"
    if outcome == "error" and not reason and first:
        return first[:400]
    if outcome == "failed":
        if first:
            return first[:400]
        return (lines[-1] if lines else "不符合 / does not conform")[:400]
    return (reason or message or outcome).strip()[:400]


#: Exchanges of an item shown in the HTML report besides the failing ones (all of them are in evidence.json).
SHOWN_EXCHANGES = 4


def assertion(message: str | None) -> str | None:
    """Where a failing test stopped, from its traceback: the source line pytest marks with ``>``, the ``E`` lines that
    explain it and the ``file:line`` that follows (None when the message has none of these, e.g. a skip reason)."""
    lines = (message or "").splitlines()
    marks = [i for i, ln in enumerate(lines) if ln.startswith(">")]
    start = marks[-1] if marks else next((i for i, ln in enumerate(lines) if ln.startswith("E ")), None)
    if start is None:
        return None
    out = [lines[start].rstrip()]
    for ln in lines[start + 1 :]:
        if ln.startswith("E ") or ln.strip() == "E":
            out.append(ln.rstrip())
        elif re.match(r"^\S+:\d+: ", ln):
            out.append(ln.rstrip())  # the file and line the assertion is on
            break
        elif ln.strip() and out[-1].startswith("E "):
            break
    return "\n".join(out)


def item_views(report: dict[str, Any], evidence: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per test (node id) what the report shows under its item: the indices of its exchanges in ``evidence``, the
    failing ones first, and the assertion it stopped at.

    A failing exchange is one the harness recorded with an error (a fuzzing finding, a network error); when a failed
    test has none, it is the last exchange the test made before its assertion: the request/response it judged last."""
    by_test: dict[str, list[int]] = {}
    for i, x in enumerate(evidence):
        by_test.setdefault(x.get("test") or "", []).append(i)
    views: dict[str, dict[str, Any]] = {}
    for t in report.get("tests") or []:
        own = by_test.get(t["nodeid"], [])
        failing: list[int] = []
        last = False
        if t["outcome"] in ("failed", "error") and own:
            failing = [i for i in own if evidence[i].get("error")]
            if not failing:
                failing, last = [own[-1]], True
        rest = [i for i in own if i not in failing]
        views[t["nodeid"]] = {
            "failing": failing,
            "lastBeforeAssertion": last,
            "shown": rest[:SHOWN_EXCHANGES],
            "more": max(0, len(rest) - SHOWN_EXCHANGES),
            "assertion": ((t.get("item") or {}).get("assertion") or assertion(t.get("message")))
            if t["outcome"] in ("failed", "error")
            else None,
        }
    return views


def item_groups(nodeids: list[str], tests: dict[str, dict[str, Any]]) -> list[list[str]]:
    """``nodeids`` (a clause's tests, in order) in groups: the items of one parametrised test that state the same
    purpose, preconditions, steps and expected result, so that a printed report states them once and lists each
    item's number, actual result and verdict under them; any other test is a group of its own."""

    def stated(nodeid: str) -> tuple[Any, ...] | None:
        item = (tests.get(nodeid) or {}).get("item")
        if not item:
            return None
        fields = (item["purpose"], item["preconditions"], tuple(item["steps"]), item["expected"])
        return (nodeid.split("[", 1)[0], *fields)

    groups: list[list[str]] = []
    last: tuple[Any, ...] | None = None
    for nodeid in nodeids:
        key = stated(nodeid)
        if groups and key is not None and key == last and "[" in nodeid:
            groups[-1].append(nodeid)
        else:
            groups.append([nodeid])
        last = key
    return groups

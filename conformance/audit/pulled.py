"""An audit of data pulled from a sharing target (``tzsb-conform audit --target``): what the pull came to, said in
the report. The pull itself is :mod:`conformance.harness.pull`; this module only reads its account (``pull.json``,
``audit-report.schema.json#/$defs/pull``).

* ``pulled``: the account, as it is;
* ``input``: the target's change feed and the folder it was pulled to;
* every 未测 check that reads a data set the pull did not bring in full gets the pull's reason beside the run's
  ("not in the input");
* a pull that is not complete (a data set failed or stopped early) leaves no overall 符合: what could not be read is
  not met either (as for an interrupted audit).
"""

from __future__ import annotations

from typing import Any

from conformance.audit.catalogue import checks
from conformance.audit.run import MET, UNTESTED

#: What a pull's status says of a data set (Chinese, English).
STATUS_WORDS: dict[str, tuple[str, str]] = {
    "refused": ("拉取被拒绝", "pull refused"),
    "failed": ("拉取失败", "pull failed"),
    "incomplete": (
        "拉取未完成（中途停止，已拉取部分不参与评价）",
        "pull incomplete (stopped early; nothing of it audited)",
    ),
}


def reasons(pull: dict[str, Any]) -> dict[str, str]:
    """Data set → why the pull did not bring it (for the data sets it did not read to the end of their feed)."""
    out: dict[str, str] = {}
    for d in pull["dataSets"]:
        if d["status"] == "complete":
            continue
        zh, en = STATUS_WORDS[d["status"]]
        out[d["name"]] = f"{zh} / {en}：{d['reason'] or '—'}"
    return out


def annotate(report: dict[str, Any], pull: dict[str, Any]) -> None:
    """Say in ``report`` (an audit of the pull's folder) where its data came from and what the pull could not read."""
    report["pulled"] = pull
    report["input"] = (
        f"{pull['url']} 的增量同步（拉取至 {pull['folder']}）/ change feed of {pull['url']} (pulled to {pull['folder']})"
    )
    why = reasons(pull)
    needs = {c.id: (c.data_set, *c.needs_sets) for c in checks()}
    for result in report["checks"]:
        if result["verdict"] != UNTESTED and not (result["verdict"] is None and result.get("untested")):
            continue
        missing = [why[s] for s in needs.get(result["id"], (result["dataSet"],)) if s in why]
        if missing and result.get("untested"):
            result["untested"] = f"{result['untested']}；{'；'.join(missing)}"
    if not pull["complete"] and report["verdict"] == MET:
        report["verdict"] = UNTESTED

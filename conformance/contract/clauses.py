"""The requirement catalogue (``schemas/clauses/*.yaml``): loading and listing."""

from __future__ import annotations

import functools
from typing import Any

from conformance.contract import documents as contracts

LEVEL_ZH = {"shall": "应", "should": "宜", "may": "可"}
VERIFY_ZH = {"automated": "自动测试", "attestation": "证明材料", "not-testable": "接口不可测"}


@functools.cache
def catalogue_files() -> dict[str, dict[str, Any]]:
    return {p.stem: contracts.load_data(p) for p in sorted(contracts.CLAUSES_DIR.glob("*.yaml"))}


def load_catalogue() -> list[dict[str, Any]]:
    """Every clause of every catalogue file, each with its document key."""
    out: list[dict[str, Any]] = []
    for data in catalogue_files().values():
        key = data["document"]["key"]
        out.extend({**c, "document": key} for c in data["clauses"])
    return out


def run_list(lang: str, answers_role: str | None = None) -> int:
    if answers_role:
        print(answers_template(answers_role, lang), end="")
        return 0
    for c in load_catalogue():
        level = c["level"] if lang == "en" else LEVEL_ZH[c["level"]]
        how = c["verification"] if lang == "en" else VERIFY_ZH[c["verification"]]
        title = c.get("title_en") if lang == "en" and c.get("title_en") else c["title"]
        print(f"{c['id']:<28} {level:<7} {how:<10} {c['clause']:<16} {title}")
    return 0


def answers_template(role: str, lang: str = "zh") -> str:
    """A YAML skeleton of the attestation answers file for ``role`` (every attestation clause, answer pending)."""

    lines = [
        "# 证明材料答复文件 / attestation answers (schemas/json/attestation-answers.schema.json)",
        f"# 角色 / role: {role}. answer: yes | no | partly | n/a | pending; by: 证明人（姓名、岗位、单位）; "
        "evidence: 证明材料（文件名称、文号、存放位置）",
        "",
    ]
    for c in load_catalogue():
        if c["verification"] != "attestation" or (c.get("roles") and role not in c["roles"]):
            continue
        title = c.get("title_en") if lang == "en" and c.get("title_en") else c["title"]
        lines += [
            f"# {c['level']} · {c['clause']} · {title}",
            f"# {c.get('reason') or ''}".rstrip(),
            f"{c['id']}:",
            "  answer: pending",
            '  by: ""',
            '  evidence: ""',
            "",
        ]
    return "\n".join(line for line in lines if line != "#") + "\n"


@functools.cache
def target_features() -> dict[str, dict[str, Any]]:
    """The features a target may declare (``schemas/codelists/target-features.json``), by name: ``kind`` is
    ``option`` (an option of the standard: undeclared → 不适用) or ``means`` (a means of testing: absent → 未测)."""
    return {f["name"]: f for f in contracts.codelist("target-features")["items"]}


def is_means_of_testing(feature: str) -> bool:
    return target_features().get(feature, {}).get("kind") == "means"


def provide_text(feature: str) -> str:
    f = target_features().get(feature, {})
    return (
        f"{f.get('provide', '')} / {f.get('provide_en', '')}".strip(" /")
        or f"在目标文件 [features] 声明 {feature} / declare {feature}"
    )

"""许可事项办理项代码 (licence handling item), DB42/T 2279-2024 Table 1, coded ``01100000-GG-OO``.

``01100000`` is the SG 6-2021 item code of 特种设备使用登记 (DB42/T 2279-2024 §9.2, taken from
``licence-categories.json``), ``GG`` the equipment group of Table 1 and ``OO`` the operation
(docs/CONVENTIONS.md, "Licence item codes"; the code is the project's, the names are the
standard's). The value must be one of the 114 items of ``licence-items.json``: a structurally
valid code that names a combination the standard does not have (e.g. ``01100000-07-04``, pressure
piping has no 迁出) is refused with a message that says so. "Issued" and "held" are the same.
"""

from __future__ import annotations

import random
import re

from conformance.codes import lists
from conformance.codes.base import CodeKind, PartSpec, Problem, parts_of

SPECS = (
    PartSpec("许可事项代码", "item code", 0, 8),
    PartSpec("设备组", "equipment group", 9, 11),
    PartSpec("办理类型", "operation", 12, 14),
)
_SHAPE = re.compile(r"([0-9]{8})-([0-9]{2})-([0-9]{2})")


def short_operation(name: str) -> str:
    """The operation name without its bracketed gloss: 迁出（跨区域注销） → 迁出."""
    for bracket in ("（", "("):
        if bracket in name:
            return name.split(bracket, 1)[0]
    return name


def _slow(value: str, issued: bool) -> list[Problem]:
    m = _SHAPE.fullmatch(value)
    if m is None:
        return [
            Problem(
                "value",
                f"格式应为「01100000-GG-OO」（8位事项代码-2位设备组-2位办理类型，共14位），实为「{value}」（{len(value)}位）",
                f"format should be 01100000-GG-OO (8-digit item code, 2-digit group, 2-digit operation; "
                f"14 characters), is {value!r} ({len(value)} characters)",
            )
        ]
    item, group, op = m.groups()
    problems: list[Problem] = []
    _, use_item = lists.use_registration()
    if item != use_item:
        problems.append(
            Problem(
                "item code",
                f"许可事项代码「{item}」应为特种设备使用登记的 {use_item}（SG 6-2021）",
                f"item code {item} should be {use_item}, 特种设备使用登记 (SG 6-2021)",
            )
        )
    groups, ops = lists.licence_groups(), lists.licence_operations()
    g, o = groups.get(group), ops.get(op)
    if g is None:
        problems.append(
            Problem(
                "equipment group",
                f"设备组「{group}」不存在（表1 只有 {min(groups)}–{max(groups)}）",
                f"equipment group {group} does not exist (Table 1 has {min(groups)}-{max(groups)})",
            )
        )
    if o is None:
        problems.append(
            Problem(
                "operation",
                f"办理类型「{op}」不存在（只有 {min(ops)}–{max(ops)}）",
                f"operation {op} does not exist (only {min(ops)}-{max(ops)})",
            )
        )
    if g is not None and o is not None and f"{use_item}-{group}-{op}" not in lists.licence_items():
        short = short_operation(o["name"])
        available = [ops[it["operation"]]["name"] for it in lists.licence_items().values() if it["group"] == group]
        problems.append(
            Problem(
                "operation",
                f'{g["name"]}无"{short}"办理项（DB42/T 2279-2024 表1；该设备组的办理项为：{"、".join(available)}）',
                f'{g["equipment"]} use registration has no "{short}" handling item '
                f"(operation {op}, group {group}; DB42/T 2279-2024 Table 1)",
            )
        )
    return problems


def generate(rng: random.Random, **hints: object) -> str:
    """One of the 114 items; hints: ``group`` (GG), ``operation`` (OO)."""
    group, op = hints.get("group"), hints.get("operation")
    pool = sorted(
        code
        for code, it in lists.licence_items().items()
        if (group is None or it["group"] == group) and (op is None or it["operation"] == op)
    )
    if not pool:
        raise ValueError(f"no licence item with group={group!r} operation={op!r}")
    return rng.choice(pool)


KIND = CodeKind(
    "item-code",
    "许可事项办理项代码",
    "licence handling item code",
    "DB42/T 2279-2024 表1；SG 6-2021",
    parts_of(SPECS),
    _slow,
    generate,
    quick=lambda value: type(value) is str and value in lists.licence_items(),
)

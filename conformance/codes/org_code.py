"""组织机构代码 (organisation code), GB 11714-1997.

Rule: 8 body characters ``0-9 A-Z`` (A=10 … Z=35), weights ``3 7 9 10 5 8 4 2``;
check ``C9 = 11 − (Σ v·w mod 11)``, with 10 → ``X`` and 11 → ``0``. Written as 9 characters or
as ``XXXXXXXX-X``; both forms are accepted for both questions ("issued" and "held"). Lower-case
letters are errors in both modes (no silent normalisation of a check-digit code).

Note: because the weights are taken mod 11 and body values go up to 35, two body characters
whose values differ by 11 or 22 (``0``/``B``/``M``, ``1``/``C``/``N`` …) at the same position give
the same check character: GB 11714 does not detect every single substitution.
"""

from __future__ import annotations

import random
import string
from operator import getitem

from conformance.codes.base import (
    ERROR,
    CodeKind,
    Part,
    Problem,
    char_problems,
    digit_or_x_problem,
    wrong_check,
)

BODY_ALPHABET = string.digits + string.ascii_uppercase
CHECK_ALPHABET = string.digits + "X"
WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

#: Per-position tables: character → value·weight (a KeyError means a character outside 0-9A-Z).
TABLES: tuple[dict[str, int], ...] = tuple({c: BODY_ALPHABET.index(c) * w for c in BODY_ALPHABET} for w in WEIGHTS)
CHECK_OF = {r: ("X" if 11 - r == 10 else "0" if 11 - r == 11 else str(11 - r)) for r in range(11)}


def org_check_char(first8: str) -> str:
    """GB 11714 check character of an 8-character body (``ValueError`` on a bad character)."""
    if len(first8) != 8:
        raise ValueError(f"organisation code body must have 8 characters, got {len(first8)}")
    try:
        total = sum(map(getitem, TABLES, first8))
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} not allowed in an organisation code body") from None
    return CHECK_OF[total % 11]


def _split(value: str) -> list[Part]:
    check = value[9:10] if len(value) == 10 and value[8:9] == "-" else value[8:9]
    return [Part("本体代码", "body", value[:8]), Part("校验码", "check character", check)]


def _quick(value: object) -> bool:
    """A well-formed 9-character code."""
    try:
        return type(value) is str and len(value) == 9 and CHECK_OF[sum(map(getitem, TABLES, value)) % 11] == value[8]
    except KeyError:
        return False


def _slow(value: str, issued: bool) -> list[Problem]:
    n = len(value)
    if n == 10 and value[8] == "-":
        body, check, check_index = value[:8], value[9], 9
    elif n == 9:
        body, check, check_index = value[:8], value[8], 8
    else:
        return [
            Problem(
                "value",
                f"长度应为9位（或带连字符的10位 XXXXXXXX-X），实为{n}位",
                f"length should be 9 (or 10 as XXXXXXXX-X), is {n}",
            )
        ]
    problems = char_problems(body, BODY_ALPHABET, "body", "本体代码", "数字或大写字母", "0-9 or A-Z")
    if check not in CHECK_ALPHABET:
        problems.append(digit_or_x_problem(check_index, check))
    if not any(p.severity == ERROR for p in problems) and (expected := org_check_char(body)) != check:
        problems.append(wrong_check(check_index, expected, check, "GB 11714"))
    return problems


def generate(rng: random.Random, **hints: object) -> str:
    """A valid code; hints: ``hyphen`` (bool), ``body`` (8 characters)."""
    body = str(hints.get("body") or "")
    if len(body) != 8:
        if rng.random() < 0.6:
            body = "".join(rng.choice(string.digits) for _ in range(8))
        else:  # codes issued with a 统一代码 often start with MA
            body = "MA" + "".join(rng.choice(BODY_ALPHABET) for _ in range(6))
    check = org_check_char(body)
    return f"{body}-{check}" if hints.get("hyphen") else body + check


KIND = CodeKind("org-code", "组织机构代码", "organisation code", "GB 11714-1997", _split, _slow, generate, quick=_quick)

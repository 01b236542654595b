"""统一社会信用代码 (unified social credit code, USCC), GB 32100-2015.

Layout (18 characters): 登记管理部门代码 (1) + 机构类别代码 (1) + 登记管理机关行政区划码 (6,
GB/T 2260; ``100000`` = central level) + 主体标识码 = 组织机构代码 (9, GB 11714) + 校验码 (1).

Rules applied:

* Alphabet ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (no I O Z S V), values 0–30; positions 3–8 are digits.
* Check character (GB 32100-2015 §4.2): weights 3^(i−1) mod 31, c18 = (31 − Σ v·w mod 31) mod 31.
  Always an error when wrong; lenient mode does not relax a check character.
* Inner organisation code (positions 9–17) with its own GB 11714 check: a code can pass one check
  and fail the other and the result says which. Strict: error; lenient: warning (early pilot
  regions issued codes whose body is not a GB 11714 code).
* 登记管理部门 / 机构类别 pairs outside the known table below: warning only (the table is
  uncertain at its edges, docs/identifiers.md "Uncertain rules").
* Division part: structure is checked; a code missing from divisions.json is only a warning (the
  code of the registering authority at issue time, possibly withdrawn since).
"""

from __future__ import annotations

import random
from operator import getitem

from conformance.codes import lists, org_code
from conformance.codes.base import (
    ERROR,
    WARNING,
    CodeKind,
    PartSpec,
    Problem,
    by_severity,
    length_problem,
    parts_of,
    pos,
    wrong_check,
)
from conformance.codes.division import CENTRAL, division_problems

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
DIGITS = "0123456789"
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
EXCLUDED = "IOZSV"

#: GB 32100-2015 Annex A as commonly implemented: 登记管理部门代码 → allowed 机构类别代码.
#: Not a shipped code list: docs/identifiers.md "Uncertain rules" marks it uncertain at the edges, so misses only warn.
DEPT_CATEGORIES: dict[str, str] = {
    "1": "1239",  # 机构编制: 机关, 事业单位, 中央编办直接管理机构编制的群众团体, 其他
    "2": "19",  # 外交
    "3": "123459",  # 司法行政: 律师执业机构, 公证处, 基层法律服务所, 司法鉴定机构, 仲裁委员会, 其他
    "4": "19",  # 文化
    "5": "1239",  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
    "6": "129",  # 旅游
    "7": "129",  # 宗教
    "8": "19",  # 工会
    "9": "123",  # 工商: 企业, 个体工商户, 农民专业合作社
    "A": "19",  # 中央军委改革和编制办公室
    "N": "1239",  # 农业
    "Y": "1",  # 其他
}
PAIRS = frozenset(d + c for d, cs in DEPT_CATEGORIES.items() for c in cs)

SPECS = (
    PartSpec("登记管理部门代码", "registration department", 0, 1),
    PartSpec("机构类别代码", "organisation category", 1, 2),
    PartSpec("登记管理机关行政区划码", "division", 2, 8),
    PartSpec("主体标识码（组织机构代码）", "organisation code", 8, 17),
    PartSpec("校验码", "check character", 17, 18),
)

# Per-position tables character → value·weight; positions 3–8 accept digits only, so a
# KeyError on the fast path means "some character is wrong somewhere": take the slow path.
_TABLES: tuple[dict[str, int], ...] = tuple(
    {c: ALPHABET.index(c) * w for c in (DIGITS if 2 <= i <= 7 else ALPHABET)} for i, w in enumerate(WEIGHTS)
)
_FULL_TABLES: tuple[dict[str, int], ...] = tuple({c: ALPHABET.index(c) * w for c in ALPHABET} for w in WEIGHTS)


def uscc_check_char(first17: str) -> str:
    """GB 32100-2015 check character of the first 17 characters (``ValueError`` on a bad character)."""
    if len(first17) != 17:
        raise ValueError(f"USCC check needs 17 characters, got {len(first17)}")
    try:
        total = sum(map(getitem, _FULL_TABLES, first17))
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not in the USCC alphabet") from None
    return ALPHABET[-total % 31]


def fast_ok(value: object, *, central: bool = False) -> bool:
    """True when ``value`` is a USCC without any problem (no error, no warning).

    The cheap path used by :func:`validate` and by identifiers that embed a USCC; ``central``
    also accepts the division part ``100000`` (central-level registration, an info note only).
    """
    if type(value) is not str or len(value) != 18:
        return False
    try:
        return (
            ALPHABET[-sum(map(getitem, _TABLES, value)) % 31] == value[17]
            and org_code.CHECK_OF[sum(map(getitem, org_code.TABLES, value[8:16])) % 11] == value[16]
            and value[:2] in PAIRS
            and (value[2:8] in lists.division_codes() or (central and value[2:8] == CENTRAL))
        )
    except KeyError:
        return False


def _slow(value: str, issued: bool) -> list[Problem]:
    n = len(value)
    if n == 18:
        return uscc_problems(value, issued)
    if n == 15 and value.isdigit():
        return [
            Problem(
                "value",
                "长度应为18位，实为15位（可能是旧的15位工商注册号，不是统一社会信用代码）",
                "length should be 18, is 15 (looks like an old 15-digit business registration number, not a USCC)",
            )
        ]
    if n == 9 or (n == 10 and value[8:9] == "-"):
        return [
            Problem(
                "value",
                f"长度应为18位，实为{n}位（可能是组织机构代码，即统一社会信用代码的第9–17位）",
                f"length should be 18, is {n} (looks like an organisation code, positions 9-17 of a USCC)",
            )
        ]
    return [length_problem(18, n)]


def uscc_problems(value: str, strict: bool, offset: int = 0) -> list[Problem]:
    """All problems of an 18-character USCC (``offset`` shifts positions when embedded)."""
    problems: list[Problem] = []
    for i, ch in enumerate(value):
        allowed = DIGITS if 2 <= i <= 7 else ALPHABET
        if ch in allowed:
            continue
        spec = next(s for s in SPECS if s.start <= i < s.end)
        zh_pos, en_pos = pos(i, offset)
        if ch in EXCLUDED:
            why_zh, why_en = "（GB 32100 字符集不含 I、O、Z、S、V）", " (the GB 32100 alphabet has no I, O, Z, S, V)"
        elif "a" <= ch <= "z":
            why_zh, why_en = "（小写字母）", " (lower-case letter)"
        elif allowed is DIGITS and ch in ALPHABET:
            why_zh, why_en = "（行政区划码只能是数字）", " (the division part is digits only)"
        else:
            why_zh, why_en = "", ""
        want_zh, want_en = (
            ("数字", "a digit")
            if allowed is DIGITS
            else ("0-9 或除 I、O、Z、S、V 外的大写字母", "0-9 or A-Z without I, O, Z, S, V")
        )
        problems.append(
            Problem(
                spec.name_en,
                f"{spec.name_zh}{zh_pos}字符「{ch}」不合法{why_zh}，应为{want_zh}",
                f"{spec.name_en} at {en_pos}: character {ch!r} not allowed{why_en}; expected {want_en}",
            )
        )
    if problems:
        return problems

    org_ok, org_problem = _org_problem(value, strict, offset)
    expected = uscc_check_char(value[:17])
    if expected != value[17]:
        span, span_en = f"{9 + offset}–{17 + offset}", f"{9 + offset}-{17 + offset}"
        note_zh = f"；第{span}位组织机构代码自身校验正确" if org_ok else f"；第{span}位组织机构代码校验也不符"
        note_en = (
            f"; the inner organisation code (positions {span_en}) checks out"
            if org_ok
            else f"; the inner organisation code (positions {span_en}) fails its own check too"
        )
        problems.append(wrong_check(17, expected, value[17], "GB 32100", note_zh, note_en, offset))
    if org_problem is not None:
        problems.append(org_problem)

    problems.extend(
        division_problems(
            value[2:8],
            membership=WARNING,
            part_zh="登记管理机关行政区划码",
            start=2,
            offset=offset,
            allow_central=True,
            lifetime=not strict,  # held: a code keeps the division of its registering authority when it was issued
        )
    )
    if value[:2] not in PAIRS:
        dept, cat = value[0], value[1]
        if dept in DEPT_CATEGORIES:
            zh = f"登记管理部门代码 {dept} 下未知的机构类别代码 {cat}（已知：{'、'.join(DEPT_CATEGORIES[dept])}）"
            en = f"organisation category {cat} unknown under registration department {dept} (known: {', '.join(DEPT_CATEGORIES[dept])})"
        else:
            zh = f"未知的登记管理部门代码 {dept}（已知：{'、'.join(DEPT_CATEGORIES)}）"
            en = f"unknown registration department {dept} (known: {', '.join(DEPT_CATEGORIES)})"
        problems.append(
            Problem("organisation category" if dept in DEPT_CATEGORIES else "registration department", zh, en, WARNING)
        )
    return by_severity(problems)


def _org_problem(value: str, strict: bool, offset: int) -> tuple[bool, Problem | None]:
    """(inner org code checks out, problem or None) for positions 9–17."""
    severity = ERROR if strict else WARNING
    body, check = value[8:16], value[16]
    zh_pos, en_pos = pos(16, offset)
    if check not in org_code.CHECK_ALPHABET:
        return False, Problem(
            "organisation code",
            f"主体标识码（组织机构代码）校验位{zh_pos}「{check}」不合法：GB 11714 校验位只能是数字或 X",
            f"organisation code check character at {en_pos} is {check!r}: GB 11714 allows only a digit or X",
            severity,
        )
    expected = org_code.org_check_char(body)
    if expected == check:
        return True, None
    uscc_ok = uscc_check_char(value[:17]) == value[17]
    note_zh = "；统一社会信用代码校验码本身正确" if uscc_ok else ""
    note_en = "; the USCC check character itself is right" if uscc_ok else ""
    return False, Problem(
        "organisation code",
        f"主体标识码（组织机构代码）校验位错误：{zh_pos}应为 {expected}，实为 {check}（GB 11714）{note_zh}",
        f"organisation code (positions {9 + offset}-{17 + offset}) check wrong: {en_pos} should be {expected}, "
        f"is {check} (GB 11714){note_en}",
        severity,
    )


# Realistic mix of registration department + category (enterprises dominate).
_GEN_PAIRS = (("91", 60), ("92", 10), ("93", 3), ("12", 8), ("11", 6), ("52", 4), ("51", 3), ("31", 1), ("N2", 1))


def generate(rng: random.Random, **hints: object) -> str:
    """A valid USCC; hints: ``division`` (6 digits or 100000), ``pair`` (e.g. "91"), ``org`` (8-character body)."""
    pair = str(hints.get("pair") or "")
    if pair not in PAIRS:
        pair = rng.choices([p for p, _ in _GEN_PAIRS], weights=[w for _, w in _GEN_PAIRS])[0]
    division = str(hints.get("division") or "")
    if len(division) != 6 or not (division == CENTRAL or division in lists.division_codes()):
        division = rng.choice(lists.division_pool("county"))
    body = str(hints.get("org") or "")
    if len(body) != 8 or any(c not in ALPHABET for c in body):
        if rng.random() < 0.55:
            body = "".join(rng.choice(DIGITS) for _ in range(8))
        else:
            body = "MA" + "".join(rng.choice(ALPHABET) for _ in range(6))
    first17 = pair + division + body + org_code.org_check_char(body)
    return first17 + uscc_check_char(first17)


KIND = CodeKind(
    "uscc",
    "统一社会信用代码",
    "unified social credit code",
    "GB 32100-2015; GB 11714-1997",
    parts_of(SPECS),
    _slow,
    generate,
    fast_ok,
)
validate = KIND.validator

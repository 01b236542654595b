"""电子证照标识 (e-licence identifier), GB/T 36904-2018 《电子证照 标识规范》 (GB/T 36901–36905 family).

Layout, parts separated by ``.``::

    1.2.156.3005.2 . 证照类型代码 . 证照颁发机构代码 . 流水号 . 版本号 . 校验位
    (root OID)       (USCC of the    (issuer code)      (licence  (3       (1)
                     defining body                      number)   digits)
                     18 + seq 3)

Check character: ISO/IEC 7064 MOD 37,36 (hybrid system, alphabet ``0-9 A-Z`` = values 0–35),
computed over 证照类型代码 + 证照颁发机构代码 + 流水号 + 版本号 **with the dots removed and
without the root OID**.

Evidence for that scope: the published identifiers
``…11100000000013338W011.11430000006122244L.20230000403.001.U`` (a ministry interface spec),
``…11100000000013338W009.11330105002500287C.2025052201.002.0`` (a Zhejiang platform file name) and
``…11100000MB03271699022.340100.000000016.001.9`` (Hefei test data) all verify with this scope and
none with the root included; public generators (Epoint ``CertCheckUtil``, a real-estate registry
``ISO7064Util`` caller, ``LicenseUtils.createCertificateSourceId``) concatenate exactly these four
parts. One implementation (zfsoft ``BusinessUtil``) includes the root OID digits: for the "held"
question (alias lenient) a check character that only matches that variant is a warning, for
"issued" (alias strict) an error.

Other rules: the type code is an 18-character USCC (full GB 32100 check) + a 3-digit sequence.
The issuer code is, per GB/T 36904, the issuer's USCC: "issued" requires a valid USCC; "held"
accepts any ``0-9A-Z`` code (division codes such as ``340100`` are seen) with a warning. The
licence number must use ``0-9 A-Z`` (the MOD 37,36 alphabet; lower case is an error). Version is 3
digits (``000`` warns: versions start at 001).
"""

from __future__ import annotations

import random
import re
import string

from conformance.codes import uscc
from conformance.codes.base import ERROR, WARNING, CodeKind, Part, Problem, by_severity, shift

ROOT = "1.2.156.3005.2"
ALPHABET = string.digits + string.ascii_uppercase
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
# transition table of the hybrid MOD 37,36 system: _STEP[p][c] = next p (p in 1..36)
_STEP: tuple[dict[str, int], ...] = tuple(
    {c: ((((p + v) % 36) or 36) * 2) % 37 for c, v in _VALUE.items()} for p in range(37)
)

PART_NAMES = (
    ("电子证照根代码", "root OID"),
    ("证照类型代码", "licence type code"),
    ("证照颁发机构代码", "issuer code"),
    ("流水号", "licence number"),
    ("版本号", "version"),
    ("校验位", "check character"),
)
_FAST = re.compile(
    r"1\.2\.156\.3005\.2\.([0-9A-Z]{18})([0-9]{3})\.([0-9A-Z]{18})\.([0-9A-Z]+)\.(00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})\.([0-9A-Z])"
)


def mod37_36_check(s: str) -> str:
    """ISO/IEC 7064 MOD 37,36 check character of ``s`` (``0-9 A-Z``; ``ValueError`` otherwise)."""
    p = 36
    try:
        for ch in s:
            p = _STEP[p][ch]
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not in the MOD 37,36 alphabet 0-9 A-Z") from None
    return ALPHABET[(37 - p) % 36]


def _split(value: str) -> list[Part]:
    fields = [ROOT, *value[len(ROOT) + 1 :].split(".")]
    if value.startswith(ROOT + ".") and len(fields) == 6:
        return [Part(zh, en, v) for (zh, en), v in zip(PART_NAMES, fields, strict=True)]
    return [Part("电子证照标识", "identifier", value)]


def _quick(value: object) -> bool:
    m = _FAST.fullmatch(value) if type(value) is str else None
    return (
        m is not None
        and mod37_36_check(m.group(1) + m.group(2) + m.group(3) + m.group(4) + m.group(5)) == m.group(6)
        and uscc.fast_ok(m.group(1), central=True)
        and uscc.fast_ok(m.group(3), central=True)
    )


def _alphabet_problems(text: str, part: str, part_zh: str) -> list[Problem]:
    bad = sorted({c for c in text if c not in _VALUE})
    if not bad:
        return []
    lower = any("a" <= c <= "z" for c in bad)
    shown = "、".join(f"「{c}」" for c in bad[:5])
    return [
        Problem(
            part,
            f"{part_zh}含不合法字符 {shown}{'（小写字母）' if lower else ''}：只允许数字和大写字母（MOD 37,36 字符集）",
            f"{part} contains {', '.join(repr(c) for c in bad[:5])}{' (lower case)' if lower else ''}: "
            "only 0-9 and A-Z are allowed (the MOD 37,36 alphabet)",
        )
    ]


def _slow(value: str, strict: bool) -> list[Problem]:
    if not value.startswith(ROOT + "."):
        got = ".".join(value.split(".")[:5])
        return [
            Problem(
                "root OID",
                f"电子证照根代码应为「{ROOT}」，实为「{got}」",
                f"root OID should be {ROOT}, is {got!r}",
            )
        ]
    fields = value[len(ROOT) + 1 :].split(".")
    if len(fields) != 5:
        return [
            Problem(
                "value",
                f"根代码之后应有5段（类型代码.颁发机构代码.流水号.版本号.校验位），实为{len(fields)}段",
                f"after the root OID there should be 5 dot-separated parts (type.issuer.number.version.check), "
                f"found {len(fields)}",
            )
        ]
    type_code, issuer, number, version, check = fields
    relaxed = ERROR if strict else WARNING
    problems: list[Problem] = []

    bad = _alphabet_problems(type_code, "licence type code", "证照类型代码")
    if bad:
        problems.extend(bad)
    elif len(type_code) != 21:
        problems.append(
            Problem(
                "licence type code",
                f"证照类型代码「{type_code}」应为21位（定义机构统一社会信用代码18位+顺序号3位），实为{len(type_code)}位",
                f"licence type code {type_code!r} should have 21 characters (defining body's USCC 18 + "
                f"sequence 3), has {len(type_code)}",
            )
        )
    else:
        problems.extend(
            shift(
                uscc.uscc_problems(type_code[:18], strict, offset=len(ROOT) + 1),
                "证照类型代码中的定义机构统一社会信用代码：",
                "licence type code, defining body's USCC: ",
                part="licence type code",
            )
        )
        if not type_code[18:].isdigit():
            problems.append(
                Problem(
                    "licence type code",
                    f"证照类型代码的顺序号「{type_code[18:]}」应为3位数字",
                    f"licence type code sequence {type_code[18:]!r} should be 3 digits",
                )
            )

    bad = _alphabet_problems(issuer, "issuer code", "证照颁发机构代码")
    if bad:
        problems.extend(bad)
    else:
        if len(issuer) == 18:
            issuer_problems = uscc.uscc_problems(issuer, strict, offset=len(ROOT) + len(type_code) + 2)
        else:
            issuer_problems = [
                Problem("issuer code", f"长度应为18位，实为{len(issuer)}位", f"length should be 18, is {len(issuer)}")
            ]
        first = next((p for p in issuer_problems if p.severity == ERROR), None)
        if first is not None:
            problems.append(
                Problem(
                    "issuer code",
                    f"证照颁发机构代码「{issuer}」不是有效的统一社会信用代码（GB/T 36904）：{first.zh}",
                    f"issuer code {issuer!r} is not a valid USCC (GB/T 36904): {first.en}",
                    relaxed,
                )
            )
        else:
            problems.extend(shift(issuer_problems, "证照颁发机构代码：", "issuer code: ", part="issuer code"))

    if not number:
        problems.append(Problem("licence number", "流水号为空", "licence number is empty"))
    else:
        problems.extend(_alphabet_problems(number, "licence number", "流水号"))

    if not (len(version) == 3 and version.isascii() and version.isdigit()):
        problems.append(
            Problem("version", f"版本号「{version}」应为3位数字", f"version {version!r} should be 3 digits")
        )
    elif version == "000":
        problems.append(
            Problem("version", "版本号「000」：版本号从 001 起", "version 000: versions start at 001", WARNING)
        )

    if len(check) != 1 or check not in _VALUE:
        problems.append(
            Problem(
                "check character",
                f"校验位「{check}」应为1个数字或大写字母",
                f"check character {check!r} should be one digit or capital letter",
            )
        )
    elif all(c in _VALUE for c in type_code + issuer + number + version):
        body = type_code + issuer + number + version
        expected = mod37_36_check(body)
        if expected != check:
            with_root = mod37_36_check(ROOT.replace(".", "") + body)
            index = len(value) - 1
            if with_root == check:
                problems.append(
                    Problem(
                        "check character",
                        f"校验位错误：第{index + 1}位应为 {expected}，实为 {check}（与把根代码也计入校验的非标准实现相符；"
                        "GB/T 36904 的校验范围不含根代码）",
                        f"check character wrong: position {index + 1} should be {expected}, is {check} (matches "
                        "the non-standard variant that includes the root OID in the check)",
                        relaxed,
                    )
                )
            else:
                problems.append(
                    Problem(
                        "check character",
                        f"校验位错误：第{index + 1}位应为 {expected}，实为 {check}（ISO/IEC 7064 MOD 37,36，"
                        "按类型代码+颁发机构代码+流水号+版本号计算）",
                        f"check character wrong: position {index + 1} should be {expected}, is {check} "
                        "(ISO/IEC 7064 MOD 37,36 over type code + issuer + number + version)",
                    )
                )
    return by_severity(problems)


def generate(rng: random.Random, **hints: object) -> str:
    """A valid identifier; hints: ``type_code`` (21), ``issuer`` (USCC), ``number``, ``version`` (int), ``division``."""
    type_code = str(hints.get("type_code") or "")
    if len(type_code) != 21 or not uscc.validate(type_code[:18]).ok or not type_code[18:].isdigit():
        # licence types are defined by central bodies (division 100000) or provincial ones
        definer = uscc.generate(rng, pair="11", division=rng.choice(("100000", "")))
        type_code = definer + f"{rng.randrange(1, 120):03d}"
    issuer = str(hints.get("issuer") or "")
    if not uscc.validate(issuer).ok:
        issuer = uscc.generate(rng, pair=rng.choice(("11", "12")), division=str(hints.get("division") or ""))
    number = str(hints.get("number") or "")
    if not number or any(c not in _VALUE for c in number):
        style = rng.random()
        if style < 0.4:
            number = f"{rng.randint(2017, 2025)}{rng.randrange(0, 10**6):06d}"
        elif style < 0.7:
            number = "".join(rng.choice("0123456789ABCDEF") for _ in range(32))
        else:
            number = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(8, 20)))
    v = hints.get("version")
    version = f"{v:03d}" if isinstance(v, int) and 1 <= v <= 999 else "001"
    body = type_code + issuer + number + version
    return f"{ROOT}.{type_code}.{issuer}.{number}.{version}.{mod37_36_check(body)}"


KIND = CodeKind(
    "elicense-id",
    "电子证照标识",
    "e-licence identifier",
    "GB/T 36904-2018；ISO/IEC 7064 MOD 37,36",
    _split,
    _slow,
    generate,
    quick=_quick,
    unique_values=True,
)

"""Hypothesis strategies for the identifier kinds: valid values and near misses.

``valid(kind, **hints)`` draws values from the kind's own generator (``KINDS[kind].generate``).

``near_miss(kind)`` draws ``(value, mutation)`` pairs that are invalid **by construction** (for the
"issued" question, alias strict mode), never by asking the validator under test: check characters are recomputed by
independent reference implementations in this module, code-list lookups use the raw code lists
(``conformance.contract.documents.codelist``), and where a single substitution could produce another valid
value (division codes, catalogue codes, serial digits) the mutation is restricted to positions and
values that provably break it. A property test can then assert ``not check(kind, value).ok``
without being tautological.

``held_form(kind)`` draws ``(value, form id)`` pairs in an older form that authorities really issued
(docs/identifiers.md), built the same way: "issued" must refuse each, "held" must accept it and name
the form. Only the kinds with older forms have them (``HELD_FORMS``).
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import string
from collections.abc import Callable

from hypothesis import strategies as st

from conformance.codes import KINDS
from conformance.contract.documents import codelist

Mutation = tuple[str, str]
Mutator = Callable[[random.Random, str], Mutation]

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
ALNUM = string.digits + string.ascii_uppercase


# ------------------------------------------------------------------ public API


def valid(kind: str, **hints: object) -> st.SearchStrategy[str]:
    """Valid values of ``kind`` (strict mode), optionally steered by generator hints."""
    code_kind = KINDS[kind]
    return st.randoms(use_true_random=False).map(lambda rng: code_kind.generate(rng, **hints))


def near_miss(kind: str) -> st.SearchStrategy[tuple[str, str]]:
    """``(value, mutation description)`` pairs, each invalid by construction in strict mode."""
    return _drawn(kind, _MUTATORS[kind])


def _drawn(kind: str, builders: tuple[Mutator, ...]) -> st.SearchStrategy[tuple[str, str]]:
    """``build(rng, valid_value)`` of one of ``builders``, on a value drawn from ``kind``'s generator."""
    code_kind = KINDS[kind]

    def build(args: tuple[random.Random, Mutator]) -> Mutation:
        rng, make = args
        return make(rng, code_kind.generate(rng))

    return st.tuples(st.randoms(use_true_random=False), st.sampled_from(builders)).map(build)


# ------------------------------------------------------------------ reference check characters
# Written independently of the validators (different formulation) so that near misses do not
# depend on the code under test.


def ref_uscc_check(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def ref_org_check(first8: str) -> str:
    total = sum(int(c, 36) * w for c, w in zip(first8, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def ref_citizen_check(first17: str) -> str:
    total = sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(first17))
    c = (12 - total % 11) % 11
    return "X" if c == 10 else str(c)


def ref_mod37_36(s: str) -> str:
    """ISO/IEC 7064 hybrid system M = 36 (recursive formulation of the standard)."""
    m = 36
    product = m
    for ch in s:
        total = (product + int(ch, 36)) % m
        product = (2 * (total or m)) % (m + 1)
    return ALNUM[(m + 1 - product) % m]


# ------------------------------------------------------------------ raw code-list sets


@functools.cache
def _raw_divisions() -> frozenset[str]:
    data = codelist("divisions")
    return frozenset(it["code"] for it in [*data["items"], *(data.get("functionalZones") or ())])


@functools.cache
def _raw_provinces() -> dict[str, dict]:
    return {it["code"]: it for it in codelist("provinces")["items"]}


@functools.cache
def _raw_abbrs() -> frozenset[str]:
    out = set()
    for it in _raw_provinces().values():
        out.add(it["abbr"])
        out.update(it.get("alt") or ())
    return frozenset(out)


@functools.cache
def _raw_catalogue() -> dict[str, dict]:
    return {it["code"]: it for it in codelist("equipment-catalogue")["items"]}


@functools.cache
def _raw_chars() -> dict[str, dict]:
    return {it["char"]: it for it in codelist("equipment-characters")["items"]}


@functools.cache
def _raw_pairs(char: str) -> frozenset[str]:
    """Every 2nd–3rd character pair of any catalogue code under the character's kinds (a superset)."""
    roots = set(_raw_chars()[char]["catalogueKinds"])
    cat = _raw_catalogue()
    out = set()
    for code in cat:
        c: str | None = code
        while c is not None:
            if c in roots:
                out.add(code[1:3])
                break
            c = cat[c].get("parent") if c in cat else None
    return frozenset(out)


@functools.cache
def _raw_items() -> frozenset[str]:
    return frozenset(it["code"] for it in codelist("licence-items")["items"])


# ------------------------------------------------------------------ generic mutators


def _replace(value: str, i: int, ch: str) -> str:
    return value[:i] + ch + value[i + 1 :]


def _fullwidth_one(rng: random.Random, value: str) -> Mutation:
    spots = [i for i, c in enumerate(value) if "!" <= c <= "~" and c not in "()"]
    i = rng.choice(spots)
    return _replace(value, i, chr(ord(value[i]) + 0xFEE0)), f"full-width character at position {i + 1}"


def _fullwidth_all(rng: random.Random, value: str) -> Mutation:
    out = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" and c not in "()" else c for c in value)
    return out, "all ASCII characters full-width"


def _whitespace(rng: random.Random, value: str) -> Mutation:
    ws = rng.choice((" ", "\t", "\n", "  "))
    if rng.random() < 0.5:
        return ws + value, f"leading whitespace {ws!r}"
    return value + ws, f"trailing whitespace {ws!r}"


def _lowercase(rng: random.Random, value: str) -> Mutation:
    letters = [i for i, c in enumerate(value) if "A" <= c <= "Z"]
    if letters:
        i = rng.choice(letters)
        return _replace(value, i, value[i].lower()), f"lower-case letter at position {i + 1}"
    spots = [i for i, c in enumerate(value) if c.isascii() and c.isalnum()]
    i = rng.choice(spots)
    ch = rng.choice(string.ascii_lowercase)
    return _replace(value, i, ch), f"lower-case {ch!r} substituted at position {i + 1}"


def _drop(rng: random.Random, value: str) -> Mutation:
    i = rng.randrange(len(value))
    return value[:i] + value[i + 1 :], f"character {i + 1} dropped (length {len(value) - 1})"


def _add(rng: random.Random, value: str) -> Mutation:
    i = rng.randrange(len(value) + 1)
    ch = rng.choice(string.digits)
    return value[:i] + ch + value[i:], f"{ch!r} inserted at position {i + 1} (length {len(value) + 1})"


_GENERIC: tuple[Mutator, ...] = (_fullwidth_one, _fullwidth_all, _whitespace, _lowercase, _drop, _add)


def _other(rng: random.Random, alphabet: str, current: str) -> str:
    return rng.choice([c for c in alphabet if c != current])


# ------------------------------------------------------------------ USCC


def _uscc_substitute(rng: random.Random, value: str) -> Mutation:
    # GB 32100: every weight is non-zero mod 31 and values are distinct mod 31, so any single
    # substitution changes the weighted sum; the reference check confirms it.
    i = rng.randrange(18)
    ch = _other(rng, USCC_ALPHABET, value[i])
    out = _replace(value, i, ch)
    assert i == 17 or ref_uscc_check(out[:17]) != out[17]
    return out, f"position {i + 1} substituted: {value[i]!r} -> {ch!r}"


def _uscc_excluded(rng: random.Random, value: str) -> Mutation:
    i = rng.randrange(18)
    ch = rng.choice("IOZSV")
    return _replace(value, i, ch), f"excluded letter {ch!r} at position {i + 1}"


def _uscc_wrong_check(rng: random.Random, value: str) -> Mutation:
    right = ref_uscc_check(value[:17])
    ch = _other(rng, USCC_ALPHABET, right)
    return value[:17] + ch, f"check character {ch!r} instead of {right!r}"


def _uscc_org_wrong(rng: random.Random, value: str) -> Mutation:
    body = value[8:16]
    right = ref_org_check(body)
    ch = _other(rng, "0123456789X", right)
    first17 = value[:16] + ch
    return first17 + ref_uscc_check(first17), (
        f"inner organisation-code check {ch!r} instead of {right!r}, USCC check recomputed"
    )


def _uscc_division_letter(rng: random.Random, value: str) -> Mutation:
    i = rng.randrange(2, 8)
    ch = rng.choice("ABCDEFGHJKLMNPQRTUWXY")
    first17 = _replace(value, i, ch)[:17]
    return first17 + ref_uscc_check(first17), f"letter {ch!r} in the division part (position {i + 1}), check recomputed"


def _uscc_division_zero(rng: random.Random, value: str) -> Mutation:
    first17 = value[:2] + "00" + value[4:17]
    return first17 + ref_uscc_check(first17), "division part with province 00, check recomputed"


# ------------------------------------------------------------------ organisation code


def _org_substitute(rng: random.Random, value: str) -> Mutation:
    body, check = value[:8], value[8]
    i = rng.randrange(8)
    # GB 11714 misses substitutions whose values differ by a multiple of 11: avoid those
    candidates = [c for c in ALNUM if c != body[i] and ref_org_check(_replace(body, i, c)) != check]
    ch = rng.choice(candidates)
    return _replace(body, i, ch) + check, f"body position {i + 1} substituted: {body[i]!r} -> {ch!r}"


def _org_wrong_check(rng: random.Random, value: str) -> Mutation:
    right = ref_org_check(value[:8])
    ch = _other(rng, "0123456789X", right)
    return value[:8] + ch, f"check character {ch!r} instead of {right!r}"


def _org_bad_check_char(rng: random.Random, value: str) -> Mutation:
    ch = rng.choice("ABCDEFGHJKLMNPQRTUVWYZ")
    return value[:8] + ch, f"check character {ch!r} (only 0-9 and X exist)"


def _org_bad_hyphen(rng: random.Random, value: str) -> Mutation:
    i = rng.choice((1, 3, 5, 7))
    return value[:i] + "-" + value[i:], f"hyphen after position {i}"


def _org_add(rng: random.Random, value: str) -> Mutation:
    i = rng.choice([k for k in range(10) if k != 8])  # a digit at index 8 of 10 chars is never the hyphen form
    ch = rng.choice(string.digits)
    return value[:i] + ch + value[i:], f"{ch!r} inserted at position {i + 1} (length 10, no hyphen)"


# ------------------------------------------------------------------ division


@functools.cache
def _raw_division_history() -> frozenset[str]:
    """Codes of ``divisions-history.json`` (every code ever in a GB/T 2260 table), when the list exists."""
    try:
        return frozenset(it["code"] for it in codelist("divisions-history")["items"])
    except (KeyError, FileNotFoundError):
        return frozenset()


def _absent_division(rng: random.Random) -> str:
    """A well-formed code that no table ever held (neither divisions.json nor its history)."""
    provinces = sorted(_raw_provinces())
    while True:
        code = rng.choice(provinces) + f"{rng.randrange(1, 100):02d}{rng.randrange(0, 100):02d}"
        if code not in _raw_divisions() and code not in _raw_division_history():
            return code


def _division_absent(rng: random.Random, value: str) -> Mutation:
    code = _absent_division(rng)
    return code, f"well-formed code {code} absent from divisions.json and from its history"


def _division_structure(rng: random.Random, value: str) -> Mutation:
    if rng.random() < 0.5:
        return "00" + value[2:], "province part 00"
    county = f"{rng.randrange(1, 100):02d}"
    while value[:2] + "00" + county in _raw_division_history():  # a real code of its time (Hainan 4600xx)
        county = f"{rng.randrange(1, 100):02d}"
    return value[:2] + "00" + county, f"county part {county} under prefecture part 00"


def _division_letter(rng: random.Random, value: str) -> Mutation:
    i = rng.randrange(6)
    ch = rng.choice(string.ascii_uppercase)
    return _replace(value, i, ch), f"letter {ch!r} at position {i + 1}"


# ------------------------------------------------------------------ equipment code


def _equipment_variety(rng: random.Random, value: str) -> Mutation:
    cat = _raw_catalogue()
    while True:
        code = f"{rng.randrange(1, 10)}{rng.randrange(0, 10)}{rng.randrange(0, 10)}{rng.randrange(0, 10)}"
        if code not in cat:
            return code + value[4:], f"catalogue part {code} not in the catalogue"


def _equipment_kind_level(rng: random.Random, value: str) -> Mutation:
    cat = _raw_catalogue()
    parents = {it.get("parent") for it in cat.values()}
    code = rng.choice(sorted(c for c, it in cat.items() if it["level"] == "kind" and c in parents))
    return code + value[4:], f"kind-level catalogue code {code} instead of a variety"


def _equipment_region(rng: random.Random, value: str) -> Mutation:
    allowed = {"10", *_raw_provinces()}
    region = rng.choice([f"{n:02d}" for n in range(100) if f"{n:02d}" not in allowed])
    return value[:4] + region + value[6:], f"manufacturer region {region} (neither 10 nor a province)"


def _equipment_year(rng: random.Random, value: str) -> Mutation:
    now = dt.date.today().year
    year = rng.choice((now + 1, now + rng.randint(2, 50), rng.randint(1000, 1949)))
    return value[:9] + f"{year:04d}" + value[13:], f"manufacture year {year} out of range"


def _equipment_serial(rng: random.Random, value: str) -> Mutation:
    i = rng.randrange(13, 18)
    ch = rng.choice("-_/.#*")
    return _replace(value, i, ch), f"{ch!r} in the serial (position {i + 1})"


def _equipment_legacy(rng: random.Random, value: str) -> Mutation:
    division = rng.choice(sorted(c for c in _raw_divisions() if not c.endswith("00")))
    legacy = f"{value[:4]}{division}{value[9:13]}{rng.randint(1, 12):02d}{rng.randrange(1, 10000):04d}"
    return legacy, "20-character legacy registration code (not issued today)"


# ------------------------------------------------------------------ registration number


def _reg_char(rng: random.Random, value: str) -> Mutation:
    ch = rng.choice([c for c in "机设甲乙丙丁炉泵阀" if c not in _raw_chars()])
    return ch + value[1:], f"unknown equipment character {ch!r}"


def _reg_pair(rng: random.Random, value: str) -> Mutation:
    taken = _raw_pairs(value[0])
    pair = rng.choice([f"{n:02d}" for n in range(100) if f"{n:02d}" not in taken])
    return value[0] + pair + value[3:], f"variety digits {pair} not of a {value[0]} catalogue code"


def _reg_province(rng: random.Random, value: str) -> Mutation:
    ch = rng.choice([c for c in "中华东西南北国" if c not in _raw_abbrs()])
    return value[:3] + ch + value[4:], f"unknown province abbreviation {ch!r}"


def _reg_alt_province(rng: random.Random, value: str) -> Mutation:
    alts = sorted(a for it in _raw_provinces().values() for a in it.get("alt") or ())
    ch = rng.choice(alts)
    return value[:3] + ch + value[4:], f"alternative province abbreviation {ch!r} (not issued today)"


def _reg_prefecture(rng: random.Random, value: str) -> Mutation:
    ch = rng.choice(string.ascii_lowercase + string.digits)
    return value[:4] + ch + value[5:], f"prefecture {ch!r} (not a capital letter)"


def _reg_serial(rng: random.Random, value: str) -> Mutation:
    head, tail = value[:5], value[value.index("(") :]
    serial = rng.choice(
        (
            f"{rng.randrange(0, 1000):03d}",
            f"{rng.randrange(0, 10**6):06d}",
            f"{rng.randrange(0, 10**4):04d}",  # 4 digits: an older form, "held" only
            rng.choice("ABCDEFGH") + f"{rng.randrange(0, 10**5):05d}",
            f"{rng.randrange(0, 10**3):03d}" + rng.choice("ABC") + "0",
        )
    )
    return head + serial + tail, f"serial {serial!r}"


def _reg_year(rng: random.Random, value: str) -> Mutation:
    head = value[: value.index("(")]
    yy = value[value.index("(") + 1 : value.index("(") + 3]
    year, what = rng.choice(
        (
            (f"（{yy}）", "full-width brackets (as printed; not issued as data today)"),
            (f"({yy}）", "mixed brackets (a data-entry slip)"),
            ("", "year suffix missing (older form; not issued today)"),
            (f"({yy}0)", "3-digit year"),
            (f"({yy}", "unclosed bracket"),
            (f"[{yy}]", "square brackets"),
        )
    )
    return head + year, what


def _reg_fullwidth_digit(rng: random.Random, value: str) -> Mutation:
    spots = [i for i, c in enumerate(value) if c.isdigit()]
    i = rng.choice(spots)
    return _replace(value, i, chr(ord(value[i]) + 0xFEE0)), f"full-width digit at position {i + 1}"


# ------------------------------------------------------------------ dossier code


def _dossier_34(rng: random.Random, value: str) -> Mutation:
    if rng.random() < 0.5:
        return value[:2] + value[10:], "34 characters: item code left out (the standard's stated length)"
    return value[:34], "34 characters: year and sequence left out (the standard's stated length)"


def _dossier_seq0(rng: random.Random, value: str) -> Mutation:
    return value[:38] + "0000", "sequence 0000"


def _dossier_category(rng: random.Random, value: str) -> Mutation:
    cat = rng.choice(("00", "01", "02", "03", "04", "06", "99"))
    return cat + value[2:], f"licence category {cat} (use registration is 05)"


def _dossier_item(rng: random.Random, value: str) -> Mutation:
    item = rng.choice(("01100001", "02100000", "00000000", "11000000"))
    return value[:2] + item + value[10:], f"item code {item} (use registration is 01100000)"


def _dossier_division(rng: random.Random, value: str) -> Mutation:
    code = _absent_division(rng)
    return value[:10] + code + value[16:], f"division {code} absent from divisions.json"


def _dossier_uscc(rng: random.Random, value: str) -> Mutation:
    i = rng.randrange(16, 34)
    ch = _other(rng, USCC_ALPHABET, value[i])
    out = _replace(value, i, ch)
    assert i == 33 or ref_uscc_check(out[16:33]) != out[33]
    return out, f"USCC part position {i + 1} substituted: {value[i]!r} -> {ch!r}"


def _dossier_year(rng: random.Random, value: str) -> Mutation:
    year = dt.date.today().year + rng.randint(1, 50)
    return value[:34] + f"{year:04d}" + value[38:], f"year {year} in the future"


def _dossier_length(rng: random.Random, value: str) -> Mutation:
    if rng.random() < 0.5:
        return _drop(rng, value)
    i = rng.randrange(43)
    return value[:i] + "0" + value[i:], f"'0' inserted at position {i + 1} (length 43)"


# ------------------------------------------------------------------ e-licence identifier


def _el_parts(value: str) -> list[str]:
    return value[len("1.2.156.3005.2.") :].split(".")


def _el_join(type_code: str, issuer: str, number: str, version: str, check: str | None = None) -> str:
    if check is None:
        check = ref_mod37_36(type_code + issuer + number + version)
    return f"1.2.156.3005.2.{type_code}.{issuer}.{number}.{version}.{check}"


def _el_substitute(rng: random.Random, value: str) -> Mutation:
    t, issuer, number, version, check = _el_parts(value)
    i = rng.randrange(len(number))
    candidates = [
        c for c in ALNUM if c != number[i] and ref_mod37_36(t + issuer + _replace(number, i, c) + version) != check
    ]
    ch = rng.choice(candidates)
    return _el_join(t, issuer, _replace(number, i, ch), version, check), (
        f"licence number character {i + 1} substituted: {number[i]!r} -> {ch!r}"
    )


def _el_wrong_check(rng: random.Random, value: str) -> Mutation:
    t, issuer, number, version, _ = _el_parts(value)
    right = ref_mod37_36(t + issuer + number + version)
    ch = _other(rng, ALNUM, right)
    return _el_join(t, issuer, number, version, ch), f"check character {ch!r} instead of {right!r}"


def _el_root_variant(rng: random.Random, value: str) -> Mutation:
    t, issuer, number, version, _ = _el_parts(value)
    right = ref_mod37_36(t + issuer + number + version)
    variant = ref_mod37_36("1.2.156.3005.2".replace(".", "") + t + issuer + number + version)
    if variant == right:  # both scopes agree: fall back to a plainly wrong character
        return _el_wrong_check(rng, value)
    return _el_join(t, issuer, number, version, variant), "check computed with the root OID included"


def _el_root(rng: random.Random, value: str) -> Mutation:
    root = rng.choice(("1.2.156.3003.2", "1.2.156.3005.1", "1.2.156.3005", "2.1.156.3005.2"))
    return root + value[len("1.2.156.3005.2") :], f"root OID {root}"


def _el_version(rng: random.Random, value: str) -> Mutation:
    t, issuer, number, _, _ = _el_parts(value)
    version = rng.choice(("1", "01", "0001", "V01"))
    return _el_join(t, issuer, number, version), f"version {version!r}, check recomputed"


def _el_type_length(rng: random.Random, value: str) -> Mutation:
    t, issuer, number, version, _ = _el_parts(value)
    t2 = t[:-1] if rng.random() < 0.5 else t + "1"
    return _el_join(t2, issuer, number, version), f"type code of {len(t2)} characters, check recomputed"


def _el_issuer(rng: random.Random, value: str) -> Mutation:
    t, issuer, number, version, _ = _el_parts(value)
    right = ref_uscc_check(issuer[:17])
    bad = issuer[:17] + _other(rng, USCC_ALPHABET, right)
    return _el_join(t, bad, number, version), "issuer USCC check character wrong, licence check recomputed"


def _el_missing_part(rng: random.Random, value: str) -> Mutation:
    parts = _el_parts(value)
    i = rng.randrange(5)
    del parts[i]
    return "1.2.156.3005.2." + ".".join(parts), f"dot-separated part {i + 1} missing"


def _el_bad_char(rng: random.Random, value: str) -> Mutation:
    t, issuer, number, version, _ = _el_parts(value)
    i = rng.randrange(len(number) + 1)
    ch = rng.choice("-_/#")
    number2 = number[:i] + ch + number[i:]
    return f"1.2.156.3005.2.{t}.{issuer}.{number2}.{version}.0", f"{ch!r} in the licence number"


# ------------------------------------------------------------------ licence item code


def _item_combination(rng: random.Random, value: str) -> Mutation:
    groups = sorted(it["code"] for it in codelist("licence-items")["groups"])
    ops = sorted(it["code"] for it in codelist("licence-items")["operations"])
    missing = [f"01100000-{g}-{o}" for g in groups for o in ops if f"01100000-{g}-{o}" not in _raw_items()]
    code = rng.choice(missing)
    return code, f"{code}: group and operation exist, the combination does not"


def _item_unknown(rng: random.Random, value: str) -> Mutation:
    if rng.random() < 0.5:
        group = f"{rng.randint(11, 99):02d}"
        return value[:9] + group + value[11:], f"equipment group {group} does not exist"
    op = f"{rng.choice((0, *range(14, 100))):02d}"
    return value[:12] + op, f"operation {op} does not exist"


def _item_prefix(rng: random.Random, value: str) -> Mutation:
    prefix = rng.choice(("01100001", "01200000", "11000000", "00000000"))
    return prefix + value[8:], f"item code prefix {prefix}"


def _item_separator(rng: random.Random, value: str) -> Mutation:
    sep = rng.choice(("", "_", ".", "—", "/"))
    return value.replace("-", sep), f"separator {sep!r} instead of '-'"


# ------------------------------------------------------------------ citizen ID


def _cid_substitute(rng: random.Random, value: str) -> Mutation:
    # MOD 11-2: weights are non-zero mod 11 and digits differ by less than 11: always detected
    i = rng.randrange(17)
    ch = _other(rng, string.digits, value[i])
    out = _replace(value, i, ch)
    assert ref_citizen_check(out[:17]) != out[17]
    return out, f"position {i + 1} substituted: {value[i]!r} -> {ch!r}"


def _cid_wrong_check(rng: random.Random, value: str) -> Mutation:
    right = ref_citizen_check(value[:17])
    ch = _other(rng, string.digits + "X", right)
    return value[:17] + ch, f"check character {ch!r} instead of {right!r}"


def _cid_bad_date(rng: random.Random, value: str) -> Mutation:
    year = value[6:10]
    mmdd = rng.choice(("0230", "0231", "1301", "0001", "0100", "0431", "0932", "1200"))
    first17 = value[:6] + year + mmdd + value[14:17]
    return first17 + ref_citizen_check(first17), f"birth date {year}{mmdd} invalid, check recomputed"


def _cid_future(rng: random.Random, value: str) -> Mutation:
    year = dt.date.today().year + rng.randint(1, 60)
    first17 = value[:6] + f"{year}0101" + value[14:17]
    return first17 + ref_citizen_check(first17), f"birth year {year} in the future, check recomputed"


def _cid_lower_x(rng: random.Random, value: str) -> Mutation:
    return value[:17] + "x", "lower-case x as check character"


def _cid_letter(rng: random.Random, value: str) -> Mutation:
    i = rng.randrange(17)
    ch = rng.choice(string.ascii_uppercase)
    return _replace(value, i, ch), f"letter {ch!r} at position {i + 1}"


# ------------------------------------------------------------------ catalogue code


def _cat_absent(rng: random.Random, value: str) -> Mutation:
    cat = _raw_catalogue()
    while True:
        code = "".join(rng.choice(string.digits + "ADEFTZ") for _ in range(4))
        if code not in cat:
            return code, f"{code} not in the catalogue"


_MUTATORS: dict[str, tuple[Mutator, ...]] = {
    "uscc": (
        *_GENERIC,
        _uscc_substitute,
        _uscc_excluded,
        _uscc_wrong_check,
        _uscc_org_wrong,
        _uscc_division_letter,
        _uscc_division_zero,
    ),
    "org-code": (
        _fullwidth_one,
        _fullwidth_all,
        _whitespace,
        _lowercase,
        _drop,
        _org_add,
        _org_substitute,
        _org_wrong_check,
        _org_bad_check_char,
        _org_bad_hyphen,
    ),
    "division": (*_GENERIC, _division_absent, _division_structure, _division_letter),
    "equipment-code": (
        _fullwidth_one,
        _fullwidth_all,
        _whitespace,
        _drop,
        _add,
        _equipment_variety,
        _equipment_kind_level,
        _equipment_region,
        _equipment_year,
        _equipment_serial,
        _equipment_legacy,
    ),
    "registration-no": (
        _whitespace,
        _reg_fullwidth_digit,
        _reg_char,
        _reg_pair,
        _reg_province,
        _reg_alt_province,
        _reg_prefecture,
        _reg_serial,
        _reg_year,
    ),
    "dossier-code": (
        _fullwidth_one,
        _fullwidth_all,
        _whitespace,
        _dossier_length,
        _dossier_34,
        _dossier_seq0,
        _dossier_category,
        _dossier_item,
        _dossier_division,
        _dossier_uscc,
        _dossier_year,
    ),
    "elicense-id": (
        _fullwidth_one,
        _whitespace,
        _lowercase,
        _el_substitute,
        _el_wrong_check,
        _el_root_variant,
        _el_root,
        _el_version,
        _el_type_length,
        _el_issuer,
        _el_missing_part,
        _el_bad_char,
    ),
    "item-code": (
        *_GENERIC,
        _item_combination,
        _item_unknown,
        _item_prefix,
        _item_separator,
    ),
    "citizen-id": (
        _fullwidth_one,
        _fullwidth_all,
        _whitespace,
        _drop,
        _add,
        _cid_substitute,
        _cid_wrong_check,
        _cid_bad_date,
        _cid_future,
        _cid_lower_x,
        _cid_letter,
    ),
    "catalogue-code": (*_GENERIC, _cat_absent),
}

#: Mutation names per kind (for reports and coverage tests).
MUTATIONS: dict[str, tuple[str, ...]] = {k: tuple(m.__name__.lstrip("_") for m in v) for k, v in _MUTATORS.items()}


def mutators(kind: str) -> tuple[Mutator, ...]:
    """The mutators behind ``near_miss(kind)``: ``mutate(rng, valid_value) -> (value, description)``."""
    return _MUTATORS[kind]


def near_miss_values(kind: str, count: int, seed: int) -> list[Mutation]:
    """``count`` deterministic ``(value, mutation)`` near misses of ``kind`` (the same mutators as
    :func:`near_miss`, drawn from ``random.Random(seed)``) for callers outside Hypothesis."""
    rng = random.Random(seed)
    code_kind = KINDS[kind]
    return [rng.choice(_MUTATORS[kind])(rng, code_kind.generate(rng)) for _ in range(count)]


# ------------------------------------------------------------------ older forms ("held" only)
# Built from a valid value of today's form by construction (docs/identifiers.md lists each form
# with a real sample): the "issued" question refuses each, the "held" question accepts it.


def _held_reg_serial4(rng: random.Random, value: str) -> Mutation:
    head, tail = value[:5], value[value.index("(") :]
    return f"{head}{rng.randrange(0, 10**4):04d}{tail}", "serial-4"


def _held_reg_no_year(rng: random.Random, value: str) -> Mutation:
    return value[: value.index("(")], "no-year"


def _held_reg_printed(rng: random.Random, value: str) -> Mutation:
    return value.replace("(", "（").replace(")", "）"), "printed-brackets"


def _held_reg_alt(rng: random.Random, value: str) -> Mutation:
    alts = sorted(a for it in _raw_provinces().values() for a in it.get("alt") or ())
    return value[:3] + rng.choice(alts) + value[4:], "alt-province"


@functools.cache
def _held_divisions() -> tuple[str, ...]:
    """County-level GB/T 2260 codes of the code list (no functional zones, nothing doubtful: those are warned about)."""
    items = codelist("divisions")["items"]
    return tuple(sorted(it["code"] for it in items if not it["code"].endswith("00") and not it.get("doubtful")))


def _held_equipment_yyyymm(rng: random.Random, value: str) -> Mutation:
    division = rng.choice(_held_divisions())
    return f"{value[:4]}{division}{value[9:13]}{rng.randint(1, 12):02d}{rng.randrange(1, 10000):04d}", "reg-code-yyyymm"


def _held_equipment_year(rng: random.Random, value: str) -> Mutation:
    """Positions 15-16 that cannot be a month (00, 13-99): only the year + 6-digit sequence layout reads it."""
    division = rng.choice(_held_divisions())
    not_month = rng.choice([0, *range(13, 100)])
    return f"{value[:4]}{division}{value[9:13]}{not_month:02d}{rng.randrange(0, 10000):04d}", "reg-code-year"


#: The builders of the older forms, by kind and form id.
_HELD: dict[str, tuple[Mutator, ...]] = {
    "registration-no": (_held_reg_serial4, _held_reg_no_year, _held_reg_printed, _held_reg_alt),
    "equipment-code": (_held_equipment_yyyymm, _held_equipment_year),
}

#: Kinds with older forms, and the form ids their builders produce.
HELD_FORMS: dict[str, tuple[str, ...]] = {
    "registration-no": ("serial-4", "no-year", "printed-brackets", "alt-province"),
    "equipment-code": ("reg-code-yyyymm", "reg-code-year"),
}


def held_form(kind: str) -> st.SearchStrategy[tuple[str, str]]:
    """``(value, form id)`` pairs in an older form of ``kind`` (by construction; see ``HELD_FORMS``)."""
    return _drawn(kind, _HELD[kind])

"""Shared shapes of the identifier library: results, parts, problems, kinds and the registry.

Every validator returns a :class:`CodeResult`; ``ok`` is true when no problem has severity
``"error"``. Problems name the part of the value that is wrong (``Problem.part`` is the part's
English name, ``"value"`` for the value as a whole) and say why, in Chinese and English.

Conventions (docs/CONVENTIONS.md, "Identifier kinds"):

* Two questions, two answers (``mode``, docs/identifiers.md):

  - ``"issued"`` — *is this a well-formed number as issued today?* What a system must produce
    when it issues a new certificate, dossier code or equipment code: today's form only, every
    deviation an error. Historical forms are errors that name the form.
  - ``"held"`` — *is this a number that really exists in the data?* What a system must accept in
    the records it holds and exchanges: every form that authorities really issued (older eras,
    the form printed on certificates) is accepted with an ``info`` note naming the form
    (:data:`FORM_PART`); deviations that occur in data without being a form anyone issued are
    accepted with a warning; what no authority ever issued stays an error.

  ``strict=True`` / ``strict=False`` are aliases of ``"issued"`` / ``"held"``. ``check`` and
  :meth:`CodeKind.validate` take either; the kind's own :meth:`CodeKind.validator` keeps
  a boolean (True = "issued"). Neither mode normalises a value silently: full-width digits and letters,
  lower-case letters and surrounding whitespace stay errors for every kind.
* Code lists are read lazily through :mod:`conformance.codes.lists`, never at import time.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning", "info"]

ERROR: Severity = "error"
WARNING: Severity = "warning"
INFO: Severity = "info"

Mode = Literal["issued", "held"]

#: "Is this a well-formed number as issued today?" (today's form only; alias ``strict=True``).
ISSUED: Mode = "issued"
#: "Is this a number that really exists in the data?" (every real form; alias ``strict=False``).
HELD: Mode = "held"
MODES: tuple[Mode, ...] = (ISSUED, HELD)

#: ``Problem.part`` of the note that names the form (era) of a value; severity ``info`` in "held",
#: ``error`` in "issued" for a form that is not today's.
FORM_PART = "form"


def is_issued(mode: Mode | bool) -> bool:
    """True for the "issued" question (``"issued"`` or ``True``), False for "held" (``"held"`` or ``False``)."""
    if mode is True or mode == ISSUED:
        return True
    if mode is False or mode == HELD:
        return False
    raise ValueError(f"unknown mode {mode!r}: use 'issued' or 'held' (or strict=True / strict=False)")


def resolve_mode(mode: Mode | bool | None = None, strict: bool | None = None, default: Mode = ISSUED) -> Mode:
    """The mode asked for: ``mode`` (or ``strict`` as an alias); ``default`` when neither is given."""
    if mode is not None:
        chosen: Mode = ISSUED if is_issued(mode) else HELD
        if strict is not None and bool(strict) != (chosen == ISSUED):
            raise ValueError(f"mode={mode!r} contradicts strict={strict!r}")
        return chosen
    if strict is not None:
        return ISSUED if strict else HELD
    return default


@dataclass(frozen=True, slots=True)
class Part:
    """One segment of an identifier, e.g. the check character of a USCC."""

    name_zh: str
    name_en: str
    value: str


@dataclass(frozen=True, slots=True)
class Problem:
    """A finding about one part (``part`` = the part's English name, or ``"value"``)."""

    part: str
    zh: str
    en: str
    severity: Severity = ERROR


@dataclass(frozen=True, slots=True)
class PartSpec:
    """Where a part sits in a fixed-layout identifier (``start``/``end`` are 0-based, end exclusive)."""

    name_zh: str
    name_en: str
    start: int
    end: int

    def take(self, value: str) -> Part:
        return Part(self.name_zh, self.name_en, value[self.start : self.end])


Splitter = Callable[[str], list[Part]]


@dataclass(frozen=True, slots=True)
class Form:
    """One form (era) of an identifier kind that authorities really issued (docs/identifiers.md).

    ``current``: today's form, the only one the "issued" question accepts. The others are accepted
    by "held" with an ``info`` note built by :func:`form_note`.
    """

    id: str
    zh: str
    en: str
    era_zh: str
    era_en: str
    current: bool = False


def form_note(form: Form) -> Problem:
    """The ``info`` note that names the form of a value held in the data."""
    return Problem(FORM_PART, f"{form.zh}：{form.era_zh}", f"{form.en}: {form.era_en}", INFO)


class CodeResult:
    """The verdict on one value: its parts, its problems and a one-line explanation."""

    __slots__ = ("_parts", "_split", "forms", "kind", "mode", "problems", "title_en", "title_zh", "value")

    def __init__(
        self,
        kind: str,
        value: str,
        problems: list[Problem] | None = None,
        *,
        parts: list[Part] | None = None,
        split: Splitter | None = None,
        title_zh: str = "",
        title_en: str = "",
        forms: tuple[str, ...] = (),
        mode: Mode | None = None,
    ) -> None:
        self.kind = kind
        self.value = value
        self.problems: list[Problem] = problems if problems is not None else []
        self._parts = parts
        self._split = split
        self.title_zh = title_zh or kind
        self.title_en = title_en or kind
        #: The forms (eras) of the kind that the value is in, by id (e.g. ``("tsg08-2017",)``); empty
        #: when the kind keeps no forms or the value is in none (an error beyond its form). More than
        #: one: several older features at once, or a value that reads validly in several layouts.
        self.forms = forms
        #: The question that was asked ("issued" or "held"; set by ``check`` and ``CodeKind.validate``).
        self.mode = mode

    @property
    def ok(self) -> bool:
        """True when no problem has severity ``"error"``."""
        return all(p.severity != ERROR for p in self.problems)

    @property
    def clean(self) -> bool:
        """True when no problem is an error or a warning (info notes are allowed)."""
        return all(p.severity == INFO for p in self.problems)

    @property
    def parts(self) -> list[Part]:
        """The value split into its parts (computed on first access: validation stays cheap)."""
        if self._parts is None:
            self._parts = self._split(self.value) if self._split is not None else []
        return self._parts

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def notes(self) -> list[Problem]:
        """The ``info`` notes naming the form (era) of the value (part :data:`FORM_PART`)."""
        return [p for p in self.problems if p.severity == INFO and p.part == FORM_PART]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    def reason(self, lang: str = "zh") -> str:
        """Why it is invalid (or its first warning), without the identifier's name; "" when clean."""
        en = lang.lower().startswith("en")
        errors = self.errors
        if errors:
            more = len(errors) - 1
            if en:
                return errors[0].en + (f" (+{more} more error{'s' if more > 1 else ''})" if more else "")
            return errors[0].zh + (f"（另有 {more} 处错误）" if more else "")
        warnings = self.warnings
        if warnings:
            return warnings[0].en if en else warnings[0].zh
        return ""

    def note(self, lang: str = "zh") -> str:
        """The form notes in one line ("" when the value is in today's form or the kind has one form)."""
        en = lang.lower().startswith("en")
        return "; ".join(p.en for p in self.notes) if en else "；".join(p.zh for p in self.notes)

    def message(self, lang: str = "zh") -> str:
        """One line: the first error (naming its part), else the first warning, else "valid" (with its form note)."""
        en = lang.lower().startswith("en")
        why = self.reason(lang)
        if self.errors:
            return f"invalid {self.title_en}: {why}" if en else f"{self.title_zh}无效：{why}"
        note = self.note(lang)
        if why:
            line = f"valid {self.title_en}, with a warning: {why}" if en else f"{self.title_zh}有效，但有警告：{why}"
            return line + (f" (note: {note})" if en else f"（注：{note}）") if note else line
        if note:
            return f"valid {self.title_en} (note: {note})" if en else f"{self.title_zh}有效（注：{note}）"
        return f"valid {self.title_en}" if en else f"{self.title_zh}有效"

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return (
            f"CodeResult(kind={self.kind!r}, value={self.value!r}, ok={self.ok}, mode={self.mode!r}, "
            f"forms={self.forms!r}, problems={self.problems!r})"
        )


#: ``slow(value, issued)``: the problems of a readable value, or (problems, the forms it is in).
Slow = Callable[[str, bool], list[Problem] | tuple[list[Problem], tuple[str, ...]]]


@dataclass(frozen=True)
class CodeKind:
    """One identifier kind: its names, its validator and its generator of valid values.

    :meth:`validator` answers from ``fast`` (or ``quick``) when it says yes, else from
    :func:`surface_problems` when the value is unreadable, else from ``slow``.
    """

    name: str
    title_zh: str
    title_en: str
    source: str
    split: Splitter = field(repr=False)
    #: The checks of a value that :func:`surface_problems` found readable; ``issued`` True asks "issued".
    slow: Slow = field(repr=False)
    generator: Callable[..., str] = field(repr=False)
    #: A cheap yes-only test: True means "valid with no problem at all"; False means "ask ``validate``".
    fast: Callable[[object], bool] | None = field(default=None, repr=False)
    #: A yes-only test that only :meth:`validator` uses (not offered to callers as ``fast``).
    quick: Callable[[object], bool] | None = field(default=None, repr=False)
    #: The forms of a value that ``fast`` / ``quick`` accepts.
    quick_forms: tuple[str, ...] = ()
    #: Problems every verdict carries (a known defect of the standard).
    always: tuple[Problem, ...] = ()
    #: Full-width characters that are part of a form of the kind (the brackets of a registration number).
    allow_fullwidth: str = ""
    #: Each value names one thing (an equipment item, a dossier, a certificate, a person): in a bulk
    #: dump the values hardly repeat, so remembering checked values does not pay.
    unique_values: bool = False

    @property
    def format_name(self) -> str:
        """The JSON Schema ``format`` of this kind, e.g. ``tzsb-uscc``."""
        return f"tzsb-{self.name}"

    def validator(self, value: str, issued: bool = True) -> CodeResult:
        """The verdict on ``value``: ``issued`` True asks "issued", False "held" (historically ``strict``)."""
        shortcut = self.fast or self.quick
        if shortcut is not None and shortcut(value):
            problems, forms = [*self.always], self.quick_forms
        elif unreadable := surface_problems(value, allow_fullwidth=self.allow_fullwidth):
            problems = [*unreadable, *self.always]
            return CodeResult(self.name, str(value), problems, parts=[], title_zh=self.title_zh, title_en=self.title_en)
        else:
            found = self.slow(value, issued)
            problems, forms = found if isinstance(found, tuple) else (found, ())
            problems = [*problems, *self.always]
        return CodeResult(
            self.name, value, problems, split=self.split, title_zh=self.title_zh, title_en=self.title_en, forms=forms
        )

    def validate(self, value: str, mode: Mode | bool | None = None, *, strict: bool | None = None) -> CodeResult:
        """The verdict on ``value`` for one question: ``mode`` "issued" (default) or "held" (``strict`` alias)."""
        chosen = resolve_mode(mode, strict)
        result = self.validator(value, chosen == ISSUED)
        result.mode = chosen
        return result

    def is_ok(self, value: str, mode: Mode | bool | None = None, *, strict: bool | None = None) -> bool:
        """``validate(value, mode).ok``, without building a result when the fast path settles it."""
        issued = resolve_mode(mode, strict) == ISSUED
        return (self.fast is not None and self.fast(value)) or self.validator(value, issued).ok

    def generate(self, rng: random.Random, **hints: object) -> str:
        """A valid, realistic value; ``hints`` (all optional) steer it, e.g. ``division="420100"``."""
        return self.generator(rng, **hints)


# --------------------------------------------------------------------------- helpers

FULLWIDTH_OFFSET = 0xFEE0  # U+FF01..U+FF5E are the full-width forms of U+0021..U+007E


def pos(index: int, offset: int = 0) -> tuple[str, str]:
    """Chinese / English wording of a 0-based position (shifted by ``offset``)."""
    n = index + offset + 1
    return f"第{n}位", f"position {n}"


def is_fullwidth(ch: str) -> bool:
    o = ord(ch)
    return 0xFF01 <= o <= 0xFF5E or o == 0x3000


def surface_problems(value: object, *, allow_fullwidth: str = "") -> list[Problem]:
    """Problems that make a value unreadable as an identifier at all.

    Not a string, empty, leading/trailing whitespace, full-width characters (except those in
    ``allow_fullwidth``, e.g. the brackets of a registration number). Callers stop when this
    returns problems: positions would be meaningless.
    """
    if not isinstance(value, str):
        return [Problem("value", f"不是字符串（{type(value).__name__}）", f"not a string ({type(value).__name__})")]
    if not value:
        return [Problem("value", "为空字符串", "is an empty string")]
    if value != value.strip():
        where_zh = "开头" if value[0].isspace() else "结尾"
        where_en = "leading" if value[0].isspace() else "trailing"
        return [
            Problem(
                "value",
                f"{where_zh}有空白字符（共 {len(value)} 个字符），应去掉首尾空白",
                f"{where_en} whitespace (value has {len(value)} characters); strip it",
            )
        ]
    found = [(i, ch) for i, ch in enumerate(value) if is_fullwidth(ch) and ch not in allow_fullwidth]
    if found:
        i, ch = found[0]
        zh_pos, en_pos = pos(i)
        half = " " if ch == "\u3000" else chr(ord(ch) - FULLWIDTH_OFFSET)
        return [
            Problem(
                "value",
                f"发现全角字符「{ch}」（{zh_pos}，共 {len(found)} 个全角字符），应为半角「{half}」",
                f"full-width character {ch!r} found at {en_pos} ({len(found)} full-width in all); "
                f"use half-width {half!r}",
            )
        ]
    return []


def char_problems(
    value: str,
    allowed: str | frozenset[str],
    part: str,
    part_zh: str,
    allowed_zh: str,
    allowed_en: str,
    *,
    start: int = 0,
    offset: int = 0,
) -> list[Problem]:
    """One error per character of ``value`` that is not in ``allowed``.

    ``start`` is where ``value`` begins inside the identifier, ``offset`` where the identifier
    begins inside an enclosing one (the dossier code embeds a USCC).
    """
    out: list[Problem] = []
    for i, ch in enumerate(value):
        if ch in allowed:
            continue
        zh_pos, en_pos = pos(start + i, offset)
        why_zh, why_en = _why_char(ch)
        out.append(
            Problem(
                part,
                f"{part_zh}{zh_pos}字符「{ch}」不合法{why_zh}，应为{allowed_zh}",
                f"{part} {en_pos}: character {ch!r} not allowed{why_en}; expected {allowed_en}",
            )
        )
    return out


def _why_char(ch: str) -> tuple[str, str]:
    if "a" <= ch <= "z":
        return "（小写字母）", " (lower-case letter)"
    if ch.isspace():
        return "（空白字符）", " (whitespace)"
    return "", ""


def parts_of(specs: Sequence[PartSpec]) -> Splitter:
    """A splitter for a fixed layout (parts beyond the value's end come out short or empty)."""

    def split(value: str) -> list[Part]:
        return [s.take(value) for s in specs]

    return split


def shift(problems: Iterable[Problem], prefix_zh: str, prefix_en: str, part: str | None = None) -> list[Problem]:
    """Embed a sub-identifier's problems in an enclosing one (prefix names the enclosing part)."""
    return [Problem(part or p.part, f"{prefix_zh}{p.zh}", f"{prefix_en}{p.en}", p.severity) for p in problems]


def by_severity(problems: list[Problem]) -> list[Problem]:
    """``problems`` sorted in place: errors, then warnings, then info notes (each group in its order)."""
    problems.sort(key=lambda p: 0 if p.severity == ERROR else 1 if p.severity == WARNING else 2)
    return problems


def length_problem(expected: int, n: int) -> Problem:
    return Problem("value", f"长度应为{expected}位，实为{n}位", f"length should be {expected}, is {n}")


def wrong_check(
    index: int, expected: str, got: str, source: str, note_zh: str = "", note_en: str = "", offset: int = 0
) -> Problem:
    """The error for a check character ``got`` at ``index`` that should be ``expected`` by ``source``."""
    zh_pos, en_pos = pos(index, offset)
    return Problem(
        "check character",
        f"校验码错误：{zh_pos}应为 {expected}，实为 {got}（{source}）{note_zh}",
        f"check character wrong: {en_pos} should be {expected}, is {got} ({source}){note_en}",
    )


def digit_or_x_problem(index: int, got: str) -> Problem:
    """The error for a check character that is neither a digit nor ``X`` (GB 11714, GB 11643)."""
    zh_pos, en_pos = pos(index)
    lower = got == "x"
    return Problem(
        "check character",
        f"校验码{zh_pos}「{got}」不合法{'（小写 x 应写作大写 X）' if lower else ''}，应为数字或 X",
        f"check character at {en_pos} is {got!r}{' (write lower-case x as upper-case X)' if lower else ''}; "
        "expected a digit or X",
    )


def year_problems(year: str, part: str, part_zh: str, start: int, earliest: int) -> list[Problem]:
    """Problems of a 4-digit year at ``start``: digits only, from ``earliest`` to this year."""
    bad = char_problems(year, string.digits, part, part_zh, "数字", "a digit", start=start)
    if bad:
        return bad
    now = dt.date.today().year
    if earliest <= int(year) <= now:
        return []
    return [
        Problem(
            part,
            f"{part_zh}「{year}」（第{start + 1}–{start + 4}位）超出范围 {earliest}–{now}",
            f"{part} {year} (positions {start + 1}-{start + 4}) outside {earliest}-{now}",
        )
    ]

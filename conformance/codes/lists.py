"""Lookup tables derived from the code lists in ``schemas/codelists/`` (read lazily, cached).

Nothing here reads a file at import time: every table is built on first use by a
``functools.cache``-d function and then costs one dictionary lookup. The code lists themselves
are the single source of truth (docs/CONVENTIONS.md, "Code lists"); this module only indexes
them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from conformance.contract.documents import codelist

Item = dict[str, Any]


def _index(name: str, field: str = "items", key: str = "code") -> Callable[[], dict[str, Item]]:
    """A cached function: the entries of ``field`` of code list ``name`` by their ``key``."""
    return functools.cache(lambda: {it[key]: it for it in codelist(name)[field]})


#: ``divisions.json`` items by 6-digit code: the current table (with its flagged entries).
divisions = _index("divisions")
#: Statistical codes (功能区 开发区 …, statistics-only units): not GB/T 2260, see divisions.json notes.
functional_zones = _index("divisions", "functionalZones")
#: Address codes of 港澳台居民居住证 numbers (810000 820000 830000), by code.
residence_permit_codes = _index("divisions-history", "residencePermitCodes")
#: ``provinces.json`` items by 2-digit code.
provinces = _index("provinces")
#: ``equipment-catalogue.json`` items by 4-character code.
catalogue = _index("equipment-catalogue")
#: ``equipment-characters.json`` items by character (锅 容 管 梯 …).
equipment_chars = _index("equipment-characters", key="char")
#: The 114 handling items by code ``01100000-GG-OO``.
licence_items = _index("licence-items")
licence_groups = _index("licence-items", "groups")
licence_operations = _index("licence-items", "operations")
licence_categories = _index("licence-categories")


# ----------------------------------------------------------------- divisions (GB/T 2260)


@functools.cache
def division_codes() -> frozenset[str]:
    """Codes that are in the current table and not flagged doubtful (the fast paths use this set)."""
    return frozenset(c for c, it in divisions().items() if not it.get("doubtful"))


@functools.cache
def division_pool(level: str = "county", within: str = "") -> tuple[str, ...]:
    """Sorted codes of one level starting with ``within`` (used to generate realistic values)."""
    return tuple(
        sorted(
            c
            for c, it in divisions().items()
            if it.get("level") == level and c.startswith(within) and not it.get("doubtful") and not it.get("grouping")
        )
    )


@functools.cache
def division_history() -> dict[str, tuple[Item, ...]]:
    """``divisions-history.json`` entries by code: every period of use since the first year-end table,
    oldest first (``from`` inclusive, ``to`` = year of the change or None while in use)."""
    out: dict[str, list[Item]] = {}
    for it in codelist("divisions-history")["items"]:
        out.setdefault(it["code"], []).append(it)
    return {c: tuple(sorted(v, key=lambda e: e["from"])) for c, v in out.items()}


@functools.cache
def division_history_meta() -> Item:
    """``upstream``, ``date`` and the first / newest table year of the history."""
    doc = codelist("divisions-history")
    return {"date": doc.get("date", ""), **(doc.get("upstream") or {})}


@functools.cache
def division_changes() -> dict[str, Item]:
    """The change descriptions the history's successors point to (title, docNo, date, url)."""
    return dict(codelist("divisions-history").get("changes") or {})


@functools.cache
def division_name(code: str) -> str:
    """The current name of ``code``, else its latest name in the history, else ""."""
    it = divisions().get(code)
    if it is not None:
        return str(it["name"])
    periods = division_history().get(code) or ()
    return str(periods[-1]["name"]) if periods else ""


@functools.cache
def division_successors(code: str) -> tuple[str, ...]:
    """Current codes that cover the area of ``code`` after its changes (successors followed through
    every later change until codes of the current table); () when none is known."""
    current = divisions()
    history = division_history()
    out: list[str] = []
    seen = {code}
    todo = [s["code"] for e in history.get(code, ()) for s in e.get("successors") or ()]
    while todo:
        nxt = todo.pop(0)
        if nxt in seen:
            continue
        seen.add(nxt)
        if nxt in current and any(e["to"] is None for e in history.get(nxt, ({"to": None},))):
            out.append(nxt)
            continue
        todo.extend(s["code"] for e in history.get(nxt, ()) for s in e.get("successors") or ())
    return tuple(sorted(set(out)))


# ----------------------------------------------------------------- provinces


@functools.cache
def province_by_abbr() -> dict[str, tuple[Item, bool]]:
    """Province by one-character abbreviation → (item, is_alternative_abbreviation)."""
    out: dict[str, tuple[Item, bool]] = {}
    for it in provinces().values():
        for alt in it.get("alt") or ():
            out.setdefault(alt, (it, True))
    for it in provinces().values():
        out[it["abbr"]] = (it, False)
    return out


# ----------------------------------------------------------------- equipment catalogue (2014)


@functools.cache
def catalogue_children() -> dict[str, tuple[str, ...]]:
    kids: dict[str, list[str]] = {}
    for code, it in catalogue().items():
        parent = it.get("parent")
        if parent:
            kids.setdefault(parent, []).append(code)
    return {k: tuple(v) for k, v in kids.items()}


@functools.cache
def catalogue_specific() -> frozenset[str]:
    """Codes that name a 品种 (variety), or a class / kind with no variety under it."""
    kids = catalogue_children()
    return frozenset(code for code, it in catalogue().items() if it.get("level") == "variety" or code not in kids)


@functools.cache
def catalogue_descendants(code: str) -> tuple[str, ...]:
    """``code`` and every code below it in the catalogue tree."""
    out = [code]
    for kid in catalogue_children().get(code, ()):
        out.extend(catalogue_descendants(kid))
    return tuple(out)


@functools.cache
def catalogue_kind_of(code: str) -> str | None:
    """The kind-level (种类) ancestor of a catalogue code."""
    cat = catalogue()
    seen = 0
    while code in cat and seen < 8:
        it = cat[code]
        if it.get("level") == "kind" or not it.get("parent"):
            return code
        code = it["parent"]
        seen += 1
    return None


# ----------------------------------------------------------------- equipment characters


@functools.cache
def char_variety_pairs(char: str) -> dict[str, str]:
    """2-character 品种代号 allowed after ``char`` → the catalogue code it comes from.

    TSG 08-2017: the digits are the 2nd and 3rd characters of the 品种 code (梯11 ← 3110).
    Only specific codes (varieties, or classes without varieties) count.
    """
    it = equipment_chars().get(char)
    if it is None:
        return {}
    specific = catalogue_specific()
    out: dict[str, str] = {}
    for kind in it.get("catalogueKinds") or ():
        for code in catalogue_descendants(kind):
            if code in specific:
                out.setdefault(code[1:3], code)
    return out


# ----------------------------------------------------------------- licence categories and items (DB42/T 2279-2024)


@functools.cache
def use_registration() -> tuple[str, str]:
    """(licence category code, SG 6-2021 item code) of 特种设备使用登记, e.g. ("05", "01100000")."""
    ur = codelist("licence-categories")["useRegistration"]
    return ur["category"], ur["itemCode"]

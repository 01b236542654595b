"""Lookup tables for the generator, built from the project's code lists and contracts (nothing re-declared):
counties of ``divisions.json`` with province weights, catalogue varieties with their registration-number
character and item code, province abbreviations, the record schemas' enums.

The one table of our own is the province weighting (population, 7th national census 2020, 万人): equipment follows
people. Within a province every county weighs the same.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from conformance.codes import lists
from conformance.codes.registration_no import char_for
from conformance.contract import documents as contracts
from conformance.datagen.records import KIND_WEIGHTS, _varieties_by_kind

#: 第七次全国人口普查 (2020) resident population by province, 万人 (国家统计局公报第三号).
PROVINCE_POPULATION: dict[str, int] = {
    "11": 2189, "12": 1387, "13": 7461, "14": 3492, "15": 2405, "21": 4259, "22": 2407, "23": 3185,
    "31": 2487, "32": 8475, "33": 6457, "34": 6103, "35": 4154, "36": 4519, "37": 10153, "41": 9937,
    "42": 5775, "43": 6644, "44": 12601, "45": 5013, "46": 1008, "50": 3205, "51": 8367, "52": 3856,
    "53": 4721, "54": 365, "61": 3953, "62": 2502, "63": 592, "64": 720, "65": 2585,
}  # fmt: skip

#: Periodic-inspection interval in years by catalogue kind (TSG 08-2017 and the kinds' inspection rules, rounded).
PERIOD_YEARS: dict[str, int] = {"1000": 1, "2000": 3, "3000": 1, "4000": 2, "5000": 1, "6000": 1, "9000": 1}

#: The sharing contract holding ``x-data-sets``.
CONTRACT = "sharing"
#: The data sets generated, in the order they are written.
DATA_SETS = ("units", "equipment", "use-registrations", "inspection-reports")


@dataclass(frozen=True)
class DataSetSpec:
    name: str
    key: str
    schema: str  # e.g. "equipment"
    required: tuple[str, ...]
    properties: dict[str, Any]
    references: dict[str, str]  # field → data set


@functools.cache
def data_set_specs() -> dict[str, DataSetSpec]:
    """The four data sets as ``x-data-sets`` and their record schemas declare them."""
    declared = contracts.openapi(CONTRACT)["x-data-sets"]
    out = {}
    for name in DATA_SETS:
        spec = declared[name]
        schema = spec["schema"].rsplit("/", 1)[-1].removesuffix(".schema.json")
        body = contracts.json_schema(schema)
        out[name] = DataSetSpec(
            name=name,
            key=spec["key"],
            schema=schema,
            required=tuple(body.get("required", ())),
            properties=body.get("properties", {}),
            references={f: r["data-set"] for f, r in (spec.get("x-references") or {}).items()},
        )
    return out


def enum(data_set: str, field: str) -> tuple[str, ...]:
    """The enum of a field of a data set's record schema."""
    return tuple(data_set_specs()[data_set].properties[field]["enum"])


def weighted(data_set: str, field: str, weights: dict[str, float]) -> tuple[tuple[str, ...], np.ndarray]:
    """Values of a schema enum and our weights for them; a weight for a value the schema does not list is an error."""
    values = enum(data_set, field)
    unknown = set(weights) - set(values)
    if unknown:
        raise ValueError(f"{data_set}.{field}: {sorted(unknown)} not in the schema's enum {values}")
    chosen = tuple(v for v in values if v in weights)
    return chosen, np.array([weights[v] for v in chosen], dtype=np.float64)


# ------------------------------------------------------------------------------------------------ divisions


@dataclass(frozen=True)
class Counties:
    codes: np.ndarray  # int64, 6-digit codes
    names: list[str]  # province + prefecture + county names
    cities: list[str]  # prefecture (or province, for municipalities) name
    letters: np.ndarray  # uint8, prefecture letter (A = first prefecture of the province)
    weights: np.ndarray


def _full_name(code: str) -> str:
    div = lists.divisions()
    names: list[str] = []
    for c in (code[:2] + "0000", code[:4] + "00", code):
        name = div.get(c, {}).get("name")
        if name and name not in names:
            names.append(name)
    return "".join(names)


@functools.cache
def counties() -> Counties:
    """Every current, sound county-level code of the 31 provinces, weighted by province population."""
    codes: list[str] = []
    weights: list[float] = []
    letters: list[int] = []
    div = lists.divisions()
    for prov, people in PROVINCE_POPULATION.items():
        pool = lists.division_pool("county", prov)
        prefectures = sorted({c[:4] for c in pool})
        codes += pool
        weights += [people / len(pool)] * len(pool)
        letters += [ord("A") + prefectures.index(c[:4]) % 25 for c in pool]
    cities = [div.get(c[:4] + "00", div[c[:2] + "0000"])["name"] for c in codes]
    return Counties(
        codes=np.array([int(c) for c in codes], dtype=np.int64),
        names=[_full_name(c) for c in codes],
        cities=cities,
        letters=np.array(letters, dtype=np.uint8),
        weights=np.array(weights),
    )


@functools.cache
def province_abbr_bytes() -> np.ndarray:
    """(100, 3) UTF-8 bytes of the abbreviation of each 2-digit province code (zeros elsewhere)."""
    out = np.zeros((100, 3), dtype=np.uint8)
    for code, item in lists.provinces().items():
        raw = item["abbr"].encode()
        if len(raw) == 3 and code.isdigit():
            out[int(code)] = np.frombuffer(raw, dtype=np.uint8)
    return out


# ------------------------------------------------------------------------------------------------ catalogue


@dataclass(frozen=True)
class Varieties:
    codes: list[str]
    names: list[str]
    kinds: list[str]
    weights: np.ndarray
    chars: list[str]  # registration-number character
    char_ids: np.ndarray  # index into the distinct characters
    other_pairs: list[list[str]]  # kind digits of the same character that are not this variety's
    item_codes: list[str]
    period_days: np.ndarray


def _item_code(variety: str) -> str:
    _category, item = lists.use_registration()
    group = next(
        g["code"]
        for g in lists.licence_groups().values()
        if variety[0] + "000" in g["catalogue"] or variety[:2] + "00" in g["catalogue"]
    )
    operation = next(  # 新登记: the operation that registers new equipment for use
        code
        for code, op in sorted(lists.licence_operations().items())
        if op.get("registrationStatus") == "registered" and not op.get("keepsRegistrationNo")
    )
    return f"{item}-{group}-{operation}"


@functools.cache
def varieties() -> Varieties:
    """The sound catalogue varieties whose registration-number character is sound, weighted by kind."""
    chars = lists.equipment_chars()
    rows: list[tuple[str, str, float, str]] = []
    for kind, weight in KIND_WEIGHTS:
        pool = [v for v in _varieties_by_kind().get(kind, ()) if (c := char_for(v)) and not chars[c].get("doubtful")]
        rows += [(v, kind, weight / len(pool), str(char_for(v))) for v in pool]
    distinct = sorted({r[3] for r in rows})
    cat = lists.catalogue()
    return Varieties(
        codes=[r[0] for r in rows],
        names=[cat[r[0]]["name"] for r in rows],
        kinds=[r[1] for r in rows],
        weights=np.array([r[2] for r in rows]),
        chars=[r[3] for r in rows],
        char_ids=np.array([distinct.index(r[3]) for r in rows], dtype=np.int64),
        other_pairs=[sorted(p for p in lists.char_variety_pairs(r[3]) if p != r[0][1:3]) for r in rows],
        item_codes=[_item_code(r[0]) for r in rows],
        period_days=np.array([365 * PERIOD_YEARS[r[1]] for r in rows], dtype=np.int64),
    )

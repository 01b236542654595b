"""Clean records of the four data sets, a chunk of rows at a time, as columns (Arrow arrays).

Every attribute of a row is a pure function of the seed and the row's global index (:mod:`.streams`), so a unit's
name and division can be computed wherever an equipment record needs them and no data set is ever held whole. The one
running state is the serial numbers of use-registration numbers (:class:`RegistrationSerials`), counted per
(character, kind digits, province, prefecture letter, year) in row order.

Dates are chained so that clean records have none of the seeded problems: manufacture ≤ install ≤ registration ≤
last inspection (≥ 30 days before ``as_of``) < ``as_of`` < next inspection = last + period; ``updatedAt`` between the
last inspection and ``as_of``.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from conformance.codes.uscc import _GEN_PAIRS
from conformance.datagen.national import identifiers as ids
from conformance.datagen.national import tables
from conformance.datagen.national.streams import Stream, scramble
from conformance.datagen.records import _BRANDS, _FORMS, _GIVEN, _STREETS, _SURNAMES, _TRADES

Columns = dict[str, pa.Array]
DAY = np.timedelta64(1, "D")
#: serial numbers (USCC organisation bodies, equipment serials) live in [0, 10**8)
SERIALS = 10**8
#: the top of the serial space belongs to the registering authorities (one per county)
AUTHORITY_BASE = SERIALS - 10_000
_NON_USE = {"manufacture": 0.03, "installation": 0.02, "filling": 0.01, "inspection": 0.01, "other": 0.01}
_MIDDLES = {
    "use": _TRADES,
    "manufacture": ("机械制造", "锅炉制造", "起重机械", "电梯", "压力容器制造"),
    "installation": ("电梯工程", "机电安装工程", "设备安装"),
    "filling": ("燃气", "气体"),
    "inspection": ("",),
    "other": ("商贸", "实业"),
}
_INSPECTION_NAMES = ("特种设备检验检测研究院", "特种设备监督检验所", "锅炉压力容器检验研究院")


@dataclass(frozen=True)
class Plan:
    """What to generate: sizes, seed, the generation's date, the defect rates."""

    equipment: int
    seed: int = 0
    as_of: dt.date = dt.date(2025, 12, 31)
    units_per_equipment: float = 1 / 8
    chunk_rows: int = 1_000_000
    rates: dict[str, float] = field(default_factory=dict)

    @functools.cached_property
    def units(self) -> UnitLayout:
        return UnitLayout.of(max(10, int(np.ceil(self.equipment * self.units_per_equipment))))

    @property
    def day(self) -> np.datetime64:
        return np.datetime64(self.as_of, "D")


@dataclass(frozen=True)
class UnitLayout:
    """Unit indices by type: use units first (the ones equipment is registered to), then the other types' blocks."""

    total: int
    blocks: dict[str, tuple[int, int]]  # type → (first index, count)

    @classmethod
    def of(cls, total: int) -> UnitLayout:
        others = {k: max(1, int(np.ceil(total * share))) for k, share in _NON_USE.items()}
        tables.weighted("units", "unitType", {**dict.fromkeys(others, 1.0), "use": 1.0})  # the schema knows them
        use = total - sum(others.values())
        blocks = {"use": (0, use)}
        start = use
        for kind, count in others.items():
            blocks[kind] = (start, count)
            start += count
        return cls(total, blocks)

    def pick(self, stream: Stream, idx: np.ndarray, field: str, kind: str) -> np.ndarray:
        start, count = self.blocks[kind]
        return start + stream.integers(idx, field, 0, count)

    def types(self, j: np.ndarray) -> np.ndarray:
        """Index into :data:`TYPE_ORDER` of each unit."""
        starts = np.array([self.blocks[k][0] for k in TYPE_ORDER])
        return np.searchsorted(starts, j, side="right") - 1


TYPE_ORDER = ("use", *_NON_USE)


# ------------------------------------------------------------------------------------------------ helpers


def take(values: list[str] | tuple[str, ...], idx: np.ndarray) -> pa.Array:
    return pa.array(values, pa.string()).take(pa.array(np.asarray(idx, dtype=np.int64)))


def cat(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def number(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def dates(days: np.ndarray) -> pa.Array:
    return ids.strings(ids.date_matrix(np.asarray(days, dtype="datetime64[D]").astype(np.int64)))


def times(seconds: np.ndarray) -> pa.Array:
    """Local (+08:00) date-times in GB/T 7408 extended format, built as a byte matrix (Arrow's strftime is slower)."""
    sec = np.asarray(seconds, dtype=np.int64)
    day = sec // 86400
    clock = sec - day * 86400
    m = np.empty((len(sec), 25), dtype=np.uint8)
    m[:, :10] = ids.date_matrix(day)
    m[:, 10] = ord("T")
    hms = (clock // 3600) * 10000 + (clock // 60 % 60) * 100 + clock % 60
    six = ids.digits(hms, 6)
    m[:, 11:13], m[:, 14:16], m[:, 17:19] = six[:, :2], six[:, 2:4], six[:, 4:]
    m[:, 13] = m[:, 16] = ord(":")
    m[:, 19:] = np.frombuffer(b"+08:00", dtype=np.uint8)
    return ids.strings(m)


def person(s: Stream, idx: np.ndarray, field: str) -> pa.Array:
    two = s.uniform(idx, field + ".2") < 0.6
    given2 = pc.if_else(pa.array(two), take(list(_GIVEN), s.integers(idx, field + ".g2", 0, len(_GIVEN))), "")
    return cat(
        take(list(_SURNAMES), s.integers(idx, field + ".s", 0, len(_SURNAMES))),
        take(list(_GIVEN), s.integers(idx, field + ".g1", 0, len(_GIVEN))),
        given2,
    )


def mobile(s: Stream, idx: np.ndarray, field: str) -> pa.Array:
    n = len(idx)
    m = np.empty((n, 11), dtype=np.uint8)
    m[:, 0] = ord("1")
    m[:, 1] = ord("3") + s.integers(idx, field + ".p", 0, 7)
    m[:, 2:] = ids.digits(s.integers(idx, field, 0, 10**9), 9)
    return ids.strings(m)


def street(s: Stream, idx: np.ndarray, field: str, place: pa.Array) -> pa.Array:
    return cat(
        place,
        take(_STREETS, s.integers(idx, field + ".street", 0, len(_STREETS))),
        number(s.integers(idx, field + ".no", 1, 1000)),
        "号",
    )


def at_seconds(day: np.ndarray, s: Stream, idx: np.ndarray, field: str) -> np.ndarray:
    """Seconds since the epoch: ``day`` at a working-hours time (08:00–18:00)."""
    return day.astype("datetime64[s]").astype(np.int64) + s.integers(idx, field, 8 * 3600, 18 * 3600)


def between(low_s: np.ndarray, high_s: np.ndarray, s: Stream, idx: np.ndarray, field: str) -> np.ndarray:
    """Seconds uniformly in [low, high] (high ≥ low)."""
    return low_s + (s.uniform(idx, field) * (high_s - low_s + 1)).astype(np.int64)


def end_of(day: np.datetime64) -> int:
    return int((day + DAY).astype("datetime64[s]").astype(np.int64)) - 1


def order(columns: Columns, data_set: str) -> Columns:
    """Columns in the order of the record schema's properties."""
    props = tables.data_set_specs()[data_set].properties
    return {k: columns[k] for k in props if k in columns}


# ------------------------------------------------------------------------------------------------ units


@dataclass
class UnitCore:
    """What other data sets need of units (by unit index)."""

    county: np.ndarray  # index into tables.counties()
    uscc: np.ndarray  # (n, 18) bytes
    name: pa.Array


def _pairs(s: Stream, j: np.ndarray, inspection: np.ndarray) -> np.ndarray:
    codes = [p for p, _ in _GEN_PAIRS]
    chosen = s.choice(j, "pair", [w for _, w in _GEN_PAIRS])
    matrix = np.frombuffer("".join(codes).encode(), dtype=np.uint8).reshape(len(codes), 2)[chosen]
    matrix[inspection] = np.frombuffer(b"12", dtype=np.uint8)
    return matrix


def unit_core(plan: Plan, j: np.ndarray) -> UnitCore:
    s = Stream(plan.seed, "units")
    c = tables.counties()
    county = s.choice(j, "division", c.weights)
    kinds = plan.units.types(j)
    inspection = kinds == TYPE_ORDER.index("inspection")
    uscc = ids.uscc_matrix(_pairs(s, j, inspection), c.codes[county], scramble(j), s.uniform(j, "ma") < 0.45)
    middles = [m for k in TYPE_ORDER for m in _MIDDLES[k]]
    first = np.cumsum([0] + [len(_MIDDLES[k]) for k in TYPE_ORDER])
    counts = np.array([len(_MIDDLES[k]) for k in TYPE_ORDER])
    middle = first[kinds] + s.integers(j, "middle", 0, 1 << 30) % counts[kinds]
    city = take(c.cities, county)
    ordinary = cat(
        city,
        take(_BRANDS, s.integers(j, "brand", 0, len(_BRANDS))),
        take(middles, middle),
        take(_FORMS, s.integers(j, "form", 0, len(_FORMS))),
    )
    institute = cat(city, take(_INSPECTION_NAMES, s.integers(j, "institute", 0, len(_INSPECTION_NAMES))))
    name = pc.if_else(pa.array(inspection), institute, ordinary)
    return UnitCore(county, uscc, name)


_BLOCK_CORES: dict[tuple[int, int, str], UnitCore] = {}


def block_core(plan: Plan, kind: str, offsets: np.ndarray) -> UnitCore:
    """:func:`unit_core` of units of a small type block (by offset in the block), computed once per generation."""
    key = (plan.seed, plan.units.total, kind)
    if key not in _BLOCK_CORES:
        if len(_BLOCK_CORES) > 16:
            _BLOCK_CORES.clear()
        start, count = plan.units.blocks[kind]
        _BLOCK_CORES[key] = unit_core(plan, np.arange(start, start + count, dtype=np.int64))
    core = _BLOCK_CORES[key]
    return UnitCore(core.county[offsets], core.uscc[offsets], core.name.take(pa.array(offsets)))


def pick_unit(plan: Plan, s: Stream, idx: np.ndarray, field: str, kind: str) -> UnitCore:
    """A unit of a (small) type block for each row."""
    return block_core(plan, kind, s.integers(idx, field, 0, plan.units.blocks[kind][1]))


def units(plan: Plan, j: np.ndarray) -> Columns:
    s = Stream(plan.seed, "units")
    core = unit_core(plan, j)
    c = tables.counties()
    registered = plan.day - s.integers(j, "registered", 400, 35 * 365) * DAY
    registered_s = at_seconds(registered, s, j, "registered.t")
    updated_s = between(np.maximum(registered_s, end_of(plan.day) - 3 * 365 * 86400), end_of(plan.day), s, j, "upd")
    return order(
        {
            "uscc": ids.strings(core.uscc),
            "name": core.name,
            "unitType": take(TYPE_ORDER, plan.units.types(j)),
            "division": number(c.codes[core.county]),
            "address": street(s, j, "address", take(c.names, core.county)),
            "legalRepresentative": person(s, j, "legal"),
            "contactPerson": person(s, j, "contact"),
            "contactPhone": mobile(s, j, "phone"),
            "safetyManager": person(s, j, "safety"),
            "status": pa.array(["active"] * len(j), pa.string()),
            "registeredAt": times(registered_s),
            "updatedAt": times(updated_s),
        },
        "units",
    )


# ------------------------------------------------------------------------------------------------ authorities


def authority_uscc(county: np.ndarray) -> np.ndarray:
    """The USCC of each county's market-regulation bureau (机关: 11), outside every unit's serial range."""
    c = tables.counties()
    pairs = np.broadcast_to(np.frombuffer(b"11", dtype=np.uint8), (len(county), 2))
    return ids.uscc_matrix(pairs, c.codes[county], scramble(AUTHORITY_BASE + county), np.zeros(len(county), bool))


# ------------------------------------------------------------------------------------------------ registration serials


class RegistrationSerials:
    """Serial numbers of use-registration numbers, counted per group in row order (the one running state)."""

    def __init__(self) -> None:
        self.next: dict[int, int] = {}

    def take(self, groups: np.ndarray) -> np.ndarray:
        if not len(groups):
            return np.zeros(0, dtype=np.int64)
        order_ = np.argsort(groups, kind="stable")
        sorted_g = groups[order_]
        uniq, starts, counts = np.unique(sorted_g, return_index=True, return_counts=True)
        base = np.array([self.next.get(int(g), 0) for g in uniq], dtype=np.int64)
        rank = np.arange(len(groups)) - np.repeat(starts, counts) + np.repeat(base, counts)
        out = np.empty(len(groups), dtype=np.int64)
        out[order_] = rank
        for g, b, n in zip(uniq.tolist(), base.tolist(), counts.tolist(), strict=True):
            self.next[g] = b + n
        return out


# ------------------------------------------------------------------------------------------------ equipment


@dataclass
class EquipmentChunk:
    """One chunk of equipment with what its registrations and reports are derived from."""

    i: np.ndarray
    columns: Columns
    variety: np.ndarray
    county: np.ndarray
    status: np.ndarray  # index into STATUS values
    registered: np.ndarray  # bool: has a use registration
    manufacture: np.ndarray
    install: np.ndarray
    registration: np.ndarray  # dates
    last: np.ndarray
    period: np.ndarray  # days
    code: np.ndarray  # (n, 18) bytes
    registration_no: np.ndarray  # (n, 18) bytes (meaningful where registered)
    unit: np.ndarray
    unit_uscc: np.ndarray
    unit_name: pa.Array
    updated_s: np.ndarray


STATUS_WEIGHTS = {"in-use": 90, "suspended": 4, "scrapped": 3, "cancelled": 2, "moved-out": 1}
#: equipment statuses with a use registration, and the registration status each gets
REGISTRATION_STATUS = {"in-use": {"registered": 85, "changed": 15}, "suspended": {"suspended": 1}}
CONCLUSION_WEIGHTS = {"合格": 90, "基本符合要求": 6, "复检合格": 4}


@functools.cache
def _variety_bytes() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per variety: code (4 bytes), registration character (3 bytes), kind digits (2 bytes), kind-digit group id."""
    v = tables.varieties()
    code = np.frombuffer("".join(v.codes).encode(), dtype=np.uint8).reshape(-1, 4)
    char = np.frombuffer("".join(v.chars).encode(), dtype=np.uint8).reshape(-1, 3)
    pair = code[:, 1:3].copy()
    keys = sorted({(ch, cd[1:3]) for ch, cd in zip(v.chars, v.codes, strict=True)})
    group = np.array([keys.index((ch, cd[1:3])) for ch, cd in zip(v.chars, v.codes, strict=True)], dtype=np.int64)
    return code, char, pair, group


def equipment(plan: Plan, i: np.ndarray, serials: RegistrationSerials) -> EquipmentChunk:
    s = Stream(plan.seed, "equipment")
    n = len(i)
    v = tables.varieties()
    c = tables.counties()
    layout = plan.units
    unit = layout.pick(s, i, "unit", "use")
    owner = unit_core(plan, unit)
    county = owner.county
    variety = s.choice(i, "variety", v.weights)
    status_values, status_w = tables.weighted("equipment", "status", STATUS_WEIGHTS)
    status = s.choice(i, "status", status_w)
    registered = np.isin(np.array(status_values)[status], list(REGISTRATION_STATUS))
    period = v.period_days[variety]
    d1 = 30 + (s.uniform(i, "d1") * (period - 30)).astype(np.int64)  # last inspection 30 … period-1 days ago
    last = plan.day - d1 * DAY
    registration = last - (30 + (s.uniform(i, "d2") ** 1.5 * 25 * 365).astype(np.int64)) * DAY
    install = registration - s.integers(i, "d3", 1, 60) * DAY
    manufacture = install - s.integers(i, "d4", 30, 400) * DAY
    year = manufacture.astype("datetime64[Y]").astype(np.int64) + 1970

    maker_core = pick_unit(plan, s, i, "maker", "manufacture")
    fitter_core = pick_unit(plan, s, i, "fitter", "installation")
    vcode, vchar, vpair, vgroup = _variety_bytes()
    code = ids.equipment_code_matrix(vcode[variety], c.codes[maker_core.county] // 10000, year, scramble(i))
    # use-registration number: province of the registering authority (the equipment's county)
    province = c.codes[county] // 10000
    letters = c.letters[county]
    reg_year = registration.astype("datetime64[Y]").astype(np.int64) + 1970
    group = ((vgroup[variety] * 100 + province) * 32 + (letters - ord("A"))) * 100 + reg_year % 100
    serial = np.zeros(n, dtype=np.int64)
    serial[registered] = serials.take(group[registered])
    reg_no = ids.registration_no_matrix(
        vchar[variety], vpair[variety], tables.province_abbr_bytes()[province], letters,
        ids.registration_serial(serial), reg_year,
    )  # fmt: skip
    conclusion_values, conclusion_w = tables.weighted("equipment", "inspectionConclusion", CONCLUSION_WEIGHTS)
    in_use = np.array(status_values)[status] == "in-use"
    next_inspection = last + period * DAY
    updated_s = between(last.astype("datetime64[s]").astype(np.int64), np.full(n, end_of(plan.day)), s, i, "updated")
    reg_mask = pa.array(~registered)
    authority = cat(take(c.names, county), "市场监督管理局")
    columns: Columns = {
        "equipmentCode": ids.strings(code),
        "catalogueCode": take(v.codes, variety),
        "equipmentName": take(v.names, variety),
        "model": cat(
            take(list("ABCDHKSTW"), s.integers(i, "m1", 0, 9)),
            take(list("ABCDKLMPX"), s.integers(i, "m2", 0, 9)),
            "-",
            number(s.integers(i, "m3", 100, 10000)),
        ),
        "factoryNo": cat(number(year), ids.strings(ids.digits(s.integers(i, "factory", 1, 100000), 5))),
        "manufacturerUscc": ids.strings(maker_core.uscc),
        "manufacturerName": maker_core.name,
        "manufactureDate": dates(manufacture),
        "installDate": dates(install),
        "useUnitUscc": ids.strings(owner.uscc),
        "useUnitName": owner.name,
        "propertyUnitName": owner.name,
        "division": number(c.codes[county]),
        "address": street(s, i, "address", take(c.names, county)),
        "internalNo": cat(
            take(list("ABCDEFG"), s.integers(i, "in1", 0, 7)), "-", number(s.integers(i, "in2", 1, 1000))
        ),
        "registrationNo": pc.if_else(reg_mask, pa.nulls(n, pa.string()), ids.strings(reg_no)),
        "registrationAuthority": pc.if_else(reg_mask, pa.nulls(n, pa.string()), authority),
        "registrationDate": pc.if_else(reg_mask, pa.nulls(n, pa.string()), dates(registration)),
        "status": take(status_values, status),
        "designLifeYears": pa.array(np.array([15, 20, 25, 30])[s.integers(i, "life", 0, 4)]),
        "lastInspectionDate": dates(last),
        "nextInspectionDate": pc.if_else(pa.array(~in_use), pa.nulls(n, pa.string()), dates(next_inspection)),
        "inspectionConclusion": take(conclusion_values, s.choice(i, "conclusion", conclusion_w)),
        "maintenanceUnitName": fitter_core.name,
        "maintenanceUnitUscc": ids.strings(fitter_core.uscc),
        "safetyManager": person(s, i, "safety"),
        "emergencyPhone": mobile(s, i, "phone"),
        "updatedAt": times(updated_s),
    }
    return EquipmentChunk(
        i=i,
        columns=columns,
        variety=variety,
        county=county,
        status=status,
        registered=registered,
        manufacture=manufacture,
        install=install,
        registration=registration,
        last=last,
        period=period,
        code=code,
        registration_no=reg_no,
        unit=unit,
        unit_uscc=owner.uscc,
        unit_name=owner.name,
        updated_s=updated_s,
    )


# ------------------------------------------------------------------------------------------------ use registrations


def use_registrations(plan: Plan, eq: EquipmentChunk) -> tuple[Columns, np.ndarray]:
    """The registrations of the registered equipment of a chunk, and their row ids (the equipment's index)."""
    s = Stream(plan.seed, "use-registrations")
    rows = np.flatnonzero(eq.registered)
    i = eq.i[rows]
    n = len(rows)
    c = tables.counties()
    v = tables.varieties()
    county = eq.county[rows]
    status_values = tables.enum("equipment", "status")
    reg_status = np.empty(n, dtype=object)
    for eq_status, weights in REGISTRATION_STATUS.items():
        here = np.array(status_values)[eq.status[rows]] == eq_status
        values, w = tables.weighted("use-registrations", "status", weights)
        reg_status[here] = np.array(values, dtype=object)[s.choice(i[here], "status", w)]
    registered_s = at_seconds(eq.registration[rows], s, i, "at")
    updated_s = between(registered_s, np.full(n, end_of(plan.day)), s, i, "updated")
    day = eq.registration[rows].astype("datetime64[D]").astype(str)
    case_day = pc.replace_substring(pa.array(day), "-", "")
    authority = pa.StructArray.from_arrays(
        [
            cat(take(c.names, county), "市场监督管理局"),
            ids.strings(authority_uscc(county)),
            number(c.codes[county]),
        ],
        names=["name", "uscc", "division"],
    )
    pick = pa.array(rows)
    columns: Columns = {
        "registrationNo": ids.strings(eq.registration_no[rows]),
        "equipmentCode": ids.strings(eq.code[rows]),
        "catalogueCode": eq.columns["catalogueCode"].take(pick),
        "itemCode": take(v.item_codes, eq.variety[rows]),
        "caseNo": cat(number(c.codes[county]), case_day, ids.strings(ids.digits(s.integers(i, "case", 0, 10**6), 6))),
        "useUnitUscc": eq.columns["useUnitUscc"].take(pick),
        "useUnitName": eq.columns["useUnitName"].take(pick),
        "useAddress": eq.columns["address"].take(pick),
        "authority": authority,
        "registeredAt": times(registered_s),
        "status": pa.array(reg_status.tolist(), pa.string()),
        "updatedAt": times(updated_s),
    }
    return order(columns, "use-registrations"), i


# ------------------------------------------------------------------------------------------------ inspection reports

#: reports per equipment: none, the latest, the latest and one or two before it
REPORTS_WEIGHTS = (4, 80, 13, 3)
#: report row ids: equipment index × REPORT_SLOTS + sequence (0 = the latest)
REPORT_SLOTS = 4
#: the conclusion of earlier reports (the equipment stayed in use after them)
CONCLUSION_EARLIER = "合格"
INSPECTION_TYPE_WEIGHTS = {"定期检验": 95, "委托检验": 5}


def report_numbers(plan: Plan, eq: EquipmentChunk, rows: np.ndarray, seq: np.ndarray, dates_: np.ndarray) -> pa.Array:
    """``<kind digit><prefecture(4)>-<year>-<8 digits>``: unique by the 8 digits (a bijection of the row id)."""
    c = tables.counties()
    n = len(rows)
    m = np.empty((n, 19), dtype=np.uint8)
    m[:, 0] = np.frombuffer("".join(tables.varieties().codes).encode(), dtype=np.uint8).reshape(-1, 4)[
        eq.variety[rows], 0
    ]
    m[:, 1:5] = ids.digits(c.codes[eq.county[rows]] // 100, 4)
    m[:, 5] = m[:, 10] = ord("-")
    m[:, 6:10] = ids.digits(dates_.astype("datetime64[Y]").astype(np.int64) + 1970, 4)
    m[:, 11:19] = ids.digits(scramble(eq.i[rows] * REPORT_SLOTS + seq), 8)
    return ids.strings(m)


def inspection_reports(plan: Plan, eq: EquipmentChunk) -> tuple[Columns, np.ndarray, pa.Array]:
    """The reports of a chunk's equipment, their row ids, and each equipment's latest report number (or null)."""
    s = Stream(plan.seed, "inspection-reports")
    n_eq = len(eq.i)
    count = s.choice(eq.i, "count", REPORTS_WEIGHTS)
    rows = np.repeat(np.arange(n_eq), count)
    seq = np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
    day = eq.last[rows] - seq * eq.period[rows] * DAY
    keep = (seq == 0) | (day >= eq.registration[rows])
    rows, seq, day = rows[keep], seq[keep], day[keep]
    rid = eq.i[rows] * REPORT_SLOTS + seq
    n = len(rows)
    org = pick_unit(plan, s, rid, "org", "inspection")
    numbers = report_numbers(plan, eq, rows, seq, day)
    issued_s = at_seconds(day + s.integers(rid, "issued", 0, 11) * DAY, s, rid, "issued.t")
    updated_s = issued_s + s.integers(rid, "updated", 0, 5 * 86400)
    type_values, type_w = tables.weighted("inspection-reports", "inspectionType", INSPECTION_TYPE_WEIGHTS)
    latest = seq == 0
    conclusion = pc.if_else(
        pa.array(latest),
        eq.columns["inspectionConclusion"].take(pa.array(rows)),
        pa.scalar(tables.weighted("inspection-reports", "conclusion", {CONCLUSION_EARLIER: 1})[0][0]),
    )
    reg_no = eq.columns["registrationNo"].take(pa.array(rows))
    version = np.where(s.uniform(rid, "version") < 0.03, 2, 1)
    pick = pa.array(rows)
    columns: Columns = {
        "reportNo": numbers,
        "equipmentCode": ids.strings(eq.code[rows]),
        "registrationNo": reg_no,
        "catalogueCode": eq.columns["catalogueCode"].take(pick),
        "inspectionType": take(type_values, s.choice(rid, "type", type_w)),
        "inspectionOrgUscc": ids.strings(org.uscc),
        "inspectionOrgName": org.name,
        "inspectionDate": dates(day),
        "conclusion": conclusion,
        "nextInspectionDate": dates(day + eq.period[rows] * DAY),
        "issuedAt": times(issued_s),
        "version": pa.array(version),
        "updatedAt": times(updated_s),
    }
    where = np.full(n_eq, -1, dtype=np.int64)
    where[rows[latest]] = np.flatnonzero(latest)
    last_no = numbers.take(pa.array(np.maximum(where, 0), mask=where < 0)) if n else pa.nulls(n_eq, pa.string())
    return order(columns, "inspection-reports"), rid, last_no

"""Seeded defects: the kinds, named by the audit check each is meant to trip, and how each is applied to a chunk.

A check id reads ``<dimension>/<data-set>/<field>/<rule>``. Each record draws one number in [0, 1) from the seed; the
kinds of its data set own consecutive intervals of that range as long as their rates, so a record falls in at most one
kind's interval (disjoint by construction). A kind applies only to the records it can sensibly apply to
(``eligible``: e.g. an overdue inspection only to equipment in use), so its rate is the probability per eligible
record. The kinds change nothing that another data set mirrors and is checked against, so a seeded record trips its
own check and no other (see docs/national-data.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from conformance.codes import lists
from conformance.datagen.national import frames, tables
from conformance.datagen.national import identifiers as ids
from conformance.datagen.national.streams import Stream, scramble

DEFAULT_RATE = 0.005
#: kinds that apply only to a few records (unregistered equipment) get a higher rate per eligible record
DEFAULT_RATE_FEW = 0.05


@dataclass(frozen=True)
class DefectKind:
    dimension: str
    data_set: str
    field: str
    rule: str
    zh: str
    en: str
    default_rate: float = DEFAULT_RATE

    @property
    def id(self) -> str:
        return f"{self.dimension}/{self.data_set}/{self.field}/{self.rule}"

    @property
    def breaks_record(self) -> bool:
        """Whether the seeded record is invalid against its JSON Schema (as ``tzsb-conform validate`` judges it): a
        required field left out, a value outside its code list or pattern, an identifier with a wrong check character
        (the identifier formats are part of the schema). Every other kind leaves a valid record; a code in no table
        the project ships (``code-list``) only warns in lenient validation, the default."""
        return self.dimension == "completeness" or self.rule in ("schema", "identifier")

    @property
    def breaks_field(self) -> bool:
        """Whether the seeded field's value breaks the field's own schema (a left-out field breaks the record's)."""
        return self.rule in ("schema", "identifier")

    def expected(self, seeded: int) -> dict[str, int]:
        """What the audit must report for ``seeded`` records of this kind: check id → failing records. A repeated
        key is held by the copy and by the record it copies, so its check counts both."""
        out = {self.id: 2 * seeded if self.rule == "key" else seeded}
        if self.breaks_record:
            out[f"normativeness/{self.data_set}/-/record"] = seeded
        if self.breaks_field and self.dimension != "normativeness":
            out[f"normativeness/{self.data_set}/{self.field}/schema"] = seeded
        return out


def _k(check: str, zh: str, en: str, rate: float = DEFAULT_RATE) -> DefectKind:
    dimension, data_set, field_, rule = check.split("/")
    return DefectKind(dimension, data_set, field_, rule, zh, en, rate)


KINDS: tuple[DefectKind, ...] = (
    _k("completeness/equipment/address/required", "必填的设备使用地点缺失（null）", "required address is null"),
    _k(
        "normativeness/equipment/division/code-list",
        "行政区划代码不在 GB/T 2260 代码表（历年表中也无此码）",
        "division code in no GB/T 2260 table",
    ),
    _k(
        "accuracy/equipment/manufacturerUscc/identifier",
        "制造单位统一社会信用代码校验码错误（其余各位不变）",
        "manufacturer USCC with a wrong check character",
    ),
    _k(
        "accuracy/equipment/manufactureDate/date",
        "制造日期早于数据质量契约的最早可信日期",
        "manufacture date before the data-quality contract's earliest plausible date",
    ),
    _k("accuracy/equipment/updatedAt/date", "更新时间晚于生成基准日 as_of", "updatedAt after as_of"),
    _k(
        "uniqueness/equipment/equipmentCode/key", "设备代码重复（另一条记录的副本）", "equipment code repeated (a copy)"
    ),
    _k(
        "consistency/equipment/useUnitUscc/reference",
        "使用单位代码不在单位数据集中（仅未登记设备）",
        "use unit USCC not in units (unregistered equipment only)",
        DEFAULT_RATE_FEW,
    ),
    _k(
        "consistency/equipment/useUnitName/unit-name",
        "使用单位名称与单位数据集中该代码的名称不同（仅未登记设备）",
        "use unit name differs from the units data set (unregistered equipment only)",
        DEFAULT_RATE_FEW,
    ),
    _k(
        "timeliness/equipment/nextInspectionDate/overdue",
        "在用设备的下次检验日期早于 as_of（超期未检）",
        "equipment in use with its next inspection before as_of",
    ),
    _k(
        "timeliness/equipment/updatedAt/stale",
        "更新时间早于上次检验日期（检验后未更新）",
        "updatedAt before the last inspection date",
    ),
    _k("completeness/units/address/required", "必填的住所缺失（null）", "required address is null"),
    _k("normativeness/units/unitType/schema", "单位类型不在枚举值中", "unit type outside its enum"),
    _k(
        "accuracy/units/uscc/identifier",
        "统一社会信用代码校验码错误（仅无设备登记在其名下的非使用单位）",
        "USCC with a wrong check character (units no equipment refers to)",
        DEFAULT_RATE_FEW,
    ),
    _k(
        "accuracy/units/registeredAt/date",
        "登记时间早于数据质量契约的最早可信日期",
        "registeredAt before the data-quality contract's earliest plausible date",
    ),
    _k("uniqueness/units/uscc/key", "统一社会信用代码重复（另一条记录的副本）", "USCC repeated (a copy)"),
    _k("completeness/use-registrations/itemCode/required", "必填的办理项编码缺失（null）", "required itemCode is null"),
    _k("normativeness/use-registrations/status/schema", "登记状态不在枚举值中", "status outside its enum"),
    _k("accuracy/use-registrations/updatedAt/date", "更新时间晚于 as_of", "updatedAt after as_of"),
    _k(
        "uniqueness/use-registrations/registrationNo/key",
        "使用登记证编号重复（另一条记录的副本）",
        "registration number repeated (a copy)",
    ),
    _k(
        "consistency/use-registrations/equipmentCode/reference",
        "设备代码不在设备数据集中",
        "equipment code not in the equipment data set",
    ),
    _k(
        "consistency/use-registrations/registrationNo/kind-digits",
        "使用登记证编号的品种代号与设备品种代码不符（编号本身格式正确）",
        "registration number kind digits differ from the catalogue code (the number itself well-formed)",
    ),
    _k(
        "completeness/inspection-reports/conclusion/required",
        "必填的检验结论缺失（null）",
        "required conclusion is null",
    ),
    _k(
        "normativeness/inspection-reports/inspectionType/schema",
        "检验类别不在枚举值中",
        "inspection type outside its enum",
    ),
    _k(
        "accuracy/inspection-reports/inspectionOrgUscc/identifier",
        "检验机构统一社会信用代码校验码错误",
        "inspection body USCC with a wrong check character",
    ),
    _k("accuracy/inspection-reports/updatedAt/date", "更新时间晚于 as_of", "updatedAt after as_of"),
    _k(
        "uniqueness/inspection-reports/reportNo/key",
        "报告编号重复（另一条记录的副本）",
        "report number repeated (a copy)",
    ),
    _k(
        "consistency/inspection-reports/equipmentCode/reference",
        "设备代码不在设备数据集中",
        "equipment code not in the equipment data set",
    ),
)
BY_ID = {k.id: k for k in KINDS}

#: values outside an enum, one per kind that needs one (each checked against the schema: it must not be a member)
OUTSIDE_ENUM = {
    ("units", "unitType"): "使用单位",
    ("use-registrations", "status"): "在用",
    ("inspection-reports", "inspectionType"): "年度检验",
}
#: the field a differing duplicate differs in (a field no check looks at)
VARIANT = {
    "equipment": "internalNo",
    "units": "address",
    "use-registrations": "useAddress",
    "inspection-reports": "version",
}


def default_rates() -> dict[str, float]:
    return {k.id: k.default_rate for k in KINDS}


@dataclass
class Chunk:
    """One data set's columns in a chunk, and what the kinds need to know about its rows."""

    plan: frames.Plan
    data_set: str
    columns: frames.Columns
    row_ids: np.ndarray
    flags: dict[str, np.ndarray] = field(default_factory=dict)
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    #: the duplicate records (uniqueness kinds), written after the chunk's own rows
    copies: frames.Columns | None = None

    def table(self) -> pa.Table:
        """The chunk's rows, then its copies (two record batches: no concatenation)."""
        batches = [pa.record_batch(self.columns)]
        if self.copies is not None:
            batches.append(pa.record_batch(self.copies, schema=batches[0].schema))
        return pa.Table.from_batches(batches)

    def put(self, name: str, rows: np.ndarray, values: pa.Array | None) -> None:
        col = self.columns[name]
        mask = np.zeros(len(col), dtype=bool)
        mask[rows] = True
        new = pa.nulls(len(rows), col.type) if values is None else values.cast(col.type)
        self.columns[name] = pc.replace_with_mask(col, pa.array(mask), new)

    def stream(self) -> Stream:
        return Stream(self.plan.seed, "defects:" + self.data_set)


class State:
    """Running state across chunks: the serials of re-numbered registrations."""

    def __init__(self) -> None:
        self.renumbered = 0


def matrix(values: pa.Array, width: int) -> np.ndarray:
    """Fixed-width (in bytes) strings as an (n, width) matrix."""
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(len(arr), width).copy()


@functools.cache
def _bad_division_codes() -> np.ndarray:
    """Per province (2 digits), a 6-digit code in no table: not current, not historical, not a statistical code."""
    known = set(lists.divisions()) | set(lists.division_history()) | set(lists.functional_zones())
    out = np.zeros(100, dtype=np.int64)
    for prov in tables.PROVINCE_POPULATION:
        out[int(prov)] = next(int(code) for n in range(9899, 9000, -1) if (code := f"{prov}{n:04d}") not in known)
    return out


def _future_seconds(ch: Chunk, rows: np.ndarray) -> np.ndarray:
    s, ids_ = ch.stream(), ch.row_ids[rows]
    day = ch.plan.day + s.integers(ids_, "future", 1, 366) * frames.DAY
    return frames.at_seconds(day, s, ids_, "future.t")


@functools.cache
def earliest() -> str:
    """The earliest plausible date of the data-quality contract (schemas/quality/data-quality.yaml)."""
    from conformance.audit.rules import quality

    return str(quality()["dates"]["earliest"])


def _ancient_days(ch: Chunk, rows: np.ndarray) -> np.ndarray:
    """Days in the 49 years before the earliest plausible date."""
    start = np.datetime64(earliest()) - 49 * 365 * frames.DAY
    return start + ch.stream().integers(ch.row_ids[rows], "ancient", 0, 49 * 365) * frames.DAY


def _wrong_check(ch: Chunk, name: str, rows: np.ndarray) -> None:
    m = matrix(ch.columns[name].take(pa.array(rows)), 18)
    shift = ch.stream().integers(ch.row_ids[rows], "check", 1, 31)
    ch.put(name, rows, ids.strings(ids.wrong_check(m, shift)))


def _dangling_code(ch: Chunk, rows: np.ndarray) -> None:
    """An equipment code in the form of a real one whose serial digits no equipment has (serials ≥ N)."""
    m = matrix(ch.columns["equipmentCode"].take(pa.array(rows)), 18)
    eight = ids.digits(scramble(ch.plan.equipment + ch.extra["equipment_index"][rows]), 8)
    m[:, 6:9], m[:, 13:18] = eight[:, :3], eight[:, 3:]
    ch.put("equipmentCode", rows, ids.strings(m))


def _null(name: str) -> Callable[[Chunk, np.ndarray, State], np.ndarray]:
    def apply(ch: Chunk, rows: np.ndarray, state: State) -> np.ndarray:
        ch.put(name, rows, None)
        return rows

    return apply


def _outside_enum(name: str) -> Callable[[Chunk, np.ndarray, State], np.ndarray]:
    def apply(ch: Chunk, rows: np.ndarray, state: State) -> np.ndarray:
        value = OUTSIDE_ENUM[(ch.data_set, name)]
        assert value not in tables.enum(ch.data_set, name)
        ch.put(name, rows, pa.array([value] * len(rows), pa.string()))
        return rows

    return apply


def _future(name: str) -> Callable[[Chunk, np.ndarray, State], np.ndarray]:
    def apply(ch: Chunk, rows: np.ndarray, state: State) -> np.ndarray:
        ch.put(name, rows, frames.times(_future_seconds(ch, rows)))
        return rows

    return apply


def _check_char(name: str, flag: str | None = None) -> Callable[[Chunk, np.ndarray, State], np.ndarray]:
    def apply(ch: Chunk, rows: np.ndarray, state: State) -> np.ndarray:
        rows = rows[ch.flags[flag][rows]] if flag else rows
        if len(rows):
            _wrong_check(ch, name, rows)
        return rows

    return apply


def _equipment_division(ch: Chunk, rows: np.ndarray, state: State) -> np.ndarray:
    prov = np.array(ch.columns["division"].take(pa.array(rows)).to_pylist(), dtype=np.int64) // 10000
    ch.put("division", rows, frames.number(_bad_division_codes()[prov]))
    return rows


def _manufacture_date(ch: Chunk, rows: np.ndarray, state: State) -> np.ndarray:
    ch.put("manufactureDate", rows, frames.dates(_ancient_days(ch, rows)))
    return rows


def _dangling_unit(ch: Chunk, rows: np.ndarray, state: State) -> np.ndarray:
    rows = rows[~ch.flags["registered"][rows]]
    if not len(rows):
        return rows
    layout = ch.plan.units
    division = np.array(ch.columns["division"].take(pa.array(rows)).to_pylist(), dtype=np.int64)
    serial = scramble(layout.total + ch.row_ids[rows] % (frames.AUTHORITY_BASE - layout.total))
    pairs = np.broadcast_to(np.frombuffer(b"91", dtype=np.uint8), (len(rows), 2))
    ch.put("useUnitUscc", rows, ids.strings(ids.uscc_matrix(pairs, division, serial, np.zeros(len(rows), bool))))
    return rows


def _unit_name(ch: Chunk, rows: np.ndarray, state: State) -> np.ndarray:
    rows = rows[~ch.flags["registered"][rows]]
    if len(rows):
        ch.put("useUnitName", rows, frames.cat(ch.columns["useUnitName"].take(pa.array(rows)), "分公司"))
    return rows


def _overdue(ch: Chunk, rows: np.ndarray, state: State) -> np.ndarray:
    rows = rows[ch.flags["in_use"][rows]]
    if len(rows):
        last = ch.extra["last"][rows]
        ch.put("nextInspectionDate", rows, frames.dates(last + (ch.plan.day - last) // 2))
    return rows


def _stale(ch: Chunk, rows: np.ndarray, state: State) -> np.ndarray:
    reg, last = ch.extra["registration"][rows], ch.extra["last"][rows]
    day = reg + (last - reg) // 2
    ch.put("updatedAt", rows, frames.times(frames.at_seconds(day, ch.stream(), ch.row_ids[rows], "stale")))
    return rows


def _unit_registered(ch: Chunk, rows: np.ndarray, state: State) -> np.ndarray:
    days = _ancient_days(ch, rows)
    ch.put("registeredAt", rows, frames.times(frames.at_seconds(days, ch.stream(), ch.row_ids[rows], "ancient.t")))
    return rows


def _dangling_equipment(ch: Chunk, rows: np.ndarray, state: State) -> np.ndarray:
    _dangling_code(ch, rows)
    return rows


def _kind_digits(ch: Chunk, rows: np.ndarray, state: State) -> np.ndarray:
    """Other kind digits of the same character, and a serial from the Z range clean numbers never use."""
    v = tables.varieties()
    variety = ch.extra["variety"][rows]
    has_other = np.array([bool(v.other_pairs[x]) for x in variety], dtype=bool)
    rows, variety = rows[has_other], variety[has_other]
    if not len(rows):
        return rows
    m = matrix(ch.columns["registrationNo"].take(pa.array(rows)), 18)
    pick = ch.stream().integers(ch.row_ids[rows], "pair", 0, 1 << 20)
    m[:, 3:5] = np.array([list(v.other_pairs[x][p % len(v.other_pairs[x])].encode()) for x, p in zip(variety, pick, strict=True)], dtype=np.uint8)  # fmt: skip
    k = state.renumbered + np.arange(len(rows))
    if int(k[-1]) >= 25 * 10_000:
        raise OverflowError("too many re-numbered registrations for the Z serial range")
    state.renumbered += len(rows)
    m[:, 8] = ord("A") + k // 10_000
    m[:, 9] = ord("Z")
    m[:, 10:14] = ids.digits(k % 10_000, 4)
    ch.put("registrationNo", rows, ids.strings(m))
    return rows


APPLY: dict[str, Callable[[Chunk, np.ndarray, State], np.ndarray]] = {
    "completeness/equipment/address/required": _null("address"),
    "normativeness/equipment/division/code-list": _equipment_division,
    "accuracy/equipment/manufacturerUscc/identifier": _check_char("manufacturerUscc"),
    "accuracy/equipment/manufactureDate/date": _manufacture_date,
    "accuracy/equipment/updatedAt/date": _future("updatedAt"),
    "consistency/equipment/useUnitUscc/reference": _dangling_unit,
    "consistency/equipment/useUnitName/unit-name": _unit_name,
    "timeliness/equipment/nextInspectionDate/overdue": _overdue,
    "timeliness/equipment/updatedAt/stale": _stale,
    "completeness/units/address/required": _null("address"),
    "normativeness/units/unitType/schema": _outside_enum("unitType"),
    "accuracy/units/uscc/identifier": _check_char("uscc", "non_use"),
    "accuracy/units/registeredAt/date": _unit_registered,
    "completeness/use-registrations/itemCode/required": _null("itemCode"),
    "normativeness/use-registrations/status/schema": _outside_enum("status"),
    "accuracy/use-registrations/updatedAt/date": _future("updatedAt"),
    "consistency/use-registrations/equipmentCode/reference": _dangling_equipment,
    "consistency/use-registrations/registrationNo/kind-digits": _kind_digits,
    "completeness/inspection-reports/conclusion/required": _null("conclusion"),
    "normativeness/inspection-reports/inspectionType/schema": _outside_enum("inspectionType"),
    "accuracy/inspection-reports/inspectionOrgUscc/identifier": _check_char("inspectionOrgUscc"),
    "accuracy/inspection-reports/updatedAt/date": _future("updatedAt"),
    "consistency/inspection-reports/equipmentCode/reference": _dangling_equipment,
}


def _copies(ch: Chunk, rows: np.ndarray) -> None:
    """Append a copy of each row (every second one differing in a field no check looks at)."""
    pick = pa.array(rows)
    copy = {name: col.take(pick) for name, col in ch.columns.items()}
    differ = np.zeros(len(rows), dtype=bool)
    differ[1::2] = True
    name = VARIANT[ch.data_set]
    col = copy[name]
    changed = pc.add(col, 1) if pa.types.is_integer(col.type) else frames.cat(col, "（副本）")
    copy[name] = pc.if_else(pa.array(differ), changed, col)
    ch.copies = copy


def seed(ch: Chunk, rates: dict[str, float], state: State) -> dict[str, pa.Array]:
    """Seed the data set's defect kinds into a chunk; the keys of the affected records by kind."""
    kinds = [k for k in KINDS if k.data_set == ch.data_set and rates.get(k.id, 0) > 0]
    if not kinds:
        return {}
    key = tables.data_set_specs()[ch.data_set].key
    draw = ch.stream().uniform(ch.row_ids, "draw")
    low = 0.0
    found: dict[str, pa.Array] = {}
    copies: np.ndarray | None = None
    for kind in kinds:
        high = low + rates[kind.id]
        rows = np.flatnonzero((draw >= low) & (draw < high))
        low = high
        if kind.rule == "key":
            copies = rows
            found[kind.id] = ch.columns[key].take(pa.array(rows))
            continue
        applied = APPLY[kind.id](ch, rows, state)
        found[kind.id] = ch.columns[key].take(pa.array(applied))
    if copies is not None and len(copies):
        _copies(ch, copies)
    return found


def check_rates(rates: dict[str, float]) -> list[str]:
    """Problems of a set of rates: unknown kinds, rates outside [0, 1], a data set's rates adding up past 1."""
    problems = [f"unknown defect kind {k}" for k in rates if k not in BY_ID]
    problems += [f"rate of {k} outside [0, 1]: {r}" for k, r in rates.items() if not 0 <= r <= 1]
    for ds in tables.DATA_SETS:
        total = sum(r for k, r in rates.items() if k in BY_ID and BY_ID[k].data_set == ds)
        if total > 1:
            problems.append(f"the rates of {ds} add up to {total:g} > 1")
    return problems

"""共享数据集质量测试（GB/T 36344 数据质量评价指标：完整性、有效性、唯一性、一致性、时效性）。

对每个数据集按分页查询取回记录（每页取契约的最大条数，条数上限随测试档位：quick 1000、standard 10000、
certification 100000 条），逐项计算指标并在断言说明中给出指标值与示例。跨数据集引用先在已取回的记录中查找，
其余按主键抽样获取（被引用记录不在调用方权限范围内、返回 403 的不计为失败）。

Data-set quality (GB/T 36344 indicators) over the records the target returns: completeness,
validity (schemas with the project's identifier formats), uniqueness of keys, consistency across
data sets and interfaces, timeliness. Indicator values are reported in the assertion messages.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import time
import warnings
from collections import Counter
from typing import Any

import pytest

from conformance.check.bulk import BulkValidator
from conformance.check.formats import format_kinds
from conformance.check.schema import validator
from conformance.client import TargetClient
from conformance.contract.datasets import DataSet, data_sets
from conformance.contract.registry import registry
from conformance.harness.target import Target
from conformance.report.skips import EMPTY_DATA_SET_PROVIDE, untested, vacuous
from conformance.suites.support.reporting import operation
from conformance.suites.support.sharing import (
    DATA_SETS,
    ROLE,
    expect,
    instant,
    province_of,
    pull,
    read_changes,
    run_cache,
    sandbox,
    scale,
    tail_cursor,
)
from conformance.suites.support.workflow import data_of

pytestmark = pytest.mark.role(ROLE)


@pytest.fixture
def client(tzsb_client: Any) -> TargetClient:
    return tzsb_client()


def _pulled(request: pytest.FixtureRequest, client: TargetClient, target: Target, name: str) -> list[dict[str, Any]]:
    """The records of a data set pulled for this run (cached; up to the profile's cap; may be empty)."""
    cache = run_cache(request).setdefault("pulled", {})
    if name not in cache:
        cache[name] = pull(client, data_sets()[name], scale(target).records)[0]
    return cache[name]


def _records(request: pytest.FixtureRequest, client: TargetClient, target: Target, name: str) -> list[dict[str, Any]]:
    """The pulled records of a data set; the item is 未测 when the target holds none."""
    records = _pulled(request, client, target, name)
    if not records:
        untested(
            f"{data_sets()[name].label}没有数据，无法计算质量指标 / the data set is empty at the target",
            provide=EMPTY_DATA_SET_PROVIDE,
        )
    return records


def _pct(good: int, total: int) -> str:
    return f"{100.0 * good / total:.2f}%" if total else "—"


def _key(ds: DataSet, record: Any) -> str:
    return str(record.get(ds.key)) if isinstance(record, dict) else "?"


# ---------------------------------------------------------------------------- completeness, validity, uniqueness


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("IPQS.QUALITY.COMPLETENESS.1")
def test_completeness_of_required_fields(
    name: str, client: TargetClient, request: pytest.FixtureRequest, tzsb_target: Target
) -> None:
    """完整性：数据模式规定的必填数据元在每条记录中存在且不为空（空串、空数组、null 计为缺失），缺失率应为 0。

    前置条件：目标文件有 [credentials]（测试凭证）；被测数据集（逐个参数化）在目标中有记录，取不到记录时本项未测。
    测试步骤：
    1. 以测试凭证分页查询该数据集（每页取契约的最大条数），逐页取回记录，至多取测试档位规定的条数（quick 1000、standard 10000、certification 100000）；
    2. 逐条检查数据模式规定的每个必填字段。
    预期结果：步骤 1 每页返回 200，分页结果符合契约；步骤 2 没有一个必填字段缺失、为 null、为空串（含只有空白）或空数组。
    """
    ds = data_sets()[name]
    records = _records(request, client, tzsb_target, name)
    cells = len(records) * len(ds.required)
    missing = [
        (_key(ds, r), f)
        for r in records
        for f in ds.required
        if r.get(f) is None or (isinstance(r.get(f), str) and not r[f].strip()) or r.get(f) == []
    ]
    incomplete = len({k for k, _ in missing})
    assert not missing, (
        f"完整性 {_pct(cells - len(missing), cells)}（{len(records)} 条记录 × {len(ds.required)} 个必填字段，缺失 {len(missing)} 项，"
        f"涉及 {incomplete} 条记录）；例：{missing[:5]} / completeness {_pct(cells - len(missing), cells)}: "
        f"{len(missing)} required values missing in {incomplete} records"
    )


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("IPQS.QUALITY.VALIDITY.1")
def test_validity_against_the_record_schema(
    name: str, client: TargetClient, request: pytest.FixtureRequest, tzsb_target: Target
) -> None:
    """有效性：每条记录符合数据集的数据模式（代码的编码规则与校验码、日期、枚举值），不合规记录的比例应为 0。
    只有“警告”级别的编码问题（按“数据中真实存在的形式”（held）判定合规）不计为不合规。

    前置条件：目标文件有 [credentials]（测试凭证）；被测数据集（逐个参数化）在目标中有记录，取不到记录时本项未测。
    测试步骤：
    1. 以测试凭证分页查询该数据集（每页取契约的最大条数），逐页取回记录，至多取测试档位规定的条数（quick 1000、standard 10000、certification 100000）；
    2. 以数据集的数据模式（编码规则按数据中真实存在的形式 held）逐条校验记录；
    3. 全部合规时，再按今天发证的形式（issued）校验，只有警告级别问题的记录数作为警告给出。
    预期结果：步骤 1 每页返回 200；步骤 2 每条记录都符合数据模式（步骤 3 的警告不影响判定）。
    """
    ds = data_sets()[name]
    records = _records(request, client, tzsb_target, name)
    ok = BulkValidator(ds.schema, strict=False).valid_mask(records)
    bad = [r for r, good in zip(records, ok, strict=True) if not good]
    if not bad:
        strict = BulkValidator(ds.schema, strict=True).valid_mask(records)
        warned = sum(not s for s in strict)
        if warned:
            warnings.warn(
                f"{ds.label}：{warned} 条记录只有警告级别的编码问题（按今天发证的形式（issued）判定不合规） / "
                f"{warned} records with warning-level coding issues",
                stacklevel=1,
            )
        return
    v = validator(ds.schema, False)
    examples = "；".join(
        f"“{_key(ds, r)}”: " + "，".join(f"{e.path} {e.message_zh}" for e in v.errors(r)[:2]) for r in bad[:3]
    )
    n = len(records)
    assert not bad, (
        f"有效性 {_pct(n - len(bad), n)}（{n - len(bad)}/{n} 条记录符合 {ds.schema} 数据模式，{len(bad)} 条不合规）；"
        f"例：{examples} / validity {_pct(n - len(bad), n)}: {len(bad)} of {n} records are invalid"
    )


@functools.cache
def _identifier_paths(schema: str) -> frozenset[str]:
    """JSON Pointers (array indices left out) of the fields a record schema types as identifiers (tzsb-* formats)."""
    out: set[str] = set()
    kinds = format_kinds()

    def walk(node: Any, resolver: Any, path: str, depth: int) -> None:
        if not isinstance(node, dict) or depth > 30:
            return
        if node.get("format") in kinds:
            out.add(path)
        if isinstance(node.get("$ref"), str):
            res = resolver.lookup(node["$ref"])
            walk(res.contents, res.resolver, path, depth + 1)
        for key in ("anyOf", "oneOf", "allOf"):
            for branch in node.get(key, []):
                walk(branch, resolver, path, depth + 1)
        if isinstance(node.get("items"), dict):
            walk(node["items"], resolver, path, depth + 1)
        for prop, sub in (node.get("properties") or {}).items():
            walk(sub, resolver, f"{path}/{prop}", depth + 1)

    res = registry().resolver().lookup(validator(schema).uri)
    walk(res.contents, res.resolver, "", 0)
    return frozenset(out)


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("SHARE.MECH.CONTENT.7", "INFO2007.2.6.1")
def test_coded_fields_follow_the_national_coding_rules(
    name: str, client: TargetClient, request: pytest.FixtureRequest, tzsb_target: Target
) -> None:
    """代码字段符合国家编码标准：统一社会信用代码、行政区划代码、特种设备代码、目录代码、使用登记证编号、
    公民身份号码等按各自的编码规则（含校验码）检验，不合规的比例应为 0。

    前置条件：目标文件有 [credentials]（测试凭证）；被测数据集（逐个参数化）在目标中有记录，取不到记录时本项未测。数据模式没有编码字段（tzsb-* 格式）时本项未测。
    测试步骤：
    1. 以测试凭证分页查询该数据集（每页取契约的最大条数），逐页取回记录，至多取测试档位规定的条数（quick 1000、standard 10000、certification 100000）；
    2. 以数据集的数据模式（编码规则按数据中真实存在的形式 held）逐条校验记录；
    3. 取不合规记录中落在编码字段（数据模式以 tzsb-* 格式定义的字段）上的错误。
    预期结果：步骤 1 每页返回 200；步骤 3 没有编码字段不符合其编码规则（含校验码）的记录。
    """
    ds = data_sets()[name]
    records = _records(request, client, tzsb_target, name)
    ids = _identifier_paths(ds.schema)
    if not ids:
        vacuous(f"{ds.schema} 数据模式没有编码字段 / no coded fields in {ds.schema}")
    ok = BulkValidator(ds.schema, strict=False).valid_mask(records)
    v = validator(ds.schema, False)
    problems: list[tuple[str, str, str]] = []
    for record, good in zip(records, ok, strict=True):
        if good:
            continue
        for e in v.errors(record):
            bare = re.sub(r"/\d+(?=/|$)", "", e.path)
            if bare in ids:
                problems.append((_key(ds, record), e.path, e.message_zh))
    affected = len({k for k, _, _ in problems})
    n = len(records)
    assert not problems, (
        f"编码规范性 {_pct(n - affected, n)}（{affected}/{n} 条记录的代码字段不符合编码规则）；"
        f"例：{problems[:4]} / {affected} of {n} records carry codes that break their coding rules"
    )


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("IPQS.QUALITY.UNIQUENESS.1")
def test_keys_are_unique(name: str, client: TargetClient, request: pytest.FixtureRequest, tzsb_target: Target) -> None:
    """唯一性：数据集中主键不重复（分页查询取回的记录中同一主键只出现一次），重复率应为 0。

    前置条件：目标文件有 [credentials]（测试凭证）；被测数据集（逐个参数化）在目标中有记录，取不到记录时本项未测。
    测试步骤：
    1. 以测试凭证分页查询该数据集（每页取契约的最大条数），逐页取回记录，至多取测试档位规定的条数（quick 1000、standard 10000、certification 100000）；
    2. 统计每个主键值出现的次数。
    预期结果：步骤 1 每页返回 200；每条记录都有主键；没有主键值出现多于一次。
    """
    ds = data_sets()[name]
    records = _records(request, client, tzsb_target, name)
    counts = Counter(r.get(ds.key) for r in records)
    dupes = {k: c for k, c in counts.items() if c > 1}
    n = len(records)
    assert None not in counts, f"有记录没有主键 {ds.key} / records without their key"
    assert not dupes, (
        f"唯一性 {_pct(len(counts), n)}（{n} 条记录中不同主键 {len(counts)} 个）；重复的主键：{list(dupes.items())[:5]} / "
        f"uniqueness {_pct(len(counts), n)}: keys repeated"
    )


# ---------------------------------------------------------------------------- consistency across data sets


def _by_schema(schema: str) -> str | None:
    return next((n for n, d in data_sets().items() if d.schema == schema), None)


def _named_references() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """The references the contract declares (``x-references``: SHARE.MECH.CONTENT.8 设备→使用单位；检验报告、使用登记→设备；
    事故→设备与单位, and INFO2007.2.5.5 人员→聘用单位), as (data set, field, referred data set, clauses)."""
    return [(a, f, b, clauses) for a, ds in data_sets().items() for f, (b, clauses) in ds.references.items()]


def _other_references() -> list[tuple[str, str, str]]:
    """Every other top-level field typed as another data set's key (same schema reference), e.g. a
    manufacturer's USCC or the equipment's use-registration number: (data set, field, referred data set)."""
    named = {(a, f) for a, f, _, _ in _named_references()}
    out = []
    for target_name, target in data_sets().items():
        ref = target.properties.get(target.key, {}).get("$ref")
        if not ref:
            continue
        for name, ds in data_sets().items():
            if name == target_name:
                continue
            for prop, schema in ds.properties.items():
                if schema.get("$ref") == ref and (name, prop) not in named:
                    out.append((name, prop, target_name))
    return out


def _reference_params() -> list[Any]:
    named = [(a, fld, b, cs) for a, fld, b, cs in _named_references() if fld in data_sets()[a].properties]
    other = [(a, fld, b, ("IPQS.QUALITY.CONSISTENCY.1",)) for a, fld, b in _other_references()]
    return [pytest.param(a, f, b, id=f"{a}.{f}->{b}", marks=pytest.mark.clause(*cs)) for a, f, b, cs in named + other]


def _by_key(request: pytest.FixtureRequest, client: TargetClient, ds: DataSet, key: str) -> tuple[int, Any]:
    """(status, data) of a record read by key, once per run."""
    cache = run_cache(request).setdefault("by-key", {})
    if (ds.name, key) not in cache:
        r = client.get(ds.record_path(key))
        cache[(ds.name, key)] = (r.status or 0, data_of(r) if r.status == 200 else None)
    return cache[(ds.name, key)]


def _resolve(
    request: pytest.FixtureRequest, client: TargetClient, ds: DataSet, values: list[str], known: set[str], cap: int
) -> tuple[set[str], set[str], dict[str, int]]:
    """(resolved, unresolved, other statuses) of referenced keys: the pulled keys first, then a sample by key."""
    resolved = {v for v in values if v in known}
    rest = sorted(set(values) - resolved)[:cap]
    missing: set[str] = set()
    other: dict[str, int] = {}
    for v in rest:
        status, _ = _by_key(request, client, ds, v)
        if status == 200:
            resolved.add(v)
        elif status == 404:
            missing.add(v)
        elif status != 403:  # outside the caller's scope: not counted (catalogue note)
            other[v] = status
    return resolved, missing, other


@pytest.mark.parametrize(("name", "field", "referred"), _reference_params())
def test_references_between_data_sets_resolve(
    name: str, field: str, referred: str, client: TargetClient, request: pytest.FixtureRequest, tzsb_target: Target
) -> None:
    """数据集之间的引用可解析：记录中的引用字段（如设备的使用单位代码、检验报告的设备代码）在被引用数据集中查得到；
    先在已取回的记录中查找，其余按主键抽样获取。

    前置条件：目标文件有 [credentials]（测试凭证）；引用（逐个参数化）为契约 x-references 声明的引用及以其他数据集主键类型定义的字段；引用方数据集在目标中有记录（没有时本项未测），且取回的记录中有填写该引用字段的（没有时本项未测）。
    测试步骤：
    1. 以测试凭证分页取回引用方与被引用方数据集的记录（每页最大条数，至多档位规定的条数）；
    2. 收集引用方记录中该字段的值，先在被引用方已取回记录的主键中查找；
    3. 其余的值按主键获取被引用方记录（至多档位规定的引用抽样数，每个值每次运行只获取一次）。
    预期结果：步骤 1 每页返回 200；步骤 3 每次返回 200、404 或 403（403 为不在调用方权限范围内，不计），没有其他状态码；没有返回 404 的引用值，即每个已核对的引用值都在被引用数据集中查得到。
    """
    ds, target = data_sets()[name], data_sets()[referred]
    records = _records(request, client, tzsb_target, name)
    values = [r[field] for r in records if isinstance(r.get(field), str)]
    if not values:
        # the data set has records (else 未测 above), none fills this optional reference: nothing can fail to resolve
        vacuous(
            f"取回的{ds.label}记录都没有填写 {field}，没有需解析的引用 / no record carries {field}: no reference to resolve"
        )
    known = {r.get(target.key) for r in _pulled(request, client, tzsb_target, referred)}
    resolved, missing, other = _resolve(request, client, target, values, known, scale(tzsb_target).refs)
    checked = len(resolved) + len(missing)
    assert not other, f"按主键获取被引用的{target.label}时返回异常状态：{list(other.items())[:5]} / unexpected statuses"
    assert not missing, (
        f"引用一致性 {_pct(len(resolved), checked)}：{ds.label}的 {field} 有 {len(missing)} 个值在{target.label}中查不到"
        f"（已核对 {checked} 个不同的值）；例：{sorted(missing)[:5]} / {len(missing)} of {checked} references from "
        f"{name}.{field} to {referred} do not resolve"
    )


def _name_pairs() -> list[Any]:
    """``xUscc`` fields with a ``xName`` beside them, referring to units (whose ``name`` must agree)."""
    unit = _by_schema("unit")
    return [
        pytest.param(name, prop, prop[:-4] + "Name", id=f"{name}.{prop[:-4]}Name")
        for name, ds in data_sets().items()
        for prop in ds.properties
        if unit is not None and name != unit and prop.endswith("Uscc") and prop[:-4] + "Name" in ds.properties
    ]


@pytest.mark.parametrize(("name", "code_field", "name_field"), _name_pairs())
@pytest.mark.clause("IPQS.QUALITY.CONSISTENCY.1")
def test_unit_names_agree_with_the_units_data_set(
    name: str,
    code_field: str,
    name_field: str,
    client: TargetClient,
    request: pytest.FixtureRequest,
    tzsb_target: Target,
) -> None:
    """一致性：记录中的单位名称（如设备的使用单位名称）与单位（机构）数据集中该统一社会信用代码的名称一致。

    前置条件：目标文件有 [credentials]（测试凭证）；字段对（逐个参数化）为单位数据集以外的数据集中并列的 xxxUscc 与 xxxName；该数据集在目标中有记录（没有时本项未测），且取回的记录中有同时填写这两个字段的（没有时本项未测）。
    测试步骤：
    1. 以测试凭证分页取回该数据集与单位数据集的记录（每页最大条数，至多档位规定的条数）；
    2. 对单位数据集中未取回的统一社会信用代码，按主键获取单位（至多档位规定的引用抽样数）；
    3. 将每对（代码，名称）与单位数据集中该代码的名称比对。
    预期结果：步骤 1 每页返回 200；步骤 3 查得到的每个代码，记录中的名称与单位数据集中的名称相同。
    """
    ds = data_sets()[name]
    unit_set = data_sets()[_by_schema("unit") or ""]
    records = _records(request, client, tzsb_target, name)
    pairs = {
        (r[code_field], r[name_field])
        for r in records
        if isinstance(r.get(code_field), str) and isinstance(r.get(name_field), str)
    }
    if not pairs:
        vacuous(
            f"取回的{ds.label}记录都没有填写 {code_field}/{name_field}，没有可比对的名称 / no such pairs to compare"
        )
    units = {u.get("uscc"): u.get("name") for u in _pulled(request, client, tzsb_target, unit_set.name)}
    cap = scale(tzsb_target).refs
    for code in sorted({c for c, _ in pairs} - set(units))[:cap]:
        status, data = _by_key(request, client, unit_set, code)
        if status == 200 and isinstance(data, dict):
            units[code] = data.get("name")
    compared = [(c, n) for c, n in pairs if c in units]
    differ = [(c, n, units[c]) for c, n in compared if units[c] != n]
    assert not differ, (
        f"一致性 {_pct(len(compared) - len(differ), len(compared))}：{len(differ)} 个 {name_field} 与单位数据集的名称不同；"
        f"例：{differ[:3]} / {len(differ)} of {len(compared)} unit names differ from the units data set"
    )


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("IPQS.QUALITY.CONSISTENCY.1")
def test_get_and_query_return_the_same_record(
    name: str, client: TargetClient, request: pytest.FixtureRequest, tzsb_target: Target
) -> None:
    """一致性：同一记录按主键获取与分页查询得到的内容相同。

    前置条件：目标文件有 [credentials]（测试凭证）；被测数据集（逐个参数化）在目标中有记录，取不到记录时本项未测。
    测试步骤：
    1. 以测试凭证分页查询该数据集（每页取契约的最大条数），逐页取回记录，至多取测试档位规定的条数（quick 1000、standard 10000、certification 100000）；
    2. 在取回的记录中均匀抽取若干条（档位抽样数的 3 倍，不超过记录数）；
    3. 按主键逐一获取抽取的记录。
    预期结果：步骤 1 每页返回 200；步骤 3 每次返回 200，内容与分页查询所得的记录逐字段相同。
    """
    ds = data_sets()[name]
    records = _records(request, client, tzsb_target, name)
    n = min(len(records), scale(tzsb_target).samples * 3)
    picks = [records[round(i * (len(records) - 1) / max(1, n - 1))] for i in range(n)]
    differ = []
    for rec in picks:
        got = expect(client.get(ds.record_path(_key(ds, rec))), 200, f"按主键获取{ds.label}“{_key(ds, rec)}”")
        if got != rec:
            fields = sorted(k for k in set(got) | set(rec) if got.get(k) != rec.get(k))
            differ.append((_key(ds, rec), fields))
    assert not differ, (
        f"一致性 {_pct(len(picks) - len(differ), len(picks))}：{len(differ)} 条记录按主键获取与分页查询的内容不同；"
        f"例（主键，不同的字段）：{differ[:3]} / get and query disagree for {len(differ)} records"
    )


# ---------------------------------------------------------------------------- timeliness


def _server_now(client: TargetClient) -> dt.datetime:
    r = client.get(operation(ROLE, "getHealth").path, auth=False)
    data = r.json().get("data") if r.status == 200 and isinstance(r.json(), dict) else None
    if isinstance(data, dict) and isinstance(data.get("time"), str):
        try:
            return instant(data["time"])
        except ValueError:
            pass
    return dt.datetime.now(dt.UTC)


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("IPQS.QUALITY.TIMELINESS.1")
def test_change_times_are_not_in_the_future(
    name: str, client: TargetClient, request: pytest.FixtureRequest, tzsb_target: Target
) -> None:
    """时效性：记录的变更时间（updatedAt）不晚于平台当前时间（以健康状态接口的服务器时间为准，容差见目标文件
    ``[thresholds] clock_skew_seconds``，默认 60 秒）。

    前置条件：目标文件有 [credentials]（测试凭证）；被测数据集（逐个参数化）在目标中有记录，取不到记录时本项未测。数据模式没有 updatedAt 时本项未测。
    测试步骤：
    1. 以测试凭证分页查询该数据集（每页取契约的最大条数），逐页取回记录，至多取测试档位规定的条数（quick 1000、standard 10000、certification 100000）；
    2. 读取健康状态接口（getHealth，不带凭证）的服务器时间（取不到时用本机时间）；
    3. 比较每条记录的 updatedAt 与服务器时间。
    预期结果：步骤 1 每页返回 200；步骤 3 没有一条记录的 updatedAt 晚于服务器时间加容差（不是日期时间的值不在此判定）。
    """
    ds = data_sets()[name]
    if "updatedAt" not in ds.properties:
        vacuous(f"{ds.schema} 没有 updatedAt / no change time")
    records = _records(request, client, tzsb_target, name)
    now = _server_now(client)
    skew = dt.timedelta(seconds=float(tzsb_target.thresholds.get("clock_skew_seconds", 60)))
    future = []
    for r in records:
        try:
            if isinstance(r.get("updatedAt"), str) and instant(r["updatedAt"]) > now + skew:
                future.append((_key(ds, r), r["updatedAt"]))
        except ValueError:
            continue  # not a date-time: a validity finding, not a timeliness one
    n = len(records)
    assert not future, (
        f"时效性 {_pct(n - len(future), n)}：{len(future)} 条记录的更新时间晚于平台当前时间 "
        f"{now.isoformat(timespec='seconds')}；例：{future[:3]} / {len(future)} of {n} change times lie in the future"
    )


@pytest.mark.clause("IPQS.QUALITY.TIMELINESS.1")
def test_a_pushed_record_is_visible_within_the_declared_time(
    client: TargetClient, request: pytest.FixtureRequest, tzsb_target: Target
) -> None:
    """时效性：推送被接收后，变更在目标声明的时限内（``[thresholds] visibility_seconds``，默认 300 秒）出现在按主键获取
    与增量同步中；断言说明给出实测时延。

    前置条件：目标文件有 [credentials]（测试凭证，可推送单位数据集；推送返回 403 时本项未测）；单位数据集的增量同步末尾在档位规定的页数内（否则本项未测）；本工具生成主键在目标中不存在的新记录（无法生成时本项未测）。
    测试步骤：
    1. 以测试凭证读取单位数据集的增量同步直至末尾，取末尾游标；
    2. 推送新记录的前置记录，再推送（push，UPLOAD）一条新单位记录；
    3. 在时限内反复按主键获取该记录，并从末尾游标起读取增量同步（limit 1000），直至两处都出现该记录；
    4. 删除本工具推送的记录。
    预期结果：步骤 1 每页返回 200；步骤 2 返回 200，记录全部接受；步骤 3 增量同步每次返回 200，在时限内按主键获取返回 200，且增量同步中出现该记录主键的变更。
    """
    ds = data_sets()[_by_schema("unit") or DATA_SETS[0]]
    limit = float(tzsb_target.thresholds.get("visibility_seconds", 300))
    cursor = tail_cursor(client, ds, scale(tzsb_target).tail_pages, request)
    if cursor is None:
        pytest.skip("变更日志超过本档位的读取上限 / the change feed is longer than this profile reads")
    with sandbox(client, province_of(request, client)) as box:
        records = box.setup(ds.name, 1)
        key = records[0][ds.key]
        box.upload(ds.name, records, f"推送新{ds.label}记录")
        pushed = time.monotonic()
        seen_get = seen_feed = None
        while time.monotonic() - pushed <= limit and (seen_get is None or seen_feed is None):
            if seen_get is None and client.get(ds.record_path(key)).status == 200:
                seen_get = time.monotonic() - pushed
            if seen_feed is None:
                data = read_changes(client, ds, cursor, 1000, f"{ds.label} 增量同步")
                if any(c["key"] == key for c in data["items"]):
                    seen_feed = time.monotonic() - pushed
                cursor = data["nextCursor"]
            if seen_get is None or seen_feed is None:
                time.sleep(0.2)
    assert seen_get is not None, (
        f"推送后 {limit:.0f} 秒内按主键仍获取不到该记录（增量同步时延 "
        f"{'未出现' if seen_feed is None else f'{seen_feed:.1f} 秒'}） / not readable by key within {limit:.0f} s"
    )
    assert seen_feed is not None, (
        f"推送后 {limit:.0f} 秒内增量同步中仍没有该变更（按主键获取时延 {seen_get:.1f} 秒） / "
        f"not in the change feed within {limit:.0f} s"
    )

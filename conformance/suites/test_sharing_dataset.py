"""共享数据集质量测试（GB/T 36344 数据质量评价指标：完整性、有效性、唯一性、一致性、时效性）。

对每个数据集按分页查询取回记录（每页取契约的最大条数，条数上限随测试档位：quick 1000、standard 10000、
certification 100000 条）。完整性、有效性、编码规则、唯一性与单位名称一致性按数据质量审计（conformance.audit，
与 tzsb-conform audit 同一指标定义与阈值）对取回记录的判定，各项数值写入报告的数据质量一节
（conformance.suites.support.quality）。审计看不到的仍由本模块检验：跨数据集引用先在已取回的记录中查找，其余按主键
抽样获取（被引用记录不在调用方权限范围内、返回 403 的不计为失败）；按主键获取与分页查询一致；变更时间不晚于平台
时间；推送后的可见时延。

Data-set quality (GB/T 36344 indicators) over the records the target returns: completeness, validity, coding rules,
uniqueness and unit-name consistency are judged by the data audit over the pulled records (one definition of each
indicator), whose figures become the report's ``dataQuality`` section; references by key, get-vs-query consistency,
change times against the platform clock and push visibility stay here.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from conformance.client import TargetClient
from conformance.contract.datasets import DataSet, data_sets
from conformance.harness.plugin import state
from conformance.harness.target import Target
from conformance.report.skips import EMPTY_DATA_SET_PROVIDE, untested, vacuous
from conformance.suites.support import quality
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
        cache[name], run_cache(request).setdefault("pulled-total", {})[name] = pull(
            client, data_sets()[name], scale(target).records
        )
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


def _completeness(c: dict[str, Any]) -> bool:
    return c["dimension"] == "completeness"


def _validity(c: dict[str, Any]) -> bool:
    return c["dimension"] == "normativeness" or (c["dimension"] == "accuracy" and c["rule"] == "date")


def _coding(c: dict[str, Any]) -> bool:
    return c["rule"] in ("identifier", "code-list")


def _uniqueness(c: dict[str, Any]) -> bool:
    return c["dimension"] == "uniqueness"


def _unit_name(c: dict[str, Any]) -> bool:
    return c["dimension"] == "consistency" and c["rule"] == "unit-name"


#: The audit checks the tests below judge, and the clauses they decide (the marks of those tests); every other check
#: of the audit (timeliness of the records' own events, other between-field rules, fill rates) is reported as a figure
#: with its verdict and decides no clause: the clauses' texts do not ask for it. References are decided by
#: test_references_between_data_sets_resolve (by key), not by the audit (see conformance.suites.support.quality).
JUDGED: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (_completeness, ("IPQS.QUALITY.COMPLETENESS.1",)),
    (_validity, ("IPQS.QUALITY.VALIDITY.1",)),
    (_coding, ("SHARE.MECH.CONTENT.7", "INFO2007.2.6.1")),
    (_uniqueness, ("IPQS.QUALITY.UNIQUENESS.1",)),
    (_unit_name, ("IPQS.QUALITY.CONSISTENCY.1",)),
)


def _clauses_of(check: dict[str, Any]) -> list[str]:
    if check["kind"] != "rate":
        return []
    return [cid for keep, clauses in JUDGED if keep(check) for cid in clauses]


def _quality(request: pytest.FixtureRequest, client: TargetClient, target: Target, name: str) -> dict[str, Any]:
    """The data audit of everything pulled (once per run, every data set), as the report's ``dataQuality`` section;
    the item is 未测 when ``name`` has no records at the target."""
    _records(request, client, target, name)
    cache = run_cache(request)
    if "quality" not in cache:
        pulled = {n: _pulled(request, client, target, n) for n in DATA_SETS}
        totals = cache["pulled-total"]
        cap = scale(target).records
        dq = quality.section(
            quality.run_audit(pulled),
            {n: (len(r), max(totals[n], len(r))) for n, r in pulled.items()},
            cap,
            _clauses_of,
        )
        cache["quality"] = dq
        state(request.config).data_quality = dq
    return cache["quality"]


def _pct(good: int, total: int) -> str:
    return f"{100.0 * good / total:.2f}%" if total else "—"


def _key(ds: DataSet, record: Any) -> str:
    return str(record.get(ds.key)) if isinstance(record, dict) else "?"


# ---------------------------------------------------------------------------- completeness, validity, uniqueness
# judged by the data audit (conformance.audit: one definition of each GB/T 36344 indicator) over the pulled records


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("IPQS.QUALITY.COMPLETENESS.1")
def test_completeness_of_required_fields(
    name: str, client: TargetClient, request: pytest.FixtureRequest, tzsb_target: Target
) -> None:
    """完整性：数据模式规定的必填数据元在记录中存在且不为空（null、缺失、空串或只有空白计为缺失），按数据质量审计的
    完整性检查（completeness/<数据集>/<字段>/required）逐字段统计缺失率，不超过审计规则规定的阈值。

    前置条件：目标文件有 [credentials]（测试凭证）；被测数据集（逐个参数化）在目标中有记录，取不到记录时本项未测。
    测试步骤：
    1. 以测试凭证分页查询每个数据集（每页取契约的最大条数），逐页取回记录，至多取测试档位规定的条数（quick 1000、standard 10000、certification 100000）；
    2. 把取回的记录写成 <数据集>.jsonl，以数据质量审计（tzsb-conform audit 的同一检查目录，评价基准日为本次运行的北京时间日期）计算各项指标，每次运行一次；
    3. 取该数据集的完整性检查（每个必填字段一项）的分母、缺失数、缺失率与判定。
    预期结果：步骤 1 每页返回 200，分页结果符合契约；步骤 3 没有一项检查的缺失率超过阈值（判定为不符合）；各项数值见报告的数据质量一节。
    """
    dq = _quality(request, client, tzsb_target, name)
    checks = quality.of(dq, name, _completeness)
    quality.judge(checks, "完整性", "completeness", data_sets()[name].label)


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("IPQS.QUALITY.VALIDITY.1")
def test_validity_against_the_record_schema(
    name: str, client: TargetClient, request: pytest.FixtureRequest, tzsb_target: Target
) -> None:
    """有效性：记录符合数据集的数据模式（代码的编码规则与校验码、日期、枚举值），按数据质量审计的规范性检查
    （整条记录与逐字段的模式校验、代码表）与日期准确性检查统计不合规率，不超过审计规则规定的阈值。
    只有“警告”级别的编码问题不计为不合规（与 tzsb-conform validate 的判定相同）。

    前置条件：目标文件有 [credentials]（测试凭证）；被测数据集（逐个参数化）在目标中有记录，取不到记录时本项未测。
    测试步骤：
    1. 以测试凭证分页查询每个数据集（每页取契约的最大条数），逐页取回记录，至多取测试档位规定的条数（quick 1000、standard 10000、certification 100000）；
    2. 把取回的记录写成 <数据集>.jsonl，以数据质量审计（评价基准日为本次运行的北京时间日期）计算各项指标，每次运行一次；
    3. 取该数据集的规范性检查（normativeness/*）与日期准确性检查（accuracy/*/date）的分母、不合格数、不合格率与判定。
    预期结果：步骤 1 每页返回 200；步骤 3 没有一项检查的不合格率超过阈值（判定为不符合）；各项数值见报告的数据质量一节。
    """
    dq = _quality(request, client, tzsb_target, name)
    checks = quality.of(dq, name, _validity)
    quality.judge(checks, "有效性", "validity", data_sets()[name].label)


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("SHARE.MECH.CONTENT.7", "INFO2007.2.6.1")
def test_coded_fields_follow_the_national_coding_rules(
    name: str, client: TargetClient, request: pytest.FixtureRequest, tzsb_target: Target
) -> None:
    """代码字段符合国家编码标准：统一社会信用代码、行政区划代码、特种设备代码、目录代码、使用登记证编号、
    公民身份号码等按各自的编码规则（含校验码）检验，按数据质量审计的准确性检查（accuracy/*/identifier）与
    代码表检查（normativeness/*/code-list）统计不合规率，不超过审计规则规定的阈值。

    前置条件：目标文件有 [credentials]（测试凭证）；被测数据集（逐个参数化）在目标中有记录，取不到记录时本项未测。数据模式没有编码字段（tzsb-* 格式）时本项未测。
    测试步骤：
    1. 以测试凭证分页查询每个数据集（每页取契约的最大条数），逐页取回记录，至多取测试档位规定的条数（quick 1000、standard 10000、certification 100000）；
    2. 把取回的记录写成 <数据集>.jsonl，以数据质量审计（评价基准日为本次运行的北京时间日期）计算各项指标，每次运行一次；
    3. 取该数据集每个编码字段（数据模式以 tzsb-* 格式定义的字段）的编码规则检查与代码表检查的分母、不合格数、不合格率与判定。
    预期结果：步骤 1 每页返回 200；步骤 3 没有一项检查的不合格率超过阈值（判定为不符合）；各项数值见报告的数据质量一节。
    """
    ds = data_sets()[name]
    dq = _quality(request, client, tzsb_target, name)
    checks = quality.of(dq, name, _coding)
    if not checks:
        vacuous(f"{ds.schema} 数据模式没有编码字段 / no coded fields in {ds.schema}")
    quality.judge(checks, "编码规范性", "coding rules", ds.label)


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.clause("IPQS.QUALITY.UNIQUENESS.1")
def test_keys_are_unique(name: str, client: TargetClient, request: pytest.FixtureRequest, tzsb_target: Target) -> None:
    """唯一性：数据集中主键不重复（分页查询取回的记录中同一主键只出现一次），按数据质量审计的唯一性检查
    （uniqueness/<数据集>/<主键>/key）统计重复率，应为 0；每条记录都有主键。

    前置条件：目标文件有 [credentials]（测试凭证）；被测数据集（逐个参数化）在目标中有记录，取不到记录时本项未测。
    测试步骤：
    1. 以测试凭证分页查询每个数据集（每页取契约的最大条数），逐页取回记录，至多取测试档位规定的条数（quick 1000、standard 10000、certification 100000）；
    2. 把取回的记录写成 <数据集>.jsonl，以数据质量审计计算各项指标，每次运行一次；
    3. 取该数据集主键的完整性检查（缺失数）与唯一性检查（重复数）。
    预期结果：步骤 1 每页返回 200；步骤 3 没有记录缺少主键；唯一性检查符合（没有主键值出现多于一次）。
    """
    ds = data_sets()[name]
    dq = _quality(request, client, tzsb_target, name)
    keyless = quality.of(dq, name, lambda c: c["dimension"] == "completeness" and c["field"] == ds.key)
    missing = sum(c["failing"] or 0 for c in keyless)
    assert not missing, (
        f"{missing} 条记录没有主键 {ds.key}（审计检查 {', '.join(c['id'] for c in keyless)}） / "
        f"{missing} records without their key {ds.key}"
    )
    checks = quality.of(dq, name, _uniqueness)
    quality.judge(checks, "唯一性", "uniqueness", ds.label)


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
    数据质量审计有该字段的名称规则（consistency/<数据集>/<名称字段>/unit-name）时，取回的单位按审计的判定（阈值见
    审计规则）；未取回的单位按主键获取后比对。

    前置条件：目标文件有 [credentials]（测试凭证）；字段对（逐个参数化）为单位数据集以外的数据集中并列的 xxxUscc 与 xxxName；该数据集在目标中有记录（没有时本项未测），且取回的记录中有同时填写这两个字段的（没有时本项未测）。
    测试步骤：
    1. 以测试凭证分页取回该数据集与单位数据集的记录（每页最大条数，至多档位规定的条数）；
    2. 审计有该字段的名称规则时，取其对取回记录的分母、不一致数与判定；
    3. 对单位数据集中未取回的统一社会信用代码，按主键获取单位（至多档位规定的引用抽样数）；
    4. 将每对（代码，名称）与单位数据集中该代码的名称比对（审计已判定的取回单位不再比对）。
    预期结果：步骤 1 每页返回 200；步骤 2 审计检查不为不符合；步骤 4 查得到的每个代码，记录中的名称与单位数据集中的名称相同。
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
    audited = quality.of(
        _quality(request, client, tzsb_target, name), name, lambda c: _unit_name(c) and c["field"] == name_field
    )
    quality.assert_met(audited, "单位名称一致性", "unit names", ds.label)
    judged = set(units) if audited else set()  # the pulled units: judged by the audit
    cap = scale(tzsb_target).refs
    for code in sorted({c for c, _ in pairs} - set(units))[:cap]:
        status, data = _by_key(request, client, unit_set, code)
        if status == 200 and isinstance(data, dict):
            units[code] = data.get("name")
    compared = [(c, n) for c, n in pairs if c in units and c not in judged]
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

"""共享平台访问控制（区划范围）与共享主体：区划受限的调用方只能看到本区划及下级区划的记录；每条共享记录标明数据提供主体。

GB/T 34990 式测试项：文档字符串为测试目的（中文在前、英文在后），代码为测试步骤，断言为预期结果。
区划受限的调用方由目标文件的 ``[clients.city-reader]`` 给出，其登记的行政区划写在同一表的 ``division``
（如 ``"420100"``）；按主键获取范围外记录的应答若目标只用其一，可在 ``[thresholds] out_of_scope_status``
声明（403 或 404），否则两者皆可。范围内外的记录由测试凭证（``[credentials]``，其可见范围须大于该区划）
查得，判断记录所属区划用记录中的行政区划字段——契约中作为区划过滤条件的字段（设备、单位、事故）；
记录本身没有区划字段的数据集（人员、检验报告、使用登记）的归属由实现决定，不在此检验。

Access control by division (SHARE.SEC.ACCESS.2) and the providing subject of shared records
(SHARE.MECH.SUBJECT.1). The division-scoped caller is the target file's ``[clients.city-reader]``
with its registered ``division``; records inside and outside its scope are found with the harness
credentials, whose view must be wider. Only data sets whose records carry the division the
contract filters by are checked (the contract says nothing about how the others belong to one).
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.check.schema import validator
from conformance.client import TargetClient
from conformance.contract import documents as contracts
from conformance.contract.datasets import DataSet, data_sets, max_limit, max_size
from conformance.contract.registry import registry
from conformance.harness.target import Target
from conformance.report.skips import vacuous
from conformance.suites.support.sharing import (
    ROLE,
    check_changes,
    check_record,
    division_classes,
    division_matches,
    expect,
    expect_error,
    pull,
    query,
    read_changes,
    scale,
    snippet,
)

pytestmark = pytest.mark.role(ROLE)

#: The division-scoped client the target file names (its table carries ``division``).
SCOPED_CLIENT = "city-reader"


def _division_field(ds: DataSet) -> str | None:
    """The record field the contract filters by division (a ``tzsb-division`` query parameter on a record field)."""
    return next((f.field for f in ds.filters if f.kind == "division" and f.name == f.field), None)


SCOPED_SETS = [n for n, ds in data_sets().items() if _division_field(ds) and ds.query is not None]


@pytest.fixture
def harness(tzsb_client: Any) -> TargetClient:
    return tzsb_client()


@pytest.fixture
def scoped(tzsb_client: Any, tzsb_target: Target) -> tuple[TargetClient, str]:
    """The division-scoped client and its registered division."""
    creds = tzsb_target.client(SCOPED_CLIENT)
    if creds is None or not creds.division:
        pytest.skip(
            f"未测：目标文件未给出区划受限的调用方 [clients.{SCOPED_CLIENT}] 及其登记的行政区划 division / "
            f"no division-scoped client [clients.{SCOPED_CLIENT}] with its division in the target file"
        )
    return tzsb_client(client=SCOPED_CLIENT), str(creds.division)


def _readable(client: TargetClient, ds: DataSet, params: dict[str, Any]) -> Any:
    r = client.get(ds.path, params=params)
    if r.status == 403:
        pytest.skip(f"未测：区划受限的调用方无权读取{ds.label}（403） / the scoped client may not read {ds.name}")
    return r


def _in_scope(
    harness: TargetClient, scoped: tuple[TargetClient, str], ds: DataSet
) -> tuple[TargetClient, str, str, int, int]:
    """(scoped client, its division, the division field, records in the division, records in all) as the harness
    sees them; skips when nothing lies outside."""
    client, division = scoped
    field = _division_field(ds)
    assert field is not None
    inside = query(harness, ds, {field: division, "page": 1, "size": 1}, f"测试凭证按区划 {division} 查询{ds.label}")[
        "total"
    ]
    overall = query(harness, ds, {"page": 1, "size": 1}, f"测试凭证查询{ds.label}")["total"]
    if overall <= inside:
        pytest.skip(
            f"未测：测试凭证看不到区划 {division} 以外的{ds.label}记录，无法检验范围外的数据不可见 / "
            f"no {ds.name} records outside {division} are visible to the harness"
        )
    return client, division, field, inside, overall


def _outside(records: list[dict[str, Any]], field: str, division: str) -> list[str]:
    return [f"{r.get(field)}" for r in records if not division_matches(division, r.get(field))]


# ---------------------------------------------------------------------------- queries


@pytest.mark.parametrize("name", SCOPED_SETS)
@pytest.mark.clause("SHARE.SEC.ACCESS.2")
def test_a_scoped_caller_queries_only_its_divisions(
    name: str, harness: TargetClient, scoped: tuple[TargetClient, str], tzsb_target: Target
) -> None:
    """区划受限的调用方分页查询：结果只含本区划及下级区划的记录，总条数等于该区划内的记录数（测试凭证按区划过滤所得）。

    前置条件：数据集（逐个参数化）为契约中记录带区划过滤字段且可分页查询者（设备、单位、事故）；目标文件有区划受限的调用方 [clients.city-reader] 及其登记的 division（缺少时本项未测）；测试凭证（[credentials]）的可见范围大于该区划（看不到该区划以外的记录时本项未测）；区划受限的调用方无权读取该数据集（403）时本项未测。
    测试步骤：
    1. 以测试凭证分页查询该数据集，按区划字段=调用方区划与不加条件各一次，得该区划内与全部的总条数；
    2. 区划受限的调用方查询第 1 页（每页最大条数）；
    3. 区划受限的调用方逐页查询（每页最大条数），至多取档位规定的记录数。
    预期结果：步骤 1 返回 200，分页结果符合契约；步骤 2、3 返回 200；取到的每条记录的区划字段都在调用方区划及其下级区划内；步骤 2、3 的总条数都等于步骤 1 该区划内的条数；该区划内有记录时至少取到一条。

    A division-scoped caller's paged query holds only records of its divisions, and all of them.
    """
    ds = data_sets()[name]
    client, division, field, inside, overall = _in_scope(harness, scoped, ds)
    first = expect(_readable(client, ds, {"page": 1, "size": max_size(ds)}), 200, f"区划受限的调用方查询{ds.label}")
    records, total = pull(client, ds, scale(tzsb_target).records)
    stray = _outside(records, field, division)
    assert not stray, (
        f"区划 {division} 的调用方查询{ds.label}得到范围外的记录 {len(stray)} 条（{field}：{sorted(set(stray))[:5]}） / "
        f"a caller scoped to {division} got {len(stray)} {ds.name} records outside it"
    )
    assert first["total"] == total == inside, (
        f"区划 {division} 的调用方查询{ds.label}的总条数为 {total}，该区划内应为 {inside} 条（全部 {overall} 条） / "
        f"the scoped total is {total}, the division holds {inside} of {overall}"
    )
    if inside and not records:
        raise AssertionError(
            f"区划 {division} 内有 {inside} 条{ds.label}记录，区划受限的调用方一条也未查到 / none of them was returned"
        )


@pytest.mark.parametrize("name", SCOPED_SETS)
@pytest.mark.clause("SHARE.SEC.ACCESS.2")
def test_a_division_filter_does_not_widen_a_scoped_caller(
    name: str, harness: TargetClient, scoped: tuple[TargetClient, str], tzsb_target: Target
) -> None:
    """区划受限的调用方在查询条件中给出其他区划（范围外记录所在的区划，及覆盖其区划的上级区划）：结果仍只含本区划及下级区划
    的记录——查询条件只能在授权范围内收窄，不能扩大范围。

    前置条件：数据集（逐个参数化）为契约中记录带区划过滤字段且可分页查询者（设备、单位、事故）；目标文件有区划受限的调用方 [clients.city-reader] 及其登记的 division（缺少时本项未测）；测试凭证（[credentials]）的可见范围大于该区划（看不到该区划以外的记录时本项未测）；区划受限的调用方无权读取该数据集（403）时本项未测。测试凭证读到的第 1 页中没有该区划以外的记录时本项未测。
    测试步骤：
    1. 以测试凭证分页查询该数据集，按区划字段=调用方区划与不加条件各一次，得该区划内与全部的总条数；
    2. 以测试凭证查询第 1 页（每页最大条数），取一条范围外记录的区划值；
    3. 区划受限的调用方分别以区划字段=该范围外区划、=覆盖其区划的地级与省级区划查询第 1 页（每页最大条数）。
    预期结果：步骤 3 每次返回 400（拒绝该条件）或 200；返回 200 时结果中没有调用方区划及其下级区划以外的记录。

    A division filter naming another division (or a wider one) never widens a scoped caller's results.
    """
    ds = data_sets()[name]
    client, division, field, _, _ = _in_scope(harness, scoped, ds)
    records, _ = pull(harness, ds, max_size(ds))
    outside = sorted(
        {r[field] for r in records if isinstance(r.get(field), str) and not division_matches(division, r[field])}
    )
    if not outside:
        pytest.skip(f"未测：测试凭证读到的前几页{ds.label}中没有区划 {division} 以外的记录 / no outside record found")
    wider = [c for label, c in division_classes(division) if c != division]
    stray: list[str] = []
    for value in [outside[0], *wider]:
        r = _readable(client, ds, {field: value, "page": 1, "size": max_size(ds)})
        if r.status == 400:
            continue  # a filter outside one's scope may be refused as well
        got = expect(r, 200, f"区划受限的调用方按 {field}={value} 查询{ds.label}")
        found = _outside(got.get("items") or [], field, division)
        if found:
            stray.append(f"{field}={value}：范围外 {len(found)} 条（{sorted(set(found))[:3]}）")
    assert not stray, (
        f"区划 {division} 的调用方以区划条件查询{ds.label}得到范围外的记录：{'；'.join(stray)} / a division filter "
        f"widened the scope of a caller registered for {division}"
    )


@pytest.mark.parametrize("name", SCOPED_SETS)
@pytest.mark.clause("SHARE.SEC.ACCESS.2")
def test_a_scoped_caller_syncs_only_its_divisions(
    name: str, harness: TargetClient, scoped: tuple[TargetClient, str], tzsb_target: Target
) -> None:
    """区划受限的调用方增量同步：自最早的变更读起，新增与更新的记录都在本区划及下级区划内；读到末尾时，
    该区划的每条现存记录都出现在变更中。

    前置条件：数据集（逐个参数化）为契约中记录带区划过滤字段且可分页查询者（设备、单位、事故）；目标文件有区划受限的调用方 [clients.city-reader] 及其登记的 division（缺少时本项未测）；测试凭证（[credentials]）的可见范围大于该区划（看不到该区划以外的记录时本项未测）；区划受限的调用方无权读取该数据集（403）时本项未测。契约中该数据集没有增量同步接口、或区划受限的调用方无权同步（403）时本项未测；变更超过档位读取的页数时，完整性（最后一项预期）未测。
    测试步骤：
    1. 以测试凭证分页查询该数据集，按区划字段=调用方区划与不加条件各一次，得该区划内与全部的总条数；
    2. 区划受限的调用方自最早的变更起读取增量同步（changes，每页最大条数），至多读档位规定的页数；
    3. 读到末尾时，以测试凭证按区划字段=调用方区划逐页查询现存记录（至多该区划内条数与档位记录数中的较小者）。
    预期结果：步骤 2 每页返回 200，变更结构符合契约，带记录内容的每条变更其区划字段都在调用方区划及其下级区划内；步骤 3 取到的每条记录的主键都出现在步骤 2 的变更中。

    A division-scoped caller's change feed carries only records of its divisions, and every live one.
    """
    ds = data_sets()[name]
    if ds.changes is None:
        vacuous(f"契约中{ds.label}没有增量同步接口 / no change feed")
    client, division, field, inside, _ = _in_scope(harness, scoped, ds)
    probe = client.get(f"{ds.path}/changes", params={"limit": 1})
    if probe.status == 403:
        pytest.skip(f"未测：区划受限的调用方无权同步{ds.label}（403） / the scoped client may not sync {ds.name}")
    cursor: str | None = None
    seen: set[str] = set()
    stray: list[str] = []
    finished = False
    for page in range(1, scale(tzsb_target).tail_pages + 1):
        data = read_changes(client, ds, cursor, max_limit(ds), f"区划受限的调用方同步{ds.label}第 {page} 页")
        check_changes(ds, data, f"区划受限的调用方同步{ds.label}")
        for change in data["items"]:
            record = change["record"]
            if isinstance(record, dict):
                seen.add(change["key"])
                if not division_matches(division, record.get(field)):
                    stray.append(f"{change['key']}（{record.get(field)}）")
        cursor = data["nextCursor"]
        if not data["hasMore"]:
            finished = True
            break
    assert not stray, (
        f"区划 {division} 的调用方同步{ds.label}得到范围外的记录 {len(stray)} 条：{stray[:5]} / "
        f"the scoped change feed carries {len(stray)} records outside {division}"
    )
    if not finished:
        pytest.skip(f"未测完整性：{ds.label}的变更超过本档位读取的页数 / the feed is longer than this profile reads")
    if inside:
        live, _ = pull(harness, ds, min(inside, scale(tzsb_target).records), {field: division})
        missing = [r[ds.key] for r in live if r.get(ds.key) not in seen]
        assert not missing, (
            f"区划 {division} 的{ds.label}记录未出现在该区划调用方的增量同步中：{missing[:5]}（共 {len(missing)} 条） / "
            f"records of the division are missing from the scoped change feed"
        )


# ---------------------------------------------------------------------------- get by key


@pytest.mark.parametrize("name", SCOPED_SETS)
@pytest.mark.clause("SHARE.SEC.ACCESS.2")
def test_a_record_outside_the_divisions_is_not_revealed_by_key(
    name: str, harness: TargetClient, scoped: tuple[TargetClient, str], tzsb_target: Target
) -> None:
    """区划受限的调用方按主键获取：范围内的记录返回 200；范围外的记录返回 403 或 404（目标声明的那一个），
    错误信封中没有记录内容。

    前置条件：数据集（逐个参数化）为契约中记录带区划过滤字段且可分页查询者（设备、单位、事故）；目标文件有区划受限的调用方 [clients.city-reader] 及其登记的 division（缺少时本项未测）；测试凭证（[credentials]）的可见范围大于该区划（看不到该区划以外的记录时本项未测）；区划受限的调用方无权读取该数据集（403）时本项未测。契约中该数据集没有按主键获取接口、或测试凭证读到的第 1 页中没有范围外记录时本项未测；范围外的应答可在 [thresholds] out_of_scope_status 声明（403 或 404），未声明时两者皆可。
    测试步骤：
    1. 以测试凭证分页查询该数据集，按区划字段=调用方区划与不加条件各一次，得该区划内与全部的总条数；
    2. 以测试凭证查询第 1 页取一条范围外记录，按区划字段=调用方区划查询取一条范围内记录；
    3. 区划受限的调用方按主键获取范围内的记录（有时）；
    4. 区划受限的调用方按主键获取范围外的记录。
    预期结果：步骤 3 返回 200，记录符合契约；步骤 4 得到完整的 HTTP 应答，不是 200，而是声明的 403 或 404 及错误信封，信封中 data 为空，应答中不含该记录的字段值（除调用方所给主键外、长度不少于 6 的字符串值）。

    Get by key: a record inside the caller's divisions is 200; one outside is 403 or 404 without its content.
    """
    ds = data_sets()[name]
    if ds.get is None:
        vacuous(f"契约中{ds.label}没有按主键获取接口 / no get by key")
    client, division, field, _, _ = _in_scope(harness, scoped, ds)
    records, _ = pull(harness, ds, max_size(ds))
    outside = next(
        (r for r in records if not division_matches(division, r.get(field)) and isinstance(r.get(ds.key), str)), None
    )
    inside = pull(harness, ds, 1, {field: division})[0]
    if outside is None:
        pytest.skip(f"未测：测试凭证读到的前几页{ds.label}中没有区划 {division} 以外的记录 / no outside record found")
    if inside:
        key = inside[0][ds.key]
        got = expect(client.get(ds.record_path(key)), 200, f"区划受限的调用方按主键获取范围内的{ds.label}“{key}”")
        check_record(ds, got, f"按主键获取范围内的“{key}”")
    declared = tzsb_target.thresholds.get("out_of_scope_status")
    allowed: tuple[int, ...] = (int(declared),) if declared in (403, 404, "403", "404") else (403, 404)
    key = outside[ds.key]
    r = client.get(ds.record_path(key))
    assert r.status is not None and not r.truncated, (
        f"区划受限的调用方按主键获取范围外的{ds.label}“{key}”未得到完整的 HTTP 应答（{r.error}）：无应答不是拒绝 / "
        "no complete answer: no answer is not a refusal"
    )
    assert r.status != 200, (
        f"区划 {division} 的调用方按主键获取到范围外的{ds.label}“{key}”（{field} {outside.get(field)}） / "
        f"a record outside {division} was returned by key"
    )
    body = expect_error(r, allowed, f"区划受限的调用方按主键获取范围外的{ds.label}“{key}”")
    assert body.get("data") is None, f"拒绝的应答带有 data：{snippet(r)} / the refusal carries data"
    text = r.content.decode("utf-8", errors="replace")
    # values that could only come from the record (not from the key the caller sent, which the message may echo)
    leaked = sorted(
        {
            f"{k}={v}"
            for k, v in outside.items()
            if isinstance(v, str) and len(v) >= 6 and v not in key and v in text.replace(key, "")
        }
    )
    assert not leaked, f"拒绝的应答泄露了记录内容：{leaked[:5]} / the refusal leaks the record's content"


# ---------------------------------------------------------------------------- providing subject


def _provider_field(ds: DataSet) -> str | None:
    """The record property the contract declares for the providing subject: its title (or that of the definition
    it refers to) names 数据提供主体."""
    resolver = registry().resolver(base_uri=contracts.json_schema_id(ds.schema))
    for fname, prop in ds.properties.items():
        node, here = prop, resolver
        for _ in range(6):
            if not isinstance(node, dict):
                break
            if "提供主体" in str(node.get("title", "")):
                return fname
            ref = node.get("$ref")
            if not isinstance(ref, str):
                break
            resolved = here.lookup(ref)
            node, here = resolved.contents, resolved.resolver
    return None


@pytest.mark.clause("SHARE.MECH.SUBJECT.1")
def test_every_shared_record_names_its_providing_subject(
    harness: TargetClient, request: pytest.FixtureRequest, tzsb_target: Target
) -> None:
    """每条共享记录（分页查询、按主键获取、增量同步所得）标明数据提供主体：单位统一社会信用代码、所在行政区划代码、来源系统，
    取值符合契约中该字段的模式。

    前置条件：目标文件有 [credentials]（测试凭证）；契约的共享记录模式定义“数据提供主体”字段（标题含“提供主体”的属性），契约中一个也没有时本项未测。
    测试步骤：
    1. 对每个数据集，以测试凭证逐页查询，至多取档位规定的记录数与每页最大条数中的较小者；
    2. 有增量同步接口的，自最早的变更读取一页（至多 50 条），取带记录内容的变更；
    3. 有按主键获取接口的，按第一条记录的主键获取之；
    4. 核对每条记录的数据提供主体字段。
    预期结果：步骤 1–3 返回 200；每个数据集的记录模式都有数据提供主体字段；每条记录都带该字段，取值符合契约中该字段的模式。

    Every shared record (query, get by key, change feed) names its providing subject (credit code, division, source system).
    """
    fields = {name: _provider_field(ds) for name, ds in data_sets().items()}
    if not any(fields.values()):
        pytest.skip(
            "未测：契约（schemas/json 的共享记录模式）未定义“数据提供主体”字段，无法经接口检验记录标明提供主体 / "
            "the contract's record schemas declare no providing-subject field"
        )
    problems: list[str] = []
    for name, field in fields.items():
        ds = data_sets()[name]
        if field is None:
            problems.append(f"{ds.label}：契约的记录模式没有数据提供主体字段 / no provider field in {ds.schema}")
            continue
        v = validator(f"{ds.schema}#/properties/{field}", False)  # held data ("held")
        records, _ = pull(harness, ds, min(scale(tzsb_target).records, max_size(ds)))
        if ds.changes is not None:
            data = read_changes(harness, ds, None, min(max_limit(ds), 50), f"{ds.label} 增量同步")
            records += [c["record"] for c in data["items"] if isinstance(c["record"], dict)]
        if ds.get is not None and records and isinstance(records[0].get(ds.key), str):
            records.append(expect(harness.get(ds.record_path(records[0][ds.key])), 200, f"按主键获取{ds.label}"))
        missing = [r.get(ds.key) for r in records if not r.get(field)]
        invalid = [r.get(ds.key) for r in records if r.get(field) and not v.is_valid(r[field])]
        if missing:
            problems.append(f"{ds.label}：{len(missing)} 条记录未标明数据提供主体（{field}），例 {missing[:3]}")
        if invalid:
            problems.append(f"{ds.label}：{len(invalid)} 条记录的数据提供主体不符合契约，例 {invalid[:3]}")
    assert not problems, "\n".join(problems) + " / shared records do not name their providing subject"

"""契约测试：被测角色的每个操作按其 OpenAPI 契约模糊测试（schemathesis），并以领域近似错值检验负面数据拒收。

GB/T 34990 式测试项：

* **每个操作符合契约**（``test_operation_conforms_to_its_contract``）：schemathesis 对该角色每份契约文档
  运行一次（确定性的覆盖阶段 + 固定种子的正向、负向生成），每个操作一个测试项，验证 schemathesis
  的全部默认检查（状态码、内容类型、响应结构、负面数据拒收、正向数据受理、鉴权不可绕过 …）与本项目
  登记的全部检查（响应信封、错误说明为中文、响应中的代码有效、日期时间带时区、按契约校验响应体 …，
  检查表见 ``conformance/fuzz/checks.py``）。测试项标记条款目录中定义该接口的条款（``interfaces``
  含该操作的 ``x-interface`` 且属接口定义的条款，如 DB42.10.3.T6-1.1；共享角色另标 SHARE.IF.TECH.1）。
  失败给出 curl 复现命令与 Hypothesis 种子；同一种子对同一目标发送同样的请求。
* **日期时间**（``test_date_times_*``）：所有成功响应中的日期时间均为 GB/T 7408 扩展格式并带时区偏移，
  且本次确有日期时间被检验（否则未测）。
* **近似错值拒收**（``test_near_miss_*``）：不是随机噪声，而是由 ``conformance.codes.strategies.near_miss``
  构造、按定义无效的代码（校验位错一位、区划不存在、目录代码不存在 …），放入路径参数、查询参数或
  请求体（以 ``fixtures/json`` 中对该请求体有效的样例为底本，只改一处），目标应以 400/422（路径中
  的资源标识也可 404）拒绝，错误信封合乎契约，不得受理，不得 5xx。

测试深度随 ``--tzsb-profile``：quick 每操作约 12 个覆盖用例 + 各 3 个正负生成用例；standard 40 + 15；
certification 120 + 50；目标文件 ``[thresholds]`` 可覆盖：``fuzz_max_examples``、``fuzz_max_coverage``、
``fuzz_deadline_s``（每份文档的总时限）、``near_miss_per_site``。注意：正向用例会向目标写入数据
（推送、上报），请对测试环境运行。

Contract tests: every operation of the role fuzzed with schemathesis against its OpenAPI contract (all
default checks plus the project's), one test item per operation marked with the operation's source
clause; date-times carry a UTC offset; domain-aware near-miss identifiers are refused.
"""

from __future__ import annotations

import copy
import functools
import random
import uuid
import zlib
from collections.abc import Callable
from typing import Any

import pytest

from conformance.check.schema import validator, validator_at
from conformance.client import Evidence, Exchange, TargetClient, TargetResponse
from conformance.codes import FORMATS, KINDS
from conformance.codes.strategies import near_miss_values
from conformance.contract import documents as contracts
from conformance.contract.clauses import load_catalogue
from conformance.contract.openapi import Operation, role_operations
from conformance.fuzz.checks import date_time_offset, kind_for_key, walk
from conformance.fuzz.engine import FuzzReport, fuzz
from conformance.harness import profiles
from conformance.harness.plugin import state
from conformance.harness.target import Target
from conformance.report.skips import untested, vacuous
from conformance.suites.support.checks import valid_fixtures
from conformance.suites.support.security import concrete, param_maximum, param_schema

#: Operations the contract suite leaves out: the token endpoint is RFC 6749's (tested by the security suite).
SKIP_OPS = {"issueToken"}
SEED = 20241122
#: Features whose parameters the fuzzer leaves out even when claimed: it cannot sign requests, so random
#: ``X-Signature`` headers only test the signature check, which the security suite does properly.
UNSIGNABLE = frozenset({"request-signature"})
#: Checks judged by ``test_schema_violating_requests_are_refused`` (PROFILE.ERROR.1) rather than the main test.
NEGATIVE_CHECKS = frozenset({"negative_data_rejection"})
#: The profile clause of refusing invalid requests with 400 (field paths and Chinese text: error envelope checks).
REFUSAL = "PROFILE.ERROR.1"
#: Standardised data elements and codes (质检办特〔2007〕314号): coded fields are checked by their coding rules.
CODING = "INFO2007.2.6.1"


def _clause_roles(cid: str) -> list[str]:
    return next(c["roles"] for c in load_catalogue() if c["id"] == cid)


# ------------------------------------------------------------------------------------------ which operations


@functools.cache
def _optional_features() -> dict[str, str]:
    """clause id → optional feature, for clauses that only apply when the target claims the feature."""
    return {c["id"]: c["feature"] for c in load_catalogue() if c.get("optional") and c.get("feature")}


def feature_of(op: Operation) -> str | None:
    """The optional feature an operation belongs to: its document's ``x-optional-feature`` or the feature of
    every one of its source clauses (an operation of an optional interface only)."""
    doc_feature = contracts.openapi(op.doc).get("x-optional-feature")
    if isinstance(doc_feature, str):
        return doc_feature
    features = {_optional_features().get(c) for c in interface_clauses(op.role, op.interface)}
    return features.pop() if len(features) == 1 and None not in features else None


#: Catalogue clauses that define an interface (its existence and message structure), by id prefix.
INTERFACE_CLAUSES = ("DB42.10.", "PROFILE.DB42.")
#: The sharing standard's clause that every request and response follows the catalogue's structure.
SHARING_STRUCTURE = "SHARE.IF.TECH.1"


@functools.cache
def interface_clauses(role: str, interface: str | None) -> tuple[str, ...]:
    """The catalogue's clauses defining ``interface`` for ``role`` (what a contract test of it verifies)."""
    if interface is None:
        return ()
    return tuple(
        c["id"]
        for c in load_catalogue()
        if c["concern"] == "contract"
        and role in c["roles"]
        and interface in (c.get("interfaces") or [])
        and c["id"].startswith(INTERFACE_CLAUSES)
    )


def _marks(op: Operation) -> list[pytest.MarkDecorator]:
    clauses = [*interface_clauses(op.role, op.interface), *([SHARING_STRUCTURE] if op.role == "sharing" else [])]
    marks = [pytest.mark.clause(*clauses)] if clauses else []
    feature = feature_of(op)
    if feature:
        marks.append(pytest.mark.feature(feature))
    return marks


def _ops(role: str) -> list[Operation]:
    return [op for op in role_operations(role) if op.operation_id not in SKIP_OPS]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    role = state(metafunc.config).target.role
    name = metafunc.function.__name__
    refusal = pytest.mark.clause(REFUSAL)
    if "contract_op" in metafunc.fixturenames:
        extra = [refusal] if name == "test_schema_violating_requests_are_refused" else []
        ops = [pytest.param(op, id=op.operation_id, marks=_marks(op) + extra) for op in _ops(role)]
        metafunc.parametrize("contract_op", ops)
    if "param_site" in metafunc.fixturenames:
        sites = [
            pytest.param((op, p.name), id=f"{op.operation_id}-{p.name}", marks=[*_marks(op), refusal])
            for op in _ops(role)
            for p in op.params
            if p.location in ("path", "query") and _param_kind(op, p.name)
        ]
        metafunc.parametrize("param_site", sites)
    if "body_op" in metafunc.fixturenames:
        coded = (
            [pytest.mark.clause(CODING)]
            if name == "test_near_miss_identifiers_in_bodies_are_refused" and role in _clause_roles(CODING)
            else []
        )
        bodies = [
            pytest.param(op, id=op.operation_id, marks=[*_marks(op), refusal, *coded])
            for op in _ops(role)
            if op.body_uri and _body_bases(op.body_uri)
        ]
        metafunc.parametrize("body_op", bodies)


# ------------------------------------------------------------------------------------------ fuzzing


#: the [thresholds] key that overrides each fuzzing depth
DEPTH_KEYS = {
    "max_examples": "fuzz_max_examples",
    "max_coverage": "fuzz_max_coverage",
    "deadline_s": "fuzz_deadline_s",
    "near_miss": "near_miss_per_site",
}


def _depth(target: Target, key: str) -> Any:
    """A fuzzing depth of the profile (harness/profiles.py), overridable in the target file's [thresholds]."""
    default = getattr(profiles.depth(target.profile).contract, key)
    return type(default)(target.thresholds.get(DEPTH_KEYS[key], default))


@pytest.fixture(scope="session")
def fuzz_report(tzsb_target: Target) -> Callable[[str], FuzzReport]:
    """``fuzz_report(doc)``: schemathesis over one contract document of the role, run once per session."""
    reports: dict[str, FuzzReport] = {}

    def get(doc: str) -> FuzzReport:
        if doc not in reports:
            creds = tzsb_target.credentials
            if creds is None:
                pytest.skip("未测：目标文件未提供测试客户端凭证 / no client credentials in the target file")
            reports[doc] = fuzz(
                doc,
                tzsb_target.url(),
                client_id=creds.client_id,
                client_secret=creds.client_secret,
                max_examples=_depth(tzsb_target, "max_examples"),
                max_coverage=_depth(tzsb_target, "max_coverage"),
                deadline=_depth(tzsb_target, "deadline_s"),
                seed=int(tzsb_target.thresholds.get("seed", SEED)),
                request_timeout=float(tzsb_target.thresholds.get("request_timeout_s", 10.0)),
                optional_features=tzsb_target.features - UNSIGNABLE,
            )
        return reports[doc]

    return get


def _as_evidence(
    evidence: Evidence,
    report: FuzzReport,
    failures: list[Any],
    request: pytest.FixtureRequest,
    samples: list[dict[str, Any]],
    sent: int | None,
) -> None:
    """The item's evidence: a few answered cases of the operation (what it did), then each finding (what failed); the
    number of requests it sent goes with the item, as the evidence keeps only these."""
    test = request.node.nodeid
    for x in samples:
        evidence.add(
            Exchange(
                method=x["method"],
                url=x["url"],
                request_headers=x["request_headers"],
                request_body=x["request_body"],
                status=x["status"],
                response_headers=x["response_headers"],
                response_body=x["response_body"] or None,
                elapsed_ms=x["elapsed_ms"],
                test=test,
            )
        )
    for f in failures:
        method, _, path = f.label.partition(" ")
        evidence.add(
            Exchange(
                method=method,
                url=f"{report.base_url}{path}",
                request_headers={},
                request_body=None,
                status=f.status,
                response_body=f.response or None,
                error=f"[{f.check}] {f.message_zh} / {f.message_en}\n{f.curl}\nseed {f.seed}",
                test=test,
            )
        )
    if sent is not None:
        request.node.user_properties.append(("requests", sent))


def test_operation_conforms_to_its_contract(
    contract_op: Operation,
    fuzz_report: Callable[[str], FuzzReport],
    tzsb_evidence: Evidence,
    request: pytest.FixtureRequest,
) -> None:
    """该操作对覆盖用例与正负向生成用例的响应均符合契约（schemathesis 全部默认检查 + 本项目检查）。

    前置条件：目标文件有 [credentials]（缺少时本项未测）；模糊测试深度随测试档（quick 每操作约 12 个覆盖用例与各 3 个正负
    生成用例，standard 40 与 15，certification 120 与 50），可由 [thresholds] fuzz_max_examples、fuzz_max_coverage、
    fuzz_deadline_s 覆盖，种子取 [thresholds] seed（默认 20241122）；模糊测试本身无法进行（工具或契约问题）时本项为错误。
    正向用例会向目标写入数据。总时限内未测到该操作时本项未测。
    测试步骤：
    1. 以客户端凭证取得令牌（受保护操作带令牌；负向安全用例按 schemathesis 去掉凭证）；
    2. 对该操作所在的契约文档运行一次 schemathesis（每次会话每份文档一次）：确定性覆盖用例，再以固定种子生成正向与负向用例；
    3. 对该操作的每个应答运行 schemathesis 的全部默认检查与本项目登记的检查（conformance/fuzz/checks.py），
    负面数据拒收检查除外（由 test_schema_violating_requests_are_refused 判定）。
    预期结果：能取得访问令牌；该操作没有一项检查失败（状态码、内容类型、响应结构、正向数据受理、鉴权不可绕过、
    响应信封、错误说明为中文、响应中的代码有效、日期时间带时区、响应体符合契约等；超出总时限不算失败）。

    The operation answers every coverage, positive and negative case as its contract says.
    """
    report = fuzz_report(contract_op.doc)
    request.node._hypothesis_internal_use_seed = report.seed  # the report shows the seed that reproduces it
    if report.errors:
        raise RuntimeError(
            "模糊测试无法进行（测试工具或契约问题）/ the fuzzer could not run: " + "; ".join(report.errors)
        )
    stats = report.operations.get(contract_op.operation_id)
    failures = [
        f
        for f in report.failures_for(operation=contract_op.operation_id)
        if f.check != "deadline" and f.check not in NEGATIVE_CHECKS
    ]
    _as_evidence(
        tzsb_evidence, report, failures, request, stats.samples if stats else [], stats.requests if stats else 0
    )
    if not failures and (stats is None or stats.requests == 0):
        pytest.skip(
            f"未测：总时限（{_depth(state(request.config).target, 'deadline_s'):g} 秒）内未测到该操作 / "
            "not reached within the fuzzing deadline ([thresholds] fuzz_deadline_s)"
        )
    setup = report.failures_for(check="authentication")
    assert not failures and not setup, (
        f"{contract_op.operation_id}（{contract_op.summary}）不符合契约 / does not match its contract "
        f"({stats.requests if stats else 0} 个请求, seed {report.seed}):\n"
        + "\n".join(f.render("zh") + "\n  " + f.message_en[:400] for f in [*setup, *failures][:8])
    )


def test_schema_violating_requests_are_refused(
    contract_op: Operation,
    fuzz_report: Callable[[str], FuzzReport],
    tzsb_evidence: Evidence,
    request: pytest.FixtureRequest,
) -> None:
    """不符合契约的请求（schemathesis 负向用例：缺字段、类型错、越界、多余字段、格式错 …）被拒绝（4xx），不被受理。
    拒绝须是真实的 HTTP 应答：负向用例没有得到应答（网络错误、超时、应答被截断）不是拒绝，判为不符合并给出原因。

    前置条件：目标文件有 [credentials]（缺少时本项未测）；模糊测试深度随测试档（quick 每操作约 12 个覆盖用例与各 3 个正负
    生成用例，standard 40 与 15，certification 120 与 50），可由 [thresholds] fuzz_max_examples、fuzz_max_coverage、
    fuzz_deadline_s 覆盖，种子取 [thresholds] seed（默认 20241122）；模糊测试本身无法进行（工具或契约问题）时本项为错误。
    正向用例会向目标写入数据。总时限内未向该操作发出负向用例时本项未测；契约对该操作没有可违反的约束、生成不出负向用例时
    本项未测。
    测试步骤：
    1. 以客户端凭证取得令牌（受保护操作带令牌；负向安全用例按 schemathesis 去掉凭证）；
    2. 对该操作所在的契约文档运行一次 schemathesis（每次会话每份文档一次）：确定性覆盖用例，再以固定种子生成正向与负向用例；
    3. 统计该操作的负向用例（覆盖阶段与生成阶段）：得到与未得到 HTTP 应答的个数，及其中 4xx 的个数，并运行 schemathesis
    的负面数据拒收检查（negative_data_rejection）。
    预期结果：负面数据拒收检查没有失败（没有负向用例被受理）；每个负向用例都得到 HTTP 应答；至少一个负向用例得到 4xx。

    Requests that violate the contract are refused with a 4xx, never accepted; no answer is not a refusal.
    """
    report = fuzz_report(contract_op.doc)
    request.node._hypothesis_internal_use_seed = report.seed
    if report.errors:
        raise RuntimeError("模糊测试无法进行 / the fuzzer could not run: " + "; ".join(report.errors))
    stats = report.operations.get(contract_op.operation_id)
    op_failures = report.failures_for(operation=contract_op.operation_id)
    failures = [f for f in op_failures if f.check in NEGATIVE_CHECKS]
    silent = stats.unanswered["negative"] if stats else 0
    transport = [f for f in op_failures if f.check == "transport"] if silent else []
    sent = silent + (stats.answered["negative"] if stats else 0)  # negative cases sent (coverage and fuzzing)
    negative = [x for x in (stats.samples if stats else []) if x["mode"] == "negative"]
    _as_evidence(tzsb_evidence, report, failures + transport, request, negative, sent)
    if not failures and not sent:
        if stats is None or stats.requests == 0 or report.failures_for("deadline", contract_op.operation_id):
            pytest.skip(
                f"未测：总时限（{_depth(state(request.config).target, 'deadline_s'):g} 秒）内未向该操作发出负向用例 / "
                "no negative case sent within the fuzzing deadline ([thresholds] fuzz_deadline_s)"
            )
        vacuous(
            "契约对该操作没有可违反的约束，生成不出负向用例 / the contract leaves no negative case for this operation"
        )
    assert not failures, (
        f"{contract_op.operation_id}: 不符合契约的请求被受理 / invalid requests accepted:\n"
        + "\n".join(f.render("zh") for f in failures[:8])
    )
    assert not silent, (
        f"{contract_op.operation_id}: {silent} 个负向用例没有得到 HTTP 应答（网络错误、超时或应答被截断），"
        f"无应答不是拒绝 / {silent} negative cases got no HTTP answer: no answer is not a refusal:\n"
        + "\n".join(f.render("zh") for f in transport[:4])
    )
    assert stats is not None and stats.refused["negative"], (
        f"{contract_op.operation_id}: {sent} 个负向用例无一得到 4xx 拒绝（各状态码次数 "
        f"{dict(stats.statuses) if stats else {}}） / no negative case was refused with a 4xx"
    )


def _date_times(
    role: str, fuzz_report: Callable[[str], FuzzReport], evidence: Evidence, request: pytest.FixtureRequest
) -> None:
    docs = sorted({op.doc for op in _ops(role)})
    reports = [fuzz_report(d) for d in docs]
    bad = [f for r in reports for f in r.failures_for(check=date_time_offset.name)]
    seen = sum(s.date_times for r in reports for s in r.operations.values())
    for r in reports:
        # the evidence: a successful answer of each operation (what was judged), then each date-time finding
        samples = [next((x for x in s.samples if 200 <= x["status"] < 300), None) for s in r.operations.values()]
        found = [f for f in bad if f in r.failures]
        _as_evidence(evidence, r, found, request, [x for x in samples if x], None)
    request.node.user_properties.append(("requests", sum(r.requests for r in reports)))
    assert not bad, "日期时间不带时区或不是 GB/T 7408 扩展格式 / date-times without an offset:\n" + "\n".join(
        f.render("zh") for f in bad[:8]
    )
    if not seen:
        pytest.skip("未测：本次成功响应中没有日期时间 / no date-time in any successful response")


@pytest.mark.role("licensing", "gov-platform", "inspection", "supervision")
@pytest.mark.clause("IPQS.DATE.1", "PROFILE.DATE.1")
def test_date_times_carry_a_utc_offset(
    tzsb_target: Target,
    fuzz_report: Callable[[str], FuzzReport],
    tzsb_evidence: Evidence,
    request: pytest.FixtureRequest,
) -> None:
    """所有成功响应中的日期时间为 GB/T 7408 扩展格式并带时区偏移（如 2024-11-22T09:30:00+08:00）。

    前置条件：目标文件有 [credentials]（缺少时本项未测）；模糊测试深度随测试档（quick 每操作约 12 个覆盖用例与各 3 个正负
    生成用例，standard 40 与 15，certification 120 与 50），可由 [thresholds] fuzz_max_examples、fuzz_max_coverage、
    fuzz_deadline_s 覆盖，种子取 [thresholds] seed（默认 20241122）；模糊测试本身无法进行（工具或契约问题）时本项为错误。
    正向用例会向目标写入数据。本次成功响应中没有日期时间时本项未测。
    测试步骤：
    1. 对被测角色的每份契约文档运行 schemathesis（与契约测试共用同一次运行）；
    2. 以本项目的日期时间检查（date_time_offset）检查每个成功响应中的全部日期时间。
    预期结果：没有日期时间检查失败：所有成功响应中的日期时间均为 GB/T 7408 扩展格式并带时区偏移。

    Every date-time in every successful response is GB/T 7408 extended format with a UTC offset.
    """
    _date_times(tzsb_target.role, fuzz_report, tzsb_evidence, request)


@pytest.mark.role("sharing")
@pytest.mark.clause("IPQS.DATE.1", "PROFILE.DATE.1", "SHARE.IF.TECH.2")
def test_date_times_carry_a_utc_offset_sharing(
    tzsb_target: Target,
    fuzz_report: Callable[[str], FuzzReport],
    tzsb_evidence: Evidence,
    request: pytest.FixtureRequest,
) -> None:
    """共享接口报文为 UTF-8 JSON（不能按 UTF-8 解析的响应在信封检查中不合格），日期时间按 GB/T 7408 带时区。

    前置条件：目标文件有 [credentials]（缺少时本项未测）；模糊测试深度随测试档（quick 每操作约 12 个覆盖用例与各 3 个正负
    生成用例，standard 40 与 15，certification 120 与 50），可由 [thresholds] fuzz_max_examples、fuzz_max_coverage、
    fuzz_deadline_s 覆盖，种子取 [thresholds] seed（默认 20241122）；模糊测试本身无法进行（工具或契约问题）时本项为错误。
    正向用例会向目标写入数据。本次成功响应中没有日期时间时本项未测。
    测试步骤：
    1. 对被测角色的每份契约文档运行 schemathesis（与契约测试共用同一次运行）；
    2. 以本项目的日期时间检查（date_time_offset）检查每个成功响应中的全部日期时间。
    预期结果：没有日期时间检查失败：所有成功响应中的日期时间均为 GB/T 7408 扩展格式并带时区偏移（报文能否按 UTF-8
    解析由 test_operation_conforms_to_its_contract 的信封检查判定）。

    Shared messages are UTF-8 JSON and every date-time carries a UTC offset.
    """
    _date_times(tzsb_target.role, fuzz_report, tzsb_evidence, request)


# ------------------------------------------------------------------------------------------ near misses


def _param_kind(op: Operation, name: str) -> str | None:
    param = next((p for p in op.params if p.name == name), None)
    if param is None:
        return None
    fmt = param_schema(param.schema_uri).get("format")
    if isinstance(fmt, str) and fmt in FORMATS:
        return FORMATS[fmt].name
    return None


def _seed(*parts: str) -> int:
    return zlib.crc32("|".join(parts).encode())


def _refusal(r: TargetResponse, allowed: tuple[int, ...], what: str) -> list[str]:
    if r.status is None:
        return [f"{what}: 无响应 / no response ({r.error})"]
    if r.status not in allowed:
        return [
            f"{what}: 状态 {r.status}，应为 {'/'.join(map(str, allowed))}（近似错值未被拒收）/ near miss not refused"
        ]
    body = r.json()
    v = validator("error")
    if not v.is_valid(body):
        return [f"{what}: {r.status} 的响应不是契约规定的错误信封 / not the error envelope: {str(body)[:200]}"]
    return []


def test_near_miss_identifiers_in_parameters_are_refused(
    param_site: tuple[Operation, str], tzsb_client: Any, tzsb_target: Target
) -> None:
    """路径或查询参数中的代码为近似错值（如校验位错一位）时，目标以 400/422 拒绝（路径中的资源标识也可 404），
    返回错误信封，不受理、不 5xx。

    前置条件：目标文件有 [credentials]；该参数在契约中为本项目的代码格式（tzsb-*）；每个参数的近似错值个数取阈值
    near_miss_per_site（默认随测试档）。
    测试步骤：
    1. 由代码库构造该参数的近似错值（校验位错一位、区划不存在、目录代码不存在等，种子由操作与参数名确定）；
    2. 对每个近似错值调用该操作：该参数取近似错值，其他必填查询参数取合法值，有请求体的操作以对该请求体有效的契约样例（fixtures/json 中标为有效的）
    （换新消息标识）为请求体，没有样例时为 {}。
    预期结果：每次返回 400 或 422（路径参数也可 404），响应体为契约的错误信封（error.schema.json）。

    A near-miss identifier in a parameter is refused, never accepted.
    """
    op, name = param_site
    kind = _param_kind(op, name)
    assert kind is not None
    client: TargetClient = tzsb_client()
    param = next(p for p in op.params if p.name == name)
    allowed = (400, 404, 422) if param.location == "path" else (400, 422)
    problems: list[str] = []
    for value, mutation in near_miss_values(kind, _depth(tzsb_target, "near_miss"), _seed(op.operation_id, name)):
        query = {
            p.name: _valid_value(op, p.name)
            for p in op.params
            if p.location == "query" and p.required and p.name != name
        }
        if param.location == "query":
            query[name] = value
            path = concrete(op)
        else:
            path = concrete(op, {name: value})
        body = _a_valid_body(op)
        r = client.request(op.method.upper(), path, params=query or None, json=body)
        problems += _refusal(r, allowed, f"{op.operation_id} {name}=“{value}”（{mutation}）")
    assert not problems, "\n".join(problems)


def _valid_value(op: Operation, name: str) -> str:
    kind = _param_kind(op, name)
    if kind:
        return KINDS[kind].generate(random.Random(7))
    schema = param_schema(next(p for p in op.params if p.name == name).schema_uri)
    for key in ("example", "default"):
        if key in schema:
            return str(schema[key])
    enum = schema.get("enum")
    return str(enum[0]) if enum else "1"


@functools.cache
def _body_bases(body_uri: str) -> tuple[Any, ...]:
    """Valid fixtures (fixtures/json, labelled valid) that are valid request bodies of this operation."""
    v = validator_at(body_uri)
    return tuple(doc for doc in valid_fixtures() if v.is_valid(doc))


def _a_valid_body(op: Operation) -> Any:
    if not op.body_uri:
        return None
    bases = _body_bases(op.body_uri)
    return _fresh(copy.deepcopy(bases[0]), op.body_uri) if bases else {}


def _fresh(body: Any, body_uri: str) -> Any:
    """The body with a new message id (a push must not be taken for a copy of an earlier one)."""
    if isinstance(body, dict) and isinstance(body.get("messageId"), str):
        candidate = dict(body, messageId=f"tzsb-nm-{uuid.uuid4().hex}")
        if validator_at(body_uri).is_valid(candidate):
            return candidate
    return body


def _set(doc: Any, pointer: str, value: Any) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.strip("/").split("/")]
    node = doc
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def test_near_miss_identifiers_in_bodies_are_refused(body_op: Operation, tzsb_client: Any, tzsb_target: Target) -> None:
    """以对该请求体有效的样例为底本，每次只把一个代码换成近似错值（契约据此判其无效），目标以 400/422
    （路径中资源不存在时也可 404）拒绝，返回错误信封，不受理、不 5xx。

    前置条件：目标文件有 [credentials]；契约样例中有对该请求体有效的契约样例（fixtures/json 中标为有效的）（没有时本项不生成）；样例中有受契约约束的代码字段（没有时本项
    未测）；每处的近似错值个数取阈值 near_miss_per_site。
    测试步骤：
    1. 取至多两个有效样例为底本，找出其中按字段名对应代码类型的字符串字段；
    2. 对每处构造近似错值，每次复制底本、换新消息标识、只把该处换成近似错值；契约仍判其有效的跳过；
    3. 以该请求体调用该操作（路径参数以占位值填充）。
    预期结果：步骤 3 每次返回 400 或 422（带路径参数的操作也可 404），响应体为契约的错误信封（error.schema.json）。

    A valid body with exactly one identifier replaced by a near miss is refused.
    """
    client: TargetClient = tzsb_client()
    v = validator_at(body_op.body_uri or "")
    allowed = (400, 404, 422) if "{" in body_op.path else (400, 422)
    per_site = _depth(tzsb_target, "near_miss")
    problems: list[str] = []
    tried = 0
    for base in _body_bases(body_op.body_uri or "")[:2]:
        sites = [(p, kind_for_key(k)) for p, k, val in walk(base) if isinstance(val, str) and k and kind_for_key(k)]
        for pointer, kind in sites:
            assert kind is not None
            for value, mutation in near_miss_values(kind, per_site, _seed(body_op.operation_id, pointer)):
                body = _fresh(copy.deepcopy(base), body_op.body_uri or "")
                _set(body, pointer, value)
                if v.is_valid(body):
                    continue  # the contract does not constrain this site (e.g. an open field): not a negative case
                tried += 1
                r = client.request(body_op.method.upper(), concrete(body_op), json=body)
                problems += _refusal(r, allowed, f"{body_op.operation_id} {pointer}=“{value}”（{mutation}）")
    if not tried:
        vacuous("契约的请求体中没有受约束的代码 / no constrained identifier in the contract's bodies")
    assert not problems, "\n".join(problems[:20])


# ------------------------------------------------------------------------------------------ paging


def _paged(ops: list[Operation]) -> list[Operation]:
    return [
        op
        for op in ops
        if op.method == "get"
        and "{" not in op.path
        and {"page", "size"} <= {p.name for p in op.params if p.location == "query"}
    ]


def _page(r: TargetResponse) -> dict[str, Any] | None:
    body = r.json()
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else None


@pytest.mark.role("licensing", "gov-platform")
@pytest.mark.clause("PROFILE.PAGE.1")
def test_list_operations_page_with_page_size_and_total(tzsb_target: Target, tzsb_client: Any) -> None:
    """列表接口以 page（从1开始）与 size 分页：响应含 page、size、total、items，items 不多于 size；相邻两页不重复；
    超出末页返回空 items 而非错误；size 超过声明上限返回 400。（共享平台的分页另有详尽的功能测试。）

    前置条件：目标文件有 [credentials]；被测角色的契约有无路径参数、带 page 与 size 查询参数的列表接口（没有时本项未测）；
    至少一个列表的记录多于 2 条（否则本项未测：无法检验翻页）。
    测试步骤：
    1. 对每个列表接口，以 page=1、size=2 读取（其他必填查询参数取合法值）；
    2. total 大于 2 时以 page=2、size=2 读取；
    3. 以超出末页的页码（total // 2 + 2）、size=2 读取；
    4. 契约声明了 size 上限时，以 size=上限+1 读取。
    预期结果：步骤 1 返回 200 与分页结果，page=1、size=2、total 为整数、items 为列表，items 不多于 2 条且不多于 total；
    步骤 2 的 items 非空且与第 1 页没有相同的记录；步骤 3 返回 200 与空 items；步骤 4 返回 400。

    List operations page with page and size, report the total, and refuse an oversized page.
    """
    ops = _paged(_ops(tzsb_target.role))
    if not ops:
        vacuous("该角色的契约中没有列表接口 / no list operation")
    client: TargetClient = tzsb_client()
    problems: list[str] = []
    walked = 0  # lists with more than one page of size 2: only those show that paging pages
    for op in ops:
        fixed = {p.name: _valid_value(op, p.name) for p in op.params if p.location == "query" and p.required}
        what = op.operation_id
        r1 = client.get(op.path, params={**fixed, "page": 1, "size": 2})
        first = _page(r1)
        if r1.status != 200 or first is None:
            problems.append(f"{what}: page=1&size=2 得到 {r1.status}，不是一页结果 / not a page")
            continue
        items, total = first.get("items"), first.get("total")
        if (
            (first.get("page"), first.get("size")) != (1, 2)
            or not isinstance(items, list)
            or not isinstance(total, int)
        ):
            problems.append(
                f"{what}: 响应应含 page=1、size=2、整数 total 与 items 列表，实为 "
                f"page={first.get('page')!r} size={first.get('size')!r} total={total!r}"
            )
            continue
        if len(items) > 2 or len(items) > total:
            problems.append(f"{what}: size=2 却返回 {len(items)} 条（total {total}）")
        if total > 2:
            walked += 1
            second = _page(client.get(op.path, params={**fixed, "page": 2, "size": 2})) or {}
            again = [repr(x) for x in second.get("items") or []]
            if not again or {repr(x) for x in items} & set(again):
                problems.append(f"{what}: 第2页为空或与第1页重复（total {total}）/ page 2 empty or repeats page 1")
        beyond = client.get(op.path, params={**fixed, "page": total // 2 + 2, "size": 2})
        past = _page(beyond)
        if beyond.status != 200 or past is None or past.get("items") != []:
            problems.append(f"{what}: 超出末页（page={total // 2 + 2}）应为 200 与空 items，实为 {beyond.status}")
        limit = param_maximum(op, "size", 0)
        if limit:
            too_big = client.get(op.path, params={**fixed, "page": 1, "size": limit + 1})
            if too_big.status != 400:
                problems.append(f"{what}: size={limit + 1}（超过上限 {limit}）应为 400，实为 {too_big.status}")
    assert not problems, "\n".join(problems)
    if not walked:
        untested(
            "没有一个列表接口的记录多于一页（size=2 时 total ≤ 2），无法检验翻页 / no list has more than one page of 2",
            provide="为目标预置足够的数据（每个列表至少 3 条）/ seed the target with at least 3 records per list",
        )


def test_unknown_fields_are_refused(body_op: Operation, tzsb_client: Any) -> None:
    """请求体中契约未定义的字段（在对该请求体有效的样例上加一个未知字段）被以 400/422 拒绝，不被静默接受。

    前置条件：目标文件有 [credentials]；契约样例中有对该请求体有效的契约样例（fixtures/json 中标为有效的）（没有时本项不生成）；请求体为对象且契约不允许附加字段（否则本项
    未测）。
    测试步骤：
    1. 取第一个有效样例为底本，换新消息标识，加一个契约未定义的字段 tzsbUndeclaredField；
    2. 以该请求体调用该操作（路径参数以占位值填充）。
    预期结果：返回 400 或 422（带路径参数的操作也可 404），响应体为契约的错误信封（error.schema.json）。

    An undeclared field in an otherwise valid body is refused, not silently accepted.
    """
    client: TargetClient = tzsb_client()
    v = validator_at(body_op.body_uri or "")
    base = _a_valid_body(body_op)
    if not isinstance(base, dict):
        vacuous("请求体不是对象 / the body is not an object")
    body = {**base, "tzsbUndeclaredField": "未在契约中定义"}
    if v.is_valid(body):
        vacuous("契约允许该请求体有附加字段 / the contract allows additional fields here")
    allowed = (400, 404, 422) if "{" in body_op.path else (400, 422)
    problems = _refusal(
        client.request(body_op.method.upper(), concrete(body_op), json=body),
        allowed,
        f"{body_op.operation_id} 附加字段 tzsbUndeclaredField",
    )
    assert not problems, "\n".join(problems)

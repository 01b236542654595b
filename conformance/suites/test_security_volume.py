"""安全套件（二）：数据交换量控制（征求意见稿“信息共享接口安全·数据交换量控制”，本项目 429 规定）。

目标文件须提供的身份：

* ``[clients.limited]``：限流客户端，速率上限低（每秒几次），并有可在测试中用尽的每日配额（可选特性
  ``daily-quota``）。未提供时本模块未测。限流客户端在被测角色没有可调用的接口时，速率限制亦为未测。

阈值（``[thresholds]``，均可省略）：``rate_probe_requests``（为触发限流最多发出的请求数，默认 200），
``max_retry_wait_s``（最多按 Retry-After 等待的秒数，默认 60），``quota_probe_requests``（为用尽配额最多发出
的请求数，默认 2000），``quota_probe_s``（用尽配额最多花费的秒数，默认 120）。

Retry-After 先判合理再等待（``conformance/check/plausibility.py``）：不是整数秒、超出契约范围（common.yaml RetryAfter）或
与错误信封的 retryAfter 不一致，判为不符合（PROFILE.STATUS.5）；在契约范围内但超过 ``max_retry_wait_s`` 的，恢复检验未测。

注意：配额检验会用尽限流客户端当日的配额，故放在速率检验之后。
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conformance.check import plausibility
from conformance.client import TargetClient, TargetResponse
from conformance.contract.errors import ErrorCode
from conformance.contract.openapi import Operation
from conformance.harness.target import Target
from conformance.report.skips import untested
from conformance.suites.support.security import check_error, concrete, issue, need_client, probe_op

WAVE = 8


def _limited(role_ops: list[Operation], tzsb_client, tzsb_target: Target) -> tuple[TargetClient, Operation, str]:
    client = need_client(tzsb_target, tzsb_client, "limited", "限流客户端：速率上限低、每日配额小")
    op = probe_op(role_ops, issue(client).scopes)
    if op.method != "get":
        pytest.skip("未测：限流客户端在该角色没有可调用的读操作 / the rate-limited client has no read here")
    names = {p.name for p in op.params if p.location == "query"}
    small = "?size=1" if "size" in names else "?limit=1" if "limit" in names else ""
    return client, op, concrete(op) + small


def _code(r: TargetResponse) -> str | None:
    body = r.json()
    return body.get("code") if isinstance(body, dict) else None


def _retry_after(r: TargetResponse, what: str) -> tuple[int | None, list[str]]:
    """Retry-After (integer seconds within common.yaml RetryAfter's bounds) and retryAfter in the envelope, agreeing
    (PROFILE.STATUS.5): judged plausible before the harness waits for it (``conformance.check.plausibility``)."""
    body = r.json()
    seconds, problems = plausibility.retry_after(r.header("Retry-After"), body, what)
    if not isinstance(body, dict) or "retryAfter" not in body:
        problems.append(f"{what}: 错误信封中没有 retryAfter / no retryAfter in the envelope")
    return seconds, problems


def _burst(client: TargetClient, path: str, bound: int) -> tuple[TargetResponse | None, int]:
    """Concurrent waves of requests until one is answered 429 (or ``bound`` requests were sent)."""
    client.token()
    sent = 0
    with ThreadPoolExecutor(WAVE) as pool:
        while sent < bound:
            wave = min(WAVE, bound - sent)
            responses = list(pool.map(lambda _: client.request("GET", path), range(wave)))
            sent += wave
            limited = [r for r in responses if r.status == 429]
            if limited:
                return limited[0], sent
    return None, sent


def _rate_limit(role_ops: list[Operation], tzsb_client, tzsb_target: Target) -> None:
    client, op, path = _limited(role_ops, tzsb_client, tzsb_target)
    bound = int(tzsb_target.thresholds.get("rate_probe_requests", 200))
    r, sent = _burst(client, path, bound)
    assert r is not None, (
        f"{op.operation_id}: 限流客户端连续 {sent} 次请求（并发 {WAVE}）均未得到 429 / no 429 after {sent} requests"
    )
    if _code(r) == ErrorCode.QUOTA_EXCEEDED:
        pytest.skip("未测：限流客户端当日配额已用尽，无法检验速率限制 / daily quota already used up")
    what = f"{op.operation_id}（超过速率上限）"
    problems = check_error(r, 429, what, codes=(ErrorCode.RATE_LIMITED,))
    seconds, more = _retry_after(r, what)
    problems += more
    assert not problems, "\n".join(problems)
    assert seconds is not None
    limit = plausibility.retry_wait_budget(tzsb_target.thresholds)
    if seconds > limit:  # plausible (within the contract's bound) but longer than the harness may wait
        untested(
            f"Retry-After {seconds} 秒在契约范围内，但超过本工具的等待上限 {limit:g} 秒，无法检验恢复 / "
            f"Retry-After {seconds} s is plausible but beyond the wait budget {limit:g} s",
            provide="在目标文件 [thresholds] max_retry_wait_s 中放宽等待上限，或为限流客户端设置较短的限流窗口",
        )
    time.sleep(seconds + 0.2)
    again = client.request("GET", path)
    assert again.status is not None and again.status not in (401, 403, 429) and again.status < 500, (
        f"{op.operation_id}: 按 Retry-After 等待 {seconds} 秒后请求仍未恢复（{again.status} {_code(again) or ''}）/ not recovered"
    )


@pytest.mark.role("sharing")
@pytest.mark.clause("SHARE.SEC.VOLUME.1", "PROFILE.STATUS.5")
def test_rate_limit_answers_429_with_retry_after_then_recovers_sharing(
    role_ops: list[Operation], tzsb_client, tzsb_target: Target
) -> None:
    """限流客户端并发请求超过其速率上限：429，错误代码 RATE_LIMITED，整数秒 Retry-After，错误信封带 retryAfter；
    按 Retry-After 等待后请求恢复正常。

    前置条件：目标文件有 [clients.limited]（速率上限低的限流客户端，缺少时本项未测）；该客户端的权限范围内有被测角色的
    受保护读操作（优先无路径参数的 GET，没有可调用的读操作时本项未测）；阈值 rate_probe_requests（默认 200）、
    max_retry_wait_s（默认 60）。限流客户端当日配额已用尽，或 Retry-After 在契约范围内但超过等待上限时，本项未测。
    测试步骤：
    1. 以限流客户端取得令牌，选出上述读操作（有 size 或 limit 参数时取 1）；
    2. 以每波 8 个并发请求连续调用该操作，直到得到 429 或发满 rate_probe_requests 次；
    3. 检查 429 应答的 Retry-After 与错误信封；
    4. 按 Retry-After 的秒数等待后再次调用该操作。
    预期结果：步骤 2 在上限内得到 429；步骤 3 的 429 为错误信封、错误代码 RATE_LIMITED、不带业务数据，Retry-After
    为契约范围内（common.yaml RetryAfter）的整数秒，错误信封带 retryAfter 且与之一致；步骤 4 的应答不是
    401、403、429，也不是 5xx。
    """
    _rate_limit(role_ops, tzsb_client, tzsb_target)


@pytest.mark.role("licensing", "gov-platform", "inspection", "supervision")
@pytest.mark.clause("PROFILE.STATUS.5")
def test_rate_limit_answers_429_with_retry_after_then_recovers(
    role_ops: list[Operation], tzsb_client, tzsb_target: Target
) -> None:
    """（其他角色）限流客户端超过速率上限时：429，整数秒 Retry-After，错误信封带 retryAfter；等待后恢复。

    前置条件：目标文件有 [clients.limited]（速率上限低的限流客户端，缺少时本项未测）；该客户端的权限范围内有被测角色的
    受保护读操作（优先无路径参数的 GET，没有可调用的读操作时本项未测）；阈值 rate_probe_requests（默认 200）、
    max_retry_wait_s（默认 60）。限流客户端当日配额已用尽，或 Retry-After 在契约范围内但超过等待上限时，本项未测。
    测试步骤：
    1. 以限流客户端取得令牌，选出上述读操作（有 size 或 limit 参数时取 1）；
    2. 以每波 8 个并发请求连续调用该操作，直到得到 429 或发满 rate_probe_requests 次；
    3. 检查 429 应答的 Retry-After 与错误信封；
    4. 按 Retry-After 的秒数等待后再次调用该操作。
    预期结果：步骤 2 在上限内得到 429；步骤 3 的 429 为错误信封、错误代码 RATE_LIMITED、不带业务数据，Retry-After
    为契约范围内（common.yaml RetryAfter）的整数秒，错误信封带 retryAfter 且与之一致；步骤 4 的应答不是
    401、403、429，也不是 5xx。
    """
    _rate_limit(role_ops, tzsb_client, tzsb_target)


@pytest.mark.role("sharing")
@pytest.mark.feature("daily-quota")
@pytest.mark.clause("SHARE.SEC.VOLUME.3", "PROFILE.STATUS.5")
def test_daily_quota_answers_429_quota_exceeded(role_ops: list[Operation], tzsb_client, tzsb_target: Target) -> None:
    """限流客户端用尽每日配额（遇到速率限制时按 Retry-After 等待）：429，错误代码 QUOTA_EXCEEDED（区别于
    RATE_LIMITED），Retry-After 给出到配额重置的秒数，错误信封带 retryAfter。

    前置条件：目标声明可选特性 daily-quota；目标文件有 [clients.limited]（每日配额小，缺少时本项未测）；该客户端的
    权限范围内有受保护读操作（没有时本项未测）；阈值 quota_probe_requests（默认 2000）、quota_probe_s（默认 120 秒）、
    max_retry_wait_s。本项会用尽限流客户端当日的配额。
    测试步骤：
    1. 以限流客户端取得令牌，选出受保护读操作（有 size 或 limit 参数时取 1）；
    2. 逐个调用该操作，直到得到 QUOTA_EXCEEDED，或发满 quota_probe_requests 次、用满 quota_probe_s 秒；
    3. 遇到错误代码 RATE_LIMITED 的 429 时检查其 Retry-After，按其秒数（不超过等待上限）等待后继续；
    4. 检查 QUOTA_EXCEEDED 的 429 应答。
    预期结果：步骤 2 中非 429 的应答不是 401、403 或 5xx；429 的错误代码只能是 RATE_LIMITED 或 QUOTA_EXCEEDED，其
    Retry-After 为契约范围内的整数秒并与错误信封的 retryAfter 一致；在上限内得到 QUOTA_EXCEEDED，其应答为 429 错误
    信封、不带业务数据，Retry-After 不小于 1 秒。
    """
    client, op, path = _limited(role_ops, tzsb_client, tzsb_target)
    max_requests = int(tzsb_target.thresholds.get("quota_probe_requests", 2000))
    deadline = time.monotonic() + float(tzsb_target.thresholds.get("quota_probe_s", 120))
    max_wait = plausibility.retry_wait_budget(tzsb_target.thresholds)
    sent = 0
    while sent < max_requests and time.monotonic() < deadline:
        r = client.request("GET", path)
        sent += 1
        if r.status != 429:
            assert r.status is not None and r.status < 500 and r.status not in (401, 403), (
                f"{op.operation_id}: 第 {sent} 次请求得到 {r.status} / unexpected status"
            )
            continue
        code = _code(r)
        if code == ErrorCode.QUOTA_EXCEEDED:
            what = f"{op.operation_id}（第 {sent} 次请求，配额用尽）"
            problems = check_error(r, 429, what, codes=(ErrorCode.QUOTA_EXCEEDED,))
            seconds, more = _retry_after(r, what)
            problems += more
            if seconds is not None and seconds < 1:
                problems.append(f"{what}: Retry-After 应给出到配额重置的秒数（≥1）/ Retry-After should reach the reset")
            assert not problems, "\n".join(problems)
            return
        assert code == ErrorCode.RATE_LIMITED, (
            f"{op.operation_id}: 429 的错误代码为 {code}，应为 RATE_LIMITED 或 QUOTA_EXCEEDED"
        )
        seconds, problems = _retry_after(r, f"{op.operation_id}（速率限制）")
        assert not problems, "\n".join(problems)
        time.sleep(min(float(seconds or 1), max_wait))  # a plausible wait (judged above), bounded by the budget
    pytest.fail(
        f"{op.operation_id}: 声明了 daily-quota，但 {sent} 次请求内未用尽配额（未得到 QUOTA_EXCEEDED）/ quota not reached"
    )

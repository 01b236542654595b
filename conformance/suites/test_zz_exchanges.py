"""每次运行最后执行：对本次运行记录的全部交换（证据）做契约层面的一致性与合理性检验，与角色无关。

* 状态码与信封一致（PROFILE.STATUS.1、PROFILE.ENVELOPE.1）：成功状态（2xx）的信封不得带错误代码
  （``schemas/json/error.schema.json`` 的 ``code`` 枚举），错误状态（4xx/5xx）的信封必须带错误代码，不得是成功信封。
* 目标给出的数值先判合理再被遵从（``conformance/check/plausibility.py``）：Retry-After 与 retryAfter（PROFILE.STATUS.5）、
  令牌的 expires_in（PROFILE.TOKEN.1）、分页的 page/size/total/items（PROFILE.PAGE.1）、推送回执的条数
  （PROFILE.PUSH.1）、已发生事件的时间不在未来（PROFILE.DATE.2，允许 ``[thresholds] clock_skew_seconds``，默认 300 秒）。

每项失败都列出违规的交换（方法、地址、状态、发起它的测试与可复现的 curl 命令）。本模块按文件名排在套件最后；
只检查测试工具发出的请求（不含被测系统向模拟器发出的调用），不含本模块自身。本次运行没有记录到某类应答时，
该项“无可检验项”，不影响条款判定。

Runs last: contract-level checks over every exchange the run recorded, whatever the role — the status agrees with the
envelope, and every value the target handed the harness (waits, token lifetimes, pages, receipt counts, event times) is
plausible. Each failure cites the offending exchanges.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from conformance.check import plausibility
from conformance.client import Evidence
from conformance.client.evidence import Exchange
from conformance.client.token import token_path
from conformance.harness.target import Target
from conformance.report.skips import vacuous

#: How many offending exchanges a failure message lists in full.
LISTED = 8


def _mine(e: Exchange) -> bool:
    return "test_zz_exchanges.py::" in (e.test or "")


@pytest.fixture
def answers(tzsb_evidence: Evidence, tzsb_target: Target) -> list[Exchange]:
    """The harness's own requests to the target that got an answer, in order: not the target's calls to the harness's
    simulators, subscribers and callbacks (those are the harness's answers), not this module's."""
    simulated = {u.rstrip("/") for u in tzsb_target.simulators.urls.values()} if tzsb_target.simulators else set()
    bases = tuple(u.rstrip("/") + "/" for u in tzsb_target.urls.values() if u.rstrip("/") not in simulated)
    return [
        e
        for e in list(tzsb_evidence.exchanges)
        if e.direction == "outbound" and e.status is not None and not _mine(e) and (e.url + "/").startswith(bases)
    ]


def _cite(e: Exchange) -> str:
    return f"{e.method} {e.url} → {e.status}（测试 / test {e.test or '-'}）\n    复现 / reproduce: {e.curl()}"


def _report(problems: list[tuple[Exchange, str]], lead: str) -> str:
    lines = [f"{lead}：{len(problems)} 处 / {len(problems)} found"]
    for e, problem in problems[:LISTED]:
        lines.append(f"- {problem}\n    {_cite(e)}")
    if len(problems) > LISTED:
        lines.append(f"…另有 {len(problems) - LISTED} 处 / {len(problems) - LISTED} more")
    return "\n".join(lines)


def _check(
    answers: list[Exchange],
    pick: Callable[[Exchange], bool],
    judge: Callable[[Exchange], list[str]],
    nothing: str,
    lead: str,
) -> None:
    seen = [e for e in answers if pick(e)]
    if not seen:
        vacuous(nothing)
    problems = [(e, p) for e in seen for p in judge(e)]
    assert not problems, _report(problems, lead)


def _facts(e: Exchange) -> dict[str, Any]:
    return e.facts or {}


def _answered_at(e: Exchange) -> dt.datetime:
    started = dt.datetime.fromisoformat(e.started_at) if e.started_at else dt.datetime.now(dt.UTC)
    return started + dt.timedelta(milliseconds=e.elapsed_ms)


def _header(e: Exchange, name: str) -> str | None:
    low = name.lower()
    return next((v for k, v in e.response_headers.items() if k.lower() == low), None)


# ------------------------------------------------------------------------------------------ status vs body


def _contradiction(e: Exchange) -> list[str]:
    found = plausibility.status_contradiction(e.status or 0, _facts(e).get("code"))
    return [f"{found[0]} / {found[1]}"] if found else []


@pytest.mark.clause("PROFILE.STATUS.1", "PROFILE.ENVELOPE.1")
def test_every_status_agrees_with_its_envelope(answers: list[Exchange]) -> None:
    """状态码与信封一致（PROFILE.STATUS.1、PROFILE.ENVELOPE.1）：本次运行的每个 JSON 应答，2xx 的信封 code 不是错误代码
    （不得以 200 应答不存在或出错的请求而只在信封中报错），4xx/5xx 的信封 code 是错误代码（不得以错误状态返回成功信封）。

    前置条件：本模块在本次运行最后执行；本次运行记录了本工具发往被测系统、带信封 code 的应答（不含被测系统对模拟器的调用与本模块自身的请求），没有时本项未测。
    测试步骤：
    1. 取本次运行记录的、本工具发往被测系统且得到应答的全部交换；
    2. 选出信封带字符串 code 的应答，逐个比对其 HTTP 状态码与 code（error.schema.json 的 code 枚举）。
    预期结果：没有 2xx 应答的 code 是错误代码，也没有 4xx/5xx 应答的 code 不是错误代码；失败时列出违规的交换与复现命令。

    Over every recorded answer: a 2xx never carries an error code, a 4xx/5xx never carries a success envelope.
    """
    _check(
        answers,
        lambda e: isinstance(_facts(e).get("code"), str) and (e.status or 0) >= 200,
        _contradiction,
        "本次运行没有记录到带信封的应答 / no enveloped answer recorded in this run",
        "状态码与信封矛盾 / the status contradicts the envelope",
    )


# ------------------------------------------------------------------------------------------ plausibility


def _retry(e: Exchange) -> list[str]:
    body = {"retryAfter": _facts(e)["retryAfter"]} if "retryAfter" in _facts(e) else None
    _, problems = plausibility.retry_after(
        _header(e, "Retry-After"), body, f"{e.status} 应答", required=e.status == 429
    )
    return problems


@pytest.mark.clause("PROFILE.STATUS.5")
def test_every_retry_after_is_plausible(answers: list[Exchange]) -> None:
    """重试等待时间合理（PROFILE.STATUS.5）：本次运行的每个 429（及带 Retry-After 的 503），Retry-After 为整数秒且在契约范围内
    （common.yaml RetryAfter），错误信封的 retryAfter 与之一致；不合理的等待时间不被遵从，判为不符合。

    前置条件：本模块在本次运行最后执行；本次运行记录了本工具发往被测系统、得到 429 或带 Retry-After（头或信封 retryAfter）的 503 应答，没有时本项未测。
    测试步骤：
    1. 取本次运行记录的、本工具发往被测系统且得到应答的全部交换；
    2. 选出 429 应答与带 Retry-After 的 503 应答，逐个检查 Retry-After 头与信封的 retryAfter。
    预期结果：每个 429 都有 Retry-After；Retry-After 为整数秒且在契约上下限之内；信封的 retryAfter（有时）为上下限内的整数且与 Retry-After 相等；失败时列出违规的交换。

    Every 429 (and 503 with Retry-After) asks for a wait in integer seconds within the contract's bounds, the envelope
    agreeing.
    """
    _check(
        answers,
        lambda e: (
            e.status == 429
            or (e.status == 503 and (_header(e, "Retry-After") is not None or "retryAfter" in _facts(e)))
        ),
        _retry,
        "本次运行没有记录到 429 或带 Retry-After 的 503 应答 / no 429 or 503 with Retry-After recorded",
        "不合理的重试等待时间 / implausible Retry-After",
    )


def _is_token(e: Exchange) -> bool:
    return e.method == "POST" and urlsplit(e.url).path.endswith(token_path()) and e.status == 200


@pytest.mark.clause("PROFILE.TOKEN.1")
def test_every_token_lifetime_is_plausible(answers: list[Exchange]) -> None:
    """令牌有效期合理（PROFILE.TOKEN.1）：本次运行签发的每个令牌，expires_in 为契约范围内的整数秒（security.schema.json token）。

    前置条件：本模块在本次运行最后执行；本次运行记录了被测系统令牌端点的 200 应答，没有时本项未测。
    测试步骤：
    1. 取本次运行记录的、本工具发往被测系统且得到应答的全部交换；
    2. 选出令牌端点（POST）的 200 应答，逐个检查其 expires_in。
    预期结果：每个令牌应答的 expires_in 是整数，且在契约规定的上下限之内；失败时列出违规的交换。

    Every token issued in the run has an expires_in within the contract's bounds.
    """
    _check(
        answers,
        _is_token,
        lambda e: plausibility.token_lifetime(_facts(e).get("expires_in"), "令牌应答 / token response"),
        "本次运行没有记录到令牌应答 / no token response recorded",
        "不合理的令牌有效期 / implausible token lifetime",
    )


def _page(e: Exchange) -> list[str]:
    return plausibility.page(
        _facts(e).get("page"),
        "分页应答 / page",
        asked_page=plausibility.asked(e.url, "page"),
        asked_size=plausibility.asked(e.url, "size"),
    )


@pytest.mark.clause("PROFILE.PAGE.1")
def test_every_page_is_plausible(answers: list[Exchange]) -> None:
    """分页应答合理（PROFILE.PAGE.1）：本次运行的每个分页应答，page 与 size 为所请求的，条数不多于每页条数，total 不为负、
    不小于到本页为止交付的记录数，末页之前的页是满页。

    前置条件：本模块在本次运行最后执行；本次运行记录了被测系统的 2xx 分页应答（含 page、size、total、items），没有时本项未测。
    测试步骤：
    1. 取本次运行记录的、本工具发往被测系统且得到应答的全部交换；
    2. 选出 2xx 分页应答，逐个对照请求地址中的 page、size 参数检查其 page、size、total 与 items 条数。
    预期结果：page、size、total 为整数且 items 为数组；total 不为负；page、size 与请求的一致；条数不多于每页条数；total 不小于到本页为止交付的条数；total 所示末页之前的页条数足额；失败时列出违规的交换。

    Every page answered in the run: the page and size asked for, no more items than the size, a total neither negative
    nor below the records delivered, full pages before the last.
    """
    _check(
        answers,
        lambda e: 200 <= (e.status or 0) < 300 and "page" in _facts(e),
        _page,
        "本次运行没有记录到分页应答 / no page recorded",
        "不合理的分页应答 / implausible pages",
    )


@pytest.mark.clause("PROFILE.PUSH.1")
def test_every_receipt_counts_its_results(answers: list[Exchange]) -> None:
    """推送回执条数一致（PROFILE.PUSH.1）：本次运行的每个推送回执，成功条数与失败条数等于逐条结果中相应状态的条数。

    前置条件：本模块在本次运行最后执行；本次运行记录了被测系统的 2xx 推送回执应答，没有时本项未测。
    测试步骤：
    1. 取本次运行记录的、本工具发往被测系统且得到应答的全部交换；
    2. 选出 2xx 的推送回执应答，逐个比对其各状态计数与逐条结果。
    预期结果：每个回执中每一状态的计数等于逐条结果中该状态的条数；失败时列出违规的交换。

    Every push receipt's counts equal its per-record results.
    """
    _check(
        answers,
        lambda e: 200 <= (e.status or 0) < 300 and "receipt" in _facts(e),
        lambda e: plausibility.receipt(_facts(e)["receipt"], "推送回执 / receipt"),
        "本次运行没有记录到推送回执 / no push receipt recorded",
        "回执条数与逐条结果矛盾 / receipt counts contradict",
    )


@pytest.mark.clause("PROFILE.DATE.2")
def test_no_event_time_lies_in_the_future(answers: list[Exchange], tzsb_target: Target) -> None:
    """已发生事件的时间不在未来（PROFILE.DATE.2）：本次运行的每个成功应答，表示已发生事件的时间（创建、更新、变更、接收、
    上报等时间与服务器时间）不晚于应答时刻（本工具的时钟，允许 [thresholds] clock_skew_seconds 的偏差，默认 300 秒）。

    前置条件：本模块在本次运行最后执行；本次运行记录了被测系统带事件时间的 2xx 应答，没有时本项未测；时钟偏差取目标文件 [thresholds] clock_skew_seconds（默认 300 秒）。
    测试步骤：
    1. 取本次运行记录的、本工具发往被测系统且得到应答的全部交换；
    2. 选出带事件时间的 2xx 应答，取每个应答中最晚的事件时间，与应答时刻（请求开始时刻加耗时）比较。
    预期结果：没有应答的最晚事件时间晚于应答时刻超过允许的时钟偏差；失败时列出违规的交换。

    No event time in any answer lies after the moment of the answer (beyond the declared clock skew).
    """
    skew = plausibility.clock_skew(tzsb_target.thresholds)
    _check(
        answers,
        lambda e: 200 <= (e.status or 0) < 300 and "latestEvent" in _facts(e),
        lambda e: plausibility.future_event(tuple(_facts(e)["latestEvent"]), _answered_at(e), skew, "应答 / answer"),
        "本次运行没有记录到带事件时间的应答 / no answer with event times recorded",
        "已发生事件的时间在未来 / event times in the future",
    )

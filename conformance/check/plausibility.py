"""Plausibility before obedience: values a target hands the harness are checked before the harness acts on them.

A target tells the harness how long to wait (``Retry-After``, the error envelope's ``retryAfter``), how long a token
lives (``expires_in``), how its pages are cut (``page``, ``size``, ``total``, ``items``) and when things happened (the
event times of its records and receipts, the health endpoint's server time). A broken target can hand out values the
harness would obey blindly — a week's Retry-After, a page longer than the size asked for, a total smaller than the
records it just delivered, a change stamped tomorrow. Each rule here returns the problems of one value (Chinese, then
English), empty when the value is plausible; a problem is 不符合 of the clause that governs the value (``CLAUSES``),
never a skip. Only a plausible value that exceeds the harness's own budget (a Retry-After within the contract's bound
but longer than ``[thresholds] max_retry_wait_s``) leaves its check 未测.

The limits are the contracts' (``schemas/openapi/common.yaml`` RetryAfter, ``security.schema.json`` token
``expires_in``, ``sharing.schema.json`` page) and the target file's ``[thresholds]`` (``max_retry_wait_s``,
``clock_skew_seconds``); nothing is re-declared here.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from conformance.contract import documents as contracts

#: The clause that governs each kind of value (``schemas/clauses/profile.yaml``).
CLAUSES = {
    "retry-after": "PROFILE.STATUS.5",
    "token-lifetime": "PROFILE.TOKEN.1",
    "page": "PROFILE.PAGE.1",
    "event-time": "PROFILE.DATE.2",
    "receipt": "PROFILE.PUSH.1",
}

#: Default allowance for the difference between the target's clock and ours (``[thresholds] clock_skew_seconds``).
DEFAULT_CLOCK_SKEW_S = 300.0
#: Default longest wait the harness spends obeying a Retry-After (``[thresholds] max_retry_wait_s``).
DEFAULT_RETRY_WAIT_S = 60.0

_DELAY_SECONDS = re.compile(r"\s*-?[0-9]+\s*")
#: GB/T 7408 (ISO 8601) extended date-time with a UTC offset (``Z`` / ``±hh:mm``).
DATETIME_WITH_OFFSET = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2})$"
)


# ------------------------------------------------------------------------------------------ limits from the contracts


@functools.cache
def retry_after_bounds() -> tuple[int, int]:
    """(minimum, maximum) seconds of ``Retry-After`` (common.yaml ``components/headers/RetryAfter``)."""
    schema = contracts.openapi("common")["components"]["headers"]["RetryAfter"]["schema"]
    return int(schema.get("minimum", 0)), int(schema["maximum"])


@functools.cache
def token_lifetime_bounds() -> tuple[int, int]:
    """(minimum, maximum) seconds of a token's ``expires_in`` (security.schema.json ``$defs/token``)."""
    prop = contracts.json_schema("security")["$defs"]["token"]["properties"]["expires_in"]
    return int(prop.get("minimum", 1)), int(prop["maximum"])


@functools.cache
def page_fields() -> tuple[str, ...]:
    """The members every page object has (sharing.schema.json ``$defs/page``: page, size, total, items)."""
    return tuple(contracts.json_schema("sharing")["$defs"]["page"]["required"])


#: Words in a date-time's title (``schemas/json``) that make it a deadline or a planned end, not an event that happened.
_NOT_AN_EVENT = ("失效", "截止", "到期", "有效", "结束", "计划", "预计")


@functools.cache
def event_time_keys() -> frozenset[str]:
    """Property names the record schemas use only for the time something happened: a GB/T 7408 date-time whose
    title is a 时间 (创建时间, 变更时间, 接收时间, 上报时间, 服务器时间 …) and names no deadline or planned end
    (地址失效时间, 授权截止, 结束时间 are left out). A name used anywhere for a deadline is left out everywhere."""
    good: set[str] = set()
    bad: set[str] = set()

    def is_datetime(node: dict[str, Any]) -> bool:
        ref = str(node.get("$ref", ""))
        return node.get("format") == "date-time" or ref.endswith("/dateTime")

    for name, sub in contracts.schema_properties():
        if is_datetime(sub):
            title = str(sub.get("title", ""))
            event = title.endswith("时间") and not any(w in title for w in _NOT_AN_EVENT)
            (good if event else bad).add(name)
    return frozenset(good - bad)


@functools.cache
def error_codes() -> frozenset[str]:
    """The error envelope's codes (error.schema.json ``code`` enum): what a success never carries and an error does."""
    return frozenset(contracts.json_schema("error")["properties"]["code"]["enum"])


# ------------------------------------------------------------------------------------------ thresholds


def clock_skew(thresholds: Mapping[str, Any]) -> float:
    return float(thresholds.get("clock_skew_seconds", DEFAULT_CLOCK_SKEW_S))


def retry_wait_budget(thresholds: Mapping[str, Any]) -> float:
    return float(thresholds.get("max_retry_wait_s", DEFAULT_RETRY_WAIT_S))


# ------------------------------------------------------------------------------------------ rules


def retry_after(header: str | None, body: Any, what: str, *, required: bool = True) -> tuple[int | None, list[str]]:
    """The seconds a ``Retry-After`` asks for, and its problems (PROFILE.STATUS.5): absent (when ``required``), not
    integer delay-seconds, outside the contract's bounds (a wait no rate limit or quota can need), or contradicted by
    the error envelope's ``retryAfter``. The seconds are None when the value must not be obeyed."""
    low, high = retry_after_bounds()
    problems: list[str] = []
    seconds: int | None = None
    if header is None:
        if required:
            problems.append(f"{what}: 缺少 Retry-After / no Retry-After")
    elif not _DELAY_SECONDS.fullmatch(header):
        problems.append(f"{what}: Retry-After {header!r} 不是整数秒 / Retry-After is not integer seconds")
    else:
        value = int(header)
        if value < low or value > high:
            problems.append(
                f"{what}: Retry-After {value} 秒不合理（契约上限 {low}–{high} 秒）/ implausible Retry-After "
                f"{value} s (the contract allows {low}–{high} s)"
            )
        else:
            seconds = value
    if isinstance(body, dict) and "retryAfter" in body:
        declared = body["retryAfter"]
        if not isinstance(declared, int) or isinstance(declared, bool) or not low <= declared <= high:
            problems.append(
                f"{what}: 错误信封的 retryAfter {declared!r} 不合理 / implausible retryAfter in the envelope"
            )
        elif header is not None and _DELAY_SECONDS.fullmatch(header) and int(header) != declared:
            problems.append(
                f"{what}: 错误信封的 retryAfter {declared} 与 Retry-After {header.strip()} 不一致 / "
                "retryAfter contradicts Retry-After"
            )
    return (None if problems else seconds), problems


def status_contradiction(status: int, code: Any) -> tuple[str, str] | None:
    """(Chinese, English) when an HTTP status contradicts the envelope's ``code`` (PROFILE.STATUS.1, ENVELOPE.1): a
    2xx with an error code, a 4xx/5xx with a code that is none of the error codes (a success envelope)."""
    if not isinstance(code, str):
        return None
    if 200 <= status < 300 and code in error_codes():
        return (
            f"成功状态 {status} 的信封带错误代码 {code}：出错时不得返回 2xx 而只在信封中报错",
            f"success status {status} with the error code {code} in the envelope",
        )
    if status >= 400 and code not in error_codes():
        return (
            f"错误状态 {status} 的信封带非错误代码 {code}（成功信封）",
            f"error status {status} with the non-error code {code} (a success envelope)",
        )
    return None


def token_lifetime(value: Any, what: str) -> list[str]:
    """Problems of a token's ``expires_in`` (PROFILE.TOKEN.1): an integer within the contract's bounds."""
    low, high = token_lifetime_bounds()
    if not isinstance(value, int) or isinstance(value, bool):
        return [f"{what}: expires_in {value!r} 不是整数秒 / expires_in is not integer seconds"]
    if not low <= value <= high:
        return [
            f"{what}: expires_in {value} 秒不合理（契约为 {low}–{high} 秒）/ implausible expires_in {value} s "
            f"(the contract allows {low}–{high} s)"
        ]
    return []


def is_page(data: Any) -> bool:
    return isinstance(data, dict) and all(k in data for k in page_fields())


def asked(url: str, name: str) -> int | None:
    """An integer query parameter of a request URL (e.g. the ``size`` asked for), or None."""
    values = parse_qs(urlsplit(url).query).get(name)
    try:
        return int(values[-1]) if values else None
    except ValueError:
        return None


def page_summary(data: Any) -> dict[str, Any] | None:
    """page, size, total and the number of items of a page object (None when ``data`` is not one)."""
    if not is_page(data):
        return None
    items = data["items"]
    return {
        "page": data["page"],
        "size": data["size"],
        "total": data["total"],
        "items": len(items) if isinstance(items, list) else None,
    }


def page(
    summary: dict[str, Any] | None, what: str, *, asked_page: int | None = None, asked_size: int | None = None
) -> list[str]:
    """Problems of one page (:func:`page_summary`) in itself and against what was asked (PROFILE.PAGE.1): a negative
    total; page or size not the ones asked for; more items than the size; a total smaller than the records delivered
    up to this page; an empty or short page before the end the total announces."""
    if summary is None:
        return []
    count, total, number, size = summary["items"], summary["total"], summary["page"], summary["size"]
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (count, total, number, size))
    if not ints:
        return [f"{what}: 分页结果的 page/size/total 不是整数或 items 不是数组 / page members of the wrong type"]
    problems: list[str] = []
    if total < 0:
        problems.append(f"{what}: total 为负数 {total} / negative total")
    if asked_page is not None and number != asked_page:
        problems.append(
            f"{what}: 请求第 {asked_page} 页，应答为第 {number} 页 / asked page {asked_page}, answered {number}"
        )
    if asked_size is not None and size != asked_size:
        problems.append(
            f"{what}: 请求每页 {asked_size} 条，应答 size 为 {size} / asked size {asked_size}, answered {size}"
        )
    limit = min(v for v in (size, asked_size) if v is not None)
    if count > limit:
        problems.append(f"{what}: 本页 {count} 条，多于每页条数 {limit} / {count} items on a page of {limit}")
    if size >= 1 and number >= 1 and total >= 0:
        before = (number - 1) * size
        if count and before + count > total:
            problems.append(
                f"{what}: total 为 {total}，但到本页已交付 {before + count} 条 / total {total} is below the "
                f"{before + count} records delivered up to this page"
            )
        expected = max(0, min(size, total - before))
        if count < expected:
            problems.append(
                f"{what}: total 为 {total}、每页 {size} 条时第 {number} 页应有 {expected} 条，实为 {count} 条 / "
                f"page {number} should hold {expected} of {total} records, it holds {count}"
            )
    return problems


@functools.cache
def _receipt_schema() -> tuple[frozenset[str], str, tuple[str, ...]]:
    """(required members, the per-record results member, the result statuses that have a count member) of the push
    receipt (sharing.schema.json ``$defs/pushReceipt``)."""
    schema = contracts.json_schema("sharing")["$defs"]["pushReceipt"]
    props = schema["properties"]
    results = next(k for k, v in props.items() if v.get("type") == "array")
    statuses = props[results]["items"]["properties"]["status"]["enum"]
    return frozenset(schema["required"]), results, tuple(s for s in statuses if s in props)


def receipt_summary(data: Any) -> dict[str, Any] | None:
    """The counts a push receipt declares and the ones its per-record results show (None when not a receipt)."""
    required, results, statuses = _receipt_schema()
    if not isinstance(data, dict) or not required <= set(data) or not isinstance(data[results], list):
        return None
    shown = {s: sum(1 for r in data[results] if isinstance(r, dict) and r.get("status") == s) for s in statuses}
    return {"declared": {s: data.get(s) for s in statuses}, "shown": shown}


def receipt(summary: dict[str, Any] | None, what: str) -> list[str]:
    """Problems of a push receipt's counts (PROFILE.PUSH.1): each count equals the per-record results of that status."""
    if summary is None:
        return []
    wrong = [
        f"{s} {summary['declared'][s]!r}（逐条结果 {n}）"
        for s, n in summary["shown"].items()
        if summary["declared"][s] != n
    ]
    if not wrong:
        return []
    return [f"{what}: 回执的条数与逐条结果矛盾：{'、'.join(wrong)} / the receipt's counts contradict its results"]


def walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """``(JSON Pointer, key, value)`` for every member and item of a JSON document (an item's key is "")."""
    if isinstance(node, dict):
        for k, v in node.items():
            here = f"{path}/{str(k).replace('~', '~0').replace('/', '~1')}"
            yield here, str(k), v
            yield from walk(v, here)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            here = f"{path}/{i}"
            yield here, "", v
            yield from walk(v, here)


def instant(value: str) -> dt.datetime | None:
    if not DATETIME_WITH_OFFSET.match(value):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def latest_event(body: Any) -> tuple[str, str] | None:
    """(JSON Pointer, value) of the latest event time (:func:`event_time_keys`) in a response body."""
    keys = event_time_keys()
    best: tuple[dt.datetime, str, str] | None = None
    for path, key, value in walk(body):
        if key in keys and isinstance(value, str):
            when = instant(value)
            if when is not None and (best is None or when > best[0]):
                best = (when, path, value)
    return (best[1], best[2]) if best else None


def future_event(latest: tuple[str, str] | None, answered_at: dt.datetime, skew: float, what: str) -> list[str]:
    """Problems when the latest event time of a response lies after the moment it was answered (our clock) by more
    than ``skew`` seconds (PROFILE.DATE.2)."""
    when = instant(latest[1]) if latest else None
    if latest is None or when is None or when <= answered_at + dt.timedelta(seconds=skew):
        return []
    ahead = (when - answered_at).total_seconds()
    return [
        f"{what}: {latest[0]} = {latest[1]}，晚于应答时刻 {answered_at.isoformat(timespec='seconds')} {ahead:.0f} 秒"
        f"（允许偏差 {skew:g} 秒）/ an event time {ahead:.0f} s in the future"
    ]


def facts(body: Any) -> dict[str, Any] | None:
    """What the plausibility rules need of a JSON response body, taken from the whole body before the evidence caps
    and masks it: the envelope's ``code`` and ``retryAfter``, a token's ``expires_in``, the page and push-receipt
    counts and the latest event time. No personal data (codes, counts and one date-time)."""
    if not isinstance(body, dict):
        return None
    out: dict[str, Any] = {}
    for key in ("code", "retryAfter", "expires_in"):
        if key in body and (body[key] is None or isinstance(body[key], str | int | float | bool)):
            out[key] = body[key]
    data = body.get("data")
    for name, summary in (("page", page_summary(data)), ("receipt", receipt_summary(data))):
        if summary is not None:
            out[name] = summary
    latest = latest_event(body)
    if latest is not None:
        out["latestEvent"] = list(latest)
    return out

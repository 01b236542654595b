"""The plausibility rules (conformance/check/plausibility.py): values a target hands the harness are judged against the
contracts' limits before the harness obeys them; the exchange facts the evidence keeps for them."""

from __future__ import annotations

import datetime as dt

from conformance.check import plausibility as p
from conformance.client.evidence import json_facts


def test_limits_come_from_the_contracts() -> None:
    assert p.retry_after_bounds() == (0, 86400)
    assert p.token_lifetime_bounds() == (1, 7200)  # SHARE.SEC.AUTH.2: at most 2 hours
    assert p.page_fields() == ("page", "size", "total", "items")
    keys = p.event_time_keys()
    assert {"updatedAt", "changedAt", "receivedAt", "reportedAt"} <= keys
    assert not {"expiresAt", "validTo", "endedAt"} & keys  # deadlines and planned ends are not events


def test_retry_after() -> None:
    assert p.retry_after("30", {"retryAfter": 30}, "w") == (30, [])
    assert p.retry_after("3600", {"retryAfter": 3600}, "w")[0] == 3600  # plausible, even if beyond a wait budget
    for header, body in (("604800", {"retryAfter": 604800}), ("-1", None), ("soon", None), ("5", {"retryAfter": 50})):
        seconds, problems = p.retry_after(header, body, "w")
        assert seconds is None and problems, header
    assert p.retry_after(None, None, "w", required=False) == (None, [])
    assert p.retry_after(None, None, "w")[1]


def test_token_lifetime() -> None:
    assert p.token_lifetime(7200, "t") == []
    assert p.token_lifetime(7_200_000, "t") and p.token_lifetime(0, "t") and p.token_lifetime("7200", "t")


def test_pages() -> None:
    def problems(page: int, size: int, total: int, items: int, **asked: int) -> list[str]:
        return p.page({"page": page, "size": size, "total": total, "items": items}, "q", **asked)

    assert problems(1, 10, 25, 10, asked_page=1, asked_size=10) == []
    assert problems(3, 10, 25, 5) == [] and problems(4, 10, 25, 0) == []
    assert problems(1, 20, 25, 20, asked_size=5)  # size asked ignored
    assert problems(1, 10, 25, 12)  # more items than the size
    assert problems(2, 10, 12, 10)  # total below the records delivered
    assert problems(1, 10, -1, 0)  # negative total
    assert problems(1, 10, 25, 9)  # a short page before the end
    assert problems(2, 10, 25, 10, asked_page=3)  # another page than asked


def test_receipt_counts() -> None:
    receipt = {
        "messageId": "m-00000001",
        "receivedAt": "2025-01-01T00:00:00+08:00",
        "duplicate": False,
        "accepted": 2,
        "rejected": 0,
        "results": [{"index": 0, "key": "a", "status": "accepted"}, {"index": 1, "key": "b", "status": "rejected"}],
    }
    assert p.receipt(p.receipt_summary(receipt), "r")
    assert p.receipt(p.receipt_summary({**receipt, "accepted": 1, "rejected": 1}), "r") == []


def test_status_contradictions() -> None:
    assert p.status_contradiction(200, "NOT_FOUND") and p.status_contradiction(404, "OK")
    assert p.status_contradiction(200, "OK") is None and p.status_contradiction(404, "NOT_FOUND") is None


def test_future_events_and_the_facts_kept() -> None:
    now = dt.datetime.now(dt.UTC)
    ahead = (now + dt.timedelta(hours=8)).isoformat(timespec="seconds")
    facts = json_facts(
        b'{"code":"OK","data":{"page":1,"size":2,"total":2,"items":[{"updatedAt":"%s"},{}]}}' % ahead.encode()
    )
    assert facts is not None and facts["code"] == "OK" and facts["page"]["items"] == 2
    assert p.future_event(tuple(facts["latestEvent"]), now, 300, "a")
    assert p.future_event(tuple(facts["latestEvent"]), now + dt.timedelta(hours=8), 300, "a") == []
    assert json_facts(b"<xml/>") is None and json_facts(b"{broken") is None

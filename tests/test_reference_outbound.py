"""The reference server calls loopback hosts only, unless told otherwise (conformance/reference/outbound.py)."""

from __future__ import annotations

import pytest

from conformance.reference import outbound


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8700/x", "https://127.8.9.10/cb", "http://localhost:1/", "http://[::1]:9/"]
)
def test_loopback_is_allowed(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(outbound.ENV, raising=False)
    assert outbound.allowed(url)


@pytest.mark.parametrize(
    "url", ["https://0.com", "http://10.0.0.1/", "https://gov.example.cn/api", "http://[2001:db8::1]/"]
)
def test_other_hosts_are_refused_unless_allowed(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(outbound.ENV, raising=False)
    assert not outbound.allowed(url)
    monkeypatch.setenv(outbound.ENV, "any")
    assert outbound.allowed(url)


def test_a_host_list_widens_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(outbound.ENV, "gov.example.cn, other.example")
    assert outbound.allowed("https://gov.example.cn/api") and not outbound.allowed("https://0.com/")


def test_a_refused_delivery_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.reference.roles.sharing import push as sharing_push

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("network used")

    monkeypatch.delenv(outbound.ENV, raising=False)
    monkeypatch.setattr(sharing_push.requests, "post", boom)
    status, error, _ = sharing_push._post("https://0.com/cb", b"{}", "m-1")
    assert status is None and error and "not allowed" in error

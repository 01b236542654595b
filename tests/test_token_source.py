"""The one token source (conformance/client/token.py): the path from the contract, the form, the answer read."""

from __future__ import annotations

import orjson

from conformance.client.token import UNTRUSTED_TOKEN_LIFETIME, read_token, token_form, token_path
from conformance.contract import documents as contracts


def test_the_token_path_is_the_contracts_token_url() -> None:
    flows = contracts.openapi("common")["components"]["securitySchemes"]["clientCredentials"]["flows"]
    assert token_path() == flows["clientCredentials"]["tokenUrl"]


def test_the_form_carries_the_grant_the_client_and_an_optional_scope() -> None:
    assert token_form("a", None) == {"grant_type": "client_credentials", "client_id": "a", "client_secret": ""}
    assert token_form("a", "s", "x:read y:read")["scope"] == "x:read y:read"


def test_an_answer_without_a_token_gives_none() -> None:
    assert read_token(200, b'{"token_type": "Bearer"}') is None
    assert read_token(401, b'{"access_token": "t"}') is None
    assert read_token(None, None) is None
    assert read_token(200, b"not json") is None
    assert read_token(200, b"[" * 100 + b"]" * 100) is None  # deeper than the harness parses


def test_a_token_with_a_plausible_lifetime_is_kept_that_long_and_scopes_are_read() -> None:
    t = read_token(200, orjson.dumps({"access_token": "t", "expires_in": 600, "scope": "a b"}))
    assert t is not None and t.value == "t" and t.lifetime == 600 and t.scopes == ("a", "b") and t.fresh()


def test_an_implausible_lifetime_is_not_obeyed() -> None:
    t = read_token(200, orjson.dumps({"access_token": "t", "expires_in": 10**9}))
    assert t is not None and t.lifetime == UNTRUSTED_TOKEN_LIFETIME and t.scopes is None

"""Nothing the harness was trusted with leaves a run: every credential it was given or issued is masked wherever
it appears in the files of the run folder (a URL's query, a header the target echoed, an assertion message), by
the one writer of those files."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.client.evidence import Exchange, mask_headers, mask_text, redact, redact_value, remember_secret
from conformance.report.output import scrub_tree, write_json, write_text
from conformance.selfcheck.target_file import write_target
from tests import miniature
from tests.refserver import running
from tests.secrets_scan import find_secrets

HANG_S = 600.0


def test_a_token_sent_in_a_header_is_masked_wherever_it_appears_later() -> None:
    token = "tok-3f9a1c0d5e7b2a4c6e8f"
    mask_headers({"Authorization": f"Bearer {token}"})  # the harness sent it: remembered
    url = f"https://t.example/api?x=1&token={token}"  # a parameter name the field rule does not know
    assert token not in redact(url)
    assert token not in redact(f"AssertionError: got 200 for {url}")


def test_an_issued_token_is_remembered_from_the_token_answer() -> None:
    token = "issued-Zq8wX1v2Yb3Nc4Md5"
    assert token not in mask_text(json.dumps({"access_token": token, "expires_in": 7200}))
    assert token not in redact(f"Location: https://t.example/cb#{token}")


def test_a_client_secret_echoed_in_a_location_header_and_url_encoded_forms() -> None:
    secret = "s3cret with spaces/and+plus"
    remember_secret(secret)
    echoed = "https://t.example/denied?client_secret_echo=s3cret%20with%20spaces%2Fand%2Bplus"
    assert "s3cret" not in redact(echoed)
    assert "s3cret" not in redact("body: client_id=x&client_secret=s3cret+with+spaces%2Fand%2Bplus")


def test_short_and_common_values_are_never_remembered() -> None:
    remember_secret("false")
    remember_secret("***")
    mask_text('{"secret": false, "password": "***"}')
    assert redact("false positives are false") == "false positives are false"


def test_every_string_of_a_value_is_masked_keys_included() -> None:
    remember_secret("key-0123456789abcdef")
    value = {"key-0123456789abcdef": ["x key-0123456789abcdef y", 3, None, {"n": "key-0123456789abcdef"}]}
    assert "key-0123456789abcdef" not in json.dumps(redact_value(value))


def test_the_writer_masks_and_scrub_tree_cleans_files_of_other_plugins(tmp_path: Path) -> None:
    remember_secret("plugin-leak-0123456789")
    write_json(tmp_path / "a.json", {"url": "https://t?access_token=abcdefghijklmnop&q=plugin-leak-0123456789"})
    write_text(tmp_path / "b.html", "<p>plugin-leak-0123456789</p>")
    (tmp_path / "allure-results").mkdir()
    (tmp_path / "allure-results" / "x-result.json").write_text('{"m": "plugin-leak-0123456789"}', encoding="utf-8")
    changed = scrub_tree(tmp_path)
    assert [p.name for p in changed] == ["x-result.json"]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "plugin-leak" not in text and "abcdefghijklmnop" not in text, path
    assert not list(tmp_path.glob(".*.tmp")), "a temporary file was left"


def test_a_run_with_tokens_in_urls_leaves_no_credential_in_its_files(tmp_path: Path) -> None:
    """The transport suite puts a live token and the client secret in URL queries (and the target may echo them):
    before the one writer masked every remembered credential, the token was in evidence.json twice."""
    with running(tmp_path, "sharing", seed=5, tls=True) as srv:
        target = write_target(tmp_path / "t.toml", {"sharing": srv.url("sharing")}, "sharing", ca_file=srv.ca_file)
        code = miniature.run_quick(
            HANG_S, target, tmp_path / "r", role="sharing", suites=["test_sharing_transport", "test_security_auth"]
        )
    assert code in (0, 1)
    evidence = json.loads((tmp_path / "r" / "evidence.json").read_text(encoding="utf-8"))
    assert any("access_token=" in x["url"] for x in evidence), "the token-in-URL check did not run"
    assert find_secrets(tmp_path / "r") == []


def test_an_exchange_marked_probe_is_kept_apart() -> None:
    ex = Exchange("GET", "http://127.0.0.1:9/", {}, None, probe=True)
    assert ex.as_dict()["probe"] is True


def test_personal_numbers_are_masked_only_where_they_stand_alone() -> None:
    """A mobile or citizen ID number alone is masked; the same digits inside a digest, a USCC or a token are part of
    that value (a contract's SHA-256 ec623ccd13831723134… once lost four digits to the mobile rule)."""
    assert mask_text("联系电话 13831723134。") == "联系电话 138****3134。"
    assert mask_text("身份证 420102199001011234") == "身份证 420102********1234"
    digest = "ec623ccd13831723134ffab52a6a0408fc79690456fc9fc92eee7f1da366b1d8"
    assert mask_text(digest) == digest
    assert mask_text("a420102199001011234b") == "a420102199001011234b"

"""Signed, verifiable evidence: the SM2/SM3 signature over ``manifest.json`` and ``tzsb-conform verify``."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.report.signing import KEY_ENV, Signer, fingerprint, user_signer, verify_signature
from conformance.report.verify import verify_bundle
from conformance.report.writer import write_manifest

#: DER prefix of an SM2 SubjectPublicKeyInfo (id-ecPublicKey, curve sm2p256v1), before the 64 bytes of x ‖ y.
_SPKI_SM2 = "3059301306072a8648ce3d020106082a811ccf5501822d03420004"


def _der_signature(sig: str) -> bytes:
    def integer(v: int) -> bytes:
        b = v.to_bytes(v.bit_length() // 8 + 1, "big")
        return b"\x02" + bytes([len(b)]) + b

    body = integer(int(sig[:64], 16)) + integer(int(sig[64:], 16))
    return b"\x30" + bytes([len(body)]) + body


def test_signatures_verify_here_and_with_openssl(tmp_path: Path) -> None:
    """GM/T 0003.2 as OpenSSL implements it: OpenSSL verifies our signature with the GM/T 0009 default ID, and
    refuses it over other bytes; ours refuses a changed message and another key."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed (README: system packages)")
    signer, other = Signer.generate(), Signer.generate()
    msg = "清单 manifest".encode()
    sig = signer.sign(msg)
    assert verify_signature(signer.public_hex, sig, msg)
    assert not verify_signature(signer.public_hex, sig, msg + b" ")
    assert not verify_signature(other.public_hex, sig, msg)
    pem = base64.encodebytes(bytes.fromhex(_SPKI_SM2 + signer.public_hex)).decode()
    (tmp_path / "pub.pem").write_text(f"-----BEGIN PUBLIC KEY-----\n{pem}-----END PUBLIC KEY-----\n")
    (tmp_path / "sig").write_bytes(_der_signature(sig))
    results = []
    for body in (msg, msg + b" "):
        (tmp_path / "msg").write_bytes(body)
        cmd = [openssl, "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin"]
        cmd += ["-digest", "sm3", "-in", str(tmp_path / "msg"), "-sigfile", str(tmp_path / "sig")]
        cmd += ["-pkeyopt", "distid:1234567812345678"]
        results.append(subprocess.run(cmd, capture_output=True, check=False).returncode)
    assert results[0] == 0 and results[1] != 0, results


def _bundle(folder: Path) -> Path:
    (folder / "allure-results").mkdir(parents=True)
    (folder / "report.json").write_text(json.dumps({"run": {"role": "sharing"}, "summary": {}}), encoding="utf-8")
    (folder / "evidence.json").write_text(json.dumps([{"request": "GET /health"}]), encoding="utf-8")
    (folder / "report.html").write_text("<html>报告</html>", encoding="utf-8")
    (folder / "allure-results" / "a.json").write_text('{"status": "passed"}', encoding="utf-8")
    write_manifest(folder, {"run": {"role": "sharing"}})
    return folder


def _flip(path: Path, at: int = 5) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", ["evidence.json", "report.json", "allure-results/a.json"])
def test_one_changed_byte_is_named(tmp_path: Path, name: str) -> None:
    folder = _bundle(tmp_path / "run")
    assert verify_bundle(folder).ok
    _flip(folder / name)
    result = verify_bundle(folder)
    assert not result.ok and result.changed == [name] and result.signature == "valid"
    assert main(["verify", str(folder)]) == 1


def test_a_changed_manifest_breaks_the_signature(tmp_path: Path) -> None:
    folder = _bundle(tmp_path / "run")
    manifest = folder / "manifest.json"
    _flip(manifest, at=manifest.read_bytes().index(b"sha256") + 20)  # one digest digit: still valid JSON
    result = verify_bundle(folder)
    assert result.signature == "invalid" and "manifest.json" in result.changed and not result.ok


def test_added_and_missing_files_are_named(tmp_path: Path) -> None:
    folder = _bundle(tmp_path / "run")
    (folder / "extra.txt").write_text("x", encoding="utf-8")
    (folder / "report.html").unlink()
    result = verify_bundle(folder)
    assert result.added == ["extra.txt"] and result.missing == ["report.html"] and not result.ok
    assert main(["verify", str(folder), "--lang", "en"]) == 1


def test_a_bundle_resigned_by_someone_else_fails_against_the_signers_fingerprint(tmp_path: Path) -> None:
    """Whoever edits a file can rewrite the manifest and sign it with a key of their own: the signature is then
    valid, so the verifier must hold the signer's fingerprint (printed in the report), which no longer matches."""
    folder = _bundle(tmp_path / "run")
    genuine = user_signer().fingerprint
    assert main(["verify", str(folder), "--fingerprint", genuine]) == 0
    forger = tmp_path / "forger.key"
    forger.write_text(Signer.generate().private_hex, encoding="ascii")
    (folder / "evidence.json").write_text("[]", encoding="utf-8")
    old = os.environ[KEY_ENV]
    try:
        os.environ[KEY_ENV] = str(forger)
        write_manifest(folder, {"run": {"role": "sharing"}})
    finally:
        os.environ[KEY_ENV] = old
    assert verify_bundle(folder).ok  # internally consistent …
    result = verify_bundle(folder, genuine)
    assert result.signature == "not-the-signer" and not result.ok  # … but not the signer's
    assert main(["verify", str(folder), "--fingerprint", genuine]) == 1


def test_unsigned_and_unreadable(tmp_path: Path) -> None:
    folder = _bundle(tmp_path / "run")
    (folder / "manifest.sig").unlink()
    assert verify_bundle(folder).signature == "missing"
    assert main(["verify", str(folder)]) == 1
    assert main(["verify", str(tmp_path / "nowhere")]) == 2


def test_the_private_key_stays_out_of_the_bundle(tmp_path: Path) -> None:
    folder = _bundle(tmp_path / "run")
    secret = Path(os.environ[KEY_ENV]).read_text(encoding="ascii").strip()
    sig = json.loads((folder / "manifest.sig").read_text(encoding="utf-8"))
    assert sig["fingerprint"] == fingerprint(sig["publicKey"]) == user_signer().fingerprint
    for path in folder.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(encoding="utf-8", errors="replace"), path


def test_a_supplied_key_must_be_usable(tmp_path: Path) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text("not a key", encoding="ascii")
    assert main(["run", "--target", "http://127.0.0.1:9", "--signing-key", str(bad)]) == 2
    assert main(["run", "--target", "http://127.0.0.1:9", "--signing-key", str(tmp_path / "none.key")]) == 2


def test_the_default_key_is_generated_once_with_owner_only_access(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    first = user_signer()
    path = tmp_path / "cfg" / "tzsb-conformance" / "sm2-signing.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert user_signer() == first

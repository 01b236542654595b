"""The run's evidence signed and verified: an SM2 signature with SM3 (GM/T 0003.2, user ID per GM/T 0009) over
``manifest.json``, which holds the SHA-256 and SM3 of every other file of the run folder.

* **The key is the user's.** ``TZSB_SIGNING_KEY`` (or ``--signing-key``) names a file holding the 64-hex-digit SM2
  private key; without it the key of ``$XDG_CONFIG_HOME/tzsb-conformance/sm2-signing.key`` is used, generated (mode
  0600) on first use. The private key is never written into a run folder; the public key and its fingerprint are
  (``manifest.sig`` and ``report.json`` ``run.signer``).
* **The fingerprint** is the SM3 of the uncompressed public point (``04 ‖ x ‖ y``), shown in groups of four; a verifier
  who knows the signer's fingerprint passes it to ``tzsb-conform verify --fingerprint`` — without it anyone could
  rewrite the manifest and sign it with a key of their own.
* **The library** is ``gmssl`` (already the project's SM3 fallback): pure Python, no native build, SM2 sign and
  verify with the Z value of GM/T 0003.2. Its own nonce comes from :mod:`random`, so every signature here is made with
  a nonce from :mod:`secrets`. Signatures are ``r ‖ s`` (64 bytes, hex); they verify with OpenSSL's SM2 (tested).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gmssl import sm2

from conformance.crypto import sm3_hex

#: The signature file beside ``manifest.json``.
SIGNATURE_FILE = "manifest.sig"
MANIFEST_FILE = "manifest.json"
#: Files of the run folder the manifest does not list (the manifest itself and its signature).
UNLISTED = frozenset({MANIFEST_FILE, SIGNATURE_FILE})
ALGORITHM = "SM2-with-SM3"
#: GM/T 0009's default signer identity (``1234567812345678``), the one gmssl's Z value uses.
USER_ID = "1234567812345678"
KEY_ENV = "TZSB_SIGNING_KEY"
_N = int(sm2.default_ecc_table["n"], 16)


class SigningKeyError(ValueError):
    """A signing key file that cannot be used (bilingual message)."""


@dataclass(frozen=True)
class Signer:
    """One SM2 key pair: the private scalar stays in memory, only the public part is ever written."""

    private_hex: str
    public_hex: str  # x ‖ y, 128 hex digits

    @classmethod
    def from_private(cls, private_hex: str) -> Signer:
        d = private_hex.strip().lower()
        if len(d) != 64 or any(c not in "0123456789abcdef" for c in d) or not 0 < int(d, 16) < _N:
            raise SigningKeyError(
                "签名私钥须为 64 位十六进制的 SM2 私钥 / the key must be a 64-hex-digit SM2 private key"
            )
        crypt = sm2.CryptSM2(private_key=d, public_key="")
        return cls(d, crypt._kg(int(d, 16), sm2.default_ecc_table["g"]))

    @classmethod
    def generate(cls) -> Signer:
        return cls.from_private(f"{secrets.randbelow(_N - 1) + 1:064x}")

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_hex)

    def sign(self, data: bytes) -> str:
        crypt = sm2.CryptSM2(private_key=self.private_hex, public_key=self.public_hex)
        return crypt.sign_with_sm3(data, f"{secrets.randbelow(_N - 1) + 1:064x}")

    def info(self) -> dict[str, str]:
        """What ``report.json`` and ``manifest.sig`` say of the signer."""
        return {
            "algorithm": ALGORITHM,
            "userId": USER_ID,
            "publicKey": "04" + self.public_hex,
            "fingerprint": self.fingerprint,
        }


def fingerprint(public_hex: str) -> str:
    """SM3 of the uncompressed public point, in groups of four hex digits."""
    point = public_hex if len(public_hex) == 130 else "04" + public_hex
    digest = sm3_hex(bytes.fromhex(point))
    return ":".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def verify_signature(public_hex: str, signature_hex: str, data: bytes) -> bool:
    public = public_hex[2:] if len(public_hex) == 130 and public_hex.startswith("04") else public_hex
    if len(public) != 128 or len(signature_hex) != 128:
        return False
    try:
        return bool(sm2.CryptSM2(private_key="", public_key=public).verify_with_sm3(signature_hex, data))
    except (ValueError, ZeroDivisionError, TypeError):
        return False


def default_key_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tzsb-conformance" / "sm2-signing.key"


def key_path() -> Path:
    return Path(os.environ[KEY_ENV]) if os.environ.get(KEY_ENV) else default_key_path()


def user_signer() -> Signer:
    """The user's signer: the key file ``TZSB_SIGNING_KEY`` names (it must exist), else the default key, generated
    on first use."""
    path = key_path()
    if not path.exists():
        if os.environ.get(KEY_ENV):
            raise SigningKeyError(f"签名私钥文件不存在 / signing key file not found: {path}")
        signer = Signer.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process generated it first: use that one
            return _read_key(path)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(signer.private_hex + "\n")
        return signer
    return _read_key(path)


def _read_key(path: Path) -> Signer:
    try:
        return Signer.from_private(path.read_text(encoding="ascii"))
    except (UnicodeDecodeError, SigningKeyError) as exc:
        raise SigningKeyError(f"{path}: {exc}") from exc


def sign_manifest(out: Path, signer: Signer) -> dict[str, Any]:
    """Write ``manifest.sig`` over the bytes of ``out/manifest.json``."""
    data = (out / MANIFEST_FILE).read_bytes()
    doc = {
        "schema": "tzsb-manifest-signature/1",
        **signer.info(),
        "signed": MANIFEST_FILE,
        "signedSm3": sm3_hex(data),
        "signature": signer.sign(data),
    }
    (out / SIGNATURE_FILE).write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return doc


def use_key_file(path: Path) -> str | None:
    """Make ``path`` the signing key of this process and of the runs it starts; the problem (bilingual) when the file
    cannot serve."""
    path = path.expanduser().resolve()
    if not path.is_file():
        return f"签名私钥文件不存在 / signing key file not found: {path}"
    try:
        Signer.from_private(path.read_text(encoding="ascii"))
    except (UnicodeDecodeError, SigningKeyError) as exc:
        return f"{path}: {exc}"
    os.environ[KEY_ENV] = str(path)
    return None

"""``tzsb-conform verify RUN_DIR``: is a run folder exactly what its signer wrote?

The signature (``manifest.sig``) must verify over ``manifest.json`` under the public key it names — and, when the
verifier gives the signer's fingerprint, that key must be the signer's; then every file the manifest lists must have
its size, SHA-256 and SM3, and no other file may be in the folder. Every file that changed, is missing or was added is
named; the bundle passes only when there is none and the signature holds."""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.crypto import sm3_hex
from conformance.report.signing import MANIFEST_FILE, SIGNATURE_FILE, UNLISTED, fingerprint, verify_signature


def _normal(fp: str) -> str:
    return fp.replace(":", "").replace(" ", "").strip().lower()


@dataclass
class Verification:
    """What :func:`verify_bundle` found; ``ok`` only when nothing is wrong."""

    folder: Path
    #: valid | invalid | missing | unreadable | not-the-signer
    signature: str = "missing"
    fingerprint: str | None = None
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    listed: int = 0

    @property
    def ok(self) -> bool:
        return self.signature == "valid" and not (self.changed or self.missing or self.added)

    def lines(self, lang: str = "zh") -> list[str]:
        en = lang == "en"
        sig = {
            "valid": ("签名有效", "signature valid"),
            "invalid": (
                "签名无效：manifest.json 或 manifest.sig 已被改动",
                "signature INVALID: manifest.json or manifest.sig was changed",
            ),
            "missing": ("没有签名（manifest.sig 缺失）", "no signature (manifest.sig missing)"),
            "unreadable": ("签名文件无法读取", "signature file unreadable"),
            "not-the-signer": (
                "签名有效，但公钥不是给定指纹的签名者",
                "signature valid, but the key is not the signer's fingerprint",
            ),
        }[self.signature]
        out = [sig[1] if en else sig[0]]
        if self.fingerprint:
            out.append(f"{'signer fingerprint' if en else '签名者公钥指纹'}: {self.fingerprint}")
        for names, zh, en_word in (
            (self.changed, "已改动", "changed"),
            (self.missing, "缺失", "missing"),
            (self.added, "新增（清单中没有）", "added (not in the manifest)"),
        ):
            out.extend(f"{en_word if en else zh}: {n}" for n in names)
        if self.ok:
            out.append(f"{self.listed} files untouched" if en else f"{self.listed} 个文件均未改动")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "ok": self.ok,
            "signature": self.signature,
            "fingerprint": self.fingerprint,
            "changed": self.changed,
            "missing": self.missing,
            "added": self.added,
            "listed": self.listed,
        }


def _signature(folder: Path, manifest: bytes | None, result: Verification, expected: str | None) -> None:
    sig_path = folder / SIGNATURE_FILE
    if not sig_path.is_file():
        result.signature = "missing"
        return
    try:
        sig = json.loads(sig_path.read_text(encoding="utf-8"))
        public, signature = str(sig["publicKey"]), str(sig["signature"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        result.signature = "unreadable"
        result.changed.append(SIGNATURE_FILE)
        return
    result.fingerprint = fingerprint(public) if len(public) in (128, 130) else None
    if manifest is None or not verify_signature(public, signature, manifest):
        result.signature = "invalid"
        if manifest is not None:
            result.changed.append(MANIFEST_FILE)
        return
    if expected and (result.fingerprint is None or _normal(result.fingerprint) != _normal(expected)):
        result.signature = "not-the-signer"
        return
    result.signature = "valid"


def verify_bundle(folder: Path, expected_fingerprint: str | None = None) -> Verification:
    """Check ``folder`` against its signed manifest (see the module's docstring)."""
    result = Verification(folder)
    manifest_path = folder / MANIFEST_FILE
    manifest = manifest_path.read_bytes() if manifest_path.is_file() else None
    if manifest is None:
        result.missing.append(MANIFEST_FILE)
    _signature(folder, manifest, result, expected_fingerprint)
    try:
        files: dict[str, Any] = json.loads(manifest)["files"] if manifest is not None else {}
        if not isinstance(files, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        files = {}
        if MANIFEST_FILE not in result.changed:
            result.changed.append(MANIFEST_FILE)
    result.listed = len(files)
    for name, want in sorted(files.items()):
        path = folder / name
        if not path.is_file():
            result.missing.append(name)
            continue
        data = path.read_bytes()
        same = (
            isinstance(want, dict)
            and want.get("bytes") == len(data)
            and want.get("sha256") == hashlib.sha256(data).hexdigest()
            and want.get("sm3") == sm3_hex(data)
        )
        if not same:
            result.changed.append(name)
    present = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    result.added = [p for p in present if p not in files and p not in UNLISTED]
    return result


def run_verify(folder: Path, expected_fingerprint: str | None, lang: str, *, as_json: bool = False) -> int:
    """The ``verify`` command: 0 untouched, 1 anything wrong, 2 not a run folder."""
    if not folder.is_dir():
        print(f"不是目录 / not a folder: {folder}", file=sys.stderr)
        return 2
    result = verify_bundle(folder, expected_fingerprint)
    if as_json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=1))
    else:
        print("\n".join(result.lines(lang)))
    return 0 if result.ok else 1

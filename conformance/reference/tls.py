"""Transport security of the reference server (SHARE.SEC.SECMGMT.3, SHARE.SEC.AUTH.3, SHARE.MECH.METHOD.1).

* **TLS** (``ServerConfig(tls=True)``): TLS 1.2 and 1.3 only, forward-secret AEAD cipher suites,
  a certificate that matches the host. Without a certificate of its own (``tls_cert`` /
  ``tls_key``) the server makes a private test CA and a loopback server certificate
  (``127.0.0.1``, ``::1``, ``localhost`` and the bind host) with the ``openssl`` command line,
  once per directory, and reuses them while they cover the host and are valid for another day.
  Clients verify with the CA file (``ca.pem``: the target file's ``[tls] ca_file``). Nothing
  new is installed: without ``openssl`` on the PATH the server refuses to start with TLS.
* **Credentials never in URLs** (:class:`CredentialsInUrlGuard`): a request to the sharing role
  whose query string carries a credential (``access_token``, ``client_secret`` …) is refused
  before anything else looks at it — also when a valid ``Authorization`` header comes with it —
  so the credential is neither used nor logged with the URL: 401 with a Bearer challenge
  (``error="invalid_request"``) and the error envelope, or at the token endpoint RFC 6749's 400
  ``invalid_request``.

Defect switches (``defects/declared.py``): ``plain-http`` serves plain HTTP although TLS was asked for;
``weak-tls`` also accepts TLS 1.0 / 1.1 and legacy cipher suites; ``token-in-query`` accepts a
bearer token given as ``?access_token=`` (moved into the ``Authorization`` header).
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import shutil
import ssl
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson

from conformance.client.token import token_path
from conformance.contract.errors import ErrorCode
from conformance.serving.envelope import error_body

log = logging.getLogger("tzsb.reference.tls")

#: TLS 1.2 suites with forward secrecy and AEAD (TLS 1.3 suites are always secure and not set here).
SECURE_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL:!eNULL:!MD5:!SHA1:!RC4:!3DES:!DES:!EXPORT"
#: ``weak-tls``: what an old default configuration still offers.
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"
DAYS = 30
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class TlsFiles:
    ca_file: Path  # the private CA a client trusts (the target file's [tls] ca_file)
    cert_file: Path  # the server certificate (leaf, then the CA)
    key_file: Path


def _openssl() -> str:
    exe = shutil.which("openssl")
    if exe is None:
        raise RuntimeError(
            "TLS 需要 openssl 命令行工具生成测试证书（未找到），或以 tls_cert / tls_key 给出证书 / "
            "TLS needs the openssl command line to make a test certificate, or give tls_cert and tls_key"
        )
    return exe


def _run(*args: str, cwd: Path) -> None:
    done = subprocess.run([_openssl(), *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {done.stderr.strip()[:500]}")


def _san(hosts: tuple[str, ...]) -> str:
    return ",".join(f"{'IP' if _is_ip(h) else 'DNS'}:{h}" for h in dict.fromkeys(hosts))


def _covers(files: TlsFiles, host: str) -> bool:
    """The stored certificate is valid for another day and names ``host``."""
    if not all(p.is_file() for p in (files.ca_file, files.cert_file, files.key_file)):
        return False

    def x509(*args: str) -> subprocess.CompletedProcess[str]:
        command = [_openssl(), "x509", "-in", str(files.cert_file), "-noout", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)

    fresh, names = x509("-checkend", "86400"), x509("-checkip" if _is_ip(host) else "-checkhost", host)
    return fresh.returncode == 0 and names.returncode == 0 and " does match" in names.stdout


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def loopback_certificate(directory: Path, host: str = "127.0.0.1") -> TlsFiles:
    """A private test CA and a server certificate for the loopback names and ``host`` (made once, reused)."""
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    if _covers(files, host):
        return files
    ext = directory / "server.ext"
    ext.write_text(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
        f"subjectAltName={_san((*LOOPBACK, host))}\n",
        encoding="utf-8",
    )
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _run(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        str(DAYS),
        "-sha256",
        "-subj",
        f"/O=tzsb-conformance/CN=tzsb-conformance test CA {secrets.token_hex(4)}",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-addext",
        "subjectKeyIdentifier=hash",
        cwd=directory,
    )
    _run(
        "req",
        "-new",
        *ec,
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/O=tzsb-conformance/CN=localhost",
        cwd=directory,
    )
    _run(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        str(DAYS),
        "-sha256",
        "-extfile",
        "server.ext",
        cwd=directory,
    )
    files.cert_file.write_bytes((directory / "leaf.pem").read_bytes() + files.ca_file.read_bytes())
    for leftover in ("server.csr", "leaf.pem", "ca.srl"):
        (directory / leftover).unlink(missing_ok=True)
    (directory / "ca.key").chmod(0o600)
    files.key_file.chmod(0o600)
    return files


def server_context(files: TlsFiles, *, weak: bool = False, client_ca: str | None = None) -> ssl.SSLContext:
    """The server's TLS context: TLS ≥ 1.2 with secure suites (``weak``: the ``weak-tls`` defect); ``client_ca``:
    mutual TLS, every caller must present a certificate that CA issued (a binding's ``auth.mtls``)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(files.cert_file), str(files.key_file))
    if client_ca is not None:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=client_ca)
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    if weak:
        ctx.set_ciphers(LEGACY_CIPHERS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the defect is the deprecated protocol
            ctx.minimum_version = ssl.TLSVersion.TLSv1
    else:
        ctx.set_ciphers(SECURE_CIPHERS)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


# ---------------------------------------------------------------------------- credentials in URLs

#: Query parameters that carry credentials (RFC 6750 §2.3 ``access_token``; RFC 6749 client credentials).
CREDENTIAL_PARAMS = frozenset({"access_token", "token", "client_secret", "password", "api_key", "apikey"})


class CredentialsInUrlGuard:
    """ASGI wrapper: requests under ``prefixes`` with a credential in the query string are refused (401 / 400)."""

    def __init__(self, app: Any, prefixes: tuple[str, ...], *, accept_query_token: bool = False) -> None:
        self.app = app
        self.prefixes = prefixes
        self.accept_query_token = accept_query_token

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or not scope.get("query_string") or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        found = sorted({k for k, _ in pairs if k.lower() in CREDENTIAL_PARAMS})
        if not found:
            await self.app(scope, receive, send)
            return
        if self.accept_query_token:  # the defect: a token in the URL is used like the header
            token = next((v for k, v in pairs if k.lower() == "access_token"), None)
            rest = [(k, v) for k, v in pairs if k.lower() != "access_token"]
            headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
            if token:
                headers.append((b"authorization", f"Bearer {token}".encode("latin-1")))
            await self.app({**scope, "headers": headers, "query_string": urlencode(rest).encode()}, receive, send)
            return
        rid = secrets.token_hex(12)
        names = "、".join(found)
        headers = [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"x-request-id", rid.encode()),
            (b"cache-control", b"no-store"),
        ]
        if scope["path"].rstrip("/").endswith(token_path()):  # RFC 6749 §5.2: the token endpoint's own error body
            status = 400
            body = orjson.dumps(
                {
                    "error": "invalid_request",
                    "error_description": f"客户端凭证不得放在 URL 查询参数中（{names}），请放在请求体中",
                }
            )
        else:  # the bearer-token error of the pipeline (401 with a challenge), without looking at the token
            status = 401
            headers.append(
                (
                    b"www-authenticate",
                    b'Bearer realm="tzsb", error="invalid_request", '
                    b'error_description="credentials in the URL query are refused"',
                )
            )
            zh = f"凭证不得放在 URL 查询参数中（{names}），请改用 Authorization 请求头"
            en = f"credentials must not be sent in the URL query ({', '.join(found)}): use the Authorization header"
            errors = [
                {"path": f"/query/{k}", "message": "凭证不得出现在 URL 中", "rule": "no-credentials-in-url"}
                for k in found
            ]
            body = orjson.dumps(error_body(status, ErrorCode.UNAUTHORIZED, zh, en, rid, errors=errors))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

"""A whole contract tree — the ``schemas/`` folder of this checkout, of another folder, or of a git revision — read
as data, for the static analyses that compare or measure contracts (``tzsb-conform size``, ``tzsb-conform diff``).

Nothing here re-declares a contract: the files are found by their folder (``openapi/``, ``json/``, ``codelists/``,
``clauses/``), references are followed as the documents write them (relative, RFC 6901 pointers), and the digests
are those the report writer records (:func:`conformance.report.writer.contract_digests`: SHA-256 of every
``.json``, ``.yaml`` and ``.xsd`` file under ``schemas/``, keyed by the path relative to ``schemas/``).
"""

from __future__ import annotations

import functools
import hashlib
import posixpath
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from conformance.contract import documents as contracts
from conformance.contract.openapi import METHODS

#: The suffixes of contract files (as :func:`conformance.report.writer.contract_digests` hashes them).
SUFFIXES = (".json", ".yaml", ".xsd")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: ``$id`` base of the contracts (``https://…/schemas/``): an absolute reference under it names a file of the tree.
_ID_BASE = contracts.SCHEMA_BASE.removesuffix("json/")


class TreeError(ValueError):
    """A tree that cannot be read (no such folder or revision): a usage error of the command."""


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


class ContractTree:
    """The contract files of one tree, ``{path relative to schemas/: bytes}``, with loading and ``$ref`` resolution."""

    def __init__(self, files: dict[str, bytes], label: str) -> None:
        self.files = dict(sorted(files.items()))
        self.label = label

    # ------------------------------------------------------------------ construction
    @classmethod
    def current(cls) -> ContractTree:
        return cls.from_folder(contracts.SCHEMAS, label="schemas/")

    @classmethod
    def from_folder(cls, folder: Path, label: str | None = None) -> ContractTree:
        folder = Path(folder)
        root = folder / "schemas" if (folder / "schemas").is_dir() else folder
        if not root.is_dir() or not any((root / sub).is_dir() for sub in ("openapi", "json")):
            raise TreeError(str(folder))
        files = {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file() and p.suffix in SUFFIXES
        }
        return cls(files, label or str(folder))

    @classmethod
    def from_git(cls, rev: str, repo: Path | None = None) -> ContractTree:
        """The contracts of revision ``rev`` of the repository this checkout belongs to (``git show REV:path``)."""
        repo = repo or contracts.SCHEMAS.parent

        def git(*args: str) -> bytes:
            done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
            if done.returncode != 0:
                raise TreeError(rev)
            return done.stdout

        commit = git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip()
        names = git("ls-tree", "-r", "-z", "--name-only", commit, "--", "schemas/").decode().split("\0")
        files = {}
        for name in names:
            if name.startswith("schemas/") and name.endswith(SUFFIXES):
                files[name.removeprefix("schemas/")] = git("show", f"{commit}:{name}")
        if not files:
            raise TreeError(rev)
        return cls(files, f"{rev} ({commit[:12]})")

    @classmethod
    def open(cls, spec: str) -> ContractTree:
        """A folder (holding ``schemas/`` or being it) when ``spec`` names one, else a git revision."""
        path = Path(spec)
        if path.is_dir():
            return cls.from_folder(path, label=spec)
        return cls.from_git(spec)

    # ------------------------------------------------------------------ reading
    def digests(self) -> dict[str, str]:
        return {name: hashlib.sha256(data).hexdigest() for name, data in self.files.items()}

    def names(self, folder: str, suffix: str) -> list[str]:
        """Paths of the files directly in ``folder`` ending in ``suffix`` (``names("openapi", ".yaml")``)."""
        return [n for n in self.files if posixpath.dirname(n) == folder and n.endswith(suffix)]

    def load(self, name: str) -> Any:
        return _parse(self, name)

    def openapi_documents(self) -> list[str]:
        """Paths of the OpenAPI documents that belong to a role (``x-role``; ``common.yaml`` left out)."""
        return [n for n in self.names("openapi", ".yaml") if role_of(self.load(n)) not in (None, "common")]

    def roles(self) -> dict[str, list[str]]:
        """Role → its OpenAPI documents, in file order."""
        out: dict[str, list[str]] = {}
        for name in self.openapi_documents():
            out.setdefault(role_of(self.load(name)), []).append(name)
        return out

    def resolve(self, ref: str, doc: str) -> tuple[str, str, Any]:
        """``(document, pointer, node)`` a ``$ref`` written in ``doc`` points to (KeyError when it does not)."""
        target, _, pointer = ref.partition("#")
        if target.startswith(_ID_BASE):
            name = target.removeprefix(_ID_BASE)
        elif target:
            name = posixpath.normpath(posixpath.join(posixpath.dirname(doc), target))
        else:
            name = doc
        if name not in self.files:
            raise KeyError(ref)
        node = self.load(name)
        for part in [p for p in pointer.split("/") if p]:
            part = _unescape(part)
            node = node[int(part)] if isinstance(node, list) else node[part]
        return name, pointer, node

    def deref(self, node: Any, doc: str, depth: int = 0) -> tuple[Any, str]:
        """``node`` with a Reference Object (``{"$ref": …}`` and nothing else that matters) followed."""
        if isinstance(node, dict) and isinstance(node.get("$ref"), str) and depth < 20:
            name, _, target = self.resolve(node["$ref"], doc)
            return self.deref(target, name, depth + 1)
        return node, doc

    def operations(self, doc: str) -> Iterator[TreeOperation]:
        """The operations of one OpenAPI document, then the calls its callbacks declare."""
        spec = self.load(doc)
        for path, item in (spec.get("paths") or {}).items():
            for method in METHODS:
                if isinstance(item.get(method), dict):
                    yield TreeOperation(doc, path, method, item[method], item.get("parameters") or [], None)
        for item in (spec.get("paths") or {}).values():
            for method in METHODS:
                op = item.get(method)
                if not isinstance(op, dict):
                    continue
                for cb_node in (op.get("callbacks") or {}).values():
                    cb, cb_doc = self.deref(cb_node, doc)
                    for expression, cb_item in (cb or {}).items():
                        if not isinstance(cb_item, dict):
                            continue
                        for cb_method in METHODS:
                            call = cb_item.get(cb_method)
                            if isinstance(call, dict) and "operationId" in call:
                                yield TreeOperation(
                                    cb_doc, expression, cb_method, call, cb_item.get("parameters") or [], op
                                )

    def data_sets(self, doc: str) -> dict[str, Any]:
        return self.load(doc).get("x-data-sets") or {}


def role_of(spec: Any) -> str | None:
    return spec.get("x-role") if isinstance(spec, dict) else None


@functools.lru_cache(maxsize=512)
def _parse_cached(data: bytes, suffix: str) -> Any:
    text = data.decode("utf-8")
    if suffix == ".yaml":
        return yaml.load(text, Loader=_LOADER)
    if suffix == ".json":
        import json

        return json.loads(text)
    return text


def _parse(tree: ContractTree, name: str) -> Any:
    return _parse_cached(tree.files[name], posixpath.splitext(name)[1])


@dataclass(frozen=True)
class TreeOperation:
    """One operation as written: its document, path (or a callback's runtime expression), method, the operation
    object and the path item's shared parameters; ``callback_of``: the operation object that declares it as a
    callback (the role under test makes this call), else None."""

    doc: str
    path: str
    method: str
    raw: dict[str, Any]
    shared_params: list[Any]
    callback_of: dict[str, Any] | None

    @property
    def operation_id(self) -> str:
        return str(self.raw.get("operationId") or f"{self.method.upper()} {self.path}")

    @property
    def interface(self) -> str | None:
        own = self.raw.get("x-interface")
        if own is None and self.callback_of is not None:
            return self.callback_of.get("x-interface")
        return own

    @property
    def clause_refs(self) -> list[str]:
        value = self.raw.get("x-clause") or []
        return [str(v) for v in (value if isinstance(value, list) else [value])]

    @property
    def pointer(self) -> str:
        return f"/paths/{escape(self.path)}/{self.method}"

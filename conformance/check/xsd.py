"""Validate untrusted XML documents against the project's XML Schemas (``schemas/xml``).

Three layers, each reported as :class:`XmlIssue` with its ``layer``:

``parser``
    The bytes are parsed with :mod:`defusedxml` (DTDs, entity declarations and external
    references are forbidden, so a billion-laughs or XXE document is refused at its
    ``<!DOCTYPE`` without any expansion). Oversized input, nesting that is too deep,
    empty input, garbage and wrongly encoded bytes also end here, never as a traceback.
``xsd``
    XSD 1.0 validation with :mod:`xmlschema` (all errors, each with the element path).
``format``
    Rules an XSD 1.0 pattern cannot express (check digits, code-list membership). The
    elements to check are *derived from the schema*: an element declaration, or failing
    that its simple type (or a base type), carries the annotation
    ``<xs:appinfo><tzsb:format>NAME</tzsb:format></xs:appinfo>`` in the namespace
    ``urn:tzsb-conformance:annotations``; ``NAME`` is a format name of
    ``docs/CONVENTIONS.md`` and is checked with :func:`conformance.codes.check`. An element
    whose value already failed the XSD layer is not checked again.

Paths are written with local names for the schema's own namespace, with 1-based
positions for repeated siblings: ``/dossierRegister/documents/application/document[2]/fileName``.
"""

from __future__ import annotations

import codecs
import functools
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import defusedxml
import defusedxml.ElementTree as DefusedET
import xmlschema

from conformance.contract.documents import xsd_names, xsd_path

if TYPE_CHECKING:
    from xmlschema.validators import XsdElement

__all__ = [
    "ANNOTATIONS_NS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "XmlIssue",
    "format_annotations",
    "load_schema",
    "schema_names",
    "validate_xml",
    "xml_issue_messages",
]

#: Namespace of the project's schema annotations (``<tzsb:format>``).
ANNOTATIONS_NS = "urn:tzsb-conformance:annotations"
_FORMAT_TAG = f"{{{ANNOTATIONS_NS}}}format"
_APPINFO_TAG = "{http://www.w3.org/2001/XMLSchema}appinfo"

#: Documents larger than this are refused before parsing (20 MiB).
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
#: Element nesting deeper than this is refused after parsing (the schemas need < 10).
DEFAULT_MAX_DEPTH = 64

Layer = Literal["parser", "xsd", "format", "schema"]  # schema: a metadata text's values (metadata_text)
Source = bytes | bytearray | memoryview | str | Path


@dataclass(frozen=True, slots=True)
class XmlIssue:
    """One problem found in an XML document."""

    layer: Layer
    path: str
    message_zh: str
    message_en: str

    def message(self, lang: str = "zh") -> str:
        return self.message_en if lang == "en" else self.message_zh

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"[{self.layer}] {where}{self.message_en}"


def xml_issue_messages(issues: Iterable[XmlIssue], lang: str = "zh") -> list[str]:
    """One line per issue in ``lang`` (``"zh"`` or ``"en"``): ``[layer] path: message``."""
    lines = []
    for issue in issues:
        where = f"{issue.path}: " if issue.path else ""
        lines.append(f"[{issue.layer}] {where}{issue.message(lang)}")
    return lines


# --------------------------------------------------------------------------- schemas


def schema_names() -> list[str]:
    """Names of the XSDs that define a document (a global element); ``tzsb-types`` is not one."""
    return [name for name in xsd_names() if load_schema(name).elements]


@functools.cache
def load_schema(name: str) -> xmlschema.XMLSchema10:
    """The XSD 1.0 schema ``schemas/xml/<name>.xsd``, loaded once.

    Only files inside ``schemas/xml`` can be read (``allow="sandbox"``), nothing is fetched.
    """
    if name not in xsd_names():
        raise ValueError(f"unknown XML schema {name!r}; known: {', '.join(xsd_names())}")
    return xmlschema.XMLSchema10(str(xsd_path(name)), allow="sandbox", defuse="always")


def _appinfo_format(component: Any) -> str | None:
    """The ``tzsb:format`` name in a component's ``xs:annotation/xs:appinfo``, if any."""
    annotation = getattr(component, "annotation", None)
    if annotation is None:
        return None
    for appinfo in getattr(annotation, "appinfo", ()) or ():
        if appinfo.tag != _APPINFO_TAG:
            continue
        for child in appinfo.iter(_FORMAT_TAG):
            text = (child.text or "").strip()
            if text:
                return text
    return None


def _declared_format(xsd_element: XsdElement) -> str | None:
    """Effective format of an element declaration: its own appinfo, else its type chain's."""
    fmt = _appinfo_format(xsd_element)
    if fmt is not None:
        return fmt
    xsd_type: Any = xsd_element.type
    seen: set[int] = set()
    while xsd_type is not None and id(xsd_type) not in seen:
        seen.add(id(xsd_type))
        fmt = _appinfo_format(xsd_type)
        if fmt is not None:
            return fmt
        xsd_type = getattr(xsd_type, "base_type", None)
    return None


#: (schema name, id of an XsdElement of the cached, never freed, schema) → format name.
_FORMAT_CACHE: dict[tuple[str, int], str | None] = {}


def _format_of(schema_name: str, xsd_element: XsdElement) -> str | None:
    key = (schema_name, id(xsd_element))
    if key not in _FORMAT_CACHE:
        _FORMAT_CACHE[key] = _declared_format(xsd_element)
    return _FORMAT_CACHE[key]


def _local(tag: str, own_ns: str) -> str:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return local if ns == own_ns else tag
    return tag


@functools.cache
def format_annotations(name: str) -> dict[str, str]:
    """Map of schema path → format name, derived from the XSD ``name`` (for reports and tests).

    Paths have no positions: ``/dossierRegister/applicant/creditCode``.
    """
    schema = load_schema(name)
    own_ns = schema.target_namespace
    result: dict[str, str] = {}

    def walk(xsd_element: Any, prefix: str, depth: int) -> None:
        path = f"{prefix}/{_local(xsd_element.name, own_ns)}"
        fmt = _format_of(name, xsd_element)
        if fmt is not None:
            result[path] = fmt
        content = getattr(xsd_element.type, "content", None)
        if depth > 32 or content is None or not hasattr(content, "iter_elements"):
            return
        for child in content.iter_elements():
            if hasattr(child, "type"):  # skip wildcards
                walk(child, path, depth + 1)

    for root in schema.elements.values():
        walk(root, "", 0)
    return result


# --------------------------------------------------------------------------- parsing


def _issue(layer: Layer, path: str, zh: str, en: str) -> XmlIssue:
    return XmlIssue(layer=layer, path=path, message_zh=zh, message_en=en)


def _too_big(size: int, max_bytes: int) -> XmlIssue:
    return _issue(
        "parser",
        "",
        f"文档大小 {size} 字节，超过上限 {max_bytes} 字节，拒绝解析",
        f"document is {size} bytes, over the limit of {max_bytes} bytes; not parsed",
    )


def _read_source(source: Source, max_bytes: int) -> tuple[bytes | str | None, XmlIssue | None]:
    """The document as bytes (or str), or an issue. ``str`` is XML text, ``Path`` a file."""
    if isinstance(source, Path):
        try:
            size = source.stat().st_size
            if size > max_bytes:
                return None, _too_big(size, max_bytes)
            with source.open("rb") as fh:
                data = fh.read(max_bytes + 1)
        except OSError as exc:
            return None, _issue("parser", "", f"无法读取文件：{exc}", f"cannot read the file: {exc}")
        if len(data) > max_bytes:
            return None, _too_big(len(data), max_bytes)
        return data, None
    if isinstance(source, str):
        # Characters never outnumber UTF-8 bytes: cheap test first, exact one second.
        if len(source) > max_bytes or len(source.encode("utf-8", "surrogatepass")) > max_bytes:
            return None, _too_big(len(source.encode("utf-8", "surrogatepass")), max_bytes)
        return source, None
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if len(data) > max_bytes:
            return None, _too_big(len(data), max_bytes)
        return data, None
    raise TypeError(f"source must be bytes, str (XML text) or Path, not {type(source).__name__}")


_DECLARED_ENCODING = re.compile(rb"""\A\s*<\?xml\s[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:\-]+)["']""")
#: Multi-byte encodings expat cannot read from bytes; decoded in Python first (GB 18030 family, Big5).
_TRANSCODED = frozenset({"gb2312", "gbk", "gb18030", "big5", "big5hkscs"})


def _transcode(data: bytes) -> tuple[str | None, XmlIssue | None]:
    """Decode a document declared in a Chinese multi-byte encoding (expat reads only UTF-8/16, Latin-1)."""
    match = _DECLARED_ENCODING.match(data[:512])
    if match is None:
        return None, None
    declared = match[1].decode("ascii")
    try:
        codec = codecs.lookup(declared).name
    except LookupError:
        return None, _issue(
            "parser", "", f"未知的字符编码声明 {declared!r}", f"unknown encoding declaration {declared!r}"
        )
    if codec not in _TRANSCODED:
        return None, None
    try:
        return data.decode(codec), None
    except UnicodeDecodeError as exc:
        return None, _issue(
            "parser",
            "",
            f"文档声明编码 {declared}，但字节不是合法的 {declared}：{exc}",
            f"the document declares {declared} but its bytes are not valid {declared}: {exc}",
        )


#: What the safe parser refused, in both languages.
_REFUSED: dict[type[Exception], tuple[str, str]] = {
    defusedxml.DTDForbidden: (
        "文档含 DTD（<!DOCTYPE>），出于安全原因被拒绝（防止实体膨胀与外部实体攻击），未展开任何实体",
        "DTD (<!DOCTYPE>) forbidden: refused for safety (entity expansion / XXE); nothing was expanded",
    ),
    defusedxml.EntitiesForbidden: (
        "文档声明了实体（ENTITY），被拒绝，未展开",
        "entity declarations are forbidden; nothing was expanded",
    ),
    defusedxml.ExternalReferenceForbidden: ("文档引用外部资源，被拒绝", "external references are forbidden"),
}


def _parse(data: bytes | str) -> tuple[ET.Element | None, XmlIssue | None]:
    """Parse with defusedxml: no DTD, no entity declaration, no external reference."""
    if not data.strip():
        return None, _issue("parser", "", "文档为空", "the document is empty")
    if isinstance(data, bytes):
        text, problem = _transcode(data)
        if problem is not None:
            return None, problem
        if text is not None:
            data = text
    try:
        root = DefusedET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        zh, en = _REFUSED.get(type(exc), (f"文档被安全解析器拒绝：{exc}", f"refused by the safe parser: {exc}"))
        return None, _issue("parser", "", zh, en)
    except ET.ParseError as exc:
        return None, _issue(
            "parser",
            "",
            f"不是格式良好的 XML（或编码与声明不符）：{exc}",
            f"not well-formed XML (or encoding does not match its declaration): {exc}",
        )
    except (ValueError, LookupError, UnicodeError, RecursionError) as exc:
        return None, _issue(
            "parser",
            "",
            f"无法解析文档：{type(exc).__name__}: {exc}",
            f"cannot parse the document: {type(exc).__name__}: {exc}",
        )
    return root, None


def _element_paths(root: ET.Element, own_ns: str, max_depth: int) -> tuple[dict[int, str], int]:
    """Path of every element (by id), iteratively; also the maximum depth seen."""
    paths: dict[int, str] = {id(root): "/" + _local(root.tag, own_ns)}
    stack: list[tuple[ET.Element, int]] = [(root, 1)]
    deepest = 1
    while stack:
        elem, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > max_depth:
            return paths, deepest
        base = paths[id(elem)]
        children = [c for c in elem if isinstance(c.tag, str)]
        counts: dict[str, int] = {}
        for child in children:
            counts[child.tag] = counts.get(child.tag, 0) + 1
        seen: dict[str, int] = {}
        for child in children:
            name = _local(child.tag, own_ns)
            if counts[child.tag] > 1:
                seen[child.tag] = seen.get(child.tag, 0) + 1
                name = f"{name}[{seen[child.tag]}]"
            paths[id(child)] = f"{base}/{name}"
            stack.append((child, depth + 1))
    return paths, deepest


# --------------------------------------------------------------------------- xsd layer messages

_Q = r"'([^']+)'"
_REASONS_ZH: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"Unexpected child with tag " + _Q + r" at position (\d+)\. Tags? (.+?) expected"),
        lambda m: f"第 {m[2]} 个子元素 {m[1]} 不应出现于此（未知元素或顺序错误），此处应为 {m[3]}",
    ),
    (
        re.compile(r"Unexpected child with tag " + _Q + r" at position (\d+)"),
        lambda m: f"第 {m[2]} 个子元素 {m[1]} 不应出现于此（未知元素或顺序错误）",
    ),
    (
        re.compile(r"The content of element " + _Q + r" is not complete\. Tags? (.+?) expected"),
        lambda m: f"元素 {m[1]} 内容不完整，缺少 {m[2]}",
    ),
    (re.compile(r"The content of element " + _Q + r" is not complete"), lambda m: f"元素 {m[1]} 内容不完整"),
    (re.compile(r"value doesn't match any pattern of"), lambda m: "值不符合模式（pattern）"),
    (re.compile(r"value must be one of"), lambda m: "值不在允许的取值范围内"),
    (re.compile(r"length has to be (\d+)"), lambda m: f"长度应为 {m[1]}"),
    (re.compile(r"length cannot be lesser than (\d+)"), lambda m: f"长度不得小于 {m[1]}"),
    (re.compile(r"length cannot be greater than (\d+)"), lambda m: f"长度不得大于 {m[1]}"),
    (
        re.compile(r"duplicated value (.+?) for \w+\(name=" + _Q + r"\)"),
        lambda m: f"违反唯一性约束 {m[2]}：值 {m[1]} 重复",
    ),
    (re.compile(r"is not an element of the schema"), lambda m: "根元素不是本模式声明的元素"),
    (re.compile(r"character data between child elements not allowed"), lambda m: "子元素之间不允许出现文本"),
    (re.compile(r"(?i)invalid|is not a valid|cannot be converted"), lambda m: "值不是该数据类型的合法值"),
]


def _xsd_message(error: xmlschema.XMLSchemaValidationError, own_prefixes: tuple[str, ...]) -> tuple[str, str]:
    reason = (error.reason or error.message or "").strip()
    # Names of the schema's own namespace are shown as plain local names.
    en = reason.replace("{urn:tzsb-conformance:dossier:1}", "")
    for prefix in own_prefixes:
        en = re.sub(rf"(?<![\w:.-]){re.escape(prefix)}:(?=[A-Za-z_])", "", en)
    obj = getattr(error, "obj", None)
    if isinstance(obj, str):
        value = obj if len(obj) <= 80 else obj[:77] + "..."
        en = f"{en} (value {value!r})"
    for pattern, render in _REASONS_ZH:
        match = pattern.search(en)
        if match:
            return f"不符合 XML 模式：{render(match)}（{en}）", en
    return f"不符合 XML 模式：{en}", en


# --------------------------------------------------------------------------- format layer


def _check_format(fmt: str, value: str, path: str, strict: bool) -> XmlIssue | None:
    from conformance.check.formats import format_kinds
    from conformance.codes import check

    kind = format_kinds().get(fmt)
    if kind is None:
        return _issue(
            "format",
            path,
            f"模式中的格式注解 {fmt} 未知（契约错误）",
            f"unknown format annotation {fmt!r} in the schema (contract error)",
        )
    try:
        result = check(kind, value, strict=strict)
    except Exception as exc:  # a checker bug must not hide the other issues
        return _issue(
            "format",
            path,
            f"{fmt} 检查出错：{type(exc).__name__}: {exc}",
            f"{fmt} checker failed: {type(exc).__name__}: {exc}",
        )
    if result.ok:
        return None
    return _issue(
        "format",
        path,
        f"{result.message('zh')}（值 {value!r}，格式 {fmt}）",
        f"{result.message('en')} (value {value!r}, format {fmt})",
    )


# --------------------------------------------------------------------------- entry points


def validate_xml(
    source: Source,
    schema: str,
    *,
    strict: bool = True,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> list[XmlIssue]:
    """Validate an XML document; an empty list means valid.

    ``source`` is the document as ``bytes``, as XML text (``str``) or a file (``Path``).
    ``schema`` is an XSD name (``dossier-metadata``, ``dossier-register``). ``strict`` is
    passed to :func:`conformance.codes.check`. Untrusted input never raises: every problem
    is an :class:`XmlIssue`. An unknown ``schema`` name raises :class:`ValueError`.
    """
    xsd = load_schema(schema)
    own_ns = xsd.target_namespace

    data, problem = _read_source(source, max_bytes)
    if problem is not None:
        return [problem]
    assert data is not None
    root, problem = _parse(data)
    if problem is not None:
        return [problem]
    assert root is not None

    paths, deepest = _element_paths(root, own_ns, max_depth)
    if deepest > max_depth:
        return [
            _issue(
                "parser",
                "",
                f"元素嵌套深度超过上限 {max_depth}，拒绝校验",
                f"element nesting deeper than {max_depth}; not validated",
            )
        ]

    def path_of(elem: Any, fallback: str | None) -> str:
        if elem is not None and id(elem) in paths:
            return paths[id(elem)]
        return fallback or "/" + _local(root.tag, own_ns)

    visited: list[tuple[ET.Element, XsdElement]] = []

    def collect(elem: ET.Element, xsd_element: XsdElement) -> Iterator[Any] | None:
        visited.append((elem, xsd_element))
        return None

    own_prefixes = tuple(p for p, uri in xsd.namespaces.items() if p and uri == own_ns)
    issues: list[XmlIssue] = []
    failed: set[int] = set()
    try:
        # The tree is already parsed; the resource must fetch nothing (allow="none").
        resource = xmlschema.XMLResource(root, allow="none")
        for error in xsd.iter_errors(resource, extra_validator=collect):
            elem = error.elem if ET.iselement(error.elem) else None
            if elem is not None:
                failed.add(id(elem))
            zh, en = _xsd_message(error, own_prefixes)
            issues.append(_issue("xsd", path_of(elem, error.path), zh, en))
    except (RecursionError, ValueError, TypeError, KeyError, xmlschema.XMLSchemaException) as exc:
        issues.append(
            _issue(
                "xsd",
                path_of(None, None),
                f"模式校验中止：{type(exc).__name__}: {exc}",
                f"schema validation aborted: {type(exc).__name__}: {exc}",
            )
        )

    for elem, xsd_element in visited:
        if id(elem) in failed:
            continue
        fmt = _format_of(schema, xsd_element)
        if fmt is None:
            continue
        normalize = getattr(xsd_element.type, "normalize", None)
        text = elem.text or ""
        value = normalize(text) if callable(normalize) else text.strip()
        issue = _check_format(fmt, value, path_of(elem, None), strict)
        if issue is not None:
            issues.append(issue)

    order = {id(elem): n for n, elem in enumerate(root.iter())}
    path_order = {paths[k]: v for k, v in order.items() if k in paths}
    layer_rank = {"parser": 0, "xsd": 1, "format": 2}
    issues.sort(key=lambda i: (path_order.get(i.path, -1), layer_rank[i.layer]))
    return issues

"""The text form of the dossier metadata (DB42/T 2279-2024 §9.3.2 "元数据信息应以*.txt或XML形式存放"): read, judged
and written.

The standard leaves the inside of the ``*.txt`` open; the project's definition is ``x-text-form`` of
``schemas/json/dossier-metadata.schema.json`` (docs/dossier-metadata.md says why): UTF-8 text, one line per Table 2
element in the table's order, each line the element's Table 2 name (the property's ``title``), a colon (``：`` or
``:``) and the value. Nothing of it is declared here: the names, their order, the separators, the size bound and the
value rules are read from that schema.

Two layers, each reported as :class:`TextIssue` with its ``layer``:

``parser``
    The bytes as a text form: size, encoding (UTF-8, a BOM allowed), line ends (LF or CRLF), each non-blank line a
    known name with a separator, every name once and in Table 2's order. Untrusted input never raises.
``schema``
    The values, read into the JSON form, against ``dossier-metadata.schema.json`` (formats included: check
    characters, GB/T 2260 membership, the dossier code's parts); each error is located by the line's name.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from conformance.check.schema import validator
from conformance.check.xsd import XmlIssue
from conformance.contract import documents as contracts

__all__ = ["SCHEMA", "TextForm", "TextIssue", "parse_text", "text_form", "validate_text", "write_text"]

#: The JSON schema whose ``x-text-form`` defines the text form, and against which its values are judged.
SCHEMA = "dossier-metadata"
_BOM = b"\xef\xbb\xbf"
_BLANKS = " \t"

Layer = Literal["parser", "schema"]
#: One problem of a metadata text: its layer, where (the element's name, or ``第 n 行``), and why (the shape of an
#: XML document's problems, so both forms of the metadata report alike).
TextIssue = XmlIssue


@dataclass(frozen=True)
class TextForm:
    """What ``x-text-form`` says: the lines' names in order with the JSON property each stands for, the
    separators, the media type and charset, the size bound."""

    names: tuple[str, ...]
    properties: tuple[str, ...]
    separators: tuple[str, ...]
    media_type: str
    charset: str
    max_bytes: int

    def property_of(self, name: str) -> str:
        return self.properties[self.names.index(name)]

    def name_of(self, prop: str) -> str:
        return self.names[self.properties.index(prop)]


@functools.cache
def text_form() -> TextForm:
    """The text form of ``dossier-metadata.schema.json`` (``x-text-form``)."""
    schema = contracts.json_schema(SCHEMA)
    form = schema["x-text-form"]
    order: list[str] = schema[form["order"]]
    names = tuple(str(schema["properties"][p][form["names"]]) for p in order)
    return TextForm(
        names=names,
        properties=tuple(order),
        separators=tuple(form["separators"]),
        media_type=str(form["mediaType"]),
        charset=str(form["charset"]),
        max_bytes=int(form["maxBytes"]),
    )


def _issue(layer: Layer, path: str, zh: str, en: str) -> TextIssue:
    return TextIssue(layer, path, zh, en)


def _line(n: int) -> str:
    return f"第 {n} 行"


def _read(source: bytes | str | Path, form: TextForm) -> tuple[str | None, list[TextIssue]]:
    """The text of ``source`` (bytes, text or a file), or the parser issue that stops reading it."""
    if isinstance(source, Path):
        try:
            with source.open("rb") as fh:
                data: bytes | str = fh.read(form.max_bytes + 1)
        except OSError as exc:
            return None, [_issue("parser", "", f"无法读取文件：{exc}", f"cannot read the file: {exc}")]
    else:
        data = source
    if isinstance(data, str):
        return data.removeprefix("\ufeff"), []
    if len(data) > form.max_bytes:
        return None, [
            _issue(
                "parser",
                "",
                f"元数据文本超过 {form.max_bytes} 字节，拒绝解析",
                f"the metadata text is over {form.max_bytes} bytes; not parsed",
            )
        ]
    try:
        return data.removeprefix(_BOM).decode(form.charset), []
    except UnicodeDecodeError as exc:
        return None, [
            _issue(
                "parser",
                "",
                f"元数据文本不是 UTF-8 编码（第 {exc.start + 1} 字节起无法解码；GBK 等编码不被接受）",
                f"the metadata text is not UTF-8 (undecodable from byte {exc.start + 1}; GBK and the like are refused)",
            )
        ]


def _split(line: str, form: TextForm) -> tuple[str, str] | None:
    """(name, value) of a line whose name is one of the form's, followed by a separator; None otherwise."""
    text = line.strip(_BLANKS)
    for name in form.names:
        if text.startswith(name):
            rest = text[len(name) :].lstrip(_BLANKS)
            if rest[:1] in form.separators and rest:
                return name, rest[1:].strip(_BLANKS)
    return None


def parse_text(source: bytes | str | Path) -> tuple[dict[str, str] | None, list[TextIssue]]:
    """The metadata a text form holds, as the JSON form's properties (``None`` when it cannot be read whole), and
    the parser issues (empty: the text is a well-formed text form)."""
    form = text_form()
    text, issues = _read(source, form)
    if text is None:
        return None, issues
    if not text.strip():
        return None, [_issue("parser", "", "元数据文本为空", "the metadata text is empty")]
    found: dict[str, tuple[int, str]] = {}
    for n, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        if not line.strip(_BLANKS):
            continue
        if "\r" in line:
            issues.append(
                _issue(
                    "parser",
                    _line(n),
                    "行内有单独的回车符（行尾只能是 LF 或 CRLF）",
                    "a lone carriage return inside the line (lines end in LF or CRLF)",
                )
            )
            continue
        pair = _split(line, form)
        if pair is None:
            issues.append(
                _issue(
                    "parser",
                    _line(n),
                    f"不是“表2元素名称：值”的行：{line[:40]!r}（元素名称为 {'、'.join(form.names)}，分隔符为 "
                    f"{' 或 '.join(form.separators)}）",
                    f"not a 'Table 2 name: value' line: {line[:40]!r}",
                )
            )
            continue
        name, value = pair
        if name in found:
            issues.append(
                _issue(
                    "parser",
                    name,
                    f"{_line(n)}重复给出“{name}”（首次在{_line(found[name][0])}）",
                    f"line {n} repeats {name} (first on line {found[name][0]})",
                )
            )
            continue
        found[name] = (n, value)
    for name in form.names:
        if name not in found:
            issues.append(_issue("parser", name, f"缺少元素“{name}”", f"the element {name} is missing"))
    given = sorted(found, key=lambda name: found[name][0])
    want = [name for name in form.names if name in found]
    if given != want:
        issues.append(
            _issue(
                "parser",
                "",
                f"元素顺序为 {'、'.join(given)}，应按表2顺序 {'、'.join(want)}",
                "the elements are not in Table 2's order",
            )
        )
    values = {form.property_of(name): value for name, (_, value) in found.items()}
    return (values if not issues else None), issues


def validate_text(source: bytes | str | Path, *, strict: bool = True) -> list[TextIssue]:
    """Every problem of a metadata text: the parser layer first; when it reads whole, its values against
    ``dossier-metadata.schema.json`` (``strict`` as for the schema's formats). An empty list means valid."""
    values, issues = parse_text(source)
    if values is None:
        return issues
    form = text_form()
    out = []
    for e in validator(SCHEMA, strict).errors(values):
        prop = e.path.lstrip("/").split("/", 1)[0]
        where = form.name_of(prop) if prop in form.properties else e.path
        out.append(_issue("schema", where, e.message_zh, e.message_en))
    return out


def write_text(metadata: dict[str, Any]) -> bytes:
    """The text form of a metadata record (the JSON form): its nine lines in Table 2's order, UTF-8, LF, each
    ``<name>：<value>``."""
    form = text_form()
    separator = form.separators[0]
    lines = [f"{name}{separator}{metadata[prop]}\n" for name, prop in zip(form.names, form.properties, strict=True)]
    return "".join(lines).encode(form.charset)

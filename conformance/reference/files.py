"""Small, valid layout files and images, generated in pure Python (no third-party library).

The reference server needs real files wherever the contracts carry one: e-licence layout
files (DB42/T 2279-2024 表5 序号15), their preview images (序号16), notices and dossier files
(§9.3, OFD by default, PDF allowed per §9.3.3). The same inputs always give the same bytes,
so a ``sha256`` announced in one answer matches the file served by another.

Generators::

    ofd(title, lines)          -> bytes   # GB/T 33190-2016 OFD package (a ZIP)
    pdf(title, lines)          -> bytes   # PDF 1.7, CJK text in STSong-Light (no embedded font)
    png_thumbnail(text, lines) -> bytes   # a page preview: white page, grey text bars, no seal
    layout(fmt, title, lines)  -> bytes   # "OFD" or "PDF"

Validators (each returns a list of problems, in Chinese; empty = structurally valid)::

    is_ofd(data)  # ZIP, OFD.xml at the root in the OFD namespace with DocType="OFD" and Version,
                  # DocBody/DocRoot → a Document.xml that exists, its pages exist and parse
    is_pdf(data)  # %PDF- header, objects, xref table (or stream) at startxref, trailer /Root, %%EOF
    is_png(data)  # signature, IHDR first, CRCs, IDAT inflates to the declared size, IEND last

``sniff(data)`` names the format (``"OFD"``, ``"PDF"``, ``"PNG"`` or ``None``) and
``sha256(data)`` gives the digest used in download addresses and notices.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import struct
import uuid
import zipfile
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

import defusedxml.ElementTree as DefusedET

OFD_NS = "http://www.ofdspec.org/2016"
_Q = "{" + OFD_NS + "}"
#: Fixed ZIP member time: identical inputs give identical bytes (and digests).
_ZIP_TIME = (2024, 11, 22, 0, 0, 0)
#: Limits for untrusted packages (zip bombs, huge members).
MAX_MEMBERS = 10_000
MAX_UNPACKED = 200 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

MEDIA_TYPES = {"OFD": "application/ofd", "PDF": "application/pdf", "PNG": "image/png"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sniff(data: bytes) -> str | None:
    """The format of ``data`` by its magic bytes (an OFD is a ZIP holding ``OFD.xml``)."""
    if data.startswith(b"%PDF-"):
        return "PDF"
    if data.startswith(PNG_SIGNATURE):
        return "PNG"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                return "OFD" if "OFD.xml" in z.namelist() else None
        except zipfile.BadZipFile:
            return None
    return None


def layout(fmt: str, title: str, lines: list[str], **kw: object) -> bytes:
    """A layout file of ``fmt`` ("OFD" or "PDF")."""
    if fmt.upper() == "OFD":
        return ofd(title, lines, **kw)  # type: ignore[arg-type]
    if fmt.upper() == "PDF":
        return pdf(title, lines, **kw)  # type: ignore[arg-type]
    raise ValueError(f"unknown layout format {fmt!r} (OFD or PDF)")


# ---------------------------------------------------------------------------------------- OFD
def _doc_id(title: str, lines: list[str]) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, "tzsb-conformance:" + title + "\n" + "\n".join(lines)).hex


def ofd(
    title: str,
    lines: list[str],
    *,
    created: dt.date | str | None = None,
    author: str = "tzsb-conformance",
    page_mm: tuple[float, float] = (210.0, 297.0),
) -> bytes:
    """An OFD package (GB/T 33190-2016): ``OFD.xml`` → ``Doc_0/Document.xml`` → one page per 40 lines.

    Text is drawn with a system font reference (宋体, not embedded), title at the top, then the lines.
    """
    created_s = created.isoformat() if isinstance(created, dt.date) else (created or "2024-11-22")
    width, height = page_mm
    per_page = 40
    chunks = [lines[i : i + per_page] for i in range(0, len(lines), per_page)] or [[]]
    files: dict[str, str] = {}
    files["OFD.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<ofd:OFD xmlns:ofd="{OFD_NS}" DocType="OFD" Version="1.0">'
        "<ofd:DocBody><ofd:DocInfo>"
        f"<ofd:DocID>{_doc_id(title, lines)}</ofd:DocID>"
        f"<ofd:Title>{escape(title)}</ofd:Title>"
        f"<ofd:Author>{escape(author)}</ofd:Author>"
        f"<ofd:CreationDate>{escape(created_s)}</ofd:CreationDate>"
        "<ofd:Creator>tzsb-conformance reference server</ofd:Creator>"
        "</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
    )
    next_id = 2  # 1 = the font
    pages_xml = []
    for n, chunk in enumerate(chunks):
        page_id = next_id
        next_id += 1
        layer_id = next_id
        next_id += 1
        objects = []
        y = 20.0
        texts = ([(title, 7.0)] if n == 0 else []) + [(line, 4.2) for line in chunk]
        for text, size in texts:
            objects.append(
                f'<ofd:TextObject ID="{next_id}" Boundary="15 {y:.1f} {width - 30:.1f} {size * 1.6:.1f}" Font="1" Size="{size}">'
                f'<ofd:TextCode X="0" Y="{size:.1f}">{escape(text) or " "}</ofd:TextCode></ofd:TextObject>'
            )
            next_id += 1
            y += size * 1.6 + (4.0 if size > 5 else 1.5)
        files[f"Doc_0/Pages/Page_{n}/Content.xml"] = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<ofd:Page xmlns:ofd="{OFD_NS}"><ofd:Content><ofd:Layer ID="{layer_id}">'
            + "".join(objects)
            + "</ofd:Layer></ofd:Content></ofd:Page>"
        )
        pages_xml.append(f'<ofd:Page ID="{page_id}" BaseLoc="Pages/Page_{n}/Content.xml"/>')
    files["Doc_0/Document.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<ofd:Document xmlns:ofd="{OFD_NS}"><ofd:CommonData>'
        f"<ofd:MaxUnitID>{next_id - 1}</ofd:MaxUnitID>"
        f"<ofd:PageArea><ofd:PhysicalBox>0 0 {width:g} {height:g}</ofd:PhysicalBox></ofd:PageArea>"
        "<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>"
        "</ofd:CommonData><ofd:Pages>" + "".join(pages_xml) + "</ofd:Pages></ofd:Document>"
    )
    files["Doc_0/PublicRes.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<ofd:Res xmlns:ofd="{OFD_NS}" BaseLoc="Res"><ofd:Fonts>'
        '<ofd:Font ID="1" FontName="宋体" FamilyName="宋体" Charset="unicode"/>'
        "</ofd:Fonts></ofd:Res>"
    )
    return _zip(files)


def _zip(files: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, content.encode("utf-8") if isinstance(content, str) else content)
    return buf.getvalue()


def _parse_xml(raw: bytes, name: str, problems: list[str]) -> Any:
    try:
        return DefusedET.fromstring(raw)
    except Exception as exc:  # defusedxml refusals and ParseError alike
        problems.append(f"{name} 不是合法的 XML（{type(exc).__name__}: {exc}）")
        return None


def _resolve(base_dir: str, loc: str) -> str:
    """A location inside the package: absolute (``/Doc_0/…``) or relative to ``base_dir``."""
    loc = loc.strip().replace("\\", "/")
    path = loc.lstrip("/") if loc.startswith("/") else (f"{base_dir}/{loc}" if base_dir else loc)
    parts: list[str] = []
    for seg in path.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if parts:
                parts.pop()
            continue
        parts.append(seg)
    return "/".join(parts)


def is_ofd(data: bytes) -> list[str]:
    """Structural problems of an OFD package (empty list: valid as far as checked)."""
    problems: list[str] = []
    if not data:
        return ["文件为空"]
    if not data.startswith(b"PK"):
        return ["不是 ZIP 包（OFD 文件应为 ZIP 容器，缺少 PK 文件头）"]
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        return [f"ZIP 包已损坏或被截断（{exc}）"]
    with z:
        infos = z.infolist()
        if len(infos) > MAX_MEMBERS:
            return [f"ZIP 包成员过多（{len(infos)}）"]
        if sum(i.file_size for i in infos) > MAX_UNPACKED:
            return ["ZIP 包解压后过大"]
        names = {i.filename for i in infos}

        def read(name: str) -> bytes | None:
            try:
                return z.read(name)
            except (zipfile.BadZipFile, KeyError, zlib.error, EOFError) as exc:
                problems.append(f"无法读取包内文件 {name}（{exc}）")
                return None

        bad = z.testzip() if len(data) < 50 * 1024 * 1024 else None
        if bad is not None:
            problems.append(f"包内文件 {bad} 校验失败（CRC 错误）")
        if "OFD.xml" not in names:
            problems.append("包的根目录缺少 OFD.xml（GB/T 33190 主入口文件）")
            return problems
        raw = read("OFD.xml")
        root = _parse_xml(raw, "OFD.xml", problems) if raw is not None else None
        if root is None:
            return problems
        if root.tag != _Q + "OFD":
            problems.append(f"OFD.xml 的根元素应为 {{{OFD_NS}}}OFD，实为 {root.tag}")
            return problems
        if root.get("DocType") != "OFD":
            problems.append(f'OFD.xml 的 DocType 应为 "OFD"，实为 {root.get("DocType")!r}')
        if not root.get("Version"):
            problems.append("OFD.xml 缺少 Version 属性")
        bodies = root.findall(_Q + "DocBody")
        if not bodies:
            problems.append("OFD.xml 缺少 DocBody")
        for body in bodies:
            doc_root = body.find(_Q + "DocRoot")
            if doc_root is None or not (doc_root.text or "").strip():
                problems.append("DocBody 缺少 DocRoot")
                continue
            target = _resolve("", doc_root.text or "")
            if target not in names:
                problems.append(f"DocRoot 指向的 {target} 不在包内")
                continue
            problems.extend(_check_document(target, names, read))
    return problems


def _check_document(target: str, names: set[str], read: Callable[[str], bytes | None]) -> list[str]:
    problems: list[str] = []
    raw = read(target)
    doc = _parse_xml(raw, target, problems) if raw is not None else None
    if doc is None:
        return problems
    if doc.tag != _Q + "Document":
        return [f"{target} 的根元素应为 {{{OFD_NS}}}Document，实为 {doc.tag}"]
    base = target.rpartition("/")[0]
    common = doc.find(_Q + "CommonData")
    if common is None:
        problems.append(f"{target} 缺少 CommonData")
    else:
        if common.find(_Q + "MaxUnitID") is None:
            problems.append(f"{target} 的 CommonData 缺少 MaxUnitID")
        if common.find(_Q + "PageArea") is None:
            problems.append(f"{target} 的 CommonData 缺少 PageArea")
        for res in common.findall(_Q + "PublicRes") + common.findall(_Q + "DocumentRes"):
            loc = _resolve(base, res.text or "")
            if loc not in names:
                problems.append(f"{target} 引用的资源文件 {loc} 不在包内")
    pages = doc.findall(f"{_Q}Pages/{_Q}Page")
    if not pages:
        problems.append(f"{target} 没有页面（Pages/Page）")
    for page in pages:
        loc = page.get("BaseLoc")
        if not loc:
            problems.append(f"{target} 的页面 ID={page.get('ID')} 缺少 BaseLoc")
            continue
        path = _resolve(base, loc)
        if path not in names:
            problems.append(f"页面文件 {path} 不在包内")
            continue
        raw = read(path)
        content = _parse_xml(raw, path, problems) if raw is not None else None
        if content is not None and content.tag != _Q + "Page":
            problems.append(f"{path} 的根元素应为 {{{OFD_NS}}}Page，实为 {content.tag}")
    return problems


# ---------------------------------------------------------------------------------------- PDF
def _pdf_text(text: str) -> str:
    """A PDF hex string in UTF-16BE (for the UniGB-UCS2-H CMap of STSong-Light)."""
    return "<" + text.encode("utf-16-be").hex().upper() + ">"


def _pdf_info_text(text: str) -> str:
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def pdf(
    title: str, lines: list[str], *, created: dt.date | str | None = None, author: str = "tzsb-conformance"
) -> bytes:
    """A PDF 1.7 document: one A4 page per 45 lines, text in the standard CJK font STSong-Light."""
    created_s = created.isoformat() if isinstance(created, dt.date) else (created or "2024-11-22")
    stamp = re.sub(r"[^0-9]", "", created_s)[:8].ljust(8, "0")
    per_page = 45
    chunks = [lines[i : i + per_page] for i in range(0, len(lines), per_page)] or [[]]
    objects: list[bytes] = []  # object n is objects[n-1]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages = add(b"")
    font = add(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [" + b"4 0 R" + b"] >>"
    )
    add(
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 5 0 R /DW 1000 >>"
    )
    add(
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>"
    )
    kids = []
    for n, chunk in enumerate(chunks):
        ops = ["BT"]
        y = 800
        if n == 0:
            ops += [f"/F1 16 Tf 1 0 0 1 56 {y} Tm {_pdf_text(title)} Tj"]
            y -= 30
        for line in chunk:
            ops.append(f"/F1 10.5 Tf 1 0 0 1 56 {y} Tm {_pdf_text(line)} Tj")
            y -= 16
        ops.append("ET")
        stream = zlib.compress("\n".join(ops).encode("ascii"))
        content = add(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 %d 0 R >> >> "
                b"/Contents %d 0 R >>" % (pages, font, content)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages
    objects[pages - 1] = (
        b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids) + b"] /Count %d >>" % len(kids)
    )
    info = add(
        (
            "<< /Title "
            + _pdf_info_text(title)
            + " /Author "
            + _pdf_info_text(author)
            + f" /Producer (tzsb-conformance) /CreationDate (D:{stamp}000000+08'00') >>"
        ).encode("ascii")
    )
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    out += b"0000000000 65535 f \n"
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    file_id = hashlib.md5(bytes(out)).hexdigest().upper()
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        info,
        file_id.encode(),
        file_id.encode(),
        xref_at,
    )
    return bytes(out)


_OBJ_AT = re.compile(rb"\s*(\d+)\s+(\d+)\s+obj\b")


def is_pdf(data: bytes) -> list[str]:
    """Structural problems of a PDF (header, %%EOF, startxref → xref table or stream, objects, /Root)."""
    if not data:
        return ["文件为空"]
    if not re.match(rb"%PDF-[12]\.\d", data[:16]):
        return ["缺少 PDF 文件头 %PDF-x.y"]
    problems: list[str] = []
    tail = data[-1024:]
    if b"%%EOF" not in tail:
        problems.append("文件末尾缺少 %%EOF（文件可能被截断）")
    found = list(re.finditer(rb"startxref\s+(\d+)", tail))
    if not found:
        problems.append("缺少 startxref")
        return problems
    xref_at = int(found[-1].group(1))
    if xref_at >= len(data):
        problems.append(f"startxref 指向文件之外（{xref_at}）")
        return problems
    if data[xref_at : xref_at + 4] == b"xref":
        problems.extend(_check_xref_table(data, xref_at))
    elif _OBJ_AT.match(data, xref_at):
        window = data[xref_at : xref_at + 2048]
        if b"/XRef" not in window:
            problems.append("startxref 指向的对象不是交叉引用流（/Type /XRef）")
        elif b"/Root" not in window:
            problems.append("交叉引用流缺少 /Root")
    else:
        problems.append(f"startxref 指向的位置 {xref_at} 既不是 xref 表也不是交叉引用流")
    if not re.search(rb"\d+\s+\d+\s+obj\b", data):
        problems.append("文件中没有任何间接对象")
    if b"/Catalog" not in data:
        problems.append("缺少文档目录对象（/Type /Catalog）")
    return problems


def _check_xref_table(data: bytes, at: int) -> list[str]:
    problems: list[str] = []
    pos = at + 4
    sections = re.compile(rb"\s*(\d+)\s+(\d+)\s*\r?\n")
    entry = re.compile(rb"(\d{10}) (\d{5}) ([nf])\s{1,2}")
    checked = 0
    while True:
        sm = sections.match(data, pos)
        if not sm:
            break
        first, count = int(sm.group(1)), int(sm.group(2))
        pos = sm.end()
        for i in range(count):
            em = entry.match(data, pos)
            if not em:
                problems.append(f"xref 表第 {first + i} 项格式错误")
                return problems
            pos = em.end()
            if em.group(3) == b"n":
                off = int(em.group(1))
                om = _OBJ_AT.match(data, off) if off < len(data) else None
                if om is None or int(om.group(1)) != first + i:
                    problems.append(f"xref 表中对象 {first + i} 的偏移 {off} 处没有该对象")
                    if len(problems) > 5:
                        return problems
                checked += 1
    tm = re.compile(rb"\s*trailer\s*<<").match(data, pos)
    if tm is None:
        problems.append("xref 表之后缺少 trailer")
    else:
        end = data.find(b"startxref", pos)
        trailer = data[pos : end if end > 0 else pos + 2048]
        if b"/Root" not in trailer:
            problems.append("trailer 缺少 /Root")
        if b"/Size" not in trailer:
            problems.append("trailer 缺少 /Size")
    if checked == 0:
        problems.append("xref 表中没有在用的对象")
    return problems


# ---------------------------------------------------------------------------------------- PNG
def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_thumbnail(text: str, lines: list[str] | None = None, *, width: int = 210, height: int = 297) -> bytes:
    """A greyscale page preview: border, a dark title bar, one grey bar per line (length ~ text length).

    Carries ``text`` in an ``iTXt`` Title chunk. No seal is drawn: previews carry no signature
    (DB42/T 2279-2024 表5 序号16).
    """
    lines = list(lines or [])
    px = [[255] * width for _ in range(height)]
    for x in range(width):
        px[0][x] = px[height - 1][x] = 120
    for y in range(height):
        px[y][0] = px[y][width - 1] = 120

    def bar(y0: int, length: int, thick: int, shade: int) -> None:
        for y in range(y0, min(y0 + thick, height - 2)):
            for x in range(16, min(16 + length, width - 16)):
                px[y][x] = shade

    title_len = min(width - 32, 12 + 9 * len(text))
    bar(18, title_len, 7, 40)
    y = 36
    for line in lines:
        if y > height - 20:
            break
        bar(y, min(width - 32, 6 + 5 * len(line)), 3, 150)
        y += 8
    raw = b"".join(b"\x00" + bytes(row) for row in px)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    itxt = b"Title\x00\x00\x00\x00\x00" + text.encode("utf-8")
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"iTXt", itxt)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def is_png(data: bytes) -> list[str]:
    """Structural problems of a PNG (signature, chunk CRCs, IHDR/IDAT/IEND, pixel data size)."""
    if not data.startswith(PNG_SIGNATURE):
        return ["缺少 PNG 文件签名"]
    problems: list[str] = []
    pos = len(PNG_SIGNATURE)
    kinds: list[bytes] = []
    idat = bytearray()
    ihdr: tuple[int, ...] | None = None
    while pos < len(data):
        if pos + 8 > len(data):
            problems.append("数据块头被截断")
            break
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        crc = data[pos + 8 + length : pos + 12 + length]
        if len(body) != length or len(crc) != 4:
            problems.append(f"数据块 {kind.decode('latin-1')} 被截断")
            break
        if struct.unpack(">I", crc)[0] != zlib.crc32(kind + body) & 0xFFFFFFFF:
            problems.append(f"数据块 {kind.decode('latin-1')} 的 CRC 错误")
        kinds.append(kind)
        if kind == b"IHDR" and length == 13:
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
        if kind == b"IEND":
            break
    if not kinds or kinds[0] != b"IHDR":
        problems.append("第一个数据块不是 IHDR")
    if b"IDAT" not in kinds:
        problems.append("没有图像数据块 IDAT")
    if not kinds or kinds[-1] != b"IEND":
        problems.append("缺少结束块 IEND")
    if ihdr and idat and not problems:
        w, h, depth, colour = ihdr[0], ihdr[1], ihdr[2], ihdr[3]
        channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour)
        if channels is None or w == 0 or h == 0:
            problems.append("IHDR 的尺寸或颜色类型不合法")
        elif ihdr[6] == 0:  # not interlaced: the exact size is known
            expected = h * (1 + (w * channels * depth + 7) // 8)
            try:
                got = len(zlib.decompressobj().decompress(bytes(idat), expected + 1))
            except zlib.error as exc:
                problems.append(f"IDAT 无法解压（{exc}）")
            else:
                if got != expected:
                    problems.append(f"IDAT 解压后为 {got} 字节，应为 {expected} 字节")
    return problems


def png_size(data: bytes) -> tuple[int, int] | None:
    if data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR":
        w, h = struct.unpack(">II", data[16:24])
        return w, h
    return None


def content_disposition(file_name: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", file_name) or "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"

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

The structure of these files is checked by :mod:`conformance.check.media` (the same checker the suites use).

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
from urllib.parse import quote
from xml.sax.saxutils import escape

from conformance.check.media import OFD_NS, PNG_SIGNATURE

#: Fixed ZIP member time: identical inputs give identical bytes (and digests).
_ZIP_TIME = (2024, 11, 22, 0, 0, 0)

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


def content_disposition(file_name: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", file_name) or "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"

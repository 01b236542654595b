"""Generated layout files and images (conformance/reference/files.py) and their validators."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib

import defusedxml.ElementTree as DefusedET
import pytest

from conformance.check import media
from conformance.reference import files

TITLE = "特种设备使用登记证"
LINES = [
    "使用登记证编号：梯11鄂A00001(24)",
    "使用单位：武汉市长江物业服务有限公司",
    "设备代码：311042012020240001",
    "特殊字符：<&>\"'",
]
NS = "{http://www.ofdspec.org/2016}"


def _rezip(data: bytes, edit) -> bytes:
    """Copy an OFD package, letting ``edit(name, content)`` change or drop (None) members."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            content = edit(name, src.read(name))
            if content is not None:
                dst.writestr(name, content)
    return out.getvalue()


# ------------------------------------------------------------------ OFD
def test_ofd_is_a_valid_package() -> None:
    data = files.ofd(TITLE, LINES)
    assert media.ofd_problems(data) == []
    assert files.sniff(data) == "OFD"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        root = DefusedET.fromstring(z.read("OFD.xml"))
        assert root.tag == NS + "OFD" and root.get("DocType") == "OFD" and root.get("Version")
        doc_root = root.find(f"{NS}DocBody/{NS}DocRoot").text
        assert doc_root == "Doc_0/Document.xml" and doc_root in z.namelist()
        assert root.find(f"{NS}DocBody/{NS}DocInfo/{NS}Title").text == TITLE
        doc = DefusedET.fromstring(z.read(doc_root))
        page = doc.find(f"{NS}Pages/{NS}Page").get("BaseLoc")
        content = DefusedET.fromstring(z.read("Doc_0/" + page))
        texts = [t.text for t in content.iter(NS + "TextCode")]
        assert texts[0] == TITLE and LINES[-1] in texts
        max_id = int(doc.find(f"{NS}CommonData/{NS}MaxUnitID").text)
        ids = [int(e.get("ID")) for e in content.iter() if e.get("ID")]
        assert max(ids) <= max_id


def test_ofd_is_deterministic_and_pages_long_documents() -> None:
    assert files.ofd(TITLE, LINES) == files.ofd(TITLE, LINES)
    assert files.ofd(TITLE, LINES) != files.ofd(TITLE, [*LINES, "x"])
    long = files.ofd(TITLE, [f"第{i}行" for i in range(95)])
    assert media.ofd_problems(long) == []
    with zipfile.ZipFile(io.BytesIO(long)) as z:
        assert sum(1 for n in z.namelist() if n.endswith("Content.xml")) == 3


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d[: len(d) // 2], "截断"),
        (lambda d: b"", "为空"),
        (lambda d: b"not a zip at all", "ZIP"),
        (lambda d: _rezip(d, lambda n, c: None if n == "OFD.xml" else c), "缺少 OFD.xml"),
        (
            lambda d: _rezip(
                d,
                lambda n, c: (
                    c.replace(b"http://www.ofdspec.org/2016", b"http://example.com/ofd") if n == "OFD.xml" else c
                ),
            ),
            "根元素",
        ),
        (
            lambda d: _rezip(d, lambda n, c: c.replace(b'DocType="OFD"', b'DocType="PDF"') if n == "OFD.xml" else c),
            "DocType",
        ),
        (lambda d: _rezip(d, lambda n, c: c.replace(b' Version="1.0"', b"") if n == "OFD.xml" else c), "Version"),
        (lambda d: _rezip(d, lambda n, c: None if n == "Doc_0/Document.xml" else c), "DocRoot"),
        (lambda d: _rezip(d, lambda n, c: None if n.endswith("Content.xml") else c), "页面文件"),
        (lambda d: _rezip(d, lambda n, c: c[:-20] if n == "OFD.xml" else c), "XML"),
        (
            lambda d: _rezip(
                d,
                lambda n, c: (
                    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>' + c.split(b"?>", 1)[1]
                    if n == "OFD.xml"
                    else c
                ),
            ),
            "XML",
        ),
    ],
)
def test_is_ofd_rejects_broken_packages(mutate, expected: str) -> None:
    problems = media.ofd_problems(mutate(files.ofd(TITLE, LINES)))
    assert problems and any(expected in p for p in problems), problems


# ------------------------------------------------------------------ PDF
def test_pdf_structure() -> None:
    data = files.pdf(TITLE, LINES)
    assert media.pdf_problems(data) == []
    assert files.sniff(data) == "PDF"
    assert data.startswith(b"%PDF-1.7") and data.rstrip().endswith(b"%%EOF")
    at = int(re.search(rb"startxref\s+(\d+)", data).group(1))
    assert data[at : at + 4] == b"xref"
    # every xref entry points at its object
    count = int(re.search(rb"xref\n0 (\d+)", data).group(1))
    entries = re.findall(rb"(\d{10}) 00000 n", data)
    assert len(entries) == count - 1
    for n, off in enumerate(entries, start=1):
        assert data[int(off) :].startswith(b"%d 0 obj" % n)
    # the title is in the page content (UTF-16BE hex for UniGB-UCS2-H)
    stream = re.search(rb"stream\n(.*?)\nendstream", data, re.S).group(1)
    assert TITLE.encode("utf-16-be").hex().upper().encode() in zlib.decompress(stream)
    assert files.pdf(TITLE, LINES) == data


def test_pdf_opens_with_a_pdf_parser() -> None:
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(files.pdf(TITLE, LINES + [f"第{i}行" for i in range(60)])), strict=True)
    assert len(reader.pages) == 2
    assert TITLE in reader.pages[0].extract_text()


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.replace(b"%%EOF", b""), "%%EOF"),
        (lambda d: d[:-40], "%%EOF"),
        (lambda d: d[9:], "文件头"),
        (lambda d: b"", "为空"),
        (lambda d: re.sub(rb"startxref\n\d+", b"startxref\n12", d), "startxref"),
        (lambda d: d.replace(b"4 0 obj", b"9 0 obj", 1), "偏移"),
        (lambda d: d.replace(b"/Root", b"/Rxxt"), "/Root"),
    ],
)
def test_is_pdf_rejects_broken_files(mutate, expected: str) -> None:
    problems = media.pdf_problems(mutate(files.pdf(TITLE, LINES)))
    assert problems and any(expected in p for p in problems), problems


# ------------------------------------------------------------------ PNG
def test_png_thumbnail() -> None:
    data = files.png_thumbnail(TITLE, LINES)
    assert media.png_problems(data) == []
    assert files.sniff(data) == "PNG"
    assert data[12:16] == b"IHDR" and struct.unpack(">II", data[16:24]) == (210, 297)
    assert TITLE.encode("utf-8") in data  # iTXt title
    assert files.png_thumbnail(TITLE, LINES) == data


def test_is_png_rejects_broken_images() -> None:
    data = files.png_thumbnail(TITLE, LINES)
    assert media.png_problems(data[:-12])  # no IEND
    assert media.png_problems(b"GIF89a" + data[6:])
    corrupt = bytearray(data)
    corrupt[40] ^= 0xFF  # inside a chunk: its CRC no longer matches
    assert any("CRC" in p for p in media.png_problems(bytes(corrupt)))
    ihdr_at = 8
    length = struct.unpack(">I", data[ihdr_at : ihdr_at + 4])[0]
    body = bytearray(data[ihdr_at + 8 : ihdr_at + 8 + length])
    body[3] = 250  # width 250 instead of 210: pixel data too short
    fixed = (
        data[:ihdr_at]
        + struct.pack(">I", length)
        + b"IHDR"
        + bytes(body)
        + struct.pack(">I", zlib.crc32(b"IHDR" + bytes(body)) & 0xFFFFFFFF)
        + data[ihdr_at + 12 + length :]
    )
    assert any("IDAT" in p for p in media.png_problems(fixed))


def test_layout_and_helpers() -> None:
    assert files.sniff(files.layout("OFD", TITLE, LINES)) == "OFD"
    assert files.sniff(files.layout("pdf", TITLE, LINES)) == "PDF"
    with pytest.raises(ValueError):
        files.layout("DOCX", TITLE, LINES)
    assert files.sniff(b"hello") is None
    assert len(files.sha256(b"x")) == 64
    cd = files.content_disposition("梯11鄂A00001(24).ofd")
    assert cd.startswith('attachment; filename="') and "filename*=UTF-8''" in cd and cd.isascii()

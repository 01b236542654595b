"""Is a file what it claims to be: the structure of OFD (GB/T 33190), PDF, PNG and JPEG files, as lists of problems
in Chinese (empty: valid as far as checked). One checker for the suites (files a target serves) and the project's
tests of the reference server's generated files. Bounded: members, unpacked size and XML parsing are limited, and
a broken or hostile file is a finding, never a crash."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

import defusedxml.ElementTree as DefusedET

OFD_NS = "http://www.ofdspec.org/2016"


_Q = "{" + OFD_NS + "}"


#: Limits for untrusted packages (zip bombs, huge members).
MAX_MEMBERS = 10_000


MAX_UNPACKED = 200 * 1024 * 1024


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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


def ofd_problems(data: bytes) -> list[str]:
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


_OBJ_AT = re.compile(rb"\s*(\d+)\s+(\d+)\s+obj\b")


def pdf_problems(data: bytes) -> list[str]:
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
    if b"/Catalog" not in data and b"/ObjStm" not in data:  # in an object stream the catalog is compressed
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


def png_problems(data: bytes) -> list[str]:
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


def jpeg_problems(data: bytes) -> list[str]:
    """SOI at the start, a frame header (SOF0/1/2), EOI at the end."""
    problems = []
    if not data.startswith(b"\xff\xd8\xff"):
        problems.append("不是 JPEG（没有 SOI 标记）")
    if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        problems.append("JPEG 没有以 EOI 标记结束")
    if not any(m in data for m in (b"\xff\xc0", b"\xff\xc1", b"\xff\xc2")):
        problems.append("JPEG 没有帧头（SOF）")
    return problems


#: The checker of each media type a contract allows for a file or an image.
CHECKERS: dict[str, Callable[[bytes], list[str]]] = {
    "application/ofd": ofd_problems,
    "application/pdf": pdf_problems,
    "image/png": png_problems,
    "image/jpeg": jpeg_problems,
}


def problems_of(data: bytes, media_type: str) -> list[str]:
    """The problems of ``data`` as a file of ``media_type``; a type with no checker is itself the problem."""
    check = CHECKERS.get(media_type)
    if check is None:
        return [f"文件类型 {media_type} 不是契约允许的类型（{'、'.join(CHECKERS)}）"]
    return check(data)

"""The text encoding of a CSV dump, and a UTF-8 copy of it when it is in another.

JSON is UTF-8 (RFC 8259 §8.1): a JSON Lines file is read as UTF-8 and a line that is not is a broken record, as
``tzsb-conform validate`` says. A CSV file has no such rule, and the CSV a Chinese office exports is often in the
national encoding: GB 18030 (which contains GBK and GB 2312; Excel's "CSV" on a Chinese Windows writes it), or UTF-16
(Excel's "Unicode text"). The rule here is exact, not a guess:

* a file that is valid UTF-8 (with or without a byte-order mark) is UTF-8;
* a file that starts with a UTF-16 byte-order mark is UTF-16 (and must decode as such);
* any other file must decode as GB 18030;
* a file that is none of these cannot be read: :class:`Unreadable`, its data set is 未测 with the reason.

A CJK text in GBK is almost never valid UTF-8 (its bytes would have to form UTF-8 sequences throughout), so the first
rule does not take a GB 18030 file for UTF-8 in practice; a pure ASCII file is both and reads the same either way.
"""

from __future__ import annotations

import codecs
import hashlib
from pathlib import Path

from conformance.audit.inputs import open_bytes

UTF8, UTF16, GB18030 = "utf-8", "utf-16", "gb18030"

#: bytes read at a time
BLOCK = 1 << 22


class Unreadable(ValueError):
    """A file in none of the encodings read (see the module's rule); the message is bilingual."""


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with open_bytes(path) as f:
            while block := f.read(BLOCK):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def sniff(path: Path) -> str:
    """The encoding of a CSV file by the rule of this module (:class:`Unreadable` when none applies)."""
    with open_bytes(path) as f:
        head = f.read(2)
    if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if _decodes(path, UTF16):
            return UTF16
    elif _decodes(path, UTF8):
        return UTF8
    elif _decodes(path, GB18030):
        return GB18030
    raise Unreadable(
        f"{path.name}：既不是 UTF-8、UTF-16（带字节顺序标记），也不是 GB 18030 编码的文本 / "
        f"{path.name}: the text is neither UTF-8, UTF-16 (with a byte-order mark) nor GB 18030"
    )


def as_utf8(path: Path, encoding: str, workdir: Path) -> Path:
    """``path`` itself when it is UTF-8, else a UTF-8 copy of it in ``workdir`` (written block by block)."""
    if encoding == UTF8:
        return path
    workdir.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    copy = workdir / f"{name}.utf8.csv"
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with open_bytes(path) as src, copy.open("w", encoding=UTF8, newline="") as out:
        while block := src.read(BLOCK):
            out.write(decoder.decode(block))
        out.write(decoder.decode(b"", final=True))
    return copy

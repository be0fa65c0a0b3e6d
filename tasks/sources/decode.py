"""Bytes to text: BOMs, declared and meta charsets, UTF-8, detection, and files mixing them."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from schemas.models import RejectReason
from tasks.sources import FetchError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# Share of control characters (other than tab and newlines) above which text is not text.
_MAX_CONTROL_SHARE = 0.01
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WESTERN = "cp1252"


def decode(data: bytes, *, html: bool, declared: str | None = None) -> str:
    """Decode bytes: a BOM, the declared (HTTP) charset, the page's meta charset, strict
    UTF-8, and last detection (charset-normalizer), in that order."""
    for bom, bom_encoding in _BOMS:
        if data.startswith(bom):
            return _checked(data.decode(bom_encoding, errors="strict"))
    if b"\x00" in data:
        raise FetchError(RejectReason.BINARY, "contains NUL bytes: not a text or HTML file")
    meta = _META_CHARSET.search(data[:4096]) if html else None
    candidates = [declared, meta.group(1).decode("ascii") if meta else None, "utf-8"]
    for encoding in candidates:
        if encoding:
            try:
                return _checked(data.decode(encoding, errors="strict"))
            except (LookupError, UnicodeDecodeError):
                pass  # a wrong or unknown declaration: the next candidate decides
    mixed = _mixed_with_utf8(data)
    if mixed is not None:
        return _checked(mixed)
    best = from_bytes(data).best()
    if best is None:
        raise FetchError(RejectReason.UNDECODABLE, "bytes match no known text encoding")
    return _checked(str(best))


def _mixed_with_utf8(data: bytes) -> str | None:
    """Text whose lines are UTF-8 except some in a legacy encoding (pasted from elsewhere):
    the UTF-8 lines as they are, the others in the encoding detected for them. None when no
    line shows UTF-8 beyond ASCII (then the file is one legacy encoding, for detection)."""
    lines = data.splitlines(keepends=True)
    decoded: list[str | None] = []
    for line in lines:
        try:
            decoded.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            decoded.append(None)
    if not any(text is not None and not text.isascii() for text in decoded):
        return None
    legacy = [line for line, text in zip(lines, decoded, strict=True) if text is None]
    matches = list(from_bytes(b"".join(legacy)))
    least = min((match.chaos for match in matches), default=0.0)
    cleanest = [match.encoding for match in matches if match.chaos == least]
    # Short snippets fit several code pages equally well: Windows-1252 is the common one.
    encoding = _WESTERN if _WESTERN in cleanest else next(iter(cleanest), "utf-8")
    return "".join(
        text if text is not None else line.decode(encoding, errors="replace")
        for line, text in zip(lines, decoded, strict=True)
    )


def _checked(text: str) -> str:
    if len(_CONTROL.findall(text)) > _MAX_CONTROL_SHARE * max(len(text), 1):
        raise FetchError(RejectReason.BINARY, "mostly control characters: not a text or HTML file")
    return text

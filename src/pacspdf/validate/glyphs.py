"""Turn a brand's TrueType files and a report's text into problems: characters the fonts cannot print.

A character missing from the brand's fonts prints as an empty box in the PDF (and used to stop
a chart with a traceback), so ``check`` finds it first. The font's character map (``cmap``,
formats 4 and 12) is read directly from the file: no font library is imported.
"""

from __future__ import annotations

import struct
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path


def _table(data: bytes, tag: bytes) -> bytes | None:
    if len(data) < 12:
        return None
    count = struct.unpack_from(">H", data, 4)[0]
    for i in range(count):
        offset = 12 + 16 * i
        if offset + 16 > len(data):
            return None
        name, _checksum, start, length = struct.unpack_from(">4sIII", data, offset)
        if name == tag:
            return data[start:start + length]
    return None


def _format4(sub: bytes) -> set[int]:
    segs = struct.unpack_from(">H", sub, 6)[0] // 2
    ends = struct.unpack_from(f">{segs}H", sub, 14)
    starts = struct.unpack_from(f">{segs}H", sub, 16 + 2 * segs)
    deltas = struct.unpack_from(f">{segs}h", sub, 16 + 4 * segs)
    ranges_at = 16 + 6 * segs
    offsets = struct.unpack_from(f">{segs}H", sub, ranges_at)
    out: set[int] = set()
    for i in range(segs):
        for code in range(starts[i], ends[i] + 1):
            if code == 0xFFFF:
                continue
            if offsets[i] == 0:
                glyph = (code + deltas[i]) & 0xFFFF
            else:
                at = ranges_at + 2 * i + offsets[i] + 2 * (code - starts[i])
                if at + 2 > len(sub):
                    continue
                glyph = struct.unpack_from(">H", sub, at)[0]
                glyph = (glyph + deltas[i]) & 0xFFFF if glyph else 0
            if glyph:
                out.add(code)
    return out


def _format12(sub: bytes) -> set[int]:
    groups = struct.unpack_from(">I", sub, 12)[0]
    out: set[int] = set()
    for i in range(groups):
        start, end, glyph = struct.unpack_from(">III", sub, 16 + 12 * i)
        if end - start > 0x30000:  # a damaged table; do not allocate millions of entries
            continue
        out.update(range(start, end + 1) if glyph else range(start + 1, end + 1))
    return out


@lru_cache(maxsize=32)
def covered(path: Path) -> frozenset[int]:
    """The code points the TrueType file at ``path`` has glyphs for (empty when unreadable)."""
    try:
        data = path.read_bytes()
        cmap = _table(data, b"cmap")
        if cmap is None:
            return frozenset()
        best: set[int] = set()
        for i in range(struct.unpack_from(">H", cmap, 2)[0]):
            platform, encoding, offset = struct.unpack_from(">HHI", cmap, 4 + 8 * i)
            if (platform, encoding) not in ((3, 1), (3, 10), (0, 3), (0, 4), (0, 6)):
                continue
            sub = cmap[offset:]
            kind = struct.unpack_from(">H", sub, 0)[0]
            found = _format12(sub) if kind == 12 else _format4(sub) if kind == 4 else set()
            best |= found
        return frozenset(best)
    except (OSError, struct.error):
        return frozenset()


def missing(text: str, codes: frozenset[int]) -> list[str]:
    """Characters of ``text`` (in order, once each) that ``codes`` lacks; spaces and controls
    are never missing (they print nothing)."""
    if text.isascii() and all(ord(ch) in codes for ch in set(text) if ch.isprintable()):
        return []  # the common case, without a per-character walk
    return [ch for ch in dict.fromkeys(text)
            if ord(ch) not in codes and not ch.isspace()
            and unicodedata.category(ch) not in ("Cc", "Cf")]


def describe(chars: Iterable[str], limit: int = 4) -> str:
    """``'東' (U+6771), 'モ' (U+30E2) and 3 more`` for a message."""
    chars = list(chars)
    shown = ", ".join(f"'{c}' (U+{ord(c):04X})" for c in chars[:limit])
    return shown + (f" and {len(chars) - limit} more" if len(chars) > limit else "")


#: Brand fields that are not printed as text (files, colours, URLs).
NOT_PRINTED = ("fonts", "logo", "logo_white", "colours", "links", "page_size", "watermark",
               "brand", "slug", "language", "keywords", "file", "coverage", "id", "data",
               "kind", "callout", "figure", "table")


def strings(data: object, path: tuple[str | int, ...] = ()) -> Iterable[tuple[tuple[str | int, ...], str]]:
    """Every printed string of a YAML tree with its path (keys in NOT_PRINTED are skipped)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and key in NOT_PRINTED and not isinstance(value, dict):
                continue
            yield from strings(value, (*path, str(key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from strings(value, (*path, i))
    elif isinstance(data, str):
        yield path, data

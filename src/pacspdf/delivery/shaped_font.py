"""Turn text in a complex script (Indic, Sinhala, Khmer, Thai ...) into positioned glyphs of one
TrueType font, shaped by HarfBuzz, as PDF text operators whose extracted text is the typed text.

A complex script is not drawn character by character: Devanagari "कि" draws the i-matra
before the consonant, "प्र" is one conjunct glyph, and marks sit at offsets the font's GPOS
table gives. HarfBuzz (``uharfbuzz``) turns the text into glyph IDs, clusters and positions;
this module then gives each distinct (glyph, text, advance) its own one-byte code in a simple
TrueType subset, so the ToUnicode map can return, glyph by glyph in drawing order, the
characters of each cluster in their logical order: "कि" drawn as [ि-glyph, क-glyph] reads back
as "क" + "ि". A line holding shaped runs is also wrapped in a marked-content span whose
``/ActualText`` is the line's text, for readers that honour it (pdfium does).

Glyphs that have no character of their own (conjuncts, half forms) are reached through code
points in Unicode's supplementary private-use plane 15, registered on this module's own copy
of the font face; names never contain such code points (``clean`` turns them into spaces).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# Scripts that must be shaped to be legible, each by a letter of it (its KA, or first letter):
# the Indic scripts, Sinhala, Thai, Lao, Tibetan, Myanmar and Khmer. A font for one of them is
# shaped; a font that only lists their OpenType tags among its features (many Noto fonts
# carry "dev2" for shared punctuation) is not.
COMPLEX_LETTERS = {"Devanagari": 0x0915, "Bengali": 0x0995, "Gurmukhi": 0x0A15, "Gujarati": 0x0A95,
                   "Oriya": 0x0B15, "Tamil": 0x0B95, "Telugu": 0x0C15, "Kannada": 0x0C95,
                   "Malayalam": 0x0D15, "Sinhala": 0x0D9A, "Thai": 0x0E01, "Lao": 0x0E81,
                   "Tibetan": 0x0F40, "Myanmar": 0x1000, "Khmer": 0x1780}

_PSEUDO_BASE = 0xF0000  # plane 15 private use: never in a cleaned name


@lru_cache(maxsize=16)
def _hb_font(path: str) -> Any:
    import uharfbuzz as hb

    face = hb.Face(hb.Blob.from_file_path(path))
    return hb.Font(face)


@lru_cache(maxsize=64)
def needs_shaping(path: str) -> bool:
    """Whether the font at ``path`` is for a complex script (has one of its letters)."""
    font = _hb_font(path)
    return any(font.get_nominal_glyph(cp) for cp in COMPLEX_LETTERS.values())


class _Face:
    """A ReportLab face of its own (it gains pseudo code points) and the (glyph, text) registry."""

    def __init__(self, path: str) -> None:
        from reportlab.pdfbase.ttfonts import TTFontFace

        self.face = TTFontFace(path)
        self.real = frozenset(self.face.charToGlyph)
        self.scale = 1000.0 / float(self.face.unitsPerEm)
        self.pseudo: dict[tuple[int, str, int], int] = {}

    def code_point(self, gid: int, text: str, advance: int) -> int:
        """The pseudo code point standing for glyph ``gid`` read as ``text`` and advancing by
        ``advance`` (1/1000 em: its /Widths entry, so the PDF's own metrics are the shaped ones)."""
        key = (gid, text, advance)
        cp = self.pseudo.get(key)
        if cp is None:
            cp = _PSEUDO_BASE + len(self.pseudo)
            self.pseudo[key] = cp
            self.face.charToGlyph[cp] = gid
            self.face.charWidths[cp] = advance
        return cp


@lru_cache(maxsize=16)
def _face(path: str) -> _Face:
    return _Face(path)


Glyph = tuple[int, str, float, float, float]  # glyph ID, its text, advance, x and y offset (1/1000 em)


@lru_cache(maxsize=4096)
def shape(path: str, text: str) -> tuple[Glyph, ...]:
    """``text`` (logical order, left-to-right script) as glyphs in drawing order, each with the
    part of its cluster's text it stands for: the cluster's characters are handed out one per
    glyph in drawing order, the last glyph taking the rest."""
    import uharfbuzz as hb

    font = _hb_font(path)
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    hb.shape(font, buf, {})
    scale = _face(path).scale
    infos, positions = buf.glyph_infos, buf.glyph_positions
    starts = sorted({info.cluster for info in infos})
    end_of = {s: (starts[i + 1] if i + 1 < len(starts) else len(text)) for i, s in enumerate(starts)}
    out: list[Glyph] = []
    i = 0
    while i < len(infos):
        cluster = infos[i].cluster
        j = i
        while j < len(infos) and infos[j].cluster == cluster:
            j += 1
        chars = text[cluster:end_of[cluster]]
        for k in range(i, j):
            n = k - i
            piece = chars[n:] if k == j - 1 else chars[n:n + 1]
            pos = positions[k]
            out.append((infos[k].codepoint, piece, pos.x_advance * scale, pos.x_offset * scale,
                        pos.y_offset * scale))
        i = j
    return tuple(out)


def actual_text(text: str, ops: str) -> str:
    """``ops`` inside a marked-content span whose ``/ActualText`` is ``text``: a whole line, so
    that a reader extracts the line as typed, with no space guessed from where a mark or a
    conjunct's last glyph sits."""
    return f"/Span <</ActualText <FEFF{_utf16(text)}> >> BDC {ops} EMC"


def _utf16(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()


def _num(v: float) -> str:
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


class ShapedSubset:
    """One complex-script font's glyphs for this copy (the personaliser's font interface):
    pseudo code point -> one-byte code, and what each code reads as."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._face = _face(path)
        self.face = self._face.face
        self.codes: dict[int, int] = {}

    def can_show(self, text: str) -> bool:
        """Whether the font has every character (joiners need no glyph: HarfBuzz hides them)."""
        return all(ord(ch) in self._face.real or ch in "\u200c\u200d" for ch in text)

    def width(self, text: str, size: float) -> float:
        return sum(g[2] for g in shape(self.path, text)) * size / 1000.0

    def _code(self, gid: int, piece: str, advance: int) -> int:
        cp = self._face.code_point(gid, piece, advance)
        if cp not in self.codes:
            self.codes[cp] = len(self.codes)
        return self.codes[cp]

    def show(self, text: str, size: float) -> str:
        """Text operators drawing ``text`` shaped, from the current point, advancing by its
        shaped width (wrap the line in :func:`actual_text`)."""
        ops: list[str] = []
        arr: list[str] = []
        pdf_pen = 0.0  # where the PDF's own advance (the /Widths) has put the pen, 1/1000 em
        pen = 0.0  # where HarfBuzz puts it
        rise = 0.0
        for gid, piece, advance, dx, dy in shape(self.path, text):
            if dy != rise:
                if arr:
                    ops.append(f"[{' '.join(arr)}] TJ")
                    arr = []
                rise = dy
                ops.append(f"{_num(rise * size / 1000.0)} Ts")
            width = round(advance)
            code = self._code(gid, piece, width)
            adjust = pdf_pen - (pen + dx)
            if abs(adjust) > 0.005:
                arr.append(_num(adjust))
            arr.append(f"<{code:02x}>")
            pdf_pen = pen + dx + width
            pen += advance
        if abs(pdf_pen - pen) > 0.005:
            arr.append(_num(pdf_pen - pen))
        if arr:
            ops.append(f"[{' '.join(arr)}] TJ")
        if rise:
            ops.append("0 Ts")
        return " ".join(ops)

    def glyphs(self, subset: list[int]) -> list[tuple[int, str, int] | None]:
        """What each pseudo code point of ``subset`` stands for: (glyph, text, advance). The
        numbers are given per process in order of use; these are what the subset really holds."""
        key_of = {cp: key for key, cp in self._face.pseudo.items()}
        return [key_of.get(cp) for cp in subset]

    def to_unicode(self, name: str, subset: list[int]) -> str:
        """The ToUnicode CMap: each code reads as its glyph's share of the cluster's text
        (a glyph that stands for no character of its own, the second part of a vowel drawn
        in two pieces, reads as the empty string)."""
        text_of = {cp: piece for (_gid, piece, _w), cp in self._face.pseudo.items()}
        pairs = [(code, text_of[cp]) for code, cp in enumerate(subset) if cp in text_of]
        lines = ["/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
                 "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
                 f"/CMapName /{name} def", "/CMapType 2 def", "1 begincodespacerange",
                 "<00> <FF>", "endcodespacerange"]
        for start in range(0, len(pairs), 100):
            chunk = pairs[start:start + 100]
            lines.append(f"{len(chunk)} beginbfchar")
            lines += [f"<{code:02X}> <{_utf16(piece)}>" for code, piece in chunk]
            lines.append("endbfchar")
        lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
        return "\n".join(lines)

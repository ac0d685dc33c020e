"""Measure a built sample PDF as a reader sees it: page fill, lines, type size, hyphens, widows, links."""

from __future__ import annotations

import ctypes
import itertools
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pypdf
import pypdfium2
import pypdfium2.raw as pdfium_c

# ------------------------------------------------------------------ characters and lines

@dataclass(frozen=True)
class Char:
    text: str
    x: float          # origin
    y: float          # baseline
    right: float
    size: float
    font: str
    weight: int


@dataclass
class Line:
    chars: list[Char] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(c.text for c in self.chars)

    @property
    def left(self) -> float:
        return self.chars[0].x

    @property
    def right(self) -> float:
        return max(c.right for c in self.chars)

    @property
    def y(self) -> float:
        return statistics.median(c.y for c in self.chars)

    @property
    def size(self) -> float:
        return Counter(round(c.size, 1) for c in self.chars).most_common(1)[0][0]

    @property
    def font(self) -> str:
        return Counter(c.font for c in self.chars).most_common(1)[0][0]


def _font_name(textpage: Any, i: int) -> tuple[str, int]:
    buf = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    pdfium_c.FPDFText_GetFontInfo(textpage.raw, i, buf, 128, ctypes.byref(flags))
    name = buf.value.decode("latin-1")
    return name.split("+", 1)[-1], pdfium_c.FPDFText_GetFontWeight(textpage.raw, i)


def page_chars(page: Any) -> list[Char]:
    """Every drawn (not generated) character of a page with its origin, size and font."""
    tp = page.get_textpage()
    out = []
    x, y = ctypes.c_double(), ctypes.c_double()
    for i in range(tp.count_chars()):
        if pdfium_c.FPDFText_IsGenerated(tp.raw, i) == 1:
            continue
        ch = chr(pdfium_c.FPDFText_GetUnicode(tp.raw, i))
        if ch in "\r\n":
            continue
        pdfium_c.FPDFText_GetCharOrigin(tp.raw, i, ctypes.byref(x), ctypes.byref(y))
        box = tp.get_charbox(i, loose=True)
        name, weight = _font_name(tp, i)
        out.append(Char(ch, x.value, y.value, box[2], pdfium_c.FPDFText_GetFontSize(tp.raw, i), name, weight))
    tp.close()
    return out


def lines_of(chars: list[Char], *, gap_em: float = 1.6) -> list[Line]:
    """Chars grouped into lines: same baseline, no horizontal gap wider than ``gap_em`` ems."""
    rows: dict[float, list[Char]] = {}
    for c in chars:
        key = next((k for k in rows if abs(k - c.y) < 0.8), c.y)
        rows.setdefault(key, []).append(c)
    out: list[Line] = []
    for y in sorted(rows, reverse=True):
        row = sorted(rows[y], key=lambda c: c.x)
        cur = Line()
        for c in row:
            if cur.chars and c.x - cur.chars[-1].right > gap_em * c.size:
                out.append(cur)
                cur = Line()
            cur.chars.append(c)
        if cur.chars:
            out.append(cur)
    return out


# ------------------------------------------------------------------ the document

@dataclass
class Page:
    number: int
    chars: list[Char]
    lines: list[Line]
    text: str                   # pypdf extraction
    fill: float                 # 0..1 of the body frame used, top to lowest ink
    body_top: float             # y of the header rule (PDF points, from bottom)
    body_bottom: float          # y of the footer rule
    links: list[tuple[tuple[float, float, float, float], str]]


def _rules(gray: np.ndarray, scale: float) -> tuple[int, int] | None:
    """Pixel rows of the header and footer rules: thin rows of long horizontal runs."""
    h, w = gray.shape
    dark = gray < 240
    long_rows = [r for r in range(h) if dark[r].sum() > 0.6 * w]
    if not long_rows:
        return None
    top = [r for r in long_rows if r < h * 0.15]
    bottom = [r for r in long_rows if r > h * 0.85]
    if not top or not bottom:
        return None
    return max(top), min(bottom)


def page_fill(pdf: Any, index: int, scale: float = 1.0) -> tuple[float, float, float]:
    """(fill, header-rule y, footer-rule y): the share of the body between the running
    header's and footer's rules that content reaches down into (faint watermark ignored)."""
    page = pdf[index]
    img = page.render(scale=scale, grayscale=True).to_numpy()
    gray = img if img.ndim == 2 else img[:, :, 0]
    rules = _rules(gray, scale)
    if rules is None:
        return 1.0, 0.0, 0.0
    top, bottom = rules
    ink = gray[top + 3: bottom - 3] < 200
    rows = np.where(ink.any(axis=1))[0]
    lowest = (rows.max() + top + 3) if rows.size else top
    fill = (lowest - top) / (bottom - top)
    height_pt = page.get_height()
    return float(fill), height_pt - top / scale, height_pt - bottom / scale


def links_of(reader: pypdf.PdfReader, index: int) -> list[tuple[tuple[float, float, float, float], str]]:
    out = []
    for annot in reader.pages[index].get("/Annots") or []:
        a = annot.get_object()
        if a.get("/Subtype") != "/Link":
            continue
        action = a.get("/A")
        uri = ""
        if action is not None:
            action = action.get_object()
            uri = str(action.get("/URI", "")) or ("#" + str(action.get("/D", "")))
        elif a.get("/Dest") is not None:
            uri = "#dest"
        rect = tuple(float(v) for v in a["/Rect"])
        out.append((rect, uri))  # type: ignore[arg-type]
    return out


def read(path: Path) -> list[Page]:
    pdf = pypdfium2.PdfDocument(str(path))
    reader = pypdf.PdfReader(str(path))
    pages = []
    for i in range(len(pdf)):
        chars = page_chars(pdf[i])
        fill, top, bottom = page_fill(pdf, i)
        pages.append(Page(i + 1, chars, lines_of(chars), reader.pages[i].extract_text() or "", fill, top,
                          bottom, links_of(reader, i)))
    pdf.close()
    return pages


# ------------------------------------------------------------------ measures

def body_lines(page: Page, body_size: float) -> list[Line]:
    """Lines set at the body size inside the body frame (running header and footer excluded)."""
    return [ln for ln in page.lines if abs(ln.size - body_size) < 0.15
            and page.body_bottom + 2 < ln.y < page.body_top - 2]


def body_size(pages: list[Page]) -> float:
    """The most common font size, weighted by characters, over body pages."""
    sizes: Counter[float] = Counter()
    for p in pages[1:]:
        for ln in p.lines:
            if p.body_bottom + 2 < ln.y < p.body_top - 2:
                sizes[ln.size] += len(ln.chars)
    return sizes.most_common(1)[0][0]


def full_lines(pages: list[Page], size: float) -> list[Line]:
    """Body lines that run (nearly) to the measure: lines a paragraph broke, not its last."""
    every = [ln for p in pages for ln in body_lines(p, size)]
    if not every:
        return []
    measure_right = max(ln.right for ln in every)
    return [ln for ln in every if ln.right > measure_right - 6 * size]


def chars_per_line(pages: list[Page]) -> float:
    size = body_size(pages)
    lines = full_lines(pages, size)
    return statistics.median(len(ln.text) for ln in lines)


HYPHENS = ("-", "\u2010", "\u00ad", "\x02")


def hyphen_runs(pages: list[Page]) -> list[tuple[int, int, list[str]]]:
    """(page, length, lines) of each run of consecutive body lines ending in a hyphen."""
    size = body_size(pages)
    runs = []
    for p in pages:
        bl = body_lines(p, size)
        run: list[str] = []
        prev_y = None
        for ln in bl:
            contiguous = prev_y is not None and abs(prev_y - ln.y) < size * 1.8
            if not contiguous and run:
                runs.append((p.number, len(run), run))
                run = []
            if ln.text.rstrip().endswith(HYPHENS) and not ln.text.rstrip().endswith(" -"):
                run.append(ln.text)
            elif run:
                runs.append((p.number, len(run), run))
                run = []
            prev_y = ln.y
        if run:
            runs.append((p.number, len(run), run))
    return runs


def paragraphs(page: Page, size: float) -> list[list[Line]]:
    """Body-size lines grouped into runs spaced by one leading (a paragraph or a list item)."""
    groups: list[list[Line]] = []
    prev = None
    lead = None
    for ln in body_lines(page, size):
        if prev is not None:
            d = prev.y - ln.y
            if lead is None and d < size * 1.8:
                lead = d
            if (d < size * 1.8 and abs(ln.left - prev.left) < 3) or (d < size * 1.8 and ln.left > prev.left):
                groups[-1].append(ln)
                prev = ln
                continue
        groups.append([ln])
        prev = ln
    return groups


TERMINAL = (".", ":", "!", "?", ")", "”", "’", ";")


def widows_orphans(pages: list[Page]) -> list[str]:
    """A paragraph that breaks over a page leaving one line behind (orphan) or one line over (widow)."""
    size = body_size(pages)
    problems = []
    lines_all = full_lines(pages, size)
    measure_right = max(ln.right for ln in lines_all) if lines_all else 0
    for a, b in itertools.pairwise(pages):
        pa, pb = paragraphs(a, size), paragraphs(b, size)
        if not pa or not pb:
            continue
        last = pa[-1]
        # Only a paragraph that ends the page's text can continue on the next page.
        lowest_other = min((ln.y for ln in a.lines if a.body_bottom + 2 < ln.y < a.body_top - 2), default=0)
        if last[-1].y > lowest_other + 0.5:
            continue
        continues = (last[-1].right > measure_right - 6 * size
                     and not last[-1].text.rstrip().endswith(TERMINAL))
        if not continues:
            continue
        first = pb[0]
        top_other = max((ln.y for ln in b.lines if b.body_bottom + 2 < ln.y < b.body_top - 2), default=0)
        if first[0].y < top_other - 0.5:
            continue
        if len(last) == 1:
            problems.append(f"orphan: page {a.number} ends with one line: {last[0].text!r}")
        if len(first) == 1:
            problems.append(f"widow: page {b.number} starts with one line: {first[0].text!r}")
    return problems


def headings_at_foot(pages: list[Page], min_after: float = 30.0) -> list[str]:
    """Heading lines (larger than body, bold) with less than ``min_after`` points of content below."""
    size = body_size(pages)
    out = []
    for p in pages[1:]:
        inside = [ln for ln in p.lines if p.body_bottom + 2 < ln.y < p.body_top - 2 and ln.size < 40]
        if not inside:
            continue
        lowest = min(ln.y for ln in inside)
        for ln in inside:
            if ln.size >= size + 0.8 and ln.chars[0].weight >= 600 and ln.y - lowest < min_after:
                out.append(f"page {p.number}: heading {ln.text!r} at the foot")
    return out


def watermark_hits(pages: list[Page], word: str = "SAMPLE") -> list[str]:
    """Huge characters (a watermark drawn as text) or the word in upper case in extracted text."""
    out = []
    for p in pages[1:]:
        big = [c for c in p.chars if c.size > 40]
        if big:
            out.append(f"page {p.number}: {len(big)} characters at {big[0].size:.0f} pt: "
                       + "".join(c.text for c in big))
    return out

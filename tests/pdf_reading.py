"""Shared PDF-reading helpers for tests: a built sample read back with pypdf, pypdfium2 and pikepdf.

``Doc`` holds per-page text (pypdf) and text pages (pdfium); ``find``/``words`` give word
boxes; the content-derived expectations (REPORT, BRAND, sections, numbered, provenance) come
from the YAML and CSV files, never from the code that built the PDF. The ``doc`` fixture
(tests/conftest.py) opens the session's sample once. The tagged-PDF helpers at the end
(``untagged_content``, ``reading_texts``, ``struct_elements``, ``pdfa_report``...) read the
marked content and the structure tree.
"""

from __future__ import annotations

import csv
import ctypes
import io
import itertools
import re
import shutil
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pypdf
import pypdfium2
import pypdfium2.raw as pdfium_c
import yaml

REPO = Path(__file__).resolve().parents[1]
CONTENT = REPO / "content" / "pacs"


def _yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _csv(name: str) -> list[dict[str, str]]:
    with (CONTENT / "tables" / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


REPORT = _yaml(CONTENT / "report.yaml")
BRAND = _yaml(REPO / "assets" / "brand.yaml")


# ---------------------------------------------------------------------------- text helpers

def norm(text: str) -> str:
    """Whitespace-normalised text (no-break spaces and line breaks become single spaces)."""
    return " ".join(text.replace("\xa0", " ").split())


def squash(text: str) -> str:
    """``text`` without white space and hyphens, so that hyphenated line ends join up."""
    return re.sub(r"[\s\-\u2010\x02\xad]", "", text)


def lines(text: str) -> list[str]:
    return [n for n in (norm(ln) for ln in text.splitlines()) if n]


@dataclass(frozen=True)
class Box:
    text: str
    left: float
    bottom: float
    right: float
    top: float

    @property
    def middle(self) -> float:
        return (self.bottom + self.top) / 2


def find(textpage: Any, needle: str) -> list[Box]:
    """Every occurrence of ``needle`` on a pdfium text page, with its (loose) bounding box."""
    out = []
    searcher = textpage.search(needle, match_case=True)
    while (hit := searcher.get_next()) is not None:
        index, count = hit
        boxes = [textpage.get_charbox(i, loose=True) for i in range(index, index + count)]
        out.append(Box(textpage.get_text_range(index, count), min(b[0] for b in boxes),
                       min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)))
    return out


def words(textpage: Any, max_height: float = 30.0) -> list[Box]:
    """The page's words (runs of non-space characters on one baseline), each with its box."""
    out: list[Box] = []
    chars: list[tuple[str, tuple[float, float, float, float]]] = []

    def flush() -> None:
        if chars:
            out.append(Box("".join(c for c, _ in chars), chars[0][1][0], min(b[1] for _, b in chars),
                           chars[-1][1][2], max(b[3] for _, b in chars)))
            chars.clear()

    for i in range(textpage.count_chars()):
        ch = textpage.get_text_range(i, 1)
        box = textpage.get_charbox(i, loose=True)
        if not ch.strip() or box[3] - box[1] > max_height:  # spaces, and the watermark
            flush()
            continue
        if chars and (abs(box[1] - chars[-1][1][1]) > 1.0 or abs(box[0] - chars[-1][1][2]) > 1.0):
            flush()
        chars.append((ch, box))
    flush()
    return out


# ---------------------------------------------------------------------------- the document

Fragment = tuple[str, str, Any]   # (text shown, BaseFont, font dictionary)


@dataclass
class Doc:
    """The session's sample PDF with per-page text (pypdf) and text pages (pdfium)."""

    path: Path
    reader: pypdf.PdfReader
    pages: int
    texts: list[str]                  # index 0 is page 1
    fragments: list[list[Fragment]]   # the text each font shows, per page
    pdfium: Any
    textpages: list[Any]
    _words: dict[int, list[Box]] = field(default_factory=dict)

    def text(self, page: int) -> str:
        return self.texts[page - 1]

    def tp(self, page: int) -> Any:
        return self.textpages[page - 1]

    def words(self, page: int) -> list[Box]:
        if page not in self._words:
            self._words[page] = words(self.tp(page))
        return self._words[page]

    def size(self, page: int) -> tuple[float, float]:
        return self.pdfium[page - 1].get_size()

    def pages_with_line(self, line: str, pages: Iterator[int] | list[int] | range | None = None) -> list[int]:
        return [p for p in (pages or range(1, self.pages + 1)) if line in lines(self.text(p))]

    def fonts(self, pages: list[int] | range) -> dict[str, Any]:
        """Fonts that actually show glyphs on ``pages`` (BaseFont -> font dictionary)."""
        return {name: font for p in pages for _text, name, font in self.fragments[p - 1]}

    @property
    def front(self) -> list[int]:
        """Notice, contents and list pages (after the cover, before the first chapter)."""
        marks = ("Notice", "Contents", "List of Figures", "List of Tables")
        return sorted({p for m in marks for p in self.pages_with_line(m, range(2, self.pages + 1))})

    @property
    def body(self) -> list[int]:
        return list(range(max(self.front) + 1, self.pages + 1))


def _read_page(page: pypdf.PageObject) -> tuple[str, list[Fragment]]:
    shown: list[Fragment] = []

    def visit(text: str, _cm: Any, _tm: Any, font: Any, _size: Any) -> None:
        if text.strip() and font is not None:
            shown.append((text.strip(), str(font.get("/BaseFont")), font))

    return page.extract_text(visitor_text=visit), shown



def open_doc(path: Path, reader: pypdf.PdfReader) -> Doc:
    """Read ``path`` with both libraries; close it with :func:`close_doc`."""
    pdf = pypdfium2.PdfDocument(path)
    textpages = [page.get_textpage() for page in pdf]
    texts, fragments = zip(*(_read_page(p) for p in reader.pages), strict=True)
    return Doc(path, reader, len(reader.pages), list(texts), list(fragments), pdf, textpages)


def close_doc(doc: Doc) -> None:
    for tp in doc.textpages:
        tp.close()
    doc.pdfium.close()




def sections() -> list[tuple[str, str, list[str]]]:
    """(number, title, [numbered subsection titles]) of every section, in report.yaml order."""
    out = []
    for n, sec in enumerate(REPORT["sections"], start=1):
        subs = [f"{n}.{j} {sub['title']}" for j, sub in enumerate(sec.get("subsections") or [], start=1)]
        out.append((str(n), sec["title"], subs))
    return out


def numbered(kind: str) -> list[str]:
    """Ids of the figures (kind='figure') or tables ('table') in the order the report numbers them."""
    out = []
    for sec in REPORT["sections"]:
        subs = sec.get("subsections") or []
        for block in [*(sec.get("blocks") or []), *(b for sub in subs for b in sub["blocks"])]:
            if kind in block:
                out.append(block[kind])
            elif kind == "figure" and "diagram" in block:  # methodology diagrams are figures
                out.append(f"diagram-{block['diagram']}")
            elif kind == "table" and "deals" in block:  # so is the deals table
                out.append("deals")
    return out


def provenance(ref: str) -> tuple[str, str | None]:
    """(source, illustrative note) of a data reference, as the content declares them."""
    if ref in ("market_size", "players"):
        spec = REPORT[ref]
        return spec["source"], spec.get("illustrative")
    kind, seg_id = ref.split(":", 1)
    if kind == "coverage":  # the countries covered are the publisher's scope, not data
        return f"{BRAND['publisher']} research scope", None
    seg = next(s for s in REPORT["segments"] if s["id"] == seg_id)
    return seg["source"], seg.get("illustrative")


def heading_page(doc: Doc, heading: str) -> int:
    """The one body page on which ``heading`` is set as a line of its own."""
    found = doc.pages_with_line(norm(heading), doc.body)
    assert len(found) == 1, f"heading {heading!r} found on body pages {found}"
    return found[0]


def caption_page(doc: Doc, label: str) -> int:
    """The one body page whose caption line starts with ``label`` ('Figure 3', 'Table 2')."""
    found = [p for p in doc.body if any(ln.startswith(label + " ") for ln in lines(doc.text(p)))]
    assert len(found) == 1, f"caption {label!r} found on body pages {found}"
    return found[0]


def section_heading_pages(doc: Doc) -> dict[str, int]:
    """Numbered heading text ('2.1 Drivers', '3 Market Segmentation by Type') -> its page."""
    out = {}
    for number, title, subs in sections():
        out[f"{number} {title}"] = heading_page(doc, title)
        for sub in subs:
            out[sub] = heading_page(doc, sub)
    return out


def entry_page_number(doc: Doc, page: int, label: str) -> tuple[Box, int]:
    """On a contents or list page: the box of entry ``label`` and the page number printed for it."""
    hits = find(doc.tp(page), label)
    assert hits, f"{label!r} not on page {page}"
    box = hits[0]
    same_line = [w for w in doc.words(page) if w.bottom - 2 <= box.middle <= w.top + 2
                 and w.left > box.right]
    assert same_line, f"no page number beside {label!r}"
    last = max(same_line, key=lambda w: w.right)
    assert last.text.isdigit(), f"entry {label!r} ends with {last.text!r}, not a page number"
    return box, int(last.text)


def link_target(reader: pypdf.PdfReader, annot: Any) -> tuple[int, float | None] | None:
    """(page number, top) an internal link annotation jumps to; None for other annotations."""
    dest = annot.get("/Dest")
    action = annot.get("/A")
    if dest is None and action is not None and action.get("/S") == "/GoTo":
        dest = action.get("/D")
    if dest is None:
        return None
    dest = dest.get_object() if hasattr(dest, "get_object") else dest
    if isinstance(dest, str):
        named = reader.named_destinations[str(dest)]
        return reader.get_destination_page_number(named) + 1, named.top
    index = {page.indirect_reference.idnum: i for i, page in enumerate(reader.pages)}
    top = float(dest[3]) if dest[1] == "/XYZ" and dest[3] is not None else None
    return index[dest[0].idnum] + 1, top


def links(reader: pypdf.PdfReader, page: int) -> list[Any]:
    annots = reader.pages[page - 1].get("/Annots") or []
    return [a.get_object() for a in annots if a.get_object().get("/Subtype") == "/Link"]


def overlaps(rect: Any, box: Box) -> bool:
    x0, y0, x1, y1 = (float(v) for v in rect)
    return min(x0, x1) < box.right and max(x0, x1) > box.left and min(y0, y1) < box.top \
        and max(y0, y1) > box.bottom


def warm_cache(dest: Path, sample_pdf: Any) -> None:
    """Seed the default cache (.cache under ``dest``) from the session build, so a build of a
    copy reads its charts instead of drawing them."""
    shutil.copytree(sample_pdf.cache_dir, dest / ".cache")


# ============================================================= layout measures (issue 12)
# What a reader sees of the layout, measured on the built PDF: page fill, lines, type size,
# hyphenated line ends, widows and orphans, headings at a page's foot, link annotations.

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
    """Heading lines (larger than body, bold, with letters: not a chart's figures) in the lower
    third of the page's body with less than ``min_after`` points of content below (a heading
    that ends a short page, such as the contents, is not at the foot)."""
    size = body_size(pages)
    out = []
    for p in pages[1:]:
        inside = [ln for ln in p.lines if p.body_bottom + 2 < ln.y < p.body_top - 2 and ln.size < 40]
        if not inside:
            continue
        lowest = min(ln.y for ln in inside)
        foot = p.body_bottom + 0.35 * (p.body_top - p.body_bottom)
        for ln in inside:
            if (ln.size >= size + 0.8 and ln.chars[0].weight >= 600 and ln.y - lowest < min_after
                    and ln.y < foot and any(ch.isalpha() for ch in ln.text)):
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


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(v: float) -> float:
        v /= 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_contrasts(path: Path, scale: float = 2.0,
                   min_size: float = 0.0) -> list[tuple[int, str, float, float]]:
    """(page, character, font size, contrast ratio) of every drawn character: its fill colour
    (pdfium) against the colour most of its box shows once the glyph's own pixels are left out
    (the rendered background: paper, a panel tint, a table header, a bar)."""
    pdf = pypdfium2.PdfDocument(str(path))
    out = []
    r, g, b, a = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
    for index in range(len(pdf)):
        page = pdf[index]
        image = page.render(scale=scale, rev_byteorder=True).to_numpy()[:, :, :3].astype(np.int32)
        # each pixel's colour as one integer (0xRRGGBB): counting colours is then a 1-D np.unique
        packed = (image[:, :, 0] << 16) | (image[:, :, 1] << 8) | image[:, :, 2]
        height = page.get_height()
        tp = page.get_textpage()
        for i in range(tp.count_chars()):
            ch = chr(pdfium_c.FPDFText_GetUnicode(tp.raw, i))
            size = pdfium_c.FPDFText_GetFontSize(tp.raw, i)
            if not ch.strip() or size < min_size or pdfium_c.FPDFText_IsGenerated(tp.raw, i) == 1:
                continue
            pdfium_c.FPDFText_GetFillColor(tp.raw, i, ctypes.byref(r), ctypes.byref(g), ctypes.byref(b),
                                           ctypes.byref(a))
            fg = (float(r.value), float(g.value), float(b.value))
            x0, y0, x1, y1 = tp.get_charbox(i, loose=True)
            rows = slice(int((height - y1) * scale), int((height - y0) * scale) + 1)
            cols = slice(int(x0 * scale), int(x1 * scale) + 1)
            box = image[rows, cols].reshape(-1, 3)
            far = packed[rows, cols].reshape(-1)[np.abs(box - np.array(fg, dtype=np.int32)).max(axis=1) > 60]
            if len(far) < 4:
                continue
            colours, counts = np.unique(far, return_counts=True)  # ascending 0xRRGGBB: as by (r, g, b)
            most = int(colours[counts.argmax()])
            bg = (float(most >> 16), float((most >> 8) & 0xFF), float(most & 0xFF))
            lf, lb = _luminance(fg), _luminance(bg)  # type: ignore[arg-type]
            out.append((index + 1, ch, size, (max(lf, lb) + 0.05) / (min(lf, lb) + 0.05)))
        tp.close()
    pdf.close()
    return out

# ------------------------------------------------------- tagged PDF (issue 13): marks, tree, validators
# Two independent readers: pikepdf parses content streams (marked-content nesting, the structure
# tree, forms drawn with Do) and pdfium reports each text object with its marks and text.

PAINT_OPS = frozenset({"Tj", "TJ", "'", '"', "S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh", "BI",
                       "Do"})


@dataclass(frozen=True)
class Untagged:
    page: int
    operator: str
    where: str  # "page" or the form's resource name


def structure_mcrs(pdf: Any) -> list[tuple[int, int]]:
    """(page number, MCID) of every marked-content reference, in structure-tree order."""
    page_numbers = {p.obj.objgen: i + 1 for i, p in enumerate(pdf.pages)}
    out: list[tuple[int, int]] = []

    def visit(node: Any, page: int | None) -> None:
        import pikepdf

        if isinstance(node, int):
            assert page is not None, "MCID without a page"
            out.append((page, node))
            return
        if isinstance(node, pikepdf.Array):
            for kid in node:
                visit(kid, page)
            return
        if not isinstance(node, pikepdf.Dictionary):
            return
        if "/Pg" in node:
            page = page_numbers[node.Pg.objgen]
        kind = node.get("/Type")
        if kind == "/MCR":
            out.append((page_numbers[node.Pg.objgen] if "/Pg" in node else page, int(node.MCID)))  # type: ignore[arg-type]
        elif kind == "/OBJR":
            return
        elif "/K" in node:
            visit(node.K, page)

    root = pdf.Root.StructTreeRoot
    visit(root.K, None)
    return out


def untagged_content(pdf: Any) -> list[Untagged]:
    """Painting operators outside both marked content referenced from the tree and artifacts."""
    import pikepdf

    referenced = set(structure_mcrs(pdf))
    problems: list[Untagged] = []

    def walk(stream_owner: Any, resources: Any, page: int, where: str, inherited: bool) -> None:
        stack: list[bool] = []  # per open sequence: does it make its content tagged?
        for operands, op in pikepdf.parse_content_stream(stream_owner):
            name = str(op)
            if name in ("BDC", "BMC"):
                tag = str(operands[0])
                ok = tag == "/Artifact"
                if name == "BDC" and not ok:
                    props = operands[1]
                    if isinstance(props, pikepdf.Name):
                        props = resources.Properties[props]
                    if "/MCID" in props and where == "page":
                        ok = (page, int(props.MCID)) in referenced
                stack.append(ok or (bool(stack) and stack[-1]))
            elif name == "EMC":
                stack.pop()
            elif name in PAINT_OPS:
                tagged = inherited or (bool(stack) and stack[-1])
                if name == "Do":
                    xobj = resources.XObject[operands[0]]
                    if xobj.Subtype == "/Form":
                        walk(xobj, xobj.get("/Resources", resources), page, str(operands[0]), tagged)
                        continue
                if not tagged:
                    problems.append(Untagged(page, name, where))
        if stack:
            problems.append(Untagged(page, "unbalanced BDC/EMC", where))

    for i, page in enumerate(pdf.pages):
        walk(page.obj, page.obj.get("/Resources", pikepdf.Dictionary()), i + 1, "page", False)
    return problems


def text_objects(data: bytes) -> Iterator[tuple[int, str, int | None, str]]:
    """(page, mark name, MCID or None, text) of every text object, in content order (pdfium)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    doc = pdfium.PdfDocument(io.BytesIO(data))
    try:
        for index in range(len(doc)):
            page = doc[index]
            textpage = page.get_textpage()
            yield from _objects(raw, page.raw, textpage.raw, index + 1, None, None, top=True)
    finally:
        doc.close()


def _objects(raw: Any, parent: Any, textpage: Any, page: int, mark: str | None, mcid: int | None,
             top: bool) -> Iterator[tuple[int, str, int | None, str]]:
    count = raw.FPDFPage_CountObjects(parent) if top else raw.FPDFFormObj_CountObjects(parent)
    for i in range(count):
        obj = raw.FPDFPage_GetObject(parent, i) if top else raw.FPDFFormObj_GetObject(parent, i)
        name, number = mark, mcid
        for m in range(raw.FPDFPageObj_CountMarks(obj)):
            handle = raw.FPDFPageObj_GetMark(obj, m)
            size = ctypes.c_ulong()
            raw.FPDFPageObjMark_GetName(handle, None, 0, ctypes.byref(size))
            buf = (ctypes.c_ushort * (size.value // 2 + 1))()
            raw.FPDFPageObjMark_GetName(handle, buf, size, ctypes.byref(size))
            this = bytes(buf).decode("utf-16-le").split("\0", 1)[0]
            value = ctypes.c_int()
            if name == "Artifact":
                break
            if this == "Artifact":
                name, number = "Artifact", None
            elif raw.FPDFPageObjMark_GetParamIntValue(handle, b"MCID", ctypes.byref(value)):
                name, number = this, value.value
        kind = raw.FPDFPageObj_GetType(obj)
        if kind == raw.FPDF_PAGEOBJ_TEXT:
            size = raw.FPDFTextObj_GetText(obj, textpage, None, 0)  # bytes, with the final NUL
            buffer = (ctypes.c_ushort * (size // 2))()
            size = raw.FPDFTextObj_GetText(obj, textpage, buffer, size)
            yield page, name or "", number, bytes(buffer)[: max(0, size - 2)].decode("utf-16-le", "replace")
        elif kind == raw.FPDF_PAGEOBJ_FORM:
            yield from _objects(raw, obj, textpage, page, name, number, top=False)


def _norm(s: str) -> str:
    return "".join(s.split())


def reading_texts(data: bytes) -> tuple[str, str]:
    """(text of the structure tree in order, text of the pages without artifacts), whitespace removed."""
    import pikepdf

    by_mcr: dict[tuple[int, int], list[str]] = {}
    page_text: list[str] = []
    for page, name, mcid, text in text_objects(data):
        if name == "Artifact":
            continue
        page_text.append(text)
        if mcid is not None:
            by_mcr.setdefault((page, mcid), []).append(text)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        order = structure_mcrs(pdf)
    tree_text = "".join("".join(by_mcr.get(m, [])) for m in order)
    return _norm(tree_text), _norm("".join(page_text))


def pdfa_report(data: bytes, flavour: str = "2b") -> Any:
    import pikepdf.pdfa

    return pikepdf.pdfa.validate_written(io.BytesIO(data), flavour)


# pikepdf.pdfa (10.x) is an allowlist validator: it approves no pdfuaid property and no
# PDF/A extension schema, which PDF/UA-1 (pdfuaid:part) and PDF/A-2 (a schema for it)
# require together. These findings, and only these, are its refusal of the UA claim.
UA_CLAIM_FINDINGS = frozenset({
    "XMP property pdfuaid:part is not permitted",
    "XMP property pdfaExtension:schemas is not permitted",
    "XMP namespace pdfaExtension=http://www.aiim.org/pdfa/ns/extension/ is not permitted",
    "XMP namespace pdfaSchema=http://www.aiim.org/pdfa/ns/schema# is not permitted",
    "XMP namespace pdfaProperty=http://www.aiim.org/pdfa/ns/property# is not permitted",
})


def without_ua_claim(data: bytes) -> bytes:
    """The same file with the PDF/UA identification blanked out of its XMP (same length,
    so every offset stays valid): what pikepdf.pdfa can judge on everything else."""
    import re

    def blank(m: re.Match[bytes]) -> bytes:
        return b" " * len(m.group(0))

    out = re.sub(rb"<pdfuaid:part>\d</pdfuaid:part>", blank, data)
    out = re.sub(rb"<pdfaExtension:schemas>.*?</pdfaExtension:schemas>", blank, out, flags=re.S)
    out = re.sub(rb'xmlns:pdfa(Extension|Schema|Property)="[^"]*"', blank, out)
    if out == data:
        raise ValueError("no PDF/UA claim found in the XMP")
    return out


def pdfua_findings(data: bytes) -> list[Any]:
    """Every finding of the ``pdfua`` package's rules, and every rule it could not run."""
    import tempfile
    from pathlib import Path

    import pdfua

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ua.pdf"
        path.write_bytes(data)
        report = pdfua.validate(str(path))
        out: list[Any] = list(report.findings)
        out += [(o.rule_id, o.skipped_reason) for o in report.outcomes if o.skipped_reason]
    return out


def struct_elements(pdf: Any) -> list[Any]:
    """Every structure element, in tree order (pikepdf dictionaries)."""
    import pikepdf

    out: list[Any] = []

    def visit(node: Any) -> None:
        if isinstance(node, pikepdf.Array):
            for kid in node:
                visit(kid)
        elif isinstance(node, pikepdf.Dictionary) and node.get("/Type") == "/StructElem":
            out.append(node)
            if "/K" in node:
                visit(node.K)

    visit(pdf.Root.StructTreeRoot.K)
    return out


def kids(element: Any) -> list[Any]:
    import pikepdf

    k = element.get("/K")
    return [] if k is None else list(k) if isinstance(k, pikepdf.Array) else [k]


def mcr_texts(data: bytes) -> dict[tuple[int, int], str]:
    """The text of each (page, MCID) marked-content sequence (pdfium)."""
    texts: dict[tuple[int, int], list[str]] = {}
    for page, name, mcid, text in text_objects(data):
        if mcid is not None and name != "Artifact":
            texts.setdefault((page, mcid), []).append(text)
    return {k: "".join(v) for k, v in texts.items()}


def element_text(texts: dict[tuple[int, int], str] | bytes, pdf: Any, element: Any) -> str:
    """The text of one element's marked content, in order, whitespace removed.

    ``texts`` is :func:`mcr_texts` of the file (or the file's bytes, read once here)."""
    import pikepdf

    if isinstance(texts, bytes):
        texts = mcr_texts(texts)
    page_numbers = {p.obj.objgen: i + 1 for i, p in enumerate(pdf.pages)}
    out: list[str] = []

    def visit(node: Any, page: int | None) -> None:
        if isinstance(node, int):
            out.append(texts.get((page or 0, node), ""))
        elif isinstance(node, pikepdf.Dictionary):
            if "/Pg" in node:
                page = page_numbers[node.Pg.objgen]
            if node.get("/Type") == "/MCR":
                out.append(texts.get((page or 0, int(node.MCID)), ""))
            elif "/K" in node and node.get("/Type") != "/OBJR":
                for kid in kids(node):
                    visit(kid, page)

    visit(element, None)
    return _norm("".join(out))


# ------------------------------------------------------------------ keep-with-next: floats beside their text

CAPTION = re.compile(r"^(Figure|Table|Exhibit|Chart)\s*\d+")


def panels(path: Path, frame: tuple[float, float]) -> dict[int, list[tuple[float, float]]]:
    """Boxed panels (callouts, "continued" boxes, snapshots) per page number, as (top, bottom):
    filled rectangles at the text frame's left edge, at least 85 % of its width and 38 pt tall,
    with a stroked rule down their left edge (a left bar or a border), which a tinted table
    row or grid does not have. ``frame`` is (left, width) of the text frame."""
    left, width = frame
    pdf = pypdfium2.PdfDocument(str(path))
    out: dict[int, list[tuple[float, float]]] = {}
    try:
        for i in range(len(pdf)):
            boxes: list[tuple[float, float]] = []
            rules: list[tuple[float, float]] = []
            for obj in pdf[i].get_objects(max_depth=3):
                if obj.type != pdfium_c.FPDF_PAGEOBJ_PATH:
                    continue
                x0, y0, x1, y1 = obj.get_bounds()
                if abs(x0 - left) <= 6 and x1 - x0 >= 0.85 * width and y1 - y0 >= 38:
                    boxes.append((y1, y0))
                elif abs(x0 - left) <= 6 and x1 - x0 < 8 and y1 - y0 >= 30:
                    rules.append((y1, y0))
            found: list[tuple[float, float]] = []
            for t, b in boxes:
                ruled = any(min(t, rt) - max(b, rb) >= 0.8 * (t - b) for rt, rb in rules)
                if ruled and not any(abs(t - ft) < 2 and abs(b - fb) < 2 for ft, fb in found):
                    found.append((t, b))
            out[i + 1] = found
    finally:
        pdf.close()
    return out


def text_frame(pages: list[Page]) -> tuple[float, float]:
    """(left, width) of the page's text frame: from where the running header starts to where
    full body lines end (body text may sit in a narrower measure to the right)."""
    heads = [min(ln.left for ln in p.lines if ln.y > p.body_top) for p in pages[1:-1]
             if any(ln.y > p.body_top for ln in p.lines)]
    left = statistics.median(heads)
    return left, max(ln.right for ln in full_lines(pages, body_size(pages))) - left


@dataclass(frozen=True)
class Item:
    kind: str        # heading | body | caption | panel
    top: float
    bottom: float
    label: str


def page_items(page: Page, boxes: list[tuple[float, float]], size: float) -> list[Item]:
    """A body page's headings, body lines, figure and table captions, and panels, top to bottom."""
    def in_panel(y: float) -> bool:
        return any(b <= y <= t for t, b in boxes)

    items = [Item("panel", t, b, f"panel at y={t:.0f}") for t, b in boxes]
    for ln in page.lines:
        if not page.body_bottom + 2 < ln.y < page.body_top - 2 or in_panel(ln.y):
            continue
        heavy = ln.chars[0].weight >= 600
        if heavy and CAPTION.match(ln.text) and ln.size < size + 0.8:
            items.append(Item("caption", ln.y + ln.size, ln.y, ln.text[:50]))
        elif heavy and ln.size >= size + 0.8 and ln.size < 40:
            items.append(Item("heading", ln.y + ln.size, ln.y, ln.text[:50]))
        elif abs(ln.size - size) < 0.3 and not heavy:
            items.append(Item("body", ln.y + ln.size, ln.y, ln.text[:50]))
        else:  # table cells, chart labels, small headings, sources: the section's other content
            items.append(Item("other", ln.y + ln.size, ln.y, ln.text[:50]))
    return sorted(items, key=lambda it: -it.top)


def lonely_floats(path: Path, pages: list[Page], min_body_lines: int = 3) -> list[str]:
    """Figures, tables and panels set apart from their text, on the built PDF.

    On every page with a running footer:
    - a page that holds a figure or table caption, or a panel, also holds at least
      ``min_body_lines`` lines of body text, or as many as its section has, unless it sits
      under its section's heading (no page of floats alone; a chapter made only of charts
      has no text to keep them with);
    - each float shares its page with its own section: its heading, or content of the section
      (text, a table, a chart) above it or below it before the next heading. A figure or table
      may instead open the next page when its section's text ends the page before (a float
      deferred to the top); a panel may not;
    - no caption at the foot of a page (less than 30 pt of content below it).
    """
    size = body_size(pages)
    boxes = panels(path, text_frame(pages))
    problems: list[str] = []
    body = [p for p in pages if re.search(rf"Page {p.number} of {len(pages)}\b", p.text)]
    items = {p.number: page_items(p, boxes.get(p.number, []), size) for p in body}
    # Which section (the last heading before it, in reading order) each item is in, and how
    # many lines of body text each section has in the whole document.
    section_of: dict[tuple[int, int], str] = {}
    text_lines: Counter[str] = Counter()
    current = ""
    for p in body:
        for k, it in enumerate(items[p.number]):
            if it.kind == "heading":
                current = f"{it.label} (page {p.number})"
            section_of[(p.number, k)] = current
            text_lines[current] += it.kind == "body"
    for p in body:
        its = items[p.number]
        floats = [it for it in its if it.kind in ("caption", "panel")]
        if not floats:
            continue
        lines_here = sum(it.kind == "body" for it in its)
        for f in floats:
            at = its.index(f)
            has = text_lines[section_of[(p.number, at)]]
            under_heading = any(it.kind == "heading" for it in its[:at])
            if lines_here < min(min_body_lines, has) and not under_heading:
                problems.append(f"page {p.number}: {f.label!r} alone on the page ({lines_here} "
                                f"lines of text; its section has {has} elsewhere)")
                break
        lowest = min(ln.y for ln in p.lines if p.body_bottom + 2 < ln.y < p.body_top - 2)
        for f in floats:
            at = its.index(f)
            above = its[:at]
            below = its[at + 1:]
            heading_above = any(it.kind == "heading" for it in above)
            text_above = any(it.kind in ("body", "other") for it in above)
            text_below = False
            for it in below:
                if it.kind == "heading":
                    break
                if it.kind in ("body", "other"):
                    text_below = True
                    break
            if f.kind == "caption" and f.bottom - lowest < 30:
                problems.append(f"page {p.number}: caption {f.label!r} at the foot")
            if heading_above or text_above or text_below:
                continue
            first = not above or all(it.kind in ("caption", "panel") for it in above)
            prev = items.get(p.number - 1)
            deferred = (f.kind == "caption" and first and bool(prev) and prev is not None
                        and prev[-1].kind == "body")
            if not deferred:
                problems.append(f"page {p.number}: {f.label!r} away from its text")
    return problems

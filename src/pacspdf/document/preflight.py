"""Turn a laid-out PDF into findings: text printed over text, text off the page or outside its frame.

The preflight reads the PDF back (pypdfium2) instead of trusting the code that placed the
text: every glyph's box comes from the font program as drawn, so a collision between a cover
field and its neighbour, a running header and the publisher's name, or a chart label and the
next figure is found however it came about. Glyphs of one text run (one text object) never
collide with each other; decorative text at 60 pt and more (the watermark) is left out.
"""

from __future__ import annotations

import ctypes
from collections import defaultdict
from dataclasses import dataclass

#: Text at least this large is decoration (the "SAMPLE" watermark), not content.
DECORATION_PT = 60.0
#: Two glyphs collide when they share more than this fraction of the smaller one's box.
OVERLAP = 0.2
#: Slack (points) before a glyph counts as outside the frame or the page.
SLACK = 1.0
#: At the margins a glyph may overhang its origin (an italic "f" reaches left of where its
#: line starts), so text counts as past a margin only beyond this (points).
MARGIN_SLACK = 3.0


@dataclass(frozen=True)
class Finding:
    """One thing a reader would see wrong, on one page."""

    page: int
    element: str
    message: str

    def __str__(self) -> str:
        return f"page {self.page}: {self.element}: {self.message}"


@dataclass
class _Run:
    text: list[str]
    boxes: list[tuple[float, float, float, float]]

    def label(self) -> str:
        return _quote("".join(self.text))

    def bounds(self) -> tuple[float, float, float, float]:
        xs0, ys0, xs1, ys1 = zip(*self.boxes, strict=True)
        return min(xs0), min(ys0), max(xs1), max(ys1)


def _quote(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return f'"{text if len(text) <= limit else text[:limit - 1] + chr(0x2026)}"'


def _runs(page: object) -> list[_Run]:
    import pypdfium2.raw as raw

    textpage = page.get_textpage()  # type: ignore[attr-defined]
    handle = textpage.raw
    count = raw.FPDFText_CountChars(handle)
    text = textpage.get_text_range(0, count) if count else ""
    if len(text) != count:  # characters outside the BMP: ask for each code point
        text = "".join(chr(raw.FPDFText_GetUnicode(handle, i) or 32) for i in range(count))
    runs: dict[bytes, _Run] = {}
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    get_box, get_object = raw.FPDFText_GetCharBox, raw.FPDFText_GetTextObject
    for i, ch in enumerate(text):
        if ch == "\ufffe" or ch in "\r\n":
            continue
        key = bytes(get_object(handle, i))
        if ch.isspace():
            if key in runs:
                runs[key].text.append(" ")
            continue
        get_box(handle, i, left, right, bottom, top)
        box = (left.value, bottom.value, right.value, top.value)
        if box[3] - box[1] >= DECORATION_PT or box[2] <= box[0] or box[3] <= box[1]:
            continue
        run = runs.get(key)
        if run is None:
            run = runs[key] = _Run([], [])
        run.text.append(ch)
        run.boxes.append(box)
    textpage.close()
    return list(runs.values())


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return False
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return smaller > 0 and width * height > OVERLAP * smaller


def _collide(a: _Run, b: _Run) -> bool:
    cells: dict[tuple[int, int], list[tuple[float, float, float, float]]] = defaultdict(list)
    for box in a.boxes:
        for cell in _cells(box):
            cells[cell].append(box)
    for box in b.boxes:
        for cell in _cells(box):
            if any(_overlaps(box, other) for other in cells.get(cell, ())):
                return True
    return False


def _cells(box: tuple[float, float, float, float], size: float = 12.0) -> list[tuple[int, int]]:
    return [(x, y) for x in range(int(box[0] // size), int(box[2] // size) + 1)
            for y in range(int(box[1] // size), int(box[3] // size) + 1)]


def region(page: int, y: float, height: float, top_margin: float, bottom_margin: float,
           cover_pages: int = 1) -> str:
    """Where on the page a glyph sits, in the words a reader would use."""
    if page <= cover_pages:
        return "cover"
    if y > height - top_margin:
        return "running header"
    if y < bottom_margin:
        return "footer"
    return "body"


def _objects(page: object) -> list[tuple[tuple[float, float, float, float], float]]:
    """Every text object of the page (in forms too): its bounds on the page and its font size."""
    import pypdfium2.raw as raw

    out = []
    for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_TEXT], max_depth=8):  # type: ignore[attr-defined]
        left, bottom, right, top = obj.get_bounds()
        parent = obj.parent
        while parent is not None and getattr(parent, "type", None) == raw.FPDF_PAGEOBJ_FORM:
            m = parent.get_matrix()
            xs, ys = [], []
            for x, y in ((left, bottom), (left, top), (right, bottom), (right, top)):
                xs.append(m.a * x + m.c * y + m.e)
                ys.append(m.b * x + m.d * y + m.f)
            left, bottom, right, top = min(xs), min(ys), max(xs), max(ys)
            parent = parent.parent
        out.append(((left, bottom, right, top), float(obj.get_font_size())))
    return out


def _meet(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Whether two boxes share more than a sliver (touching runs on one line do not count)."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return width > 0.5 and height > 0.5


def preflight(pdf: bytes, *, margins: tuple[float, float, float, float],
              cover_pages: int = 1) -> list[Finding]:
    """Every collision and every glyph outside its frame in ``pdf``.

    ``margins`` are (left, right, top, bottom) of the body pages: on pages after the cover,
    text must stay between the left and right margins (header, footer and body alike).
    Text objects are compared by their bounds first; only a page where two of them meet is
    read glyph by glyph, so a clean page costs little.
    """
    import pypdfium2 as pdfium

    found: list[Finding] = []
    document = pdfium.PdfDocument(pdf)
    try:
        for number, page in enumerate(document, 1):
            boxes = sorted(b for b, size in _objects(page) if size < DECORATION_PT)
            width, height = page.get_size()
            lo, hi = (-SLACK, width + SLACK) if number <= cover_pages else (
                margins[0] - MARGIN_SLACK, width - margins[1] + MARGIN_SLACK)
            outside = any(b[0] < lo or b[2] > hi or b[1] < -SLACK or b[3] > height + SLACK
                          for b in boxes)
            meeting = outside or any(_meet(boxes[i], boxes[j]) for i in range(len(boxes))
                                     for j in range(i + 1, len(boxes))
                                     if boxes[j][0] < boxes[i][2])
            if meeting:
                found.extend(_page_findings(page, number, width, height, margins, cover_pages))
            page.close()
    finally:
        document.close()
    return found


def _page_findings(page: object, number: int, width: float, height: float,
                   margins: tuple[float, float, float, float], cover_pages: int) -> list[Finding]:
    """The glyph-level findings of one page."""
    found: list[Finding] = []
    runs = _runs(page)
    where = [region(number, r.bounds()[1], height, margins[2], margins[3], cover_pages)
             for r in runs]
    lo, hi = (-SLACK, width + SLACK) if number <= cover_pages else (
        margins[0] - MARGIN_SLACK, width - margins[1] + MARGIN_SLACK)
    for run, place in zip(runs, where, strict=True):
        x0, y0, x1, y1 = run.bounds()
        if x0 < -SLACK or y0 < -SLACK or x1 > width + SLACK or y1 > height + SLACK:
            found.append(Finding(number, f"{place} text {run.label()}", "runs off the page"))
        elif x0 < lo or x1 > hi:
            side = "left" if x0 < lo else "right"
            found.append(Finding(number, f"{place} text {run.label()}",
                                 f"runs past the {side} margin"))
    # Sweep along x: only runs whose boxes meet are compared glyph by glyph.
    bounds = [r.bounds() for r in runs]
    active: list[int] = []
    for k in sorted(range(len(runs)), key=lambda k: bounds[k][0]):
        bx = bounds[k]
        active = [j for j in active if bounds[j][2] > bx[0]]
        for j in active:
            other = bounds[j]
            if other[1] < bx[3] and bx[1] < other[3] and _collide(runs[j], runs[k]):
                first, second = sorted((j, k))
                found.append(Finding(number, f"{where[first]} text {runs[first].label()}",
                                     f"overprints {where[second]} text {runs[second].label()}"))
        active.append(k)
    return found


def layout_findings(pdf: bytes, margins: tuple[float, float, float, float],
                    charts: dict[str, tuple[int, list[str]]]) -> list[Finding]:
    """The PDF's findings and each chart's own (text out of its box, a squashed plot), in page order."""
    found = preflight(pdf, margins=margins)
    for label, (page, messages) in charts.items():
        found.extend(Finding(page, label, m) for m in messages)
    return sorted(found, key=lambda f: f.page)

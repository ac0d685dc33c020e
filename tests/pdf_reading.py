"""Shared PDF-reading helpers for tests: a built sample read back with pypdf and pypdfium2.

``Doc`` holds per-page text (pypdf) and text pages (pdfium); ``find``/``words`` give word
boxes; the content-derived expectations (REPORT, BRAND, sections, numbered, provenance) come
from the YAML and CSV files, never from the code that built the PDF. The ``doc`` fixture
(tests/conftest.py) opens the session's sample once.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdf
import pypdfium2
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

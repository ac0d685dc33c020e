"""The built PACS sample read back (pypdf, pypdfium2): issue 2's "The document" and "Errors" lists.

Expected values come from the content (report.yaml, the CSV tables, brand.yaml), never from
the code that built the PDF, so a test fails when the document and its content disagree.
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pypdf
import pypdfium2
import pytest
import yaml
from pypdf.generic import ContentStream

from pacspdf.build import build
from pacspdf.cli import main
from pacspdf.text import money_formatter

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


@pytest.fixture(scope="module")
def doc(sample_pdf: Any) -> Iterator[Doc]:
    path, reader, _result = sample_pdf
    pdf = pypdfium2.PdfDocument(path)
    textpages = [page.get_textpage() for page in pdf]
    texts, fragments = zip(*(_read_page(p) for p in reader.pages), strict=True)
    yield Doc(path, reader, len(reader.pages), list(texts), list(fragments), pdf, textpages)
    for tp in textpages:
        tp.close()
    pdf.close()


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


# ---------------------------------------------------------------------------- cover and notice

def test_page_count_matches_build_result_and_cover(doc: Doc, sample_pdf: Any) -> None:
    """The PDF has BuildResult.pages pages, and the cover says '<N> in this sample'."""
    assert doc.pages == sample_pdf.result.pages >= 10
    assert f"{doc.pages} in this sample" in norm(doc.text(1))


def test_cover_names_title_axes_period_code_edition_and_sample(doc: Doc) -> None:
    """The cover carries the title, a subtitle naming every segmentation axis, the forecast period,
    the report code, the edition date and a 'SAMPLE' marker."""
    cover = norm(doc.text(1))
    assert norm(REPORT["title"]) in cover
    assert norm(REPORT["subtitle"]) in cover
    for seg in REPORT["segments"]:
        assert seg["label"] in REPORT["subtitle"], f"subtitle does not name the {seg['label']} axis"
    assert f"{REPORT['forecast']['start']}–{REPORT['forecast']['end']}" in cover
    assert REPORT["code"] in cover
    edition = dt.date.fromisoformat(REPORT["edition"])
    assert f"{edition.day} {edition:%B %Y}" in cover or REPORT["edition"] in cover
    assert "SAMPLE" in cover


def _brand_template(source: str) -> str:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return norm(env.from_string(source).render(report=REPORT, brand=BRAND))


def test_notice_page_has_copyright_licence_and_disclaimer(doc: Doc) -> None:
    """The page after the cover carries the brand's copyright line, the sample licence and the
    disclaimer, rendered in full."""
    notice = norm(doc.text(2))
    assert "Notice" in lines(doc.text(2))
    assert _brand_template(BRAND["copyright"]) in notice
    assert str(dt.date.fromisoformat(REPORT["edition"]).year) in _brand_template(BRAND["copyright"])
    assert _brand_template(BRAND["licence"]) in notice
    assert norm(BRAND["disclaimer"]) in notice


# ---------------------------------------------------------------------------- outline and lists

def _outline(reader: pypdf.PdfReader, items: list[Any]) -> list[tuple[str, int, list[Any]]]:
    out: list[tuple[str, int, list[Any]]] = []
    for item in items:
        if isinstance(item, list):
            title, page, _ = out[-1]
            out[-1] = (title, page, _outline(reader, item))
        else:
            out.append((norm(item.title), reader.get_destination_page_number(item) + 1, []))
    return out


def test_outline_mirrors_sections_and_subsections(doc: Doc) -> None:
    """The bookmarks are the numbered section headings in report.yaml order, with the numbered
    subsections nested under their section, each jumping to its heading's page."""
    outline = _outline(doc.reader, doc.reader.outline)
    expected = [(f"{n} {title}", [sub for sub in subs]) for n, title, subs in sections()]
    assert [(title, [c[0] for c in children]) for title, _, children in outline] == expected
    pages = section_heading_pages(doc)
    for title, page, children in outline:
        assert page == pages[title], title
        for child, child_page, grandchildren in children:
            assert child_page == pages[child], child
            assert grandchildren == []


def test_toc_page_numbers_are_where_the_headings_are(doc: Doc) -> None:
    """Every contents entry prints the page on which that heading's text actually appears."""
    toc_pages = doc.pages_with_line("Contents", doc.front)
    assert toc_pages
    pages = section_heading_pages(doc)
    for label, page in pages.items():
        on = [p for p in toc_pages if find(doc.tp(p), label)]
        assert on, f"{label!r} missing from the contents"
        _box, printed = entry_page_number(doc, on[0], label)
        assert printed == page, f"contents says {label!r} is on page {printed}; it is on page {page}"


def test_no_heading_is_left_alone_at_the_foot_of_a_page(doc: Doc) -> None:
    """Below every chapter and section heading, on the same page, comes body text (the
    running footer aside): a heading never ends a page."""
    for number, title, subs in sections():
        for heading in [title, *subs]:
            page = heading_page(doc, heading)
            words = heading.split(" ", 1)[1] if heading[0].isdigit() else heading  # "6.1 Company ..."
            box = find(doc.tp(page), words)[0]
            below = [w for w in doc.words(page) if w.top < box.bottom - 1 and w.bottom > 70]
            assert below, f"{heading!r} (chapter {number}) is the last thing on page {page}"


@pytest.mark.parametrize("kind, word, heading", [("figure", "Figure", "List of Figures"),
                                                 ("table", "Table", "List of Tables")])
def test_list_of_figures_and_tables_page_numbers(doc: Doc, kind: str, word: str, heading: str) -> None:
    """Each list of figures / tables has one entry per numbered figure / table, printing the page
    its caption is on."""
    list_pages = doc.pages_with_line(heading, doc.front)
    assert list_pages
    ids = numbered(kind)
    assert ids
    for n in range(1, len(ids) + 1):
        label = f"{word} {n}:"
        on = [p for p in list_pages if find(doc.tp(p), label)]
        assert on, f"{label!r} missing from the {heading}"
        _box, printed = entry_page_number(doc, on[0], label)
        assert printed == caption_page(doc, f"{word} {n}"), label
    assert not any(find(doc.tp(p), f"{word} {len(ids) + 1}:") for p in list_pages)


def test_toc_and_list_entries_are_internal_links_to_their_pages(doc: Doc) -> None:
    """Every contents and list entry is covered by an internal link (/Dest or GoTo) that jumps to
    the page of its heading or caption, at or just above the heading."""
    targets: list[tuple[list[int], str, int, str]] = []
    for label, page in section_heading_pages(doc).items():
        targets.append((doc.pages_with_line("Contents", doc.front), label, page, label.split(" ", 1)[1]))
    for kind, word in (("figure", "Figure"), ("table", "Table")):
        heading = "List of Figures" if kind == "figure" else "List of Tables"
        for n in range(1, len(numbered(kind)) + 1):
            targets.append((doc.pages_with_line(heading, doc.front), f"{word} {n}:",
                            caption_page(doc, f"{word} {n}"), f"{word} {n}"))
    for pages, label, page, on_page in targets:
        src = next(p for p in pages if find(doc.tp(p), label))
        box = find(doc.tp(src), label)[0]
        hits = [link_target(doc.reader, a) for a in links(doc.reader, src) if overlaps(a["/Rect"], box)]
        hits = [h for h in hits if h is not None]
        assert hits, f"entry {label!r} on page {src} is not an internal link"
        for target_page, top in hits:
            assert target_page == page, f"{label!r} links to page {target_page}, not {page}"
            heading_box = find(doc.tp(page), on_page)[0]
            assert top is None or heading_box.top - 1 <= top <= heading_box.top + 72, \
                f"{label!r} jumps to y={top}, heading top is {heading_box.top}"


def test_purchase_and_enquiry_urls_are_link_annotations(doc: Doc) -> None:
    """The purchase and enquiry URLs (brand patterns with the report's publisher_id) are /URI
    link annotations placed over the printed URL."""
    uris: dict[str, list[tuple[int, Any]]] = {}
    for page in range(1, doc.pages + 1):
        for annot in links(doc.reader, page):
            action = annot.get("/A")
            if action is not None and action.get("/S") == "/URI":
                uris.setdefault(str(action["/URI"]), []).append((page, annot["/Rect"]))
    for key in ("purchase", "enquiry"):
        url = BRAND["links"][key].replace("{id}", str(REPORT["publisher_id"]))
        assert url in uris, f"no link annotation to the {key} URL {url}"
        for page, rect in uris[url]:
            assert any(overlaps(rect, box) for box in find(doc.tp(page), url)), \
                f"the {key} link on page {page} is not over the printed URL"
    sales = BRAND["contact"]["sales_email"]
    assert f"mailto:{sales}" in uris, "the sales address is not a mailto link"
    for page, rect in uris[f"mailto:{sales}"]:
        assert any(overlaps(rect, box) for box in find(doc.tp(page), sales)), \
            f"the mailto link on page {page} is not over the printed address"


# ---------------------------------------------------------------------------- metadata, decoration

def test_metadata_title_author_subject_keywords_and_language(doc: Doc) -> None:
    """Document info holds title, author (publisher), subject, keywords; the catalog holds /Lang."""
    meta = doc.reader.metadata
    assert meta is not None
    assert meta.get("/Title") == REPORT["title"]
    assert meta.get("/Author") == BRAND["publisher"]
    assert meta.get("/Subject") == REPORT["subtitle"]
    keywords = str(meta.get("/Keywords") or "")
    for kw in REPORT["keywords"]:
        assert kw in keywords
    assert doc.reader.trailer["/Root"].get("/Lang") == REPORT.get("language", "en-GB")


def test_running_header_and_page_x_of_y_on_every_page_but_the_cover(doc: Doc) -> None:
    """Pages 2..N show the short title and publisher at the top and 'Page X of Y' at the bottom;
    the cover shows none of them."""
    for page in range(2, doc.pages + 1):
        _w, h = doc.size(page)
        tp = doc.tp(page)
        for text in (REPORT["short_title"], BRAND["publisher"]):
            assert any(b.bottom > h * 0.88 for b in find(tp, text)), f"no header {text!r} on page {page}"
        assert any(b.top < h * 0.12 for b in find(tp, f"Page {page} of {doc.pages}")), page
    cover = doc.text(1)
    assert "Page 1 of" not in cover and REPORT["short_title"] not in cover


def _watermarks(doc: Doc, page: int) -> list[Box]:
    return [b for b in find(doc.tp(page), "SAMPLE") if b.top - b.bottom > 50]


def test_sample_watermark_on_body_pages(doc: Doc) -> None:
    """Every body page carries the large 'SAMPLE' watermark as text; the cover does not."""
    assert doc.body
    for page in doc.body:
        assert _watermarks(doc, page), f"no watermark on page {page}"
    assert not _watermarks(doc, 1)


# ---------------------------------------------------------------------------- sections

def _section_pages(doc: Doc) -> dict[str, range]:
    starts = [(sec["id"], heading_page(doc, sec["title"])) for sec in REPORT["sections"]]
    out = {}
    for i, (sid, first) in enumerate(starts):
        last = starts[i + 1][1] - 1 if i + 1 < len(starts) else doc.pages
        out[sid] = range(first, last + 1)
    return out


def test_executive_summary_snapshot_shows_the_derived_figures(doc: Doc) -> None:
    """The executive summary shows base year, forecast period, the CAGR and the sizes computed from
    the CSV tables, the leading and fastest-growing region and the key players."""
    first = next(s for s in REPORT["sections"] if any("snapshot" in b for b in s.get("blocks") or []))
    text = norm(" ".join(doc.text(p) for p in _section_pages(doc)[first["id"]]))
    size = {int(r["year"]): float(r["value"]) for r in _csv("market_size.csv")}
    start, end, base = REPORT["forecast"]["start"], REPORT["forecast"]["end"], REPORT["base_year"]
    cagr = ((size[end] / size[start]) ** (1 / (end - start)) - 1) * 100
    money = money_formatter(REPORT.get("currency", "USD"), REPORT.get("unit", "million"))
    assert str(base) in text and f"{start}–{end}" in text
    assert f"{cagr:.1f}%" in text
    for year in (base, *REPORT["claims"]["size"], end):
        assert money(size[int(year)]) in text, year
    region = next(s for s in REPORT["segments"] if s["id"] == "region")
    shares = {int(r["year"]): {k: float(v) for k, v in r.items() if k != "year"}
              for r in _csv(Path(region["file"]).name)}
    leading = max(shares[base], key=lambda k: shares[base][k])
    fastest = max(shares[base], key=lambda k: shares[end][k] * size[end] / (shares[start][k] * size[start]))
    assert f"{leading} (" in text and f"{fastest} (" in text
    players = sorted(_csv("players.csv"), key=lambda r: -float(r["share_pct"]))
    assert ", ".join(p["company"] for p in players[:5]) in text


def test_regional_analysis_names_regions_and_country_coverage(doc: Doc) -> None:
    """The regional analysis names all five regions and every country of the coverage table."""
    sid = next(s["id"] for s in REPORT["sections"] if any(b.get("table") == "coverage"
                                                         for b in s.get("blocks") or []))
    text = norm(" ".join(doc.text(p) for p in _section_pages(doc)[sid]))
    region = next(s for s in REPORT["segments"] if s["id"] == "region")
    assert len(region["items"]) == 5
    for item in region["items"]:
        assert item["name"] in text
    for row in _csv("countries.csv"):
        assert row["country"] in text


def test_key_player_profiles_are_in_the_competitive_landscape(doc: Doc) -> None:
    """Each company profile (name and the start of its text) appears in its section."""
    sid = next(s["id"] for s in REPORT["sections"]
               if any("profiles" in b for sub in s.get("subsections") or [] for b in sub["blocks"]))
    text = norm(" ".join(doc.text(p) for p in _section_pages(doc)[sid]))
    for profile in REPORT["players"]["profiles"]:
        assert profile["name"] in text
        assert " ".join(norm(profile["text"]).split()[:8]) in text


def test_about_the_full_report_lists_what_it_adds_and_how_to_buy(doc: Doc) -> None:
    """The closing section lists every 'full report adds' line and prints the purchase and
    enquiry URLs."""
    sid = next(s["id"] for s in REPORT["sections"] if any("contact" in b for b in s.get("blocks") or []))
    text = norm(" ".join(doc.text(p) for p in _section_pages(doc)[sid]))
    for line in REPORT["full_report_adds"]:
        assert norm(line) in text
    for key in ("purchase", "enquiry"):
        assert BRAND["links"][key].replace("{id}", str(REPORT["publisher_id"])) in text


# ---------------------------------------------------------------------------- figures and tables

def _source_after(doc: Doc, page: int, caption: Box) -> tuple[int, Box]:
    """The 'Source:' line that follows a caption: below it on its page, else atop the next page."""
    below = [b for b in find(doc.tp(page), "Source:") if b.top <= caption.bottom + 0.5]
    if below:
        return page, max(below, key=lambda b: b.top)
    following = find(doc.tp(page + 1), "Source:")
    assert following, f"no source line after the caption on page {page}"
    return page + 1, max(following, key=lambda b: b.top)


def _source_text(doc: Doc, page: int, source: Box) -> str:
    tp = doc.tp(page)
    searcher = tp.search("Source:", match_case=True)
    while (hit := searcher.get_next()) is not None:
        box = tp.get_charbox(hit[0], loose=True)
        if abs(box[1] - source.bottom) < 0.5 and abs(box[0] - source.left) < 0.5:
            return norm(tp.get_text_range(hit[0], min(700, tp.count_chars() - hit[0])))
    raise AssertionError("source line vanished")


def _chart_labels(chart: dict[str, Any]) -> list[str]:
    """Texts the chart itself must show: its unit axis, its categories or its series names."""
    data = chart["data"]
    if data == "market_size":
        years = [r["year"] for r in _csv(Path(REPORT["market_size"]["file"]).name)]
        return [f"{REPORT.get('currency', 'USD')} {REPORT.get('unit', 'million')}", years[0], years[-1]]
    if data == "players":
        return [r["company"] for r in _csv(Path(REPORT["players"]["file"]).name)][:3]
    seg = next(s for s in REPORT["segments"] if s["id"] == data.split(":", 1)[1])
    return [item["name"] for item in seg["items"]]


def test_at_least_six_figures_each_with_chart_and_source_on_its_caption_page(doc: Doc) -> None:
    """There are ≥ 6 'Figure N' captions; each has its chart (the chart's own labels) below it and
    its 'Source:' line under the chart, all on the caption's page."""
    charts = {c["id"]: c for c in REPORT["charts"]}
    ids = numbered("figure")
    assert len(ids) >= 6
    for n, chart_id in enumerate(ids, start=1):
        page = caption_page(doc, f"Figure {n}")
        caption = find(doc.tp(page), f"Figure {n}")[0]
        src_page, source = _source_after(doc, page, caption)
        assert src_page == page, f"Figure {n}: source line not on the caption's page"
        assert caption.bottom - source.top > 100, f"Figure {n}: no room for a chart"
        _w, _h = doc.size(page)
        band = norm(doc.tp(page).get_text_bounded(0, source.top, _w, caption.bottom))
        for label in _chart_labels(charts[chart_id]):
            assert label in band, f"Figure {n}: chart label {label!r} not between caption and source"


def test_illustrative_notes_beside_illustrative_figures_and_tables(doc: Doc) -> None:
    """The source line of every figure and table fed by illustrative data carries that note, and
    only those source lines say 'Illustrative'."""
    refs = {"figure": {c["id"]: c["data"] for c in REPORT["charts"]},
            "table": {t["id"]: t["data"] for t in REPORT["tables"]}}
    seen_note = seen_plain = False
    for kind, word in (("figure", "Figure"), ("table", "Table")):
        for n, item_id in enumerate(numbered(kind), start=1):
            page = caption_page(doc, f"{word} {n}")
            caption = find(doc.tp(page), f"{word} {n}")[0]
            src_page, source = _source_after(doc, page, caption)
            text = _source_text(doc, src_page, source)
            origin, note = provenance(refs[kind][item_id])
            assert text.startswith(norm(f"Source: {origin}")), f"{word} {n}: {text[:80]!r}"
            head = text[: len(norm(f"Source: {origin}")) + 2 + len(norm(note or "")) + 20]
            if note:
                seen_note = True
                assert norm(note) in text, f"{word} {n}: illustrative note missing"
                assert "Illustrative" in head
            else:
                seen_plain = True
                assert "Illustrative" not in head, f"{word} {n} is not illustrative"
    assert seen_note and seen_plain


def test_table_values_have_thousands_separators_and_units_in_the_header(doc: Doc) -> None:
    """The market-size table prints every CSV value in whole units with a thousands separator,
    under a header that names the currency and unit."""
    n = numbered("table").index(next(t["id"] for t in REPORT["tables"] if t["data"] == "market_size")) + 1
    page = caption_page(doc, f"Table {n}")
    text = norm(doc.text(page))
    values = [float(r["value"]) for r in _csv(Path(REPORT["market_size"]["file"]).name)]
    assert any(v >= 1000 for v in values)
    for v in values:
        assert f"{v:,.0f}" in text
    rows = _table_rows(doc, page, f"Table {n}")
    first_body = next(i for i, row in enumerate(rows) if row and row[0].text[:4].isdigit())
    header = " ".join(w.text for row in rows[:first_body] for w in row)
    assert f"({REPORT.get('currency', 'USD')} {REPORT.get('unit', 'million')})" in header


def _table_rows(doc: Doc, page: int, label: str) -> list[list[Box]]:
    """Word rows (by baseline) of the table whose caption is ``label``, between caption and source."""
    caption = find(doc.tp(page), label)[0]
    _src_page, source = _source_after(doc, page, caption)
    inside = [w for w in doc.words(page) if source.top < w.bottom and w.top < caption.bottom]
    rows: dict[float, list[Box]] = {}
    for w in inside:
        key = next((k for k in rows if abs(k - w.bottom) < 1.0), w.bottom)
        rows.setdefault(key, []).append(w)
    return [sorted(r, key=lambda w: w.left) for _, r in sorted(rows.items(), reverse=True)]


NUMBER = re.compile(r"^-?[\d,]*\d\.\d+%?$")  # a formatted value (years in headers are not)


def test_table_numbers_are_right_aligned(doc: Doc) -> None:
    """In the segment and company tables every numeric column shares one right edge (its left
    edges differ, so the check is real) while the label column shares one left edge."""
    spread_seen = 0.0
    tables = [t["id"] for t in REPORT["tables"] if t["data"].startswith("segment:") or t["data"] == "players"]
    assert tables
    for n, table_id in enumerate(numbered("table"), start=1):
        if table_id not in tables:
            continue
        page = caption_page(doc, f"Table {n}")
        rows = _table_rows(doc, page, f"Table {n}")
        numeric = [[w for w in row if NUMBER.match(w.text)] for row in rows]
        width = max(len(r) for r in numeric)
        body = [(row, nums) for row, nums in zip(rows, numeric, strict=True) if len(nums) == width]
        assert len(body) >= 3 and width >= 1, f"Table {n}: no numeric rows found"
        for col in range(width):
            cells = [nums[col] for _, nums in body]
            rights = [c.right for c in cells]
            lefts = [c.left for c in cells]
            assert max(rights) - min(rights) < 0.6, f"Table {n} column {col}: {[c.text for c in cells]}"
            spread_seen = max(spread_seen, max(lefts) - min(lefts))
        label_lefts = [row[0].left for row, _ in body]
        assert max(label_lefts) - min(label_lefts) < 0.6, f"Table {n}: labels not left-aligned"
    assert spread_seen > 2.0, "no column with numbers of different widths: alignment untested"


# ---------------------------------------------------------------------------- fonts and images

def _font_resources(reader: pypdf.PdfReader) -> dict[str, Any]:
    """Every font dictionary reachable from the pages, including through form XObjects."""
    fonts: dict[str, Any] = {}
    seen: set[int] = set()

    def walk(resources: Any) -> None:
        resources = resources.get_object() if resources is not None else None
        if not resources:
            return
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            fonts[str(font.get("/BaseFont"))] = font
        for xobj in (resources.get("/XObject") or {}).values():
            ref = getattr(xobj, "idnum", None)
            xobj = xobj.get_object()
            if ref in seen:
                continue
            if ref is not None:
                seen.add(ref)
            walk(xobj.get("/Resources"))

    for page in reader.pages:
        walk(page.get("/Resources"))
    return fonts


def _embedded_truetype_subset(font: Any) -> bool:
    if font.get("/Subtype") == "/Type0":
        font = font["/DescendantFonts"][0].get_object()
    descriptor = font.get("/FontDescriptor")
    return (descriptor is not None and "/FontFile2" in descriptor.get_object()
            and re.match(r"^/?[A-Z]{6}\+", str(font.get("/BaseFont"))) is not None)


def _family(base_font: str) -> str:
    return base_font.lstrip("/").split("+", 1)[-1].split("-", 1)[0]


def test_every_font_that_draws_text_is_an_embedded_truetype_subset(doc: Doc) -> None:
    """Each font showing glyphs is TrueType with a FontFile2 and an 'ABCDEF+' subset name."""
    used = doc.fonts(range(1, doc.pages + 1))
    assert used
    for name, font in used.items():
        assert _embedded_truetype_subset(font), f"{name} is not an embedded TrueType subset"


def test_no_font_resource_is_unembedded(doc: Doc) -> None:
    """No font a viewer would list (any /Font resource, forms included) is a non-embedded font."""
    fonts = _font_resources(doc.reader)
    bad = [name for name, font in fonts.items() if not _embedded_truetype_subset(font)]
    assert bad == []


def test_body_text_and_charts_use_one_font_family(doc: Doc) -> None:
    """All text on body pages (prose, tables, chart labels) is set in one family, and the chart
    axis labels use that family too."""
    used = doc.fonts(doc.body)
    assert {_family(name) for name in used} == {_family(next(iter(used)))}
    body_family = _family(next(iter(used)))
    axis = f"{REPORT.get('currency', 'USD')} {REPORT.get('unit', 'million')}"
    axis_fonts = {name for p in doc.body for text, name, _font in doc.fragments[p - 1] if text == axis}
    assert axis_fonts, "no chart axis label found"
    assert {_family(f) for f in axis_fonts} == {body_family}


def test_cover_text_uses_the_brand_font_family(doc: Doc) -> None:
    """Everything on the cover, the logo's wordmark included, is set in the body font family."""
    body_family = {_family(n) for n in doc.fonts(doc.body)}
    assert {_family(n) for n in doc.fonts([1])} == body_family


def test_no_raster_images_charts_are_vector(doc: Doc) -> None:
    """No page (nor any form it uses) holds an image XObject or inline image; figure pages are
    drawn with many path operators instead."""
    def walk(resources: Any, seen: set[int]) -> Iterator[Any]:
        resources = resources.get_object() if resources is not None else None
        for xobj in ((resources or {}).get("/XObject") or {}).values():
            if xobj.idnum in seen:
                continue
            seen.add(xobj.idnum)
            obj = xobj.get_object()
            yield obj
            yield from walk(obj.get("/Resources"), seen)

    for i, page in enumerate(doc.reader.pages, start=1):
        for obj in walk(page.get("/Resources"), set()):
            assert obj.get("/Subtype") != "/Image", f"image XObject on page {i}"
        ops = [op for _args, op in ContentStream(page.get_contents(), doc.reader).operations]
        assert b"INLINE IMAGE" not in ops and b"BI" not in ops, f"inline image on page {i}"
    for n in range(1, len(numbered("figure")) + 1):
        page = doc.reader.pages[caption_page(doc, f"Figure {n}") - 1]
        ops = [op for _args, op in ContentStream(page.get_contents(), doc.reader).operations]
        assert sum(op in (b"m", b"l", b"c", b"re") for op in ops) > 20


def test_company_names_are_extractable_text(doc: Doc) -> None:
    """A viewer's search for 'Siemens Healthineers' finds it (pdfium), and pypdf extracts it."""
    assert any(find(doc.tp(p), "Siemens Healthineers") for p in doc.body)
    assert any("Siemens Healthineers" in norm(t) for t in doc.texts)


# ---------------------------------------------------------------------------- builds of copies

def _warm(dest: Path, sample_pdf: Any) -> None:
    """Seed the default cache (.cache under ``dest``) from the session build."""
    shutil.copytree(sample_pdf.cache_dir, dest / ".cache")


@pytest.fixture(scope="module")
def long_table(tmp_path_factory: pytest.TempPathFactory, copy_sample: Callable[..., Path],
               sample_pdf: Any) -> tuple[Path, list[str]]:
    """A build of the sample whose market-size table has 49 years: (pdf, the added rows' values)."""
    root = tmp_path_factory.mktemp("long-table")
    folder = copy_sample(root)
    tables = folder / "tables"
    size = (tables / "market_size.csv").read_text(encoding="utf-8").splitlines()
    first_year, first_value = size[1].split(",")
    extra: list[tuple[int, float]] = []
    value = float(first_value)
    for year in range(int(first_year) - 1, int(first_year) - 41, -1):
        value /= 1.06
        extra.append((year, round(value, 1)))
    extra.reverse()
    (tables / "market_size.csv").write_text(
        "\n".join([size[0], *(f"{y},{v:.1f}" for y, v in extra), *size[1:]]) + "\n", encoding="utf-8")
    for seg in REPORT["segments"]:
        path = folder / seg["file"]
        rows = path.read_text(encoding="utf-8").splitlines()
        shares = rows[1].split(",", 1)[1]
        path.write_text("\n".join([rows[0], *(f"{y},{shares}" for y, _ in extra), *rows[1:]]) + "\n",
                        encoding="utf-8")
    report = _yaml(folder / "report.yaml")
    years = [int(ln.split(",")[0]) for ln in size[1:]]
    for chart in report["charts"]:           # keep the charts as they were: the table is the point
        chart.setdefault("years", years)
    (folder / "report.yaml").write_text(yaml.safe_dump(report, allow_unicode=True, sort_keys=False),
                                        encoding="utf-8")
    result = build(folder, root / "long.pdf", cache_dir=sample_pdf.cache_dir)
    return result.path, [f"{v:,.0f}" for _, v in extra]


def test_long_table_repeats_its_header_on_every_page(long_table: tuple[Path, list[str]]) -> None:
    """A table too long for one page breaks across pages and each page starts with the same header."""
    path, values = long_table
    n = numbered("table").index(next(t["id"] for t in REPORT["tables"] if t["data"] == "market_size")) + 1
    pdf = pypdfium2.PdfDocument(path)
    try:
        tps = [page.get_textpage() for page in pdf]
        on = [i for i, tp in enumerate(tps) if any(find(tp, v) for v in values)]
        assert len(on) >= 2, f"the long table did not break across pages: {on}"
        assert on == list(range(on[0], on[-1] + 1))
        headers = []
        for i in on:
            tp = tps[i]
            width = pdf[i].get_size()[0]
            first_row = max((b for v in values for b in find(tp, v)), key=lambda b: b.top)
            if i == on[0]:
                top = find(tp, f"Table {n}")[0].bottom
            else:
                top = min(b.bottom for b in find(tp, REPORT["short_title"]))  # the running header
            headers.append(norm(tp.get_text_bounded(0, first_row.top + 0.5, width, top - 0.5)))
        assert headers[0], "no header row above the first rows"
        assert all(h == headers[0] for h in headers), headers
    finally:
        for tp in tps:
            tp.close()
        pdf.close()


def test_two_builds_cold_and_warm_chart_cache_are_byte_identical(sample_pdf: Any, tmp_path: Path) -> None:
    """Rebuilding unchanged content with the now-warm chart cache gives the same bytes as the
    session's cold-cache build."""
    assert list(Path(sample_pdf.cache_dir).iterdir()), "the chart cache was not filled"
    again = build(CONTENT, tmp_path / "again.pdf", cache_dir=sample_pdf.cache_dir)
    assert again.path.read_bytes() == Path(sample_pdf.path).read_bytes()


def test_watermark_can_be_turned_off_in_brand_data(tmp_path: Path, content_copy: Callable[..., Path],
                                                   sample_pdf: Any) -> None:
    """With 'watermark: false' in brand.yaml no page carries the SAMPLE watermark."""
    folder = content_copy()
    brand = tmp_path / "assets" / "brand.yaml"
    text, count = re.subn(r"(?m)^watermark:\s*true\b", "watermark: false", brand.read_text(encoding="utf-8"))
    assert count == 1
    brand.write_text(text, encoding="utf-8")
    result = build(folder, tmp_path / "plain.pdf", cache_dir=sample_pdf.cache_dir)
    pdf = pypdfium2.PdfDocument(result.path)
    try:
        for page in pdf:
            tp = page.get_textpage()
            assert not [b for b in find(tp, "SAMPLE") if b.top - b.bottom > 50]
            tp.close()
    finally:
        pdf.close()


def test_python_m_pacspdf_build_as_a_subprocess(tmp_path: Path, content_copy: Callable[..., Path],
                                                sample_pdf: Any) -> None:
    """`python -m pacspdf build` with no arguments writes out/<slug>-sample.pdf, prints its path,
    page count, size and time, and produces the same bytes as the in-process build."""
    content_copy()
    _warm(tmp_path, sample_pdf)
    proc = subprocess.run([sys.executable, "-m", "pacspdf", "build"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    out = Path("out") / f"{REPORT['slug']}-sample.pdf"
    match = re.search(rf"^{re.escape(str(out))}: (\d+) pages, [\d.,]+ [KM]B, [\d.]+ s$", proc.stdout, re.M)
    assert match, proc.stdout
    assert int(match.group(1)) == sample_pdf.result.pages
    assert (tmp_path / out).read_bytes() == Path(sample_pdf.path).read_bytes()
    assert "Traceback" not in proc.stderr


def test_build_of_another_content_folder_is_named_by_its_slug(
        tmp_path: Path, content_copy: Callable[..., Path], sample_pdf: Any,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`build content/<other>` of a copy with another slug writes out/<that-slug>-sample.pdf."""
    folder = content_copy("other")
    report = folder / "report.yaml"
    text, count = re.subn(r"(?m)^slug:.*$", "slug: other-market", report.read_text(encoding="utf-8"))
    assert count == 1
    report.write_text(text, encoding="utf-8")
    _warm(tmp_path, sample_pdf)
    monkeypatch.chdir(tmp_path)
    assert main(["build", "content/other"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").glob("*.pdf")) == ["other-market-sample.pdf"]
    assert "out/other-market-sample.pdf" in capsys.readouterr().out


# ---------------------------------------------------------------------------- errors

PROBLEM = re.compile(r"^(?P<file>[^:\s][^:]*?)(?::(?P<line>\d+)(?::\d+)?)?: (?P<sev>error|warning): "
                     r"(?:(?P<field>[^:]+): )?(?P<msg>.+)$")
SUMMARY = re.compile(r"^\d+ errors?, \d+ warnings?; no PDF written$")


def _edit(path: Path, old: str, new: str) -> int:
    """Replace the one occurrence of ``old``; the 1-based line where it was."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def _line_of(path: Path, fragment: str) -> int:
    text = path.read_text(encoding="utf-8")
    return text[: text.index(fragment)].count("\n") + 1


@dataclass(frozen=True)
class Case:
    """A content fault and the problem line it must produce."""

    id: str
    break_content: Callable[[Path], tuple[int, ...]]  # mutates the folder; accepted line numbers
    file: str                                         # path of the file, relative to the folder
    field: str | None
    message: str                                      # a fragment of the message


def _missing_report(folder: Path) -> tuple[int, ...]:
    (folder / "report.yaml").unlink()
    return (0,)


def _yaml_syntax(folder: Path) -> tuple[int, ...]:
    line = _edit(folder / "report.yaml", f"market: {REPORT['market']}\n", f"market: {REPORT['market']}: x\n")
    return (line,)


def _missing_field(folder: Path) -> tuple[int, ...]:
    _edit(folder / "report.yaml", f"code: {REPORT['code']}\n", "")
    return tuple(range(1, 12))


def _mistyped_field(folder: Path) -> tuple[int, ...]:
    return (_edit(folder / "report.yaml", "\nshort_title:", "\nshort_titel:") + 1,)


def _wrong_type(folder: Path) -> tuple[int, ...]:
    line = _edit(folder / "report.yaml", f"\nbase_year: {REPORT['base_year']}\n", "\nbase_year: twenty\n")
    return (line + 1,)


def _unknown_placeholder(folder: Path) -> tuple[int, ...]:
    path = folder / "report.yaml"
    line = _edit(path, PLACEHOLDER, PLACEHOLDER.replace("leading", "leeding"))
    block = path.read_text(encoding="utf-8").splitlines()[:line]
    text_line = max(i for i, ln in enumerate(block, start=1) if ln.strip().startswith("- text:"))
    return tuple(range(text_line, line + 1))


def _bad_number(folder: Path) -> tuple[int, ...]:
    path = folder / "tables" / "by_type.csv"
    rows = path.read_text(encoding="utf-8").splitlines()
    year, _first, rest = rows[3].split(",", 2)
    path.write_text("\n".join([*rows[:3], f"{year},4x.2,{rest}", *rows[4:]]) + "\n", encoding="utf-8")
    return (4,)


PLACEHOLDER = "{{ segments.region.leading.name }} leads"
PLACEHOLDER_FIELD = next(f"sections[{i}].blocks[{j}].text" for i, sec in enumerate(REPORT["sections"])
                         for j, block in enumerate(sec.get("blocks") or [])
                         if PLACEHOLDER in (block.get("text") or ""))

CASES = [
    Case("missing-report", _missing_report, "report.yaml", None, "not found"),
    Case("yaml-syntax", _yaml_syntax, "report.yaml", None, "YAML"),
    Case("missing-field", _missing_field, "report.yaml", "code", "required"),
    Case("mistyped-field", _mistyped_field, "report.yaml", "short_titel", "did you mean 'short_title'"),
    Case("wrong-type", _wrong_type, "report.yaml", "base_year", "expected a whole number"),
    Case("unknown-placeholder", _unknown_placeholder, "report.yaml", PLACEHOLDER_FIELD, "leeding"),
    Case("bad-number", _bad_number, "tables/by_type.csv", "Cloud-based PACS", "not a number"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_content_ends_with_one_clean_line_per_problem(
        case: Case, tmp_path: Path, content_copy: Callable[..., Path], sample_pdf: Any,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Bad content exits 2 with one line per problem naming file, line and field (no traceback),
    and writes no PDF."""
    folder = content_copy()
    lines_ok = case.break_content(folder)
    _warm(tmp_path, sample_pdf)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out" / "x.pdf"
    assert main(["build", "content/pacs", "-o", str(out)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert captured.out == ""
    err = captured.err.splitlines()
    assert err and SUMMARY.match(err[-1]), err
    problems = [PROBLEM.match(ln) for ln in err[:-1]]
    assert all(problems), f"lines that are not one problem each: {err}"
    errors = [m for m in problems if m and m["sev"] == "error"]
    wanted = [m for m in errors if m["file"] == f"content/pacs/{case.file}"
              and (case.field is None or m["field"] == case.field)
              and case.message in (m["msg"] if case.field else m[0].split(": error: ", 1)[1])]
    assert wanted, f"no error for {case.file} / {case.field} / {case.message!r}: {err}"
    got = int(wanted[0]["line"] or 0)
    assert got in lines_ok, f"line {got}, expected one of {lines_ok}"
    assert not out.exists() and not (tmp_path / "out").exists()


def test_failed_build_leaves_the_previous_pdf_untouched(
        tmp_path: Path, content_copy: Callable[..., Path], sample_pdf: Any,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A build that fails late (an unknown placeholder found while composing) exits 2 with one
    problem line, keeps the old PDF byte-identical and leaves no partial or stray file."""
    folder = content_copy()
    _unknown_placeholder(folder)
    _warm(tmp_path, sample_pdf)
    out_dir = tmp_path / "published"
    out_dir.mkdir()
    old = out_dir / "pacs-sample.pdf"
    shutil.copyfile(sample_pdf.path, old)
    before = old.read_bytes()
    monkeypatch.chdir(tmp_path)
    assert main(["build", "content/pacs", "-o", str(old)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    errors = [ln for ln in captured.err.splitlines() if ": error: " in ln]
    assert len(errors) == 1 and errors[0].startswith("content/pacs/report.yaml:"), errors
    assert old.read_bytes() == before
    assert [p.name for p in out_dir.iterdir()] == ["pacs-sample.pdf"]


def test_failed_write_leaves_the_previous_pdf_untouched(
        tmp_path: Path, sample_pdf: Any, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """When writing the new PDF fails (an I/O error before the rename) the CLI exits 2 with one
    line, the old PDF is unchanged and no *.part file is left."""
    import pacspdf.write

    out_dir = tmp_path / "published"
    out_dir.mkdir()
    old = out_dir / "pacs-sample.pdf"
    old.write_bytes(b"%PDF-1.4 previous edition\n")
    _warm(tmp_path, sample_pdf)

    def broken_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(pacspdf.write.os, "fsync", broken_fsync)
    monkeypatch.chdir(tmp_path)
    assert main(["build", str(CONTENT), "-o", str(old)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert len(captured.err.strip().splitlines()) == 1 and "cannot write" in captured.err
    assert old.read_bytes() == b"%PDF-1.4 previous edition\n"
    assert [p.name for p in out_dir.iterdir()] == ["pacs-sample.pdf"]

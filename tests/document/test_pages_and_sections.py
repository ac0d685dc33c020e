"""The built sample read back: metadata, running header and footer, watermark, the chapters.

Expected values come from the content (report.yaml, the CSV tables, brand.yaml), never from
the code that built the PDF."""

from __future__ import annotations

from pathlib import Path

from pacspdf.templates.environment import money_formatter
from pdf_reading import (
    BRAND,
    REPORT,
    Doc,
    _csv,
    find,
    heading_page,
    norm,
)

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


def test_running_header_and_page_x_of_y_on_every_page_but_the_covers(doc: Doc) -> None:
    """Pages 2..N-1 show the short title and publisher at the top and 'Page X of Y' at the
    bottom; the front and back covers show none of them."""
    for page in range(2, doc.pages):
        _w, h = doc.size(page)
        tp = doc.tp(page)
        for text in (REPORT["short_title"], BRAND["publisher"]):
            assert any(b.bottom > h * 0.88 for b in find(tp, text)), f"no header {text!r} on page {page}"
        assert any(b.top < h * 0.12 for b in find(tp, f"Page {page} of {doc.pages}")), page
    cover = doc.text(1)
    assert "Page 1 of" not in cover and REPORT["short_title"] not in cover
    back = doc.text(doc.pages)
    assert f"Page {doc.pages} of" not in back and REPORT["short_title"] not in back


def _watermarks(doc: Doc, page: int) -> list[str]:
    """The watermark forms a page draws (outlines, not text: see test_sales)."""
    xobjects = doc.reader.pages[page - 1]["/Resources"].get("/XObject") or {}
    return [str(name) for name in xobjects if "Watermark" in str(name)]


def test_sample_watermark_on_body_pages(doc: Doc) -> None:
    """Every chapter page draws the 'SAMPLE' watermark; the covers do not."""
    assert doc.body
    for page in doc.body[:-1]:
        assert _watermarks(doc, page), f"no watermark on page {page}"
    assert not _watermarks(doc, 1) and not _watermarks(doc, doc.pages)


# ---------------------------------------------------------------------------- sections

def _section_pages(doc: Doc) -> dict[str, range]:
    starts = [(sec["id"], heading_page(doc, sec["title"])) for sec in REPORT["sections"]]
    out = {}
    for i, (sid, first) in enumerate(starts):
        # A chapter that runs on starts on the page the previous one ends on.
        last = starts[i + 1][1] if i + 1 < len(starts) else doc.pages
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

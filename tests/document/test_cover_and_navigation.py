"""The built sample read back: cover, notice page, outline, contents and lists, links.

Expected values come from the content (report.yaml, the CSV tables, brand.yaml), never from
the code that built the PDF."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jinja2
import pypdf
import pytest

from pdf_reading import (
    BRAND,
    REPORT,
    Doc,
    caption_page,
    entry_page_number,
    find,
    heading_page,
    lines,
    link_target,
    links,
    norm,
    numbered,
    overlaps,
    section_heading_pages,
    sections,
    squash,
)

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
    notice = squash(doc.text(2))  # running text is hyphenated: compare without hyphens
    assert "Notice" in lines(doc.text(2))
    assert squash(_brand_template(BRAND["copyright"])) in notice
    assert str(dt.date.fromisoformat(REPORT["edition"]).year) in _brand_template(BRAND["copyright"])
    assert squash(_brand_template(BRAND["licence"])) in notice
    assert squash(BRAND["disclaimer"]) in notice


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
                # Web links carry the brand's tracking query (test_sales checks it).
                uris.setdefault(str(action["/URI"]).split("?")[0], []).append((page, annot["/Rect"]))
    for key in ("purchase", "enquiry"):
        url = BRAND["links"][key].replace("{id}", str(REPORT["publisher_id"]))
        assert url in uris, f"no link annotation to the {key} URL {url}"
        # Buttons and boxes link there too; wherever the URL is printed, a link lies over it.
        printed = sorted({page for page, _rect in uris[url] if find(doc.tp(page), url)})
        assert printed, f"the {key} URL is printed nowhere"
        for page in printed:
            rects = [rect for p, rect in uris[url] if p == page]
            for box in find(doc.tp(page), url):
                assert any(overlaps(rect, box) for rect in rects), \
                    f"the {key} URL printed on page {page} is not a link"
    sales = BRAND["contact"]["sales_email"]
    assert f"mailto:{sales}" in uris, "the sales address is not a mailto link"
    for page, rect in uris[f"mailto:{sales}"]:
        assert any(overlaps(rect, box) for box in find(doc.tp(page), sales)), \
            f"the mailto link on page {page} is not over the printed address"

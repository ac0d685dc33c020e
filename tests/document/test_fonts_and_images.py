"""The built sample read back: embedded TrueType subsets, one font family, vector charts.

Expected values come from the content (report.yaml, the CSV tables, brand.yaml), never from
the code that built the PDF."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pypdf
from pypdf.generic import ContentStream

from pdf_reading import (
    REPORT,
    Doc,
    caption_page,
    find,
    norm,
    numbered,
)

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

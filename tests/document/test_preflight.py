"""The layout preflight finds text printed over text, off the page or past the margins.

Each test draws a page with ReportLab on purpose (a collision, a clean page, a watermark) and
reads the resulting PDF back through the preflight, as a build does.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from pacspdf.document.preflight import preflight

MARGINS = (60.0, 60.0, 70.0, 60.0)


def _pdf(*pages: Callable[[Canvas], None]) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    for draw in pages:
        draw(canvas)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _cover(c: Canvas) -> None:
    c.setFont("Helvetica", 12)
    c.drawString(60, 700, "Cover")


def test_a_clean_page_has_no_findings() -> None:
    def page(c: Canvas) -> None:
        c.setFont("Helvetica", 10)
        for i in range(30):
            c.drawString(60, 700 - 14 * i, f"Line {i}: a paragraph of ordinary text, well spaced.")
        c.drawRightString(A4[0] - 60, 800, "Publisher")
        c.drawString(60, 800, "Running header")

    assert preflight(_pdf(_cover, page), margins=MARGINS) == []


def test_two_strings_drawn_over_each_other_are_named_with_their_page() -> None:
    def page(c: Canvas) -> None:
        c.setFont("Helvetica", 10)
        c.drawString(60, 400, "REPORT-CODE-THAT-IS-FAR-TOO-LONG")
        c.drawString(150, 400, "2025-2032")

    found = preflight(_pdf(_cover, page), margins=MARGINS)
    assert len(found) == 1
    assert found[0].page == 2
    assert "REPORT-CODE" in str(found[0]) and "2025-2032" in str(found[0])
    assert str(found[0]).startswith("page 2: body text ")


def test_a_long_running_header_over_the_publisher_is_found_in_the_header() -> None:
    def page(c: Canvas) -> None:
        c.setFont("Helvetica", 8)
        c.drawString(60, 800, "A running header so long that it reaches the publisher's name " * 2)
        c.drawRightString(A4[0] - 60, 800, "Reliable Market Forecast")

    found = preflight(_pdf(_cover, page), margins=MARGINS)
    assert any("running header" in f.element and "overprints" in f.message for f in found)


def test_text_past_the_margin_and_off_the_page_is_found() -> None:
    def page(c: Canvas) -> None:
        c.setFont("Helvetica", 10)
        c.drawString(20, 500, "starts left of the margin")
        c.drawString(A4[0] - 30, 400, "runs off the page")

    found = [f.message for f in preflight(_pdf(_cover, page), margins=MARGINS)]
    assert "runs past the left margin" in found
    assert "runs off the page" in found


def test_the_cover_may_use_the_whole_page_but_not_more() -> None:
    def cover(c: Canvas) -> None:
        c.setFont("Helvetica", 10)
        c.drawString(10, 500, "full-bleed cover text")
        c.drawString(A4[0] - 20, 300, "cut off")

    found = preflight(_pdf(cover), margins=MARGINS)
    assert [f.message for f in found] == ["runs off the page"]
    assert found[0].element.startswith("cover text")


def test_an_italic_overhang_at_the_margin_is_not_past_the_margin() -> None:
    def page(c: Canvas) -> None:
        c.setFont("Helvetica-Oblique", 10)
        c.drawString(60, 500, "für Objektive, an italic line starting at the margin")
        c.setFont("Times-Italic", 10)
        c.drawString(60, 480, "fjord, another italic line at the margin")

    assert preflight(_pdf(_cover, page), margins=MARGINS) == []


def test_a_large_faint_watermark_across_the_text_is_not_a_collision() -> None:
    def page(c: Canvas) -> None:
        c.setFont("Helvetica", 10)
        for i in range(20):
            c.drawString(60, 600 - 14 * i, "Body text under the watermark.")
        c.saveState()
        c.setFillAlpha(0.05)
        c.translate(A4[0] / 2, A4[1] / 2)
        c.rotate(52)
        c.setFont("Helvetica-Bold", 118)
        c.drawCentredString(0, -40, "SAMPLE")
        c.restoreState()

    assert preflight(_pdf(_cover, page), margins=MARGINS) == []


def test_rotated_labels_that_overlap_each_other_are_found() -> None:
    def page(c: Canvas) -> None:
        c.setFont("Helvetica", 9)
        for i, x in enumerate((200, 204)):
            c.saveState()
            c.translate(x, 400)
            c.rotate(45)
            c.drawRightString(0, 0, f"Category label number {i}")
            c.restoreState()

    assert len(preflight(_pdf(_cover, page), margins=MARGINS)) == 1


def test_glyphs_of_one_string_never_collide_with_each_other() -> None:
    def page(c: Canvas) -> None:
        text = c.beginText(60, 400)
        text.setFont("Helvetica", 10)
        text.setCharSpace(-4)  # tightly set: the glyph boxes of one run overlap
        text.textOut("WAVE AVATAR")
        c.drawText(text)

    assert preflight(_pdf(_cover, page), margins=MARGINS) == []

"""Split flowables stay one element; repeated table headers are artifacts; layout tables add none."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import ListItem, PageBreak, SimpleDocTemplate

from pacspdf.document.archive import Archive, canvas_maker
from pacspdf.document.paragraph import Paragraph
from pacspdf.document.tagged import Figure, TaggedList, TaggedTable
from pdf_reading import element_text, kids, mcr_texts, reading_texts, struct_elements, untagged_content


@pytest.fixture(scope="module")
def font() -> str:
    import font_source_sans_pro
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    root = Path(font_source_sans_pro.__file__).parent
    path = next(p for p in sorted(root.rglob("*.ttf")) if p.name.startswith("SourceSansPro-Regular"))
    pdfmetrics.registerFont(TTFont("TagTestSans", str(path)))
    return "TagTestSans"


def _build(story: list[Any], font: str) -> bytes:
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, invariant=1, initialFontName=font, lang="en", title="t", author="a")
    doc.multiBuild(story, canvasmaker=canvas_maker(Archive(pdfa="none")))
    return buf.getvalue()


def test_split_table_is_one_table_and_repeated_header_is_an_artifact(font: str) -> None:
    """A 120-row table over several pages: one Table of 121 rows, header TH once, repeats not in the tree."""
    style = ParagraphStyle("c", fontName=font, fontSize=9, leading=11)
    rows = [[Paragraph("Year", style), Paragraph("Value", style)]]
    rows += [[Paragraph(str(2000 + i), style), Paragraph(f"{i * 1.5:.1f}", style)] for i in range(120)]
    data = _build([TaggedTable(rows, repeatRows=1, style=[("FONTNAME", (0, 0), (-1, -1), font)])], font)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) >= 3 and untagged_content(pdf) == []
        (table,) = [e for e in struct_elements(pdf) if str(e.S) == "/Table"]
        trs = kids(table)
        assert len(trs) == 121
        texts = mcr_texts(data)
        assert [element_text(texts, pdf, c) for c in kids(trs[0])] == ["Year", "Value"]
        assert all(str(c.S) == "/TD" for tr in trs[1:] for c in kids(tr))
    tree, pages = reading_texts(data)
    assert tree == pages and tree.count("Year") == 1


def test_split_list_and_paragraph_stay_one_element(font: str) -> None:
    """A list and a paragraph each broken over a page are one L (of all items) and one P."""
    style = ParagraphStyle("b", fontName=font, fontSize=10, leading=12)
    filler = Paragraph("x " * 6000, style)
    items = TaggedList([ListItem(Paragraph(f"Item {i}", style)) for i in range(60)], bulletType="bullet",
                       start="\u2022", bulletFontName=font)
    data = _build([filler, PageBreak(), items], font)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert untagged_content(pdf) == []
        roles = [str(e.S) for e in struct_elements(pdf)]
        assert roles.count("/L") == 1 and roles.count("/LI") == 60 and roles.count("/Lbl") == 60
        ps = [e for e in struct_elements(pdf) if str(e.S) == "/P"]
        assert len(ps) == 1 and isinstance(ps[0].K, pikepdf.Array) and len(ps[0].K) >= 2  # on 2+ pages
    tree, pages = reading_texts(data)
    assert tree == pages


def test_layout_table_adds_no_elements_and_figure_needs_alt(font: str) -> None:
    """A boxed panel is only artifacts around its paragraphs; a figure without alt text is refused."""
    style = ParagraphStyle("b", fontName=font, fontSize=10, leading=12)
    box = TaggedTable([[[Paragraph("One", style), Paragraph("Two", style)]]], role=None,
                      style=[("FONTNAME", (0, 0), (-1, -1), font), ("BOX", (0, 0), (-1, -1), 1, "black"),
                             ("BACKGROUND", (0, 0), (-1, -1), "yellow")])
    data = _build([box], font)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert [str(e.S) for e in struct_elements(pdf)] == ["/Document", "/P", "/P"]
        assert untagged_content(pdf) == []
    with pytest.raises(ValueError, match="alternative text"):
        Figure(Paragraph("x", style), "  ")

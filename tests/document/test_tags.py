"""The built sample is a tagged PDF: every mark is content of the structure tree or an artifact."""

from __future__ import annotations

import io
from typing import Any

import pikepdf
import pytest

from pacspdf.document.tags import Tagger
from pdf_reading import (
    REPORT,
    element_text,
    kids,
    mcr_texts,
    pdfua_findings,
    reading_texts,
    struct_elements,
    structure_mcrs,
    text_objects,
    untagged_content,
)


@pytest.fixture(scope="module")
def data(sample_pdf: Any) -> bytes:
    return bytes(sample_pdf.path.read_bytes())


@pytest.fixture(scope="module")
def pdf(data: bytes) -> Any:
    with pikepdf.open(io.BytesIO(data)) as doc:
        yield doc


def _roles(pdf: Any) -> list[str]:
    return [str(e.S)[1:] for e in struct_elements(pdf)]


def test_no_mark_outside_tagged_content_or_artifacts(pdf: Any) -> None:
    """Every text, path, image and form paint on every page is in referenced content or an Artifact."""
    assert len(pdf.pages) >= 10
    assert untagged_content(pdf) == []


def test_the_walker_fails_an_untagged_mark(data: bytes) -> None:
    """A rectangle painted outside marked content (on page 5) is found, and only it."""
    with pikepdf.open(io.BytesIO(data)) as doc:
        doc.pages[4].contents_add(doc.make_stream(b"0 0 10 10 re f"), prepend=False)
        assert [(u.page, u.operator, u.where) for u in untagged_content(doc)] == [(5, "f", "page")]


def test_every_mcid_is_referenced_once(pdf: Any) -> None:
    """The tree references each marked-content sequence exactly once, and nothing that is not there."""
    refs = structure_mcrs(pdf)
    assert len(refs) == len(set(refs))
    tree = pdf.Root.StructTreeRoot.ParentTree.Nums
    for i in range(0, len(tree), 2):
        key, value = int(tree[i]), tree[i + 1]
        if isinstance(value, pikepdf.Array):  # a page: one element per MCID
            page = key + 1
            assert {m for p, m in refs if p == page} == set(range(len(value)))


def test_structure_text_is_page_text_without_artifacts(data: bytes) -> None:
    """Read in tree order, the structure gives exactly the page text that is not an artifact."""
    tree, pages = reading_texts(data)
    assert len(tree) > 10_000
    assert tree == pages


def test_running_headers_footers_watermark_are_artifacts(data: bytes) -> None:
    """Header, footer, page numbers and the watermark are artifacts, never structure text."""
    artifact_text = {t for page, name, _m, t in text_objects(data) if name == "Artifact" and page > 1}
    assert any(t.startswith("Page ") for t in artifact_text)
    # The watermark is drawn as outlines (no text at all), inside a Pagination/Watermark artifact.
    with pikepdf.open(io.BytesIO(data)) as pdf:
        streams = [page.obj.Contents.read_bytes() for page in pdf.pages[1:-1]]
    assert sum(b"/Subtype /Watermark" in s for s in streams) >= len(streams) - 3  # not the front matter
    tree, _ = reading_texts(data)
    assert "Page3of" not in tree and "SAMPLE" not in tree.replace("FREESAMPLE", "")  # the cover badge is text


def test_headings_match_the_outline(pdf: Any, data: bytes) -> None:
    """H1 and H2, in order, are the outline's first and second levels, with the same titles."""
    outline: list[tuple[str, str]] = []
    with pdf.open_outline() as ol:
        def walk(items: list[Any], level: int) -> None:
            for item in items:
                outline.append((f"H{level}", "".join(item.title.split())))
                walk(item.children, level + 1)
        walk(ol.root, 1)
        # The outline panel opens, showing the first level only.
        assert ol.root and all(item.is_closed for item in ol.root if item.children)
        assert pdf.Root.PageMode == "/UseOutlines"
    texts = mcr_texts(data)
    heads = [(str(e.S)[1:], element_text(texts, pdf, e)) for e in struct_elements(pdf)
             if str(e.S) in ("/H1", "/H2", "/H3", "/H4", "/H5", "/H6")]
    assert [r for r, _ in heads] == [r for r, _ in outline]
    for (_, text), (_, title) in zip(heads, outline, strict=True):
        assert text and title.endswith(text)


def test_tables_have_scoped_header_cells(pdf: Any) -> None:
    """Every data table starts with a row of TH scoped to columns; the snapshot's labels are row headers."""
    tables = [e for e in struct_elements(pdf) if str(e.S) == "/Table"]
    assert len(tables) >= 6
    scopes = set()
    for table in tables:
        rows = [r for r in kids(table) if isinstance(r, pikepdf.Dictionary) and str(r.S) == "/TR"]
        assert rows
        cells = [c for r in rows for c in kids(r)]
        assert all(str(c.S) in ("/TH", "/TD") for c in cells)
        ths = [c for c in cells if str(c.S) == "/TH"]
        assert ths and all(str(c.A.O) == "/Table" for c in ths)
        scopes |= {str(c.A.Scope) for c in ths}
        widths = {len(kids(r)) for r in rows}
        assert len(widths) == 1  # a regular grid
    assert scopes == {"/Column", "/Row"}


def test_links_are_tagged_described_and_printable(pdf: Any, data: bytes) -> None:
    """Each link annotation: /Contents, print flag, /StructParent -> a Link element holding its OBJR
    and the linked words (also where a link sits inside running text, as on the closing page)."""
    tree = pdf.Root.StructTreeRoot.ParentTree.Nums
    parents = {int(tree[i]): tree[i + 1] for i in range(0, len(tree), 2)}
    count = 0
    texts = mcr_texts(data)
    for page in pdf.pages:
        for annot in page.obj.get("/Annots", []):
            count += 1
            assert str(annot.Contents).strip()
            assert int(annot.F) & 4 and not int(annot.F) & (1 | 2 | 32)
            link = parents[int(annot.StructParent)]
            assert str(link.S) == "/Link"
            assert any(isinstance(k, pikepdf.Dictionary) and k.get("/Type") == "/OBJR"
                       and k.Obj.objgen == annot.objgen for k in kids(link))
            words = element_text(texts, pdf, link)
            assert words and "".join(str(annot.Contents).split()).endswith(words[-6:])
    assert count >= 20  # contents entries, cover site, closing page


def test_figures_carry_the_content_alt_text(pdf: Any, sample_pdf: Any) -> None:
    """One Figure per chart, with the chart's rendered alt text and a bounding box; plus the logo."""
    figures = [e for e in struct_elements(pdf) if str(e.S) == "/Figure"]
    alts = [str(f.Alt) for f in figures]
    assert alts[0].endswith("logo")
    charts = alts[1:]
    diagrams = sum(1 for s in REPORT["sections"] for b in [*s.get("blocks", []),
                   *(x for sub in s.get("subsections", []) for x in sub["blocks"])] if "diagram" in b)
    assert len(charts) == len(REPORT["charts"]) + diagrams
    assert all(len(a.split()) >= 6 and "{{" not in a for a in charts)
    assert charts[0].startswith("Bar chart of the global PACS market by year")
    assert all(len(f.A.BBox) == 4 for f in figures)


def test_cover_key_facts_and_figures_are_lists(pdf: Any, data: bytes) -> None:
    """The cover's key facts are a list of label and value; its key figures a list too."""
    lists = [e for e in struct_elements(pdf) if str(e.S) == "/L"][:2]
    texts = mcr_texts(data)
    facts = [element_text(texts, pdf, li) for li in kids(lists[0])]
    assert facts[0].startswith("REPORTCODE") and any(f.startswith("FORECASTPERIOD") for f in facts)
    figures = [element_text(texts, pdf, li) for li in kids(lists[1])]
    assert len(figures) >= 3 and all(f.startswith("USD") or f.endswith(("%", ")")) or "CAGR" in f
                                     for f in figures)


def test_contents_is_a_toc(pdf: Any) -> None:
    """The table of contents and the lists of figures and tables are TOC > TOCI elements."""
    tocs = [e for e in struct_elements(pdf) if str(e.S) == "/TOC"]
    assert len(tocs) == 3
    assert all(kids(t) and all(str(k.S) == "/TOCI" for k in kids(t)) for t in tocs)


def test_pdfua_package_rules_pass(data: bytes) -> None:
    """Every rule of the pdfua package runs on the sample and finds nothing."""
    assert pdfua_findings(data) == []


def test_roles_are_standard(pdf: Any) -> None:
    """Only standard structure types of PDF 1.7 are used (no role map needed)."""
    standard = {"Document", "P", "H1", "H2", "L", "LI", "Lbl", "LBody", "Table", "TR", "TH", "TD",
                "Figure", "Link", "TOC", "TOCI"}
    assert set(_roles(pdf)) <= standard


def test_tagger_refuses_unbalanced_use() -> None:
    """pop without push is a programming error, not a silent corruption of the tree."""
    with pytest.raises(RuntimeError):
        Tagger().pop()

"""Keep-with-next, measured on built PDFs: no figure, table or callout alone on a page or away
from its text, and no heading at the foot of a page (PACS and every stress report)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import pdf_reading as lm

REPORTS = Path(__file__).resolve().parents[1] / "reports"
SLUGS = sorted(p.name for p in REPORTS.iterdir() if (p / "report.yaml").is_file())


def test_pacs_keeps_floats_with_their_text(sample_pdf: Any, sample_pages: list[lm.Page]) -> None:
    pages = sample_pages
    assert lm.lonely_floats(sample_pdf.path, pages) == []
    assert lm.headings_at_foot(pages) == []


def test_the_awkward_lengths_stress_reports_are_there() -> None:
    assert {"awkward-lengths", "greenhouse-runs-mx"} <= set(SLUGS)


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_stress_reports_keep_floats_with_their_text(slug: str, tmp_path: Path) -> None:
    from pacspdf.build import build

    path = build(REPORTS / slug, tmp_path / f"{slug}.pdf", cache_dir=tmp_path / "cache").path
    pages = lm.read(path)
    assert lm.lonely_floats(path, pages) == []
    assert lm.headings_at_foot(pages) == []
    assert lm.widows_orphans(pages) == []


@pytest.mark.slow
def test_runs_of_floats_at_chapter_ends_leave_no_page_under_60_percent(tmp_path: Path) -> None:
    """greenhouse-runs-mx ends its chapters with a paragraph and a figure, a table and a callout
    (or two figures and a table) that do not fit on one page with its last lines: every page
    between the front matter (notice, contents) and the last body page is 60 % full or more."""
    import re

    from pacspdf.build import build

    path = build(REPORTS / "greenhouse-runs-mx", tmp_path / "g.pdf", cache_dir=tmp_path / "cache").path
    pages = lm.read(path)
    body = [p for p in pages if re.search(rf"Page {p.number} of {len(pages)}\b", p.text)]
    first = next(i for i, p in enumerate(body) if "CHAPTER 1" in p.text.upper())
    checked = body[first:-1]
    assert len(checked) >= 5
    low = [(p.number, round(p.fill, 2)) for p in checked if p.fill < 0.60]
    assert not low, f"pages under 60 % full: {low}"


@pytest.mark.slow
@pytest.mark.parametrize("sentences", [(8, 6, 10), (14, 16, 30), (5, 18, 22), (24, 30, 14), (12, 14, 4),
                                       (10, 40, 7)])
def test_runs_of_floats_at_other_lengths_keep_their_text(sentences: tuple[int, ...], tmp_path: Path) -> None:
    """The greenhouse report with the paragraph before each chapter's closing run of floats
    cut or lengthened: the run lands at other places on the page, and still no float is left
    alone on a page or away from its text."""
    import shutil

    import yaml

    from pacspdf.build import build

    shutil.copytree(REPORTS.parents[1] / "assets", tmp_path / "assets")
    folder = tmp_path / "reports" / "greenhouse"
    shutil.copytree(REPORTS / "greenhouse-runs-mx", folder)
    report = yaml.safe_load((folder / "report.yaml").read_text(encoding="utf-8"))
    for section, n in zip(report["sections"], sentences, strict=True):
        last = max(i for i, b in enumerate(section["blocks"]) if "text" in b)
        said = [x.strip() + "." for x in " ".join(section["blocks"][last]["text"].split()).split(". ")]
        section["blocks"][last]["text"] = " ".join(said[k % len(said)].rstrip(".") + "." for k in range(n))
    (folder / "report.yaml").write_text(yaml.safe_dump(report, allow_unicode=True, sort_keys=False),
                                        encoding="utf-8")
    path = build(folder, tmp_path / "g.pdf", cache_dir=tmp_path / "cache").path
    pages = lm.read(path)
    assert lm.lonely_floats(path, pages) == []
    assert lm.headings_at_foot(pages) == []


def _synthetic(path: Path) -> None:
    """Three body pages drawn directly: text; a callout opening page 2 above the next
    section's heading, and a heading at the foot of page 2; a figure alone on page 3."""
    import importlib.util

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    spec = importlib.util.find_spec("font_source_sans_pro")
    assert spec is not None and spec.submodule_search_locations
    files = Path(next(iter(spec.submodule_search_locations))) / "files"
    pdfmetrics.registerFont(TTFont("KwnRegular", str(files / "SourceSansPro-Regular.ttf")))
    pdfmetrics.registerFont(TTFont("KwnSemibold", str(files / "SourceSansPro-Semibold.ttf")))
    width, height = A4
    c = Canvas(str(path), pagesize=A4)
    left, right, top, bottom = 62.0, width - 62.0, height - 50.0, 44.0
    line = "Developers are contracting installation vessels years ahead of the first commercial farms."

    def furniture(n: int) -> None:
        c.setFont("KwnRegular", 7.8)
        c.drawString(left, top + 6, "Synthetic report")
        c.setLineWidth(0.8)
        c.line(left, top, right, top)
        c.line(left, bottom, right, bottom)
        c.drawString(right - 60, bottom - 12, f"Page {n} of 3")

    def body(y: float, lines: int) -> float:
        c.setFont("KwnRegular", 10.5)
        for _ in range(lines):
            c.drawString(left, y, line)
            y -= 14.5
        return y

    def heading(y: float, text: str) -> None:
        c.setFont("KwnSemibold", 14)
        c.drawString(left, y, text)

    # Page 1: a section's text.
    furniture(1)
    heading(top - 30, "First section")
    body(top - 55, 40)
    c.showPage()
    # Page 2: a callout (tint box with a left bar) opening the page, away from its text.
    furniture(2)
    c.setFillColorRGB(0.93, 0.95, 0.97)
    c.rect(left, top - 110, right - left, 90, stroke=0, fill=1)
    c.setStrokeColorRGB(0.66, 0.32, 0.06)
    c.setLineWidth(3.2)
    c.line(left + 1.6, top - 110, left + 1.6, top - 20)
    c.setFillColorRGB(0, 0, 0)
    c.setFont("KwnSemibold", 9.5)
    c.drawString(left + 12, top - 40, "Why it matters")
    heading(top - 150, "Second section")
    body(top - 175, 30)
    heading(bottom + 30, "Third section")  # at the foot, its text on the next page
    c.showPage()
    # Page 3: a figure with its caption and nothing else.
    furniture(3)
    c.setFont("KwnSemibold", 9)
    c.drawString(left, top - 30, "Figure 1 A chart on its own")
    c.setFillColorRGB(0.2, 0.4, 0.7)
    c.rect(left + 20, top - 260, 60, 200, stroke=0, fill=1)
    c.showPage()
    c.save()


def test_the_measure_sees_lonely_floats_and_a_heading_at_the_foot(tmp_path: Path) -> None:
    path = tmp_path / "synthetic.pdf"
    _synthetic(path)
    pages = lm.read(path)
    found = lm.lonely_floats(path, pages)
    assert any(f.startswith("page 2:") and "panel" in f and "away from its text" in f for f in found), found
    assert any(f.startswith("page 3:") and "Figure 1" in f and ("alone" in f or "away" in f)
               for f in found), found
    assert any(h.startswith("page 2:") and "Third section" in h for h in lm.headings_at_foot(pages))

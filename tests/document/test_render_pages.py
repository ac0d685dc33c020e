"""Smoke checks on pixels: the sample rendered with pdfium shows the brand, charts and tables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BRAND = yaml.safe_load((REPO / "assets" / "brand.yaml").read_text(encoding="utf-8"))
REPORT = yaml.safe_load((REPO / "content" / "pacs" / "report.yaml").read_text(encoding="utf-8"))
SCALE = 0.5  # 36 dpi: enough for colours and layout, fast to render


def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


PRIMARY = rgb(BRAND["colours"]["primary"])
ACCENT = rgb(BRAND["colours"]["accent"])
PALETTE = [rgb(c) for c in BRAND["colours"]["chart"]]


def near(image: np.ndarray, colour: tuple[int, int, int], tol: int = 10) -> np.ndarray:
    """Mask of pixels within ``tol`` of ``colour`` on every channel."""
    return np.abs(image.astype(int) - np.array(colour)).max(axis=2) <= tol


def ink(image: np.ndarray) -> np.ndarray:
    """Mask of clearly drawn pixels (text, lines, fills), not paper or the faint watermark."""
    return image.min(axis=2) < 160


@pytest.fixture(scope="module")
def pages(sample_pdf: Any) -> Iterator[tuple[list[str], Any]]:
    """(plain text of each page, the pdfium document) of the session's sample."""
    pdf = pypdfium2.PdfDocument(sample_pdf.path)
    texts = [p.extract_text() for p in sample_pdf.reader.pages]
    yield texts, pdf
    pdf.close()


def render(pdf: Any, page: int) -> np.ndarray:
    """Page ``page`` (1-based) as an RGB array."""
    bitmap = pdf[page - 1].render(scale=SCALE, rev_byteorder=True)
    return bitmap.to_numpy()[:, :, :3].copy()


def page_where(texts: list[str], predicate: Any) -> int:
    found = [i for i, t in enumerate(texts, start=1)
             if any(predicate(" ".join(ln.replace("\xa0", " ").split())) for ln in t.splitlines())]
    assert found, "no such page"
    return found[0]


def test_cover_top_band_is_the_brand_primary_colour(pages: tuple[list[str], Any]) -> None:
    """The cover's top corner is the brand primary, the logo stands out at its top left, the band
    covers about half the page, and an accent rule runs across the page under it."""
    _texts, pdf = pages
    image = render(pdf, 1)
    h, w, _ = image.shape
    corner = image[: int(h * 0.03), : int(w * 0.05)]
    assert near(corner, PRIMARY, tol=6).all(), f"corner colour {corner[0, 0]} is not {PRIMARY}"
    assert near(image, PRIMARY).mean() > 0.4
    logo = image[int(h * 0.02): int(h * 0.10), int(w * 0.10): int(w * 0.40)]
    assert (~near(logo, PRIMARY, tol=30)).mean() > 0.05, "no logo drawn at the cover's top left"
    accent_rows = near(image, ACCENT).mean(axis=1) > 0.95
    assert accent_rows.any(), "no accent rule across the cover"
    assert np.argmax(accent_rows) > h * 0.3, "the accent rule is not under the band"


def test_no_page_is_blank(pages: tuple[list[str], Any]) -> None:
    """Every page has drawn content inside the area between running header and footer."""
    _texts, pdf = pages
    for page in range(1, len(pdf) + 1):
        image = render(pdf, page)
        h = image.shape[0]
        inside = ink(image[int(h * 0.09): int(h * 0.91)])
        assert inside.sum() >= 50, f"page {page} looks blank ({int(inside.sum())} inked pixels)"


def test_contents_page_shows_entries_and_page_numbers(pages: tuple[list[str], Any]) -> None:
    """The contents page has a column of entries on the left and of page numbers on the right."""
    texts, pdf = pages
    page = page_where(texts, lambda ln: ln == "Contents")
    image = render(pdf, page)
    h, w, _ = image.shape
    band = ink(image[int(h * 0.15): int(h * 0.85)])
    left = band[:, int(w * 0.10): int(w * 0.40)]
    right = band[:, int(w * 0.85): int(w * 0.92)]
    rows_left = left.any(axis=1).sum()
    rows_right = right.any(axis=1).sum()
    assert rows_left > 40 and rows_right > 20, (rows_left, rows_right)


def test_chart_page_draws_in_the_brand_chart_palette(pages: tuple[list[str], Any]) -> None:
    """Across the figure pages at least three chart palette colours are painted in quantity."""
    texts, pdf = pages
    figure_pages = sorted({page_where(texts, lambda ln, n=n: ln.startswith(f"Figure {n} "))
                           for n in range(1, len(REPORT["charts"]) + 1)})
    assert len(figure_pages) >= 3
    used = np.zeros(len(PALETTE))
    for page in figure_pages:
        image = render(pdf, page)
        used += [near(image, colour, tol=8).sum() for colour in PALETTE]
    assert (used > 500).sum() >= 3, dict(zip(BRAND["colours"]["chart"], used.tolist(), strict=True))


def test_table_page_has_a_brand_coloured_header_row(pages: tuple[list[str], Any]) -> None:
    """A data table's header row is a full-width bar of the brand primary colour."""
    texts, pdf = pages
    order = []
    for sec in REPORT["sections"]:
        subs = sec.get("subsections") or []
        every = [*(sec.get("blocks") or []), *(x for sub in subs for x in sub["blocks"])]
        order += [b["table"] for b in every if "table" in b]
    number = 1 + order.index("by-region")
    page = page_where(texts, lambda ln: ln.startswith(f"Table {number} "))
    image = render(pdf, page)
    h = image.shape[0]
    bars = near(image, PRIMARY).mean(axis=1) > 0.6
    assert bars.sum() >= 4, "no primary-coloured header row across the table"
    assert h * 0.1 < np.argmax(bars) < h * 0.9

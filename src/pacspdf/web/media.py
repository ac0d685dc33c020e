"""Turn a report's chart specs into SVG files and its built sample PDF into PNG page previews."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pacspdf.web import core

PREVIEW_WIDTH = 360  # pixels; shown at half size, sharp on high-density screens
PREVIEWS = 4         # the cover and up to three chapter openings


@dataclass(frozen=True)
class Preview:
    file: str
    alt: str
    width: int
    height: int


def chart_svg(spec: core.ChartSpec, data: core.ChartData, style: core.ChartStyle) -> bytes:
    """The chart as SVG, drawn by the same matplotlib code as the PDF; the same bytes on every run."""
    out = io.BytesIO()

    def write(figure: Any) -> None:
        import matplotlib

        with matplotlib.rc_context({"svg.hashsalt": "pacspdf", "svg.fonttype": "path"}):
            figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})

    core.chart_figure(spec, data, style, write)
    text = out.getvalue().decode("utf-8")
    # The page gives the figure its text equivalent; the drawing itself is decoration for AT.
    text = text.replace("<svg ", '<svg role="img" aria-hidden="true" ', 1)
    return text.encode("utf-8")


def _chosen_pages(doc: Any) -> list[tuple[int, str]]:
    """(page index, what is on it): the cover, then chapter openings spread over the sample."""
    chapters: list[tuple[int, str]] = []
    for bookmark in doc.get_toc():
        dest = bookmark.get_dest()
        index = dest.get_index() if dest is not None else None
        if bookmark.level == 0 and index is not None:
            chapters.append((int(index), " ".join(bookmark.get_title().split())))
    chapters = [c for c in chapters if c[0] > 0]
    pages = [(0, "the cover")]
    if chapters:
        step = max(1, len(chapters) // (PREVIEWS - 1))
        for index, title in chapters[::step]:
            if len(pages) < PREVIEWS and index not in {p for p, _ in pages}:
                pages.append((index, f"the opening of “{title}”"))
    return pages


def page_previews(pdf_path: Path, out_dir: Path, title: str) -> list[Preview]:
    """PNG thumbnails of the cover and a few chapter openings of the built sample."""
    import pypdfium2 as pdfium

    previews = []
    doc = pdfium.PdfDocument(str(pdf_path))
    try:
        total = len(doc)
        for index, what in _chosen_pages(doc):
            page = doc[index]
            scale = PREVIEW_WIDTH / page.get_width()
            image = page.render(scale=scale, draw_annots=False).to_pil()
            name = f"page-{index + 1}.png"
            buf = io.BytesIO()
            image.save(buf, format="PNG", optimize=True)
            (out_dir / name).write_bytes(buf.getvalue())
            alt = f"Page {index + 1} of {total} of the free sample of {title}: {what}"
            previews.append(Preview(name, alt, image.width, image.height))
            page.close()
    finally:
        doc.close()
    return previews

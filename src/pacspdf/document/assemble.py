"""Content + Derived + theme + chart drawings -> a composed document, laid out into PDF bytes.

This is the COMPOSE stage's entry point: the template renderer, the page decoration, the
cover, the story and the layout hints of the previous build, then ReportLab's multi-pass
layout (a LayoutError becomes a clean BuildError naming the report file).
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.platypus import Flowable

from pacspdf.charts import VectorDrawing
from pacspdf.charts.replay import VectorFlowable
from pacspdf.content.brand import link_urls, tracked
from pacspdf.content.load import Content
from pacspdf.derive.model import Derived, template_context
from pacspdf.document.archive import Archive
from pacspdf.document.backcover import counts_text, make_back_cover
from pacspdf.document.cover import load_logo, make_cover
from pacspdf.document.pages import PageDecor, ReportDocTemplate, layout_hints, seed_layout
from pacspdf.document.story import Composer, key_figures
from pacspdf.document.theme import Theme
from pacspdf.errors import BuildError
from pacspdf.templates.environment import TemplateRenderer, Where, fmt_number, make_env
from pacspdf.write import write_atomic


@dataclass
class Assembly:
    """A composed document, ready for layout: the doc template, its story and where hints go."""

    content: Content
    doc: ReportDocTemplate
    buffer: io.BytesIO
    story: list[Flowable]
    composer: Composer
    hints_path: Path | None
    theme: Theme
    #: figure label -> (page, what is wrong with it), filled as each chart is drawn
    chart_findings: dict[str, tuple[int, list[str]]]

    @property
    def pages(self) -> int:
        return self.doc.page_count.total

    def lay_out(self) -> tuple[bytes, int]:
        """The PDF's bytes and the number of layout passes multiBuild needed.

        ReportLab writes each object on its own; the file is then packed into object streams
        behind a cross-reference stream (:mod:`pacspdf.document.compact`), about 45 % smaller.
        """
        from reportlab.platypus.doctemplate import LayoutError

        from pacspdf.document.compact import compact

        try:
            passes = self.doc.multiBuild(self.story)
        except LayoutError as exc:  # content that no page can hold; a clean message, no traceback
            raise BuildError(f"{self.content.report_file}: layout failed: "
                             f"{_layout_reason(str(exc))}") from None
        return compact(self.buffer.getvalue()), int(passes)

    def preflight(self, pdf: bytes) -> list[str]:
        """PREFLIGHT: what the laid-out pages get wrong, one line each (page and element)."""
        from pacspdf.document.preflight import layout_findings

        t = self.theme
        margins = (t.margin_left, t.margin_right, t.margin_top, t.margin_bottom)
        return [str(f) for f in layout_findings(pdf, margins, self.chart_findings)]

    def save_hints(self) -> None:
        """Best effort: layout hints that cannot be written only cost time on the next build."""
        if self.hints_path is not None:
            data = json.dumps(layout_hints(self.composer.lists, self.doc.page_count), ensure_ascii=False)
            with contextlib.suppress(BuildError):
                write_atomic(self.hints_path, data.encode("utf-8"))


def assemble(content: Content, derived: Derived, theme: Theme, drawings: dict[str, VectorDrawing],
             logo_cache: Path | None, hints_dir: Path | None, pdfa: str | None = None) -> Assembly:
    """The composed document; ``pdfa`` overrides the brand's PDF/A conformance."""
    r, b = content.report, content.brand
    renderer = TemplateRenderer(make_env(r.currency, r.unit), template_context(content, derived))
    decor = PageDecor(header_left=r.short_title, header_right=b.publisher,
                      footer_left=f"{r.code}  ·  {renderer.render(b.copyright, _brand_where(content))}",
                      show_watermark=b.watermark)
    buffer = io.BytesIO()
    doc = ReportDocTemplate(buffer, theme, decor, title=r.title, author=b.publisher,
                            subject=r.subtitle, keywords=list(r.keywords), creator="pacspdf",
                            producer="pacspdf (ReportLab)", lang=r.language,
                            date=r.edition, archive=Archive(pdfa=pdfa or b.pdfa))
    decor.cover = make_cover(content, theme, key_figures(content, derived, renderer.env.filters["money"]),
                             cache_dir=logo_cache)
    # The panel's words live in a form a personalised copy replaces, so the panel itself is
    # not a link (a tagged link must hold its words); the buttons and the back cover link.
    decor.cover_panel = cover_panel(content)[0]
    decor.back = make_back_cover(content, theme, load_logo(
        content, theme, b.logo_white or b.logo, "logo_white" if b.logo_white else "logo", logo_cache))
    fontmap = dict(theme.fonts)
    findings: dict[str, tuple[int, list[str]]] = {}
    composer = Composer(content, derived, theme, renderer,
                        lambda cid: VectorFlowable(drawings[cid], fontmap, f'figure "{cid}"', findings),
                        doc.page_count)
    story = composer.story()
    hints_path = None if hints_dir is None else hints_dir / f"{r.slug}.json"
    if hints_path is not None:
        seed_layout(_read_json(hints_path), composer.lists, doc.page_count)
    return Assembly(content, doc, buffer, story, composer, hints_path, theme, findings)


def _layout_reason(message: str) -> str:
    """ReportLab's LayoutError in a reader's words (it quotes a flowable's repr, cut off)."""
    import re

    kind = re.search(r"<(\w+)@0x", message)
    tall = re.search(r"tallest row ([\d.]+)", message)
    frame = re.search(r"in frame '\w+'\(([\d.]+) x ([\d.]+)", message)
    what = kind.group(1).lower() if kind else "block"
    room = f" (a page holds {float(frame.group(2)):.0f} pt)" if frame else ""
    if tall:
        return (f"a {what} row is {float(tall.group(1)):.0f} pt tall and does not fit on a page "
                f"with the table's heading{room}; shorten the text of that table's cells")
    return f"a {what} does not fit on a page{room}; make it shorter"


def cover_panel(content: Content) -> tuple[tuple[str, str, str], str]:
    """What the cover tells an anonymous reader: the full report's size and price, where to
    buy it and whom to call; and the tracked purchase link the panel opens."""
    r, b = content.report, content.brand
    purchase = link_urls(b, r.publisher_id)["purchase"]
    headline = counts_text(content) or r.title
    headline = headline[:1].upper() + headline[1:]  # not str.capitalize: it lowers "UK" to "Uk"
    if r.licences:
        headline += f" · from {r.currency} {fmt_number(min(lic.price for lic in r.licences))}"
    bare = purchase.removeprefix("https://").removeprefix("http://")
    detail = f"Buy it at {bare}"
    if r.analyst is not None:
        detail += f" or call {r.analyst.name} on {r.analyst.phone}"
    return ("THE FULL REPORT", headline, detail), tracked(purchase, b, r, "cover-panel")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _brand_where(content: Content) -> Where:
    line, _ = content.brand_located.where(("copyright",))
    return Where(content.brand_file, line, "copyright")

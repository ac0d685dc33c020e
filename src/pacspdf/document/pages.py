"""Page templates, running header and footer, watermark, outline and TOC hooks (no content meaning)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reportlab.lib import colors
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, TableStyle
from reportlab.platypus.tableofcontents import TableOfContents

from pacspdf.document.outlines import draw_outlines
from pacspdf.document.paragraph import Paragraph
from pacspdf.document.personal import draw_footer_line
from pacspdf.document.theme import Theme
from pacspdf.reportlab_surface import canvas_document, canvas_flag, frame_y, last_entries, set_canvas_flag

WATERMARK = "Watermark"


class Heading(Paragraph):
    """A section heading that becomes a bookmark, an outline entry and a TOC line."""

    def __init__(self, markup: str, style: Any, *, level: int, toc_text: str, key: str) -> None:
        super().__init__(markup, style)
        self.toc_level = level
        self.toc_text = toc_text
        self.key = key


class Caption(Paragraph):
    """A 'Figure N: ...' or 'Table N: ...' caption listed in the list of figures or tables."""

    def __init__(self, markup: str, style: Any, *, kind: str, toc_text: str, key: str) -> None:
        super().__init__(markup, style)
        self.list_kind = kind
        self.toc_text = toc_text
        self.key = key


class EntryList(TableOfContents):
    """A TableOfContents that collects one kind of notification (TOC, figures or tables)."""

    def __init__(self, kind: str, font: str, **kw: Any) -> None:
        # No cell padding: the level styles' spaceBefore is the whole gap between entries
        # (ReportLab adds it as a spacer row, which padding would pad again).
        style = TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                            ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                            ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0)])
        super().__init__(tableStyle=style, **kw)
        self.entry_kind = kind

    def notify(self, kind: str, stuff: Any) -> None:
        if kind == self.entry_kind:
            self.addEntry(*stuff)

    @property
    def entries(self) -> list[list[Any]]:
        """The entries of the last finished pass, as JSON-friendly lists."""
        return [list(e) for e in last_entries(self)]

    def seed(self, entries: list[list[Any]]) -> None:
        """Start the next multiBuild from these entries instead of an empty list."""
        self._entries = [tuple(e) for e in entries]


class PageCount(Flowable):
    """An invisible indexing flowable: multiBuild repeats until the page count is stable."""

    def __init__(self) -> None:
        super().__init__()
        self.previous = 0
        self.current = 0

    def isIndexing(self) -> int:
        return 1

    def isSatisfied(self) -> int:
        return int(self.previous == self.current and self.current > 0)

    def beforeBuild(self) -> None:
        self.previous = self.current
        self.current = 0

    def afterBuild(self) -> None:
        pass

    def notify(self, kind: str, stuff: Any) -> None:
        pass

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return (0, 0)

    def draw(self) -> None:
        pass

    @property
    def total(self) -> int:
        return self.previous or self.current


@dataclass
class PageDecor:
    """What the running header and footer say; everything else comes from the theme."""

    header_left: str
    header_right: str
    footer_left: str
    watermark: str = "SAMPLE"
    show_watermark: bool = True
    cover: Callable[[Canvas, ReportDocTemplate], None] | None = None
    back: Callable[[Canvas, ReportDocTemplate], None] | None = None
    #: The cover panel of the base file (label, headline, detail) and where it links to.
    cover_panel: tuple[str, str, str] = ("THE FULL REPORT", "", "")
    cover_link: str = ""


def layout_hints(lists: list[EntryList], pages: PageCount) -> dict[str, Any]:
    """What a finished build knew only at its end: list entries and the page count."""
    return {"pages": pages.total, "lists": {lst.entry_kind: lst.entries for lst in lists}}


def seed_layout(hints: dict[str, Any], lists: list[EntryList], pages: PageCount) -> None:
    """Start multiBuild from an earlier build's converged state.

    If nothing moved, the first pass is already the last; if something did, multiBuild
    simply runs more passes, so a stale hint costs time, never correctness.
    """
    entries = hints.get("lists", {})
    for lst in lists:
        if isinstance(entries.get(lst.entry_kind), list):
            lst.seed(entries[lst.entry_kind])
    if isinstance(hints.get("pages"), int):
        pages.current = hints["pages"]


class ReportDocTemplate(BaseDocTemplate):
    """A document of a cover page followed by body pages, with TOC and outline bookkeeping."""

    def __init__(self, target: Any, theme: Theme, decor: PageDecor, *, date: str = "", **kw: Any) -> None:
        super().__init__(target, pagesize=theme.page_size, leftMargin=theme.margin_left,
                         rightMargin=theme.margin_right, topMargin=theme.margin_top,
                         bottomMargin=theme.margin_bottom, invariant=1,
                         initialFontName=theme.fonts["regular"], **kw)
        self.theme = theme
        self.decor = decor
        self.page_count = PageCount()
        w, h = theme.page_size
        body = Frame(theme.margin_left, theme.margin_bottom, theme.frame_width, theme.frame_height,
                     id="body", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        cover = Frame(theme.margin_left, theme.margin_bottom, theme.frame_width, theme.frame_height,
                      id="cover", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([
            PageTemplate("cover", [cover], onPage=self._on_cover, pagesize=theme.page_size),
            PageTemplate("front", [body], onPage=self._on_front, pagesize=theme.page_size),
            PageTemplate("body", [body], onPage=self._on_body, pagesize=theme.page_size),
            PageTemplate("back", [cover], onPage=self._on_back, pagesize=theme.page_size),
        ])
        self._width, self._height = w, h
        self.pdf_date = "D:" + date.replace("-", "") + "000000+00'00'" if date else ""

    def beforeDocument(self) -> None:
        if self.pdf_date:
            # Metadata dates are the edition date, so the file does not change from run to run.
            canvas_document(self.canv).setDateFormatter(lambda *_: self.pdf_date)

    # -- multiBuild bookkeeping ------------------------------------------------------------
    def handle_pageBegin(self) -> None:
        super().handle_pageBegin()
        self.page_count.current += 1

    def afterFlowable(self, flowable: Flowable) -> None:
        canv = self.canv
        if isinstance(flowable, Heading):
            canv.bookmarkHorizontal(flowable.key, 0, frame_y(self.frame) + flowable.height + 24)
            canv.addOutlineEntry(flowable.toc_text, flowable.key, level=flowable.toc_level,
                                 closed=flowable.toc_level > 0)
            self.notify("TOCEntry", (flowable.toc_level, flowable.toc_text, self.page, flowable.key))
        elif isinstance(flowable, Caption):
            canv.bookmarkHorizontal(flowable.key, 0, frame_y(self.frame) + flowable.height + 24)
            self.notify(flowable.list_kind, (0, flowable.toc_text, self.page, flowable.key))

    # -- page decoration -------------------------------------------------------------------
    def _on_cover(self, canv: Canvas, doc: BaseDocTemplate) -> None:
        if self.decor.cover is not None:
            self.decor.cover(canv, self)

    def _on_back(self, canv: Canvas, doc: BaseDocTemplate) -> None:
        if self.decor.back is not None:
            self.decor.back(canv, self)

    def _on_front(self, canv: Canvas, doc: BaseDocTemplate) -> None:
        self._header_footer(canv)

    def _on_body(self, canv: Canvas, doc: BaseDocTemplate) -> None:
        if self.decor.show_watermark:
            self._watermark(canv)
        self._header_footer(canv)

    def _watermark(self, canv: Canvas) -> None:
        """The watermark word as filled outlines, not text: copied text, search and screen
        readers never see it. Drawn once into a form that every body page shows."""
        if not canvas_flag(canv, "_pp_watermark_form"):
            t = self.theme
            canv.beginForm(WATERMARK, lowerx=0, lowery=0, upperx=self._width, uppery=self._height)
            canv.saveState()
            canv.setFillColor(t.colour["primary"])
            canv.translate(self._width / 2, self._height / 2)
            canv.rotate(52)
            draw_outlines(canv, str(t.font_files["bold"]), self.decor.watermark, 118, 0, -40)
            canv.restoreState()
            canv.endForm()
            set_canvas_flag(canv, "_pp_watermark_form")
        canv.saveState()
        canv.setFillAlpha(0.045)  # the form inherits the page's graphics state
        canv.doForm(WATERMARK)
        canv.restoreState()

    def _header_footer(self, canv: Canvas) -> None:
        t = self.theme
        left, right = t.margin_left, self._width - t.margin_right
        top = self._height - t.margin_top + 30
        canv.saveState()
        canv.setFont(t.fonts["semibold"], 7.8)
        canv.setFillColor(t.colour["primary"])
        canv.drawString(left, top, self.decor.header_left)
        canv.setFont(t.fonts["regular"], 7.8)
        canv.setFillColor(t.colour["muted"])
        canv.drawRightString(right, top, self.decor.header_right)
        canv.setStrokeColor(t.colour["rule"])
        canv.setLineWidth(0.6)
        canv.line(left, top - 6, right, top - 6)
        bottom = t.margin_bottom - 30
        canv.line(left, bottom + 11, right, bottom + 11)
        canv.setFont(t.fonts["regular"], 7.4)
        canv.drawString(left, bottom, self.decor.footer_left)
        canv.setFont(t.fonts["semibold"], 7.8)
        canv.setFillColor(t.colour["primary"])
        canv.drawRightString(right, bottom, f"Page {canv.getPageNumber()} of {self.page_count.total}")
        canv.restoreState()
        draw_footer_line(canv, t)



def rule_colour(theme: Theme) -> colors.Color:
    return theme.colour["rule"]

"""Page templates, running header and footer, watermark, outline and TOC hooks (no content meaning)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Spacer, TableStyle
from reportlab.platypus.tableofcontents import TableOfContents

from pacspdf.document import fit
from pacspdf.document.archive import Archive, canvas_maker
from pacspdf.document.outlines import draw_outlines
from pacspdf.document.paragraph import Paragraph
from pacspdf.document.personal import draw_footer_line
from pacspdf.document.tagged import TaggedTable
from pacspdf.document.tags import tagger_of
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
        self.role = f"H{level + 1}"  # outline level 0 is H1: the tree's headings match the outline


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

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        """A TOC of TOCI rows: each a linked title, a dot leader (an artifact) and a linked page number."""
        entries = last_entries(self) or [(0, "Placeholder for table of contents", 0, None)]
        made: dict[tuple[Any, ...], TocEntry] = self.__dict__.setdefault("_made", {})
        rows: list[list[Flowable]] = []
        for level, text, page, key in entries:
            style = self.getLevelStyle(level)
            if style.spaceBefore:
                rows.append([Spacer(1, style.spaceBefore)])
            entry = made.get((level, text, page, key))
            if entry is None:  # multiBuild wraps the lists several times: make each line once
                entry = made[(level, text, page, key)] = TocEntry(text, page, key, style)
            rows.append([entry])
        self._table = TaggedTable(rows, colWidths=(availWidth,), style=self.tableStyle, role="TOC",
                                  row_role="TOCI", cells=False, header_rows=0)
        self.width, self.height = self._table.wrapOn(self.canv, availWidth, availHeight)
        return self.width, self.height


@functools.lru_cache(maxsize=16)
def _page_style(style: ParagraphStyle) -> ParagraphStyle:
    return ParagraphStyle(f"{style.name}-page", parent=style, alignment=TA_RIGHT, firstLineIndent=0,
                          leftIndent=0)


class TocEntry(Flowable):
    """One contents line: the title (a link), dots to the right margin, the page number (a link)."""

    GAP = 6.0

    def __init__(self, text: str, page: int, key: str | None, style: ParagraphStyle) -> None:
        super().__init__()
        self.style = style
        self.page_text = str(page)
        href = f"<a href=\"#{key}\">" if key else ""
        end = "</a>" if key else ""
        self.title = Paragraph(f"{href}{text}{end}", style)
        right = _page_style(style)
        self.page = Paragraph(f"{href}{self.page_text}{end}", right)
        self.page_width = stringWidth("0000", style.fontName, style.fontSize)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        _w, h = self.title.wrap(availWidth - self.page_width - self.GAP, availHeight)
        _pw, ph = self.page.wrap(self.page_width, availHeight)
        self.height = max(h, ph)
        return self.width, self.height

    def draw(self) -> None:
        canv, style = self.canv, self.style
        title_w = self.width - self.page_width - self.GAP
        self.title.drawOn(canv, 0, self.height - self.title.height)
        lines = cast(Any, self.title).blPara.lines
        last = lines[-1] if lines else None
        extra = (last.extraSpace if hasattr(last, "extraSpace") else last[0]) if last is not None else title_w
        start = title_w - extra
        number_w = stringWidth(self.page_text, style.fontName, style.fontSize)
        stop = self.width - number_w
        dot = " . "
        dot_w = stringWidth(dot, style.fontName, style.fontSize)
        if stop - start > dot_w:
            with tagger_of(canv).artifact(canv, "Layout"):
                canv.setFont(style.fontName, style.fontSize)
                canv.setFillColor(style.textColor)
                n = int((stop - start) / dot_w)
                baseline = self.height - style.fontSize - (len(lines) - 1) * style.leading
                canv.drawRightString(stop, baseline, dot * n)
        self.page.drawOn(canv, self.width - self.page_width, self.height - self.page.height)


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

    def __init__(self, target: Any, theme: Theme, decor: PageDecor, *, date: str = "",
                 archive: Archive | None = None, **kw: Any) -> None:
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
        self.archive = archive or Archive()
        self.pdf_date = "D:" + date.replace("-", "") + "000000+00'00'" if date else ""

    def beforeDocument(self) -> None:
        if self.pdf_date:
            # Metadata dates are the edition date, so the file does not change from run to run.
            canvas_document(self.canv).setDateFormatter(lambda *_: self.pdf_date)
        self.canv.showOutline()  # a viewer opens the bookmarks beside the first page

    def multiBuild(self, story: list[Flowable], maxPasses: int = 10, **kw: Any) -> int:
        """Build on a tagged canvas that finishes the file as PDF/UA-1 and (by default) PDF/A-2b."""
        kw.setdefault("canvasmaker", canvas_maker(self.archive))
        passes: int = super().multiBuild(story, maxPasses, **kw)
        return passes

    # -- multiBuild bookkeeping ------------------------------------------------------------
    def handle_pageBegin(self) -> None:
        super().handle_pageBegin()
        self.page_count.current += 1

    def afterFlowable(self, flowable: Flowable) -> None:
        canv = self.canv
        if isinstance(flowable, Heading):
            canv.bookmarkHorizontal(flowable.key, 0, frame_y(self.frame) + flowable.height + 24)
            # Closed: the outline opens at its first level (chapters), sections one click away.
            canv.addOutlineEntry(flowable.toc_text, flowable.key, level=flowable.toc_level, closed=True)
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
            with tagger_of(canv).artifact(canv, "Pagination", "Watermark"):
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
        """Running header and footer, their rules and the page number: pagination artifacts."""
        t = self.theme
        tagger = tagger_of(canv)
        left, right = t.margin_left, self._width - t.margin_right
        top = self._height - t.margin_top + 30
        bottom = t.margin_bottom - 30
        canv.saveState()
        # The header and footer are one line each: a long title or publisher is cut with an
        # ellipsis so that the two never meet (the full title is on the cover).
        header_right = fit.ellipsize(self.decor.header_right, t.fonts["regular"], 7.8, (right - left) * 0.4)
        room = right - left - fit.width(header_right, t.fonts["regular"], 7.8) - 18
        with tagger.artifact(canv, "Pagination", "Header"):
            canv.setFont(t.fonts["semibold"], 7.8)
            canv.setFillColor(t.colour["primary"])
            canv.drawString(left, top, fit.ellipsize(self.decor.header_left, t.fonts["semibold"], 7.8, room))
            canv.setFont(t.fonts["regular"], 7.8)
            canv.setFillColor(t.colour["muted"])
            canv.drawRightString(right, top, header_right)
            canv.setStrokeColor(t.colour["rule"])
            canv.setLineWidth(0.6)
            canv.line(left, top - 6, right, top - 6)
        with tagger.artifact(canv, "Pagination", "Footer"):
            canv.setStrokeColor(t.colour["rule"])
            canv.setLineWidth(0.6)
            canv.line(left, bottom + 11, right, bottom + 11)
            page_label = f"Page {canv.getPageNumber()} of {self.page_count.total}"
            room = right - left - fit.width(page_label, t.fonts["semibold"], 7.8) - 18
            canv.setFont(t.fonts["regular"], 7.4)
            canv.setFillColor(t.colour["muted"])
            footer = fit.ellipsize(self.decor.footer_left, t.fonts["regular"], 7.4, room)
            canv.drawString(left, bottom, footer)
            canv.setFont(t.fonts["semibold"], 7.8)
            canv.setFillColor(t.colour["primary"])
            canv.drawRightString(right, bottom, page_label)
            canv.restoreState()
            draw_footer_line(canv, t)  # the copy's "Prepared for" line repeats on every page



def rule_colour(theme: Theme) -> colors.Color:
    return theme.colour["rule"]

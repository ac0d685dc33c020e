"""Turn the report model, derived figures, charts and theme into a story of flowables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reportlab.lib import colors
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    Indenter,
    KeepTogether,
    ListItem,
    NextPageTemplate,
    PageBreak,
    Spacer,
    TableStyle,
)

from pacspdf.charts.spec import VectorDrawing
from pacspdf.content.load import Content
from pacspdf.content.model import Block, Section
from pacspdf.derive.model import Derived
from pacspdf.document import fullreport, selling
from pacspdf.document.keep import keep_floats_with_text
from pacspdf.document.markup import blocks, escape, inline
from pacspdf.document.pages import Caption, EntryList, Heading, PageCount
from pacspdf.document.paragraph import Paragraph
from pacspdf.document.tables import DisplayTable, table_input
from pacspdf.document.tagged import Figure, TaggedList, TaggedTable
from pacspdf.document.theme import Theme
from pacspdf.errors import ContentError, Problem
from pacspdf.reportlab_surface import keeps_with_next, kept_together, table_rows, table_style
from pacspdf.templates.environment import TemplateRenderer, Where, fmt_pct, long_date

ChartFactory = Callable[[str], VectorDrawing]
PANEL_PADDING = 12.0


def key_figures(content: Content, derived: Derived, money: Callable[..., str]) -> list[tuple[str, str]]:
    """The headline numbers (value, label): sizes in the base, stated and final years, and the CAGR."""
    r, d = content.report, derived
    years = sorted({r.base_year, *r.claims.size.keys(), r.forecast.end})
    tiles = [(money(d.size.at(y)), f"Market size {y}") for y in years if y in d.size.values]
    tiles.append((fmt_pct(d.size.cagr), f"CAGR {r.forecast.start}–{r.forecast.end}"))
    return tiles


@dataclass
class Composer:
    """Builds the body story; numbering of sections, figures and tables lives here."""

    content: Content
    derived: Derived
    theme: Theme
    render: TemplateRenderer
    chart: Callable[[str], Flowable]
    page_count: PageCount
    figures: int = 0
    tables: int = 0
    teasers: int = 0
    _keys: dict[str, int] = field(default_factory=dict)
    lists: list[EntryList] = field(default_factory=list)  # contents, figures, tables
    _sourced: dict[str, str] = field(default_factory=dict)  # data ref -> "Figure N" (this chapter)

    # -- helpers -------------------------------------------------------------------------
    def s(self, name: str) -> Any:
        return self.theme.styles[name]

    def text(self, source: str, path: tuple[Any, ...]) -> str:
        line, _col = self.content.located.where(path)
        field_name = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in path)
        return self.render.render(source, Where(self.content.report_file, line,
                                                field_name.replace(".[", "[")))

    def prose(self, source: str, path: tuple[Any, ...], style: str = "body") -> list[Flowable]:
        out: list[Flowable] = []
        for b in blocks(self.text(source, path)):
            if hasattr(b, "markup"):
                out.append(Paragraph(b.markup, self.s(style)))
            else:
                out += self.bullets(b.items, indent=style != "boxtext")
        return out

    def bullets(self, items: list[str], indent: bool = True) -> list[Flowable]:
        """A bulleted list, in the text column unless ``indent`` is false (inside a panel)."""
        t = self.theme
        # ListFlowable takes ListItems too; the stubs type its items as flowables only.
        items_: list[Any] = [ListItem(Paragraph(i, self.s("bullet")), leftIndent=14,
                                      bulletColor=t.colour["accent"]) for i in items]
        listing = TaggedList(
            items_, bulletType="bullet", start="\u2022", bulletFontName=t.fonts["regular"], bulletFontSize=9,
            leftIndent=14, bulletOffsetY=-0.5, spaceAfter=6)
        if not t.text_indent or not indent:
            return [listing]
        return [Indenter(left=t.text_indent), listing, Indenter(left=-t.text_indent)]

    def key(self, base: str) -> str:
        n = self._keys.get(base, 0)
        self._keys[base] = n + 1
        return base if n == 0 else f"{base}-{n}"

    def source_line(self, source: str, illustrative: str | None, note: str = "") -> Paragraph:
        markup = f"<b>Source:</b> {escape(source)}."
        if illustrative:
            markup += (f" <font color='{self.theme.brand.colours.accent}'><b>Illustrative:</b></font> "
                       f"{escape(illustrative)}")
        if note:
            markup += f" {escape(note)}"
        return Paragraph(markup, self.s("source"))

    def provenance(self, ref: str) -> tuple[str, str | None]:
        r = self.content.report
        if ref == "market_size":
            return r.market_size.source, r.market_size.illustrative
        if ref == "players":
            return r.players.source, r.players.illustrative
        seg = next(s for s in r.segments if s.id == ref.split(":", 1)[1])
        if ref.startswith("coverage:"):
            return f"{self.theme.brand.publisher} research scope", None
        return seg.source, seg.illustrative

    def caption(self, word: str, number: int, title_source: str, path: tuple[Any, ...], kind: str,
                key: str) -> Caption:
        """'Figure N  title' (or 'Table N'), listed in the list of figures (or tables)."""
        title = self.text(title_source, path)
        return Caption(f"<font color='{self.theme.brand.colours.accent}'>{word} {number}</font>"
                       f"&nbsp;&nbsp;{escape(title)}", self.s("caption"), kind=kind,
                       toc_text=f"{word} {number}: {title}", key=self.key(key))

    # -- blocks --------------------------------------------------------------------------
    def sourced(self, ref: str, label: str, note: str = "") -> Paragraph:
        """The source line of a figure or table: in full the first time a chapter shows data
        from ``ref``, then a short pointer to that first one."""
        first = self._sourced.get(ref)
        if first is not None:
            markup = f"<b>Source:</b> as {escape(first)}." + (f" {escape(note)}" if note else "")
            return Paragraph(markup, self.s("source"))
        self._sourced[ref] = label
        source, illustrative = self.provenance(ref)
        return self.source_line(source, illustrative, note)

    def figure(self, chart_id: str) -> list[Flowable]:
        r = self.content.report
        idx = next(i for i, c in enumerate(r.charts) if c.id == chart_id)
        chart = r.charts[idx]
        self.figures += 1
        caption = self.caption("Figure", self.figures, chart.title, ("charts", idx, "title"), "LOFEntry",
                               f"figure-{chart.id}")
        line = self.sourced(chart.data, f"Figure {self.figures}")
        alt = self.text(chart.alt, ("charts", idx, "alt"))
        return [KeepTogether([caption, Figure(self.chart(chart_id), alt), line])]

    def table(self, table_id: str) -> list[Flowable]:
        r = self.content.report
        idx = next(i for i, t in enumerate(r.tables) if t.id == table_id)
        spec = r.tables[idx]
        self.tables += 1
        caption = self.caption("Table", self.tables, spec.title, ("tables", idx, "title"), "LOTEntry",
                               f"table-{spec.id}")
        caption.keepWithNext = True
        shown = table_input(spec, r, self.derived)
        grid = self.grid(shown)
        line = self.sourced(spec.data, f"Table {self.tables}", shown.note)
        if table_rows(grid) <= 14:
            return [KeepTogether([caption, grid, line])]
        return [caption, grid, line]

    def grid(self, dt: DisplayTable) -> TaggedTable:
        t = self.theme
        head = [Paragraph(escape(h).replace("\n", "<br/>"), self.s("cellheadnum" if num else "cellhead"))
                for h, num in zip(dt.header, dt.numeric, strict=True)]
        last = len(dt.rows) - 1
        body = [[Paragraph(f"<b>{escape(c)}</b>" if dt.total_row and r == last else escape(c),
                           self.s("cellnum" if num else "cell"))
                 for c, num in zip(row, dt.numeric, strict=True)] for r, row in enumerate(dt.rows)]
        total = sum(dt.widths)
        widths = [t.frame_width * w / total for w in dt.widths]
        table = TaggedTable([head, *body], colWidths=widths, repeatRows=1, hAlign="LEFT", header_rows=1)
        style = [
            ("FONTNAME", (0, 0), (-1, -1), t.fonts["regular"]),
            ("BACKGROUND", (0, 0), (-1, 0), t.colour["primary"]),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 4.2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 4.6),
            ("LEFTPADDING", (0, 0), (-1, -1), 6),
            ("RIGHTPADDING", (0, 0), (-1, -1), 6),
            ("LINEBELOW", (0, 1), (-1, -1), 0.4, t.colour["rule"]),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, t.colour["tint"]]),
        ]
        if dt.total_row:
            n = len(dt.rows)
            style += [("LINEABOVE", (0, n), (-1, n), 0.9, t.colour["primary"]),
                      ("BACKGROUND", (0, n), (-1, n), colors.white)]
        table.setStyle(table_style(style))
        return table

    def panel(self, content: list[Flowable], *, background: colors.Color, border: colors.Color | None = None,
              left_bar: colors.Color | None = None, padding: float = PANEL_PADDING,
              where: tuple[Any, ...] = ()) -> TaggedTable:
        """A boxed panel; it cannot break across pages, so content taller than a page is an error."""
        t = self.theme
        box = TaggedTable([[content]], colWidths=[t.frame_width], hAlign="LEFT", role=None)
        style: list[tuple[object, ...]] = [
            ("FONTNAME", (0, 0), (-1, -1), t.fonts["regular"]),
            ("BACKGROUND", (0, 0), (-1, -1), background),
            ("LEFTPADDING", (0, 0), (-1, -1), padding + (3 if left_bar else 0)),
            ("RIGHTPADDING", (0, 0), (-1, -1), padding),
            ("TOPPADDING", (0, 0), (-1, -1), padding - 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), padding - 4),
        ]
        if border is not None:
            style.append(("BOX", (0, 0), (-1, -1), 0.6, border))
        if left_bar is not None:
            style.append(("LINEBEFORE", (0, 0), (0, -1), 3.2, left_bar))
        box.setStyle(table_style(style))
        _w, height = box.wrap(t.frame_width, t.frame_height)
        if height > t.frame_height * 0.95 and where:
            line, col = self.content.located.where(where)
            field_name = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where).lstrip(".")
            raise ContentError([Problem(self.content.report_file, line, col, field_name,
                                        f"too long for its box: {height:.0f} pt, a page holds "
                                        f"{t.frame_height * 0.95:.0f} pt (shorten it or use a text block)")])
        return box

    def snapshot(self) -> list[Flowable]:
        t, r, d = self.theme, self.content.report, self.derived
        tiles = key_figures(self.content, d, self.render.env.filters["money"])
        big = ParagraphStyleCache(t)
        tile_row = [[Paragraph(escape(v), big.value), Paragraph(escape(k), big.key)] for v, k in tiles]
        inner = t.frame_width - PANEL_PADDING * 2 - 3
        tile_table = TaggedTable([tile_row], colWidths=[inner / len(tiles)] * len(tiles), hAlign="LEFT",
                                 role=None)
        tile_table.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), t.fonts["regular"]),
            ("LEFTPADDING", (0, 0), (0, -1), 0), ("LEFTPADDING", (1, 0), (-1, -1), 10),
            ("RIGHTPADDING", (0, 0), (-1, -1), 6),
            ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ("LINEAFTER", (0, 0), (-2, -1), 0.6, t.colour["rule"]),
            ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        facts: list[tuple[str, str]] = [
            ("Base year", str(r.base_year)),
            ("Forecast period", f"{r.forecast.start}–{r.forecast.end}"),
        ]
        for seg in r.segments:
            view = d.segments[seg.id]
            lead_share = fmt_pct(view.leading.share(r.base_year))
            facts.append((f"Largest {seg.label.lower()}",
                          f"{view.leading.name} ({lead_share} in {r.base_year})"))
            facts.append((f"Fastest-growing {seg.label.lower()}",
                          f"{view.fastest.name} ({fmt_pct(view.fastest.cagr)} CAGR)"))
        facts.append(("Key players", ", ".join(p.company for p in d.named_players[:5])))
        rows = [[Paragraph(escape(k), self.s("label")), Paragraph(escape(v), self.s("boxtext"))]
                for k, v in facts]
        fact_table = TaggedTable(rows, colWidths=[t.frame_width * 0.27, t.frame_width * 0.66], hAlign="LEFT",
                                 header_rows=0, header_cols=1)
        fact_table.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), t.fonts["regular"]),
            ("LEFTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5), ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -2), 0.4, t.colour["rule"])]))
        title = Paragraph("Market snapshot", self.s("boxtitle"))
        return [self.panel([title, Spacer(0, 4), tile_table, Spacer(0, 10), fact_table],
                           background=t.colour["tint"], left_bar=t.colour["primary"]), Spacer(0, 12)]

    def callout(self, block: Block, path: tuple[Any, ...]) -> list[Flowable]:
        t = self.theme
        assert block.callout is not None
        title = Paragraph(escape(self.text(block.callout.title, (*path, "callout", "title"))),
                          self.s("boxtitle"))
        body = self.prose(block.callout.text, (*path, "callout", "text"), "boxtext")
        return [Spacer(0, 4), self.panel([title, *body], background=t.colour["tint"],
                                         left_bar=t.colour["accent"], where=(*path, "callout")),
                Spacer(0, 10)]

    def profiles(self) -> list[Flowable]:
        r = self.content.report
        by_name = {p.company: p for p in self.derived.players}
        out: list[Flowable] = []
        for i, prof in enumerate(r.players.profiles):
            p = by_name.get(prof.name)
            meta = (f"{p.headquarters}  ·  estimated {fmt_pct(p.share)} share of the market in "
                    f"{r.base_year}") if p else ""
            head = [Paragraph(escape(prof.name), self.s("h3"))]
            if meta:
                head.append(Paragraph(escape(meta), self.s("meta")))
            body = self.prose(prof.text, ("players", "profiles", i, "text"))
            out.append(KeepTogether([*head, Spacer(0, 2), *body]))
        return out

    def block(self, block: Block, path: tuple[Any, ...]) -> list[Flowable]:
        kind = block.kind
        if kind == "text":
            assert block.text is not None
            return self.prose(block.text, (*path, "text"))
        if kind == "figure":
            assert block.figure is not None
            return self.figure(block.figure)
        if kind == "table":
            assert block.table is not None
            return self.table(block.table)
        if kind == "snapshot":
            return self.snapshot()
        if kind == "callout":
            return self.callout(block, path)
        if kind == "teaser":
            assert block.teaser is not None
            return selling.teaser(self, block.teaser, (*path, "teaser"))
        if kind == "profiles":
            return self.profiles()
        if kind == "outline":
            return fullreport.outline(self)
        if kind == "profile":
            assert block.profile is not None
            return fullreport.profile(self, block.profile)
        if kind == "deals":
            return fullreport.deals_table(self)
        if kind == "diagram":
            assert block.diagram is not None
            return fullreport.diagram(self, block.diagram)
        if kind == "actions":
            return selling.actions(self, "chapter")
        return selling.contact(self)

    # -- sections ------------------------------------------------------------------------
    def section(self, number: int, section: Section, path: tuple[Any, ...]) -> list[Flowable]:
        r, b = self.content.report, self.content.brand
        run_on = (r.chapter_start or b.chapter_start) == "run_on" and number > 1
        self._sourced = {}
        # A chapter that runs on starts on the page the last one ended on when at least a
        # third of the page is left; it is set off by space and a rule instead.
        out: list[Flowable] = ([CondPageBreak(self.theme.frame_height * 0.25), Spacer(0, 18),
                                selling.ChapterRule(self.theme)] if run_on else [PageBreak()])
        title = self.text(section.title, (*path, "title"))
        out.append(Paragraph(f"CHAPTER {number}", self.s("h1num")))
        out.append(Heading(escape(title), self.s("h1"), level=0, toc_text=f"{number}  {title}",
                           key=self.key(f"s-{section.id}")))
        for i, block in enumerate(section.blocks):
            out += self.block(block, (*path, "blocks", i))
        for j, sub in enumerate(section.subsections):
            sub_title = self.text(sub.title, (*path, "subsections", j, "title"))
            out.append(CondPageBreak(90))
            out.append(Heading(f"{number}.{j + 1}&nbsp;&nbsp;{escape(sub_title)}", self.s("h2"), level=1,
                               toc_text=f"{number}.{j + 1}  {sub_title}",
                               key=self.key(f"s-{section.id}-{j + 1}")))
            for i, block in enumerate(sub.blocks):
                out += self.block(block, (*path, "subsections", j, "blocks", i))
        return out

    def front_matter(self) -> list[Flowable]:
        """Notice page, contents, list of figures and tables."""
        r, b = self.content.report, self.theme.brand
        s = self.s
        out: list[Flowable] = [NextPageTemplate("front"), PageBreak()]
        out.append(Paragraph("Notice", s("h1")))
        notices = [("Copyright", b.copyright, "copyright"), ("Licence of this sample", b.licence, "licence"),
                   ("Disclaimer", b.disclaimer, "disclaimer")]
        for head, source, key in notices:
            out.append(Paragraph(escape(head), s("h3")))
            line, _ = self.content.brand_located.where((key,))
            text = self.render.render(source, Where(self.content.brand_file, line, key))
            out += [Paragraph(p.markup, s("body")) for p in blocks(text) if hasattr(p, "markup")]
        out.append(Paragraph("About this sample", s("h3")))
        out.append(Paragraph(inline(
            f"This free sample of *{r.title}* (report {r.code}, edition of {long_date(r.edition)}) "
            f"shows the structure, method and a selection of findings of the full report. "
            f"Figures marked **illustrative** are estimates and are labelled where they appear."), s("body")))
        out.append(Paragraph(escape(b.contact.address), s("note")))
        out += [PageBreak(), Paragraph("Contents", s("h1"))]
        toc = EntryList("TOCEntry", self.theme.fonts["regular"], dotsMinLevel=0)
        toc.levelStyles = [s("toc0"), s("toc1")]
        out.append(toc)
        self.lists.append(toc)
        # The lists follow the contents on the same page while they fit (a sample's front
        # matter is short); their headings rank below "Contents".
        out += [Spacer(0, 14), CondPageBreak(80), Paragraph("List of Figures", s("h2"))]
        lof = EntryList("LOFEntry", self.theme.fonts["regular"], dotsMinLevel=0)
        lof.levelStyles = [s("lof")]
        out.append(lof)
        self.lists.append(lof)
        out += [Spacer(0, 10), CondPageBreak(80), Paragraph("List of Tables", s("h2"))]
        lot = EntryList("LOTEntry", self.theme.fonts["regular"], dotsMinLevel=0)
        lot.levelStyles = [s("lof")]
        out.append(lot)
        self.lists.append(lot)
        if r.full_report:
            out += selling.full_contents(self)
        out.append(NextPageTemplate("body"))
        return out

    def story(self) -> list[Flowable]:
        out = self.front_matter()
        for n, section in enumerate(self.content.report.sections, start=1):
            out += self.section(n, section, ("sections", n - 1))
        while isinstance(out[-1], Spacer):  # space after the last block: not a page of its own
            out.pop()
        out += [NextPageTemplate("back"), PageBreak(), Spacer(0, 1)]
        out.append(self.page_count)
        return keep_floats_with_text(keep_headings_with_boxes(out), self.theme.frame_height)


def keep_headings_with_boxes(story: list[Flowable]) -> list[Flowable]:
    """Headings (keepWithNext paragraphs) followed by a KeepTogether join it.

    ReportLab keeps a keepWithNext paragraph with the next flowable only when that flowable
    may go into a container, which a KeepTogether (a profile, a figure with its caption) may
    not: the heading was kept with nothing and could be left alone at the foot of a page.
    """
    out: list[Flowable] = []
    run: list[Flowable] = []
    for f in story:
        if isinstance(f, Paragraph) and keeps_with_next(f):
            run.append(f)
            continue
        if run and isinstance(f, KeepTogether):
            f = KeepTogether([*run, *kept_together(f)])
        else:
            out += run
        run = []
        out.append(f)
    return out + run


class ParagraphStyleCache:
    """The snapshot tile styles (big value, small key), derived from the theme."""

    def __init__(self, theme: Theme) -> None:
        from reportlab.lib.styles import ParagraphStyle

        base = theme.styles["boxtext"]
        self.value = ParagraphStyle("tilevalue", parent=base, fontName=theme.fonts["bold"], fontSize=13.5,
                                    leading=16.5, textColor=theme.colour["primary"], spaceAfter=1)
        self.key = ParagraphStyle("tilekey", parent=base, fontName=theme.fonts["regular"], fontSize=7.8,
                                  leading=10, textColor=theme.colour["muted"], spaceAfter=0)


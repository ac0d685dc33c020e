"""Turn the full report's outline, a complete profile, deals and methodology diagrams into flowables."""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from reportlab.lib import colors
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table, TableStyle

from pacspdf.content.load import Content
from pacspdf.document import diagrams
from pacspdf.document.backcover import outline_counts
from pacspdf.document.markup import escape
from pacspdf.document.pages import Caption
from pacspdf.document.paragraph import Paragraph
from pacspdf.document.tables import DisplayTable
from pacspdf.document.tagged import Figure, TaggedTable
from pacspdf.document.theme import Theme
from pacspdf.templates.environment import fmt_number

IN_SAMPLE = {"full": "In this sample", "opening": "Opening shown", "none": "Full report only"}


class Builder(Protocol):
    """What these blocks need of the composer (document/story.py)."""

    content: Content
    theme: Theme
    figures: int
    tables: int
    teasers: int

    def s(self, name: str) -> Any: ...
    def grid(self, dt: DisplayTable) -> Table: ...
    def bullets(self, items: list[str], indent: bool = True) -> list[Flowable]: ...
    def key(self, base: str) -> str: ...
    def prose(self, source: str, path: tuple[Any, ...], style: str = "body") -> list[Flowable]: ...
    def source_line(self, source: str, illustrative: str | None, note: str = "") -> Paragraph: ...
    def panel(self, content: list[Flowable], *, background: colors.Color,
              border: colors.Color | None = None, left_bar: colors.Color | None = None,
              padding: float = ..., where: tuple[Any, ...] = ()) -> Table: ...


def month(date: str) -> str:
    """``2023-01`` as ``Jan 2023``; a bare year stays as it is."""
    if len(date) == 4:
        return date
    return dt.date.fromisoformat(date + "-01").strftime("%b %Y")


def outline(b: Builder) -> list[Flowable]:
    """The full report's chapters with their pages, tables and figures, each marked as in
    this sample, opening only, or full report only; totals in the last row."""
    r = b.content.report
    t = b.theme
    pages, tables, figures = outline_counts(b.content)
    head = ["", "Chapter", "Pages", "Tables", "Figures", "In this sample"]
    s = b.s
    accent, muted = t.brand.colours.accent, t.brand.colours.muted
    rows: list[list[Any]] = [[Paragraph(f"<b>{escape(h)}</b>", s("cellheadnum" if 1 < i < 5 else "cellhead"))
                              for i, h in enumerate(head)]]
    for n, ch in enumerate(r.full_report, start=1):
        title = f"<b>{escape(ch.title)}</b>"
        if ch.sections:
            title += f"<br/><font size='7.6' color='{muted}'>{escape('; '.join(ch.sections))}</font>"
        mark = IN_SAMPLE[ch.sample]
        colour = accent if ch.sample != "none" else muted
        rows.append([Paragraph(str(n), s("cell")), Paragraph(title, s("cell")),
                     Paragraph(str(ch.pages), s("cellnum")), Paragraph(str(ch.tables), s("cellnum")),
                     Paragraph(str(ch.figures), s("cellnum")),
                     Paragraph(f"<font color='{colour}'><b>{escape(mark)}</b></font>", s("cell"))])
    rows.append([Paragraph("", s("cell")), Paragraph("<b>Full report</b>", s("cell")),
                 Paragraph(f"<b>{pages}</b>", s("cellnum")), Paragraph(f"<b>{tables}</b>", s("cellnum")),
                 Paragraph(f"<b>{figures}</b>", s("cellnum")), Paragraph("", s("cell"))])
    w = t.frame_width
    table = TaggedTable(rows, colWidths=[w * x for x in (0.05, 0.52, 0.09, 0.09, 0.09, 0.16)],
                        repeatRows=1, hAlign="LEFT", header_rows=1)
    n = len(rows) - 1
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), t.fonts["regular"]),
        ("BACKGROUND", (0, 0), (-1, 0), t.colour["primary"]),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3.6), ("BOTTOMPADDING", (0, 0), (-1, -1), 4.2),
        ("LEFTPADDING", (0, 0), (-1, -1), 5), ("RIGHTPADDING", (0, 0), (-1, -1), 5),
        ("LINEBELOW", (0, 1), (-1, -1), 0.4, t.colour["rule"]),
        ("ROWBACKGROUNDS", (0, 1), (-1, -2), [colors.white, t.colour["tint"]]),
        ("LINEABOVE", (0, n), (-1, n), 0.9, t.colour["primary"]),
    ]))
    return [table, Spacer(0, 10)]


def profile(b: Builder, name: str) -> list[Flowable]:
    """One company's complete profile: overview, financials, products, developments, SWOT."""
    r = b.content.report
    prof = next(p for p in r.players.profiles if p.name == name)
    d = prof.detail
    assert d is not None
    s = b.s
    out: list[Flowable] = [Paragraph(escape(prof.name), s("h3")),
                           Paragraph(escape(d.overview), s("body"))]
    if d.financials is not None:
        fin = d.financials
        years = sorted(fin.rows)
        header = ["Year", *[f"{c}\n({fin.unit})" for c in fin.columns]]
        rows = [[str(y), *[fmt_number(v, 1) for v in fin.rows[y]]] for y in years]
        table = b.grid(DisplayTable(header, rows, [False] + [True] * len(fin.columns),
                                    [1.0] + [1.2] * len(fin.columns)))
        out.append(KeepTogether([Paragraph("Financials", s("h4")), table,
                                 Paragraph(f"<b>Source:</b> {escape(fin.source)}.", s("source"))]))
    if d.products:
        out.append(Paragraph("Products and services", s("h4")))
        out += b.bullets([escape(p) for p in d.products])
    if d.developments:
        out.append(Paragraph("Recent developments", s("h4")))
        out += b.bullets([f"<b>{escape(month(x.date))}.</b> {escape(x.text)}" for x in d.developments])
    if d.swot is not None:
        out.append(KeepTogether([Paragraph("SWOT analysis", s("h4")), swot(b, d.swot)]))
    return out


def swot(b: Builder, data: Any) -> Table:
    t = b.theme
    s = b.s
    c = t.brand.colours

    def cell(title: str, items: list[str], colour: str) -> list[Flowable]:
        lines = "".join(f"\u2022&nbsp;{escape(i)}<br/>" for i in items)
        return [Paragraph(f"<font color='{colour}'><b>{title}</b></font>", s("boxtext")),
                Paragraph(lines.removesuffix("<br/>"), s("cell"))]

    grid = [[cell("Strengths", data.strengths, c.primary), cell("Weaknesses", data.weaknesses, c.accent)],
            [cell("Opportunities", data.opportunities, c.primary), cell("Threats", data.threats, c.accent)]]
    w = t.frame_width / 2
    table = TaggedTable(grid, colWidths=[w, w], hAlign="LEFT", role=None)  # a layout grid
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), t.fonts["regular"]),
        ("BACKGROUND", (0, 0), (-1, -1), t.colour["tint"]),
        ("LINEAFTER", (0, 0), (0, -1), 3, colors.white), ("LINEBELOW", (0, 0), (-1, 0), 3, colors.white),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 7), ("BOTTOMPADDING", (0, 0), (-1, -1), 7),
        ("LEFTPADDING", (0, 0), (-1, -1), 9), ("RIGHTPADDING", (0, 0), (-1, -1), 9),
    ]))
    return table


def deals(b: Builder) -> list[Flowable]:
    """Deals and launches, newest first: date, company, event."""
    rows = sorted(b.content.data.deals, key=lambda d: d[0], reverse=True)
    shown = [[month(date), company, event] for date, company, event, _line in rows]
    return [b.grid(DisplayTable(["Date", "Company", "Deal or launch"], shown, [False, False, False],
                                [0.8, 1.4, 4.0]))]


def deals_table(c: Builder) -> list[Flowable]:
    r = c.content.report
    assert r.deals is not None
    c.tables += 1
    title = "Selected deals and launches"
    caption = Caption(f"<font color='{c.theme.brand.colours.accent}'>Table {c.tables}</font>"
                      f"&nbsp;&nbsp;{escape(title)}", c.s("caption"), kind="LOTEntry",
                      toc_text=f"Table {c.tables}: {title}", key=c.key("table-deals"))
    caption.keepWithNext = True
    return [caption, *deals(c),
            c.source_line(r.deals.source, r.deals.illustrative)]


def diagram(c: Builder, kind: str) -> list[Flowable]:
    """A methodology diagram as a numbered figure, drawn from ``report.methodology``."""
    m = c.content.report.methodology
    titles = {"funnels": "Market sizing: bottom-up and top-down approaches",
              "triangulation": "Data triangulation",
              "interviews": "Primary interviews by respondent profile"}
    drawing: Flowable
    if kind == "funnels":
        pair = [f for f in (m.bottom_up, m.top_down) if f is not None]
        drawing = diagrams.funnels(c.theme, pair)
        alt = ". ".join(f"{f.title}: " + " > ".join(f.steps) for f in pair)
    elif kind == "triangulation":
        assert m.triangulation is not None
        drawing = diagrams.triangulation(c.theme, m.triangulation)
        alt = f"{', '.join(m.triangulation.sources)} lead to: {m.triangulation.result}"
    else:
        assert m.interviews is not None
        drawing = diagrams.interviews(c.theme, m.interviews)
        alt = f"{m.interviews.total} interviews. " + ". ".join(
            f"By {b.by.lower()}: " + ", ".join(f"{k} {v:.0f}%" for k, v in b.parts.items())
            for b in m.interviews.breakdowns)
        titles["interviews"] += f" (n = {m.interviews.total})"
    c.figures += 1
    title = titles[kind]
    caption = Caption(f"<font color='{c.theme.brand.colours.accent}'>Figure {c.figures}</font>"
                      f"&nbsp;&nbsp;{escape(title)}", c.s("caption"), kind="LOFEntry",
                      toc_text=f"Figure {c.figures}: {title}", key=c.key(f"figure-{kind}"))
    source = c.source_line(f"{c.theme.brand.publisher} research methodology",
                           m.illustrative if kind == "interviews" else None)
    return [KeepTogether([caption, Figure(drawing, alt), source])]

"""Draw the back cover: what the full report holds, how to buy it and whom to call."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from pacspdf.content.brand import link_urls, tracked
from pacspdf.content.load import Content
from pacspdf.document.markup import escape
from pacspdf.document.paragraph import Paragraph
from pacspdf.document.personal import draw_footer_line
from pacspdf.document.sales import actions, draw_buttons
from pacspdf.document.tagcanvas import link_description
from pacspdf.document.tags import tagger_of
from pacspdf.document.theme import Theme

BackPainter = Callable[[Canvas, object], None]


def outline_counts(content: Content) -> tuple[int, int, int]:
    """(pages, tables, figures) of the full report, from its outline (pages fall back to
    ``pages_in_full_report``)."""
    r = content.report
    pages = sum(c.pages for c in r.full_report) or (r.pages_in_full_report or 0)
    return pages, sum(c.tables for c in r.full_report), sum(c.figures for c in r.full_report)


def counts_text(content: Content) -> str:
    pages, tables, figures = outline_counts(content)
    parts = [f"{pages} pages"] if pages else []
    parts += [f"{tables} tables"] if tables else []
    parts += [f"{figures} figures"] if figures else []
    return ", ".join(parts)


def make_back_cover(content: Content, theme: Theme, logo: Drawing | None) -> BackPainter:
    r, b = content.report, content.brand
    f, c = theme.fonts, theme.colour
    links = link_urls(b, r.publisher_id)
    light = colors.HexColor("#D6E2EE")

    def draw(canv: Canvas, doc: object) -> None:
        tag = tagger_of(canv)
        w, h = theme.page_size
        left = theme.margin_left
        width = w - left - theme.margin_right
        band_bottom = h * 0.42

        def text(x: float, y: float, s: str, font: str, size: float, colour: colors.Color,
                 right: bool = False, link: str = "") -> None:
            """One line of text, a P of the structure (and a Link when it opens ``link``)."""
            with tag.element("P") if link else contextlib.nullcontext(), \
                    tag.begin(canv, "Link" if link else "P"):
                canv.setFont(font, size)
                canv.setFillColor(colour)
                (canv.drawRightString if right else canv.drawString)(x, y, s)
                if link:
                    with link_description(canv, s):
                        end = x + stringWidth(s, font, size)
                        canv.linkURL(link, (x, y - 3, end, y + size), relative=1, thickness=0)

        canv.saveState()
        with tag.artifact(canv, "Layout"):
            canv.setFillColor(c["primary"])
            canv.rect(0, band_bottom, w, h - band_bottom, stroke=0, fill=1)
            canv.setFillColor(c["accent"])
            canv.rect(0, band_bottom - 5, w, 5, stroke=0, fill=1)
            canv.setStrokeColor(c["rule"])
            canv.setLineWidth(0.6)
            canv.line(left, 86, left + width, 86)
            if logo is not None:
                scale = 150 / logo.width
                canv.saveState()
                canv.translate(left, h - 44 - logo.height * scale)
                canv.scale(scale, scale)
                renderPDF.draw(logo, canv, 0, 0)
                canv.restoreState()
        text(left, h * 0.80, "THE FULL REPORT", f["semibold"], 9, colors.HexColor(b.colours.highlight))
        title = Paragraph(escape(r.title), ParagraphStyle(
            "bt", fontName=f["bold"], fontSize=20, leading=24, textColor=colors.white))
        th = title.wrap(width, 200)[1]
        top = h * 0.80 - 12
        title.drawOn(canv, left, top - th)
        y = top - th - 16
        counts = counts_text(content)
        if counts:
            text(left, y, f"{counts}, edition {r.edition[:4]}", f["semibold"], 11, light)
            y -= 22
        item_style = ParagraphStyle("bi", fontName=f["regular"], fontSize=9.6, leading=13,
                                    textColor=light, leftIndent=12, bulletIndent=0,
                                    bulletFontName=f["regular"])
        for line in r.full_report_adds[:5]:
            p = Paragraph(escape(line), item_style, bulletText="\u2022")
            _pw, ph = p.wrap(width * 0.85, 100)
            if y - ph < band_bottom + 62:
                break
            p.drawOn(canv, left, y - ph + 9)
            y -= ph + 3
        draw_buttons(canv, theme, actions(theme, b, r, "back-cover"), left, band_bottom + 24, width,
                     on_dark=True)
        # Lower half: the analyst, the licences, the publisher.
        y = band_bottom - 48
        a = r.analyst
        if a is not None:
            text(left, y + 14, "YOUR ANALYST", f["semibold"], 7.6, c["muted"])
            text(left, y - 2, a.name, f["bold"], 13, c["primary"])
            text(left, y - 17, a.title, f["regular"], 9.6, c["text"])
            phone = "".join(ch for ch in a.phone if ch.isdigit() or ch == "+")
            text(left, y - 32, a.phone, f["semibold"], 9.6, c["text"], link=f"tel:{phone}")
            if a.email:
                text(left, y - 46, a.email, f["semibold"], 9.6, c["accent"], link=f"mailto:{a.email}")
        if r.licences:
            x = left + width * 0.52
            buy = tracked(links["purchase"], b, r, "back-cover-licences")
            text(x, y + 14, "LICENCES", f["semibold"], 7.6, c["muted"])
            yy = y - 2
            for lic in r.licences:
                text(x, yy, lic.name, f["semibold"], 10, c["primary"], link=buy)
                text(left + width, yy, f"{r.currency} {lic.price:,.0f}", f["regular"], 10, c["primary"],
                     right=True)
                yy -= 16
        # Publisher footer.
        text(left, 68, b.publisher, f["bold"], 9, c["primary"])
        if b.contact.address:
            text(left, 56, b.contact.address, f["regular"], 8, c["muted"])
        site = b.links.website
        bare = site.removeprefix("https://").removeprefix("http://")
        text(left, 44, bare, f["regular"], 8, c["muted"], link=tracked(site, b, r, "back-cover-website"))
        text(left + stringWidth(bare + "  ·  ", f["regular"], 8), 44, b.contact.sales_email, f["regular"], 8,
             c["muted"], link=f"mailto:{b.contact.sales_email}")
        canv.restoreState()
        with tag.artifact(canv, "Pagination"):
            draw_footer_line(canv, theme)  # a personalised copy names its reader here too

    return draw

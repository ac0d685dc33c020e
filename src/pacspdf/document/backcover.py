"""Draw the back cover: what the full report holds, how to buy it and whom to call."""

from __future__ import annotations

from collections.abc import Callable

from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas

from pacspdf.content.brand import link_urls, tracked
from pacspdf.content.load import Content
from pacspdf.document.markup import escape
from pacspdf.document.paragraph import Paragraph
from pacspdf.document.personal import draw_footer_line
from pacspdf.document.sales import actions, draw_buttons
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
        w, h = theme.page_size
        left = theme.margin_left
        width = w - left - theme.margin_right
        band_bottom = h * 0.42
        canv.saveState()
        canv.setFillColor(c["primary"])
        canv.rect(0, band_bottom, w, h - band_bottom, stroke=0, fill=1)
        canv.setFillColor(c["accent"])
        canv.rect(0, band_bottom - 5, w, 5, stroke=0, fill=1)
        if logo is not None:
            scale = 150 / logo.width
            canv.saveState()
            canv.translate(left, h - 44 - logo.height * scale)
            canv.scale(scale, scale)
            renderPDF.draw(logo, canv, 0, 0)
            canv.restoreState()
        canv.setFillColor(colors.HexColor(b.colours.highlight))
        canv.setFont(f["semibold"], 9)
        canv.drawString(left, h * 0.80, "THE FULL REPORT")
        title = Paragraph(escape(r.title), ParagraphStyle(
            "bt", fontName=f["bold"], fontSize=20, leading=24, textColor=colors.white))
        th = title.wrap(width, 200)[1]
        top = h * 0.80 - 12
        title.drawOn(canv, left, top - th)
        y = top - th - 16
        counts = counts_text(content)
        if counts:
            canv.setFont(f["semibold"], 11)
            canv.setFillColor(light)
            canv.drawString(left, y, f"{counts}, edition {r.edition[:4]}")
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
            canv.setFillColor(c["muted"])
            canv.setFont(f["semibold"], 7.6)
            canv.drawString(left, y + 14, "YOUR ANALYST")
            canv.setFillColor(c["primary"])
            canv.setFont(f["bold"], 13)
            canv.drawString(left, y - 2, a.name)
            canv.setFillColor(c["text"])
            canv.setFont(f["regular"], 9.6)
            canv.drawString(left, y - 17, a.title)
            canv.setFont(f["semibold"], 9.6)
            canv.drawString(left, y - 32, a.phone)
            canv.linkURL(f"tel:{''.join(ch for ch in a.phone if ch.isdigit() or ch == '+')}",
                         (left, y - 35, left + 200, y - 22), relative=1, thickness=0)
            if a.email:
                canv.setFillColor(c["accent"])
                canv.drawString(left, y - 46, a.email)
                canv.linkURL(f"mailto:{a.email}", (left, y - 49, left + 240, y - 36), relative=1,
                             thickness=0)
        if r.licences:
            x = left + width * 0.52
            canv.setFillColor(c["muted"])
            canv.setFont(f["semibold"], 7.6)
            canv.drawString(x, y + 14, "LICENCES")
            yy = y - 2
            for lic in r.licences:
                canv.setFillColor(c["primary"])
                canv.setFont(f["semibold"], 10)
                canv.drawString(x, yy, lic.name)
                canv.setFont(f["regular"], 10)
                canv.drawRightString(left + width, yy, f"{r.currency} {lic.price:,.0f}")
                yy -= 16
            buy = tracked(links["purchase"], b, r, "back-cover-licences")
            canv.linkURL(buy, (x, yy + 10, left + width, y + 24), relative=1, thickness=0)
        # Publisher footer.
        canv.setStrokeColor(c["rule"])
        canv.setLineWidth(0.6)
        canv.line(left, 86, left + width, 86)
        canv.setFillColor(c["primary"])
        canv.setFont(f["bold"], 9)
        canv.drawString(left, 68, b.publisher)
        canv.setFont(f["regular"], 8)
        canv.setFillColor(c["muted"])
        if b.contact.address:
            canv.drawString(left, 56, b.contact.address)
        site = b.links.website
        bare = site.removeprefix("https://").removeprefix("http://")
        canv.drawString(left, 44, f"{bare}  ·  {b.contact.sales_email}")
        canv.linkURL(tracked(site, b, r, "back-cover-website"), (left, 40, left + 150, 52), relative=1,
                     thickness=0)
        canv.restoreState()
        draw_footer_line(canv, theme)  # a personalised copy names its reader here too

    return draw

"""Turn the brand's links and the report's analyst into calls to action: boxes, buttons, contents."""

from __future__ import annotations

from typing import Any

from reportlab.lib import colors
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Spacer

from pacspdf.content.brand import link_urls, tracked
from pacspdf.document.backcover import counts_text
from pacspdf.document.fullreport import Builder, outline
from pacspdf.document.markup import escape
from pacspdf.document.paragraph import Paragraph
from pacspdf.document.sales import ButtonRow, analyst_line
from pacspdf.document.sales import actions as buttons
from pacspdf.document.tables import DisplayTable
from pacspdf.document.tags import tagger_of
from pacspdf.document.theme import Theme
from pacspdf.templates.environment import fmt_number


def teaser(c: Builder, text: str, path: tuple[Any, ...]) -> list[Flowable]:
    """A 'continued in the full report' box whose title and last line link to the purchase page
    (tagged links around their words, so a screen reader announces where they go)."""
    t, r, b = c.theme, c.content.report, c.content.brand
    c.teasers += 1
    url = escape(tracked(link_urls(b, r.publisher_id)["purchase"], b, r, f"teaser-{c.teasers}"))
    title = Paragraph(f"<a href='{url}'>Continued in the full report</a>", c.s("boxtitle"))
    body = c.prose(text, path, "boxtext")
    more = Paragraph(f"<a href='{url}' color='{b.colours.accent}'><b>Buy the full report »</b></a>",
                     c.s("boxtext"))
    box = c.panel([title, *body, more], background=colors.white, border=t.colour["secondary"],
                  where=path)
    return [Spacer(0, 6), box, Spacer(0, 8)]


def actions(c: Builder, placement: str) -> list[Flowable]:
    """Buy, customise and speak-to-an-analyst buttons with the analyst's name and phone."""
    b, r = c.content.brand, c.content.report
    return [ButtonRow(c.theme, buttons(c.theme, b, r, placement), analyst_line(r))]


def contact(c: Builder) -> list[Flowable]:
    t, r, b = c.theme, c.content.report, c.theme.brand
    links = link_urls(c.content.brand, c.content.report.publisher_id)
    out: list[Flowable] = []
    if r.licences:
        out.append(Paragraph("Licence options", c.s("h2")))
        dt = DisplayTable(["Licence", "Who may read it", f"Price ({r.currency})"],
                          [[lic.name, lic.description,
                            fmt_number(lic.price, 0 if float(lic.price).is_integer() else 2)]
                           for lic in r.licences],
                          [False, False, True], [1.2, 3.0, 1.0])
        out.append(c.grid(dt))
        out.append(Spacer(0, 14))
    accent = b.colours.accent

    def link(url: str, shown: str | None = None) -> str:
        return f"<a href='{escape(url)}' color='{accent}'><u>{escape(shown or url)}</u></a>"

    def track(kind: str) -> str:
        return tracked(links[kind], b, r, f"how-to-buy-{kind}")

    buy = f"<b>Buy the full report</b><br/>{link(track('purchase'), links['purchase'])}"
    ask = f"<b>Ask an analyst before you buy</b><br/>{link(track('enquiry'), links['enquiry'])}"
    sales = b.contact.sales_email
    reach = (f"<b>Talk to us</b><br/>{link(f'mailto:{sales}', sales)}"
             + (f" · {escape(b.contact.phone)}" if b.contact.phone else "")
             + f"<br/>{link(track('website'), links['website'])}")
    cells: list[Flowable] = [Paragraph(x, c.s("boxtext")) for x in (buy, ask, reach)]
    out.append(Paragraph("How to buy or ask", c.s("h2")))
    out.append(KeepTogether(c.panel(cells, background=t.colour["tint"], left_bar=t.colour["accent"])))
    return out


def full_contents(c: Builder) -> list[Flowable]:
    """The full report's outline: what the buyer gets, and what this sample shows of it."""
    counts = counts_text(c.content)
    lead = (f"The full report has {counts}. The chapters marked below are in this sample, "
            f"whole or in part; the others are in the full report only.")
    head = Paragraph("Contents of the Full Report", c.s("h2"))
    return [Spacer(0, 14), CondPageBreak(200), head,
            Paragraph(escape(lead), c.s("small")), *outline(c),
            *actions(c, "contents")]


class ChapterRule(Flowable):
    """A short accent rule over a chapter that runs on from the last one."""

    def __init__(self, theme: Theme) -> None:
        super().__init__()
        self.theme = theme

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width, self.height = availWidth, 14.0
        return self.width, self.height

    def draw(self) -> None:
        with tagger_of(self.canv).artifact(self.canv, "Layout"):
            self.canv.setStrokeColor(self.theme.colour["rule"])
            self.canv.setLineWidth(0.8)
            self.canv.line(0, 10, self.width, 10)

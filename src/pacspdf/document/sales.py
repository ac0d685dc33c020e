"""Turn the brand's links and the report's analyst into calls to action: linked boxes, buttons."""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

from pacspdf.content.brand import link_urls, tracked
from pacspdf.content.model import Brand, Report
from pacspdf.document.tagcanvas import link_description
from pacspdf.document.tags import tagger_of
from pacspdf.document.theme import Theme


class LinkedBox(Flowable):
    """A flowable (a panel) that opens ``url`` wherever it is clicked."""

    def __init__(self, inner: Flowable, url: str, description: str = "Buy the full report") -> None:
        super().__init__()
        self.inner = inner
        self.url = url
        self.description = description
        self.hAlign = getattr(inner, "hAlign", "LEFT")

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width, self.height = self.inner.wrap(availWidth, availHeight)
        return self.width, self.height

    def draw(self) -> None:
        self.inner.drawOn(self.canv, 0, 0)
        with tagger_of(self.canv).element("Link"), link_description(self.canv, self.description):
            self.canv.linkURL(self.url, (0, 0, self.width, self.height), relative=1, thickness=0)


@dataclass(frozen=True)
class Button:
    label: str
    url: str
    primary: bool = False


def actions(theme: Theme, brand: Brand, report: Report, placement: str) -> list[Button]:
    """Buy, customise and speak-to-an-analyst, each linked (with tracking) to its page."""
    links = link_urls(brand, report.publisher_id)

    def url(kind: str) -> str:
        return tracked(links[kind], brand, report, f"{placement}-{kind}")

    return [Button("Buy the full report", url("purchase"), primary=True),
            Button("Request customisation", url("customise")),
            Button("Speak to an analyst", url("enquiry"))]


def draw_buttons(canv: Canvas, theme: Theme, buttons: list[Button], x: float, y: float, width: float,
                 height: float = 26.0, gap: float = 10.0, on_dark: bool = False) -> None:
    """Buttons side by side in ``width`` from (x, y), each a link."""
    c = theme.colour
    tag = tagger_of(canv)
    w = (width - gap * (len(buttons) - 1)) / len(buttons)
    font = theme.fonts["bold"]
    for i, b in enumerate(buttons):
        bx = x + i * (w + gap)
        canv.saveState()
        with tag.artifact(canv, "Layout"):
            if b.primary:
                canv.setFillColor(c["accent"])
                canv.roundRect(bx, y, w, height, 3, stroke=0, fill=1)
            else:
                canv.setStrokeColor(colors.white if on_dark else c["primary"])
                canv.setLineWidth(1)
                canv.setFillColor(colors.white)
                canv.roundRect(bx, y, w, height, 3, stroke=1, fill=0 if on_dark else 1)
        canv.setFillColor(colors.white if b.primary or on_dark else c["primary"])
        size = 9.0
        while stringWidth(b.label, font, size) > w - 12 and size > 6.5:
            size -= 0.25
        with tag.element("P"), tag.begin(canv, "Link"):
            canv.setFont(font, size)
            canv.drawCentredString(bx + w / 2, y + height / 2 - size * 0.35, b.label)
            with link_description(canv, b.label):
                canv.linkURL(b.url, (bx, y, bx + w, y + height), relative=1, thickness=0)
        canv.restoreState()


class ButtonRow(Flowable):
    """A row of call-to-action buttons, then the analyst to call (name, role, phone)."""

    def __init__(self, theme: Theme, buttons: list[Button], contact: str = "") -> None:
        super().__init__()
        self.theme = theme
        self.buttons = buttons
        self.contact = contact
        self.spaceBefore = 6
        self.spaceAfter = 10

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        self.height = 26.0 + (16.0 if self.contact else 0.0)
        return self.width, self.height

    def draw(self) -> None:
        canv = self.canv
        draw_buttons(canv, self.theme, self.buttons, 0, self.height - 26.0, self.width)
        if self.contact:
            with tagger_of(canv).begin(canv, "P"):
                canv.setFont(self.theme.fonts["regular"], 8.6)
                canv.setFillColor(self.theme.colour["text"])
                canv.drawString(0, 2, self.contact)


def analyst_line(report: Report) -> str:
    """'Speak to NAME, TITLE: PHONE · EMAIL' when the report names an analyst."""
    a = report.analyst
    if a is None:
        return ""
    line = f"Speak to {a.name}, {a.title}: {a.phone}"
    return line + (f"  ·  {a.email}" if a.email else "")

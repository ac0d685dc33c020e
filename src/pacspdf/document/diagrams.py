"""Turn a report's methodology data into vector diagrams: funnels, triangulation, interview mix."""

from __future__ import annotations

from reportlab.graphics.shapes import Drawing, Group, Line, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from pacspdf.content.contrast import ratio
from pacspdf.content.model import Funnel, Interviews, Triangulation
from pacspdf.document.theme import Theme

STEP_H = 27.0
GAP = 4.0


def _ink_on(theme: Theme, fill: str) -> str:
    """White or the brand's text colour, whichever reads better on ``fill``."""
    text = theme.brand.colours.text
    return "#FFFFFF" if ratio("#FFFFFF", fill) >= ratio(text, fill) else text


def _box(x: float, y: float, w: float, h: float, fill: str, radius: float = 0.0) -> Rect:
    """A filled rectangle without an outline."""
    box = Rect(x, y, w, h, rx=radius, ry=radius)
    box.fillColor = colors.HexColor(fill)
    box.strokeColor = None
    return box


def _lines(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` (words are never split)."""
    out: list[str] = []
    for word in text.split():
        if out and stringWidth(f"{out[-1]} {word}", font, size) <= width:
            out[-1] = f"{out[-1]} {word}"
        else:
            out.append(word)
    return out or [""]


def _centred(group: Group, text: str, cx: float, cy: float, font: str, size: float, colour: str,
             width: float) -> None:
    lines = _lines(text, font, size, width)
    lead = size * 1.18
    top = cy + (len(lines) - 1) * lead / 2 - size * 0.35
    for i, line in enumerate(lines):
        group.add(String(cx, top - i * lead, line, fontName=font, fontSize=size,
                         fillColor=colors.HexColor(colour), textAnchor="middle"))


def funnels(theme: Theme, pair: list[Funnel]) -> Drawing:
    """Side-by-side funnels (bottom-up widening, top-down narrowing), each step a band."""
    width = theme.frame_width
    col = (width - 24) / max(len(pair), 1)
    steps = max(len(f.steps) for f in pair)
    title_h = 18.0
    height = title_h + steps * (STEP_H + GAP)
    d = Drawing(width, height, initialFontName=theme.fonts["regular"])
    palette = theme.brand.colours.chart
    f = theme.fonts
    for k, funnel in enumerate(pair):
        x0 = k * (col + 24)
        g = Group()
        g.add(String(x0, height - 11, funnel.title, fontName=f["semibold"], fontSize=9.5,
                     fillColor=colors.HexColor(theme.brand.colours.primary)))
        n = len(funnel.steps)
        widening = (k == 0 and len(pair) > 1) or "bottom" in funnel.title.lower()
        for i, step in enumerate(funnel.steps):
            frac_top = (0.55 + 0.45 * i / max(n - 1, 1)) if widening else (1.0 - 0.45 * i / max(n - 1, 1))
            frac_bot = (0.55 + 0.45 * (i + 1) / n) if widening else (1.0 - 0.45 * (i + 1) / n)
            top = height - title_h - i * (STEP_H + GAP)
            bottom = top - STEP_H
            cx = x0 + col / 2
            wt, wb = col * frac_top / 2, col * min(frac_bot, 1.0) / 2
            fill = palette[(i + (0 if widening else 1)) % len(palette)]
            g.add(Polygon([cx - wt, top, cx + wt, top, cx + wb, bottom, cx - wb, bottom],
                          fillColor=colors.HexColor(fill), strokeColor=None))
            _centred(g, step, cx, (top + bottom) / 2, f["semibold"], 8.2, _ink_on(theme, fill),
                     min(wt, wb) * 2 - 10)
        d.add(g)
    return d


def triangulation(theme: Theme, data: Triangulation) -> Drawing:
    """The sources around a central estimate, each with a line to it."""
    width = theme.frame_width
    height = 122.0
    d = Drawing(width, height, initialFontName=theme.fonts["regular"])
    f = theme.fonts
    c = theme.brand.colours
    palette = c.chart
    n = len(data.sources)
    box_w = min(150.0, (width - 20 * (n - 1)) / n)
    box_h = 38.0
    centre = (width / 2, 28.0)
    res_w, res_h = min(260.0, width * 0.5), 40.0
    for i, source in enumerate(data.sources):
        x = i * (width - box_w) / max(n - 1, 1)
        y = height - box_h
        fill = palette[(i + 1) % len(palette)]
        d.add(Line(x + box_w / 2, y, centre[0], centre[1] + res_h / 2,
                   strokeColor=colors.HexColor(c.muted), strokeWidth=0.8))
        d.add(_box(x, y, box_w, box_h, fill, radius=3))
        g = Group()
        _centred(g, source, x + box_w / 2, y + box_h / 2, f["semibold"], 8.2, _ink_on(theme, fill),
                 box_w - 12)
        d.add(g)
    d.add(_box(centre[0] - res_w / 2, centre[1] - res_h / 2, res_w, res_h, c.primary, radius=3))
    g = Group()
    _centred(g, data.result, centre[0], centre[1], f["bold"], 9, _ink_on(theme, c.primary), res_w - 16)
    d.add(g)
    return d


def interviews(theme: Theme, data: Interviews) -> Drawing:
    """One 100 % bar per breakdown (role, region, company tier ...), parts labelled with shares."""
    width = theme.frame_width
    label_w = 96.0
    bar_h = 22.0
    row_h = bar_h + 32.0
    height = len(data.breakdowns) * row_h
    d = Drawing(width, height, initialFontName=theme.fonts["regular"])
    f = theme.fonts
    c = theme.brand.colours
    palette = c.chart
    bar_w = width - label_w
    for r, bd in enumerate(data.breakdowns):
        top = height - r * row_h
        y = top - bar_h - 4
        d.add(String(0, y + bar_h / 2 - 3, bd.by, fontName=f["semibold"], fontSize=9,
                     fillColor=colors.HexColor(c.primary)))
        total = sum(bd.parts.values()) or 1.0
        x = label_w
        for i, (name, share) in enumerate(bd.parts.items()):
            w = bar_w * share / total
            fill = palette[i % len(palette)]
            d.add(_box(x, y, w - 1.5, bar_h, fill))
            pct = f"{share:.0f}%"
            if stringWidth(pct, f["semibold"], 8) < w - 6:
                d.add(String(x + w / 2, y + bar_h / 2 - 2.8, pct, fontName=f["semibold"], fontSize=8,
                             fillColor=colors.HexColor(_ink_on(theme, fill)), textAnchor="middle"))
            for j, line in enumerate(_lines(name, f["regular"], 7.4, w - 4)):
                d.add(String(x, y - 10 - j * 8.6, line, fontName=f["regular"], fontSize=7.4,
                             fillColor=colors.HexColor(c.muted)))
            x += w
    return d

"""Turn a chart's spec, data and style into its drawing context: figure points, fonts, colours, numbers.

Every chart is a figure of ``spec.width`` x ``spec.height`` points with one axes
used purely as a plotting area (no spines, ticks or tick labels of its own). All
furniture (legend, unit label, value-axis and category labels, callouts, the
forecast bracket) is placed in figure points, measured with the brand TTFs, so the
layout is identical on every backend and needs no layout engine. :class:`Ctx` is that
point space; the furniture itself is drawn by :mod:`pacspdf.charts.furniture`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from pacspdf import numbers
from pacspdf.charts.recorder import (
    cap_height,
    font_properties,
    points_transform,
    text_width,
)
from pacspdf.charts.spec import ChartData, ChartSpec, ChartStyle
from pacspdf.content.contrast import ratio

LINE = 1.2  # line spacing (multiple of font size)
#: The least plot height (points) a chart keeps; a chart needing more grows (see Ctx.need).
MIN_PLOT = 80.0
#: A chart never grows past this height (points): about two thirds of an A4 text frame.
MAX_HEIGHT = 520.0
RING = 0.42  # donut ring width, as a fraction of the radius
Colour = str | tuple[float, float, float]


class Ctx:
    """Shared drawing state: the figure, sizes, and point-space helpers."""

    def __init__(self, spec: ChartSpec, data: ChartData, style: ChartStyle, fig: Figure):
        self.spec, self.data, self.style, self.fig = spec, data, style, fig
        self.W, self.H = spec.width, spec.height
        self.fs = max(7.0, style.font_size)
        self.small = max(7.0, self.fs - 0.5)
        self.pt = points_transform(fig)
        self.pct = data.unit.strip() == "%"
        self.frame = (0.0, 0.0, self.W, self.H)  # left, bottom, width, height of the plot
        self.ax: Axes | None = None
        self.boxes: list[tuple[float, float, float, float]] = []  # labels gridlines avoid
        self.xlim = self.ylim = (0.0, 1.0)
        self.need = 0.0  # the height (points) the content needs when it is more than H
        self.areas: list[tuple[float, float, float, float]] = []  # plot areas, for the preflight

    def grow_to(self, height: float) -> None:
        """Ask for a taller figure: the chart is drawn again at ``height`` (capped)."""
        if height > self.H + 0.5:
            self.need = max(self.need, min(height, MAX_HEIGHT))

    def keep_plot(self, plot_h: float) -> None:
        """Grow the figure when its plot would be squashed below a readable height."""
        if plot_h < MIN_PLOT:
            self.grow_to(self.H + MIN_PLOT - plot_h)

    # measuring
    def tw(self, s: str, size: float | None = None, key: str = "regular") -> float:
        return text_width(s, self.style.fonts[key], size or self.fs)

    def cap(self, size: float | None = None, key: str = "regular") -> float:
        return cap_height(self.style.fonts[key]) * (size or self.fs)

    def colour(self, i: int) -> Colour:
        """Series colour; once the palette is exhausted, cycle through lighter tints."""
        palette = self.style.palette
        base = palette[i % len(palette)]
        rounds = i // len(palette)
        return base if not rounds else tinted(base, min(0.3 * rounds, 0.75))

    # drawing in figure points
    def text(self, x: float, y: float, s: str, *, size: float | None = None,
             key: str = "regular", color: object = None, ha: str = "left",
             rotation: float = 0.0, avoid: bool = False) -> None:
        """Text with its baseline at y; *avoid* keeps gridlines from crossing it."""
        size = size or self.fs
        self.fig.text(x, y, s, transform=self.pt,
                      fontproperties=font_properties(self.style.fonts[key], size),
                      color=color or self.style.text, ha=ha, va="baseline",
                      rotation=rotation, rotation_mode="anchor", zorder=4)
        if avoid:
            w = self.tw(s, size, key)
            x0 = x - w * {"left": 0.0, "center": 0.5, "right": 1.0}[ha]
            lo, hi = -0.25 * size, self.cap(size, key)
            box = ((x - hi, x0 - x + y, x - lo, x0 - x + y + w) if rotation == 90
                   else (x0, y + lo, x0 + w, y + hi))
            self.boxes.append(box)

    def line(self, xs: Sequence[float], ys: Sequence[float], color: Colour, lw: float,
             zorder: float = 3, **kw: Any) -> None:
        self.fig.add_artist(Line2D(xs, ys, transform=self.pt, color=color, linewidth=lw,
                                   zorder=zorder, **kw))

    def rect(self, x: float, y: float, w: float, h: float, color: Colour, zorder: float = 3) -> None:
        self.fig.add_artist(Rectangle((x, y), w, h, transform=self.pt, facecolor=color,
                                      edgecolor="none", zorder=zorder))

    # the plot area
    def axes(self, left: float, bottom: float, right: float, top: float,
             xlim: tuple[float, float], ylim: tuple[float, float]) -> Axes:
        w, h = self.W - left - right, top - bottom
        self.frame = (left, bottom, w, h)
        self.areas.append((left, bottom, w, h))
        ax = self.fig.add_axes((left / self.W, bottom / self.H, w / self.W, h / self.H))
        ax.set_axis_off()
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        self.ax, self.xlim, self.ylim = ax, xlim, ylim
        return ax

    def xpt(self, x: float) -> float:
        lo, hi = self.xlim
        return self.frame[0] + (x - lo) / (hi - lo) * self.frame[2]

    def ypt(self, y: float) -> float:
        lo, hi = self.ylim
        return self.frame[1] + (y - lo) / (hi - lo) * self.frame[3]


# -- formatting ------------------------------------------------------------------
def decimals_for(values: np.ndarray, pct: bool) -> int:
    """Decimals for a set of labels: one for shares, else as tables print the same values."""
    if pct:
        return 1
    return numbers.decimals_for(float(v) for v in np.ravel(values))


def fmt(v: float, decimals: int, suffix: str = "") -> str:
    """``v`` as printed everywhere in the report (half away from zero, a true minus)."""
    return numbers.fmt(float(v), decimals, suffix=suffix)


def tinted(colour: Colour, amount: float = 0.5) -> tuple[float, float, float]:
    r, g, b = to_rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def text_on(colour: Colour, style: ChartStyle) -> str:
    """White or the text colour on top of *colour*, whichever contrasts more (WCAG 2)."""
    fill = to_hex(colour)
    return "#ffffff" if ratio("#ffffff", fill) >= ratio(style.text, fill) else style.text


#: The lightest background chart text sits on (the forecast band of a line chart).
TEXT_BACKGROUND = "#f0f0f0"


def ink(colour: Colour, style: ChartStyle) -> tuple[float, float, float]:
    """*colour* darkened towards the text colour until it reads as text (WCAG AA, 4.5:1) on
    the chart's lightest background."""
    r, g, b = to_rgb(colour)
    t = to_rgb(style.text)
    for step in range(21):
        k = step / 20
        mixed = (r + (t[0] - r) * k, g + (t[1] - g) * k, b + (t[2] - b) * k)
        if ratio(to_hex(mixed), TEXT_BACKGROUND) >= 4.6:
            return mixed
    return t


def wrap_text(ctx: Ctx, s: str, width: float, size: float) -> list[str]:
    if ctx.tw(s, size) <= width:
        return [s]
    words = s.split()
    lines: list[str] = []
    for word in words:
        if lines and ctx.tw(f"{lines[-1]} {word}", size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or textwrap.wrap(s, 12)


def value_matrix(data: ChartData) -> np.ndarray:
    return np.array([[float(v) for v in s.values] for s in data.series], dtype=float)


def forecast_index(ctx: Ctx) -> int | None:
    """Index of the first forecast category (for years: the first one >= forecast_from)."""
    cats, f = ctx.data.categories, ctx.spec.forecast_from
    if f is None:
        return None
    if f in cats:
        return cats.index(f)
    if f.isdigit() and all(c.isdigit() for c in cats):
        return next((i for i, c in enumerate(cats) if int(c) >= int(f)), None)
    return None

"""Chart furniture in figure points: the drawing context, legend, axes, labels, brackets, callouts.

Every chart is a figure of ``spec.width`` x ``spec.height`` points with one axes
used purely as a plotting area (no spines, ticks or tick labels of its own). All
furniture (legend, unit label, value-axis and category labels, callouts, the
forecast bracket) is placed in figure points, measured with the brand TTFs, so the
layout is identical on every backend and needs no layout engine.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, Polygon, Rectangle
from matplotlib.ticker import MaxNLocator

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


# -- shared furniture ---------------------------------------------------------------
def draw_badge(ctx: Ctx, cx: float, cy: float, s: str, ha: str = "center") -> tuple[float, float]:
    """A filled accent label box centred (or right-aligned) at cx; returns its size."""
    w, h = ctx.tw(s, key="semibold") + 2 * 0.75 * ctx.fs, ctx.fs * 1.75
    x0 = cx - w / 2 if ha == "center" else cx - w
    ctx.fig.add_artist(FancyBboxPatch(
        (x0, cy - h / 2), w, h, boxstyle=f"round,pad=0,rounding_size={h * 0.18:.2f}",
        transform=ctx.pt, facecolor=ctx.style.accent, edgecolor="none", zorder=3))
    ctx.text(x0 + w / 2, cy - ctx.cap(key="semibold") / 2, s, key="semibold", ha="center",
             color="#ffffff")
    ctx.boxes.append((x0, cy - h / 2, x0 + w, cy + h / 2))
    return w, h


def draw_legend(ctx: Ctx, entries: list[tuple[str, Colour]], top: float, lines: bool) -> float:
    """Legend from *top* down: one flowing row when it fits in two, else aligned columns;
    returns the y below it."""
    fs, s, row_h, gap = ctx.fs, ctx.fs * 0.8, ctx.fs * 1.6, ctx.fs * 1.5
    key_w = (s * 1.5 if lines else s) + fs * 0.45
    widths = [key_w + ctx.tw(name) for name, _ in entries]
    rows: list[list[tuple[int, float]]] = [[]]
    x = 0.0
    for i, w in enumerate(widths):
        if rows[-1] and x + w > ctx.W:
            rows.append([])
            x = 0.0
        rows[-1].append((i, x))
        x += w + gap
    if len(rows) > 2:
        # Many entries: a grid of equal columns, names wrapped to the column width.
        cols = max(1, min(len(entries), int((ctx.W + gap) // (min(max(widths), ctx.W / 2) + gap))))
        col_w = (ctx.W + gap) / cols - gap
        rows = [[(i, (k % cols) * (col_w + gap)) for k, i in enumerate(range(r, min(r + cols, len(entries))))]
                for r in range(0, len(entries), cols)]
        names = {i: wrap_text(ctx, entries[i][0], col_w - key_w, fs) for i in range(len(entries))}
    else:
        names = {i: [name] for i, (name, _) in enumerate(entries)}
    y = top
    for row in rows:
        height = row_h + (max(len(names[i]) for i, _ in row) - 1) * fs * LINE
        cy = y - row_h / 2
        for i, x0 in row:
            colour = entries[i][1]
            if lines:
                ctx.line([x0, x0 + s * 1.5], [cy, cy], colour, 2.0)
            else:
                ctx.rect(x0, cy - s / 2, s, s, colour)
            for k, line in enumerate(names[i]):
                ctx.text(x0 + key_w, cy - ctx.cap() / 2 - k * fs * LINE, line)
        y -= height
    return y


def unit_label(ctx: Ctx) -> str:
    label, unit = ctx.spec.y_label, ctx.data.unit.strip()
    if label and unit and unit not in label:
        return f"{label} ({unit})"
    return label or unit


def draw_header(ctx: Ctx, entries: list[tuple[str, Colour]], lines: bool, badge: str | None) -> float:
    """Legend, then the unit label row (with an optional right-aligned badge)."""
    y = ctx.H
    if entries and ctx.spec.legend:
        y = draw_legend(ctx, entries, y, lines)
    label = unit_label(ctx)
    if label or badge:
        row_h = max(ctx.small * 1.5, ctx.fs * 1.75 + 3 if badge else 0)
        cy = y - row_h / 2
        if label:
            ctx.text(0, cy - ctx.cap(ctx.small) / 2, label, size=ctx.small,
                     color=ctx.style.muted)
        if badge:
            draw_badge(ctx, ctx.W, cy, badge, ha="right")
        y -= row_h
    return y - ctx.fs * 0.6


def axis_limits(lo_data: float, hi_data: float, size: float, head_lo: float,
            head_hi: float) -> tuple[float, float]:
    """Data limits leaving head_lo/head_hi points free below/above the data."""
    if hi_data <= lo_data:
        hi_data = lo_data + 1.0
    k = max(size - head_lo - head_hi, size * 0.3) / (hi_data - lo_data)
    lo = lo_data - head_lo / k
    return lo, lo + size / k


def value_axis(ctx: Ctx, lo_data: float, hi_data: float,
                tight: bool = False) -> tuple[list[float], list[str]]:
    """Nice ticks and their labels; *tight* drops ticks beyond the data range, except one the
    data nearly reaches (within a tenth of a step), so the tallest bar is not left far above
    the top gridline with no scale beside it."""
    if hi_data <= lo_data:
        hi_data = lo_data + 1.0
    # Stubs say Sequence[float]; MaxNLocator.tick_values returns an ndarray (masked below).
    ticks = cast(np.ndarray, MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]).tick_values(lo_data, hi_data))
    if tight and len(ticks) > 1:
        slack = float(ticks[1] - ticks[0]) * 0.1
        ticks = ticks[(ticks >= lo_data - slack) & (ticks <= hi_data + slack)]
    step = float(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    dec = 0 if step >= 1 and np.all(ticks == np.round(ticks)) else max(
        0, int(np.ceil(-np.log10(step) - 1e-9)))
    dec = min(dec + (1 if step * 10**dec % 1 else 0), 3)
    return [float(t) for t in ticks], [fmt(float(t), dec) for t in ticks]


def draw_value_axis(ctx: Ctx, ticks: list[float], labels: list[str]) -> list[float]:
    """Muted right-aligned labels left of the plot; returns the gridline heights (pt)."""
    lo, hi = ctx.ylim
    grid = []
    for t, s in zip(ticks, labels, strict=True):
        if not lo - 1e-9 <= t <= hi + 1e-9:
            continue
        if t != 0:
            grid.append(ctx.ypt(t))
        ctx.text(ctx.frame[0] - ctx.fs * 0.75, ctx.ypt(t) - ctx.cap() / 2, s,
                 color=ctx.style.muted, ha="right")
    return grid


def draw_gridlines(ctx: Ctx, ys: list[float]) -> None:
    """Light horizontal gridlines across the plot, broken around value labels."""
    x_lo, x_hi = ctx.frame[0], ctx.frame[0] + ctx.frame[2]
    for y in ys:
        cuts = sorted((b[0] - 2, b[2] + 2) for b in ctx.boxes if b[1] - 1 <= y <= b[3] + 1)
        x = x_lo
        for a, b in [*cuts, (x_hi, x_hi)]:
            if min(a, x_hi) > x:
                ctx.line([x, min(a, x_hi)], [y, y], ctx.style.grid, 0.5, zorder=0)
            x = max(x, b)


NUMERIC = re.compile(r"^\d[\d./\u2013-]*[A-Za-z]?$")  # 2024, 2025E, 2024/25, FY2024 no


@dataclass(frozen=True)
class CatPlan:
    """How category labels fit under the plot."""

    lines: list[list[str]]
    size: float
    every: int  # show every n-th label (counted back from the last); numeric labels only
    rotate: bool
    depth: float  # points needed below the plot


def plan_categories(ctx: Ctx, slot: float) -> CatPlan:
    cats, fs = ctx.data.categories, ctx.fs
    if all(NUMERIC.match(c) for c in cats):
        widest = max(ctx.tw(c) for c in cats)
        every = 1
        while widest > every * slot - fs and every < len(cats):
            every += 1
        return CatPlan([[c] for c in cats], fs, every, False, fs * 0.5 + fs * LINE)
    for size in dict.fromkeys((fs, max(7.0, fs - 1))):
        lines = [wrap_text(ctx, c, slot - size * 0.5, size) for c in cats]
        widest = max(ctx.tw(line, size) for ls in lines for line in ls)
        rows = max(len(ls) for ls in lines)
        if widest <= slot - size * 0.25 and rows <= 3:
            return CatPlan(lines, size, 1, False, size * 0.5 + rows * size * LINE)
    size = max(7.0, fs - 1)
    widest = max(ctx.tw(c, size) for c in cats)
    return CatPlan([[c] for c in cats], size, 1, True,
                    size * 0.5 + (widest + ctx.cap(size)) * 0.7072)


def category_labels(ctx: Ctx, xs: Sequence[float] | np.ndarray, plan: CatPlan) -> float:
    """Category labels under the plot, as planned; returns their depth."""
    size, n = plan.size, len(xs)
    top = ctx.frame[1] - size * 0.5
    for i, (x, lines) in enumerate(zip(xs, plan.lines, strict=True)):
        if (n - 1 - i) % plan.every:
            continue
        if plan.rotate:
            ctx.text(ctx.xpt(x) + ctx.cap(size) * 0.35, top - ctx.cap(size) * 0.7, lines[0],
                     size=size, color=ctx.style.muted, ha="right", rotation=45)
            continue
        for j, line in enumerate(lines):
            half = ctx.tw(line, size) / 2
            cx = min(max(ctx.xpt(x), half), ctx.W - half)  # keep end labels on the figure
            ctx.text(cx, top - ctx.cap(size) - j * size * LINE, line, size=size,
                     color=ctx.style.muted, ha="center")
    return plan.depth


def forecast_bracket(ctx: Ctx, first: float, last: float, y: float,
                     actual: tuple[float, float] | None = None) -> None:
    """Thin brackets under the categories: 'Forecast' under the forecast ones and, when
    ``actual`` spans the categories before them, 'Actual' under those."""
    tick = ctx.fs * 0.35
    spans = [(first, last, "Forecast")] + ([(actual[0], actual[1], "Actual")] if actual else [])
    for a, b, label in spans:
        x0, x1 = ctx.xpt(a), ctx.xpt(b)
        ctx.line([x0, x0, x1, x1], [y + tick, y, y, y + tick], ctx.style.muted, 0.6)
        ctx.text((x0 + x1) / 2, y - ctx.fs * 0.35 - ctx.cap(ctx.small), label,
                 size=ctx.small, color=ctx.style.muted, ha="center")


def bracket_depth(ctx: Ctx) -> float:
    return ctx.fs * 0.3 + ctx.fs * 0.35 + ctx.small * LINE


def callout_span(categories: Sequence[str], callout: str) -> tuple[int, int]:
    """Categories a CAGR-style callout spans: the "2025–2032" years it names, else all."""
    found = re.search(r"(\d{4})\s*[-\u2013\u2014]\s*(\d{4})", callout)
    if found and found.group(1) in categories and found.group(2) in categories:
        a, b = categories.index(found.group(1)), categories.index(found.group(2))
        if a < b:
            return a, b
    return 0, len(categories) - 1


def arrow_connector(ctx: Ctx, x0: float, y0: float, x1: float, y1: float, level: float,
                     label: str) -> None:
    """McKinsey-style elbow connector from (x0, y0) over to (x1, y1) with a label box."""
    head = ctx.fs * 0.55
    colour = ctx.style.accent
    ctx.line([x0, x0, x1, x1], [y0, level, level, y1 + head], colour, 0.9,
             solid_joinstyle="miter")
    ctx.fig.add_artist(Polygon([(x1 - head * 0.5, y1 + head), (x1 + head * 0.5, y1 + head),
                                (x1, y1)], closed=True, transform=ctx.pt, facecolor=colour,
                               edgecolor="none", zorder=3))
    draw_badge(ctx, (x0 + x1) / 2, level, label)


def bars_at(ax: Axes, x: np.ndarray, y: np.ndarray, w: np.ndarray | float,
             h: np.ndarray | float, colours: Sequence[Colour]) -> None:
    """Rectangles (x, y, w, h) in data units as one collection.

    Much cheaper than ``ax.bar``: one artist, and no autoscaling (limits are fixed).
    """
    x0, y0 = np.broadcast_arrays(x, y)
    x1, y1 = x0 + w, y0 + h
    verts = np.stack([np.stack([x0, y0], -1), np.stack([x1, y0], -1),
                      np.stack([x1, y1], -1), np.stack([x0, y1], -1)], axis=1)
    ax.add_collection(PolyCollection(verts,  # type: ignore[arg-type]  # stubs omit the (N, M, 2) ndarray form
                                     facecolors=colours, edgecolors="none",
                                     linewidths=0, zorder=1, clip_on=False), autolim=False)


def bar_label(ctx: Ctx, x: float, v: float, s: str, vertical: bool,
               key: str = "regular") -> None:
    gap = ctx.fs * 0.35
    y = ctx.ypt(v)
    if vertical:
        ctx.text(ctx.xpt(x) + ctx.cap(ctx.small) / 2, y + gap if v >= 0 else y - gap, s,
                 size=ctx.small, key=key, rotation=90, ha="left" if v >= 0 else "right",
                 avoid=True)
    elif v >= 0:
        ctx.text(ctx.xpt(x), y + gap, s, size=ctx.small, key=key, ha="center", avoid=True)
    else:
        ctx.text(ctx.xpt(x), y - gap - ctx.cap(ctx.small), s, size=ctx.small, key=key,
                 ha="center", avoid=True)


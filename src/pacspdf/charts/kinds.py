"""Chart kinds in one restrained, publisher-style look, laid out in points.

Every chart is a figure of ``spec.width`` x ``spec.height`` points with one axes
used purely as a plotting area (no spines, ticks or tick labels of its own). All
furniture (legend, unit label, value-axis and category labels, callouts, the
forecast bracket) is placed in figure points, measured with the brand TTFs, so the
layout is identical on every backend and needs no layout engine.
"""

from __future__ import annotations

import itertools
import re
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from matplotlib import rc_context
from matplotlib import style as mpl_style
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, Polygon, Rectangle, Wedge
from matplotlib.ticker import MaxNLocator

from pacspdf.charts._recorder import (
    FAMILY,
    WEIGHTS,
    cap_height,
    points_transform,
    register_fonts,
    text_width,
)
from pacspdf.charts.spec import ChartData, ChartSpec, ChartStyle

LINE = 1.2  # line spacing (multiple of font size)
RING = 0.42  # donut ring width, as a fraction of the radius
Colour = str | tuple[float, float, float]


@contextmanager
def chart_rc(style: ChartStyle) -> Iterator[None]:
    """Register the brand fonts and apply the chart rcParams (no global changes).

    Starts from matplotlib's defaults so that a style set globally by the host
    application cannot leak into charts (the cache key does not cover rcParams).
    """
    register_fonts(style.fonts)
    with mpl_style.context("default"), rc_context({
        "font.family": [FAMILY], "font.size": style.font_size, "text.usetex": False,
        "text.parse_math": False, "axes.unicode_minus": True, "path.simplify": False,
        "lines.solid_capstyle": "butt", "lines.dash_capstyle": "butt",
        "lines.solid_joinstyle": "round", "patch.linewidth": 0.0,
    }):
        yield


class _Ctx:
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
        return base if not rounds else _tint(base, min(0.3 * rounds, 0.75))

    # drawing in figure points
    def text(self, x: float, y: float, s: str, *, size: float | None = None,
             key: str = "regular", color: object = None, ha: str = "left",
             rotation: float = 0.0, avoid: bool = False) -> None:
        """Text with its baseline at y; *avoid* keeps gridlines from crossing it."""
        size = size or self.fs
        self.fig.text(x, y, s, transform=self.pt, fontsize=size, fontweight=WEIGHTS[key],
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
def _decimals(values: np.ndarray, pct: bool) -> int:
    finite = values[np.isfinite(values)]
    if pct:
        return 1
    if finite.size == 0 or np.all(finite == np.round(finite)):
        return 0
    return 0 if np.max(np.abs(finite)) >= 100 else 1


def _fmt(v: float, decimals: int, suffix: str = "") -> str:
    s = f"{abs(v):,.{decimals}f}"
    sign = "\u2212" if v < 0 and s.strip("0.,") else ""
    return f"{sign}{s}{suffix}"


def _tint(colour: Colour, amount: float = 0.5) -> tuple[float, float, float]:
    r, g, b = to_rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def _on(colour: Colour, style: ChartStyle) -> str:
    """Readable text colour on top of *colour*."""
    r, g, b = to_rgb(colour)
    return "#ffffff" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.55 else style.text


def _ink(colour: Colour, style: ChartStyle) -> tuple[float, float, float]:
    """*colour* darkened towards the text colour until it reads as text on white."""
    r, g, b = to_rgb(colour)
    t = to_rgb(style.text)
    k = max(0.0, min(1.0, (0.2126 * r + 0.7152 * g + 0.0722 * b - 0.45) / 0.45))
    return (r + (t[0] - r) * k, g + (t[1] - g) * k, b + (t[2] - b) * k)


def _wrap(ctx: _Ctx, s: str, width: float, size: float) -> list[str]:
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


def _values(data: ChartData) -> np.ndarray:
    return np.array([[float(v) for v in s.values] for s in data.series], dtype=float)


def _forecast_index(ctx: _Ctx) -> int | None:
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
def _badge(ctx: _Ctx, cx: float, cy: float, s: str, ha: str = "center") -> tuple[float, float]:
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


def _legend(ctx: _Ctx, entries: list[tuple[str, Colour]], top: float, lines: bool) -> float:
    """Left-aligned legend rows from *top* down; returns the y below the rows."""
    fs, s, row_h, gap = ctx.fs, ctx.fs * 0.8, ctx.fs * 1.6, ctx.fs * 1.5
    widths = [s + fs * 0.45 + ctx.tw(name) for name, _ in entries]
    rows: list[list[int]] = [[]]
    x = 0.0
    for i, w in enumerate(widths):
        if rows[-1] and x + w > ctx.W:
            rows.append([])
            x = 0.0
        rows[-1].append(i)
        x += w + gap
    for r, row in enumerate(rows):
        cy = top - (r + 0.5) * row_h
        x = 0.0
        for i in row:
            name, colour = entries[i]
            if lines:
                ctx.line([x, x + s * 1.5], [cy, cy], colour, 2.0)
                tx = x + s * 1.5 + fs * 0.45
            else:
                ctx.rect(x, cy - s / 2, s, s, colour)
                tx = x + s + fs * 0.45
            ctx.text(tx, cy - ctx.cap() / 2, name)
            x = tx + ctx.tw(name) + gap
    return top - len(rows) * row_h


def _unit_label(ctx: _Ctx) -> str:
    label, unit = ctx.spec.y_label, ctx.data.unit.strip()
    if label and unit and unit not in label:
        return f"{label} ({unit})"
    return label or unit


def _header(ctx: _Ctx, entries: list[tuple[str, Colour]], lines: bool, badge: str | None) -> float:
    """Legend, then the unit label row (with an optional right-aligned badge)."""
    y = ctx.H
    if entries and ctx.spec.legend:
        y = _legend(ctx, entries, y, lines)
    label = _unit_label(ctx)
    if label or badge:
        row_h = max(ctx.small * 1.5, ctx.fs * 1.75 + 3 if badge else 0)
        cy = y - row_h / 2
        if label:
            ctx.text(0, cy - ctx.cap(ctx.small) / 2, label, size=ctx.small,
                     color=ctx.style.muted)
        if badge:
            _badge(ctx, ctx.W, cy, badge, ha="right")
        y -= row_h
    return y - ctx.fs * 0.6


def _limits(lo_data: float, hi_data: float, size: float, head_lo: float,
            head_hi: float) -> tuple[float, float]:
    """Data limits leaving head_lo/head_hi points free below/above the data."""
    if hi_data <= lo_data:
        hi_data = lo_data + 1.0
    k = max(size - head_lo - head_hi, size * 0.3) / (hi_data - lo_data)
    lo = lo_data - head_lo / k
    return lo, lo + size / k


def _value_axis(ctx: _Ctx, lo_data: float, hi_data: float,
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
    return [float(t) for t in ticks], [_fmt(float(t), dec) for t in ticks]


def _draw_value_axis(ctx: _Ctx, ticks: list[float], labels: list[str]) -> list[float]:
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


def _gridlines(ctx: _Ctx, ys: list[float]) -> None:
    """Light horizontal gridlines across the plot, broken around value labels."""
    x_lo, x_hi = ctx.frame[0], ctx.frame[0] + ctx.frame[2]
    for y in ys:
        cuts = sorted((b[0] - 2, b[2] + 2) for b in ctx.boxes if b[1] - 1 <= y <= b[3] + 1)
        x = x_lo
        for a, b in [*cuts, (x_hi, x_hi)]:
            if min(a, x_hi) > x:
                ctx.line([x, min(a, x_hi)], [y, y], ctx.style.grid, 0.5, zorder=0)
            x = max(x, b)


_NUMERIC = re.compile(r"^\d[\d./\u2013-]*[A-Za-z]?$")  # 2024, 2025E, 2024/25, FY2024 no


@dataclass(frozen=True)
class _CatPlan:
    """How category labels fit under the plot."""

    lines: list[list[str]]
    size: float
    every: int  # show every n-th label (counted back from the last); numeric labels only
    rotate: bool
    depth: float  # points needed below the plot


def _plan_categories(ctx: _Ctx, slot: float) -> _CatPlan:
    cats, fs = ctx.data.categories, ctx.fs
    if all(_NUMERIC.match(c) for c in cats):
        widest = max(ctx.tw(c) for c in cats)
        every = 1
        while widest > every * slot - fs and every < len(cats):
            every += 1
        return _CatPlan([[c] for c in cats], fs, every, False, fs * 0.5 + fs * LINE)
    for size in dict.fromkeys((fs, max(7.0, fs - 1))):
        lines = [_wrap(ctx, c, slot - size * 0.5, size) for c in cats]
        widest = max(ctx.tw(line, size) for ls in lines for line in ls)
        rows = max(len(ls) for ls in lines)
        if widest <= slot - size * 0.25 and rows <= 3:
            return _CatPlan(lines, size, 1, False, size * 0.5 + rows * size * LINE)
    size = max(7.0, fs - 1)
    widest = max(ctx.tw(c, size) for c in cats)
    return _CatPlan([[c] for c in cats], size, 1, True,
                    size * 0.5 + (widest + ctx.cap(size)) * 0.7072)


def _category_labels(ctx: _Ctx, xs: Sequence[float] | np.ndarray, plan: _CatPlan) -> float:
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


def _forecast_bracket(ctx: _Ctx, first: float, last: float, y: float,
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


def _bracket_depth(ctx: _Ctx) -> float:
    return ctx.fs * 0.3 + ctx.fs * 0.35 + ctx.small * LINE


def _callout_span(categories: Sequence[str], callout: str) -> tuple[int, int]:
    """Categories a CAGR-style callout spans: the "2025–2032" years it names, else all."""
    found = re.search(r"(\d{4})\s*[-\u2013\u2014]\s*(\d{4})", callout)
    if found and found.group(1) in categories and found.group(2) in categories:
        a, b = categories.index(found.group(1)), categories.index(found.group(2))
        if a < b:
            return a, b
    return 0, len(categories) - 1


def _arrow_connector(ctx: _Ctx, x0: float, y0: float, x1: float, y1: float, level: float,
                     label: str) -> None:
    """McKinsey-style elbow connector from (x0, y0) over to (x1, y1) with a label box."""
    head = ctx.fs * 0.55
    colour = ctx.style.accent
    ctx.line([x0, x0, x1, x1], [y0, level, level, y1 + head], colour, 0.9,
             solid_joinstyle="miter")
    ctx.fig.add_artist(Polygon([(x1 - head * 0.5, y1 + head), (x1 + head * 0.5, y1 + head),
                                (x1, y1)], closed=True, transform=ctx.pt, facecolor=colour,
                               edgecolor="none", zorder=3))
    _badge(ctx, (x0 + x1) / 2, level, label)


# -- kinds -------------------------------------------------------------------------
def _bars(ctx: _Ctx, mode: str) -> None:
    data, spec, style, fs = ctx.data, ctx.spec, ctx.style, ctx.fs
    raw = _values(data)
    missing = ~np.isfinite(raw)
    vals = np.nan_to_num(raw)
    m, n = vals.shape
    if mode == "bar" and m > 1:
        mode = "grouped"
    stacked = mode == "stacked"
    pos = np.where(vals > 0, vals, 0).cumsum(0)
    neg = np.where(vals < 0, vals, 0).cumsum(0)
    tops = pos[-1] if stacked else np.max(np.maximum(vals, 0), axis=0)
    lows = neg[-1] if stacked else np.min(np.minimum(vals, 0), axis=0)
    labelled = np.concatenate([vals.ravel(), tops + lows if stacked else []])
    dec = _decimals(labelled, ctx.pct)
    suffix = "%" if ctx.pct else ""
    entries = [(s.name, ctx.colour(i)) for i, s in enumerate(data.series)] if m > 1 else []
    top = _header(ctx, entries, False, None)
    fc = _forecast_index(ctx)

    # Two passes: the left margin depends on the value-axis labels, which depend on
    # the plot height, which depends on how category labels wrap in their slots.
    left = ctx.tw(_fmt(float(tops.max()) * 10, 0)) + fs * 0.75
    for _ in range(2):
        slot = (ctx.W - left - 2) / n
        cats = _plan_categories(ctx, slot)
        bottom = cats.depth + (_bracket_depth(ctx) if fc is not None else 0) + 1
        plot_h = top - bottom
        group = (min(0.62, 48 / slot) if mode != "grouped" else min(0.8, 36 * m / slot))
        bar_w = group / (m if mode == "grouped" else 1)
        label_w = max(ctx.tw(_fmt(v, dec, suffix), ctx.small) for v in np.ravel(labelled))
        vertical = spec.value_labels and label_w > bar_w * slot * (1.0 if mode == "grouped"
                                                                     else 1.45)
        label_h = 0.0
        if spec.value_labels:
            label_h = (label_w if vertical else ctx.cap(ctx.small)) + fs * 0.35
        head_hi = label_h + (fs * 1.25 + fs * 1.75 + 1 if spec.callout else fs * 0.2)
        head_lo = label_h if lows.min() < 0 else 0.0
        ylim = _limits(float(lows.min()), float(tops.max()), plot_h, head_lo, head_hi)
        ticks, tick_labels = _value_axis(ctx, float(lows.min()), float(tops.max()),
                                         tight=spec.value_labels or bool(spec.callout))
        shown = [s for t, s in zip(ticks, tick_labels, strict=True)
                 if ylim[0] <= t <= ylim[1]]
        left = max(ctx.tw(s) for s in shown) + fs * 0.75
    ax = ctx.axes(left, bottom, 2, top, (-0.5, n - 0.5), ylim)
    grid = _draw_value_axis(ctx, ticks, tick_labels)
    ax.axhline(0, color=style.muted, linewidth=0.8, zorder=2, clip_on=False)

    x = np.arange(n, dtype=float)
    for i in range(m):
        # One series: forecast bars in a lighter tint. Several series: the series colours
        # stay as in the legend and the bracket alone marks the forecast.
        colours = [ctx.colour(i) if fc is None or j < fc or m > 1 else _tint(ctx.colour(i))
                   for j in range(n)]
        if stacked:
            base = np.where(vals[i] >= 0, pos[i] - vals[i], neg[i] - vals[i])
            xs = x
        else:
            base = np.zeros(n)
            xs = x + ((i - (m - 1) / 2) * bar_w if mode == "grouped" else 0)
        width = bar_w * (0.88 if mode == "grouped" and m > 1 else 1)
        keep = np.flatnonzero(~missing[i])
        _bars_at(ax, xs[keep] - width / 2, base[keep], width, vals[i, keep],
                 [colours[j] for j in keep])
        if not spec.value_labels:
            continue
        for j in np.flatnonzero(~missing[i]):
            v = float(vals[i, j])
            s = _fmt(v, dec, suffix)
            if stacked:
                seg_h = abs(ctx.ypt(v) - ctx.ypt(0))
                if m > 1 and seg_h >= ctx.cap(ctx.small) + 5 and \
                        ctx.tw(s, ctx.small) <= bar_w * slot - 3:
                    mid = ctx.ypt(base[j] + v / 2)
                    ctx.text(ctx.xpt(xs[j]), mid - ctx.cap(ctx.small) / 2, s,
                             size=ctx.small, color=_on(colours[j], style), ha="center")
                continue
            _bar_label(ctx, xs[j], v, s, vertical)
    if stacked and spec.value_labels:
        for j in np.flatnonzero(~missing.all(axis=0)):
            total = float(tops[j] + lows[j])
            _bar_label(ctx, x[j], float(tops[j]), _fmt(total, dec, suffix), vertical,
                       key="semibold" if m > 1 else "regular")

    tips = [ctx.ypt(float(t)) + label_h for t in tops]
    if spec.callout and n > 1:
        a, b = _callout_span(data.categories, spec.callout)
        level = max(tips) + fs * 1.25 + fs * 0.875 - fs * 0.2
        _arrow_connector(ctx, ctx.xpt(a), tips[a] + fs * 0.7, ctx.xpt(b),
                         tips[b] + fs * 0.7, level, spec.callout)
    depth = _category_labels(ctx, x, cats)
    if fc is not None:
        _forecast_bracket(ctx, fc - 0.42, n - 1 + 0.42, bottom - depth - fs * 0.3,
                          (-0.42, fc - 1 + 0.42) if fc > 0 else None)
    _gridlines(ctx, grid)


def _bars_at(ax: Axes, x: np.ndarray, y: np.ndarray, w: np.ndarray | float,
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


def _bar_label(ctx: _Ctx, x: float, v: float, s: str, vertical: bool,
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


def _line(ctx: _Ctx) -> None:
    data, spec, style, fs = ctx.data, ctx.spec, ctx.style, ctx.fs
    vals = _values(data)
    m, n = vals.shape
    dec = _decimals(vals, ctx.pct)
    suffix = "%" if ctx.pct else ""
    entries = [(s.name, ctx.colour(i)) for i, s in enumerate(data.series)] if m > 1 else []
    top = _header(ctx, entries, True, spec.callout)
    fc = _forecast_index(ctx)
    finite = np.isfinite(vals)
    # index of each series' last finite point (-1: nothing to draw)
    end_at = [int(np.flatnonzero(row)[-1]) if row.any() else -1 for row in finite]
    ends = [_fmt(float(vals[i, j]), dec, suffix) if j >= 0 else "" for i, j in enumerate(end_at)]
    right = (max(ctx.tw(s, ctx.small) for s in ends) + fs * 0.9 if spec.value_labels
             else ctx.tw(data.categories[-1]) / 2)
    lo_data = min(0.0, float(vals[finite].min())) if finite.any() else 0.0
    hi_data = float(vals[finite].max()) if finite.any() else 1.0
    ticks, tick_labels = _value_axis(ctx, lo_data, hi_data)
    left = max(ctx.tw(s) for s in tick_labels) + fs * 0.75
    slot = (ctx.W - left - right) / max(n - 0.4, 1)
    cats = _plan_categories(ctx, slot)
    bottom = cats.depth + (_bracket_depth(ctx) if fc is not None else 0) + 1
    ylim = _limits(lo_data, hi_data, top - bottom, 0.0, fs * 0.6)
    ax = ctx.axes(left, bottom, right, top, (-0.3, n - 0.7), ylim)
    grid = _draw_value_axis(ctx, ticks, tick_labels)
    ax.axhline(ylim[0] if lo_data >= 0 else 0, color=style.muted, linewidth=0.8, zorder=2,
               clip_on=False)
    x = np.arange(n, dtype=float)
    if fc is not None:
        # The forecast years sit on a faint band, under the gridlines (with the bracket
        # below): the lines stay solid, as their legend keys are, however few actual years.
        x0, (left_edge, bottom_edge, width, height) = ctx.xpt(fc - 0.5), ctx.frame
        ctx.rect(x0, bottom_edge, left_edge + width - x0, height, _tint(style.grid, 0.6), zorder=-1)
    for i in range(m):
        if end_at[i] < 0:
            continue
        colour = ctx.colour(i)
        ax.plot(x, vals[i], color=colour, linewidth=1.8, zorder=3, clip_on=False)
        row = finite[i]
        lonely = [j for j in range(n) if row[j] and not (j > 0 and row[j - 1])
                  and not (j < n - 1 and row[j + 1])]  # points a line cannot show
        for j in sorted({*lonely, end_at[i]}):
            ax.plot([x[j]], [vals[i, j]], marker="o", markersize=4.2, color=colour,
                    markeredgecolor="#ffffff", markeredgewidth=0.8, zorder=4, clip_on=False)
    if spec.value_labels:
        for j in sorted(set(end_at) - {-1}):
            group = [i for i in range(m) if end_at[i] == j]
            ys = _spread([ctx.ypt(float(vals[i, j])) for i in group], ctx.small * 1.15)
            for i, y in zip(group, ys, strict=True):
                ctx.text(ctx.xpt(j) + fs * 0.6, y - ctx.cap(ctx.small) / 2, ends[i],
                         size=ctx.small, key="semibold", color=_ink(ctx.colour(i), style),
                         avoid=True)
    depth = _category_labels(ctx, x, cats)
    if fc is not None:
        _forecast_bracket(ctx, fc - 0.25, n - 1 + 0.1, bottom - depth - fs * 0.3,
                          (-0.1, fc - 1 + 0.25) if fc > 0 else None)
    _gridlines(ctx, grid)


def _spread(ys: list[float], gap: float) -> list[float]:
    """Nudge label positions apart so that no two are closer than *gap*."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    out = list(ys)
    for a, b in itertools.pairwise(order):
        out[b] = max(out[b], out[a] + gap)
    shift = (sum(out) - sum(ys)) / max(len(ys), 1)
    return [y - shift for y in out]


def _hbar(ctx: _Ctx) -> None:
    data, spec, style, fs = ctx.data, ctx.spec, ctx.style, ctx.fs
    raw = _values(data)
    present = np.isfinite(raw)
    vals = np.nan_to_num(raw)
    m, n = vals.shape
    dec = _decimals(vals, ctx.pct)
    suffix = "%" if ctx.pct else ""
    entries = [(s.name, ctx.colour(i)) for i, s in enumerate(data.series)] if m > 1 else []
    top = _header(ctx, entries, False, spec.callout)
    wrap_w = ctx.W * 0.34
    names = [_wrap(ctx, c, wrap_w, fs) for c in data.categories]
    left = max(ctx.tw(line) for lines in names for line in lines) + fs * 1.25
    labels = [[_fmt(float(v), dec, suffix) for v in row] for row in vals]
    right = (max(ctx.tw(s, ctx.small) for row in labels for s in row) + fs * 0.9
             if spec.value_labels else fs)
    axis = not spec.value_labels
    bottom = fs * LINE + fs * 0.5 if axis else 1.0
    lo_data, hi_data = min(0.0, float(vals.min())), max(float(vals.max()), 0.0)
    ax = ctx.axes(left, bottom, right, top, (lo_data, hi_data or 1.0), (n - 0.5, -0.5))
    row_h = ctx.frame[3] / n
    group = min(0.64 if m == 1 else 0.78, 22 * m / row_h)
    bar_h = group / m
    if axis:
        ticks, tick_labels = _value_axis(ctx, lo_data, hi_data)
        for t, s in zip(ticks, tick_labels, strict=True):
            if lo_data <= t <= (hi_data or 1.0):
                ax.axvline(t, color=style.grid, linewidth=0.5, zorder=0, clip_on=False)
                ctx.text(ctx.xpt(t), bottom - fs * 0.5 - ctx.cap(), s, color=style.muted,
                         ha="center")
    y = np.arange(n, dtype=float)
    for i in range(m):
        ys = y + (i - (m - 1) / 2) * bar_h
        thick = bar_h * (0.85 if m > 1 else 1)
        keep = np.flatnonzero(present[i])
        _bars_at(ax, np.zeros(len(keep)), ys[keep] - thick / 2, vals[i, keep], thick,
                 [ctx.colour(i)] * len(keep))
        if spec.value_labels:
            for j in np.flatnonzero(present[i]):
                v = float(vals[i, j])
                x = ctx.xpt(v) + (fs * 0.4 if v >= 0 else -fs * 0.4)
                ctx.text(x, ctx.ypt(ys[j]) - ctx.cap(ctx.small) / 2, labels[i][j],
                         size=ctx.small, ha="left" if v >= 0 else "right")
    ax.axvline(0, color=style.muted, linewidth=0.8, zorder=2, clip_on=False)
    for row, lines in enumerate(names):
        first = ctx.ypt(float(row)) - ctx.cap() / 2 + (len(lines) - 1) * fs * LINE / 2
        for k, line in enumerate(lines):
            ctx.text(0, first - k * fs * LINE, line)


def _ring(ctx: _Ctx, x0: float, cy: float, d: float, raw: np.ndarray) -> None:
    """One donut of diameter *d* whose left edge is at *x0*, centred vertically on *cy*."""
    spec, style, fs = ctx.spec, ctx.style, ctx.fs
    values = np.clip(np.nan_to_num(raw), 0, None)
    total = float(values.sum()) or 1.0
    shares = values / total * 100
    ax = ctx.axes(x0, cy - d / 2, ctx.W - x0 - d, cy + d / 2, (-1.0, 1.0), (-1.0, 1.0))
    ring, angle = RING, 90.0
    for i, share in enumerate(shares):
        sweep = share * 3.6
        ax.add_artist(Wedge((0, 0), 0.985, angle - sweep, angle, width=ring,
                           facecolor=ctx.colour(i), edgecolor="#ffffff", linewidth=1.0,
                           clip_on=False))
        label = _fmt(share, 1 if ctx.pct else 0, "%")
        r = 0.985 - ring / 2
        width = ctx.tw(label, ctx.small, "semibold")
        # only where the label fits inside its slice: across the ring and along the arc
        if spec.value_labels and width <= ring * d / 2 * 0.95 and \
                np.deg2rad(sweep) * r * d / 2 >= width + fs:
            mid = np.deg2rad(angle - sweep / 2)
            ctx.text(ctx.xpt(r * np.cos(mid)), ctx.ypt(r * np.sin(mid)) -
                     ctx.cap(ctx.small, "semibold") / 2, label, size=ctx.small,
                     key="semibold", color=_on(ctx.colour(i), style), ha="center")
        angle -= sweep


def _donut(ctx: _Ctx) -> None:
    """One donut per series (e.g. one per year), side by side, with one legend table."""
    spec, fs = ctx.spec, ctx.fs
    raws = _values(ctx.data)
    n = len(raws)
    cy = ctx.H / 2
    if n == 1:
        d = min(ctx.H - 4, ctx.W * 0.48)
        _ring(ctx, 0, cy, d, raws[0])
        if spec.callout:
            _centre_text(ctx, d / 2, cy, d * (1 - RING) * 0.82, spec.callout)
        if spec.legend:
            _donut_table(ctx, d + fs * 2.5, cy, raws[0])
        return
    gap = fs * 2.0
    d = min(ctx.H - 4, (ctx.W * 0.58 - gap * (n - 1)) / n)
    for k, raw in enumerate(raws):
        x0 = k * (d + gap)
        _ring(ctx, x0, cy, d, raw)
        _centre_text(ctx, x0 + d / 2, cy, d * (1 - RING) * 0.82, f": {ctx.data.series[k].name}")
    if spec.legend:
        _donut_table(ctx, n * d + (n - 1) * gap + fs * 2.5, cy, raws[0], raws)


def _centre_text(ctx: _Ctx, cx: float, cy: float, width: float, s: str) -> None:
    head, _, value = s.rpartition(":")
    value = value.strip()
    big = ctx.fs * 2.0
    while big > ctx.fs and ctx.tw(value, big, "semibold") > width:
        big -= 0.5
    lines = _wrap(ctx, head.strip(), width, ctx.small) if head else []
    block = ctx.cap(big, "semibold") + len(lines) * ctx.small * LINE + ctx.fs * 0.5
    y = cy + block / 2 - ctx.cap(big, "semibold")
    ctx.text(cx, y, value, size=big, key="semibold", ha="center")
    for k, line in enumerate(lines):
        ctx.text(cx, y - ctx.fs * 0.7 - ctx.cap(ctx.small) - k * ctx.small * LINE, line,
                 size=ctx.small, color=ctx.style.muted, ha="center")


def _donut_table(ctx: _Ctx, x0: float, cy: float, values: np.ndarray,
                 columns: Sequence[np.ndarray] | np.ndarray | None = None) -> None:
    """Legend as a small table: swatch, segment name, one right-aligned value per series."""
    fs, style = ctx.fs, ctx.style
    cols = list(columns) if columns is not None else [values]
    dec = _decimals(np.concatenate([np.asarray(c, dtype=float) for c in cols]), ctx.pct)
    texts = [[_fmt(float(v), dec, "%" if ctx.pct else "") if np.isfinite(v) else "\u2013" for v in c]
             for c in cols]
    heads = [s.name for s in ctx.data.series] if len(cols) > 1 else []
    col_w = [max([ctx.tw(v, key="semibold") for v in t] + [ctx.tw(h, ctx.small, "semibold")
                                                           for h in heads[i:i + 1]])
             for i, t in enumerate(texts)]
    val_w = sum(col_w) + fs * 1.5 * (len(cols) - 1)
    name_w = ctx.W - x0 - val_w - fs * 3.5
    names = [_wrap(ctx, c, name_w, fs) for c in ctx.data.categories]
    used = max(ctx.tw(line) for lines in names for line in lines)
    x_end = min(ctx.W, x0 + fs * 1.4 + used + fs * 2 + val_w)
    rights: list[float] = []
    x = x_end
    for w in reversed(col_w):
        rights.insert(0, x)
        x -= w + fs * 1.5
    rows = [max(len(lines), 1) * fs * LINE + fs * 0.8 for lines in names]
    unit_head = not ctx.pct and ctx.data.unit
    header = fs * 1.6 if (unit_head or heads) else 0.0
    y = cy + (sum(rows) + header) / 2
    if heads:
        for right, head in zip(rights, heads, strict=True):
            ctx.text(right, y - ctx.cap(ctx.small) - fs * 0.2, head, size=ctx.small, key="semibold",
                     color=style.muted, ha="right")
    elif unit_head:
        ctx.text(x_end, y - ctx.cap(ctx.small) - fs * 0.2, ctx.data.unit, size=ctx.small,
                 color=style.muted, ha="right")
    y -= header
    for i, (lines, h) in enumerate(zip(names, rows, strict=True)):
        ctx.line([x0, x_end], [y, y], style.grid, 0.5)
        mid = y - h / 2
        ctx.rect(x0, mid - fs * 0.4, fs * 0.8, fs * 0.8, ctx.colour(i))
        first = mid - ctx.cap() / 2 + (len(lines) - 1) * fs * LINE / 2
        for k, line in enumerate(lines):
            ctx.text(x0 + fs * 1.4, first - k * fs * LINE, line)
        for right, t in zip(rights, texts, strict=True):
            ctx.text(right, mid - ctx.cap() / 2, t[i], key="semibold", ha="right")
        y -= h
    ctx.line([x0, x_end], [y, y], style.grid, 0.5)


KINDS: dict[str, Callable[[_Ctx], None]] = {
    "bar": lambda ctx: _bars(ctx, "bar"),
    "stacked_bar": lambda ctx: _bars(ctx, "stacked"),
    "grouped_bar": lambda ctx: _bars(ctx, "grouped"),
    "line": _line,
    "donut": _donut,
    "hbar": _hbar,
}


def build_figure(spec: ChartSpec, data: ChartData, style: ChartStyle) -> Figure:
    """Build the chart figure (call inside ``chart_rc(style)``)."""
    if spec.kind not in KINDS:
        raise ValueError(f"unknown chart kind {spec.kind!r}; expected one of {sorted(KINDS)}")
    if not data.categories or not data.series:
        raise ValueError("a chart needs at least one category and one series")
    for s in data.series:
        if len(s.values) != len(data.categories):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for "
                             f"{len(data.categories)} categories")
    fig = Figure(figsize=(spec.width / 72, spec.height / 72), dpi=72)
    fig.patch.set_visible(False)
    KINDS[spec.kind](_Ctx(spec, data, style, fig))
    return fig

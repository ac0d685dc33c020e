"""Turn the drawing context into chart furniture: badges, legend, axes, labels, brackets, callouts.

Everything is placed in figure points (see :mod:`pacspdf.charts.context`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.patches import FancyBboxPatch, Polygon
from matplotlib.ticker import MaxNLocator

from pacspdf.charts.context import LINE, Colour, Ctx, fmt, wrap_text


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

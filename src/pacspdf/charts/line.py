"""Line charts of one or more series -> matplotlib artists, end labels spread apart."""

from __future__ import annotations

import itertools

import numpy as np

from pacspdf.charts.context import Ctx, decimals_for, fmt, forecast_index, ink, tinted, value_matrix
from pacspdf.charts.furniture import (
    axis_limits,
    bracket_depth,
    category_labels,
    draw_gridlines,
    draw_header,
    draw_value_axis,
    forecast_bracket,
    plan_categories,
    value_axis,
)


def draw_line(ctx: Ctx) -> None:
    data, spec, style, fs = ctx.data, ctx.spec, ctx.style, ctx.fs
    vals = value_matrix(data)
    m, n = vals.shape
    dec = decimals_for(vals, ctx.pct)
    suffix = "%" if ctx.pct else ""
    entries = [(s.name, ctx.colour(i)) for i, s in enumerate(data.series)] if m > 1 else []
    top = draw_header(ctx, entries, True, spec.callout)
    fc = forecast_index(ctx)
    finite = np.isfinite(vals)
    # index of each series' last finite point (-1: nothing to draw)
    end_at = [int(np.flatnonzero(row)[-1]) if row.any() else -1 for row in finite]
    ends = [fmt(float(vals[i, j]), dec, suffix) if j >= 0 else "" for i, j in enumerate(end_at)]
    right = (max(ctx.tw(s, ctx.small) for s in ends) + fs * 0.9 if spec.value_labels
             else ctx.tw(data.categories[-1]) / 2)
    lo_data = min(0.0, float(vals[finite].min())) if finite.any() else 0.0
    hi_data = float(vals[finite].max()) if finite.any() else 1.0
    ticks, tick_labels = value_axis(ctx, lo_data, hi_data)
    left = max(ctx.tw(s) for s in tick_labels) + fs * 0.75
    slot = (ctx.W - left - right) / max(n - 0.4, 1)
    cats = plan_categories(ctx, slot)
    bottom = cats.depth + (bracket_depth(ctx) if fc is not None else 0) + 1
    ctx.keep_plot(top - bottom)
    if spec.value_labels and m > 1:  # end labels stacked one above the other need that much room
        ctx.grow_to(ctx.H + m * ctx.small * 1.15 - (top - bottom) + ctx.small)
    ylim = axis_limits(lo_data, hi_data, top - bottom, 0.0, fs * 0.6)
    ax = ctx.axes(left, bottom, right, top, (-0.3, n - 0.7), ylim)
    grid = draw_value_axis(ctx, ticks, tick_labels)
    ax.axhline(ylim[0] if lo_data >= 0 else 0, color=style.muted, linewidth=0.8, zorder=2,
               clip_on=False)
    x = np.arange(n, dtype=float)
    if fc is not None:
        # The forecast years sit on a faint band, under the gridlines (with the bracket
        # below): the lines stay solid, as their legend keys are, however few actual years.
        x0, (left_edge, bottom_edge, width, height) = ctx.xpt(fc - 0.5), ctx.frame
        ctx.rect(x0, bottom_edge, left_edge + width - x0, height, tinted(style.grid, 0.6), zorder=-1)
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
            ys = _spread([ctx.ypt(float(vals[i, j])) for i in group], ctx.small * 1.15,
                         ctx.frame[1] + ctx.cap(ctx.small) / 2,
                         ctx.frame[1] + ctx.frame[3] + ctx.small)
            for i, y in zip(group, ys, strict=True):
                ctx.text(ctx.xpt(j) + fs * 0.6, y - ctx.cap(ctx.small) / 2, ends[i],
                         size=ctx.small, key="semibold", color=ink(ctx.colour(i), style),
                         avoid=True)
    depth = category_labels(ctx, x, cats)
    if fc is not None:
        forecast_bracket(ctx, fc - 0.25, n - 1 + 0.1, bottom - depth - fs * 0.3,
                         (-0.1, fc - 1 + 0.25) if fc > 0 else None)
    draw_gridlines(ctx, grid)


def _spread(ys: list[float], gap: float, lo: float = -1e9, hi: float = 1e9) -> list[float]:
    """Nudge label positions apart so that no two are closer than *gap*, keeping them
    between *lo* and *hi* (the plot's bottom and a little above its top) where they fit."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    out = list(ys)
    for a, b in itertools.pairwise(order):
        out[b] = max(out[b], out[a] + gap)
    shift = (sum(out) - sum(ys)) / max(len(ys), 1)
    out = [y - shift for y in out]
    low, high = min(out), max(out)
    if low < lo:
        out = [y + min(lo - low, max(hi - high, 0.0)) for y in out]
    elif high > hi:
        out = [y - min(high - hi, max(low - lo, 0.0)) for y in out]
    return out

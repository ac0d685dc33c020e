"""Horizontal bar charts of ranked categories (or of long category labels) -> artists in figure points."""

from __future__ import annotations

import numpy as np

from pacspdf.charts.context import LINE, Ctx, decimals_for, fmt, value_matrix, wrap_text
from pacspdf.charts.furniture import bars_at, draw_header, value_axis


def draw_hbar(ctx: Ctx) -> None:
    data, spec, style, fs = ctx.data, ctx.spec, ctx.style, ctx.fs
    raw = value_matrix(data)
    present = np.isfinite(raw)
    vals = np.nan_to_num(raw)
    m, n = vals.shape
    dec = decimals_for(vals, ctx.pct)
    suffix = "%" if ctx.pct else ""
    entries = [(s.name, ctx.colour(i)) for i, s in enumerate(data.series)] if m > 1 else []
    top = draw_header(ctx, entries, False, spec.callout)
    wrap_w = ctx.W * 0.34
    names = [wrap_text(ctx, c, wrap_w, fs) for c in data.categories]
    left = max(ctx.tw(line) for lines in names for line in lines) + fs * 1.25
    labels = [[fmt(float(v), dec, suffix) for v in row] for row in vals]
    right = (max(ctx.tw(s, ctx.small) for row in labels for s in row) + fs * 0.9
             if spec.value_labels else fs)
    axis = not spec.value_labels
    bottom = fs * LINE + fs * 0.5 if axis else 1.0
    lo_data, hi_data = min(0.0, float(vals.min())), max(float(vals.max()), 0.0)
    # Each row holds its wrapped name and m value labels: grow the chart when rows are too thin.
    row_need = max(max(len(lines) for lines in names) * fs * LINE + fs * 0.6,
                   m * ctx.small * 1.25 / 0.78 + 2)
    ctx.grow_to((ctx.H - top) + bottom + n * row_need)
    ax = ctx.axes(left, bottom, right, top, (lo_data, hi_data or 1.0), (n - 0.5, -0.5))
    row_h = ctx.frame[3] / n
    group = min(0.64 if m == 1 else 0.78, 22 * m / row_h)
    bar_h = group / m
    if axis:
        ticks, tick_labels = value_axis(ctx, lo_data, hi_data)
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
        bars_at(ax, np.zeros(len(keep)), ys[keep] - thick / 2, vals[i, keep], thick,
                [style.muted if data.categories[j] == spec.rest else ctx.colour(i) for j in keep])
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

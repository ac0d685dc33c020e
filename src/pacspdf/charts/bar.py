"""Vertical bar charts (single, stacked, grouped) -> matplotlib artists placed in figure points."""

from __future__ import annotations

import numpy as np

from pacspdf.charts.context import Ctx, decimals_for, fmt, forecast_index, text_on, tinted, value_matrix
from pacspdf.charts.furniture import (
    arrow_connector,
    axis_limits,
    bar_label,
    bars_at,
    bracket_depth,
    callout_span,
    category_labels,
    draw_gridlines,
    draw_header,
    draw_value_axis,
    forecast_bracket,
    plan_categories,
    value_axis,
)
from pacspdf.charts.hbar import draw_hbar


def _labels_need_rotation(ctx: Ctx, top: float, n: int) -> bool:
    """Whether the category labels would have to be set at 45 degrees under vertical bars."""
    left = ctx.tw(fmt(top * 10, 0)) + ctx.fs * 0.75
    return plan_categories(ctx, (ctx.W - left - 2) / n).rotate


def draw_bars(ctx: Ctx, mode: str) -> None:
    data, spec, style, fs = ctx.data, ctx.spec, ctx.style, ctx.fs
    raw = value_matrix(data)
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
    if not stacked and _labels_need_rotation(ctx, float(tops.max()), n):
        draw_hbar(ctx)  # long category labels read better as rows than at 45 degrees
        return
    dec = decimals_for(labelled, ctx.pct)
    suffix = "%" if ctx.pct else ""
    entries = [(s.name, ctx.colour(i)) for i, s in enumerate(data.series)] if m > 1 else []
    top = draw_header(ctx, entries, False, None)
    fc = forecast_index(ctx)

    # Two passes: the left margin depends on the value-axis labels, which depend on
    # the plot height, which depends on how category labels wrap in their slots.
    left = ctx.tw(fmt(float(tops.max()) * 10, 0)) + fs * 0.75
    for _ in range(2):
        slot = (ctx.W - left - 2) / n
        cats = plan_categories(ctx, slot)
        bottom = cats.depth + (bracket_depth(ctx) if fc is not None else 0) + 1
        plot_h = top - bottom
        ctx.keep_plot(plot_h)
        group = (min(0.62, 48 / slot) if mode != "grouped" else min(0.8, 36 * m / slot))
        bar_w = group / (m if mode == "grouped" else 1)
        label_w = max(ctx.tw(fmt(v, dec, suffix), ctx.small) for v in np.ravel(labelled))
        vertical = spec.value_labels and label_w > bar_w * slot * (1.0 if mode == "grouped"
                                                                     else 1.45)
        label_h = 0.0
        if spec.value_labels:
            label_h = (label_w if vertical else ctx.cap(ctx.small)) + fs * 0.35
        head_hi = label_h + (fs * 1.25 + fs * 1.75 + 1 if spec.callout else fs * 0.2)
        head_lo = label_h if lows.min() < 0 else 0.0
        ylim = axis_limits(float(lows.min()), float(tops.max()), plot_h, head_lo, head_hi)
        ticks, tick_labels = value_axis(ctx, float(lows.min()), float(tops.max()),
                                         tight=spec.value_labels or bool(spec.callout))
        shown = [s for t, s in zip(ticks, tick_labels, strict=True)
                 if ylim[0] <= t <= ylim[1]]
        left = max(ctx.tw(s) for s in shown) + fs * 0.75
    ax = ctx.axes(left, bottom, 2, top, (-0.5, n - 0.5), ylim)
    grid = draw_value_axis(ctx, ticks, tick_labels)
    ax.axhline(0, color=style.muted, linewidth=0.8, zorder=2, clip_on=False)

    x = np.arange(n, dtype=float)
    for i in range(m):
        # One series: forecast bars in a lighter tint. Several series: the series colours
        # stay as in the legend and the bracket alone marks the forecast.
        colours = [ctx.colour(i) if fc is None or j < fc or m > 1 else tinted(ctx.colour(i))
                   for j in range(n)]
        if stacked:
            base = np.where(vals[i] >= 0, pos[i] - vals[i], neg[i] - vals[i])
            xs = x
        else:
            base = np.zeros(n)
            xs = x + ((i - (m - 1) / 2) * bar_w if mode == "grouped" else 0)
        width = bar_w * (0.88 if mode == "grouped" and m > 1 else 1)
        keep = np.flatnonzero(~missing[i])
        bars_at(ax, xs[keep] - width / 2, base[keep], width, vals[i, keep],
                 [colours[j] for j in keep])
        if not spec.value_labels:
            continue
        for j in np.flatnonzero(~missing[i]):
            v = float(vals[i, j])
            s = fmt(v, dec, suffix)
            if stacked:
                seg_h = abs(ctx.ypt(v) - ctx.ypt(0))
                if m > 1 and seg_h >= ctx.cap(ctx.small) + 5 and \
                        ctx.tw(s, ctx.small) <= bar_w * slot - 3:
                    mid = ctx.ypt(base[j] + v / 2)
                    ctx.text(ctx.xpt(xs[j]), mid - ctx.cap(ctx.small) / 2, s,
                             size=ctx.small, color=text_on(colours[j], style), ha="center")
                continue
            bar_label(ctx, xs[j], v, s, vertical)
    if stacked and spec.value_labels:
        for j in np.flatnonzero(~missing.all(axis=0)):
            total = float(tops[j] + lows[j])
            bar_label(ctx, x[j], float(tops[j]), fmt(total, dec, suffix), vertical,
                       key="semibold" if m > 1 else "regular")

    tips = [ctx.ypt(float(t)) + label_h for t in tops]
    if spec.callout and n > 1:
        a, b = callout_span(data.categories, spec.callout)
        level = max(tips) + fs * 1.25 + fs * 0.875 - fs * 0.2
        arrow_connector(ctx, ctx.xpt(a), tips[a] + fs * 0.7, ctx.xpt(b),
                         tips[b] + fs * 0.7, level, spec.callout)
    depth = category_labels(ctx, x, cats)
    if fc is not None:
        forecast_bracket(ctx, fc - 0.42, n - 1 + 0.42, bottom - depth - fs * 0.3,
                         (-0.42, fc - 1 + 0.42) if fc > 0 else None)
    draw_gridlines(ctx, grid)




"""Donut charts with a value table beside the ring -> matplotlib artists in figure points."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.patches import Wedge

from pacspdf.charts.context import LINE, RING, Ctx, decimals_for, fmt, text_on, value_matrix, wrap_text


def _ring(ctx: Ctx, x0: float, cy: float, d: float, raw: np.ndarray) -> None:
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
        label = fmt(share, 1 if ctx.pct else 0, "%")
        r = 0.985 - ring / 2
        width = ctx.tw(label, ctx.small, "semibold")
        # only where the label fits inside its slice: across the ring and along the arc
        if spec.value_labels and width <= ring * d / 2 * 0.95 and \
                np.deg2rad(sweep) * r * d / 2 >= width + fs:
            mid = np.deg2rad(angle - sweep / 2)
            ctx.text(ctx.xpt(r * np.cos(mid)), ctx.ypt(r * np.sin(mid)) -
                     ctx.cap(ctx.small, "semibold") / 2, label, size=ctx.small,
                     key="semibold", color=text_on(ctx.colour(i), style), ha="center")
        angle -= sweep


def draw_donut(ctx: Ctx) -> None:
    """One donut per series (e.g. one per year), side by side, with one legend table."""
    spec, fs = ctx.spec, ctx.fs
    raws = value_matrix(ctx.data)
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


def _centre_text(ctx: Ctx, cx: float, cy: float, width: float, s: str) -> None:
    head, _, value = s.rpartition(":")
    value = value.strip()
    big = ctx.fs * 2.0
    while big > ctx.fs and ctx.tw(value, big, "semibold") > width:
        big -= 0.5
    lines = wrap_text(ctx, head.strip(), width, ctx.small) if head else []
    block = ctx.cap(big, "semibold") + len(lines) * ctx.small * LINE + ctx.fs * 0.5
    y = cy + block / 2 - ctx.cap(big, "semibold")
    ctx.text(cx, y, value, size=big, key="semibold", ha="center")
    for k, line in enumerate(lines):
        ctx.text(cx, y - ctx.fs * 0.7 - ctx.cap(ctx.small) - k * ctx.small * LINE, line,
                 size=ctx.small, color=ctx.style.muted, ha="center")


def _donut_table(ctx: Ctx, x0: float, cy: float, values: np.ndarray,
                 columns: Sequence[np.ndarray] | np.ndarray | None = None) -> None:
    """Legend as a small table: swatch, segment name, one right-aligned value per series."""
    fs, style = ctx.fs, ctx.style
    cols = list(columns) if columns is not None else [values]
    dec = decimals_for(np.concatenate([np.asarray(c, dtype=float) for c in cols]), ctx.pct)
    texts = [[fmt(float(v), dec, "%" if ctx.pct else "") if np.isfinite(v) else "\u2013" for v in c]
             for c in cols]
    heads = [s.name for s in ctx.data.series] if len(cols) > 1 else []
    col_w = [max([ctx.tw(v, key="semibold") for v in t] + [ctx.tw(h, ctx.small, "semibold")
                                                           for h in heads[i:i + 1]])
             for i, t in enumerate(texts)]
    val_w = sum(col_w) + fs * 1.5 * (len(cols) - 1)
    name_w = ctx.W - x0 - val_w - fs * 3.5
    names = [wrap_text(ctx, c, name_w, fs) for c in ctx.data.categories]
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
    ctx.grow_to(sum(rows) + header + fs)  # a long legend makes the chart taller, not overflow
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

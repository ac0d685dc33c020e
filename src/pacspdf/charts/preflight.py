"""Turn a recorded chart drawing into findings: text outside the figure box, a plot squashed too small.

The page-level preflight (``document/preflight.py``) finds text printed over text; what it cannot
know is where a figure's own box ends, nor how much room the plot itself got. Both are in the
drawing: text ops with their position, size and angle, and the plot areas the chart kind laid
out. Nothing here imports matplotlib or ReportLab: text is measured with the callable given.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from pacspdf.charts.spec import VectorDrawing

#: A plot area smaller than this (points) cannot be read: bars become slivers, lines flat.
MIN_PLOT_HEIGHT = 60.0
MIN_PLOT_WIDTH = 90.0
#: Slack (points) before text counts as outside the figure.
SLACK = 0.75

Measure = Callable[[str, str, float], float]  # (text, font key, size) -> width in points


def _corners(x: float, y: float, width: float, size: float, angle: float) -> list[tuple[float, float]]:
    """Corners of the text's box (cap height over the baseline, descent under it), rotated."""
    up, down = 0.72 * size, 0.22 * size
    a = math.radians(angle)
    c, s = math.cos(a), math.sin(a)
    out = []
    for dx, dy in ((0, -down), (width, -down), (width, up), (0, up)):
        out.append((x + dx * c - dy * s, y + dx * s + dy * c))
    return out


def findings(drawing: VectorDrawing, measure: Measure) -> list[str]:
    """What is wrong with ``drawing``, in words naming the text or the plot."""
    out: list[str] = []
    w, h = drawing.width, drawing.height
    outside: list[tuple[str, str]] = []  # (text, side) of every text out of the figure
    for op in drawing.ops:
        if not op or op[0] != "t":
            continue
        _, x, y, text, key, size, _rgba, angle, _clip = op
        corners = _corners(float(x), float(y), measure(str(text), str(key), float(size)),
                           float(size), float(angle))
        xs, ys = [p[0] for p in corners], [p[1] for p in corners]
        if min(xs) < -SLACK or max(xs) > w + SLACK or min(ys) < -SLACK or max(ys) > h + SLACK:
            side = ("left" if min(xs) < -SLACK else "right" if max(xs) > w + SLACK
                    else "bottom" if min(ys) < -SLACK else "top")
            outside.append((str(text), side))
    if outside:
        first, side = outside[0]
        short = first if len(first) <= 40 else first[:39] + "\u2026"
        sides = " and ".join(dict.fromkeys(s for _, s in outside))
        out.append(f'text "{short}" runs out of the figure at the {side}' if len(outside) == 1
                   else f'{len(outside)} texts run out of the figure at the {sides}, the first '
                        f'"{short}"')
    for _x, _y, pw, ph in drawing.areas:
        if ph < MIN_PLOT_HEIGHT or pw < MIN_PLOT_WIDTH:
            out.append(f"the plot is squashed to {pw:.0f} x {ph:.0f} pt (at least "
                       f"{MIN_PLOT_WIDTH:.0f} x {MIN_PLOT_HEIGHT:.0f} pt is readable); "
                       "raise the chart's height or show fewer items")
    return out

"""Chart spec + data + style -> a matplotlib Figure of the right kind, under the brand rcParams."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from matplotlib import rc_context
from matplotlib import style as mpl_style
from matplotlib.figure import Figure

from pacspdf.charts.bar import draw_bars
from pacspdf.charts.context import Ctx
from pacspdf.charts.donut import draw_donut
from pacspdf.charts.hbar import draw_hbar
from pacspdf.charts.line import draw_line
from pacspdf.charts.spec import ChartData, ChartSpec, ChartStyle


@contextmanager
def chart_rc(style: ChartStyle) -> Iterator[None]:
    """Apply the chart rcParams (no global changes).

    Starts from matplotlib's defaults so that a style set globally by the host
    application cannot leak into charts (the cache key does not cover rcParams). Fonts are
    not registered by family name: every text is set from the brand's TTF by its path.
    """
    with mpl_style.context("default"), rc_context({
        "font.size": style.font_size, "text.usetex": False,
        "text.parse_math": False, "axes.unicode_minus": True, "path.simplify": False,
        "lines.solid_capstyle": "butt", "lines.dash_capstyle": "butt",
        "lines.solid_joinstyle": "round", "patch.linewidth": 0.0,
    }):
        yield



KINDS: dict[str, Callable[[Ctx], None]] = {
    "bar": lambda ctx: draw_bars(ctx, "bar"),
    "stacked_bar": lambda ctx: draw_bars(ctx, "stacked"),
    "grouped_bar": lambda ctx: draw_bars(ctx, "grouped"),
    "line": draw_line,
    "donut": draw_donut,
    "hbar": draw_hbar,
}


def build_figure(spec: ChartSpec, data: ChartData, style: ChartStyle) -> Figure:
    """Build the chart figure (call inside ``chart_rc(style)``)."""
    return layout_figure(spec, data, style)[0]


def layout_figure(spec: ChartSpec, data: ChartData, style: ChartStyle,
                  ) -> tuple[Figure, list[tuple[float, float, float, float]]]:
    """The figure and its plot areas; drawn again, taller, when its content asks for room.

    A legend of many rows, a donut's legend table or horizontal bars for many categories can
    need more height than the spec gives; the chart then grows (up to furniture.MAX_HEIGHT)
    instead of squashing its plot or running out of its box.
    """
    if spec.kind not in KINDS:
        raise ValueError(f"unknown chart kind {spec.kind!r}; expected one of {sorted(KINDS)}")
    if not data.categories or not data.series:
        raise ValueError("a chart needs at least one category and one series")
    for s in data.series:
        if len(s.values) != len(data.categories):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for "
                             f"{len(data.categories)} categories")
    for _ in range(3):
        fig = Figure(figsize=(spec.width / 72, spec.height / 72), dpi=72)
        fig.patch.set_visible(False)
        ctx = Ctx(spec, data, style, fig)
        KINDS[spec.kind](ctx)
        if not ctx.need:
            break
        spec = replace(spec, height=round(ctx.need, 1))
    return fig, ctx.areas

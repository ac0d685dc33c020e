"""Chart spec + data + style -> a matplotlib Figure of the right kind, under the brand rcParams."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from matplotlib import rc_context
from matplotlib import style as mpl_style
from matplotlib.figure import Figure

from pacspdf.charts.bar import draw_bars
from pacspdf.charts.donut import draw_donut
from pacspdf.charts.furniture import Ctx
from pacspdf.charts.hbar import draw_hbar
from pacspdf.charts.line import draw_line
from pacspdf.charts.recorder import (
    FAMILY,
    register_fonts,
)
from pacspdf.charts.spec import ChartData, ChartSpec, ChartStyle


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
    KINDS[spec.kind](Ctx(spec, data, style, fig))
    return fig

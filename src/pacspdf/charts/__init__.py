"""Turns chart specs and data into vector drawings that ReportLab replays as PDF paths and text.

Charts are drawn with matplotlib through a renderer that records drawing operations
(``_recorder``); the resulting :class:`VectorDrawing` is a plain, JSON-serialisable
op list that :class:`VectorFlowable` (``_replay``) paints onto a ReportLab canvas, with
text set in the same embedded TrueType fonts as the body copy.

Importing this package imports neither matplotlib nor ReportLab: matplotlib is only
loaded when a chart actually has to be rendered (a cache miss), ReportLab only when
``VectorFlowable`` is first accessed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pacspdf.charts.spec import (
    BACKEND_VERSION,
    KINDS,
    ChartData,
    ChartSpec,
    ChartStyle,
    Series,
    VectorDrawing,
    canonical_json,
)

if TYPE_CHECKING:
    from pacspdf.charts.replay import VectorFlowable

__all__ = [
    "BACKEND_VERSION",
    "KINDS",
    "ChartData",
    "ChartSpec",
    "ChartStyle",
    "Series",
    "VectorDrawing",
    "VectorFlowable",
    "cache_key",
    "cached_render",
    "render_chart",
]


def render_chart(spec: ChartSpec, data: ChartData, style: ChartStyle) -> VectorDrawing:
    """Draw the chart with matplotlib and return the recorded vector drawing."""
    from pacspdf.runtime import import_matplotlib

    import_matplotlib()
    from pacspdf.charts import figure as kinds
    from pacspdf.charts.recorder import RecordingCanvas

    with kinds.chart_rc(style):
        figure, areas = kinds.layout_figure(spec, data, style)
        ops = RecordingCanvas(figure, style.fonts).record()
    width, height = (round(float(v) * 72, 2) for v in figure.get_size_inches())
    return VectorDrawing(width, height, ops,
                         tuple((round(x, 2), round(y, 2), round(w, 2), round(h, 2))
                               for x, y, w, h in areas))


def cache_key(spec: ChartSpec, data: ChartData, style: ChartStyle) -> str:
    """The drawing's key: spec, data, style, the font files' bytes, the code and the library
    versions (matplotlib draws, the fonts measure; see :func:`pacspdf.write.cache_key`)."""
    from pacspdf.write import cache_key as key

    return key("chart", canonical_json(spec, data, style),
               files=[Path(style.fonts[k]) for k in sorted(style.fonts)])


#: Drawings already read from the cache in this process, by path, with the file's stamp.
_READ: dict[str, tuple[tuple[int, int], VectorDrawing]] = {}
_READ_MAX = 512


def cached_render(spec: ChartSpec, data: ChartData, style: ChartStyle,
                  cache_dir: Path | None) -> VectorDrawing:
    """Like :func:`render_chart`, but reuse a drawing stored in *cache_dir*.

    A hit only reads JSON (matplotlib is never imported), and in a process that already read
    that file unchanged (same size and modification time), not even that. Unreadable or
    stale entries are re-rendered; new entries are written atomically.
    """
    if cache_dir is None:
        return render_chart(spec, data, style)
    path = Path(cache_dir) / f"{cache_key(spec, data, style)}.json"
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        known = _READ.get(str(path))
        if known is not None and known[0] == stamp:
            return known[1]
        drawing = VectorDrawing.from_json(path.read_text(encoding="utf-8"))
        _remember(path, drawing, stamp)
        return drawing
    except (OSError, ValueError, KeyError, TypeError):
        pass
    drawing = render_chart(spec, data, style)
    from pacspdf.write import write_atomic

    write_atomic(path, drawing.to_json().encode("utf-8"))
    stat = path.stat()
    _remember(path, drawing, (stat.st_mtime_ns, stat.st_size))
    return drawing


def _remember(path: Path, drawing: VectorDrawing, stamp: tuple[int, int]) -> None:
    if len(_READ) >= _READ_MAX:
        _READ.clear()
    _READ[str(path)] = (stamp, drawing)


def __getattr__(name: str) -> Any:
    if name == "VectorFlowable":
        from pacspdf.charts.replay import VectorFlowable

        return VectorFlowable
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

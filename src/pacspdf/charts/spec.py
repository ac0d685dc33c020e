"""Plain, dependency-free chart inputs and the recorded vector drawing.

Nothing here imports matplotlib or ReportLab, so specs can be hashed and cached
drawings loaded without paying for either import.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

#: Bumped whenever the op format changes, so that stale cache entries are never replayed.
#: (Changes to the drawing code change cache keys by themselves: see _drawing_code.)
BACKEND_VERSION = "pacspdf-charts-5"

KINDS = ("bar", "stacked_bar", "grouped_bar", "line", "donut", "hbar")
FONT_KEYS = ("regular", "semibold", "bold", "light")


class MissingGlyph(ValueError):
    """A chart label has a character the brand's font file has no glyph for."""


@dataclass(frozen=True)
class ChartStyle:
    """Brand styling: fonts (logical key -> TTF path), colours and base text size."""

    fonts: dict[str, str]
    palette: tuple[str, ...]
    text: str
    muted: str
    grid: str
    accent: str
    font_size: float = 8.0


@dataclass(frozen=True)
class Series:
    """One named data series, aligned with ``ChartData.categories``."""

    name: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class ChartData:
    """Categories (x values or segment names), the series and their unit."""

    categories: tuple[str, ...]
    series: tuple[Series, ...]
    unit: str


@dataclass(frozen=True)
class ChartSpec:
    """What to draw and at which size (points)."""

    kind: str
    width: float
    height: float
    y_label: str | None = None
    callout: str | None = None
    forecast_from: str | None = None
    value_labels: bool = True
    legend: bool = True
    rest: str | None = None  # a category that is the rest of the whole ("Others"): drawn muted


# Op format (all tuples, so a drawing is immutable and JSON round-trips exactly):
#   ("p", segments, fill, stroke, clip)
#       segments: (("M", x, y), ("L", x, y), ("C", x1, y1, x2, y2, x3, y3), ("Z",), ...)
#       fill:     (r, g, b, a) | None
#       stroke:   (width, (r, g, b, a), cap, join, dash_phase, dash_array) | None
#                 cap/join use PDF codes (0 butt/miter, 1 round, 2 projecting/bevel)
#       clip:     (x, y, w, h) | None
#   ("t", x, y, text, font_key, size, (r, g, b, a), angle_degrees, clip)
# Coordinates are points, origin bottom-left, rounded to 2 decimals.


def _tuplify(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuplify(v) for v in value)
    return value


@dataclass(frozen=True)
class VectorDrawing:
    """A chart recorded as resolution-independent drawing operations."""

    width: float
    height: float
    ops: tuple[Any, ...]
    #: The plot areas (x, y, width, height in points) the chart laid out, for the preflight.
    areas: tuple[tuple[float, float, float, float], ...] = ()

    def to_json(self) -> str:
        payload = {"version": BACKEND_VERSION, "width": self.width, "height": self.height,
                   "ops": self.ops, "areas": self.areas}
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> VectorDrawing:
        payload = json.loads(text)
        if payload.get("version") != BACKEND_VERSION:
            raise ValueError(f"drawing was recorded by {payload.get('version')!r}, "
                             f"expected {BACKEND_VERSION!r}")
        return cls(float(payload["width"]), float(payload["height"]),
                   _tuplify(payload["ops"]), _tuplify(payload.get("areas", [])))


def canonical_json(spec: ChartSpec, data: ChartData, style: ChartStyle) -> str:
    """Stable JSON of everything that determines a drawing (the cache key source)."""
    payload = {"backend": BACKEND_VERSION, "spec": asdict(spec),
               "data": asdict(data), "style": asdict(style)}
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


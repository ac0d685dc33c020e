"""Turn a word in a TrueType font into filled vector outlines on a ReportLab canvas."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from reportlab.pdfgen.canvas import Canvas

Segment = tuple[Any, ...]  # ("M", x, y) | ("L", x, y) | ("C", x1, y1, x2, y2, x, y) | ("Z",)


@lru_cache(maxsize=16)
def word_outline(font_path: str, text: str) -> tuple[tuple[Segment, ...], float]:
    """The outline of ``text`` in font units (1000 per em), and its advance width."""
    from fontTools.pens.basePen import BasePen
    from fontTools.ttLib import TTFont

    font = TTFont(font_path, lazy=True)
    scale = 1000.0 / font["head"].unitsPerEm
    cmap = font.getBestCmap()
    glyphs = font.getGlyphSet()
    segments: list[Segment] = []
    x = 0.0

    class Pen(BasePen):  # type: ignore[misc]  # fontTools ships no type information
        def _moveTo(self, p: tuple[float, float]) -> None:
            segments.append(("M", x + p[0] * scale, p[1] * scale))

        def _lineTo(self, p: tuple[float, float]) -> None:
            segments.append(("L", x + p[0] * scale, p[1] * scale))

        def _curveToOne(self, p1: tuple[float, float], p2: tuple[float, float],
                        p3: tuple[float, float]) -> None:
            segments.append(("C", x + p1[0] * scale, p1[1] * scale, x + p2[0] * scale, p2[1] * scale,
                             x + p3[0] * scale, p3[1] * scale))

        def _closePath(self) -> None:
            segments.append(("Z",))

    pen = Pen(glyphs)
    for ch in text:
        name = cmap.get(ord(ch))
        if name is None:
            continue
        glyphs[name].draw(pen)
        x += glyphs[name].width * scale
    font.close()
    return tuple(segments), x


def draw_outlines(canv: Canvas, font_path: str, text: str, size: float, cx: float, y: float) -> None:
    """Fill ``text`` as outlines at ``size`` points, centred on ``cx``, baseline at ``y``."""
    segments, advance = word_outline(font_path, text)
    k = size / 1000.0
    x0 = cx - advance * k / 2
    path = canv.beginPath()
    for seg in segments:
        op = seg[0]
        pts = [v * k for v in seg[1:]]
        coords = [(x0 + pts[i]) if i % 2 == 0 else (y + pts[i]) for i in range(len(pts))]
        if op == "M":
            path.moveTo(*coords)
        elif op == "L":
            path.lineTo(*coords)
        elif op == "C":
            path.curveTo(*coords)
        else:
            path.close()
    canv.drawPath(path, stroke=0, fill=1, fillMode=1)

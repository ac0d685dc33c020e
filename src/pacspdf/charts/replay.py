"""Replay a recorded :class:`VectorDrawing` onto a ReportLab canvas as a Flowable."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reportlab.platypus import Flowable

from pacspdf.charts.spec import VectorDrawing
from pacspdf.reportlab_surface import FILL_NON_ZERO


class VectorFlowable(Flowable):
    """Paint a recorded chart as PDF paths and real (extractable) text.

    *fonts* maps the drawing's logical font keys ("regular", "semibold", "bold",
    "light") to names registered with ``pdfmetrics.registerFont``; missing keys
    fall back to "regular". The chart is scaled down proportionally when the
    available width is smaller than the drawing.
    """

    def __init__(self, drawing: VectorDrawing, fonts: Mapping[str, str], label: str = "",
                 findings: dict[str, tuple[int, list[str]]] | None = None) -> None:
        super().__init__()
        self.label = label  # "figure 4 (country-share)": how the preflight names the chart
        self.findings = findings  # label -> (page, what is wrong), filled as the chart is drawn
        if "regular" not in fonts:
            raise ValueError("fonts must map at least the 'regular' key")
        self.drawing = drawing
        self.fonts = dict(fonts)
        self.scale = 1.0
        self.width, self.height = drawing.width, drawing.height

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        d = self.drawing
        self.scale = min(1.0, availWidth / d.width) if d.width > 0 else 1.0
        self.width, self.height = d.width * self.scale, d.height * self.scale
        return self.width, self.height

    def draw(self) -> None:
        canv = self.canv
        canv.saveState()
        if self.scale != 1.0:
            canv.scale(self.scale, self.scale)
        _Painter(canv, self.fonts).run(self.drawing.ops)
        canv.restoreState()
        if self.findings is not None:
            from reportlab.pdfbase.pdfmetrics import stringWidth

            from pacspdf.charts.preflight import findings

            def measure(text: str, key: str, size: float) -> float:
                return float(stringWidth(text, self.fonts.get(key, self.fonts["regular"]), size))

            self.findings[self.label] = (canv.getPageNumber(), findings(self.drawing, measure))


class _Painter:
    """Stateful replay that only emits graphics-state changes when they change."""

    def __init__(self, canv: Any, fonts: Mapping[str, str]) -> None:
        self.canv = canv
        self.fonts = fonts
        self.clip: Any = None
        self.state: dict[str, Any] = {}

    def _set(self, name: str, value: Any, apply: Any) -> None:
        if self.state.get(name, ...) != value:
            self.state[name] = value
            apply(value)

    def _fill(self, rgba: Any) -> None:
        self._set("fill", rgba[:3], lambda c: self.canv.setFillColorRGB(*c))
        self._set("fill_alpha", rgba[3], self.canv.setFillAlpha)

    def _stroke(self, stroke: Any) -> None:
        width, rgba, cap, join, phase, dash = stroke
        canv = self.canv
        self._set("stroke", rgba[:3], lambda c: canv.setStrokeColorRGB(*c))
        self._set("stroke_alpha", rgba[3], canv.setStrokeAlpha)
        self._set("width", width, canv.setLineWidth)
        self._set("cap", cap, canv.setLineCap)
        self._set("join", join, canv.setLineJoin)
        self._set("dash", (phase, dash), lambda d: canv.setDash(list(d[1]), d[0]))

    def _clip_to(self, clip: Any) -> None:
        if clip == self.clip:
            return
        canv = self.canv
        if self.clip is not None:
            canv.restoreState()
            self.state = {}  # restoreState reverts colours, widths and dashes too
        if clip is not None:
            canv.saveState()
            p = canv.beginPath()
            p.rect(*clip)
            canv.clipPath(p, stroke=0, fill=0, fillMode=FILL_NON_ZERO)
        self.clip = clip

    def run(self, ops: Any) -> None:
        for op in ops:
            if op[0] == "p":
                self._path(*op[1:])
            elif op[0] == "t":
                self._text(*op[1:])
        self._clip_to(None)

    def _path(self, segs: Any, fill: Any, stroke: Any, clip: Any) -> None:
        self._clip_to(clip)
        p = self.canv.beginPath()
        for seg in segs:
            code = seg[0]
            if code == "M":
                p.moveTo(seg[1], seg[2])
            elif code == "L":
                p.lineTo(seg[1], seg[2])
            elif code == "C":
                p.curveTo(*seg[1:7])
            elif code == "Z":
                p.close()
        if fill is not None:
            self._fill(fill)
        if stroke is not None:
            self._stroke(stroke)
        self.canv.drawPath(p, stroke=int(stroke is not None), fill=int(fill is not None),
                           fillMode=FILL_NON_ZERO)

    def _text(self, x: float, y: float, s: str, key: str, size: float, rgba: Any,
              angle: float, clip: Any) -> None:
        self._clip_to(clip)
        canv = self.canv
        self._fill(rgba)
        font = self.fonts.get(key, self.fonts["regular"])
        canv.setFont(font, size)
        if angle:
            canv.saveState()
            canv.translate(x, y)
            canv.rotate(angle)
            canv.drawString(0, 0, s)
            canv.restoreState()
        else:
            canv.drawString(x, y, s)

"""A matplotlib renderer that records drawing operations instead of painting.

The figure is laid out at 72 dpi, so display units are PDF points. Every path and
every string is appended to a plain list of tuples (see ``spec.py`` for the op
format) that ``_replay.VectorFlowable`` paints onto a ReportLab canvas. Text is
measured with the very TTF files ReportLab embeds, using advance widths without
kerning, which is exactly how ReportLab sets a string, so alignment survives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, cast

from matplotlib import font_manager
from matplotlib.backend_bases import FigureCanvasBase, GraphicsContextBase, RendererBase
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import LoadFlags
from matplotlib.path import Path
from matplotlib.transforms import Affine2D, Transform

from pacspdf.charts.spec import MissingGlyph

_CAPS = {"butt": 0, "round": 1, "projecting": 2}
_JOINS = {"miter": 0, "round": 1, "bevel": 2}
_NO_HINTING = LoadFlags.NO_HINTING

Op = tuple[Any, ...]
RGBA = tuple[float, float, float, float]


def _r(value: float) -> float:
    """Round to 2 decimals, folding -0.0 into 0.0 so JSON stays canonical."""
    return round(float(value), 2) + 0.0


def _rgba(rgb: Any, alpha: float) -> RGBA:
    return (round(float(rgb[0]), 4), round(float(rgb[1]), 4), round(float(rgb[2]), 4),
            round(float(alpha), 4))


@lru_cache(maxsize=256)
def font_properties(path: str, size: float) -> FontProperties:
    """The brand TTF at ``path``, by its file: matplotlib never looks a family up by name, so it
    never falls back to another font and never prints findfont messages."""
    return FontProperties(fname=path, size=size)


class _Metrics:
    """Per-character advance and vertical ink extent (em) of one TTF, read lazily."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.font = font_manager.get_font(path)
        self.upem = float(self.font.units_per_EM)
        os2: Mapping[str, Any] = self.font.get_sfnt_table("OS/2") or {}
        self.cap_height = os2.get("sCapHeight", 0.7 * self.upem) / self.upem
        self.ascent = os2.get("sTypoAscender", 0.75 * self.upem) / self.upem
        self.descent = -os2.get("sTypoDescender", -0.25 * self.upem) / self.upem
        self.line_gap = os2.get("sTypoLineGap", 0) / self.upem
        self.chars: dict[str, tuple[float, float, float]] = {}

    def char(self, ch: str) -> tuple[float, float, float]:
        found = self.chars.get(ch)
        if found is None:
            font = self.font
            if not font.get_char_index(ord(ch)):
                raise MissingGlyph(f"'{ch}' (U+{ord(ch):04X}) is not in the font {self.path}")
            font.set_size(self.upem, 72)  # 1 pixel == 1 font unit; bbox is 26.6 fixed
            glyph = font.load_char(ord(ch), flags=_NO_HINTING)
            scale = 64 * self.upem
            found = (glyph.linearHoriAdvance / 65536 / self.upem, glyph.bbox[1] / scale,
                     glyph.bbox[3] / scale)
            self.chars[ch] = found
        return found

    def measure(self, text: str, size: float) -> tuple[float, float, float]:
        """Width (sum of advances, no kerning), ink height and descent in points."""
        width, low, high = 0.0, 0.0, 0.0
        for ch in text:
            adv, ymin, ymax = self.char(ch)
            width += adv
            low = min(low, ymin)
            high = max(high, ymax)
        return width * size, (high - low) * size, -low * size


@lru_cache(maxsize=16)
def _metrics(path: str) -> _Metrics:
    return _Metrics(path)


def text_width(text: str, font_path: str, size: float) -> float:
    """Width in points of *text* set in the TTF at *size*, as ReportLab sets it."""
    return _metrics(font_path).measure(text, size)[0]


def cap_height(font_path: str) -> float:
    """Cap height of the TTF in em."""
    return float(_metrics(font_path).cap_height)


class RecordingRenderer(RendererBase):
    """Collect matplotlib drawing calls as JSON-friendly tuples."""

    def __init__(self, width: float, height: float, fonts: Mapping[str, str]) -> None:
        super().__init__()
        self.width = width
        self.height = height
        self.ops: list[Op] = []
        self._font_keys = {path: key for key, path in fonts.items()}
        self._paths: dict[tuple[Any, ...], str] = {}

    # -- geometry ---------------------------------------------------------------
    def flipy(self) -> bool:
        return False

    def points_to_pixels(self, points: Any) -> Any:
        return points

    def get_canvas_width_height(self) -> tuple[float, float]:
        return self.width, self.height

    def new_gc(self) -> GraphicsContextBase:
        return GraphicsContextBase()

    def option_image_nocomposite(self) -> bool:
        return True

    # -- paths ------------------------------------------------------------------
    @staticmethod
    def _segments(path: Path, transform: Transform, clip: Any) -> tuple[Op, ...]:
        segs: list[Op] = []
        for verts, code in path.iter_segments(transform, clip=clip, simplify=False,
                                              curves=True):
            if code == Path.MOVETO:
                segs.append(("M", _r(verts[0]), _r(verts[1])))
            elif code == Path.LINETO:
                segs.append(("L", _r(verts[0]), _r(verts[1])))
            elif code == Path.CURVE4:
                segs.append(("C", *(_r(v) for v in verts[:6])))
            elif code == Path.CURVE3:
                # Elevate the quadratic to a cubic: c1 = p0 + 2/3 (q - p0), etc.
                x0, y0 = _last_point(segs)
                qx, qy, x3, y3 = verts[:4]
                segs.append(("C", _r(x0 + 2 / 3 * (qx - x0)), _r(y0 + 2 / 3 * (qy - y0)),
                             _r(x3 + 2 / 3 * (qx - x3)), _r(y3 + 2 / 3 * (qy - y3)),
                             _r(x3), _r(y3)))
            elif code == Path.CLOSEPOLY:
                segs.append(("Z",))
        return tuple(segs)

    @staticmethod
    def _clip(gc: GraphicsContextBase) -> tuple[float, float, float, float] | None:
        bbox = gc.get_clip_rectangle()
        if bbox is None:
            return None
        x0, y0, x1, y1 = bbox.extents
        return (_r(x0), _r(y0), _r(x1 - x0), _r(y1 - y0))

    def draw_path(self, gc: GraphicsContextBase, path: Path, transform: Transform,
                  rgbFace: Any = None) -> None:
        forced = gc.get_forced_alpha()
        fill = None
        if rgbFace is not None:
            alpha = gc.get_alpha() if forced or len(rgbFace) < 4 else rgbFace[3]
            if alpha > 0:
                fill = _rgba(rgbFace, alpha)
        stroke = None
        rgb = gc.get_rgb()
        linewidth = gc.get_linewidth()
        if rgb is not None and linewidth > 0:
            alpha = gc.get_alpha() if forced else (rgb[3] if len(rgb) > 3 else 1.0)
            if alpha > 0:
                offset, dashes = gc.get_dashes()
                # Stubs say ArrayLike; a GraphicsContext's dash list is a sequence of lengths.
                dash = tuple(_r(d) for d in cast("Iterable[float]", dashes)) if dashes is not None else ()
                stroke = (_r(linewidth), _rgba(rgb, alpha), _CAPS[gc.get_capstyle()],
                          _JOINS[gc.get_joinstyle()], _r(offset or 0.0), dash)
        if fill is None and stroke is None:
            return
        # Like the PDF backend: clip unfilled paths to the canvas so that huge
        # off-page coordinates never reach the output.
        canvas_clip = (0.0, 0.0, self.width, self.height) if fill is None else None
        segs = self._segments(path, transform, canvas_clip)
        if not segs:
            return
        self.ops.append(("p", segs, fill, stroke, self._clip(gc)))

    # -- text -------------------------------------------------------------------
    def _font_path(self, prop: FontProperties) -> str:
        path = prop.get_file()
        if path is None:  # every chart text is set by file (Ctx.text); nothing is looked up
            raise ValueError("chart text without a brand font file")
        return str(path)

    def _font_key(self, prop: FontProperties) -> str:
        path = self._font_path(prop)
        key = self._font_keys.get(path)
        if key is None:
            raise ValueError(f"{path} is not one of the brand's chart fonts")
        return key

    def get_text_width_height_descent(self, s: str, prop: FontProperties,
                                      ismath: Any) -> tuple[float, float, float]:
        if ismath:
            raise ValueError("mathtext is not supported by the recording renderer")
        return _metrics(self._font_path(prop)).measure(s, prop.get_size_in_points())

    def _get_font_height_metrics(self, prop: FontProperties) -> tuple[float, float, float]:
        """Ascent, descent and line gap for multi-line layout (matplotlib >= 3.11 hook)."""
        m = _metrics(self._font_path(prop))
        size = prop.get_size_in_points()
        return m.ascent * size, m.descent * size, m.line_gap * size

    def draw_text(self, gc: GraphicsContextBase, x: float, y: float, s: str,
                  prop: FontProperties, angle: float, ismath: Any = False,
                  mtext: Any = None) -> None:
        if ismath:
            raise ValueError("mathtext is not supported by the recording renderer")
        if not s.strip():
            return
        rgb = gc.get_rgb()
        alpha = gc.get_alpha() if gc.get_forced_alpha() else (rgb[3] if len(rgb) > 3 else 1)
        self.ops.append(("t", _r(x), _r(y), s, self._font_key(prop),
                         _r(prop.get_size_in_points()), _rgba(rgb, alpha),
                         _r(angle % 360), self._clip(gc)))


def _last_point(segs: list[Op]) -> tuple[float, float]:
    for seg in reversed(segs):
        if seg[0] in ("M", "L"):
            return seg[1], seg[2]
        if seg[0] == "C":
            return seg[5], seg[6]
    return 0.0, 0.0


class RecordingCanvas(FigureCanvasBase):
    """A canvas whose renderer is the recorder, so layout engines can measure text."""

    def __init__(self, figure: Figure, fonts: Mapping[str, str]) -> None:
        super().__init__(figure)
        width, height = figure.get_size_inches() * figure.dpi
        self._renderer = RecordingRenderer(float(width), float(height), fonts)

    def get_renderer(self) -> RecordingRenderer:
        return self._renderer

    def record(self) -> tuple[Op, ...]:
        """Draw the figure once and return the recorded operations."""
        renderer = self._renderer
        renderer.ops = []
        self.figure.draw(renderer)
        return tuple(renderer.ops)


def points_transform(figure: Figure) -> Transform:
    """Transform from figure points (origin bottom-left) to display units at any dpi."""
    return Affine2D().scale(1 / 72) + figure.dpi_scale_trans


__all__ = ["MissingGlyph", "RecordingCanvas", "RecordingRenderer", "cap_height", "font_properties",
           "points_transform", "text_width"]

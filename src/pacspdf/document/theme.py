"""Turn brand data into ReportLab fonts, colours, paragraph styles and page geometry."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from pacspdf.charts.spec import ChartStyle
from pacspdf.content.brand import resolve_asset
from pacspdf.content.model import Brand
from pacspdf.errors import ContentError

FONT_KEYS = ("regular", "semibold", "bold", "italic", "light")


@dataclass(frozen=True)
class Theme:
    brand: Brand
    page_size: tuple[float, float]
    margin_left: float
    margin_right: float
    margin_top: float
    margin_bottom: float
    fonts: dict[str, str]            # logical key -> registered ReportLab font name
    font_files: dict[str, Path]
    colour: dict[str, colors.Color]
    styles: dict[str, ParagraphStyle]
    chart: ChartStyle

    @property
    def frame_width(self) -> float:
        return self.page_size[0] - self.margin_left - self.margin_right

    @property
    def frame_height(self) -> float:
        return self.page_size[1] - self.margin_top - self.margin_bottom


def font_name(path: Path) -> str:
    """The ReportLab name of the TTF at ``path``: its stem and a digest of its bytes, so two
    brands whose files share a name (fonts/Regular.ttf) never get each other's font in one
    process."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return f"pp-{path.stem}-{digest}"


def register_fonts(brand: Brand, brand_dir: Path,
                   brand_file: str) -> tuple[dict[str, str], dict[str, Path]]:
    names: dict[str, str] = {}
    files: dict[str, Path] = {}
    for key in FONT_KEYS:
        spec = getattr(brand.fonts, key)
        path = resolve_asset(spec, brand_dir)
        name = font_name(path)
        if name not in pdfmetrics.getRegisteredFontNames():
            try:
                pdfmetrics.registerFont(TTFont(name, str(path)))
            except Exception as exc:  # ReportLab raises bare TTFError / IOError variants
                raise ContentError.one(brand_file, f"cannot load TrueType font {spec}: {exc}",
                                       field=f"fonts.{key}") from None
        names[key] = name
        files[key] = path
    pdfmetrics.registerFontFamily(names["regular"], normal=names["regular"], bold=names["bold"],
                                  italic=names["italic"], boldItalic=names["bold"])
    pdfmetrics.registerFontFamily(names["semibold"], normal=names["semibold"], bold=names["bold"],
                                  italic=names["italic"], boldItalic=names["bold"])
    return names, files


def _styles(f: dict[str, str], c: dict[str, colors.Color]) -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=f["regular"], fontSize=9.6, leading=14.2,
                          textColor=c["text"], spaceAfter=7, alignment=TA_LEFT)
    s = {
        "body": body,
        "lead": ParagraphStyle("lead", parent=body, fontName=f["light"], fontSize=11.5, leading=16.5,
                               textColor=c["primary"], spaceAfter=10),
        "bullet": ParagraphStyle("bullet", parent=body, spaceAfter=3.5),
        "h1": ParagraphStyle("h1", parent=body, keepWithNext=1, fontName=f["bold"], fontSize=21, leading=25,
                             textColor=c["primary"], spaceBefore=0, spaceAfter=14),
        "h1num": ParagraphStyle("h1num", parent=body, keepWithNext=1, fontName=f["semibold"], fontSize=10,
                                leading=12, textColor=c["accent"], spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=body, keepWithNext=1, fontName=f["semibold"], fontSize=13.5,
                             leading=17, textColor=c["primary"], spaceBefore=12, spaceAfter=6),
        "h3": ParagraphStyle("h3", parent=body, keepWithNext=1, fontName=f["bold"], fontSize=10.5,
                             leading=13.5, textColor=c["primary"], spaceBefore=6, spaceAfter=2),
        "caption": ParagraphStyle("caption", parent=body, fontName=f["semibold"], fontSize=9,
                                  leading=12, textColor=c["primary"], spaceBefore=8, spaceAfter=5),
        "source": ParagraphStyle("source", parent=body, fontSize=7.4, leading=9.6,
                                 textColor=c["muted"], spaceBefore=3, spaceAfter=12),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.4, leading=10.6, spaceAfter=0),
        "cellnum": ParagraphStyle("cellnum", parent=body, fontSize=8.4, leading=10.6, spaceAfter=0,
                                  alignment=TA_RIGHT),
        "cellhead": ParagraphStyle("cellhead", parent=body, fontName=f["semibold"], fontSize=8.2,
                                   leading=10.2, textColor=colors.white, spaceAfter=0),
        "cellheadnum": ParagraphStyle("cellheadnum", parent=body, fontName=f["semibold"],
                                      fontSize=8.2, leading=10.2, textColor=colors.white,
                                      spaceAfter=0, alignment=TA_RIGHT),
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=11, textColor=c["muted"]),
        "boxtitle": ParagraphStyle("boxtitle", parent=body, fontName=f["bold"], fontSize=10.5,
                                   leading=13, textColor=c["primary"], spaceAfter=4),
        "boxtext": ParagraphStyle("boxtext", parent=body, fontSize=9.2, leading=13.2, spaceAfter=3),
        "label": ParagraphStyle("label", parent=body, fontName=f["semibold"], fontSize=7.4,
                                leading=9, textColor=c["muted"], spaceAfter=1),
        "figure": ParagraphStyle("figure", parent=body, fontName=f["bold"], fontSize=15, leading=18,
                                 textColor=c["primary"], spaceAfter=0),
        # Entry lists (contents, figures, tables): spaceBefore is the gap above each entry.
        "toc0": ParagraphStyle("toc0", parent=body, fontName=f["semibold"], fontSize=10.5,
                               leading=14, textColor=c["primary"], spaceBefore=11),
        "toc1": ParagraphStyle("toc1", parent=body, fontSize=9.4, leading=12.5, leftIndent=18,
                               spaceBefore=4.5),
        "lof": ParagraphStyle("lof", parent=body, fontSize=9, leading=12, spaceBefore=5.5),
    }
    return s


def make_theme(brand: Brand, brand_dir: Path, brand_file: str) -> Theme:
    """Register the brand's fonts and derive every style the document uses."""
    fonts, files = register_fonts(brand, brand_dir, brand_file)
    col = brand.colours
    colour = {k: colors.HexColor(getattr(col, k)) for k in
              ("primary", "secondary", "accent", "text", "muted", "rule", "tint")}
    chart = ChartStyle(fonts={k: str(files[k]) for k in ("regular", "semibold", "bold", "light")},
                       palette=tuple(col.chart), text=col.text, muted=col.muted, grid=col.rule,
                       accent=col.accent)
    return Theme(brand=brand, page_size=A4 if brand.page_size == "A4" else LETTER,
                 margin_left=22 * mm, margin_right=22 * mm, margin_top=26 * mm,
                 margin_bottom=22 * mm, fonts=fonts, font_files=files, colour=colour,
                 styles=_styles(fonts, colour), chart=chart)

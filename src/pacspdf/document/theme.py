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
from pacspdf.document.paragraph import Hyphenator
from pacspdf.errors import ContentError
from pacspdf.reportlab_surface import as_hyphenator

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
    text_indent: float = 0.0         # body text starts this far right of the frame (headings hang)

    @property
    def measure(self) -> float:
        """The width of a body text line (points)."""
        return self.frame_width - self.text_indent

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


BODY_SIZE = 10.5          # points: 10-10.5 pt body text, as book and report typography sets it
BODY_LEADING = 15.0
CHARS_PER_LINE = 80       # the measure aimed at (65-80 characters a line)
SAMPLE_TEXT = ("The global market was worth more in the base year and is projected to grow "
               "steadily over the forecast period, as hospitals replace installed systems.")


def text_measure(font: str, size: float, frame_width: float) -> float:
    """The width that holds about CHARS_PER_LINE characters of running text in ``font``."""
    per_char = pdfmetrics.stringWidth(SAMPLE_TEXT, font, size) / len(SAMPLE_TEXT)
    return min(frame_width, round(per_char * CHARS_PER_LINE, 1))


def _styles(f: dict[str, str], c: dict[str, colors.Color], hyphenation: Hyphenator | None = None,
            indent: float = 0.0) -> dict[str, ParagraphStyle]:
    """Every paragraph style. Running text (body, bullets, profiles) sits in the text column,
    ``indent`` points right of the frame, is hyphenated and never leaves a widow or orphan;
    headings, figures, tables and panels use the full frame width."""
    base = ParagraphStyle("base", fontName=f["regular"], fontSize=BODY_SIZE, leading=BODY_LEADING,
                          textColor=c["text"], spaceAfter=7, alignment=TA_LEFT)
    body = ParagraphStyle("body", parent=base, allowWidows=0, allowOrphans=0,
                          hyphenationLang=as_hyphenator(hyphenation), leftIndent=indent)
    s = {
        "body": body,
        "lead": ParagraphStyle("lead", parent=body, fontName=f["light"], fontSize=11.5, leading=16.5,
                               textColor=c["primary"], spaceAfter=10),
        "bullet": ParagraphStyle("bullet", parent=body, spaceAfter=3.5, leftIndent=0),
        "h1": ParagraphStyle("h1", parent=base, keepWithNext=1, fontName=f["bold"], fontSize=21, leading=25,
                             textColor=c["primary"], spaceBefore=0, spaceAfter=14),
        "h1num": ParagraphStyle("h1num", parent=base, keepWithNext=1, fontName=f["semibold"], fontSize=10,
                                leading=12, textColor=c["accent"], spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=base, keepWithNext=1, fontName=f["semibold"], fontSize=13.5,
                             leading=17, textColor=c["primary"], spaceBefore=12, spaceAfter=6),
        "h3": ParagraphStyle("h3", parent=base, keepWithNext=1, fontName=f["bold"], fontSize=11,
                             leading=14, textColor=c["primary"], spaceBefore=8, spaceAfter=2,
                             leftIndent=indent),
        "h4": ParagraphStyle("h4", parent=base, keepWithNext=1, fontName=f["semibold"], fontSize=10,
                             leading=13, textColor=c["primary"], spaceBefore=6, spaceAfter=3,
                             leftIndent=indent),
        "caption": ParagraphStyle("caption", parent=base, fontName=f["semibold"], fontSize=9,
                                  leading=12, textColor=c["primary"], spaceBefore=8, spaceAfter=5),
        "source": ParagraphStyle("source", parent=base, fontSize=7.4, leading=9.6,
                                 textColor=c["muted"], spaceBefore=3, spaceAfter=12),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.4, leading=10.6, spaceAfter=0),
        "cellnum": ParagraphStyle("cellnum", parent=base, fontSize=8.4, leading=10.6, spaceAfter=0,
                                  alignment=TA_RIGHT),
        "cellhead": ParagraphStyle("cellhead", parent=base, fontName=f["semibold"], fontSize=8.2,
                                   leading=10.2, textColor=colors.white, spaceAfter=0),
        "cellheadnum": ParagraphStyle("cellheadnum", parent=base, fontName=f["semibold"],
                                      fontSize=8.2, leading=10.2, textColor=colors.white,
                                      spaceAfter=0, alignment=TA_RIGHT),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor=c["muted"]),
        "boxtitle": ParagraphStyle("boxtitle", parent=base, fontName=f["bold"], fontSize=10.5,
                                   leading=13, textColor=c["primary"], spaceAfter=4),
        "boxtext": ParagraphStyle("boxtext", parent=base, fontSize=9.6, leading=13.6, spaceAfter=3,
                                  hyphenationLang=as_hyphenator(hyphenation)),
        "label": ParagraphStyle("label", parent=base, fontName=f["semibold"], fontSize=7.4,
                                leading=9, textColor=c["muted"], spaceAfter=1),
        "note": ParagraphStyle("note", parent=base, fontSize=8, leading=11, textColor=c["muted"],
                               leftIndent=indent),
        "meta": ParagraphStyle("meta", parent=base, fontName=f["semibold"], fontSize=7.4,
                               leading=9, textColor=c["muted"], spaceAfter=1, leftIndent=indent),
        "figure": ParagraphStyle("figure", parent=base, fontName=f["bold"], fontSize=15, leading=18,
                                 textColor=c["primary"], spaceAfter=0),
        # Entry lists (contents, figures, tables): spaceBefore is the gap above each entry.
        "toc0": ParagraphStyle("toc0", parent=base, fontName=f["semibold"], fontSize=10.5,
                               leading=14, textColor=c["primary"], spaceBefore=11),
        "toc1": ParagraphStyle("toc1", parent=base, fontSize=9.4, leading=12.5, leftIndent=18,
                               spaceBefore=4.5),
        "lof": ParagraphStyle("lof", parent=base, fontSize=9, leading=12, spaceBefore=5.5),
    }
    return s


def make_theme(brand: Brand, brand_dir: Path, brand_file: str, language: str = "en-GB") -> Theme:
    """Register the brand's fonts and derive every style the document uses."""
    fonts, files = register_fonts(brand, brand_dir, brand_file)
    col = brand.colours
    colour = {k: colors.HexColor(getattr(col, k)) for k in
              ("primary", "secondary", "accent", "text", "muted", "rule", "tint")}
    chart = ChartStyle(fonts={k: str(files[k]) for k in ("regular", "semibold", "bold", "light")},
                       palette=tuple(col.chart), text=col.text, muted=col.muted, grid=col.rule,
                       accent=col.accent)
    page_size = A4 if brand.page_size == "A4" else LETTER
    margin = 22 * mm
    frame_width = page_size[0] - 2 * margin
    indent = round(frame_width - text_measure(fonts["regular"], BODY_SIZE, frame_width), 1)
    return Theme(brand=brand, page_size=page_size,
                 margin_left=margin, margin_right=margin, margin_top=26 * mm,
                 margin_bottom=margin, fonts=fonts, font_files=files, colour=colour,
                 styles=_styles(fonts, colour, hyphenation_language(language), indent), chart=chart,
                 text_indent=indent)


def hyphenation_language(language: str) -> Hyphenator | None:
    """The hyphenator for a report language (``en-GB`` -> pyphen's ``en_GB``), or None."""
    import pyphen

    tag = language.replace("-", "_")
    for candidate in (tag, tag.split("_")[0]):
        if candidate in pyphen.LANGUAGES:
            return Hyphenator(candidate)
    return None

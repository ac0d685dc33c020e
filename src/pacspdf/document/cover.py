"""Draw the cover page: brand band, title, key facts and the reserved personal block."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas

from pacspdf.content.brand import resolve_asset, tracked
from pacspdf.content.load import Content
from pacspdf.document import fit
from pacspdf.document.markup import escape
from pacspdf.document.pages import ReportDocTemplate
from pacspdf.document.paragraph import Paragraph
from pacspdf.document.personal import PersonalLayout, draw_cover_block
from pacspdf.document.tagcanvas import link_description
from pacspdf.document.tags import tagger_of
from pacspdf.document.theme import Theme
from pacspdf.errors import ContentError
from pacspdf.reportlab_surface import font_face_attribute, set_initial_font
from pacspdf.templates.environment import long_date
from pacspdf.write import cache_key, pickled


def _map_svg_fonts(family_fonts: tuple[tuple[str, str, str], ...]) -> None:
    """Point svglib's font map at the brand's registered TrueType fonts.

    svglib's public ``register_font`` either maps to the 14 standard PDF fonts or registers
    the file again under the given name, which would replace our registered font object
    between builds; so the mapping is written into its font map directly.
    """
    from svglib import fonts as svgfonts

    fmap = svgfonts.get_global_font_map()
    table = getattr(fmap, "_map", None)
    index = getattr(fmap, "_family_index", None)
    if not isinstance(table, dict) or not isinstance(index, dict):  # svglib changed: fall back
        return
    for family, weight, rl_name in family_fonts:
        table[fmap.build_internal_name(family, weight, "normal")] = {
            "svg_family": family, "svg_weight": weight, "svg_style": "normal",
            "rlgFont": rl_name, "exact": True}
        index.setdefault(family.lower(), family)


@lru_cache(maxsize=8)
def _svg(path: str, family_fonts: tuple[tuple[str, str, str], ...]) -> Drawing:
    from svglib.svglib import svg2rlg

    _map_svg_fonts(family_fonts)
    drawing = svg2rlg(path)
    if drawing is None:
        raise ValueError("not a readable SVG file")
    # The renderer's starting font would otherwise be Helvetica (an unembedded base font).
    set_initial_font(drawing, family_fonts[0][2])
    _brand_strings(drawing, {rl for _, _, rl in family_fonts}, family_fonts[0][2],
                   next((rl for _, w, rl in family_fonts if w == "bold"), family_fonts[0][2]))
    return drawing



def _brand_strings(node: object, ours: set[str], regular: str, bold: str) -> None:
    """Set every text of the logo in the brand's fonts: a family svglib does not know
    ("sans-serif", "Arial") would otherwise become Helvetica, a font the PDF cannot embed."""
    from reportlab.graphics.shapes import String

    for child in getattr(node, "contents", ()):
        if isinstance(child, String) and child.fontName not in ours:
            child.fontName = bold if "Bold" in child.fontName else regular
        _brand_strings(child, ours, regular, bold)

def _cached_svg(path: Path, fonts: tuple[tuple[str, str, str], ...], cache_dir: Path | None) -> Drawing:
    """The parsed logo, from a pickle keyed by the SVG's bytes, the font map, the code and svglib's
    version when one exists
    (so a rebuild neither imports nor runs svglib)."""
    return pickled(cache_dir, logo_key(path, fonts), Drawing, lambda: _svg(str(path), fonts))


def logo_key(path: Path, fonts: tuple[tuple[str, str, str], ...]) -> str:
    """The parsed logo's cache key: the SVG's bytes (not its path) and the font map it is drawn with."""
    return cache_key("logo", repr(fonts), files=[path])


def load_logo(content: Content, theme: Theme, spec: str, field: str,
              cache_dir: Path | None = None) -> Drawing | None:
    if not spec:
        return None
    path = resolve_asset(spec, content.brand_dir)
    if not path.is_file():
        raise ContentError.one(content.brand_file, f"logo file not found: {spec}", field=field)
    family = font_family(theme)
    fonts = ((family, "normal", theme.fonts["regular"]), (family, "bold", theme.fonts["bold"]))
    try:
        return _cached_svg(path, fonts, cache_dir)
    except Exception as exc:  # svglib raises a variety of lxml / value errors
        raise ContentError.one(content.brand_file, f"cannot read logo {spec}: {exc}", field=field) from None


def font_family(theme: Theme) -> str:
    name = font_face_attribute(theme.fonts["regular"], "familyName")
    return name.decode("latin-1") if isinstance(name, bytes) else str(name or "sans-serif")


CoverPainter = Callable[[Canvas, ReportDocTemplate], None]


def make_cover(content: Content, theme: Theme, highlights: list[tuple[str, str]] | None = None,
               cache_dir: Path | None = None) -> CoverPainter:
    """The cover painter; ``highlights`` are (value, label) headline figures for the lower half."""
    r, b = content.report, content.brand
    logo = load_logo(content, theme, b.logo_white or b.logo, "logo_white" if b.logo_white else "logo",
                     cache_dir)
    f, c = theme.fonts, theme.colour
    light_blue = colors.HexColor("#BFD6EA")

    def draw(canv: Canvas, doc: ReportDocTemplate) -> None:
        """Paint the cover; decoration is a Layout artifact, text and logo are tagged in reading order."""
        tag = tagger_of(canv)
        w, h = theme.page_size
        left = theme.margin_left
        width = w - left - theme.margin_right
        band_bottom = h * 0.40
        canv.saveState()
        # Brand band with a quiet rising-bars motif.
        decoration = tag.open_artifact(canv, "Layout")
        canv.setFillColor(c["primary"])
        canv.rect(0, band_bottom, w, h - band_bottom, stroke=0, fill=1)
        # The title block is measured first: the motif stays below it, however long the title.
        title_top = h * 0.80 - 16
        # A long title and subtitle are set smaller until they fit above the band's foot.
        for size in (26.0, 23.0, 20.0, 18.0, 16.0, 14.0):
            title_style = ParagraphStyle("ct", fontName=f["bold"], fontSize=size,
                                         leading=size * 1.17, textColor=colors.white)
            sub_style = ParagraphStyle("cs", fontName=f["light"], fontSize=size / 2,
                                       leading=size / 2 * 1.35, textColor=light_blue)
            title = Paragraph(escape(r.title), title_style)
            subtitle = Paragraph(escape(r.subtitle), sub_style)
            title_h = title.wrap(width, 1000)[1]
            sub_h = subtitle.wrap(width * 0.9, 1000)[1]
            block_bottom = title_top - title_h - 14 - sub_h
            if block_bottom >= band_bottom + 24:
                break
        fracs = (0.18, 0.28, 0.40, 0.55)
        room = max(block_bottom - 18 - band_bottom, 0.0)
        scale = min(1.0, room / ((h - band_bottom) * fracs[-1]))
        canv.setFillColor(colors.white)
        canv.setFillAlpha(0.05)
        for i, frac in enumerate(fracs):
            bar_w = 46
            x = w - theme.margin_right - (4 - i) * (bar_w + 10)
            canv.rect(x, band_bottom, bar_w, (h - band_bottom) * frac * scale, stroke=0, fill=1)
        canv.setFillAlpha(1)
        canv.setFillColor(c["accent"])
        canv.rect(0, band_bottom - 5, w, 5, stroke=0, fill=1)
        badge_w, badge_h = 92, 22
        bx, by = w - theme.margin_right - badge_w, h - 60
        canv.setFillColor(c["accent"])
        canv.roundRect(bx, by, badge_w, badge_h, 3, stroke=0, fill=1)
        tag.close(canv, decoration)
        # Logo and sample badge.
        if logo is not None:
            scale = 170 / logo.width
            top = h - 44
            if not b.logo_white:
                # Only the logo for light backgrounds: set it on a white panel, so that it
                # never disappears into the brand colour of the band.
                pad = 7.0
                with tag.artifact(canv, "Layout"):
                    canv.setFillColor(colors.white)
                    canv.roundRect(left - pad, top - logo.height * scale - pad, 170 + 2 * pad,
                                   logo.height * scale + 2 * pad, 4, stroke=0, fill=1)
            with tag.begin(canv, "Figure", Alt=f"{b.publisher} logo",
                           BBox=(left, top - logo.height * scale, left + 170, top)):
                canv.saveState()
                canv.translate(left, top - logo.height * scale)
                canv.scale(scale, scale)
                renderPDF.draw(logo, canv, 0, 0)
                canv.restoreState()
        with tag.begin(canv, "P"):
            canv.setFillColor(colors.white)
            canv.setFont(f["bold"], 9.5)
            canv.drawCentredString(bx + badge_w / 2, by + 7.2, "FREE SAMPLE")
        # Title block.
        with tag.begin(canv, "P"):
            canv.setFillColor(colors.HexColor(b.colours.highlight))
            canv.setFont(f["semibold"], 9)
            canv.drawString(left, h * 0.80, "MARKET RESEARCH REPORT")
        title.drawOn(canv, left, title_top - title_h)
        subtitle.drawOn(canv, left, title_top - title_h - 14 - sub_h)
        # Key facts under the band.
        facts = [("REPORT CODE", r.code, ""), ("FORECAST PERIOD", f"{r.forecast.start}–{r.forecast.end}", ""),
                 ("EDITION", long_date(r.edition), ""),
                 ("PAGES", f"{doc.page_count.total} in this sample",
                  f"Full report: {r.pages_in_full_report} pages" if r.pages_in_full_report else "")]
        # The report code's column widens (to at most 45 %) when the code needs it; the
        # other facts share the rest.
        first = min(max(width / len(facts), fit.width(r.code, f["semibold"], 10.5) + 16), width * 0.45)
        widths = [first] + [(width - first) / (len(facts) - 1)] * (len(facts) - 1)
        fy = band_bottom - 44
        x = left
        with tag.element("L"):  # the key facts: a list of label and value
            for i, (label, value, note) in enumerate(facts):
                if i:
                    x += widths[i - 1]
                room = widths[i] - 16  # each fact stays left of the next column's rule
                with tag.element("LI"):
                    with tag.begin(canv, "Lbl"):
                        canv.setFillColor(c["muted"])
                        canv.setFont(f["semibold"], 7.4)
                        canv.drawString(x, fy + 14, fit.ellipsize(label, f["semibold"], 7.4, room))
                    with tag.begin(canv, "LBody"):
                        canv.setFillColor(c["primary"])
                        size = fit.fit_size(value, f["semibold"], 10.5, room, 7.5)
                        canv.setFont(f["semibold"], size)
                        for k, line in enumerate(fit.wrap(value, f["semibold"], size, room,
                                                          1 if note else 3)):
                            canv.drawString(x, fy - k * (size + 1.2), line)
                        if note:
                            canv.setFillColor(c["muted"])
                            canv.setFont(f["regular"], 7.6)
                            canv.drawString(x, fy - 11, note)
                if i:
                    with tag.artifact(canv, "Layout"):
                        canv.setStrokeColor(c["rule"])
                        canv.setLineWidth(0.6)
                        canv.line(x - 10, fy - 12, x - 10, fy + 24)
        # The personal block: a tinted panel whose text is one form XObject, replaced in
        # personalised copies; the form is the content of one P, whatever it says.
        box = PersonalLayout.of(theme)
        with tag.artifact(canv, "Layout"):
            canv.setStrokeColor(c["rule"])
            canv.line(left, fy - 24, left + width, fy - 24)
            canv.setFillColor(c["tint"])
            canv.rect(box.box_x, box.box_y, box.box_w, box.box_h, stroke=0, fill=1)
            canv.setFillColor(c["accent"])
            canv.rect(box.box_x, box.box_y, 3.2, box.box_h, stroke=0, fill=1)
        with tag.begin(canv, "P"):
            draw_cover_block(canv, theme, doc.decor.cover_panel)
        if doc.decor.cover_link:
            with tag.element("Link"), link_description(canv, "Buy the full report"):
                canv.linkURL(doc.decor.cover_link, (box.box_x, box.box_y, box.box_x + box.box_w,
                                                    box.box_y + box.box_h), relative=0, thickness=0)
        if highlights:
            _highlights(canv, theme, highlights, left, width, box.box_y - 58)
        # Publisher footer.
        with tag.begin(canv, "P"):
            canv.setFillColor(c["primary"])
            canv.setFont(f["bold"], 9)
            canv.drawString(left, 52, fit.ellipsize(b.publisher, f["bold"], 9, width))
        site = b.links.website
        bare_site = site.removeprefix("https://").removeprefix("http://")
        with tag.element("P"), tag.begin(canv, "Link"):
            canv.setFont(f["regular"], 8)
            canv.setFillColor(c["muted"])
            contact = fit.ellipsize(f"{bare_site}  ·  {b.contact.email}", f["regular"], 8, width * 0.6)
            canv.drawString(left, 40, contact)
            with link_description(canv, f"{b.publisher} website, {bare_site}"):
                canv.linkURL(tracked(site, b, r, "cover-website"), (left, 36, left + 240, 62), relative=0,
                             thickness=0)
        if b.tagline:
            with tag.begin(canv, "P"):
                canv.setFont(f["regular"], 8)
                canv.setFillColor(c["muted"])
                room = width - fit.width(contact, f["regular"], 8) - 24
                canv.drawRightString(left + width, 40, fit.ellipsize(b.tagline, f["regular"], 8, room))
        canv.restoreState()

    return draw


def _highlights(canv: Canvas, theme: Theme, items: list[tuple[str, str]], left: float, width: float,
                y: float) -> None:
    """Headline figures in a row: big value, small label, thin rules between."""
    f, c = theme.fonts, theme.colour
    tag = tagger_of(canv)
    with tag.begin(canv, "P"):
        canv.setFillColor(c["muted"])
        canv.setFont(f["semibold"], 7.4)
        canv.drawString(left, y + 34, "KEY FIGURES")
    col_w = width / len(items)
    with tag.element("L"):  # a list: each item its value, then what the value is
        for i, (value, label) in enumerate(items):
            x = left + i * col_w + (10 if i else 0)
            with tag.element("LI"), tag.element("LBody"):
                box = col_w - 14
                with tag.begin(canv, "P"):
                    canv.setFillColor(c["primary"])
                    size = fit.fit_size(value, f["bold"], 14, box, 9)
                    canv.setFont(f["bold"], size)
                    canv.drawString(x, y + 12, fit.ellipsize(value, f["bold"], size, box))
                with tag.begin(canv, "P"):
                    canv.setFillColor(c["muted"])
                    canv.setFont(f["regular"], 7.8)
                    canv.drawString(x, y, fit.ellipsize(label, f["regular"], 7.8, box))
            if i:
                with tag.artifact(canv, "Layout"):
                    canv.setStrokeColor(c["rule"])
                    canv.setLineWidth(0.6)
                    canv.line(x - 10, y - 3, x - 10, y + 26)



def logo_path(content: Content) -> Path:
    return resolve_asset(content.brand.logo, content.brand_dir)

"""Theme -> the one PersonalLayout: where the base PDF reserves the personal text, and its sidecar.

The base build reserves two form XObjects: the cover's "Prepared for" block and a footer line
shared by every page. :mod:`pacspdf.delivery.personalise` later replaces both in an incremental update,
reading their geometry from the sidecar ``<pdf>.json`` this module writes. The geometry is
defined once, here, as a typed :class:`PersonalLayout`: the cover and the footer draw from it,
and the sidecar is written from it. The sidecar is read back here too (:class:`BaseArtifact`,
with typed ``layout`` and ``objects``), so its format has this one home.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from reportlab.lib import colors
from reportlab.pdfgen.canvas import Canvas

from pacspdf.content.brand import resolve_asset
from pacspdf.document import fit
from pacspdf.document.theme import Theme
from pacspdf.reportlab_surface import canvas_flag, set_canvas_flag
from pacspdf.write import write_atomic

#: Names of the two reserved form XObjects (personalise.py finds them by these names).
PERSONAL_COVER = "PersonalCover"
PERSONAL_FOOTER = "PersonalFooter"
SIDECAR_SUFFIX = ".json"


@dataclass(frozen=True)
class PersonalLayout:
    """The personal block's geometry and type sizes, in points."""

    page: tuple[float, float]
    box_x: float  # the tinted panel on the cover
    box_y: float
    box_w: float
    box_h: float
    text_x: float
    footer_x: float  # the personal footer line, under the footer's first row
    footer_y: float
    footer_width: float
    footer_form_height: float
    label: str = "PREPARED FOR"
    label_size: float = 7.4
    name_size: float = 15.0
    name_min_size: float = 11.0  # a long name shrinks to this, on two lines, before it is cut
    detail_size: float = 9.0
    footer_size: float = 6.8

    @classmethod
    def of(cls, theme: Theme) -> PersonalLayout:
        w, h = theme.page_size
        left = theme.margin_left
        return cls(page=(w, h), box_x=left, box_y=h * 0.40 - 178, box_w=w - left - theme.margin_right,
                   box_h=84, text_x=left + 18, footer_x=theme.margin_left, footer_y=theme.margin_bottom - 41,
                   footer_width=theme.frame_width, footer_form_height=theme.margin_bottom)

    @property
    def top(self) -> float:
        return self.box_y + self.box_h

    @property
    def label_y(self) -> float:
        return self.top - 22

    @property
    def name_y(self) -> float:
        return self.top - 42

    @property
    def detail_y(self) -> float:
        return self.top - 60

    @property
    def name_two_y(self) -> list[float]:
        """The baselines of a name on two lines (the detail line moves down under them)."""
        return [self.top - 38, self.top - 54]

    @property
    def detail_two_y(self) -> float:
        return self.top - 71

    @property
    def text_width(self) -> float:
        return self.box_w - 36


def draw_cover_block(canv: Canvas, theme: Theme, panel: tuple[str, str, str]) -> None:
    """The cover's personal text as one form XObject (drawn once per canvas, then reused).

    In the base PDF, ``panel`` (label, headline, detail) tells an anonymous reader what the
    full report holds and how to get it; a personalised copy replaces the form with
    "Prepared for" its reader.
    """
    lay = PersonalLayout.of(theme)
    if not canvas_flag(canv, "_pp_cover_form"):
        canv.beginForm(PERSONAL_COVER, lowerx=0, lowery=0, upperx=lay.page[0], uppery=lay.page[1])
        canv.setFillColor(theme.colour["muted"])
        canv.setFont(theme.fonts["semibold"], lay.label_size)
        label, headline, detail = panel
        canv.drawString(lay.text_x, lay.label_y, label)
        # A long title or link shrinks, then is cut with an ellipsis: it never leaves the panel.
        size = fit.fit_size(headline, theme.fonts["semibold"], lay.name_size, lay.text_width,
                            lay.name_min_size)
        canv.setFillColor(theme.colour["primary"])
        canv.setFont(theme.fonts["semibold"], size)
        canv.drawString(lay.text_x, lay.name_y,
                        fit.ellipsize(headline, theme.fonts["semibold"], size, lay.text_width))
        canv.setFillColor(theme.colour["text"])
        canv.setFont(theme.fonts["regular"], lay.detail_size)
        canv.drawString(lay.text_x, lay.detail_y,
                        fit.ellipsize(detail, theme.fonts["regular"], lay.detail_size, lay.text_width))
        canv.endForm()
        set_canvas_flag(canv, "_pp_cover_form")
    canv.doForm(PERSONAL_COVER)


def draw_footer_line(canv: Canvas, theme: Theme) -> None:
    """Reserve the footer's personal line: one empty form XObject shared by every page."""
    lay = PersonalLayout.of(theme)
    if not canvas_flag(canv, "_pp_footer_form"):
        canv.beginForm(PERSONAL_FOOTER, lowerx=0, lowery=0, upperx=lay.page[0],
                       uppery=lay.footer_form_height)
        canv.endForm()
        set_canvas_flag(canv, "_pp_footer_form")
    canv.doForm(PERSONAL_FOOTER)


# ---------------------------------------------------------------- the sidecar

class CoverSpec(TypedDict):
    x: float
    width: float
    label: str
    label_size: float
    label_y: float
    label_rgb: str
    name_size: float
    name_min_size: float
    name_y: float
    name_two_y: list[float]
    name_rgb: str
    detail_size: float
    detail_y: float
    detail_two_y: float
    detail_rgb: str


class FooterSpec(TypedDict):
    x: float
    y: float
    size: float
    width: float
    form_height: float
    rgb: str


class LayoutSpec(TypedDict):
    page: list[float]
    cover: CoverSpec
    footer: FooterSpec


class ObjectsSpec(TypedDict):
    """Where the reserved forms and the trailer facts are in the base PDF (:func:`locate_objects`)."""

    cover: int
    footer: int
    root: int
    info: int
    info_body: str
    size: int
    startxref: int
    id: str
    links: list[list[Any]]  # [object number, annotation body, URI] of each web link (a copy tags the URI)


def _rgb(colour: colors.Color) -> str:
    return " ".join(f"{v:.4f}" for v in colour.rgb())


def layout_spec(theme: Theme) -> LayoutSpec:
    """The sidecar's ``layout``: what personalise.py needs to write inside the reserved forms."""
    lay, c = PersonalLayout.of(theme), theme.colour
    return {
        "page": list(lay.page),
        "cover": {"x": round(lay.text_x, 3), "width": round(lay.text_width, 3),
                  "label": lay.label, "label_size": lay.label_size, "label_y": round(lay.label_y, 3),
                  "label_rgb": _rgb(c["muted"]),
                  "name_size": lay.name_size, "name_min_size": lay.name_min_size,
                  "name_y": round(lay.name_y, 3), "name_two_y": [round(y, 3) for y in lay.name_two_y],
                  "name_rgb": _rgb(c["primary"]),
                  "detail_size": lay.detail_size, "detail_y": round(lay.detail_y, 3),
                  "detail_two_y": round(lay.detail_two_y, 3), "detail_rgb": _rgb(c["text"])},
        "footer": {"x": round(lay.footer_x, 3), "y": round(lay.footer_y, 3), "size": lay.footer_size,
                   "width": round(lay.footer_width, 3), "form_height": round(lay.footer_form_height, 3),
                   "rgb": _rgb(c["muted"])},
    }


def sidecar(content: Any, theme: Theme, pdf: bytes, pages: int, links: dict[str, str],
            inputs_hash: str) -> dict[str, Any]:
    """Everything personalisation and mail read about a built base PDF (see personalise.BaseArtifact)."""
    b = content.brand
    return {
        "slug": content.report.slug,
        "title": content.report.title,
        "pages": pages,
        "links": links,
        "brand": {"publisher": b.publisher, "email": b.contact.email, "sales_email": b.contact.sales_email,
                  "phone": b.contact.phone, "website": b.links.website,
                  "colours": {"primary": b.colours.primary, "accent": b.colours.accent,
                              "text": b.colours.text, "muted": b.colours.muted, "tint": b.colours.tint}},
        "fonts": {**{k: str(v) for k, v in theme.font_files.items()},
                  "fallback": [str(resolve_asset(f, content.brand_dir)) for f in b.fonts.fallback]},
        "copy_param": b.tracking.copy_param,
        "layout": layout_spec(theme),
        "objects": locate_objects(pdf, PERSONAL_COVER, PERSONAL_FOOTER),
        "content_hash": inputs_hash,
    }


def write_sidecar(pdf_path: Path, meta: dict[str, Any]) -> None:
    write_atomic(sidecar_path(pdf_path), json.dumps(meta, indent=1, sort_keys=True).encode("utf-8"))


def sidecar_path(pdf_path: Path) -> Path:
    """Where the sidecar of the base PDF at ``pdf_path`` lives: ``<pdf>.json`` beside it."""
    return Path(pdf_path).with_name(Path(pdf_path).name + SIDECAR_SUFFIX)


@dataclass
class BaseArtifact:
    """A built base PDF and what personalisation and mail need to know about it."""

    pdf_path: Path
    meta: dict[str, Any]
    _pdf: bytes | None = None

    @property
    def slug(self) -> str:
        return str(self.meta["slug"])

    @property
    def title(self) -> str:
        return str(self.meta["title"])

    @property
    def links(self) -> dict[str, str]:
        return dict(self.meta["links"])

    @property
    def brand(self) -> dict[str, Any]:
        return dict(self.meta["brand"])

    @property
    def layout(self) -> LayoutSpec:
        """The personal block's geometry, as :func:`layout_spec` wrote it."""
        layout: LayoutSpec = self.meta["layout"]
        return layout

    @property
    def objects(self) -> ObjectsSpec:
        """The reserved forms' object numbers and the trailer facts, as :func:`locate_objects` found them."""
        objects: ObjectsSpec = self.meta["objects"]
        return objects

    @property
    def fonts(self) -> dict[str, str]:
        """Font role (``regular``, ``semibold`` …) -> the TrueType file the base PDF used."""
        return {str(k): str(v) for k, v in self.meta["fonts"].items()}

    @property
    def pdf(self) -> bytes:
        if self._pdf is None:
            self._pdf = self.pdf_path.read_bytes()
        return self._pdf

    @classmethod
    def load(cls, pdf_path: Path) -> BaseArtifact:
        """The base PDF at ``pdf_path`` and its sidecar (OSError, ValueError when unreadable)."""
        meta = json.loads(sidecar_path(pdf_path).read_text(encoding="utf-8"))
        return cls(Path(pdf_path), meta)


# ---------------------------------------------------------------- reading the base PDF

def locate_objects(pdf: bytes, cover_form: str, footer_form: str) -> ObjectsSpec:
    """Object numbers and trailer facts of a base PDF (ReportLab's classic layout, or as
    :func:`pacspdf.document.compact.compact` packed it into object streams)."""
    from pacspdf.document.compact import read_objects

    objs = read_objects(pdf)
    # Every object framed as in a classic file (a stream by its dictionary alone), so one
    # pattern finds it in either layout.
    text = b"".join([b"\n%d 0 obj\n%s\nendobj" % (num, body[:body.find(b"stream")]
                                                   if body.endswith(b"endstream") else body)
                     for num, body in objs.bodies.items()])
    ident = re.match(rb"\[\s*(<[0-9A-Fa-f]*>|\(.*?\))", objs.id, re.S)

    def one(pattern: bytes) -> int:
        found = re.findall(pattern, text)
        if not found:
            raise ValueError(f"base PDF lacks {pattern!r}")
        return int(found[-1])

    if ident is None:
        raise ValueError("base PDF lacks its file identifier")
    if objs.info not in objs.bodies:
        raise ValueError("base PDF lacks its document information dictionary")
    return {
        "cover": one(rb"/FormXob\.%s (\d+) 0 R" % cover_form.encode()),
        "footer": one(rb"/FormXob\.%s (\d+) 0 R" % footer_form.encode()),
        "root": objs.root,
        "info": objs.info,
        "info_body": objs.bodies[objs.info].decode("latin-1"),
        "size": objs.size,
        "startxref": objs.startxref,
        "id": ident.group(1).decode("latin-1"),
        "links": [[int(num), body.decode("latin-1"), uri.decode("latin-1")]
                  for num, body, uri in LINK_ANNOTATION.findall(text)],
    }


#: A link annotation to a web page, as ReportLab writes it (a copy adds its ID to the URI).
LINK_ANNOTATION = re.compile(rb"\n(\d+) 0 obj\n(<<\n/A <<\n/S /URI /Type /Action /URI \((https?://[^()\\\s]*)\)"
                             rb"\n>>(?:(?!endobj)[^%])*?/Type /Annot\n>>)\nendobj", re.S)

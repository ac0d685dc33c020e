"""ReportLab's private and loosely typed surface -> typed accessors, in one place.

pacspdf relies on a few ReportLab attributes that its type stubs (types-reportlab) do not
declare, because they are private (``Frame._y``, ``Table._cellvalues``...) or set by us on
ReportLab's objects (the canvas flags of the reserved forms). Every such access goes through
this module, so ``mypy --strict`` holds everywhere else, and a ReportLab upgrade that changes
one of them breaks here, visibly, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from reportlab.graphics.shapes import Drawing
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Flowable, Frame, KeepTogether, Paragraph, Table, TableStyle
    from reportlab.platypus.tableofcontents import TableOfContents

#: ``reportlab.pdfgen.canvas.FILL_NON_ZERO`` (the non-zero winding fill rule), not in the stubs.
FILL_NON_ZERO = 1


def frame_y(frame: Frame) -> float:
    """Where the frame's next flowable starts (ReportLab's private ``Frame._y``)."""
    return float(cast(Any, frame)._y)


def canvas_document(canv: Canvas) -> Any:
    """The canvas's PDFDocument (private ``Canvas._doc``), for its date formatter."""
    return cast(Any, canv)._doc


def canvas_flag(canv: Canvas, name: str) -> bool:
    """A flag pacspdf set on this canvas (e.g. "a reserved form is already defined")."""
    return bool(getattr(canv, name, False))


def set_canvas_flag(canv: Canvas, name: str) -> None:
    setattr(canv, name, True)


def last_entries(toc: TableOfContents) -> list[Any]:
    """The entries of a TableOfContents' last finished pass (private ``_lastEntries``)."""
    return list(cast(Any, toc)._lastEntries)


def table_rows(table: Table) -> int:
    """How many rows a Table holds (private ``Table._cellvalues``)."""
    return len(cast(Any, table)._cellvalues)


def kept_together(group: KeepTogether) -> list[Flowable]:
    """The flowables inside a KeepTogether (private ``KeepTogether._content``)."""
    return list(cast(Any, group)._content)


def keeps_with_next(paragraph: Paragraph) -> bool:
    return bool(cast(Any, paragraph).getKeepWithNext())


def set_initial_font(drawing: Drawing, font_name: str) -> None:
    """The font a Drawing's renderer starts with (not declared in the stubs)."""
    cast(Any, drawing).initialFontName = font_name


def table_style(commands: Sequence[tuple[object, ...]]) -> TableStyle:
    """A TableStyle from commands built as plain tuples (the stubs' command type is narrower)."""
    from reportlab.platypus import TableStyle

    return TableStyle(cast(Any, list(commands)))


def font_face_attribute(font_name: str, attribute: str) -> object:
    """An attribute of a registered TrueType font's face (``familyName``...), or b"" if absent."""
    from reportlab.pdfbase import pdfmetrics

    return getattr(cast(Any, pdfmetrics.getFont(font_name)).face, attribute, b"")


def as_hyphenator(hyphenator: object) -> str:
    """A callable hyphenator for a ParagraphStyle's ``hyphenationLang``: ReportLab takes a
    language name or a callable, the stubs declare only the name ("" turns it off)."""
    return cast(str, hyphenator or "")

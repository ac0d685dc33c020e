"""Turn platypus tables, lists and figures into tagged ones (Table/TR/TH/TD, L/LI/Lbl/LBody, Figure)."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from reportlab.platypus import Flowable, ListFlowable, Table
from reportlab.platypus.flowables import LIIndenter

from pacspdf.document.paragraph import Paragraph
from pacspdf.document.tags import Tagger, new_key, tagger_of


def _sole_paragraph(value: Any) -> Paragraph | None:
    """The one paragraph a cell or list item holds, whose words are then the cell's own content."""
    if isinstance(value, list | tuple):
        drawn = [v for v in value if not (isinstance(v, Flowable) and v.__class__.__name__ == "Spacer")]
        value = drawn[0] if len(drawn) == 1 else None
    return value if isinstance(value, Paragraph) else None


class TableTagger:
    """ReportLab's table render callback, turned into Table/TR/TH/TD elements.

    Backgrounds and grid lines are Layout artifacts; a header row repeated after a page
    break is a Pagination artifact. A layout table (``role=None``) adds no elements: only
    its decoration becomes artifacts and its cells' content tags itself.
    """

    def __init__(self, role: str | None = "Table", header_rows: int = 1, header_cols: int = 0,
                 row_role: str = "TR", cells: bool = True) -> None:
        self.role = role
        self.header_rows = header_rows
        self.header_cols = header_cols
        self.row_role = row_role
        self.cells = cells  # False: rows hold their content directly (a TOC's TOCI)
        self.key = new_key()
        self.opened: list[tuple[str, bool]] = []

    def __call__(self, table: Any, event: str, *args: Any) -> None:
        canv = table.canv
        tagger: Tagger = tagger_of(canv)
        if event == "startTable":
            if self.role:
                tagger.push(self.role, key=self.key)
        elif event in ("startBG", "startLines"):
            self.opened.append(("artifact", tagger.open_artifact(canv, "Layout")))
        elif event in ("endBG", "endLines"):
            tagger.close(canv, self.opened.pop()[1])
        elif event == "startRow":
            row = args[0]
            if getattr(table, "_tag_continued", False) and row < _repeat_count(table.repeatRows):
                self.opened.append(("artifact", tagger.open_artifact(canv, "Pagination")))
            elif self.role:
                tagger.push(self.row_role)
                self.opened.append(("element", False))
            else:
                self.opened.append(("none", False))
        elif event == "endRow":
            kind, opened = self.opened.pop()
            if kind == "artifact":
                tagger.close(canv, opened)
            elif kind == "element":
                tagger.pop()
        elif event == "startCell":
            row, col, value = args[0], args[1], args[2]
            if self.role and self.cells and tagger.mode is None:
                original = row - _repeat_count(table.repeatRows) + self.header_rows \
                    if getattr(table, "_tag_continued", False) else row
                head_row, head_col = original < self.header_rows, col < self.header_cols
                if head_row or head_col:
                    scope = "Both" if head_row and head_col else "Column" if head_row else "Row"
                    tagger.push("TH", Scope=scope)
                else:
                    tagger.push("TD")
                sole = _sole_paragraph(value)
                if sole is not None:
                    sole.role = None
                text = not isinstance(value, Flowable | list | tuple) and str(value or "").strip()
                self.opened.append(("cell", tagger.open_content(canv) if text else False))
            else:
                self.opened.append(("none", False))
        elif event == "endCell":
            kind, opened = self.opened.pop()
            if kind == "cell":
                tagger.close(canv, opened)
                tagger.pop()
        elif event == "endTable" and self.role:
            tagger.pop()


def _repeat_count(repeat: Any) -> int:
    return repeat if isinstance(repeat, int) else len(repeat)


class TaggedTable(Table):
    """A Table whose drawing is tagged by a :class:`TableTagger`."""

    def __init__(self, data: Any, *args: Any, role: str | None = "Table", header_rows: int = 1,
                 header_cols: int = 0, row_role: str = "TR", cells: bool = True, **kw: Any) -> None:
        if kw.get("renderCB") is None:
            kw["renderCB"] = TableTagger(role, header_rows, header_cols, row_role, cells)
        super().__init__(data, *args, **kw)

    def _splitRows(self, availHeight: float, doInRowSplit: int = 0) -> list[Any]:
        parts: list[Any] = cast(Any, super())._splitRows(availHeight, doInRowSplit)
        if len(parts) == 2:
            parts[0]._tag_continued = getattr(self, "_tag_continued", False)
            parts[1]._tag_continued = True
        return parts


class TaggedLI(LIIndenter):
    """One list item's piece: Lbl for its bullet, LBody for its content, inside L and LI."""

    _IndenterAttrs: ClassVar[list[str]] = [*cast(Any, LIIndenter)._IndenterAttrs, "_tag_list", "_tag_item"]

    def split(self, aW: float, aH: float) -> list[Any]:
        parts: list[Any] = super().split(aW, aH)
        for p in parts:
            object.__setattr__(p, "__class__", TaggedLI)
            p._tag_list, p._tag_item = cast(Any, self)._tag_list, cast(Any, self)._tag_item
        return parts

    def drawOn(self, canv: Any, x: float, y: float, _sW: float = 0) -> None:
        me = cast(Any, self)  # LIIndenter's attributes are private (not in the stubs)
        tagger = tagger_of(canv)
        with tagger.element("L", key=me._tag_list), tagger.element("LI", key=me._tag_item):
            if me._bullet:
                with tagger.begin(canv, "Lbl"):
                    me._bullet.drawOn(self, canv, x, y, 0)
            with tagger.element("LBody", key=me._tag_item):
                sole = _sole_paragraph(me._flowable)
                if sole is not None:
                    sole.role = None
                width = max(0, _sW - me._leftIndent - me._rightIndent)
                me._flowable.drawOn(canv, x + me._leftIndent, y, width)


class TaggedList(ListFlowable):
    """A ListFlowable whose items are :class:`TaggedLI`; pieces split over pages stay one L."""

    def _makeLIIndenter(self, flowable: Any, bullet: Any, params: Any = None) -> Any:
        li = cast(Any, super())._makeLIIndenter(flowable, bullet, params)
        if "_tag_list_key" not in self.__dict__:
            self.__dict__["_tag_list_key"] = new_key()
        if bullet is not None or "_tag_item_key" not in self.__dict__:
            self.__dict__["_tag_item_key"] = new_key()
        object.__setattr__(li, "__class__", TaggedLI)
        li._tag_list, li._tag_item = self.__dict__["_tag_list_key"], self.__dict__["_tag_item_key"]
        return li


class Figure(Flowable):
    """Any flowable shown as one Figure element with alternative text (``/Alt``) and a BBox."""

    def __init__(self, inner: Flowable, alt: str) -> None:
        super().__init__()
        if not alt.strip():
            raise ValueError("a figure needs alternative text")
        self.inner = inner
        self.alt = alt

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width, self.height = self.inner.wrap(availWidth, availHeight)
        return self.width, self.height

    def getSpaceBefore(self) -> float:
        return float(self.inner.getSpaceBefore())

    def getSpaceAfter(self) -> float:
        return float(self.inner.getSpaceAfter())

    def drawOn(self, canvas: Any, x: float, y: float, _sW: float = 0) -> None:
        bbox = _device_box(canvas, x, y, self.width, self.height)
        with tagger_of(canvas).begin(canvas, "Figure", Alt=self.alt, BBox=bbox):
            cast(Any, self.inner).drawOn(canvas, x, y, _sW)


def _device_box(canvas: Any, x: float, y: float, w: float, h: float) -> tuple[float, ...]:
    """The rectangle in default user space (the canvas may be translated, as in table cells)."""
    a, b, c, d, e, f = getattr(canvas, "_currentMatrix", (1, 0, 0, 1, 0, 0))
    xs, ys = [], []
    for px, py in ((x, y), (x + w, y), (x, y + h), (x + w, y + h)):
        xs.append(a * px + c * py + e)
        ys.append(b * px + d * py + f)
    return tuple(round(v, 2) for v in (min(xs), min(ys), max(xs), max(ys)))

"""Turn drawing calls into marked content and a logical structure tree (tagged PDF, PDF/UA-1).

Layout code says what it draws: ``tagger.begin(canv, "P")`` around a paragraph,
``tagger.element("Table")`` around rows, ``tagger.artifact(canv, "Pagination", "Header")``
around a running header. The tagger writes ``/P <</MCID n>> BDC ... EMC`` (or
``/Artifact <<...>> BDC ... EMC``) into the page's content stream through
``Canvas.addLiteral`` and records each element with the pages and MCIDs of its content.
When the canvas saves, :meth:`Tagger.write` turns the record into ReportLab PDF objects:
StructTreeRoot, one indirect object per structure element, the ParentTree, each page's
``/StructParents`` and each link annotation's ``/StructParent``. The canvas side (links,
annotations, forms) is :mod:`pacspdf.document.tagcanvas`.

Marked content never nests: content drawn inside an artifact, or inside an element's
content, belongs to the outer sequence (a paragraph inside a chart is part of the Figure).
An element that ends up with no content is dropped when the tree is written, except
table cells, which keep a table's grid regular.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas

# Roles whose element stays in the tree even when it holds no content.
KEEP_EMPTY = frozenset({"TD", "TH", "TR"})
# Attribute keys written as structure-element keys; anything else goes into /A.
ELEMENT_KEYS = frozenset({"Alt", "ActualText", "Lang", "E", "T", "ID"})
# Layout and table attributes, by owner.
TABLE_ATTRS = frozenset({"Scope", "RowSpan", "ColSpan", "Headers", "Summary"})
LAYOUT_ATTRS = frozenset({"BBox", "Placement", "Width", "Height"})
ARTIFACT_TYPES = frozenset({"Pagination", "Layout", "Page", "Background"})

_keys = itertools.count(1)


def new_key() -> int:
    """A fresh identity shared by the pieces of one flowable split across pages."""
    return next(_keys)


@dataclass(frozen=True)
class MCR:
    """A marked-content reference: MCID ``mcid`` on page ``page`` (1-based)."""

    page: int
    mcid: int


@dataclass
class OBJR:
    """An annotation belonging to an element (a link)."""

    page: int
    ref: Any  # ReportLab PDFObjectReference of the annotation
    annotation: Any
    index: int = -1  # the annotation's /StructParent, set when written


@dataclass(eq=False)
class Element:
    """One structure element: a role, attributes and children in reading order."""

    role: str
    attrs: dict[str, Any] = field(default_factory=dict)
    kids: list[Element | MCR | OBJR] = field(default_factory=list)
    parent: Element | None = None
    key: Any = None

    def has_content(self) -> bool:
        return any(not isinstance(k, Element) or k.has_content() for k in self.kids)

    def walk(self) -> Iterator[Element]:
        yield self
        for k in self.kids:
            if isinstance(k, Element):
                yield from k.walk()


class Tagger:
    """Records the structure of one layout pass and emits its marked-content operators."""

    def __init__(self, lang: str = "", enabled: bool = True) -> None:
        self.enabled = enabled  # a disabled tagger (an untagged canvas) writes nothing
        self.root = Element("Document", {"Lang": lang} if lang else {})
        self.stack: list[Element] = [self.root]
        self.mode: str | None = None  # None, "content" or "artifact"
        self.mcids: dict[int, list[Element]] = {}  # page -> element of each MCID
        self.annotations: list[OBJR] = []

    # -- elements ------------------------------------------------------------------------
    @property
    def current(self) -> Element:
        return self.stack[-1]

    def push(self, role: str, key: Any = None, **attrs: Any) -> Element | None:
        """Open an element under the current one; a ``key`` equal to the last sibling's
        continues that element (the second half of a split paragraph, table or list)."""
        if self.mode is not None or not self.enabled:
            self.stack.append(self.current)  # content inside content: no new element
            return None
        parent = self.current
        last = parent.kids[-1] if parent.kids else None
        if key is not None and isinstance(last, Element) and last.key == key and last.role == role:
            element = last
        else:
            element = Element(role, {k: v for k, v in attrs.items() if v is not None}, parent=parent, key=key)
            parent.kids.append(element)
        self.stack.append(element)
        return element

    def pop(self) -> None:
        if len(self.stack) == 1:
            raise RuntimeError("tagger: pop without push")
        self.stack.pop()

    @contextmanager
    def element(self, role: str, key: Any = None, **attrs: Any) -> Iterator[Element | None]:
        element = self.push(role, key, **attrs)
        try:
            yield element
        finally:
            self.pop()

    # -- marked content ------------------------------------------------------------------
    def bdc(self, page: int, element: Element) -> str:
        """The BDC operator of a new marked-content sequence of ``element`` on ``page``."""
        owners = self.mcids.setdefault(page, [])
        mcid = len(owners)
        owners.append(element)
        element.kids.append(MCR(page, mcid))
        return f"/{_tag(element.role)} <</MCID {mcid}>> BDC"

    def open_content(self, canv: Canvas, element: Element | None = None) -> bool:
        """Start a marked-content sequence for ``element`` (default: the current one)."""
        if self.mode is not None or not self.enabled or _in_form(canv):
            return False
        canv.addLiteral(self.bdc(canv.getPageNumber(), element or self.current))
        self.mode = "content"
        return True

    def open_artifact(self, canv: Canvas, kind: str | None = None, subtype: str | None = None) -> bool:
        if self.mode is not None or not self.enabled or _in_form(canv):
            return False
        props = []
        if kind:
            if kind not in ARTIFACT_TYPES:
                raise ValueError(f"unknown artifact type {kind!r}")
            props.append(f"/Type /{kind}")
        if subtype:
            props.append(f"/Subtype /{subtype}")
        canv.addLiteral(f"/Artifact <<{' '.join(props)}>> BDC" if props else "/Artifact BMC")
        self.mode = "artifact"
        return True

    def close(self, canv: Canvas, opened: bool) -> None:
        if opened:
            canv.addLiteral("EMC")
            self.mode = None

    @contextmanager
    def content(self, canv: Canvas) -> Iterator[None]:
        opened = self.open_content(canv)
        try:
            yield
        finally:
            self.close(canv, opened)

    @contextmanager
    def begin(self, canv: Canvas, role: str, key: Any = None, **attrs: Any) -> Iterator[Element | None]:
        """An element whose drawing is one marked-content sequence (P, H1, Lbl, Figure...)."""
        element = self.push(role, key, **attrs)
        opened = self.open_content(canv, element) if element is not None else False
        try:
            yield element
        finally:
            self.close(canv, opened)
            self.pop()

    @contextmanager
    def artifact(self, canv: Canvas, kind: str | None = None, subtype: str | None = None) -> Iterator[None]:
        opened = self.open_artifact(canv, kind, subtype)
        try:
            yield
        finally:
            self.close(canv, opened)

    # -- annotations ---------------------------------------------------------------------
    def annotation(self, page: int, ref: Any, annotation: Any, link: Element | None = None) -> OBJR | None:
        """A link annotation drawn now: it joins ``link``, else a Link element under the current one."""
        if self.mode == "artifact" or not self.enabled:
            return None
        objr = OBJR(page, ref, annotation)
        current = self.current
        if link is not None:
            link.kids.append(objr)
        elif current.role == "Link":
            current.kids.append(objr)
        else:
            current.kids.append(Element("Link", parent=current, kids=[objr]))
        self.annotations.append(objr)
        return objr

    # -- writing -------------------------------------------------------------------------
    def write(self, doc: Any, pages: list[Any]) -> Any:
        """Register the tree's objects with ReportLab's document; returns the StructTreeRoot
        reference.

        Page N (1-based) gets ``/StructParents N-1``; annotations get the numbers after the
        pages. Objects are formatted here, once, as bytes: ReportLab numbers an object when
        it is registered, so every reference is known, and a thousand small dictionaries
        cost a fraction of what its generic object formatting costs.
        """
        _prune(self.root)
        elements = list(self.root.walk())
        raws = [RawObject() for _ in elements]
        number = doc.idToObjectNumberAndVersion
        refs: dict[int, str] = {}
        for n, (element, raw) in enumerate(zip(elements, raws, strict=True)):
            name = f"StructElem{n}"
            doc.Reference(raw, name)
            refs[id(element)] = f"{number[name][0]} 0 R"
        root_raw, tree_raw = RawObject(), RawObject()
        root_ref = doc.Reference(root_raw, "StructTreeRoot")
        doc.Reference(tree_raw, "ParentTree")
        page_refs = {i + 1: f"{number[f'Page{i + 1}'][0]} 0 R" for i in range(len(pages))}
        next_index = len(pages)
        for objr in self.annotations:
            objr.index = next_index
            next_index += 1
        root_num = number["StructTreeRoot"][0]
        for element, raw in zip(elements, raws, strict=True):
            parent = refs[id(element.parent)] if element.parent is not None else f"{root_num} 0 R"
            parts = [f"/Type /StructElem /S /{element.role} /P {parent}"]
            pages_of = {k.page for k in element.kids if isinstance(k, MCR | OBJR)}
            own_page = pages_of.pop() if len(pages_of) == 1 else None
            if own_page is not None:
                parts.append(f"/Pg {page_refs[own_page]}")
            kids: list[str] = []
            for kid in element.kids:
                if isinstance(kid, Element):
                    kids.append(refs[id(kid)])
                elif isinstance(kid, MCR):
                    kids.append(str(kid.mcid) if kid.page == own_page else
                                f"<< /Type /MCR /Pg {page_refs[kid.page]} /MCID {kid.mcid} >>")
                else:
                    obj = kid.ref.format(doc).decode("latin-1")
                    kids.append(f"<< /Type /OBJR /Pg {page_refs[kid.page]} /Obj {obj} >>")
            if kids:
                parts.append(f"/K {kids[0]}" if len(kids) == 1 else f"/K [{' '.join(kids)}]")
            parts += _attributes(element.attrs)
            raw.data = ("<< " + " ".join(parts) + " >>").encode("latin-1")
        nums: list[str] = []
        for page in range(1, len(pages) + 1):
            owners = self.mcids.get(page, [])
            nums.append(f"{page - 1} [{' '.join(refs[id(e)] for e in owners)}]")
        owner_of = {id(k): e for e in elements for k in e.kids if isinstance(k, OBJR)}
        for objr in self.annotations:
            nums.append(f"{objr.index} {refs[id(owner_of[id(objr)])]}")
        tree_raw.data = ("<< /Nums [" + "\n".join(nums) + "] >>").encode("latin-1")
        root_raw.data = (f"<< /Type /StructTreeRoot /K {refs[id(self.root)]} "
                         f"/ParentTree {number['ParentTree'][0]} 0 R /ParentTreeNextKey {next_index} >>"
                         ).encode("latin-1")
        return root_ref


class RawObject(pdfdoc.PDFObject):
    """A ReportLab object whose bytes are already formatted (written as ``n 0 obj ... endobj``)."""

    def __init__(self, data: bytes = b"") -> None:
        self.data = data

    def format(self, document: Any) -> bytes:
        return self.data


def _prune(element: Element) -> bool:
    """Drop elements without content (cells excepted); return whether ``element`` has any."""
    content = False
    for kid in list(element.kids):
        if isinstance(kid, Element):
            if _prune(kid) or kid.role in KEEP_EMPTY:
                content = True
            else:
                element.kids.remove(kid)
        else:
            content = True
    return content


def pdf_text(value: str) -> str:
    """A PDF text string: literal when printable ASCII, else UTF-16BE hex with a BOM."""
    if all(32 <= ord(c) < 127 for c in value):
        return "(" + value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"
    return "<FEFF" + value.encode("utf-16-be").hex().upper() + ">"


def _number(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _attributes(attrs: dict[str, Any]) -> list[str]:
    out: list[str] = []
    table: list[str] = []
    layout: list[str] = []
    for name, value in sorted(attrs.items()):
        if name in ELEMENT_KEYS:
            out.append(f"/{name} {pdf_text(str(value))}")
        elif name in TABLE_ATTRS:
            table.append(f"/{name} /{value}" if name == "Scope" else f"/{name} {value}")
        elif name in LAYOUT_ATTRS:
            shown = f"[{' '.join(_number(v) for v in value)}]" if isinstance(value, tuple | list) else value
            layout.append(f"/{name} {shown}")
        else:
            raise ValueError(f"unknown structure attribute {name!r}")
    owners = [f"<< /O /{o} {' '.join(v)} >>" for o, v in (("Table", table), ("Layout", layout)) if v]
    if owners:
        out.append(f"/A {owners[0]}" if len(owners) == 1 else f"/A [{' '.join(owners)}]")
    return out


def _tag(role: str) -> str:
    return role if role.isalnum() else "Span"


def _in_form(canv: Canvas) -> bool:
    """Inside beginForm/endForm marked content would land in the form's stream; the
    form's content belongs to the sequence around its ``Do`` instead."""
    return bool(getattr(canv, "form_depth", 0))


def tagger_of(canv: Any) -> Tagger:
    """The canvas's tagger, or a throw-away one for canvases that are not tagged."""
    tagger = getattr(canv, "tagger", None)
    if not isinstance(tagger, Tagger):
        tagger = Tagger(enabled=False)
        canv.tagger = tagger
    return tagger


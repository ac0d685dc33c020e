"""Turn canvas drawing into tagged drawing: link annotations and linked words join Link elements.

:class:`TaggedCanvas` carries the :class:`~pacspdf.document.tags.Tagger` of one layout pass,
gives every link annotation ``/Contents``, the print flag and a ``/StructParent``, and splits
a paragraph's text object where its links begin and end (:class:`TextLinks`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas

from pacspdf.document.tags import OBJR, Element, Tagger

_MARK = "\x00tag:"


class TextLinks:
    """Splits one paragraph's text object into P and Link marked content.

    ReportLab draws a paragraph as one text object, so the paragraph's marked content (opened
    before BT) cannot end where a link begins. Instead, the text object records where each
    link fragment starts and ends (ReportLab's ``_linkRecord`` hook) and where each line
    ends; :meth:`split` then writes ``EMC``, the text object with its own sequences for the
    plain words (the paragraph) and the linked words (a Link element per target, holding its
    annotations too), and opens a new sequence for what the paragraph draws after its text.
    """

    def __init__(self, tagger: Tagger, element: Element, texts: dict[str, str]) -> None:
        self.tagger = tagger
        self.element = element
        self.texts = texts  # link target -> the words linked to it (the annotation's /Contents)
        self.links: dict[str, Element] = {}
        self.hrefs: list[str] = []

    def link(self, href: str) -> Element:
        if href not in self.links:
            self.links[href] = Element("Link", parent=self.element)
        return self.links[href]

    def attach(self, tx: Any) -> None:
        text_out = tx._textOut

        def out(text: str, TStar: int = 0) -> None:
            text_out(text, TStar)
            if TStar:
                tx._code.append(_MARK + "line")

        def record(link: Any, kind: str) -> None:
            href = str(link[1] if isinstance(link, tuple) else link)
            mark = f"{_MARK}{kind}:{len(self.hrefs)}"
            self.hrefs.append(href)
            if kind == "start":  # called after the first linked fragment was written: before it
                at = len(tx._code) - 1
                while at > 0 and tx._code[at].startswith(_MARK):
                    at -= 1
                tx._code.insert(at, mark)
            else:
                tx._code.append(mark)

        tx._textOut = out
        tx._linkRecord = record

    def split(self, page: int, code: list[str]) -> list[str]:
        tagger, element = self.tagger, self.element
        out = [code[0], tagger.bdc(page, element)]
        current: str | None = None  # the link target of the open sequence, None for plain words
        line_ended = False

        def switch(target: str | None) -> None:
            nonlocal current
            if target == current:
                return
            holder = element if target is None else self.link(target)
            if holder is not element and holder not in element.kids:
                element.kids.append(holder)
            out.extend(("EMC", tagger.bdc(page, holder)))
            current = target

        for item in code[1:]:
            if item.startswith(_MARK):
                kind, _, index = item[len(_MARK):].partition(":")
                if kind == "line":
                    line_ended = True
                elif kind == "start":
                    line_ended = False
                    switch(self.hrefs[int(index)])
                elif self.hrefs[int(index)] == current:
                    switch(None)
                continue
            if line_ended and item.endswith(("Tj", "TJ", "T*")):
                line_ended = False  # a new line that does not start inside a link
                switch(None)
            out.append(item)
        out.append("EMC")
        for link in self.links.values():  # a link whose words were not seen still keeps its annotation
            if link not in element.kids:
                element.kids.append(link)
        return out


class TaggedCanvas(Canvas):
    """A Canvas that carries a Tagger and ties link annotations into its tree."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.tagger = Tagger(kw.get("lang") or "")
        self.link_text = ""  # what the link being drawn says (its /Contents)
        self.text_links: TextLinks | None = None  # set while a paragraph with links draws
        self.form_depth = 0

    def beginText(self, x: float = 0, y: float = 0, direction: Any = None) -> Any:
        tx = super().beginText(x, y, direction)
        if self.text_links is not None:
            self.text_links.attach(tx)
        return tx

    def drawText(self, aTextObject: Any) -> None:
        links, code = self.text_links, aTextObject._code
        if links is None or not any(c.startswith(_MARK) for c in code if isinstance(c, str)):
            super().drawText(aTextObject)
            return
        self.addLiteral("EMC")  # the paragraph's sequence so far (its backgrounds) ends here
        aTextObject._code = links.split(self.getPageNumber(), code)
        super().drawText(aTextObject)
        self.addLiteral(self.tagger.bdc(self.getPageNumber(), links.element))  # closed by the paragraph

    def beginForm(self, *args: Any, **kw: Any) -> None:
        super().beginForm(*args, **kw)
        self.form_depth += 1

    def endForm(self, **extra: Any) -> None:
        super().endForm(**extra)
        self.form_depth -= 1

    def _addAnnotation(self, annotation: Any, name: str | None = None, addtopage: int = 1) -> None:
        href = _link_target(annotation)
        links = self.text_links
        contents = (links.texts.get(href) if links is not None else None) or self.link_text or href
        if isinstance(annotation, pdfdoc.PDFDictionary):  # linkURL
            annotation["F"] = 4
            annotation["Contents"] = pdfdoc.PDFString(contents)
        else:  # LinkAnnotation
            annotation.otherkw["F"] = 4
            annotation.Contents = contents
        cast(Any, super())._addAnnotation(annotation, name, addtopage)  # private, not in the stubs
        if addtopage:
            refs = cast(Any, self)._annotationrefs
            objr = self.tagger.annotation(self.getPageNumber(), refs[-1], annotation,
                                          links.link(href) if links is not None else None)
            if objr is not None:
                _set_struct_parent(annotation, objr)


class _LazyIndex:
    """A number known only when the tree is written (the annotation's /StructParent)."""

    def __init__(self, objr: OBJR) -> None:
        self.objr = objr

    def __str__(self) -> str:
        return str(self.objr.index)


def _set_struct_parent(annotation: Any, objr: OBJR) -> None:
    value = _LazyIndex(objr)
    if isinstance(annotation, pdfdoc.PDFDictionary):
        annotation["StructParent"] = value
    else:
        annotation.permitted = (*annotation.permitted, "StructParent")
        annotation.otherkw["StructParent"] = value


def _link_target(annotation: Any) -> str:
    """The link's target as a paragraph's ``<a href>`` names it: a URI, or ``#`` and a bookmark."""
    if isinstance(annotation, pdfdoc.PDFDictionary):
        action = annotation.dict.get("A")
        uri = action.dict.get("URI") if action is not None else None
        return str(getattr(uri, "s", uri) or "link")
    name = getattr(getattr(annotation, "Destination", None), "name", None)
    return f"#{name}" if name else "link"




@contextmanager
def link_description(canv: Canvas, text: str) -> Iterator[None]:
    """Links drawn inside say ``text`` as their ``/Contents`` (on a tagged canvas)."""
    if not isinstance(canv, TaggedCanvas):
        yield
        return
    old, canv.link_text = canv.link_text, text
    try:
        yield
    finally:
        canv.link_text = old

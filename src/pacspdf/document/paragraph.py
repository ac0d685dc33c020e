"""ReportLab's Paragraph: tagged as its role, line breaking remembered per width, hyphen runs short."""

from __future__ import annotations

import contextlib
import copy
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, cast

from reportlab.platypus import Paragraph as _Paragraph

from pacspdf.document.tagcanvas import TextLinks
from pacspdf.document.tags import new_key, tagger_of

#: At most this many consecutive lines may end in a hyphen (a "ladder" reads badly).
MAX_HYPHEN_RUN = 2
_LETTERS = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=8)
def _pyphen(lang: str) -> Callable[[str], Iterator[tuple[str, str]]]:
    import pyphen

    return cast(Callable[[str], Iterator[tuple[str, str]]], pyphen.Pyphen(lang=lang).iterate)


class Hyphenator:
    """pyphen's hyphenation points for ``lang``, except in names (capitalised words) and in
    the ``refused`` words; ReportLab calls it with a word that does not fit the line."""

    def __init__(self, lang: str, refused: frozenset[str] = frozenset()) -> None:
        self.lang = lang
        self.refused = refused

    def __call__(self, word: str) -> Iterator[tuple[str, str]]:
        if word[:1].isupper() or "".join(_LETTERS.findall(word)).lower() in self.refused:
            return iter(())
        return _pyphen(self.lang)(word)

    def refusing(self, word: str) -> Hyphenator:
        return Hyphenator(self.lang, self.refused | {word})


def line_texts(bl_para: Any) -> list[str]:
    """The text of each broken line of a wrapped paragraph."""
    out = []
    for line in getattr(bl_para, "lines", []):
        if isinstance(line, tuple):  # kind 0: (extra space, [words])
            out.append(" ".join(str(w) for w in line[1]))
        else:  # kind 1: a ParaLines with word fragments
            out.append("".join(getattr(w, "text", "") for w in getattr(line, "words", [])))
    return out


def hyphen_runs(texts: list[str]) -> list[tuple[int, int]]:
    """(first line, length) of each run of consecutive lines ending in a hyphen (not the last line)."""
    runs, start = [], None
    for i, text in enumerate(texts[:-1]):
        if text.rstrip().endswith("-"):
            start = i if start is None else start
        elif start is not None:
            runs.append((start, i - start))
            start = None
    if start is not None:
        runs.append((start, len(texts) - 1 - start))
    return runs


def plain_text(frags: list[Any], links_only: bool = False) -> str:
    text = "".join(getattr(f, "text", "") for f in frags if not links_only or getattr(f, "link", None))
    return " ".join(text.split())


class Paragraph(_Paragraph):
    """A Paragraph that breaks its lines once per width.

    Platypus wraps the same paragraph several times at one width: a table to size its rows,
    again to split across a page and again to draw; KeepTogether to measure its group, then
    the frame for each member. In the PACS sample that is ~1,070 wraps of ~385 paragraphs per
    build, and line breaking is most of the layout's time. The result depends only on the
    width (``availHeight`` is not used), the text and the style, which do not change after
    construction, so a wrap at the width of the last one returns the last result, as long as
    nothing has replaced the broken lines (``blPara``) since. Split halves are new objects.
    Drawing may rearrange the broken lines in place (right-to-left text reverses its words),
    so a paragraph forgets its last wrap when it is drawn.

    Drawn on a tagged canvas it is one structure element of its ``role`` (the pieces of a
    paragraph split over pages stay one element); a paragraph that is entirely a link is
    ``role > Link``, so the link element holds both the words and the annotation.

    ReportLab hyphenates greedily, line by line. When that leaves a run of more than
    MAX_HYPHEN_RUN hyphenated lines, the word that ends the third line is refused to the
    hyphenator and the paragraph is broken again, until no run is too long.
    """

    role: str | None = "P"  # None: the content of the enclosing element (a table cell, a list body)
    lang: str | None = None

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        state = self.__dict__
        if "_linked" not in state:  # before line breaking turns fragments into words
            state["_linked"] = _linked(self.frags)
        last = state.get("_last_wrap")
        if last is not None and last[0] == availWidth and last[1] is state.get("blPara"):
            self.width, self.height = last[2]
            return cast(tuple[float, float], last[2])
        size: tuple[float, float] = super().wrap(availWidth, availHeight)
        style: Any = self.__dict__.get("style")
        hyphenator = getattr(style, "hyphenationLang", None)
        if isinstance(hyphenator, Hyphenator) and getattr(self, "_hyphenations", 0) > MAX_HYPHEN_RUN:
            size = self._limit_hyphen_runs(hyphenator, availWidth, availHeight, size)
        state["_last_wrap"] = (availWidth, state.get("blPara"), size)
        return size

    def _limit_hyphen_runs(self, hyphenator: Hyphenator, width: float, height: float,
                           size: tuple[float, float]) -> tuple[float, float]:
        original: Any = self.__dict__["style"]
        for _ in range(12):  # each pass removes one hyphenation; a paragraph has few
            texts = line_texts(cast(Any, self).blPara)
            long_run = next(((s, n) for s, n in hyphen_runs(texts) if n > MAX_HYPHEN_RUN), None)
            if long_run is None:
                break
            i = long_run[0] + MAX_HYPHEN_RUN
            head = texts[i].rstrip()[:-1].split(" ")[-1]
            tail = texts[i + 1].lstrip().split(" ")[0]
            hyphenator = hyphenator.refusing("".join(_LETTERS.findall(head + tail)).lower())
            style = copy.copy(original)
            style.hyphenationLang = hyphenator
            self.style = style
            try:
                size = super().wrap(width, height)
            finally:
                self.style = original
        return size

    def draw(self) -> None:
        self.__dict__.pop("_last_wrap", None)
        super().draw()

    def split(self, availWidth: float, availHeight: float) -> list[Any]:
        parts: list[Any] = super().split(availWidth, availHeight)
        key = self.tag_key
        for p in parts:
            p.__dict__["_tag_key"] = key
            p.role, p.lang = self.role, self.lang
        return parts

    @property
    def tag_key(self) -> int:
        if "_tag_key" not in self.__dict__:
            self.__dict__["_tag_key"] = new_key()
        return int(self.__dict__["_tag_key"])

    def drawOn(self, canvas: Any, x: float, y: float, _sW: float = 0) -> None:
        tagger = tagger_of(canvas)
        if not tagger.enabled:
            cast(Any, super()).drawOn(canvas, x, y, _sW)
            return
        linked = self.__dict__.get("_linked")
        if linked is None:
            linked = _linked(self.frags)
        if not linked:  # the common case, kept cheap: one element, one marked-content sequence
            if self.role is not None:
                tagger.push(self.role, self.tag_key, Lang=self.lang)
            opened = tagger.open_content(canvas)
            try:
                cast(Any, super()).drawOn(canvas, x, y, _sW)
            finally:
                tagger.close(canvas, opened)
                if self.role is not None:
                    tagger.pop()
            return
        texts = [f for f in _flat(self.frags) if f.text.strip()]
        all_link = all(getattr(f, "link", None) for f in texts)
        old_text, old_links = getattr(canvas, "link_text", ""), getattr(canvas, "text_links", None)
        with contextlib.ExitStack() as stack:
            if self.role is not None:
                stack.enter_context(tagger.element(self.role, key=self.tag_key, Lang=self.lang))
            if all_link:
                stack.enter_context(tagger.element("Link"))
            opened = tagger.open_content(canvas)
            stack.callback(tagger.close, canvas, opened)
            canvas.link_text = plain_text(linked)
            if opened and not all_link and hasattr(canvas, "text_links"):
                canvas.text_links = TextLinks(tagger, tagger.current, _link_texts(linked))
            try:
                cast(Any, super()).drawOn(canvas, x, y, _sW)
            finally:
                canvas.link_text = old_text
                if hasattr(canvas, "text_links"):
                    canvas.text_links = old_links


def _linked(frags: list[Any]) -> list[Any]:
    """The fragments of a paragraph that are (part of) a link."""
    out = []
    for f in frags:
        if isinstance(f, list | tuple):
            out += [g for g in _flat(f) if getattr(g, "link", None)]
        elif getattr(f, "link", None):
            out.append(f)
    return out


def _flat(frags: Any) -> Any:
    """The text fragments of a paragraph (after line breaking, ReportLab may nest them in lists)."""
    for f in frags:
        if isinstance(f, list | tuple):
            yield from _flat(f)
        elif hasattr(f, "text"):
            yield f


def _link_texts(frags: list[Any]) -> dict[str, str]:
    """Each link target of a paragraph and the words linked to it."""
    out: dict[str, list[str]] = {}
    for f in frags:
        for link in f.link:
            href = str(link[1] if isinstance(link, tuple) else link)
            out.setdefault(href, []).append(f.text)
    return {k: " ".join("".join(v).split()) for k, v in out.items()}

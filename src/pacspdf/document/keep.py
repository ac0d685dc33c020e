"""Turn a story's figures, tables and callouts into groups kept with the end of the text before them.

ReportLab keeps a flowable with the next one only whole (``keepWithNext``, ``KeepTogether``):
a figure that does not fit below its paragraph goes to the next page alone, or drags the whole
paragraph with it and leaves a gap. :class:`KeepTail` does what a typesetter does instead: when
the paragraph and the floats after it do not fit, the paragraph is split so that its last
lines (at least :data:`TAIL_LINES`) go over with the floats, and the float opens the next page
beside its text. When that would leave more than :data:`MAX_GAP` of the page empty, the floats
open the next page after all, right after the text that ends this one (a deferred float).
"""

from __future__ import annotations

from typing import Any

from reportlab.platypus import Flowable, KeepTogether, Spacer, Table
from reportlab.platypus.doctemplate import FrameBreak
from reportlab.platypus.paragraph import Paragraph as _Paragraph

TAIL_LINES = 3  # lines of the paragraph that go over with the floats
HEAD_LINES = 2  # lines that must stay behind (no orphan)
MAX_GAP = 0.3  # the most of a page left empty to keep a callout with its text
MAX_GAP_FIGURE = 0.15  # ... a figure or table, which may instead open the next page


def _is_float(f: Flowable) -> bool:
    """A figure or table with its caption (a KeepTogether) or a boxed panel (callout, teaser)."""
    return isinstance(f, KeepTogether | Table)


def _is_text(f: Flowable) -> bool:
    return isinstance(f, _Paragraph) and getattr(f.style, "name", "") == "body"


class KeepTail(Flowable):
    """A body paragraph (with the headings kept with it, its ``lead``) and the floats that
    follow it, laid out so that the floats never open a page without the paragraph's last
    lines above them, and the headings never end a page."""

    def __init__(self, text: Flowable, floats: list[Flowable], frame_height: float,
                 lead: list[Flowable] | None = None) -> None:
        super().__init__()
        self.text = text
        self.floats = floats
        self.frame_height = frame_height
        self.lead = lead or []

    def _h(self, f: Flowable, aw: float, ah: float) -> float:
        canv: Any = getattr(self, "canv", None)
        h = float(f.wrapOn(canv, aw, ah)[1])
        if isinstance(f, KeepTogether):  # it asks to be split; its content's height is _H
            h = float(getattr(f, "_H", h))
        return h + f.getSpaceBefore() + f.getSpaceAfter()

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        if ah >= 0xFFFFF:
            # Measured inside a group (kept with a flowable before it): as tall as the
            # headings and the paragraph, as they were before the floats joined them.
            return aw, sum(self._h(f, aw, ah) for f in (*self.lead, self.text))
        return aw, 0xFFFFFF  # in a frame: always split, and the frame places the parts

    def getSpaceBefore(self) -> float:
        return float((self.lead or [self.text])[0].getSpaceBefore())

    def _again(self, text: Flowable, floats: list[Flowable], lead: list[Flowable]) -> KeepTail:
        k = KeepTail(text, floats, self.frame_height, lead)
        for name in ("canv", "_frame"):  # what the frame set on this one for the split
            if hasattr(self, name):
                setattr(k, name, getattr(self, name))
        return k

    def split(self, aw: float, ah: float) -> list[Flowable]:
        content: list[Flowable] = [*self.lead, self.text, *self.floats]
        lead_h = sum(self._h(f, aw, ah) for f in self.lead)
        text_h = self._h(self.text, aw, ah)
        floats_h = sum(self._h(f, aw, ah) for f in self.floats)
        frame: Any = getattr(self, "_frame", None)
        at_top = frame is not None and bool(getattr(frame, "_atTop", False))
        if lead_h + text_h + floats_h <= ah:
            return content
        style: Any = self.text.style  # type: ignore[attr-defined]  # a body Paragraph
        leading = float(style.leading)
        room = ah - lead_h  # for the paragraph, below its headings
        if room < HEAD_LINES * leading:  # the headings would end the page
            return content if at_top else [FrameBreak(), *content]
        if text_h > room:  # the paragraph breaks anyway: its end stays above the floats
            parts = self.text.split(aw, room)
            if len(parts) == 2:
                return [*self.lead, *parts, *self.floats]
            return content if at_top else [FrameBreak(), *content]
        tail = TAIL_LINES * leading
        if floats_h + tail > self.frame_height:
            # The floats can never all share a page with the tail: keep with it as many as can.
            n, used = 0, tail
            for f in self.floats:
                used += self._h(f, aw, ah)
                if used > self.frame_height:
                    break
                n += 1
            if 0 < n < len(self.floats):
                return [*self._again(self.text, self.floats[:n], self.lead).split(aw, ah),
                        *self.floats[n:]]
            return content
        # The paragraph fits and the floats do not: they would open the next page without
        # it. Take its last lines over with them, unless that leaves more than MAX_GAP of
        # the page empty; then the floats open the next page (a float deferred to the top).
        # A figure or table may open the next page after the text (a deferred float), so it
        # pulls text over only when little space is lost; a callout may not, so it may pull more.
        panel_first = isinstance(next(f for f in self.floats if _is_float(f)), Table)
        gap = (MAX_GAP if panel_first else MAX_GAP_FIGURE) * self.frame_height
        if text_h >= (HEAD_LINES + TAIL_LINES) * leading:
            if room - text_h + tail <= gap:
                parts = self.text.split(aw, text_h - tail)
                if len(parts) == 2:
                    return [*self.lead, parts[0], KeepTail(parts[1], self.floats, self.frame_height)]
        elif ah <= gap and not at_top:
            return [FrameBreak(), *content]
        return content


def _keeps_with_next(f: Flowable) -> bool:
    return isinstance(f, _Paragraph) and bool(getattr(f.style, "keepWithNext", False))


def keep_floats_with_text(story: list[Flowable], frame_height: float) -> list[Flowable]:
    """Each body paragraph directly followed by figures, tables or panels (spaces between
    them allowed) becomes a :class:`KeepTail` with them and with the headings before it."""
    out: list[Flowable] = []
    i = 0
    while i < len(story):
        f = story[i]
        if _is_text(f):
            j = i + 1
            floats: list[Flowable] = []
            while j < len(story) and (_is_float(story[j]) or isinstance(story[j], Spacer)):
                floats.append(story[j])
                j += 1
            while floats and isinstance(floats[-1], Spacer):
                floats.pop()
                j -= 1
            if any(_is_float(x) for x in floats):
                lead: list[Flowable] = []
                while out and _keeps_with_next(out[-1]):
                    lead.insert(0, out.pop())
                out.append(KeepTail(f, floats, frame_height, lead))
                i = j
                continue
        out.append(f)
        i += 1
    return out

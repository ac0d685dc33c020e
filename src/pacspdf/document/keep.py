"""Turn a story's figures, tables and callouts into groups kept with the end of the text before them.

ReportLab keeps a flowable with the next one only whole (``keepWithNext``, ``KeepTogether``):
a figure that does not fit below its paragraph goes to the next page alone, or drags the whole
paragraph with it and leaves a gap. :class:`KeepTail` does what a typesetter does instead: when
the paragraph and the floats after it do not fit, the paragraph is split so that its last
lines (at least :data:`TAIL_LINES`) go over with the floats, and the float opens the next page
beside its text. When that would leave more than :data:`MAX_GAP` of the page empty, the floats
open the next page after all, right after the text that ends this one (a deferred float).

A run of several floats (a figure, a table and a callout at a chapter's end) that cannot all
follow the paragraph's last lines on one page is split as a typesetter splits it: the first
floats stay on this page inside the paragraph (the text above them fills the page, its last
lines continue on the next page), and the last floats go over with those lines, so that no
float opens a page alone. A float is deferred to the next page only when text of its section
follows it there; at a section's end the paragraph's last lines go over with it instead.
"""

from __future__ import annotations

from typing import Any

from reportlab.platypus import Flowable, Indenter, KeepTogether, ListFlowable, Spacer, Table
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
                 lead: list[Flowable] | None = None, text_follows: bool = True,
                 opens_page: bool = False) -> None:
        super().__init__()
        self.text = text
        self.floats = floats
        self.frame_height = frame_height
        self.lead = lead or []
        self.text_follows = text_follows  # body text of the section comes after the floats
        self.opens_page = opens_page  # the last lines planned for the next page go there

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
        k = KeepTail(text, floats, self.frame_height, lead, self.text_follows, self.opens_page)
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
        if self.opens_page and not at_top:
            return [FrameBreak(), self._again(self.text, self.floats, self.lead)]
        if lead_h + text_h + floats_h <= ah:
            return content
        style: Any = self.text.style  # type: ignore[attr-defined]  # a body Paragraph
        leading = float(style.leading)
        room = ah - lead_h  # for the paragraph, below its headings
        if room < HEAD_LINES * leading:  # the headings would end the page: plan on the next
            return content if at_top else [FrameBreak(), self._again(self.text, self.floats, self.lead)]
        plan = self._plan(aw, ah, room, leading)
        if plan is not None:
            return [*self.lead, *plan]
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
                    return [*self.lead, parts[0],
                            KeepTail(parts[1], self.floats, self.frame_height, None, self.text_follows)]
        elif ah <= gap and not at_top:
            return [FrameBreak(), *content]
        return content

    def _gap_allowed(self) -> float:
        """The most of the page left empty above a page break to keep the floats with text."""
        panel_first = isinstance(next(f for f in self.floats if _is_float(f)), Table)
        return (MAX_GAP if panel_first else MAX_GAP_FIGURE) * self.frame_height

    def _plan(self, aw: float, ah: float, room: float, leading: float) -> list[Flowable] | None:
        """Where the paragraph breaks and which floats stay on this page, inside it, so that the
        others follow its last lines on the next page; None when no such break fits."""
        text_h = float(self.text.wrap(aw, 0xFFFFFF)[1])
        lines = round(text_h / leading)
        space = float(self.text.getSpaceBefore())
        if lines < HEAD_LINES + TAIL_LINES:
            return None
        heights = [self._h(f, aw, ah) for f in self.floats]
        best: tuple[float, int, int] | None = None  # (gap, j, lines kept here)
        for j in range(len(self.floats) + 1):
            if j and not _is_float(self.floats[j - 1]):
                continue  # a run is cut after a float, never after the space behind it
            rest = self.floats[j:]
            while rest and isinstance(rest[0], Spacer):
                rest = rest[1:]
            if not any(_is_float(f) for f in rest):
                break  # every float here: the last would end the run with no text below
            avail = room - space - sum(heights[:j]) - 1.0  # 1 pt for rounding
            most = min(int(avail // leading), lines - TAIL_LINES)
            least = TAIL_LINES if j else HEAD_LINES  # a float keeps TAIL_LINES lines beside it
            if most < least:
                break  # more floats here leave less room still
            rest_h = sum(heights[len(self.floats) - len(rest):])
            # Keep as many lines here as fit, or fewer so that the rest of the paragraph is long
            # enough to be planned again on the next page (with floats inside it, if need be).
            for here in dict.fromkeys((most, min(most, lines - 2 * TAIL_LINES))):
                if here < least:
                    continue
                fits = (lines - here) * leading + rest_h <= self.frame_height - 1.0
                if not fits and lines - here < 2 * TAIL_LINES:
                    continue
                gap = avail - here * leading
                if best is None or (gap < best[0] and best[0] > self._gap_allowed()):
                    best = (gap, j, here)
                break
            if best is not None and best[0] <= self._gap_allowed():
                break
        if best is None:
            return None
        gap, j, here = best
        if gap > self._gap_allowed() and self.text_follows:
            return None  # the floats may open the next page: text follows them there
        if j == 0 and here * leading >= text_h - 0.5 * leading:
            return None
        parts = self.text.split(aw, space + (here + 0.5) * leading)
        if len(parts) != 2:
            return None
        rest = self.floats[j:]
        while rest and isinstance(rest[0], Spacer):
            rest = rest[1:]
        return [parts[0], *self.floats[:j],
                KeepTail(parts[1], list(rest), self.frame_height, None, self.text_follows, True)]


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
                after = story[j:]
                while after and isinstance(after[0], Spacer):
                    after = after[1:]
                follows = bool(after) and (isinstance(after[0], ListFlowable | Indenter) or (
                    isinstance(after[0], _Paragraph) and not _keeps_with_next(after[0])))
                out.append(KeepTail(f, floats, frame_height, lead, follows))
                i = j
                continue
        out.append(f)
        i += 1
    return out

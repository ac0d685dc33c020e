"""ReportLab's Paragraph, remembering its line breaking between wraps at the same width."""

from __future__ import annotations

from typing import cast

from reportlab.platypus import Paragraph as _Paragraph


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
    """

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        state = self.__dict__
        last = state.get("_last_wrap")
        if last is not None and last[0] == availWidth and last[1] is state.get("blPara"):
            self.width, self.height = last[2]
            return cast(tuple[float, float], last[2])
        size: tuple[float, float] = super().wrap(availWidth, availHeight)
        state["_last_wrap"] = (availWidth, state.get("blPara"), size)
        return size

    def draw(self) -> None:
        self.__dict__.pop("_last_wrap", None)
        super().draw()

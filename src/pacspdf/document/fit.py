"""Turn a string and a box width into what fits: a smaller size, wrapped lines, or an ellipsis.

Cover fields, the running header and the footer are drawn straight on the canvas, where
nothing wraps by itself; these helpers make them stay inside their boxes whatever the
content (a 50-character report code, a 190-character short title, a long publisher name).
"""

from __future__ import annotations

import re

from reportlab.pdfbase.pdfmetrics import stringWidth

ELLIPSIS = "\u2026"
_BREAK = re.compile(r"(?<=[\s\-/_\u2013\u2014])")  # after spaces, hyphens, slashes, dashes


def width(text: str, font: str, size: float) -> float:
    return float(stringWidth(text, font, size))


def fit_size(text: str, font: str, size: float, box: float, smallest: float) -> float:
    """The largest size from ``size`` down to ``smallest`` (half-point steps) at which
    ``text`` fits ``box``; ``smallest`` when none does."""
    while size > smallest and width(text, font, size) > box:
        size = max(smallest, size - 0.5)
    return size


def ellipsize(text: str, font: str, size: float, box: float) -> str:
    """``text``, cut at a word where possible and ended with an ellipsis, to fit ``box``."""
    if width(text, font, size) <= box:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if width(text[:mid].rstrip() + ELLIPSIS, font, size) <= box:
            lo = mid
        else:
            hi = mid - 1
    cut = text[:lo]
    space = cut.rfind(" ")
    if space > lo * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:\u2013-") + ELLIPSIS


def wrap(text: str, font: str, size: float, box: float, max_lines: int) -> list[str]:
    """``text`` in at most ``max_lines`` lines of ``box`` width, broken after spaces, hyphens
    and slashes (a report code breaks at its hyphens); the last line gets an ellipsis when
    the text does not fit."""
    pieces = [p for p in _BREAK.split(text) if p]
    lines: list[str] = []
    current = ""
    for piece in pieces:
        if current and width((current + piece).rstrip(), font, size) > box:
            lines.append(current.rstrip())
            current = piece
        else:
            current += piece
    if current:
        lines.append(current.rstrip())
    lines = [ln if width(ln, font, size) <= box else ellipsize(ln, font, size, box) for ln in lines]
    if len(lines) > max_lines:
        last = lines[max_lines - 1].rstrip(ELLIPSIS)
        while last and width(last + ELLIPSIS, font, size) > box:
            last = last[:-1]
        lines = [*lines[:max_lines - 1], last.rstrip() + ELLIPSIS]
    return lines

"""Turn a name in any script into font runs in visual order, wrapped or shortened to fit a width."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Protocol

ELLIPSIS = "\u2026"


class Font(Protocol):
    """A font that can tell which characters it has and how wide they are."""

    def can_show(self, text: str) -> bool: ...
    def width(self, text: str, size: float) -> float: ...


Run = tuple[int, str]  # (index of the font in the list, text)


JOINERS = "\u200c\u200d"  # zero-width non-joiner and joiner
# Scripts in which a joiner between two letters selects a form (half form, conjunct, rakar):
# the Indic blocks and Sinhala, Myanmar and Khmer.
_JOINING_BLOCKS = ((0x0900, 0x0DFF), (0x1000, 0x109F), (0x1780, 0x17FF))


def _in_joining_script(ch: str) -> bool:
    return any(lo <= ord(ch) <= hi for lo, hi in _JOINING_BLOCKS)


def keeps_joiner(text: str, i: int) -> bool:
    """Whether ``text[i]`` is a joiner that matters: one between two characters of a script
    where it selects a form. Anywhere else it draws nothing and is dropped."""
    return (text[i] in JOINERS and 0 < i < len(text) - 1
            and _in_joining_script(text[i - 1]) and _in_joining_script(text[i + 1]))


_FIRST_RTL = "\u0590"  # no character before the Hebrew block is right-to-left (R or AL)


def has_rtl(text: str) -> bool:
    if text.isascii() or max(text) < _FIRST_RTL:   # Latin, Greek, Cyrillic...: one pass in C
        return False
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def visual(text: str) -> str:
    """``text`` in the order it is drawn left to right: Arabic letters joined into their
    contextual forms and right-to-left runs reversed (the Unicode bidi algorithm)."""
    if not has_rtl(text):
        return text
    import arabic_reshaper
    from bidi import get_display

    base = "R" if unicodedata.bidirectional(next(ch for ch in text if unicodedata.bidirectional(ch)
                                                in ("L", "R", "AL"))) != "L" else "L"
    return str(get_display(arabic_reshaper.reshape(text), base_dir=base))


def runs(text: str, fonts: Sequence[Font]) -> list[Run] | None:
    """``text`` split into runs, each in the first font that has all its characters (spaces
    and joiners stay with the run they are in); None when some character is in no font."""
    if fonts and fonts[0].can_show(text):  # the common case: the first font has every character
        return [(0, text)] if text else []
    out: list[Run] = []
    font_of = {ch: next((i for i, f in enumerate(fonts) if f.can_show(ch)), None) for ch in set(text)}
    for ch in text:
        if (ch == " " or ch in JOINERS) and out:
            out[-1] = (out[-1][0], out[-1][1] + ch)
            continue
        index = font_of[ch]
        if index is None:
            return None
        if out and out[-1][0] == index:
            out[-1] = (index, out[-1][1] + ch)
        else:
            out.append((index, ch))
    return out


def width(parts: list[Run], fonts: Sequence[Font], size: float) -> float:
    return sum(fonts[i].width(t, size) for i, t in parts)


def can_show(text: str, fonts: Sequence[Font]) -> bool:
    return runs(visual(text), fonts) is not None


def _cut(text: str, fonts: Sequence[Font], size: float, room: float) -> str:
    """``text`` cut at the end, with an ellipsis, to fit ``room`` (logical order): the
    longest prefix that fits, found by bisection."""
    def fits(n: int) -> bool:
        parts = runs(visual(text[:n] + ELLIPSIS), fonts)
        return parts is not None and width(parts, fonts, size) <= room

    lo, hi = 0, len(text)  # fits(lo) is assumed; find the largest n that fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + ELLIPSIS


def wrap(text: str, fonts: Sequence[Font], size: float, min_size: float, room: float,
         max_lines: int = 2) -> tuple[list[list[Run]], float]:
    """``text`` on at most ``max_lines`` lines no wider than ``room``, shrinking the size
    down to ``min_size`` before cutting the last line with an ellipsis.

    Lines break between words, preferring the break after a comma (between a name and a
    company). Each line is laid out in visual order on its own.
    """
    words = text.split(" ")
    s = size
    while True:
        lines = _break(words, fonts, s, room, max_lines)
        if lines is not None or s <= min_size:
            break
        s = max(min_size, s - 0.5)
    if lines is None:  # the last line holds the rest of the text, cut to fit
        lines = _break(words, fonts, s, room, max_lines, force=True) or [text]
        lines[-1] = _cut(lines[-1], fonts, s, room)
    out = []
    for line in lines:
        parts = runs(visual(line), fonts)
        out.append(parts or [])
    return out, s


def _fits(text: str, fonts: Sequence[Font], size: float, room: float) -> bool:
    parts = runs(visual(text), fonts)
    return parts is not None and width(parts, fonts, size) <= room


def _break(words: list[str], fonts: Sequence[Font], size: float, room: float, max_lines: int,
           force: bool = False) -> list[str] | None:
    """The words on lines no wider than ``room``: one line if it fits, else name and company
    on a line each (split at the first comma), else greedily. None when that takes more than
    ``max_lines`` lines or a word is wider than ``room``, unless ``force``."""
    text = " ".join(words)
    if _fits(text, fonts, size, room):
        return [text]
    if ", " in text and max_lines >= 2:
        first, rest = text.split(", ", 1)
        if _fits(first + ",", fonts, size, room) and _fits(rest, fonts, size, room):
            return [first + ",", rest]
    # Greedy, on word widths (joining and reordering happen within words, so a line is as
    # wide as its words and spaces); the lines are measured whole at the end.
    space = min((f.width(" ", size) for f in fonts if f.can_show(" ")), default=size / 4)
    widths = []
    for word in words:
        parts = runs(visual(word), fonts)
        widths.append(width(parts, fonts, size) if parts is not None else room * 2)
    lines: list[str] = []
    used = 0.0
    for word, w in zip(words, widths, strict=True):
        if lines and used + space + w <= room:
            lines[-1] = f"{lines[-1]} {word}"
            used += space + w
        elif len(lines) < max_lines:
            lines.append(word)
            used = w
        elif force:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            return None
    if not force and any(not _fits(ln, fonts, size, room) for ln in lines):
        return None
    return lines


def footer_line(prefix: str, name: str, keep: list[str], fonts: Sequence[Font], size: float,
                min_size: float, room: float, sep: str = " · ") -> tuple[list[Run], float]:
    """``prefix + name + sep + keep...`` on one line: the name is shortened first (with an
    ellipsis), so the parts in ``keep`` (email, copy ID) stay whole; only when they alone do
    not fit does the size shrink, and as a last resort the line is cut at the end."""
    tail = sep + sep.join(k for k in keep if k) if any(keep) else ""
    s = size
    while True:
        fixed = runs(visual(prefix + tail), fonts)
        if (fixed is not None and width(fixed, fonts, s) <= room) or s <= min_size:
            break
        s = max(min_size, s - 0.25)
    whole = prefix + name + tail
    if _fits(whole, fonts, s, room):
        return runs(visual(whole), fonts) or [], s
    fixed_w = width(runs(visual(prefix + tail), fonts) or [], fonts, s)
    if fixed_w < room:
        short = _cut(name, fonts, s, room - fixed_w)
        line = prefix + short + tail
        if _fits(line, fonts, s, room):
            return runs(visual(line), fonts) or [], s
    return runs(visual(_cut(whole, fonts, s, room)), fonts) or [], s

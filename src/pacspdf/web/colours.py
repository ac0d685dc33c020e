"""Turn a brand's colours into the web page's palette, every text pair at WCAG AA contrast (4.5:1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AA = 4.5
WHITE = "#FFFFFF"
INK = "#111111"


def _channel(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance of ``#RRGGBB``."""
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _mix(hex_colour: str, towards: str, t: float) -> str:
    a = [int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(towards[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02X}" for x, y in zip(a, b, strict=True))


def readable(fg: str, bg: str, ratio: float = AA) -> str:
    """``fg``, moved towards black or white (whichever ``bg`` contrasts more with) until it reads."""
    if contrast(fg, bg) >= ratio:
        return fg.upper()
    target = INK if contrast(INK, bg) >= contrast(WHITE, bg) else WHITE
    for step in range(1, 21):
        moved = _mix(fg, target, step / 20)
        if contrast(moved, bg) >= ratio:
            return moved
    return target


def on(bg: str) -> str:
    """White or ink text, whichever contrasts more with ``bg``."""
    return WHITE if contrast(WHITE, bg) >= contrast(INK, bg) else INK


def _surface(colour: str, text: str, ratio: float = AA) -> str:
    """A background ``colour`` darkened or lightened until ``text`` reads on it."""
    if contrast(text, colour) >= ratio:
        return colour.upper()
    target = INK if text == WHITE else WHITE
    for step in range(1, 21):
        moved = _mix(colour, target, step / 20)
        if contrast(text, moved) >= ratio:
            return moved
    return target


@dataclass(frozen=True)
class Palette:
    """CSS colours of the page; ``pairs`` lists every (text, background) the stylesheet uses."""

    primary: str        # headings and links on white
    on_primary: str     # text on the header band
    band: str           # header band background
    text: str
    muted: str
    accent: str         # call-to-action background
    on_accent: str
    tint: str           # panels
    rule: str
    focus: str

    def css(self) -> str:
        names = ("primary", "on_primary", "band", "text", "muted", "accent", "on_accent", "tint", "rule",
                 "focus")
        return ";".join(f"--{n.replace('_', '-')}:{getattr(self, n)}" for n in names)

    @property
    def pairs(self) -> list[tuple[str, str, str]]:
        """(what, foreground, background) for every text the stylesheet sets on a colour."""
        return [("body text", self.text, WHITE), ("muted text", self.muted, WHITE),
                ("headings and links", self.primary, WHITE), ("header band", self.on_primary, self.band),
                ("call to action", self.on_accent, self.accent), ("panel text", self.text, self.tint),
                ("panel muted text", self.muted, self.tint), ("panel links", self.primary, self.tint)]


def palette_for(colours: Any) -> Palette:
    """The page palette of a brand's ``colours`` (primary, accent, text, muted, tint, rule)."""
    tint = colours.tint.upper()
    if contrast(INK, tint) < AA + 2:  # a dark "tint" cannot be a panel behind body text
        tint = "#F4F6F8"
    text = readable(readable(colours.text, WHITE), tint)
    muted = readable(readable(colours.muted, WHITE), tint)
    primary = readable(readable(colours.primary, WHITE), tint)
    band = colours.primary.upper()
    on_band = on(band)
    band = _surface(band, on_band)
    accent_text = on(colours.accent)
    accent = _surface(colours.accent, accent_text)
    focus = readable(colours.accent, WHITE, 3.0)  # non-text contrast: 3:1
    return Palette(primary=primary, on_primary=on_band, band=band, text=text, muted=muted, accent=accent,
                   on_accent=accent_text, tint=tint, rule=colours.rule.upper(), focus=focus)

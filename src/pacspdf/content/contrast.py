"""Turn a brand's colours into contrast problems: WCAG 2 ratios of every pair the document prints."""

from __future__ import annotations

from dataclasses import dataclass

TEXT_MIN = 4.5      # WCAG AA, normal text
GRAPHIC_MIN = 3.0   # WCAG AA, non-text contrast (chart series against their background)
WHITE = "#FFFFFF"


def _channel(v: float) -> float:
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    """Relative luminance of ``#RRGGBB`` (WCAG 2)."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def ratio(a: str, b: str) -> float:
    """The contrast ratio of two colours, from 1 (none) to 21 (black on white)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@dataclass(frozen=True)
class Pair:
    """A foreground colour key printed on a background colour key (``white`` is paper)."""

    fg: str
    bg: str
    use: str
    minimum: float = TEXT_MIN


#: Every colour pair the sample prints text or data in (keys of the brand's ``colours``).
PAIRS = (
    Pair("text", "white", "body text"),
    Pair("text", "tint", "text in panels"),
    Pair("muted", "white", "source lines, captions and footers"),
    Pair("muted", "tint", "labels in panels"),
    Pair("primary", "white", "headings"),
    Pair("primary", "tint", "headings in panels"),
    Pair("accent", "white", "chapter labels, figure numbers and notes"),
    Pair("white", "primary", "table headers and the cover title"),
    Pair("white", "accent", "buttons and the sample badge"),
    Pair("highlight", "primary", "the cover's label on the brand band"),
)


def problems(colours: dict[str, object]) -> list[tuple[tuple[str | int, ...], str]]:
    """(field path, message) for each pair below its WCAG AA minimum, and each chart colour
    below 3:1 against white paper."""
    def get(key: str) -> str:
        return WHITE if key == "white" else str(colours[key])

    out: list[tuple[tuple[str | int, ...], str]] = []
    for p in PAIRS:
        value = ratio(get(p.fg), get(p.bg))
        if value < p.minimum:
            key = p.fg if p.fg != "white" else p.bg
            out.append((("colours", key), f"{get(p.fg)} on {get(p.bg)} ({p.use}) has a contrast of "
                        f"{value:.2f}:1; WCAG AA needs {p.minimum:.1f}:1"))
    chart = colours.get("chart")
    for i, colour in enumerate(chart if isinstance(chart, list) else []):
        value = ratio(str(colour), WHITE)
        if value < GRAPHIC_MIN:
            out.append((("colours", "chart", i), f"chart colour {colour} has a contrast of {value:.2f}:1 "
                        f"against the white page; WCAG AA needs {GRAPHIC_MIN:.1f}:1 for graphics"))
            continue
        # Value labels sit inside bars and donut segments, in white or the text colour.
        inside = max(ratio(WHITE, str(colour)), ratio(get("text"), str(colour)))
        if inside < TEXT_MIN:
            out.append((("colours", "chart", i), f"labels on chart colour {colour} reach a contrast of "
                        f"only {inside:.2f}:1 in white or the text colour; WCAG AA needs {TEXT_MIN:.1f}:1"))
    return out

"""Content -> Problems about charts' alternative text: present, not the title, not a placeholder.

A screen reader reads a chart's ``alt`` instead of the chart (PDF/UA-1 7.3). Text a tool would
write for the author (the id, the kind, "Figure 3", a file name, "TODO"), the title again, or a
couple of words tell a reader nothing the caption has not, so ``check`` refuses them.
"""

from __future__ import annotations

import re

from pacspdf.validate.report import Reporter

#: Fewer words than this cannot say what a chart shows.
MIN_WORDS = 6
_PLACEHOLDER = re.compile(
    r"^(?:an?\s+|the\s+)?(?:alt(?:ernative)?(?:\s+text)?|description|image|picture|img|photo|graphic|"
    r"figure|fig\.?|chart|graph|plot|diagram|todo|tbd|fixme|xxx+|placeholder|lorem ipsum.*|n/?a|none|"
    r"(?:bar|line|donut|pie|stacked|grouped|horizontal)[\s_-]*(?:bar\s+)?(?:chart|graph)?)"
    r"[\s\d.:#_-]*$", re.IGNORECASE)
_FILE = re.compile(r"\.(?:png|jpe?g|svg|gif|pdf|webp|tiff?)\s*$", re.IGNORECASE)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w{}|().]+", " ", text.lower()).split())


def alt_problem(alt: str, title: str, chart_id: str, kind: str) -> str | None:
    """Why ``alt`` is not alternative text for a chart, or None when it may be."""
    text = " ".join(alt.split())
    if not text:
        return "is empty: say what the chart shows (a screen reader reads this instead of the chart)"
    if _norm(text) == _norm(title):
        return "repeats the title: say what the chart shows (the trend, the largest and smallest values)"
    bare = text.strip(" .:")
    if (bare.lower() in {chart_id.lower(), kind.lower(), kind.replace("_", " ").lower()}
            or _PLACEHOLDER.match(bare) or _FILE.search(bare)):
        return f'"{text[:60]}" looks generated, not written: say what the chart shows'
    words = len(re.sub(r"\{\{.*?\}\}", " x ", text).split())
    if words < MIN_WORDS:
        return (f"is too short ({words} words) to say what the chart shows; "
                f"write a sentence of at least {MIN_WORDS} words")
    return None


class AltChecks(Reporter):
    """Every chart has alternative text a reader can use."""

    def alt_texts(self) -> None:
        for i, chart in enumerate(self.content.report.charts):
            why = alt_problem(chart.alt, chart.title, chart.id, chart.kind)
            if why is not None:
                self.at(("charts", i, "alt"), f"alternative text {why}")

"""Rendered prose -> Problems where it names the wrong largest or fastest item, or a wrong market CAGR."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from pacspdf.content._yaml import Path_
from pacspdf.content.load import field_path
from pacspdf.derive.model import SegmentView, SizeView
from pacspdf.errors import Problem
from pacspdf.validate.report import (
    CAGR_TOLERANCE,
    Field,
    Reporter,
    line_map,
)

# ---------------------------------------------------------------- statements in prose

_LEADS = r"(?:is|remains) (?:the )?(?:largest|biggest|leading)\b|leads\b|dominates\b"
_FASTEST = r"(?:is|remains) (?:the )?fastest[- ]growing\b|grows (?:the )?fastest\b"


_CAGR_TEXT = re.compile(r"\bmarket\b[^.]*?(?:CAGR|compound annual growth rate) of (?:about |around |"
                        r"approximately |roughly |some )?(\d+(?:\.(\d+))?)\s?%")


@dataclass
class Statements:
    """Names stated as the largest or fastest-growing item must be the ones the tables say;
    a market CAGR written in prose must match the series."""

    checker: Reporter
    fields: dict[Path_, Field]
    context: dict[str, Any]

    def report(self, path: Path_, near: str, message: str) -> None:
        """Report at the template line matching the regex ``near`` (else at the field)."""
        f = self.fields.get(path)
        if f is not None and near:
            for number, line in enumerate(f.text.split("\n"), 1):
                if re.search(near, line):
                    lines = line_map(f.located.spans.get(f.path), f.text)
                    if lines:
                        self.checker.problems.append(Problem(f.file, lines[number - 1], 0,
                                                             field_path(path), message))
                        return
        self.checker.at(path, message)

    def run(self, rendered: dict[Path_, str]) -> None:
        r = self.checker.content.report
        segments: dict[str, SegmentView] = self.context["segments"]
        for i, seg in enumerate(r.segments):
            view = segments[seg.id]
            for j, item in enumerate(seg.items):
                path: Path_ = ("segments", i, "items", j, "description")
                text = rendered.get(path, "")
                if re.match(r"(?:the )?(?:largest|biggest)\b", text, re.IGNORECASE):
                    self.leading(path, view, item.name, "")
                if re.match(r"(?:the )?fastest[- ]growing\b", text, re.IGNORECASE):
                    self.fastest(path, view, item.name, "")
        names = sorted({i.name for v in segments.values() for i in v.items}, key=len, reverse=True)
        alternatives = "|".join(re.escape(n) for n in names)
        patterns = ((re.compile(rf"(?<![\w-])({alternatives}) (?:{_LEADS})"), _LEADS, self.leading),
                    (re.compile(rf"(?<![\w-])({alternatives}) (?:{_FASTEST})"), _FASTEST, self.fastest))
        for path, text in rendered.items():
            if path[0] != "sections":
                continue
            flat = " ".join(text.replace("*", "").split())
            for pattern, claim, check in patterns if names else ():
                for name in dict.fromkeys(m.group(1) for m in pattern.finditer(flat)):
                    for view in segments.values():
                        if any(item.name == name for item in view.items):
                            check(path, view, name, rf"{re.escape(name)}\s+(?:{claim})")
            self.cagr(path, flat)

    def leading(self, path: Path_, view: SegmentView, name: str, near: str) -> None:
        year = self.checker.content.report.base_year
        if view.leading.name != name and year in view.leading.shares:
            self.report(path, near, f'says "{name}" is the largest in segments.{view.id}, but the '
                                    f'table\'s largest in {year} is "{view.leading.name}" '
                                    f"({view.leading.shares[year]:.1f} %)")

    def fastest(self, path: Path_, view: SegmentView, name: str, near: str) -> None:
        if view.fastest.name != name and math.isfinite(view.fastest.cagr):
            self.report(path, near, f'says "{name}" grows fastest in segments.{view.id}, but the '
                                    f'table\'s fastest-growing is "{view.fastest.name}" '
                                    f"({view.fastest.cagr:.1f} % CAGR)")

    def cagr(self, path: Path_, text: str) -> None:
        size: SizeView = self.context["size"]
        for match in _CAGR_TEXT.finditer(text):
            stated = float(match.group(1))
            decimals = len(match.group(2) or "")
            allowed = max(CAGR_TOLERANCE, 0.5 * 10 ** -decimals)
            if abs(stated - size.cagr) > allowed + 1e-9:
                self.report(path, rf"(?:CAGR|compound annual growth rate) of\D*{re.escape(match.group(1))}",
                            f"states a market CAGR of {match.group(1)} %, but the market-size "
                            f"series gives {size.cagr:.2f} % over {size.start}–{size.end}")

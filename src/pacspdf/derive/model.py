"""The derived figures a report's prose, charts and tables read: plain data, no pandas.

:mod:`pacspdf.derive.frames` fills these from the tables with pandas for a build;
:mod:`pacspdf.derive.plain` fills them in plain Python for ``pacspdf check``. Asking for a
figure the tables do not have raises TemplateDataError, which names what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Names the prose templates can use (see :func:`template_context`).
CONTEXT_NAMES = frozenset({"report", "brand", "size", "segments", "players", "leader"})


class TemplateDataError(LookupError):
    """A template asked for a figure the tables do not have."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def did_you_mean(word: str, choices: list[str] | set[str] | tuple[str, ...]) -> str:
    """' (did you mean "X"?)' for the closest of ``choices``, or ''."""
    import difflib  # only when there is a problem: it costs ~10 ms to import

    if len(word) > 100:  # no name is that long; difflib's cost grows with the product of lengths
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not close:  # case-insensitive second try ("europe" -> "Europe")
        lowered = {c.lower(): c for c in choices}
        close = [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered), n=1,
                                                               cutoff=0.6)]
    return f' (did you mean "{close[0]}"?)' if close else ""


@dataclass(frozen=True)
class Series:
    """One named quantity by year: value in report units and share of the market in %."""

    name: str
    values: dict[int, float]
    shares: dict[int, float]
    cagr: float
    description: str = ""

    def value(self, year: int) -> float:
        if year not in self.values:
            raise TemplateDataError(f'no value of "{self.name}" for {year}')
        return self.values[year]

    def share(self, year: int) -> float:
        if year not in self.shares:
            raise TemplateDataError(f'no share of "{self.name}" for {year}')
        return self.shares[year]


@dataclass(frozen=True)
class SizeView:
    """The market size by year, its year-on-year growth (%) and its forecast-period CAGR (%)."""

    values: dict[int, float]
    growth: dict[int, float]
    cagr: float
    base_year: int
    start: int
    end: int

    @property
    def years(self) -> list[int]:
        return sorted(self.values)

    def at(self, year: int) -> float:
        if year not in self.values:
            raise TemplateDataError(f"no market size for {year}")
        return self.values[year]

    @property
    def first(self) -> float:
        return self.values[self.years[0]]

    @property
    def last(self) -> float:
        return self.values[self.years[-1]]

    @property
    def base(self) -> float:
        return self.at(self.base_year)

    def multiple(self, a: int, b: int) -> float:
        if not self.at(a):
            raise TemplateDataError(f"market size for {a} is zero")
        return self.at(b) / self.at(a)


@dataclass(frozen=True)
class SegmentView:
    """One segmentation axis: its items, the largest (base year) and fastest-growing one."""

    id: str
    label: str
    items: list[Series]
    years: list[int]
    leading: Series
    fastest: Series
    countries: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str) -> Series:
        for item in self.items:
            if item.name == name:
                return item
        raise TemplateDataError(f'no item "{name}" in segments.{self.id}'
                                + did_you_mean(name, [i.name for i in self.items]))

    def __getitem__(self, name: str) -> Series:
        return self.get(name)


@dataclass(frozen=True)
class PlayerView:
    company: str
    headquarters: str
    focus: str
    share: float

    @property
    def is_rest(self) -> bool:
        """A row for the rest of the market ("Others", "Other vendors", "Rest of market"):
        kept in tables and charts, never called a key player or the leader."""
        name = self.company.strip().lower()
        return name in ("others", "other") or name.startswith(("other ", "others ", "rest of"))


def ranked(players: list[PlayerView]) -> list[PlayerView]:
    """Companies by share, largest first (ties by name), the rest of the market last."""
    order = sorted(players, key=lambda p: (-p.share, p.company))
    return [p for p in order if not p.is_rest] + [p for p in order if p.is_rest]


@dataclass(frozen=True)
class Derived:
    size: SizeView
    segments: dict[str, SegmentView]
    players: list[PlayerView]

    @property
    def named_players(self) -> list[PlayerView]:
        """The companies by share, without a row for the rest of the market."""
        return [p for p in self.players if not p.is_rest]

    @property
    def leader(self) -> PlayerView:
        return max(self.named_players or self.players, key=lambda p: p.share)


def template_context(content: Any, derived: Derived) -> dict[str, Any]:
    """The names prose templates see (:data:`CONTEXT_NAMES`): the report, its brand and the figures."""
    return {"report": content.report, "brand": content.brand, "size": derived.size,
            "segments": derived.segments, "players": derived.players,
            "leader": derived.leader if derived.players else None}

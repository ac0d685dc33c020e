"""Checks a loaded report's content for everything the schema cannot see.

``validate(content)`` returns every problem at once, sorted by file, line and column:
numbers that contradict each other, names that do not match, references to things that
do not exist, template mistakes, and a warning for each set of illustrative figures.

This module is on the ``pacspdf check`` path, so it must stay light: plain Python, PyYAML
and Jinja2 only (no pandas, matplotlib or ReportLab). The prose templates are
rendered against a pure-Python stand-in of :mod:`pacspdf.derive`'s views.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes

from pacspdf.content._yaml import Located, Path_, Span
from pacspdf.content.load import Content, display_path, field_path, load, one_line
from pacspdf.content.model import Block, Chart, Segmentation, Table
from pacspdf.content.schema import Record, field_names, fields_of
from pacspdf.content.tables import CsvTable
from pacspdf.errors import ContentError, Problem
from pacspdf.metrics import cagr as compound_growth
from pacspdf.template_tree import Evaluator, parsed, walk
from pacspdf.views import (
    PlayerView,
    SegmentView,
    Series,
    SizeView,
    TemplateDataError,
    did_you_mean,
)

#: Segment shares of one year must add up to 100 within this many percentage points.
SHARE_TOLERANCE = 0.5
#: A stated CAGR must match the series within this many percentage points.
CAGR_TOLERANCE = 0.1
#: Years a table may hold (the schema's range for years).
FIRST_YEAR, LAST_YEAR = 1900, 2200
#: Names the prose templates can use (see pacspdf.text).
CONTEXT_NAMES = frozenset({"report", "brand", "size", "segments", "players", "leader"})

ERROR, WARNING, NOTE = "error", "warning", "note"


# ---------------------------------------------------------------- helpers

def _years(years: list[int]) -> str:
    """2024, 2025, 2026, 2029 -> '2024–2026, 2029'."""
    out: list[str] = []
    ys = sorted(set(years))
    i = 0
    while i < len(ys):
        j = i
        while j + 1 < len(ys) and ys[j + 1] == ys[j] + 1:
            j += 1
        out.append(str(ys[i]) if i == j else f"{ys[i]}–{ys[j]}")
        i = j + 1
    return ", ".join(out)


# ---------------------------------------------------------------- country names

@dataclass(frozen=True)
class Countries:
    """The built-in list of country names: lower-cased name or alias -> preferred name."""

    names: dict[str, str]

    def canonical(self, name: str) -> str | None:
        return self.names.get(_norm(name))

    def split_into_countries(self, name: str) -> list[str] | None:
        """``name`` as two or more known country names run together, or None."""
        words = _norm(name).split(" ")
        if len(words) > 8:  # no run of country names is that long; keeps this cheap
            return None
        best: dict[int, list[str]] = {0: []}
        for end in range(1, len(words) + 1):
            for start in range(end):
                if start in best and " ".join(words[start:end]) in self.names:
                    candidate = [*best[start], " ".join(words[start:end])]
                    if end not in best or len(candidate) < len(best[end]):
                        best[end] = candidate
        parts = best.get(len(words))
        if not parts or len(parts) < 2:
            return None
        return [self.names[p] for p in parts]


def _norm(name: str) -> str:
    return " ".join(name.replace("’", "'").split()).lower()


@cache
def countries() -> Countries:
    """The list shipped in ``pacspdf/data/countries.txt``."""
    text = (Path(__file__).parent / "data" / "countries.txt").read_text(encoding="utf-8")
    names: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        preferred, _, aliases = line.partition(" = ")
        preferred = preferred.strip()
        for name in [preferred, *aliases.split("; ")]:
            if name.strip():
                names[_norm(name)] = preferred
    return Countries(names)


# ---------------------------------------------------------------- stand-in views (no pandas)
# These mirror pacspdf.derive (Series, SizeView, SegmentView, PlayerView): the same public
# names, computed the same way, so templates that render here render in a build.
# tests/test_validation.py pins that the public names stay the same.

def _cagr(values: dict[int, float], start: int, end: int) -> float:
    """CAGR between two years of ``values``; NaN when either is missing (already reported)."""
    if start not in values or end not in values:
        return math.nan
    return compound_growth(values[start], values[end], end - start)


def stand_in_context(content: Content) -> dict[str, Any]:
    """The template context a build would use, computed in plain Python from the tables."""
    r, data = content.report, content.data
    start, end = r.forecast.start, r.forecast.end
    size_values = {y: v for y, v in sorted(data.size.items()) if FIRST_YEAR <= y <= LAST_YEAR}
    years = list(size_values)
    growth = {y: (size_values[y] / size_values[p] - 1.0) * 100.0
              for p, y in itertools.pairwise(years) if size_values[p]}
    size = SizeView(size_values, growth, _cagr(size_values, start, end), r.base_year, start, end)
    segments: dict[str, SegmentView] = {}
    for seg in r.segments:
        by_year = data.shares.get(seg.id, {})
        names = [item.name for item in seg.items]
        shares: dict[str, dict[int, float]] = {n: {} for n in names}
        values: dict[str, dict[int, float]] = {n: {} for n in names}
        for year, row in sorted(by_year.items()):
            total = sum(row.get(n, 0.0) for n in names)
            for n in names:
                share = row.get(n, 0.0) / total * 100.0 if total else 0.0
                shares[n][year] = share
                if year in size_values:
                    values[n][year] = share * size_values[year] / 100.0
        items = [Series(n, values[n], shares[n], _cagr(values[n], start, end), item.description)
                 for n, item in zip(names, seg.items, strict=True)]
        countries_by: dict[str, list[str]] = {}
        for segment, country, _line in data.coverage.get(seg.id, []):
            countries_by.setdefault(segment, []).append(country)
        segments[seg.id] = SegmentView(
            seg.id, seg.label, items, sorted(by_year),
            max(items, key=lambda i: i.shares.get(r.base_year, 0.0)),
            max(items, key=lambda i: i.cagr), countries_by)
    players = sorted((PlayerView(p.company, p.headquarters, p.focus, p.share_pct)
                      for p in data.players), key=lambda p: (-p.share, p.company))
    return {"report": r, "brand": content.brand, "size": size, "segments": segments,
            "players": players, "leader": players[0] if players else None}


# ---------------------------------------------------------------- templates: environment

class _UnknownName(jinja2.UndefinedError):
    def __init__(self, message: str, name: str | None, obj: Any) -> None:
        super().__init__(message)
        self.name = name
        self.obj = obj


def _recording(base: type[jinja2.Undefined]) -> type[jinja2.Undefined]:
    """A subclass of ``base`` that remembers every undefined name a render touched."""
    log: list[tuple[str | None, Any]] = []

    def __init__(self: jinja2.Undefined, hint: str | None = None, obj: Any = jinja2.utils.missing,
                 name: str | None = None,
                 exc: type[jinja2.exceptions.TemplateRuntimeError] = jinja2.UndefinedError) -> None:
        base.__init__(self, hint, obj, name, exc)
        log.append((name, obj))
        # jinja2 types this as an exception class; it is only ever called with the message.
        self._undefined_exception = lambda message: _UnknownName(message, name, obj)  # type: ignore[assignment]

    return type("Undefined", (base,), {"__slots__": (), "__init__": __init__, "log": log})


@cache
def _base_environment(currency: str, unit: str) -> jinja2.Environment:
    from pacspdf.text import make_env  # the build's own environment and filters (light: jinja2 only)

    return make_env(currency, unit)


def environment(currency: str = "USD", unit: str = "million") -> jinja2.Environment:
    """The build's Jinja2 environment with an Undefined that records what was missing."""
    base = _base_environment(currency, unit)
    undefined = base.undefined
    if not issubclass(undefined, jinja2.StrictUndefined):
        undefined = jinja2.StrictUndefined
    return base.overlay(undefined=_recording(undefined))


# ---------------------------------------------------------------- the checks

@dataclass
class _Field:
    """One template field: where it is and its text."""

    file: str
    located: Located
    path: Path_
    text: str


@dataclass
class _Checker:
    content: Content
    problems: list[Problem] = field(default_factory=list)

    # -- reporting --------------------------------------------------------------------
    @property
    def report_file(self) -> str:
        return self.content.report_file

    def at(self, path: Path_, message: str, severity: str = ERROR, *,
           brand: bool = False) -> None:
        located = self.content.brand_located if brand else self.content.located
        line, col = located.where(path)
        file = self.content.brand_file if brand else self.content.report_file
        self.problems.append(Problem(file, line, col, field_path(path), message, severity))

    def row(self, table: CsvTable, line: int, column: int, name: str, message: str,
            severity: str = ERROR) -> None:
        self.problems.append(Problem(table.file, line, column, name, message, severity))

    # -- report fields ----------------------------------------------------------------
    def report_fields(self) -> None:
        r = self.content.report
        try:
            date.fromisoformat(r.edition)
        except ValueError:
            self.at(("edition",), f'"{r.edition}" is not a valid date')
        total = sum(c.pages for c in r.full_report)
        if r.full_report and r.pages_in_full_report and total != r.pages_in_full_report:
            self.at(("full_report",), f"the chapters add up to {total} pages, but pages_in_full_report "
                                      f"is {r.pages_in_full_report}")
        if r.base_year > r.forecast.start:
            self.at(("base_year",), f"{r.base_year} is after the forecast start ({r.forecast.start})")
        for key, url in fields_of(self.content.brand.links).items():
            if not url and key == "customise":
                continue
            if not re.match(r"https?://\S+$", url):
                self.at(("links", key), f'"{url}" is not an http(s) address', brand=True)
            for placeholder in re.findall(r"\{[^}]*\}", url):
                if placeholder != "{id}":
                    self.at(("links", key), f'unknown placeholder "{placeholder}" (only {{id}} is '
                                            "replaced, by the report's publisher_id)", brand=True)
        for key in ("email", "sales_email"):
            value = getattr(self.content.brand.contact, key)
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
                self.at(("contact", key), f'"{value}" is not an email address', brand=True)

    # -- market size ------------------------------------------------------------------
    def market_size(self) -> None:
        r = self.content.report
        table = self.content.data.tables.get("market_size")
        if table is None:
            return
        years = self._unique_years(table)
        for row in table.rows:
            value = row.values.get("value")
            if value == 0:
                self.row(table, row.line, row.columns.get("value", 0), "value",
                         "market size must be greater than 0")
        if not years:
            return
        gaps = [y for y in range(min(years), max(years) + 1) if y not in years]
        if gaps:
            after = min((ln for y, ln in years.items() if y > gaps[0]), default=table.header_line)
            self.row(table, after, 0, "year", f"missing year {_years(gaps)} (years must be contiguous)")
        need = range(r.base_year, r.forecast.end + 1)
        outside = [y for y in need if y not in years and not min(years) < y < max(years)]
        if outside:
            self.row(table, table.header_line, 0, "year",
                     f"the series must cover the base year to the forecast end "
                     f"({r.base_year}–{r.forecast.end}); {_years(outside)} missing")
        self._claims()

    def _unique_years(self, table: CsvTable) -> dict[int, int]:
        """year -> line; duplicate years are reported."""
        seen: dict[int, int] = {}
        for row in table.rows:
            year = row.values.get("year")
            if not isinstance(year, int):
                continue
            if not FIRST_YEAR <= year <= LAST_YEAR:
                self.row(table, row.line, row.columns.get("year", 0), "year",
                         f"{year} is not a plausible year ({FIRST_YEAR}–{LAST_YEAR})")
                continue
            if year in seen:
                self.row(table, row.line, row.columns.get("year", 0), "year",
                         f"duplicate year {year} (first on line {seen[year]})")
            else:
                seen[year] = row.line
        return seen

    def _claims(self) -> None:
        r = self.content.report
        size = self.content.data.size
        claims = r.claims
        start, end = r.forecast.start, r.forecast.end
        if claims.cagr_pct is not None and start in size and end in size:
            actual = compound_growth(size[start], size[end], end - start)
            if abs(actual - claims.cagr_pct) > CAGR_TOLERANCE + 1e-9:
                self.at(("claims", "cagr_pct"),
                        f"stated CAGR {claims.cagr_pct:g} % does not match the market-size series "
                        f"({actual:.2f} % over {start}–{end}; allowed ±{CAGR_TOLERANCE} pp)")
        for year, stated in claims.size.items():
            path: Path_ = ("claims", "size", str(year))
            if year not in size:
                self.at(path, f"stated size for {year} but the market-size table has no {year}")
                continue
            if stated <= 0:
                self.at(path, f"stated size {stated:g} must be greater than 0")
                continue
            off = abs(size[year] - stated) / stated * 100.0
            if off > claims.tolerance_pct + 1e-9:
                self.at(path, f"stated size {stated:g} for {year} differs from the table's "
                              f"{size[year]:g} by {off:.1f} % (allowed {claims.tolerance_pct:g} %)")

    # -- segments ---------------------------------------------------------------------
    def segments(self) -> None:
        r = self.content.report
        ids: dict[str, int] = {}
        size_years = {y for y in self.content.data.size if FIRST_YEAR <= y <= LAST_YEAR}
        for i, seg in enumerate(r.segments):
            if seg.id in ids:
                self.at(("segments", i, "id"), f'duplicate segment id "{seg.id}" '
                                               f"(also segments[{ids[seg.id]}])")
            ids.setdefault(seg.id, i)
            names: dict[str, int] = {}
            for j, item in enumerate(seg.items):
                if item.name in names:
                    self.at(("segments", i, "items", j, "name"),
                            f'duplicate item "{item.name}" (also items[{names[item.name]}])')
                names.setdefault(item.name, j)
            if seg.coverage:
                self._coverage(i, seg)
            table = self.content.data.tables.get(f"segment:{seg.id}")
            if table is None or not self._segment_columns(i, seg, table):
                continue
            years = self._unique_years(table)
            self._segment_years(table, years, size_years)
            self._segment_sums(seg, table)

    def _segment_columns(self, i: int, seg: Segmentation, table: CsvTable) -> bool:
        items = [item.name for item in seg.items]
        columns = [h for h in table.header if h != "year"]
        missing = [n for n in items if n not in columns]
        extra = [c for c in columns if c not in items]
        explained: set[str] = set()
        for name in extra:
            hint = did_you_mean(name, missing) or did_you_mean(name, items)
            match = re.search(r'"(.+)"', hint)
            if match:
                explained.add(match.group(1))
            self.row(table, table.header_line, table.header_columns.get(name, 0), name,
                     f'column is not an item of segments[{i}] ("{seg.id}"){hint}')
        for name in missing:
            if name not in explained:
                self.at(("segments", i, "items", items.index(name), "name"),
                        f'"{name}" has no column in {table.file}')
        return not (missing or extra)

    def _segment_years(self, table: CsvTable, years: dict[int, int], size_years: set[int]) -> None:
        if not size_years:
            return
        missing = sorted(size_years - set(years))
        if missing:
            self.row(table, table.header_line, 0, "year",
                     f"missing {_years(missing)} (the market-size table has "
                     f"{_years(sorted(size_years))})")
        for year, line in sorted(years.items()):
            if year not in size_years:
                self.row(table, line, 0, "year", f"{year} is not a year of the market-size table")

    def _segment_sums(self, seg: Segmentation, table: CsvTable) -> None:
        names = [item.name for item in seg.items]
        for row in table.rows:
            if not all(isinstance(row.values.get(n), float) for n in names):
                continue
            total = sum(float(row.values[n]) for n in names)
            if abs(total - 100.0) > SHARE_TOLERANCE + 1e-9:
                self.row(table, row.line, 0, "",
                         f"shares for {row.values.get('year')} add up to {total:.1f} %, "
                         f"expected 100 % (±{SHARE_TOLERANCE})")

    def _coverage(self, i: int, seg: Segmentation) -> None:
        table = self.content.data.tables.get(f"coverage:{seg.id}")
        if table is None:
            return
        items = [item.name for item in seg.items]
        known = countries()
        where: dict[str, tuple[str, int]] = {}  # canonical country -> (segment, line)
        covered: set[str] = set()
        unknown: set[str] = set()
        rows = [r for r in table.rows if "segment" in r.values]
        split_lines: set[int] = set()
        for a, b in itertools.pairwise(rows):
            first, second = str(a.values["country"]), str(b.values["country"])
            for joined in (f"{first} {second}", f"{first}-{second}"):
                whole = known.canonical(joined)
                if whole and not (known.canonical(first) and known.canonical(second)):
                    self.row(table, a.line, a.columns.get("country", 0), "country",
                             f'"{first}" and "{second}" (line {b.line}) look like one country '
                             f'split in two ("{whole}")', WARNING)
                    split_lines.update((a.line, b.line))
                    break
        for row in rows:
            segment, country = str(row.values["segment"]), str(row.values["country"])
            if segment not in items and segment not in unknown:
                unknown.add(segment)
                count = sum(1 for other in rows if other.values["segment"] == segment)
                self.row(table, row.line, row.columns.get("segment", 0), "segment",
                         f'"{segment}" is not an item of segments[{i}] ("{seg.id}")'
                         + did_you_mean(segment, items) + (f"; {count} rows" if count > 1 else ""))
            covered.add(segment)
            col = row.columns.get("country", 0)
            if not country:
                self.row(table, row.line, col, "country", "value missing")
                continue
            canonical = known.canonical(country)
            key = canonical or _norm(country)
            if key in where:
                other, line = where[key]
                same = f' as "{canonical}"' if canonical and canonical != country else ""
                if other == segment:
                    self.row(table, row.line, col, "country",
                             f'"{country}" is listed twice under "{segment}" (line {line}){same}')
                else:
                    self.row(table, row.line, col, "country",
                             f'"{country}" is already listed under "{other}" (line {line}){same}; '
                             "a country belongs to one region")
            else:
                where[key] = (segment, row.line)
            if canonical or row.line in split_lines or _is_remainder(country):
                continue
            parts = known.split_into_countries(country)
            if parts:
                self.row(table, row.line, col, "country",
                         f'"{country}" looks like {len(parts)} countries run together ('
                         + ", ".join(f'"{p}"' for p in parts) + ")", WARNING)
            else:
                self.row(table, row.line, col, "country",
                         f'"{country}" is not a known country name'
                         + did_you_mean(country, sorted(set(known.names.values()))), WARNING)
        for j, name in enumerate(items):
            if name not in covered:
                self.at(("segments", i, "items", j, "name"),
                        f'"{name}" has no countries in {table.file}', WARNING)

    # -- players ----------------------------------------------------------------------
    def players(self) -> None:
        r = self.content.report
        table = self.content.data.tables.get("players")
        if table is None:
            return
        companies: dict[str, int] = {}
        for row in table.rows:
            name = str(row.values.get("company", ""))
            if not name:
                self.row(table, row.line, row.columns.get("company", 0), "company", "value missing")
                continue
            if name in companies:
                self.row(table, row.line, row.columns.get("company", 0), "company",
                         f'duplicate company "{name}" (first on line {companies[name]})')
            companies.setdefault(name, row.line)
        total = sum(p.share_pct for p in self.content.data.players)
        if total > 100.0 + SHARE_TOLERANCE:
            self.row(table, table.header_line, table.header_columns.get("share_pct", 0), "share_pct",
                     f"company shares add up to {total:.1f} %, more than the whole market")
        for p in self.content.data.players:
            if p.share_pct > 100.0:
                self.row(table, p.line, 0, "share_pct", f"{p.share_pct:g} % is more than 100 %")
        seen: dict[str, int] = {}
        for k, profile in enumerate(r.players.profiles):
            path: Path_ = ("players", "profiles", k, "name")
            if profile.name not in companies:
                self.at(path, f'"{profile.name}" is not a company in {table.file}'
                              + did_you_mean(profile.name, list(companies)))
            if profile.name in seen:
                self.at(path, f'"{profile.name}" is profiled twice (also profiles[{seen[profile.name]}])')
            seen.setdefault(profile.name, k)

    # -- references -------------------------------------------------------------------
    def references(self) -> None:
        r = self.content.report
        charts = self._unique_ids("charts", [c.id for c in r.charts], "chart")
        tables = self._unique_ids("tables", [t.id for t in r.tables], "table")
        self._unique_ids("sections", [s.id for s in r.sections], "section")
        displays: tuple[tuple[str, Sequence[Chart | Table]], ...] = (
            ("charts", r.charts), ("tables", r.tables))
        for kind, items in displays:
            for i, item in enumerate(items):
                years = self._data_years(item.data, (kind, i, "data"))
                if years is None:
                    continue
                for k, year in enumerate(item.years):
                    if not years:
                        self.at((kind, i, "years"), f"years have no effect for {item.data} data",
                                WARNING)
                        break
                    if year not in years:
                        self.at((kind, i, "years", k),
                                f"{year} is not a year of the {item.data} data ({_years(years)})")
        used: dict[str, set[str]] = {"figure": set(), "table": set()}
        for path, block in self._blocks():
            for kind, defined, other, other_kind in (("figure", charts, tables, "table"),
                                                     ("table", tables, charts, "figure")):
                ref = getattr(block, kind)
                if ref is None:
                    continue
                used[kind].add(ref)
                if ref not in defined:
                    noun = "chart" if kind == "figure" else "table"
                    hint = (f' (a {"chart" if noun == "table" else "table"} has that id: use '
                            f'"{other_kind}: {ref}")' if ref in other else did_you_mean(ref, defined))
                    self.at((*path, kind), f'no {noun} with id "{ref}"{hint}')
            if block.profiles and not r.players.profiles:
                self.at((*path, "profiles"), "players.profiles is empty: nothing to show", WARNING)
            self._sales_block(path, block)
        shown: tuple[tuple[str, Sequence[Chart | Table], str], ...] = (
            ("charts", r.charts, "figure"), ("tables", r.tables, "table"))
        for kind, items, ref_kind in shown:
            for i, item in enumerate(items):
                if item.id not in used[ref_kind]:
                    self.at((kind, i, "id"), f'"{item.id}" is not shown in any section '
                                             f'(no "{ref_kind}: {item.id}" block)', WARNING)

    def _sales_block(self, path: Path_, block: Any) -> None:
        """Blocks that show report data beyond the tables need that data to be there."""
        r = self.content.report
        if block.outline and not r.full_report:
            self.at((*path, "outline"), "full_report is empty: there is no outline to show")
        if block.deals and r.deals is None:
            self.at((*path, "deals"), "no deals table: add deals (file, source) to the report")
        if block.diagram is not None:
            m = r.methodology
            needs = {"funnels": m.bottom_up or m.top_down, "triangulation": m.triangulation,
                     "interviews": m.interviews}
            if not needs[block.diagram]:
                field = {"funnels": "bottom_up or top_down"}.get(block.diagram, block.diagram)
                self.at((*path, "diagram"), f"methodology.{field} is missing: nothing to draw")
        if block.profile is not None:
            names = {p.name: p for p in r.players.profiles}
            if block.profile not in names:
                self.at((*path, "profile"), f'no profile named "{block.profile}" in players.profiles'
                        + did_you_mean(block.profile, list(names)))
            elif names[block.profile].detail is None:
                self.at((*path, "profile"), f'the profile of "{block.profile}" has no detail '
                        "(overview, financials, products, developments, swot) to show in full")
        if block.actions and r.analyst is None:
            self.at((*path, "actions"), "no analyst: the buttons show no name or phone to call", WARNING)

    def _unique_ids(self, key: str, ids: list[str], noun: str) -> set[str]:
        first: dict[str, int] = {}
        for i, ident in enumerate(ids):
            if ident in first:
                self.at((key, i, "id"), f'duplicate {noun} id "{ident}" (also {key}[{first[ident]}])')
            first.setdefault(ident, i)
        return set(first)

    def _data_years(self, ref: str, path: Path_) -> list[int] | None:
        """The years the data reference has (``[]`` for data without years); None if unknown."""
        data = self.content.data
        if ref == "market_size":
            return sorted(data.size)
        if ref == "players":
            return []
        kind, _, ident = ref.partition(":")
        segment = next((s for s in self.content.report.segments if s.id == ident), None)
        ids = [s.id for s in self.content.report.segments]
        if segment is None:
            self.at(path, f'no segment with id "{ident}"' + did_you_mean(ident, ids))
            return None
        if kind == "coverage":
            if not segment.coverage:
                self.at(path, f'segment "{ident}" has no coverage table')
                return None
            return []
        return sorted(data.shares.get(ident, {}))

    def _blocks(self) -> Iterator[tuple[Path_, Block]]:
        for i, section in enumerate(self.content.report.sections):
            for j, block in enumerate(section.blocks):
                yield ("sections", i, "blocks", j), block
            for k, sub in enumerate(section.subsections):
                for j, block in enumerate(sub.blocks):
                    yield ("sections", i, "subsections", k, "blocks", j), block

    # -- brand colours ----------------------------------------------------------------
    def brand_contrast(self) -> None:
        from pacspdf.contrast import problems

        for path, message in problems(fields_of(self.content.brand.colours)):
            self.at(path, message, brand=True)

    # -- brand files ------------------------------------------------------------------
    def brand_files(self) -> None:
        brand = self.content.brand
        base = self.content.brand_dir
        for key, value, required in (("logo", brand.logo, True), ("logo_white", brand.logo_white, False)):
            if not value and not required:
                continue
            path = self._file((key,), value, base)
            if path is not None:
                head = path.read_bytes()[:512]
                if not _is_image(head):
                    self.at((key,), f"{display_path(path)} is not an SVG, PNG or JPEG image",
                            brand=True)
        fonts: list[tuple[Path_, str]] = [(("fonts", k), v) for k, v in fields_of(brand.fonts).items()
                                          if k != "fallback"]
        fonts += [(("fonts", "fallback", i), v) for i, v in enumerate(brand.fonts.fallback)]
        for where, value in fonts:
            path = self._file(where, value, base)
            if path is not None:
                head = path.read_bytes()[:4]
                if head == b"OTTO":
                    self.at(where, f"{display_path(path)} is an OpenType (CFF) font; "
                                            "ReportLab needs TrueType outlines (.ttf)", brand=True)
                elif head not in (b"\x00\x01\x00\x00", b"true", b"ttcf"):
                    self.at(where, f"{display_path(path)} is not a TrueType font file",
                            brand=True)

    def _file(self, path: Path_, value: str, base: Path) -> Path | None:
        resolved = resolve_asset(value, base)
        if isinstance(resolved, str):
            self.at(path, resolved, brand=True)
            return None
        if not resolved.is_file():
            self.at(path, f"file not found: {display_path(resolved)}", brand=True)
            return None
        if resolved.stat().st_size == 0:
            self.at(path, f"file is empty: {display_path(resolved)}", brand=True)
            return None
        return resolved

    # -- illustrative -----------------------------------------------------------------
    def illustrative(self) -> None:
        r = self.content.report
        sources: list[tuple[Path_, str | None, str]] = [
            (("market_size", "illustrative"), r.market_size.illustrative, r.market_size.file),
            *((("segments", i, "illustrative"), s.illustrative, s.file) for i, s in enumerate(r.segments)),
            (("players", "illustrative"), r.players.illustrative, r.players.file),
        ]
        for path, note, file in sources:
            if note is not None:
                self.at(path, f"{file} holds illustrative figures (estimates, not sourced); "
                              "the PDF says so beside them", WARNING)
            if note is not None and not note.strip():
                self.at(path, "must not be empty: it is the note printed beside the figures")


def _is_remainder(name: str) -> bool:
    return bool(re.match(r"(rest of|other|others)\b", name.strip(), re.IGNORECASE))


def _is_image(head: bytes) -> bool:
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        return True
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"<") and (b"<svg" in head or b"<?xml" in head or b"<!--" in head)


def resolve_asset(value: str, base: Path) -> Path | str:
    """A brand file reference as a path: ``pkg:<package>/<path>`` inside an installed package,
    anything else relative to ``base``. Returns a message (str) when the package is missing."""
    if not value.startswith("pkg:"):
        return (base / value).resolve()
    package, _, rest = value[4:].partition("/")
    try:
        spec = importlib.util.find_spec(package) if package else None
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return f'package "{package}" is not installed (in "{value}")'
    return Path(next(iter(spec.submodule_search_locations))) / rest


# ---------------------------------------------------------------- templates

def _template_fields(content: Content) -> Iterator[_Field]:
    r = content.report
    rf, loc = content.report_file, content.located

    def f(path: Path_, text: str | None) -> Iterator[_Field]:
        if text is not None:
            yield _Field(rf, loc, path, text)

    displays: tuple[tuple[str, Sequence[Chart | Table]], ...] = (("charts", r.charts), ("tables", r.tables))
    for kind, items in displays:
        for i, item in enumerate(items):
            yield from f((kind, i, "title"), item.title)
    for i, seg in enumerate(r.segments):
        for j, seg_item in enumerate(seg.items):
            yield from f(("segments", i, "items", j, "description"), seg_item.description)
    for k, profile in enumerate(r.players.profiles):
        yield from f(("players", "profiles", k, "text"), profile.text)
    for i, section in enumerate(r.sections):
        groups: list[tuple[Path_, list[Block]]] = [(("sections", i), section.blocks)]
        groups += [(("sections", i, "subsections", k), sub.blocks)
                   for k, sub in enumerate(section.subsections)]
        for prefix, blocks in groups:
            for j, block in enumerate(blocks):
                path = (*prefix, "blocks", j)
                yield from f((*path, "text"), block.text)
                yield from f((*path, "teaser"), block.teaser)
                if block.callout is not None:
                    yield from f((*path, "callout", "text"), block.callout.text)
    for key in ("copyright", "licence"):
        yield _Field(content.brand_file, content.brand_located, (key,), getattr(content.brand, key))


def line_map(span: Span | None, text: str) -> list[int]:
    """For each line of ``text`` (a scalar's value), the line of the YAML file it comes from."""
    if span is None:
        return []
    raw = [line.rstrip("\r") for line in span.source.split("\n")]
    k = 1 if span.style in ("|", ">") else 0
    out: list[int] = []
    for value_line in text.split("\n"):
        s = value_line.strip()
        found = None
        if s:
            for j in range(k, len(raw)):
                candidate = raw[j].strip()
                if j == 0 and span.style in ("'", '"'):
                    candidate = candidate[1:]
                candidate = candidate.rstrip("'\"") if j == len(raw) - 1 else candidate
                if candidate and s.startswith(candidate):
                    found = j
                    break
        if found is not None:
            out.append(span.line + found)
            k = found + 1
        else:
            out.append(span.line + min(k, max(len(raw) - 1, 0)))
    return out


def _expression(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_expression(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem):
        arg = node.arg
        inner = repr(arg.value) if isinstance(arg, nodes.Const) else "…"
        return f"{_expression(node.node)}[{inner}]"
    if isinstance(node, nodes.Call):
        args = ", ".join(repr(a.value) if isinstance(a, nodes.Const) else "…" for a in node.args)
        return f"{_expression(node.node)}({args})"
    return "…"


def _attributes(obj: Any) -> list[str]:
    if isinstance(obj, dict):
        return [str(k) for k in obj]
    if isinstance(obj, Record):
        return field_names(type(obj))
    return [n for n in dir(obj) if not n.startswith("_")]


@dataclass
class _TemplateChecker:
    content: Content
    checker: _Checker
    env: jinja2.Environment
    context: dict[str, Any] | None
    rendered: dict[Path_, str] = field(default_factory=dict)

    def problem(self, f: _Field, template_line: int, message: str, severity: str = ERROR) -> None:
        lines = line_map(f.located.spans.get(f.path), f.text)
        line, col = f.located.where(f.path)
        if lines and template_line >= 1:
            line, col = lines[min(template_line, len(lines)) - 1], 0
        self.checker.problems.append(Problem(f.file, line, col, field_path(f.path), message, severity))

    def check(self, f: _Field) -> None:
        markup = sorted({c for c in f.text if c in "<&"})
        if markup:
            first = min(i for i, line in enumerate(f.text.split("\n")) if "<" in line or "&" in line)
            self.problem(f, first + 1, "contains " + " and ".join(f'"{c}"' for c in markup)
                         + ": printed literally (the renderer escapes ReportLab markup)", NOTE)
        if "{" not in f.text:
            self.rendered[f.path] = f.text
            return
        try:
            ast, names = parsed(self.env, f.text)
        except jinja2.TemplateSyntaxError as exc:
            self.problem(f, exc.lineno, f"template syntax error: {exc.message}")
            return
        undeclared = names - CONTEXT_NAMES - set(self.env.globals)
        for name in sorted(undeclared):
            line = min((n.lineno for n in ast.find_all(nodes.Name) if n.name == name), default=1)
            self.problem(f, line, f'unknown placeholder "{name}"'
                         + did_you_mean(name, sorted(CONTEXT_NAMES)))
        if undeclared or self.context is None:
            self._compile(f)  # still reports unknown filters
            return
        self._render(f, ast, self.context)

    def _compile(self, f: _Field) -> jinja2.Template | None:
        # From the text, not the shared parsed tree: Jinja2's optimizer rewrites the tree it compiles.
        try:
            return self.env.from_string(f.text)
        except jinja2.TemplateSyntaxError as exc:
            self.problem(f, exc.lineno, self._compile_message(exc))
            return None

    def _compile_message(self, exc: jinja2.TemplateSyntaxError) -> str:
        match = re.match(r"No (filter|test) named '(.+?)'", exc.message or "")
        if match:
            kind, name = match.groups()
            known = self.env.filters if kind == "filter" else self.env.tests
            return f'unknown {kind} "{name}"' + did_you_mean(name, sorted(known))
        return f"template error: {exc.message}"

    def _render(self, f: _Field, ast: nodes.Template, context: dict[str, Any]) -> None:
        # ``log`` is the class attribute _recording() adds to the environment's Undefined.
        log: list[tuple[str | None, Any]] = self.env.undefined.log  # type: ignore[attr-defined]
        log.clear()
        evaluator = Evaluator(self.env, context)
        try:
            text = walk(evaluator, ast)
            if text is None:  # loops with `loop`, keyword splats, tests...: let Jinja2 do it
                log.clear()
                evaluator.line = 0
                template = self._compile(f)
                if template is None:
                    return
                text = template.render(context)
        except Exception as exc:  # a template may call anything; report, never crash
            line = _template_line(exc) or evaluator.line
            self.problem(f, line, self._render_message(exc, ast, line, log))
            return
        self.rendered[f.path] = text
        if re.search(r"\bNone\b", text) and not re.search(r"\bNone\b", f.text):
            self._none(f)

    def _none(self, f: _Field) -> None:
        """Point at the placeholder that printed "None"."""
        for number, line in enumerate(f.text.split("\n"), 1):
            for match in re.finditer(r"\{\{(.*?)\}\}", line):
                try:
                    value = self.env.compile_expression(match.group(1))(**(self.context or {}))
                except Exception:  # loop variables and the like: try the next one
                    continue
                if value is None:
                    self.problem(f, number, f'"{match.group(0)}" renders as "None": it has no value',
                                 WARNING)
                    return
        self.problem(f, 1, 'renders as "None": a placeholder has no value', WARNING)

    def _render_message(self, exc: Exception, ast: nodes.Template, line: int,
                        log: list[tuple[str | None, Any]]) -> str:
        if isinstance(exc, _UnknownName) or (log and not isinstance(exc, TemplateDataError)):
            name, obj = (exc.name, exc.obj) if isinstance(exc, _UnknownName) else log[0]
            if obj is jinja2.utils.missing:
                return f'unknown placeholder "{name}"' + did_you_mean(str(name), sorted(CONTEXT_NAMES))
            candidates = [n for n in ast.find_all((nodes.Getattr, nodes.Getitem))
                          if (isinstance(n, nodes.Getattr) and n.attr == name)
                          or (isinstance(n, nodes.Getitem) and isinstance(n.arg, nodes.Const)
                              and n.arg.value == name)]
            candidates.sort(key=lambda n: (n.lineno != line, n.lineno))
            what = _expression(candidates[0]) if candidates else str(name)
            return f'unknown placeholder "{what}"' + did_you_mean(str(name), _attributes(obj))
        if isinstance(exc, TemplateDataError):
            return f"cannot be filled in: {exc}"
        if isinstance(exc, jinja2.TemplateError):
            return f"template error: {exc.message or exc}"
        return f"cannot be filled in: {type(exc).__name__}: {exc}"


def _template_line(exc: BaseException) -> int:
    line = 0
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line or getattr(exc, "lineno", 0) or 0


# ---------------------------------------------------------------- statements in prose

_LEADS = r"(?:is|remains) (?:the )?(?:largest|biggest|leading)\b|leads\b|dominates\b"
_FASTEST = r"(?:is|remains) (?:the )?fastest[- ]growing\b|grows (?:the )?fastest\b"


_CAGR_TEXT = re.compile(r"\bmarket\b[^.]*?(?:CAGR|compound annual growth rate) of (?:about |around |"
                        r"approximately |roughly |some )?(\d+(?:\.(\d+))?)\s?%")


@dataclass
class _Statements:
    """Names stated as the largest or fastest-growing item must be the ones the tables say;
    a market CAGR written in prose must match the series."""

    checker: _Checker
    fields: dict[Path_, _Field]
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


def _non_template_placeholders(checker: _Checker, template_paths: set[Path_]) -> None:
    """A '{{' in a field that is not a template is printed as is: almost surely a mistake."""
    for located, brand in ((checker.content.located, False), (checker.content.brand_located, True)):
        for path, span in located.spans.items():
            if (brand and path in {("copyright",), ("licence",)}) or (not brand and path in template_paths):
                continue
            if path and path[0] == "links":
                continue
            if "{{" in span.source or "{%" in span.source:
                checker.at(path, 'contains "{{" or "{%", but this field is not a template: '
                                 "printed as is", WARNING, brand=brand)


# ---------------------------------------------------------------- entry point

def validate(content: Content) -> list[Problem]:
    """Every problem in ``content`` the loader cannot see (errors, warnings and notes), sorted.

    The loader's own warnings (``content.warnings``) are not repeated here: print both.
    """
    checker = _Checker(content)
    checker.report_fields()
    checker.market_size()
    checker.segments()
    checker.players()
    checker.references()
    checker.brand_files()
    checker.brand_contrast()
    checker.illustrative()
    context = stand_in_context(content) if content.data.size else None
    env = environment(content.report.currency, content.report.unit)
    templates = _TemplateChecker(content, checker, env, context)
    fields = list(_template_fields(content))
    for f in fields:
        templates.check(f)
    _non_template_placeholders(checker, {f.path for f in fields if f.file == content.report_file})
    if context is not None:
        _Statements(checker, {f.path: f for f in fields if f.file == content.report_file},
                    context).run(templates.rendered)
    return sorted(set(one_line(checker.problems)))


def heavy_modules_loaded() -> list[str]:
    """Modules the check path must never import that are loaded now (for tests and benchmarks)."""
    return sorted(m for m in ("pandas", "matplotlib", "reportlab") if m in sys.modules)


__all__ = [
    "CONTEXT_NAMES",
    "PlayerView",
    "SegmentView",
    "Series",
    "SizeView",
    "TemplateDataError",
    "check",
    "countries",
    "environment",
    "heavy_modules_loaded",
    "line_map",
    "resolve_asset",
    "stand_in_context",
    "validate",
]


def check(folder: Path) -> tuple[Content | None, list[Problem]]:
    """Load and validate a report folder: the content (None if it cannot be read) and every
    problem found, errors, warnings and notes, sorted. This is ``pacspdf check``."""
    try:
        content = load(folder)
    except ContentError as exc:
        return None, exc.problems
    return content, sorted([*content.warnings, *validate(content)])

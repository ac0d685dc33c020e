"""Content -> Problems about how figures will be shown: chart kinds, printed precision, glyphs.

Three things a build would get wrong without a word: a chart kind that misstates its data
(a donut of years, a donut of company shares that do not make a whole), a table column whose
printed values lose the information in the CSV, and characters the brand's fonts cannot draw.
"""

from __future__ import annotations

from pathlib import Path

from pacspdf import numbers
from pacspdf.content.brand import locate_asset
from pacspdf.content.model import Chart, Table
from pacspdf.derive.model import Derived
from pacspdf.validate.glyphs import covered, describe, missing, strings
from pacspdf.validate.report import ERROR, WARNING, Reporter

#: A donut shows parts of a whole: its slices must add up to 100 % within this.
WHOLE_TOLERANCE = 0.5
#: More rings than this side by side are too small to read.
MAX_DONUT_YEARS = 3
#: More items than this make any chart kind unreadable (bars a point thick, 30 legend rows).
MAX_CHART_ITEMS = 25


class PresentationChecks(Reporter):
    """Chart kinds that fit their data, tables printed without losing information, glyphs."""

    # -- chart kind against data ------------------------------------------------------
    def chart_pairings(self) -> None:
        for i, chart in enumerate(self.content.report.charts):
            message = self._pairing(chart)
            if message:
                self.at(("charts", i, "kind"), message)

    def _pairing(self, chart: Chart) -> str | None:
        kind, data = chart.kind, chart.data
        items = self._items(data)
        if items > MAX_CHART_ITEMS:
            return (f"{items} items are too many for one chart (at most {MAX_CHART_ITEMS}): show "
                    "them in a table, or chart the largest and group the rest")
        if data.startswith("coverage:"):
            return f"{data} is a list of countries, not figures: show it with a table"
        if data == "market_size" and kind in ("donut", "hbar"):
            return (f"a {kind} of market_size would show years as "
                    f"{'slices of a whole' if kind == 'donut' else 'a ranking'}: use bar or line")
        if data == "players":
            if kind in ("line", "stacked_bar", "grouped_bar"):
                return f"players are one ranking, not a series over years: use hbar or bar, not {kind}"
            if kind == "donut":
                total = sum(p.share_pct for p in self.content.data.players)
                if abs(total - 100) > WHOLE_TOLERANCE:
                    return (f"the company shares add up to {numbers.fmt(total, 1)} %; a donut would "
                            "rescale them to 100 % and misstate every share: use hbar, or add a "
                            "row for the rest of the market")
        if data.startswith("segment:") and kind == "donut":
            if not chart.years:
                return "a donut shows one year per ring: list them in years (at most 3)"
            if len(chart.years) > MAX_DONUT_YEARS:
                return (f"{len(chart.years)} rings side by side are too small to read: show at most "
                        f"{MAX_DONUT_YEARS} years, or use stacked_bar")
        return None

    def _items(self, data: str) -> int:
        if data == "players":
            return len(self.content.data.players)
        if data.startswith("segment:"):
            seg = next((s for s in self.content.report.segments if s.id == data[8:]), None)
            return len(seg.items) if seg else 0
        return 0

    # -- printed precision ------------------------------------------------------------
    def precision(self, derived: Derived) -> None:
        r = self.content.report
        for i, table in enumerate(r.tables):
            known = _column_names(table, r.base_year, r.forecast.end)
            for name in table.column_decimals:
                if name not in known:
                    shown = ", ".join(f'"{k}"' for k in known) or "none"
                    self.at(("tables", i, "column_decimals", name),
                            f'"{name}" is not a column of this table (its number columns: {shown})')
        for i, table in enumerate(self.content.report.tables):
            for column, values, places in _table_columns(table, derived, self.content.report.base_year,
                                                         self.content.report.forecast.end):
                why = numbers.lost_precision(values, places)
                if why:
                    self.at(("tables", i), f'column "{column}": {why}; set decimals (or '
                                           "column_decimals) on the table, or change the unit",
                            WARNING)

    # -- glyphs -------------------------------------------------------------------------
    def glyphs(self) -> None:
        """Characters the brand's fonts have no glyph for (they would print as empty boxes)."""
        brand, c = self.content.brand, self.content
        codes: frozenset[int] | None = None
        names = []
        for key in ("regular", "semibold", "bold", "italic", "light"):
            found = locate_asset(getattr(brand.fonts, key), c.brand_dir)
            if not isinstance(found, Path):
                return  # the brand checks report the missing font
            names.append(found.name)
            have = covered(found)
            if not have:
                return
            codes = have if codes is None else codes & have
        if codes is None:
            return
        fonts = f"the brand's fonts ({names[0]} and its other faces)"
        for path, text in strings(c.located.data):
            lost = missing(text, codes)
            if lost:
                self.at(path, f"{describe(lost)} not in {fonts}: it would print as an "
                              "empty box; use a brand font that has it, or write it in Latin script")
        for path, text in strings(c.brand_located.data):
            lost = missing(text, codes)
            if lost:
                self.at(path, f"{describe(lost)} not in {fonts}", brand=True)
        for table in c.data.tables.values():
            for row in table.rows:
                for name, value in row.values.items():
                    if isinstance(value, str):
                        lost = missing(value, codes)
                        if lost:
                            self.row(table, row.line, 0, name,
                                     f"{describe(lost)} not in {fonts}: it would print "
                                     "as an empty box", ERROR)


def _column_names(table: Table, base_year: int, end: int) -> list[str]:
    """The number columns a table prints, by the first line of their heading."""
    if table.data == "market_size":
        return ["Market size", "Change on prior year", "Growth"]
    if table.data == "players":
        return ["Share"]
    if table.data.startswith("segment:"):
        return [str(y) for y in (table.years or [base_year, end])] + (["CAGR"] if table.cagr else [])
    return []


def _table_columns(table: Table, derived: Derived, base_year: int, end: int,
                   ) -> list[tuple[str, list[float], int]]:
    """(column, values, decimals) as document/tables.py prints them."""
    def places(column: str, values: list[float], default: int | None = None) -> int:
        if column in table.column_decimals:
            return table.column_decimals[column]
        if default is not None:
            return default
        if table.decimals is not None:
            return table.decimals
        return numbers.decimals_for(values)

    if table.data == "market_size":
        years = table.years or derived.size.years
        size = [derived.size.at(y) for y in years if y in derived.size.values]
        return [("Market size", size, places("Market size", size))]
    if not table.data.startswith("segment:"):
        return []
    seg = derived.segments.get(table.data.split(":", 1)[1])
    if seg is None:
        return []
    years = [y for y in (table.years or [base_year, end]) if y in derived.size.values]
    shown = [i.values[y] for i in seg.items for y in years if y in i.values]
    shown += [derived.size.at(y) for y in years]
    base = places("", shown)
    return [(str(y), [i.values[y] for i in seg.items if y in i.values], places(str(y), [], base))
            for y in years]

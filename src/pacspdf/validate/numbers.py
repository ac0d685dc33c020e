"""Content -> Problems about its numbers: years, market size, shares, company shares, claims."""

from __future__ import annotations

import re
from datetime import date

from pacspdf.content._yaml import Path_
from pacspdf.content.model import Segmentation
from pacspdf.content.tables import CsvTable
from pacspdf.derive.growth import cagr as compound_growth
from pacspdf.derive.model import did_you_mean
from pacspdf.derive.plain import FIRST_YEAR, LAST_YEAR
from pacspdf.validate.report import (
    CAGR_TOLERANCE,
    NOTE,
    SHARE_TOLERANCE,
    Reporter,
    years_text,
)


class NumberChecks(Reporter):
    """Dates, years, market size, segment shares, company shares and stated claims agree."""

    # -- report dates ----------------------------------------------------------------
    def report_fields(self) -> None:
        r = self.content.report
        try:
            date.fromisoformat(r.edition)
        except ValueError:
            self.at(("edition",), f'"{r.edition}" is not a valid date')
        if r.base_year > r.forecast.start:
            self.at(("base_year",), f"{r.base_year} is after the forecast start ({r.forecast.start})")

    # -- market size ------------------------------------------------------------------
    def market_size(self) -> None:
        r = self.content.report
        table = self.content.data.tables.get("market_size")
        if table is None:
            return
        years = self._uniqueyears_text(table)
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
            self.row(table, after, 0, "year", f"missing year {years_text(gaps)} (years must be contiguous)")
        need = range(r.base_year, r.forecast.end + 1)
        outside = [y for y in need if y not in years and not min(years) < y < max(years)]
        if outside:
            self.row(table, table.header_line, 0, "year",
                     f"the series must cover the base year to the forecast end "
                     f"({r.base_year}–{r.forecast.end}); {years_text(outside)} missing")
        self._claims()

    def _uniqueyears_text(self, table: CsvTable) -> dict[int, int]:
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
            table = self.content.data.tables.get(f"segment:{seg.id}")
            if table is None or not self._segment_columns(i, seg, table):
                continue
            years = self._uniqueyears_text(table)
            self._segmentyears_text(table, years, size_years)
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

    def _segmentyears_text(self, table: CsvTable, years: dict[int, int], size_years: set[int]) -> None:
        if not size_years:
            return
        missing = sorted(size_years - set(years))
        if missing:
            self.row(table, table.header_line, 0, "year",
                     f"missing {years_text(missing)} (the market-size table has "
                     f"{years_text(sorted(size_years))})")
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


    # -- illustrative -----------------------------------------------------------------
    def illustrative(self) -> None:
        r = self.content.report
        sources: list[tuple[Path_, str | None, str]] = [
            (("market_size", "illustrative"), r.market_size.illustrative, r.market_size.file),
            *((("segments", i, "illustrative"), s.illustrative, s.file) for i, s in enumerate(r.segments)),
            (("players", "illustrative"), r.players.illustrative, r.players.file),
        ]
        for path, note, file in sources:
            if note is not None and note.strip():
                # Declared, so not a warning: `check --strict` passes on declared estimates.
                self.at(path, f"{file} holds illustrative figures (estimates, not sourced); "
                              "the PDF says so beside them", NOTE)
            if note is not None and not note.strip():
                self.at(path, "must not be empty: it is the note printed beside the figures")

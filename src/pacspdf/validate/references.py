"""Content -> Problems about references: ids that are unique, defined, shown, and data years that exist."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pacspdf.content._yaml import Path_
from pacspdf.content.model import Block, Chart, Table
from pacspdf.derive.model import did_you_mean
from pacspdf.validate.report import (
    WARNING,
    Reporter,
    years_text,
)


class ReferenceChecks(Reporter):
    """Every id is unique and every figure, table and data reference points at something."""

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
                years = self._datayears_text(item.data, (kind, i, "data"))
                if years is None:
                    continue
                for k, year in enumerate(item.years):
                    if not years:
                        self.at((kind, i, "years"), f"years have no effect for {item.data} data",
                                WARNING)
                        break
                    if year not in years:
                        self.at((kind, i, "years", k),
                                f"{year} is not a year of the {item.data} data ({years_text(years)})")
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
        shown: tuple[tuple[str, Sequence[Chart | Table], str], ...] = (
            ("charts", r.charts, "figure"), ("tables", r.tables, "table"))
        for kind, items, ref_kind in shown:
            for i, item in enumerate(items):
                if item.id not in used[ref_kind]:
                    self.at((kind, i, "id"), f'"{item.id}" is not shown in any section '
                                             f'(no "{ref_kind}: {item.id}" block)', WARNING)

    def _unique_ids(self, key: str, ids: list[str], noun: str) -> set[str]:
        first: dict[str, int] = {}
        for i, ident in enumerate(ids):
            if ident in first:
                self.at((key, i, "id"), f'duplicate {noun} id "{ident}" (also {key}[{first[ident]}])')
            first.setdefault(ident, i)
        return set(first)

    def _datayears_text(self, ref: str, path: Path_) -> list[int] | None:
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

"""Coverage tables -> Problems about country names, against the list in pacspdf/data/countries.txt."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pacspdf.content.model import Segmentation
from pacspdf.derive.model import did_you_mean
from pacspdf.validate.report import (
    WARNING,
    Reporter,
)

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
    text = (Path(__file__).parent.parent / "data" / "countries.txt").read_text(encoding="utf-8")
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



def _is_remainder(name: str) -> bool:
    return bool(re.match(r"(rest of|other|others)\b", name.strip(), re.IGNORECASE))


class NameChecks(Reporter):
    """Country names in coverage tables: known, not split in two, not run together, listed once."""

    def coverage(self) -> None:
        for i, seg in enumerate(self.content.report.segments):
            if seg.coverage:
                self._coverage(i, seg)

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

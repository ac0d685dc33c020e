"""Content -> Derived in plain Python (no pandas): the figures ``pacspdf check`` renders against.

The same public figures as :mod:`pacspdf.derive.frames`, computed the same way, so a template
that renders in a check renders in a build (tests/derive pins the two together with a
hypothesis property). Unlike the pandas path this one must cope with content that has not
passed validation: years out of range are skipped and a missing year gives a NaN CAGR
(the checks report the cause).
"""

from __future__ import annotations

import itertools
import math

from pacspdf.content.load import Content
from pacspdf.derive.growth import cagr as compound_growth
from pacspdf.derive.model import Derived, PlayerView, SegmentView, Series, SizeView, ranked

#: Years a table may hold (the schema's range for years).
FIRST_YEAR, LAST_YEAR = 1900, 2200


def _cagr(values: dict[int, float], start: int, end: int) -> float:
    """CAGR between two years of ``values``; NaN when either is missing (already reported)."""
    if start not in values or end not in values:
        return math.nan
    return compound_growth(values[start], values[end], end - start)


def derive_plain(content: Content) -> Derived:
    """The derived figures of ``content``, computed in plain Python from the tables."""
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
    players = ranked([PlayerView(p.company, p.headquarters, p.focus, p.share_pct)
                      for p in data.players])
    return Derived(size, segments, players)

"""Content -> Derived with pandas (the build's path): values, shares, growth, CAGR.

The result is plain Python data, so it can be cached and handed to the prose templates, the
charts and the tables without any of them knowing pandas.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from pacspdf.content.load import Content
from pacspdf.derive.growth import cagr
from pacspdf.derive.model import Derived, PlayerView, SegmentView, Series, SizeView, ranked
from pacspdf.write import cache_key, pickled

if TYPE_CHECKING:  # pandas is imported only when figures are actually derived
    import pandas as pd


def _size(content: Content) -> tuple[pd.Series, SizeView]:
    import pandas as pd

    r = content.report
    s = pd.Series(content.data.size, dtype="float64").sort_index()
    growth = (s.pct_change() * 100.0).dropna()
    view = SizeView(
        values={int(k): float(v) for k, v in s.items()},
        growth={int(k): round(float(v), 6) for k, v in growth.items()},
        cagr=cagr(float(s[r.forecast.start]), float(s[r.forecast.end]),
                  r.forecast.end - r.forecast.start),
        base_year=r.base_year, start=r.forecast.start, end=r.forecast.end)
    return s, view


def _segment(content: Content, seg_index: int, size: pd.Series) -> SegmentView:
    import pandas as pd

    r = content.report
    seg = r.segments[seg_index]
    shares = pd.DataFrame.from_dict(content.data.shares[seg.id], orient="index").sort_index()
    shares = shares[[item.name for item in seg.items]]
    # Normalise each year's shares to 100 % so segment values add up to the market exactly.
    shares = shares.div(shares.sum(axis=1), axis=0) * 100.0
    values = shares.mul(size.reindex(shares.index), axis=0) / 100.0
    start, end = r.forecast.start, r.forecast.end
    growth = ((values.loc[end] / values.loc[start]) ** (1.0 / (end - start)) - 1.0) * 100.0
    described = {item.name: item.description for item in seg.items}
    items = [
        Series(name=str(name),
               values={int(y): float(v) for y, v in values[name].items()},
               shares={int(y): float(v) for y, v in shares[name].items()},
               cagr=float(growth[name]), description=described[str(name)])
        for name in shares.columns
    ]
    countries: dict[str, list[str]] = {}
    for segment, country, _line in content.data.coverage.get(seg.id, []):
        countries.setdefault(segment, []).append(country)
    return SegmentView(
        id=seg.id, label=seg.label, items=items, years=[int(y) for y in shares.index],
        leading=max(items, key=lambda i: i.shares[r.base_year]),
        fastest=max(items, key=lambda i: i.cagr), countries=countries)


def derive(content: Content) -> Derived:
    """Compute every figure the document shows from the loaded tables."""
    import pandas as pd

    size, size_view = _size(content)
    segments = {seg.id: _segment(content, i, size) for i, seg in enumerate(content.report.segments)}
    players = pd.DataFrame([p.__dict__ for p in content.data.players])
    players = players.sort_values(["share_pct", "company"], ascending=[False, True])
    return Derived(
        size=size_view, segments=segments,
        players=ranked([PlayerView(str(p.company), str(p.headquarters), str(p.focus), float(p.share_pct))
                        for p in players.itertuples()]))


def _inputs_key(content: Content) -> str:
    """The cache key of everything derive() reads (with the code and library versions, see write.py)."""
    r, d = content.report, content.data
    inputs = {
        "size": sorted(d.size.items()),
        "shares": {k: sorted((y, sorted(v.items())) for y, v in by_year.items())
                   for k, by_year in sorted(d.shares.items())},
        "coverage": {k: [(seg, country) for seg, country, _line in v] for k, v in sorted(d.coverage.items())},
        "players": [(p.company, p.headquarters, p.focus, p.share_pct) for p in d.players],
        "base_year": r.base_year, "forecast": [r.forecast.start, r.forecast.end],
        "segments": [(s.id, s.label, [(i.name, i.description) for i in s.items]) for s in r.segments],
    }
    return cache_key("derived", json.dumps(inputs, sort_keys=True, default=str))


def cached_derive(content: Content, cache_dir: Path | None) -> Derived:
    """derive(), reusing the result of an earlier run on the same numbers (no pandas import then)."""
    return pickled(cache_dir, _inputs_key(content), Derived, lambda: derive(content))

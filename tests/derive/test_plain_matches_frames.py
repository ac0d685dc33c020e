"""derive.plain (no pandas, for check) and derive.frames (pandas, for builds) agree on random content."""

from __future__ import annotations

import dataclasses
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pacspdf.content.load import Content, Player, load
from pacspdf.derive.frames import derive
from pacspdf.derive.model import Derived
from pacspdf.derive.plain import derive_plain
from selection import examples

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@cache
def _pacs() -> Content:
    return load("content/pacs")


positive = st.floats(min_value=0.01, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def contents(draw: st.DrawFn) -> Content:
    """The PACS report's structure with random numbers: sizes, shares (any scale) and players."""
    base = _pacs()
    r = base.report
    years = list(range(min(r.base_year, r.forecast.start), r.forecast.end + 1))
    size = {y: draw(positive) for y in years}
    shares = {seg.id: {y: {item.name: draw(positive) for item in seg.items} for y in years}
              for seg in r.segments}
    names = draw(st.lists(st.text(alphabet="ABCDEFGH xyz", min_size=1, max_size=8), min_size=1,
                          max_size=6, unique=True))
    players = [Player(n, "HQ", "focus", draw(st.floats(min_value=0, max_value=40)), i + 2)
               for i, n in enumerate(names)]
    data = dataclasses.replace(base.data, size=size, shares=shares, players=players)
    return dataclasses.replace(base, data=data)


def _same(a: Derived, b: Derived) -> None:
    assert a.size.values == pytest.approx(b.size.values)
    assert a.size.growth == pytest.approx(b.size.growth, rel=1e-6, abs=1e-6)
    assert a.size.cagr == pytest.approx(b.size.cagr)
    assert a.segments.keys() == b.segments.keys()
    for key, view in a.segments.items():
        other = b.segments[key]
        assert (view.id, view.label, view.years, view.countries) == (
            other.id, other.label, other.years, other.countries)
        for x, y in zip(view.items, other.items, strict=True):
            assert x.name == y.name
            assert x.values == pytest.approx(y.values)
            assert x.shares == pytest.approx(y.shares)
            assert x.cagr == pytest.approx(y.cagr)
        # ties may break differently only if two figures are equal to the last bit
        assert view.leading.shares[a.size.base_year] == pytest.approx(
            other.leading.shares[a.size.base_year])
        assert view.fastest.cagr == pytest.approx(other.fastest.cagr)
    assert [vars(p) for p in a.players] == [vars(p) for p in b.players]
    assert vars(a.leader) == vars(b.leader)


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contents())
def test_plain_and_pandas_derivations_agree(content: Content) -> None:
    _same(derive_plain(content), derive(content))


def test_they_agree_on_the_sample() -> None:
    _same(derive_plain(_pacs()), derive(_pacs()))

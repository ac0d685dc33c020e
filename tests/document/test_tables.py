"""What tables and chart axes show: units, rounding notes, the scale's top gridline."""

from __future__ import annotations

from pathlib import Path

import pytest

from pacspdf.content.load import Content, load
from pacspdf.content.schema import fields_of
from pacspdf.derive.frames import Derived, derive
from pacspdf.document.tables import ROUNDING_NOTE, _rounding_note, table_input

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pacs() -> tuple[Content, Derived]:
    content = load(REPO / "content" / "pacs")
    return content, derive(content)


def test_rows_that_do_not_add_up_to_the_total_get_the_rounding_note() -> None:
    rows = [["A", "2,687", "10"], ["B", "1,008", "20"], ["C", "504", "30"], ["Total", "4,198", "60"]]
    assert _rounding_note(rows, range(1, 3)) == ROUNDING_NOTE
    rows[-1][1] = "4,199"
    assert _rounding_note(rows, range(1, 3)) == ""


def test_the_unit_is_under_each_year_only_when_the_title_does_not_state_it(
        pacs: tuple[Content, Derived]) -> None:
    content, derived = pacs
    table = next(t for t in content.report.tables if t.id == "by-application")
    assert "(USD million)" in table.title
    shown = table_input(table, content.report, derived)
    assert shown.header[1:4] == ["2024", "2027", "2032"]
    assert shown.note == ROUNDING_NOTE  # 2,687 + 1,008 + 504 = 4,199 against a total of 4,198
    untitled = table_input(type(table)(**{**fields_of(table), "title": "By application"}),
                           content.report, derived)
    assert untitled.header[1] == "2024\n(USD million)"


def test_a_bar_that_nearly_reaches_the_next_tick_gets_that_gridline() -> None:
    from pacspdf.charts.furniture import value_axis as _value_axis

    class Ctx:  # _value_axis only formats numbers
        pass

    ticks, _labels = _value_axis(Ctx(), 0.0, 3948.0, tight=True)  # type: ignore[arg-type]
    assert ticks[-1] == 4000.0
    ticks, _labels = _value_axis(Ctx(), 0.0, 6691.0, tight=True)  # type: ignore[arg-type]
    assert ticks[-1] == 6000.0  # 8,000 would be far above the data

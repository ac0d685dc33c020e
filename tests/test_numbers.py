"""How figures are written: decimals by magnitude, halves rounded away from zero, a true minus."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from pacspdf.numbers import decimals_for, fmt, lost_precision, money, pct, round_half_away


def test_halves_round_away_from_zero_as_readers_expect() -> None:
    assert pct(2.5, 0) == "3%"
    assert pct(-2.5, 0) == "\u22123%"
    assert fmt(0.125, 2) == "0.13"
    assert fmt(2.675, 2) == "2.68"  # the float is 2.67499999...; the written value is 2.675
    assert fmt(4198.1) == "4,198"


def test_a_value_that_rounds_to_zero_has_no_sign() -> None:
    assert fmt(-0.004, 2) == "0.00"
    assert fmt(-0.25, 1) == "\u22120.3"


@given(st.decimals(min_value=-10**9, max_value=10**9, places=4, allow_nan=False),
       st.integers(min_value=0, max_value=3))
def test_rounding_matches_decimal_half_up_on_the_written_value(value: Decimal, places: int) -> None:
    expected = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    assert round_half_away(float(value), places) == expected


def test_decimals_follow_the_largest_value_of_a_column() -> None:
    assert decimals_for([2.84, 3.81]) == 2          # EUR billion: 2.84, not 3
    assert decimals_for([412.6, 512.6]) == 0        # JPY billion: 413
    assert decimals_for([4198.1, 6691.1]) == 0      # USD million: 4,198
    assert decimals_for([0.421, 0.5004]) == 3       # CHF million below one
    assert decimals_for([0.14, 1.0]) == 2
    assert decimals_for([2024, 2025]) == 0
    assert decimals_for([]) == 0


def test_lost_precision_names_what_a_reader_cannot_recover() -> None:
    assert lost_precision([0.12, 0.13, 0.14], 0) == "every value prints as 0 with 0 decimals"
    assert lost_precision([0.004, 1.2], 2) == "0.004 prints as 0.00 with 2 decimals"
    assert lost_precision([1.0, 1.0], 0) is None
    assert lost_precision([2.84, 3.81], 2) is None


def test_money_picks_the_unit_that_reads_best() -> None:
    assert money(2.84, "EUR", "billion") == "EUR 2.8 billion"
    assert money(2.84, "EUR", "billion", 2) == "EUR 2.84 billion"
    assert money(0.5964, "EUR", "billion") == "EUR 596.4 million"
    assert money(5000, "USD", "million") == "USD 5.0 billion"
    assert money(0.421, "CHF", "million") == "CHF 421.0 thousand"
    assert money(4198, "GBP", "thousand") == "GBP 4.2 million"
    assert money(999.96, "USD", "million") == "USD 1.0 billion"  # never "1,000.0 million"

"""Turn values into printed figures: decimals chosen from their magnitude, rounded half away from zero.

One home for how a number is written, so that tables, charts, prose filters and the snapshot
box agree. A value is rounded as a reader expects (2.5 % -> "3 %", 0.125 -> "0.13"), from its
shortest decimal representation, never from the binary float's expansion. Nothing here imports
pandas, matplotlib or ReportLab.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

#: Significant digits a column keeps for its largest value (2.84, 41.9, 4,198).
SIGNIFICANT = 3
#: The most decimals any printed figure gets (0.0042 billion is better said in million).
MAX_DECIMALS = 3
MINUS = "\u2212"

#: Money units pacspdf knows, by their factor to one currency unit.
UNITS = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}


def round_half_away(value: float, decimals: int) -> Decimal:
    """``value`` rounded to ``decimals`` places, halves away from zero (2.5 -> 3, -0.125 -> -0.13)."""
    try:
        exact = Decimal(repr(float(value)))
    except InvalidOperation:  # pragma: no cover - repr of a float is always a valid Decimal
        exact = Decimal(value)
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def fmt(value: float, decimals: int = 0, *, grouping: bool = True, suffix: str = "") -> str:
    """``value`` with ``decimals`` places (half away from zero), thousands commas and a true
    minus sign; a value that rounds to zero is written without a sign."""
    if not math.isfinite(value):
        return "\u2013"
    rounded = round_half_away(value, max(0, decimals))
    text = f"{abs(rounded):,.{max(0, decimals)}f}" if grouping else f"{abs(rounded):.{max(0, decimals)}f}"
    sign = MINUS if rounded < 0 else ""
    return f"{sign}{text}{suffix}"


def decimals_for(values: Iterable[float], significant: int = SIGNIFICANT) -> int:
    """Decimals that give the largest of ``values`` ``significant`` significant digits.

    Whole-number columns stay whole (2024, 4,198); 412.6 -> 0 ("413"), 2.84 -> 2, 0.421 -> 3.
    Every value of a column shares these decimals, so no printed value is less precise
    than its neighbours.
    """
    finite = [abs(float(v)) for v in values if math.isfinite(float(v))]
    biggest = max(finite, default=0.0)
    if biggest == 0.0 or all(float(v).is_integer() for v in finite):
        return 0
    magnitude = math.floor(math.log10(biggest)) + 1  # digits before the point (0 for 0.42)
    return max(0, min(MAX_DECIMALS, significant - magnitude))


def lost_precision(values: list[float], decimals: int) -> str | None:
    """Why printing ``values`` with ``decimals`` places loses information, or None.

    Two cases a reader cannot recover from: different values that all print the same, and a
    value that is not zero printed as zero.
    """
    finite = [float(v) for v in values if math.isfinite(float(v))]
    printed = [fmt(v, decimals) for v in finite]
    if len(finite) > 1 and len(set(printed)) == 1 and len(set(finite)) > 1:
        return f"every value prints as {printed[0]} with {decimals} decimals"
    for v, p in zip(finite, printed, strict=True):
        if v != 0 and round_half_away(v, decimals) == 0:
            return f"{v:g} prints as {p.lstrip(MINUS)} with {decimals} decimals"
    return None


def money(value: float, currency: str, unit: str, digits: int | None = None) -> str:
    """A value held in ``unit`` as readable money: "EUR 2.8 billion", "CHF 421.0 thousand".

    The printed unit is the largest in which the value is at least 1, so a market never reads
    "0.4 million" nor "4,198.1 million"; ``digits`` defaults to one decimal.
    """
    digits = 1 if digits is None else max(0, int(digits))
    base = float(value) * UNITS.get(unit, 1e6)
    names = sorted(UNITS.items(), key=lambda item: -item[1])  # trillion first
    chosen = len(names) - 1
    for k, (_name, factor) in enumerate(names):
        if abs(base / factor) >= 1:
            chosen = k
            break
    # Rounding may carry a value to 1,000 of its unit (999.96 million): say 1.0 billion.
    if chosen > 0 and abs(float(round_half_away(base / names[chosen][1], digits))) >= 1000:
        chosen -= 1
    name, factor = names[chosen]
    return f"{currency} {fmt(base / factor, digits)} {name}"


def pct(value: float, digits: int = 1) -> str:
    """A percentage, half away from zero: ``pct(2.5, 0)`` is "3%"."""
    return fmt(value, digits, grouping=False, suffix="%")

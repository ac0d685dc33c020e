"""Two values and the years between them -> growth in percent, shared by both derivations."""

from __future__ import annotations


def cagr(first: float, last: float, years: int) -> float:
    """Compound annual growth rate in percent between two values ``years`` apart."""
    if years <= 0 or first <= 0 or last <= 0:
        return 0.0
    return float(((last / first) ** (1.0 / years) - 1.0) * 100.0)

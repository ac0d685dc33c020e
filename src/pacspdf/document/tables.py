"""Turn chart and table specs plus derived figures into chart inputs and display tables."""

from __future__ import annotations

from dataclasses import dataclass

from pacspdf import numbers
from pacspdf.charts.spec import ChartData, ChartSpec, Series
from pacspdf.content.model import Chart, Report, Table
from pacspdf.derive.model import Derived, SegmentView
from pacspdf.templates.environment import fmt_pct


def _unit(report: Report) -> str:
    return f"{report.currency} {report.unit}"


def _segment(derived: Derived, ref: str) -> SegmentView:
    return derived.segments[ref.split(":", 1)[1]]


def chart_input(chart: Chart, report: Report, derived: Derived, width: float) -> tuple[ChartSpec, ChartData]:
    """The chart backend's spec and data for one chart of the report."""
    unit = _unit(report)
    fc = str(report.forecast.start)
    if chart.data == "market_size":
        years = chart.years or derived.size.years
        data = ChartData(tuple(str(y) for y in years),
                         (Series(f"{report.market} market", tuple(derived.size.at(y) for y in years)),),
                         unit)
        callout = None
        if chart.callout == "cagr":
            callout = f"CAGR {report.forecast.start}–{report.forecast.end}: {fmt_pct(derived.size.cagr)}"
        spec = ChartSpec(chart.kind, width, chart.height, y_label=unit, callout=callout,
                         forecast_from=fc, legend=False)
        return spec, data
    if chart.data == "players":
        players = derived.players
        names = [p.company for p in players]
        shares = [p.share for p in players]
        # The rest of the market: the CSV's own row ("Others"...), else one added so that
        # the bars add up to 100 %.
        rest_name = next((p.company for p in players if p.is_rest), None)
        if rest_name is None:
            rest = round(100.0 - sum(shares), 6)
            if rest > 0.05:
                rest_name = report.players.others
                names.append(rest_name)
                shares.append(rest)
        data = ChartData(tuple(names), (Series(f"Share {report.base_year}", tuple(shares)),), "%")
        # A ranking names its bars; a donut of companies needs its legend table to name slices.
        return ChartSpec(chart.kind, width, chart.height, y_label="Share (%)",
                         legend=chart.kind == "donut", rest=rest_name), data
    seg = _segment(derived, chart.data)
    if chart.kind == "donut":
        years = chart.years or [report.base_year]
        data = ChartData(tuple(i.name for i in seg.items),
                         tuple(Series(str(y), tuple(i.share(y) for i in seg.items)) for y in years), "%")
        return ChartSpec("donut", width, chart.height), data
    if chart.kind in ("grouped_bar", "hbar"):
        years = chart.years or [report.base_year, report.forecast.end]
        data = ChartData(tuple(i.name for i in seg.items),
                         tuple(Series(str(y), tuple(i.value(y) for i in seg.items)) for y in years), unit)
        return ChartSpec(chart.kind, width, chart.height, y_label=unit), data
    years = chart.years or seg.years
    data = ChartData(tuple(str(y) for y in years),
                     tuple(Series(i.name, tuple(i.value(y) for y in years)) for i in seg.items), unit)
    return ChartSpec(chart.kind, width, chart.height, y_label=unit, forecast_from=fc), data


@dataclass(frozen=True)
class DisplayTable:
    """A table ready to lay out: header cells, body rows, which columns are numeric."""

    header: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    widths: list[float]            # relative column widths
    total_row: bool = False        # the last row is a total
    note: str = ""                 # printed after the source line

#: Countries printed in one row of a coverage table (more go on the next row).
COUNTRIES_PER_ROW = 60

ROUNDING_NOTE = "Rows may not add up to the total because of rounding."


def _rounding_note(rows: list[list[str]], columns: range) -> str:
    """The rounding note when a column's printed values do not add up to its printed total."""
    def number(cell: str) -> float:
        return float(cell.replace(",", "").replace(numbers.MINUS, "-"))

    for c in columns:
        if round(sum(number(r[c]) for r in rows[:-1]), 6) != number(rows[-1][c]):
            return ROUNDING_NOTE
    return ""


def places(table: Table, column: str, values: list[float], default: int | None = None) -> int:
    """Decimals of one column: the column's override, the table's, else ``default``, else
    three significant digits of the column's largest value (numbers.decimals_for)."""
    if column in table.column_decimals:
        return table.column_decimals[column]
    if default is not None:
        return default
    if table.decimals is not None:
        return table.decimals
    return numbers.decimals_for(values)


def table_input(table: Table, report: Report, derived: Derived) -> DisplayTable:
    """Header cells (a newline separates a heading from its unit), rows and column kinds."""
    unit = _unit(report)
    start, end = report.forecast.start, report.forecast.end
    cagr_head = f"CAGR\n{start}–{str(end)[-2:]} (%)"
    fmt = numbers.fmt
    if table.data == "market_size":
        years = table.years or derived.size.years
        size = [derived.size.at(y) for y in years]
        dec = places(table, "Market size", size)
        change_dec = places(table, "Change on prior year", [], max(dec, table.decimals or 0))
        growth_dec = places(table, "Growth", [], 1)
        rows = []
        for y in years:
            g = derived.size.growth.get(y)
            change = derived.size.at(y) - derived.size.at(y - 1) if y - 1 in derived.size.values else None
            label = f"{y}" + (" (base year)" if y == report.base_year else "")
            rows.append([label, fmt(derived.size.at(y), dec),
                         fmt(change, change_dec) if change is not None else "–",
                         fmt(g, growth_dec) if g is not None else "–"])
        return DisplayTable(["Year", f"Market size\n({unit})", f"Change on prior year\n({unit})",
                             "Growth\n(%)"], rows, [False, True, True, True], [1.5, 1.3, 1.5, 1.0])
    if table.data == "players":
        share_dec = places(table, "Share", [], 1)
        rows = [[p.company, p.headquarters, p.focus, fmt(p.share, share_dec)] for p in derived.players]
        return DisplayTable(["Company", "Headquarters", "Focus", f"Share\n{report.base_year} (%)"], rows,
                            [False, False, False, True], [1.4, 1.4, 2.9, 0.8])
    seg = _segment(derived, table.data)
    if table.data.startswith("coverage:"):
        # Long lists go on several rows, so that no row is taller than a page.
        rows = []
        for i in seg.items:
            found = seg.countries.get(i.name, [])
            chunks = [found[k:k + COUNTRIES_PER_ROW] for k in range(0, len(found), COUNTRIES_PER_ROW)]
            for k, chunk in enumerate(chunks or [[]]):
                rows.append([i.name if k == 0 else "", ", ".join(chunk)])
        return DisplayTable([seg.label, "Countries covered"], rows, [False, False], [1.3, 3.7])
    years = table.years or [report.base_year, end]
    # The unit goes under each year unless the table's title already states it.
    in_title = f"({unit})" in table.title
    header = ([seg.label] + [f"{y}" if in_title else f"{y}\n({unit})" for y in years]
              + ([cagr_head] if table.cagr else []))
    # One precision for every value column, from all the values and totals it shows, so no
    # value is printed less precisely than its neighbours (a column may override it).
    shown = [i.value(y) for i in seg.items for y in years] + [derived.size.at(y) for y in years]
    base = places(table, "", shown)
    decs = [places(table, str(y), [], base) for y in years]
    cagr_dec = places(table, "CAGR", [], 1)
    rows = []
    for item in seg.items:
        row = [item.name] + [fmt(item.value(y), d) for y, d in zip(years, decs, strict=True)]
        if table.cagr:
            row.append(fmt(item.cagr, cagr_dec))
        rows.append(row)
    total = ["Total"] + [fmt(derived.size.at(y), d) for y, d in zip(years, decs, strict=True)]
    if table.cagr:
        total.append(fmt(derived.size.cagr, cagr_dec))
    rows.append(total)
    n = len(header) - 1
    return DisplayTable(header, rows, [False] + [True] * n, [1.7] + [1.0] * n, total_row=True,
                        note=_rounding_note(rows, range(1, len(years) + 1)))

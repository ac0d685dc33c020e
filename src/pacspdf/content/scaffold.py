"""Turn a new report's slug into a minimal valid report folder (``pacspdf new SLUG``).

The folder holds a report.yaml with every required field, three small CSV tables and one
chapter with a snapshot, a chart and a table. ``check --strict`` and ``build`` accept it as it
stands; the analyst then replaces the placeholder market and numbers.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from pacspdf.errors import UsageError

SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")

_REPORT = """\
# {title}: a new report made by `pacspdf new {slug}`.
# Replace the placeholder figures in tables/ and the prose below; `pacspdf check {folder}`
# says what is wrong, file, line and field. The guide: docs/writing-a-report.md.
slug: {slug}
publisher_id: "{slug}"
code: {code}
title: {title} Market
subtitle: By Type (Type A, Type B) — Forecast {start}–{end}
short_title: {title} Market, {start}–{end}
market: {market}
edition: "{edition}"
base_year: {base}
forecast: {{start: {start}, end: {end}}}
currency: USD
unit: million

market_size:
  file: tables/market_size.csv
  source: Placeholder figures; replace with the publisher's analysis
  illustrative: Placeholder figures made by `pacspdf new`, growing at a constant 5 % a year.

segments:
  - id: type
    label: Type
    file: tables/by_type.csv
    source: Placeholder figures
    illustrative: Placeholder shares made by `pacspdf new`.
    items:
      - name: Type A
        description: The first type.
      - name: Type B
        description: The second type.

players:
  file: tables/players.csv
  source: Placeholder figures
  illustrative: Placeholder shares made by `pacspdf new`.

charts:
  - id: market-size
    kind: bar
    data: market_size
    title: "{{{{ report.market }}}} market size, {{{{ size.years[0] }}}}–{{{{ size.years[-1] }}}} \\
      (USD million)"
    callout: cagr
    alt: "Bars of the market size by year: it grows from {{{{ size.at(size.years[0]) | money }}}} in \\
      {{{{ size.years[0] }}}} to {{{{ size.at(size.years[-1]) | money }}}} in {{{{ size.years[-1] }}}}."

tables:
  - id: market-size
    data: market_size
    title: "{{{{ report.market }}}} market size and growth"

sections:
  - id: executive-summary
    title: Executive Summary
    blocks:
      - snapshot: true
      - text: |
          The {{{{ report.market }}}} market was worth {{{{ size.at(report.base_year) | money }}}} in
          {{{{ report.base_year }}}} and reaches {{{{ size.at(report.forecast.end) | money }}}} by
          {{{{ report.forecast.end }}}}, a compound annual growth rate of {{{{ size.cagr | pct }}}}.
      - figure: market-size
      - table: market-size
"""


def _tables(base: int, end: int) -> dict[str, str]:
    years = list(range(base, end + 1))
    size = "year,value\n" + "".join(f"{y},{100 * 1.05 ** (y - base):.1f}\n" for y in years)
    shares = "year,Type A,Type B\n" + "".join(
        f"{y},{60 - (y - base):.1f},{40 + (y - base):.1f}\n" for y in years)
    players = ("company,headquarters,focus,share_pct\n"
               "Company One,\"City, Country\",What it is known for,20.0\n"
               "Company Two,\"City, Country\",What it is known for,15.0\n")
    return {"tables/market_size.csv": size, "tables/by_type.csv": shares,
            "tables/players.csv": players}


def scaffold(slug: str, root: Path = Path("content"), today: dt.date | None = None) -> Path:
    """Write ``root/slug/`` and return it; UsageError when the slug is malformed or taken."""
    if not SLUG.fullmatch(slug):
        raise UsageError(f"{slug!r} is not a report slug (lower-case letters, digits and hyphens, "
                         "like 'flexible-packaging-adhesives')")
    folder = root / slug
    if folder.exists():
        raise UsageError(f"{folder} already exists; choose another slug or remove it")
    today = today or dt.date.today()
    base = today.year - 1
    start, end = base + 1, base + 8
    title = slug.replace("-", " ").title()
    text = _REPORT.format(slug=slug, title=title, market=title, start=start, end=end, base=base,
                          edition=today.isoformat(), code=f"NEW-{slug.upper()}"[:40],
                          folder=folder)
    files = {"report.yaml": text, **_tables(base, end)}
    for rel, body in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    return folder

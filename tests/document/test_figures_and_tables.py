"""The built sample read back: figures with captions and sources, illustrative notes, tables.

Expected values come from the content (report.yaml, the CSV tables, brand.yaml), never from
the code that built the PDF."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pacspdf import numbers
from pdf_reading import (
    REPORT,
    Box,
    Doc,
    _csv,
    caption_page,
    find,
    norm,
    numbered,
    provenance,
)

# ---------------------------------------------------------------------------- figures and tables

def _source_after(doc: Doc, page: int, caption: Box) -> tuple[int, Box]:
    """The 'Source:' line that follows a caption: below it on its page, else atop the next page."""
    below = [b for b in find(doc.tp(page), "Source:") if b.top <= caption.bottom + 0.5]
    if below:
        return page, max(below, key=lambda b: b.top)
    following = find(doc.tp(page + 1), "Source:")
    assert following, f"no source line after the caption on page {page}"
    return page + 1, max(following, key=lambda b: b.top)


def _source_text(doc: Doc, page: int, source: Box) -> str:
    tp = doc.tp(page)
    searcher = tp.search("Source:", match_case=True)
    while (hit := searcher.get_next()) is not None:
        box = tp.get_charbox(hit[0], loose=True)
        if abs(box[1] - source.bottom) < 0.5 and abs(box[0] - source.left) < 0.5:
            return norm(tp.get_text_range(hit[0], min(700, tp.count_chars() - hit[0])))
    raise AssertionError("source line vanished")


def _chart_labels(chart: dict[str, Any]) -> list[str]:
    """Texts the chart itself must show: its unit axis, its categories or its series names."""
    data = chart["data"]
    if data == "market_size":
        years = [r["year"] for r in _csv(Path(REPORT["market_size"]["file"]).name)]
        return [f"{REPORT.get('currency', 'USD')} {REPORT.get('unit', 'million')}", years[0], years[-1]]
    if data == "players":
        return [r["company"] for r in _csv(Path(REPORT["players"]["file"]).name)][:3]
    seg = next(s for s in REPORT["segments"] if s["id"] == data.split(":", 1)[1])
    return [item["name"] for item in seg["items"]]


def test_at_least_six_figures_each_with_chart_and_source_on_its_caption_page(doc: Doc) -> None:
    """There are ≥ 6 'Figure N' captions; each has its chart (the chart's own labels) below it and
    its 'Source:' line under the chart, all on the caption's page."""
    charts = {c["id"]: c for c in REPORT["charts"]}
    ids = numbered("figure")
    assert len(ids) >= 6
    for n, chart_id in enumerate(ids, start=1):
        page = caption_page(doc, f"Figure {n}")
        caption = find(doc.tp(page), f"Figure {n}")[0]
        src_page, source = _source_after(doc, page, caption)
        assert src_page == page, f"Figure {n}: source line not on the caption's page"
        assert caption.bottom - source.top > 100, f"Figure {n}: no room for a chart"
        _w, _h = doc.size(page)
        band = norm(doc.tp(page).get_text_bounded(0, source.top, _w, caption.bottom))
        for label in _chart_labels(charts[chart_id]) if chart_id in charts else []:  # diagrams: test_sales
            assert label in band, f"Figure {n}: chart label {label!r} not between caption and source"


def test_illustrative_notes_beside_illustrative_figures_and_tables(doc: Doc) -> None:
    """The source line of every figure and table fed by illustrative data carries that note, and
    only those source lines say 'Illustrative'; a figure or table whose data a chapter has
    already sourced points back to it ("Source: as Figure N") instead of repeating it."""
    refs = {"figure": {c["id"]: c["data"] for c in REPORT["charts"]},
            "table": {t["id"]: t["data"] for t in REPORT["tables"]}}
    by_label = {f"{word} {n}": refs[kind].get(item_id)
                for kind, word in (("figure", "Figure"), ("table", "Table"))
                for n, item_id in enumerate(numbered(kind), start=1)}
    seen_note = seen_plain = seen_shared = False
    for kind, word in (("figure", "Figure"), ("table", "Table")):
        for n, item_id in enumerate(numbered(kind), start=1):
            if item_id not in refs[kind]:
                continue  # methodology diagrams and the deals table have sources of their own
            page = caption_page(doc, f"{word} {n}")
            caption = find(doc.tp(page), f"{word} {n}")[0]
            src_page, source = _source_after(doc, page, caption)
            text = _source_text(doc, src_page, source)
            shared = re.match(r"Source: as ((?:Figure|Table) \d+)\.", text)
            if shared:
                seen_shared = True
                assert by_label[shared.group(1)] == refs[kind][item_id], f"{word} {n}: {text[:60]!r}"
                assert "Illustrative" not in text[:40]
                continue
            origin, note = provenance(refs[kind][item_id])
            assert text.startswith(norm(f"Source: {origin}")), f"{word} {n}: {text[:80]!r}"
            head = text[: len(norm(f"Source: {origin}")) + 2 + len(norm(note or "")) + 20]
            if note:
                seen_note = True
                assert norm(note) in text, f"{word} {n}: illustrative note missing"
                assert "Illustrative" in head
            else:
                seen_plain = True
                assert "Illustrative" not in head, f"{word} {n} is not illustrative"
    assert seen_note and seen_plain and seen_shared


def test_table_values_have_thousands_separators_and_units_in_the_header(doc: Doc) -> None:
    """The market-size table prints every CSV value in whole units with a thousands separator,
    under a header that names the currency and unit."""
    n = numbered("table").index(next(t["id"] for t in REPORT["tables"] if t["data"] == "market_size")) + 1
    page = caption_page(doc, f"Table {n}")
    text = norm(doc.text(page))
    values = [float(r["value"]) for r in _csv(Path(REPORT["market_size"]["file"]).name)]
    assert any(v >= 1000 for v in values)
    for v in values:
        assert numbers.fmt(v, 0) in text  # half away from zero, as every table rounds
    rows = _table_rows(doc, page, f"Table {n}")
    first_body = next(i for i, row in enumerate(rows) if row and row[0].text[:4].isdigit())
    header = " ".join(w.text for row in rows[:first_body] for w in row)
    assert f"({REPORT.get('currency', 'USD')} {REPORT.get('unit', 'million')})" in header


def _table_rows(doc: Doc, page: int, label: str) -> list[list[Box]]:
    """Word rows (by baseline) of the table whose caption is ``label``, between caption and source."""
    caption = find(doc.tp(page), label)[0]
    _src_page, source = _source_after(doc, page, caption)
    inside = [w for w in doc.words(page) if source.top < w.bottom and w.top < caption.bottom]
    rows: dict[float, list[Box]] = {}
    for w in inside:
        key = next((k for k in rows if abs(k - w.bottom) < 1.0), w.bottom)
        rows.setdefault(key, []).append(w)
    return [sorted(r, key=lambda w: w.left) for _, r in sorted(rows.items(), reverse=True)]


NUMBER = re.compile(r"^-?[\d,]*\d\.\d+%?$")  # a formatted value (years in headers are not)


def test_table_numbers_are_right_aligned(doc: Doc) -> None:
    """In the segment and company tables every numeric column shares one right edge (its left
    edges differ, so the check is real) while the label column shares one left edge."""
    spread_seen = 0.0
    tables = [t["id"] for t in REPORT["tables"] if t["data"].startswith("segment:") or t["data"] == "players"]
    assert tables
    for n, table_id in enumerate(numbered("table"), start=1):
        if table_id not in tables:
            continue
        page = caption_page(doc, f"Table {n}")
        rows = _table_rows(doc, page, f"Table {n}")
        numeric = [[w for w in row if NUMBER.match(w.text)] for row in rows]
        width = max(len(r) for r in numeric)
        body = [(row, nums) for row, nums in zip(rows, numeric, strict=True) if len(nums) == width]
        assert len(body) >= 3 and width >= 1, f"Table {n}: no numeric rows found"
        for col in range(width):
            cells = [nums[col] for _, nums in body]
            rights = [c.right for c in cells]
            lefts = [c.left for c in cells]
            assert max(rights) - min(rights) < 0.6, f"Table {n} column {col}: {[c.text for c in cells]}"
            spread_seen = max(spread_seen, max(lefts) - min(lefts))
        label_lefts = [row[0].left for row, _ in body]
        assert max(label_lefts) - min(label_lefts) < 0.6, f"Table {n}: labels not left-aligned"
    assert spread_seen > 2.0, "no column with numbers of different widths: alignment untested"

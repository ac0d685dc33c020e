"""Builds of changed copies of the sample: long tables, cold and warm caches, the watermark switch,
``python -m pacspdf``, another slug.

Expected values come from the content (report.yaml, the CSV tables, brand.yaml), never from
the code that built the PDF."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
import yaml

from pacspdf import numbers
from pacspdf.build import build
from pacspdf.cli import main
from pdf_reading import (
    CONTENT,
    REPORT,
    _yaml,
    find,
    norm,
    numbered,
    warm_cache,
)

# ---------------------------------------------------------------------------- builds of copies

@pytest.fixture(scope="module")
def long_table(tmp_path_factory: pytest.TempPathFactory, copy_sample: Callable[..., Path],
               sample_pdf: Any) -> tuple[Path, list[str]]:
    """A build of the sample whose market-size table has 49 years: (pdf, the added rows' values)."""
    root = tmp_path_factory.mktemp("long-table")
    folder = copy_sample(root)
    tables = folder / "tables"
    size = (tables / "market_size.csv").read_text(encoding="utf-8").splitlines()
    first_year, first_value = size[1].split(",")
    extra: list[tuple[int, float]] = []
    value = float(first_value)
    for year in range(int(first_year) - 1, int(first_year) - 41, -1):
        value /= 1.06
        extra.append((year, round(value, 1)))
    extra.reverse()
    (tables / "market_size.csv").write_text(
        "\n".join([size[0], *(f"{y},{v:.1f}" for y, v in extra), *size[1:]]) + "\n", encoding="utf-8")
    for seg in REPORT["segments"]:
        path = folder / seg["file"]
        rows = path.read_text(encoding="utf-8").splitlines()
        shares = rows[1].split(",", 1)[1]
        path.write_text("\n".join([rows[0], *(f"{y},{shares}" for y, _ in extra), *rows[1:]]) + "\n",
                        encoding="utf-8")
    report = _yaml(folder / "report.yaml")
    years = [int(ln.split(",")[0]) for ln in size[1:]]
    for chart in report["charts"]:           # keep the charts as they were: the table is the point
        chart.setdefault("years", years)
    (folder / "report.yaml").write_text(yaml.safe_dump(report, allow_unicode=True, sort_keys=False),
                                        encoding="utf-8")
    result = build(folder, root / "long.pdf", cache_dir=sample_pdf.cache_dir)
    # printed as the table prints them: no decimals, half away from zero (3960.5 is "3,961")
    return result.path, [numbers.fmt(v, 0) for _, v in extra]


@pytest.mark.slow
def test_long_table_repeats_its_header_on_every_page(long_table: tuple[Path, list[str]]) -> None:
    """A table too long for one page breaks across pages and each page starts with the same header."""
    path, values = long_table
    n = numbered("table").index(next(t["id"] for t in REPORT["tables"] if t["data"] == "market_size")) + 1
    pdf = pypdfium2.PdfDocument(path)
    try:
        tps = [page.get_textpage() for page in pdf]
        found = [i for i, tp in enumerate(tps) if any(find(tp, v) for v in values)]
        # The table's pages: the run of consecutive pages from its caption's page that show its
        # rows (a short value can also appear by chance elsewhere, inside a chart's label).
        on = [next(i for i in found if find(tps[i], f"Table {n}"))]
        while on[-1] + 1 in found:
            on.append(on[-1] + 1)
        assert len(on) >= 2, f"the long table did not break across pages: {found}"
        assert find(tps[on[-1]], values[-1]), "the table's last added row is not on its last page"
        headers = []
        for i in on:
            tp = tps[i]
            width = pdf[i].get_size()[0]
            first_row = max((b for v in values for b in find(tp, v)), key=lambda b: b.top)
            if i == on[0]:
                top = find(tp, f"Table {n}")[0].bottom
            else:
                top = min(b.bottom for b in find(tp, REPORT["short_title"]))  # the running header
            headers.append(norm(tp.get_text_bounded(0, first_row.top + 0.5, width, top - 0.5)))
        assert headers[0], "no header row above the first rows"
        assert all(h == headers[0] for h in headers), headers
    finally:
        for tp in tps:
            tp.close()
        pdf.close()


def test_two_builds_cold_and_warm_chart_cache_are_byte_identical(sample_pdf: Any, tmp_path: Path) -> None:
    """Rebuilding unchanged content with the now-warm chart cache gives the same bytes as the
    session's cold-cache build."""
    assert list(Path(sample_pdf.cache_dir).iterdir()), "the chart cache was not filled"
    again = build(CONTENT, tmp_path / "again.pdf", cache_dir=sample_pdf.cache_dir)
    assert again.path.read_bytes() == Path(sample_pdf.path).read_bytes()


def test_watermark_can_be_turned_off_in_brand_data(tmp_path: Path, content_copy: Callable[..., Path],
                                                   sample_pdf: Any) -> None:
    """With 'watermark: false' in brand.yaml no page carries the SAMPLE watermark."""
    folder = content_copy()
    brand = tmp_path / "assets" / "brand.yaml"
    text, count = re.subn(r"(?m)^watermark:\s*true\b", "watermark: false", brand.read_text(encoding="utf-8"))
    assert count == 1
    brand.write_text(text, encoding="utf-8")
    result = build(folder, tmp_path / "plain.pdf", cache_dir=sample_pdf.cache_dir)
    pdf = pypdfium2.PdfDocument(result.path)
    try:
        for page in pdf:
            tp = page.get_textpage()
            assert not [b for b in find(tp, "SAMPLE") if b.top - b.bottom > 50]
            tp.close()
    finally:
        pdf.close()


@pytest.mark.slow
def test_python_m_pacspdf_build_as_a_subprocess(tmp_path: Path, content_copy: Callable[..., Path],
                                                sample_pdf: Any) -> None:
    """`python -m pacspdf build` with no arguments writes out/<slug>-sample.pdf, prints its path,
    page count, size and time, and produces the same bytes as the in-process build."""
    content_copy()
    warm_cache(tmp_path, sample_pdf)
    proc = subprocess.run([sys.executable, "-m", "pacspdf", "build"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    out = Path("out") / f"{REPORT['slug']}-sample.pdf"
    match = re.search(rf"^{re.escape(str(out))}: (\d+) pages, [\d.,]+ [KM]B, [\d.]+ s$", proc.stdout, re.M)
    assert match, proc.stdout
    assert int(match.group(1)) == sample_pdf.result.pages
    assert (tmp_path / out).read_bytes() == Path(sample_pdf.path).read_bytes()
    assert "Traceback" not in proc.stderr


def test_build_of_another_content_folder_is_named_by_its_slug(
        tmp_path: Path, content_copy: Callable[..., Path], sample_pdf: Any,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`build content/<other>` of a copy with another slug writes out/<that-slug>-sample.pdf."""
    folder = content_copy("other")
    report = folder / "report.yaml"
    text, count = re.subn(r"(?m)^slug:.*$", "slug: other-market", report.read_text(encoding="utf-8"))
    assert count == 1
    report.write_text(text, encoding="utf-8")
    warm_cache(tmp_path, sample_pdf)
    monkeypatch.chdir(tmp_path)
    assert main(["build", "content/other"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").glob("*.pdf")) == ["other-market-sample.pdf"]
    assert "out/other-market-sample.pdf" in capsys.readouterr().out

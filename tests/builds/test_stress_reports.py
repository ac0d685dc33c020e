"""Stress reports unlike PACS (other units, currencies, base years, brands, long names) build cleanly.

Each report under tests/reports/ is checked with --strict, built (which runs the layout
preflight and writes no PDF when it finds anything), and read back: every figure of the
market-size table is printed at the precision its unit and magnitude call for.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pypdf
import pytest

from pacspdf.build import build
from pacspdf.numbers import decimals_for, fmt
from pacspdf.validate import check

REPORTS = Path(__file__).resolve().parents[1] / "reports"
pytestmark = pytest.mark.slow  # five full builds; CI runs them (PACSPDF_ALL_TESTS=1)
SLUGS = sorted(p.name for p in REPORTS.iterdir() if (p / "report.yaml").is_file())


def test_there_are_at_least_four_stress_reports() -> None:
    assert len(SLUGS) >= 4


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every stress report built once, with a cold chart cache."""
    root = tmp_path_factory.mktemp("stress")
    out = {}
    for slug in SLUGS:
        result = build(REPORTS / slug, root / f"{slug}.pdf", cache_dir=root / "cache")
        out[slug] = result.path
    return out


@pytest.mark.parametrize("slug", SLUGS)
def test_stress_report_passes_check_strict(slug: str) -> None:
    content, problems = check(REPORTS / slug)
    assert content is not None
    assert [str(p) for p in problems if p.severity in ("error", "warning")] == []


@pytest.mark.parametrize("slug", SLUGS)
def test_market_size_table_prints_every_figure_at_the_expected_precision(
        slug: str, built: dict[str, Path]) -> None:
    text = (REPORTS / slug / "tables" / "market_size.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    values = [float(r["value"]) for r in rows]
    places = decimals_for(values)
    reader = pypdf.PdfReader(built[slug])
    page = next(p.extract_text() for p in reader.pages if "Change on prior year" in p.extract_text())
    cells = [line.strip() for line in page.splitlines()]
    at = cells.index("Change on prior year")
    for i, row in enumerate(rows):
        label = row["year"] + (" (base year)" if i == 0 else "")
        at = cells.index(label, at)
        value, change = cells[at + 1], cells[at + 2]
        assert value == fmt(values[i], places), (slug, row["year"], value)
        expected_change = fmt(values[i] - values[i - 1], places) if i else "\u2013"
        assert change == expected_change, (slug, row["year"], change)


def test_the_billion_report_prints_hundredths_not_whole_numbers(built: dict[str, Path]) -> None:
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(built["flexible-packaging-adhesives"]).pages)
    assert "2.84" in text and "3.81" in text


def test_two_brands_whose_font_files_share_names_keep_their_own_fonts(tmp_path: Path) -> None:
    """In one process (a catalogue worker), Lato and Caladea brands with fonts/Regular.ttf each."""
    fonts = {}
    for slug in ("full-service-carriers-uk", "swiss-precision-optics"):
        pdf = build(REPORTS / slug, tmp_path / f"{slug}.pdf", cache_dir=tmp_path / "cache").path
        names: set[str] = set()
        for page in pypdf.PdfReader(pdf).pages:
            _collect_fonts(page["/Resources"], names)
        fonts[slug] = names
    assert fonts["full-service-carriers-uk"] and all("Lato" in n for n in fonts["full-service-carriers-uk"])
    assert fonts["swiss-precision-optics"] and all("Caladea" in n for n in fonts["swiss-precision-optics"])


def _collect_fonts(resources: object, names: set[str]) -> None:
    res = resources.get_object() if hasattr(resources, "get_object") else resources
    for font in (res.get("/Font") or {}).values():  # type: ignore[union-attr]
        names.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    for xobj in (res.get("/XObject") or {}).values():  # type: ignore[union-attr]
        inner = xobj.get_object().get("/Resources")
        if inner is not None:
            _collect_fonts(inner, names)


def test_a_brand_with_its_own_fonts_prints_nothing_on_stderr(tmp_path: Path,
                                                             capfd: pytest.CaptureFixture[str]) -> None:
    from pacspdf.cli import main

    folder = tmp_path / "report"
    shutil.copytree(REPORTS / "swiss-precision-optics", folder)
    assert main(["build", str(folder), "-q", "-o", str(tmp_path / "x.pdf")]) == 0
    err = capfd.readouterr().err
    assert "findfont" not in err and err == ""

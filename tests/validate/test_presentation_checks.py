"""`check` refuses chart kinds that misstate their data, warns when printed figures lose information,
names characters the brand's fonts lack, checks what `send` will need, and gates with --strict."""

from __future__ import annotations

import shutil
from pathlib import Path

import pypdf
import pytest

from pacspdf.build import build
from pacspdf.cli import main
from pacspdf.validate import check

REPORTS = Path(__file__).resolve().parents[1] / "reports"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def optics(tmp_path: Path) -> Path:
    folder = tmp_path / "content" / "optics"
    shutil.copytree(REPORTS / "swiss-precision-optics", folder)
    return folder


def _edit(folder: Path, old: str, new: str, name: str = "report.yaml") -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _messages(folder: Path, severity: str = "error") -> list[str]:
    _content, problems = check(folder)
    return [f"{p.field}: {p.message}" for p in problems if p.severity == severity]


@pytest.mark.parametrize(("kind", "data", "years", "expected"), [
    ("donut", "market_size", "", "a donut of market_size would show years as slices of a whole"),
    ("line", "players", "", "players are one ranking, not a series over years"),
    ("donut", "players", "", "the company shares add up to 60.0 %; a donut would rescale them"),
    ("bar", "coverage:product", "", "is a list of countries, not figures"),
    ("donut", "segment:product", "", "a donut shows one year per ring"),
    ("donut", "segment:product", "    years: [2019, 2020, 2021, 2022]\n", "4 rings side by side"),
])
def test_nonsense_chart_pairings_are_refused(optics: Path, kind: str, data: str, years: str,
                                             expected: str) -> None:
    if data.startswith("coverage"):
        (optics / "tables" / "countries.csv").write_text(
            "segment,country\nObjektive,Switzerland\nPrismen,Germany\nSpiegel,Austria\n", encoding="utf-8")
        _edit(optics, "    source: Optikum\n    items:",
              "    source: Optikum\n    coverage: tables/countries.csv\n    items:")
    _edit(optics, "    kind: line\n    data: market_size\n", f"    kind: {kind}\n    data: {data}\n{years}")
    found = _messages(optics)
    assert any(m.startswith("charts[0].kind: ") and expected in m for m in found), found


def test_a_donut_of_players_whose_shares_make_a_whole_is_accepted(optics: Path) -> None:
    (optics / "tables" / "players.csv").write_text(
        "company,headquarters,focus,share_pct\nA AG,Zürich,x,60\nB SA,Genève,y,25\nOthers,–,z,15\n",
        encoding="utf-8")
    _edit(optics, "    kind: line\n    data: market_size\n", "    kind: donut\n    data: players\n")
    assert _messages(optics) == []


def test_a_column_that_prints_the_same_value_in_every_row_is_a_warning(optics: Path) -> None:
    _edit(optics, 'title: "Marktgrösse und Wachstum (CHF million)"',
          'title: "Marktgrösse und Wachstum (CHF million)"\n    decimals: 0')
    warnings = _messages(optics, "warning")
    assert any('column "Market size": ' in w and "with 0 decimals" in w for w in warnings), warnings
    assert main(["check", "--strict", str(optics)]) == 2


def test_decimals_override_is_printed_in_the_pdf(optics: Path, tmp_path: Path) -> None:
    _edit(optics, 'title: "Marktgrösse und Wachstum (CHF million)"',
          'title: "Marktgrösse und Wachstum (CHF million)"\n    decimals: 4\n'
          '    column_decimals: {"Growth": 2}')
    pdf = build(optics, tmp_path / "x.pdf", cache_dir=None).path
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages)
    assert "0.4210" in text and "2.49" in text


def test_column_decimals_must_name_a_column_of_the_table(optics: Path) -> None:
    _edit(optics, 'title: "Marktgrösse und Wachstum (CHF million)"',
          'title: "Marktgrösse und Wachstum (CHF million)"\n    column_decimals: {"Wachstum": 2}')
    found = _messages(optics)
    assert any('"Wachstum" is not a column of this table' in m and '"Growth"' in m for m in found), found


@pytest.mark.parametrize("name", ["東洋モートン株式会社", "مجموعة الخليج"])
def test_characters_the_brand_fonts_lack_are_named_at_check(optics: Path, name: str) -> None:
    path = optics / "tables" / "players.csv"
    path.write_text(path.read_text(encoding="utf-8") + f"{name},Tokyo,x,1\n", encoding="utf-8")
    found = _messages(optics)
    assert any(m.startswith("company: ") and "U+" in m and "empty box" in m for m in found), found


def test_a_broken_mail_template_is_found_by_check_not_by_send(optics: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    (optics / "brand" / "mail" / "subject.txt").write_text("Your sample {{ report.titel }\n",
                                                            encoding="utf-8")
    assert main(["check", str(optics)]) == 2
    err = capsys.readouterr().err
    assert "subject.txt:1: error: mail: unexpected '}'" in err


def test_an_unusable_sender_in_the_environment_is_found_by_check(
        optics: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PACSPDF_MAIL_FROM", "Samples <not an address>")
    assert main(["check", str(optics)]) == 2
    assert "PACSPDF_MAIL_FROM" in capsys.readouterr().err


def test_strict_passes_on_the_shipped_content_with_its_declared_estimates(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(REPO)
    assert main(["check", "--strict", "content/pacs"]) == 0
    err = capsys.readouterr().err
    assert "note: market_size.illustrative" in err and "warning:" not in err


def test_a_thousand_unit_report_prints_thousands(tmp_path: Path) -> None:
    pdf = build(REPORTS / "full-service-carriers-uk", tmp_path / "t.pdf", cache_dir=None).path
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages)
    assert "GBP 4.2 million" in text and "4,198" in text and "(GBP thousand)" in text

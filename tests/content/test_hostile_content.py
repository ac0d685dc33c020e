"""Hostile content: paths that leave the report folder, oversized files, and the default report rule.

Each case runs through the command line as a user would: a clean one-line error naming the
file and field, exit code 2, no traceback, and nothing written (no PDF, no outbox).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pacspdf.cli import main
from pacspdf.content.confine import MAX_REPORT_BYTES, MAX_TABLE_BYTES, MAX_TABLE_ROWS, MAX_YAML_BYTES

REPORTS = Path(__file__).resolve().parents[1] / "reports"
REPO = Path(__file__).resolve().parents[2]
SECRET = "TOP-SECRET-PAYLOAD-7f3a"


@pytest.fixture
def report(tmp_path: Path) -> Path:
    """A copy of a stress report with its own brand, and a secret file beside the folder."""
    folder = tmp_path / "content" / "optics"
    shutil.copytree(REPORTS / "swiss-precision-optics", folder)
    (tmp_path / "secret.csv").write_text(
        f"company,headquarters,focus,share_pct\n{SECRET},x,y,1\n", encoding="utf-8")
    return folder


def _set_players_file(folder: Path, value: str) -> None:
    path = folder / "report.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("file: tables/players.csv", f"file: {value}"), encoding="utf-8")


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("written", ["../../secret.csv", "ABSOLUTE", "tables/link.csv"])
def test_a_table_path_outside_the_report_folder_is_refused_without_quoting_it(
        report: Path, written: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if written == "ABSOLUTE":
        written = str(tmp_path / "secret.csv")
    if written == "tables/link.csv":
        os.symlink(tmp_path / "secret.csv", report / "tables" / "link.csv")
    _set_players_file(report, written)
    out_pdf = tmp_path / "out.pdf"
    for args in (["check", str(report)], ["build", str(report), "-o", str(out_pdf)]):
        code, out = _run(args, capsys)
        assert code == 2
        assert "Traceback" not in out and SECRET not in out
        assert "players.file" in out
        assert "outside the report folder" in out or "absolute path" in out
    assert not out_pdf.exists()


def test_a_brand_font_outside_the_brand_folder_is_refused(report: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    brand = report / "brand" / "brand.yaml"
    shutil.copy(report / "brand" / "fonts" / "Regular.ttf", tmp_path / "Elsewhere.ttf")
    brand.write_text(brand.read_text(encoding="utf-8").replace(
        "regular: fonts/Regular.ttf", "regular: ../../../Elsewhere.ttf"), encoding="utf-8")
    code, out = _run(["check", str(report)], capsys)
    assert code == 2
    assert "fonts.regular" in out and "outside the brand folder" in out


def test_a_brand_file_outside_the_report_folder_is_refused(report: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(report / "brand", tmp_path / "elsewhere")
    text = (report / "report.yaml").read_text(encoding="utf-8")
    text = text.replace("brand: brand/brand.yaml", "brand: ../../elsewhere/brand.yaml")
    (report / "report.yaml").write_text(text, encoding="utf-8")
    code, out = _run(["check", str(report)], capsys)
    assert code == 2
    assert "brand: " in out and "leads outside the report folder" in out


def test_a_package_font_path_cannot_climb_out_of_its_package(report: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    brand = report / "brand" / "brand.yaml"
    brand.write_text(brand.read_text(encoding="utf-8").replace(
        "regular: fonts/Regular.ttf", "regular: pkg:font_source_sans_pro/../../../../etc/passwd"),
        encoding="utf-8")
    code, out = _run(["check", str(report)], capsys)
    assert code == 2
    assert "fonts.regular" in out and 'leads outside the package "font_source_sans_pro"' in out
    assert "root:" not in out


def test_an_oversized_table_is_refused_at_check_before_it_is_read(
        report: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = report / "tables" / "players.csv"
    row = "Company %d Aktiengesellschaft,\"Zürich, Switzerland\",Optics,0.0001\n"
    with path.open("a", encoding="utf-8") as fh:
        i = 0
        while fh.tell() <= MAX_TABLE_BYTES:
            fh.write(row % i)
            i += 1
    code, out = _run(["check", str(report)], capsys)
    assert code == 2
    assert "players.csv" in out and "the limit is 256 KB" in out


def test_a_table_with_too_many_rows_is_refused(report: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = report / "tables" / "players.csv"
    with path.open("a", encoding="utf-8") as fh:
        for i in range(MAX_TABLE_ROWS):
            fh.write(f"C{i},H,F,0.001\n")
    code, out = _run(["check", str(report)], capsys)
    assert code == 2
    assert f"the limit is {MAX_TABLE_ROWS} rows" in out


@pytest.mark.slow  # ~1 MB of tables read in full (~1.8 s); the per-file limits above run by default
def test_a_report_over_its_total_size_is_refused(report: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Each file within its own limit, together more than a report may hold."""
    assert 4 * MAX_TABLE_BYTES + MAX_YAML_BYTES > MAX_REPORT_BYTES
    near = MAX_TABLE_BYTES - 1024
    for name in ("market_size.csv", "by_product.csv", "players.csv"):
        path = report / "tables" / name
        path.write_bytes(path.read_bytes() + b"\n" * (near - path.stat().st_size))
    yaml = report / "report.yaml"
    yaml.write_bytes(yaml.read_bytes() + b"#" * (MAX_YAML_BYTES - 1024 - yaml.stat().st_size) + b"\n")
    code, out = _run(["check", str(report)], capsys)
    assert code == 2
    assert "report.yaml and its tables are 1020 KB together; the limit is 512 KB per report" in out


def _catalogue(tmp_path: Path, *slugs: str) -> Path:
    for slug in slugs:
        shutil.copytree(REPORTS / "swiss-precision-optics", tmp_path / "content" / slug)
    return tmp_path


@pytest.mark.parametrize("command", [["build"], ["check"], ["send", "enquiries.csv"]])
def test_with_several_reports_a_command_without_report_exits_2_and_lists_them(
        tmp_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    root = _catalogue(tmp_path, "alpha", "beta")
    (root / "enquiries.csv").write_text("name,email,company,job_title,country\n"
                                        "Ann Lee,ann@example.com,Acme,CTO,France\n", encoding="utf-8")
    monkeypatch.chdir(root)
    code, out = _run(command, capsys)
    assert code == 2
    assert "content/alpha" in out and "content/beta" in out
    assert "Traceback" not in out
    assert not (root / "out").exists()


def test_with_one_report_a_command_without_report_uses_it(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    root = _catalogue(tmp_path, "only-one")
    monkeypatch.chdir(root)
    code, out = _run(["check"], capsys)
    assert code == 0, out

"""docs/writing-a-report.md is generated from the schema, and `pacspdf new` makes a valid report."""

from __future__ import annotations

import shutil
from pathlib import Path

import pypdf
import pytest

from pacspdf.cli import main
from pacspdf.content import model
from pacspdf.content.guide import render
from pacspdf.content.schema import Record

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "writing-a-report.md"


def test_the_guide_is_current_with_the_schema() -> None:
    """Regenerate with: python -m pacspdf.content.guide docs/writing-a-report.md"""
    text = GUIDE.read_text(encoding="utf-8")
    assert render(text) == text


def test_every_model_has_its_table_in_the_guide_and_every_field_a_meaning() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    records = [c for c in vars(model).values()
               if isinstance(c, type) and issubclass(c, Record) and c.__module__ == model.__name__
               and c.__schema__ and c.__name__ not in ("Strict", "TableSource")]
    for cls in records:
        assert f"<!-- fields: {cls.__name__} -->" in text, cls.__name__
        for name, spec in cls.__schema__.items():
            assert spec.field.doc, f"{cls.__name__}.{name} has no doc"


def test_the_guide_names_every_chart_kind_and_the_hyphenated_id_form() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    for kind in ("bar", "stacked_bar", "grouped_bar", "line", "donut", "hbar"):
        assert f"`{kind}`" in text
    assert 'segments["end-use"]' in text
    assert "brand: brand/brand.yaml" in text


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "assets", tmp_path / "assets")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_new_makes_a_report_that_check_strict_and_build_accept(
        workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "flexible-packaging-adhesives"]) == 0
    assert (workspace / "content" / "flexible-packaging-adhesives" / "report.yaml").is_file()
    assert main(["check", "--strict"]) == 0  # the only report: no name needed
    assert main(["build"]) == 0
    pdf = workspace / "out" / "flexible-packaging-adhesives-sample.pdf"
    text = "".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages)
    assert "Flexible Packaging Adhesives Market" in text
    err = capsys.readouterr().err
    assert "error:" not in err and "warning:" not in err


@pytest.mark.parametrize("slug", ["Bad_Slug", "x-", "a--b", ""])
def test_new_refuses_a_malformed_slug(workspace: Path, slug: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", slug]) == 2
    assert "is not a report slug" in capsys.readouterr().err
    assert not (workspace / "content").exists()


def test_new_never_overwrites_a_report(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "taken"]) == 0
    marker = workspace / "content" / "taken" / "report.yaml"
    before = marker.read_bytes()
    assert main(["new", "taken"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert marker.read_bytes() == before

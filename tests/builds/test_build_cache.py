"""Build caches (derived figures, layout hints) change how fast a build is, never its bytes."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pacspdf.build import build


@pytest.mark.slow
def test_second_build_lays_out_in_one_pass_and_is_identical(content_copy: Callable[..., Path],
                                                            tmp_path: Path, sample_pdf: Any) -> None:
    """With the layout hints of the previous build, multiBuild needs one pass; the bytes match."""
    folder = content_copy()
    cache = tmp_path / "cache"
    shutil.copytree(sample_pdf.cache_dir / "charts", cache / "charts")
    first = build(folder, tmp_path / "a.pdf", cache_dir=cache)
    second = build(folder, tmp_path / "b.pdf", cache_dir=cache)
    assert first.passes >= 2
    assert second.passes == 1
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    assert list((cache / "derived").glob("*.pickle")) and list((cache / "layout").glob("*.json"))


@pytest.mark.slow
def test_stale_layout_hints_cost_passes_not_correctness(content_copy: Callable[..., Path],
                                                         tmp_path: Path) -> None:
    """Hints from a different version of the report still give the same bytes as no cache."""
    folder = content_copy()
    report = folder / "report.yaml"
    original = report.read_text(encoding="utf-8")
    # A longer first chapter moves every later heading by a page.
    longer = original.replace("      - snapshot: true\n",
                              "      - snapshot: true\n      - text: " + "More. " * 1500 + "\n", 1)
    assert longer != original
    cache = tmp_path / "cache"
    plain = build(folder, tmp_path / "plain.pdf", cache_dir=None)
    report.write_text(longer, encoding="utf-8")
    assert build(folder, tmp_path / "longer.pdf", cache_dir=cache).pages > plain.pages
    report.write_text(original, encoding="utf-8")
    hinted = build(folder, tmp_path / "hinted.pdf", cache_dir=cache)
    assert hinted.passes >= 2
    assert (tmp_path / "hinted.pdf").read_bytes() == (tmp_path / "plain.pdf").read_bytes()
    assert plain.pages == hinted.pages


@pytest.mark.slow  # two builds; the key itself: tests/write/test_cache_keys.py, in the quick run
def test_derived_cache_is_keyed_by_the_numbers(content_copy: Callable[..., Path], tmp_path: Path,
                                               sample_pdf: Any) -> None:
    """Changing a CSV value gives a new derived result (a new cache entry), not the stale one."""
    folder = content_copy()
    cache = tmp_path / "cache"
    shutil.copytree(sample_pdf.cache_dir / "charts", cache / "charts")  # the charts are not what is tested
    build(folder, tmp_path / "a.pdf", cache_dir=cache)
    csv = folder / "tables" / "market_size.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace("2032,6672.0", "2032,6700.0"), encoding="utf-8")
    build(folder, tmp_path / "b.pdf", cache_dir=cache)
    assert len(list((cache / "derived").glob("*.pickle"))) == 2
    plain = build(folder, tmp_path / "c.pdf", cache_dir=None)
    assert (tmp_path / "b.pdf").read_bytes() == (tmp_path / "c.pdf").read_bytes()
    assert plain.pages > 0


def test_a_box_taller_than_a_page_is_a_clean_content_error(content_copy: Callable[..., Path],
                                                           tmp_path: Path) -> None:
    """A teaser too long for one page ends in a ContentError naming its YAML line, not a LayoutError."""
    from pacspdf.errors import ContentError

    folder = content_copy()
    report = folder / "report.yaml"
    text = report.read_text(encoding="utf-8")
    report.write_text(text.replace("      - snapshot: true\n",
                                   "      - snapshot: true\n      - teaser: " + "More. " * 1500 + "\n", 1),
                      encoding="utf-8")
    try:
        build(folder, tmp_path / "x.pdf", cache_dir=None)
    except ContentError as exc:
        message = str(exc)
    else:  # pragma: no cover - the assertion below reports it
        message = ""
    assert "too long for its box" in message and "sections[0].blocks[1].teaser" in message
    assert not (tmp_path / "x.pdf").exists()

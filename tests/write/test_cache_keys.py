"""One cache-key scheme: each input of each cache, changed in turn, gives a new key (a miss)."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from pacspdf import write
from pacspdf.build import content_hash
from pacspdf.charts import ChartData, ChartSpec, ChartStyle, Series, cache_key
from pacspdf.content.load import load
from pacspdf.derive.frames import _inputs_key
from pacspdf.document.cover import logo_key

REPO = Path(__file__).resolve().parents[2]


def _other_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(write, "source_hash", lambda: "edited source")


def _other_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    versions = write.library_versions()
    assert "matplotlib=" in versions
    monkeypatch.setattr(write, "library_versions",
                        lambda: versions.replace("matplotlib=", "matplotlib=0.0.0+"))


def _other_reportlab(monkeypatch: pytest.MonkeyPatch) -> None:
    versions = write.library_versions()
    monkeypatch.setattr(write, "library_versions", lambda: versions.replace("reportlab=", "reportlab=9"))


def _other_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    versions = write.library_versions()
    monkeypatch.setattr(write, "library_versions", lambda: versions.replace("pandas=", "pandas=9"))


def _other_fonts_package(monkeypatch: pytest.MonkeyPatch) -> None:
    versions = write.library_versions()
    monkeypatch.setattr(write, "library_versions",
                        lambda: versions.replace("font-source-sans-pro=", "font-source-sans-pro=9"))


ENVIRONMENT_CHANGES = [_other_code, _other_matplotlib, _other_reportlab, _other_pandas, _other_fonts_package]


def test_library_versions_name_the_drawing_libraries() -> None:
    versions = write.library_versions()
    for name in ("reportlab", "matplotlib", "pandas", "font-source-sans-pro"):
        assert f"{name}=" in versions
        assert f"{name}=-" not in versions  # installed: a real version


def test_library_versions_are_the_installed_ones() -> None:
    """The cheap dist-info scan reads the same versions importlib.metadata reports."""
    import importlib.metadata

    expected = ";".join(f"{n}={importlib.metadata.version(n)}" for n in write.DRAWING_LIBRARIES)
    assert write.library_versions.__wrapped__() == expected


def test_source_hash_covers_every_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Editing, adding or renaming any .py file under the package changes the source hash."""
    package = tmp_path / "pacspdf"
    shutil.copytree(Path(write.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(write, "_PACKAGE", package)
    compute = write.source_hash.__wrapped__
    first = compute()
    assert first == compute()
    deep = package / "charts" / "furniture.py"
    deep.write_bytes(deep.read_bytes() + b"\n# edited\n")
    second = compute()
    assert second != first
    (package / "document" / "new.py").write_text("x = 1\n")
    third = compute()
    assert third != second
    (package / "document" / "new.py").rename(package / "document" / "renamed.py")
    assert compute() != third


def test_cache_key_parts_and_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "input.bin"
    f.write_bytes(b"one")
    base = write.cache_key("a", "b", files=[f])
    assert base == write.cache_key("a", "b", files=[f])
    assert write.cache_key("ab", "") != write.cache_key("a", "b")  # parts cannot run together
    assert write.cache_key("a", "c", files=[f]) != base
    f.write_bytes(b"two")
    assert write.cache_key("a", "b", files=[f]) != base
    f.write_bytes(b"one")
    for change in ENVIRONMENT_CHANGES:
        with monkeypatch.context() as m:
            change(m)
            assert write.cache_key("a", "b", files=[f]) != base, change.__name__


# ---------------------------------------------------------------- the derived figures

def test_derived_key_misses_on_numbers_code_and_pandas(content_copy: Callable[..., Path],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    folder = content_copy()
    content = load(folder)
    key = _inputs_key(content)
    assert key == _inputs_key(load(folder))
    size = dict(content.data.size)
    size[max(size)] += 1.0
    changed = dataclasses.replace(content, data=dataclasses.replace(content.data, size=size))
    assert _inputs_key(changed) != key
    players = [dataclasses.replace(p, share_pct=p.share_pct + 0.5) for p in content.data.players]
    changed = dataclasses.replace(content, data=dataclasses.replace(content.data, players=players))
    assert _inputs_key(changed) != key
    for change in (_other_code, _other_pandas):
        with monkeypatch.context() as m:
            change(m)
            assert _inputs_key(content) != key, change.__name__


# ---------------------------------------------------------------- the chart drawings

def _chart(fonts: dict[str, str]) -> tuple[ChartSpec, ChartData, ChartStyle]:
    spec = ChartSpec("bar", 400, 200)
    data = ChartData(("2024", "2025"), (Series("Market", (1.0, 2.0)),), "USD million")
    style = ChartStyle(fonts=fonts, palette=("#0B3C5D", "#328CC1"), text="#1F2A36", muted="#6B7280",
                       grid="#E3E6EA", accent="#C8553D")
    return spec, data, style


def test_chart_key_misses_on_spec_data_font_bytes_matplotlib_and_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import font_source_sans_pro

    source = next(Path(font_source_sans_pro.__file__).parent.rglob("*Regular.ttf"))
    font = tmp_path / "Regular.ttf"
    shutil.copy(source, font)
    fonts = {"regular": str(font), "semibold": str(font)}
    spec, data, style = _chart(fonts)
    key = cache_key(spec, data, style)
    assert key == cache_key(*_chart(dict(fonts)))
    assert cache_key(dataclasses.replace(spec, height=201), data, style) != key
    assert cache_key(spec, dataclasses.replace(data, categories=("2024", "2026")), style) != key
    font.write_bytes(font.read_bytes() + b"\0")  # same path, other bytes
    assert cache_key(spec, data, style) != key
    font.write_bytes(source.read_bytes())
    assert cache_key(spec, data, style) == key
    for change in (_other_code, _other_matplotlib, _other_fonts_package):
        with monkeypatch.context() as m:
            change(m)
            assert cache_key(spec, data, style) != key, change.__name__


# ---------------------------------------------------------------- the parsed logo

def test_logo_key_follows_bytes_not_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    logo = next((REPO / "assets").rglob("*.svg"))
    a, b = tmp_path / "a.svg", tmp_path / "b.svg"
    shutil.copy(logo, a)
    shutil.copy(logo, b)
    fonts = (("Brand", "normal", "Brand-Regular"), ("Brand", "bold", "Brand-Bold"))
    key = logo_key(a, fonts)
    assert logo_key(b, fonts) == key  # another path, same bytes: a hit
    b.write_bytes(b.read_bytes().replace(b"<svg", b"<svg data-x='1'", 1))
    assert logo_key(b, fonts) != key
    assert logo_key(a, (("Other", "normal", "Other-Regular"), fonts[1])) != key
    for change in (_other_code, _other_reportlab):
        with monkeypatch.context() as m:
            change(m)
            assert logo_key(a, fonts) != key, change.__name__


# ---------------------------------------------------------------- the base PDF's freshness

def test_base_freshness_misses_on_content_brand_code_and_libraries(
        content_copy: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = content_copy()
    brand = tmp_path / "brand"
    shutil.copytree(REPO / "assets", brand)
    key = content_hash(folder, brand)
    assert key == content_hash(folder, brand)
    csv = folder / "tables" / "market_size.csv"
    original = csv.read_bytes()
    csv.write_bytes(original + b"\n")
    assert content_hash(folder, brand) != key
    csv.write_bytes(original)
    brand_file = next(p for p in sorted(brand.rglob("*")) if p.is_file())
    kept = brand_file.read_bytes()
    brand_file.write_bytes(kept + b" ")
    assert content_hash(folder, brand) != key
    brand_file.write_bytes(kept)
    csv.rename(csv.with_name("renamed.csv"))
    assert content_hash(folder, brand) != key
    csv.with_name("renamed.csv").rename(csv)
    assert content_hash(folder, brand) == key
    for change in ENVIRONMENT_CHANGES:
        with monkeypatch.context() as m:
            change(m)
            assert content_hash(folder, brand) != key, change.__name__


def test_chart_cache_misses_when_matplotlib_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end: the same chart after a matplotlib upgrade is drawn again, into a new entry."""
    import font_source_sans_pro

    from pacspdf.charts import cached_render

    files = Path(font_source_sans_pro.__file__).parent / "files"
    fonts = {k: str(files / f"SourceSansPro-{v}.ttf")
             for k, v in {"regular": "Regular", "semibold": "Semibold", "bold": "Bold"}.items()}
    spec, data, style = _chart(fonts)
    cache = tmp_path / "charts"
    first = cached_render(spec, data, style, cache)
    assert cached_render(spec, data, style, cache) == first
    assert len(list(cache.glob("*.json"))) == 1
    _other_matplotlib(monkeypatch)
    assert cached_render(spec, data, style, cache) == first  # same drawing, drawn again
    assert len(list(cache.glob("*.json"))) == 2

"""Committed fonts: every font file in assets/fonts/ is named by a licence file beside it, whose
licence is the one the font's own name table states."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fontTools.ttLib import TTCollection, TTFont

FONTS = Path(__file__).resolve().parents[2] / "assets" / "fonts"
FILES = sorted(p for p in FONTS.iterdir() if p.suffix in (".ttf", ".ttc", ".otf"))


def _licence_field(path: Path) -> str:
    font = TTCollection(str(path))[0] if path.suffix == ".ttc" else TTFont(str(path))
    return str(font["name"].getDebugName(13) or "")


def test_there_are_committed_fonts() -> None:
    assert len(FILES) >= 10


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_font_has_its_licence_file(path: Path) -> None:
    stated = _licence_field(path)
    family = path.stem.split("-")[0]  # NotoSansGujarati-Regular -> NotoSansGujarati
    readable = family.replace("NotoSans", "") if family.startswith("NotoSans") else "WenQuanYi"
    licences = [p for p in FONTS.glob("LICENSE-*.txt") if readable in p.read_text(encoding="utf-8")]
    assert licences, f"no licence file names {path.name}"
    text = licences[0].read_text(encoding="utf-8")
    if "Open Font License" in stated:
        assert "SIL OPEN FONT LICENSE Version 1.1" in text
    else:
        assert "Apache License, Version 2.0" in stated
        assert "Apache License" in text and "Version 2.0, January 2004" in text


def test_cjk_font_is_the_upstream_file_its_licence_file_names() -> None:
    """The WenQuanYi file is byte-identical to the one whose provenance the licence records."""
    digest = hashlib.sha256((FONTS / "wqy-microhei.ttc").read_bytes()).hexdigest()
    assert digest in (FONTS / "LICENSE-Apache-2.0-WenQuanYi.txt").read_text(encoding="utf-8")

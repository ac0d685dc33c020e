"""The personal block has one home: the cover draws it, and the sidecar describes it, from PersonalLayout."""

from __future__ import annotations

import json
from typing import Any

import pypdf

from pacspdf.content.load import load
from pacspdf.document.assemble import cover_panel
from pacspdf.document.personal import PERSONAL_COVER, PersonalLayout, layout_spec, sidecar_path
from pacspdf.document.theme import make_theme
from pdf_reading import norm


def _form_text(reader: pypdf.PdfReader, name: str) -> list[tuple[str, float, float]]:
    """(text, x, y) of each string drawn inside the cover's form XObject ``name``."""
    xobjects = reader.pages[0]["/Resources"]["/XObject"]
    form = xobjects[f"/FormXob.{name}"].get_object()
    out: list[tuple[str, float, float]] = []
    ops = pypdf.generic.ContentStream(form, reader).operations
    x = y = 0.0
    for operands, op in ops:
        if op == b"Tm":
            x, y = float(operands[4]), float(operands[5])
        elif op == b"Td":
            x, y = x + float(operands[0]), y + float(operands[1])
        elif op == b"Tj":
            out.append((str(operands[0]), x, y))
    return out


def test_cover_draws_where_the_layout_says(sample_pdf: Any) -> None:
    content = load("content/pacs")
    theme = make_theme(content.brand, content.brand_dir, content.brand_file)
    lay = PersonalLayout.of(theme)
    drawn = _form_text(sample_pdf.reader, PERSONAL_COVER)
    texts = [t for t, _, _ in drawn]
    panel, _link = cover_panel(content)  # what an anonymous reader sees there
    assert len(texts) == 3 and texts[0] == panel[0]  # (the others hold subset codes, not text)
    cover = norm(sample_pdf.reader.pages[0].extract_text())
    assert all(norm(t) in cover for t in panel)
    for (_, x, y), want_y in zip(drawn, (lay.label_y, lay.name_y, lay.detail_y), strict=True):
        assert abs(x - lay.text_x) < 0.01 and abs(y - want_y) < 0.01


def test_sidecar_layout_is_the_layout(sample_pdf: Any) -> None:
    content = load("content/pacs")
    theme = make_theme(content.brand, content.brand_dir, content.brand_file)
    meta = json.loads(sidecar_path(sample_pdf.path).read_text(encoding="utf-8"))
    assert meta["layout"] == json.loads(json.dumps(layout_spec(theme)))
    lay = PersonalLayout.of(theme)
    assert meta["layout"]["cover"]["name_y"] == round(lay.name_y, 3)
    assert meta["layout"]["footer"]["y"] == round(lay.footer_y, 3)
    assert "code" not in meta  # nobody reads it

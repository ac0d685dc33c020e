"""Charts make room for their content, and the build refuses a layout that still does not fit.

Long category labels turn bars horizontal, long legends grow the figure, text is set in the
brand's own fonts by file; what cannot be made to fit is found by the preflight, and then no
PDF is written unless --force.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pypdf
import pytest

from pacspdf.charts import ChartData, ChartSpec, ChartStyle, Series, render_chart
from pacspdf.charts.preflight import MIN_PLOT_HEIGHT, findings
from pacspdf.charts.recorder import MissingGlyph, text_width
from pacspdf.cli import main

REPORTS = Path(__file__).resolve().parents[1] / "reports"
FONTS_DIR = REPORTS / "full-service-carriers-uk" / "brand" / "fonts"
LATO = {key: str(FONTS_DIR / f"{name}.ttf") for key, name in
        (("regular", "Regular"), ("semibold", "Semibold"), ("bold", "Bold"), ("light", "Light"))}
STYLE = ChartStyle(fonts=LATO, palette=("#4A1259", "#7B2D8E", "#B57CC9"), text="#222222",
                   muted="#6B6B6B", grid="#DDD6E3", accent="#1FA37A")
LONG = ["Stand-up pouches for food & beverage", "Retort pouches for ready meals",
        "Pharmaceutical blister lidding", "Personal-care sachets and refill packs",
        "Pet-food bags with resealable closures", "Confectionery flow-wrap and twist wrap",
        "Industrial sacks and heavy-duty liners", "Agricultural films and seed packaging",
        "Tobacco and specialty wraps"]


def _measure(text: str, key: str, size: float) -> float:
    return text_width(text, LATO[key], size)


def _grouped(categories: list[str], height: float = 165) -> tuple[ChartSpec, ChartData]:
    series = tuple(Series(str(y), tuple(0.1 + 0.05 * i + 0.01 * k for i in range(len(categories))))
                   for k, y in enumerate((2023, 2027, 2030)))
    return ChartSpec("grouped_bar", 450, height, y_label="EUR billion"), ChartData(
        tuple(categories), series, "EUR billion")


def test_long_category_labels_turn_a_grouped_bar_horizontal_and_tall_enough() -> None:
    spec, data = _grouped(LONG)
    drawing = render_chart(spec, data, STYLE)
    texts = [op for op in drawing.ops if op[0] == "t"]
    assert all(op[7] == 0 for op in texts)  # no label at 45 degrees
    assert {op[3] for op in texts} >= set(LONG)  # every label whole, on one line
    assert drawing.height > spec.height  # grew to give every row its three bars
    assert findings(drawing, _measure) == []


def test_short_year_labels_keep_vertical_bars() -> None:
    spec, data = _grouped(["2023", "2024", "2025"], 230)
    drawing = render_chart(spec, data, STYLE)
    assert drawing.height == 230
    assert drawing.areas and drawing.areas[0][3] >= MIN_PLOT_HEIGHT


def test_a_donut_with_many_items_grows_so_that_its_legend_stays_inside() -> None:
    names = [f"Region number {i} with a long name" for i in range(13)]
    data = ChartData(tuple(names), (Series("2023", tuple(100 / 13 for _ in names)),), "%")
    drawing = render_chart(ChartSpec("donut", 450, 165), data, STYLE)
    assert drawing.height > 165
    assert findings(drawing, _measure) == []


def test_a_long_line_legend_wraps_into_columns_inside_the_figure() -> None:
    names = [f"Series {i} of a long legend" for i in range(12)]
    data = ChartData(("2023", "2024", "2025"),
                     tuple(Series(n, (1.0 + i, 2.0 + i, 3.0 + i)) for i, n in enumerate(names)),
                     "USD million")
    drawing = render_chart(ChartSpec("line", 450, 230, y_label="USD million"), data, STYLE)
    assert findings(drawing, _measure) == []
    legend = [op for op in drawing.ops if op[0] == "t" and op[3] in names]
    assert len({op[1] for op in legend}) >= 2  # several aligned columns


def test_chart_text_is_set_in_the_brand_fonts_by_file_without_findfont(
        capfd: pytest.CaptureFixture[str]) -> None:
    spec, data = _grouped(["2023", "2024"], 230)
    drawing = render_chart(spec, data, STYLE)
    assert {op[4] for op in drawing.ops if op[0] == "t"} <= set(LATO)
    out = capfd.readouterr()
    assert "findfont" not in out.err + out.out


def test_a_character_the_brand_font_lacks_is_a_clear_error_not_a_traceback() -> None:
    spec, data = _grouped(["東洋モートン", "2024"], 230)
    with pytest.raises(MissingGlyph, match="U\\+6771"):
        render_chart(spec, data, STYLE)


def test_the_chart_preflight_names_text_outside_the_figure_and_a_squashed_plot() -> None:
    from pacspdf.charts.spec import VectorDrawing

    drawing = VectorDrawing(200, 100, (("t", 150.0, 50.0, "a label running out", "regular", 8.0,
                                        (0, 0, 0, 1), 0.0, None),), ((20.0, 20.0, 170.0, 30.0),))
    found = findings(drawing, _measure)
    assert any("runs out of the figure at the right" in f for f in found)
    assert any("squashed to 170 x 30 pt" in f for f in found)


# -- the build's preflight -------------------------------------------------------------------

@pytest.fixture
def crowded(tmp_path: Path) -> Path:
    """A report whose donut has 25 items with very long names: more than any figure can hold."""
    folder = tmp_path / "content" / "crowded"
    shutil.copytree(REPORTS / "swiss-precision-optics", folder)
    names = [f"Optical component family number {i:02d} for industrial, medical and research "
             f"instruments of every kind" for i in range(25)]
    shares = [4.0] * 25
    rows = ["year," + ",".join(f'"{n}"' for n in names)]
    for year in range(2019, 2027):
        rows.append(f"{year}," + ",".join(f"{s:.1f}" for s in shares))
    (folder / "tables" / "by_product.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    text = (folder / "report.yaml").read_text(encoding="utf-8")
    items = "".join(f"      - name: {n}\n" for n in names)
    text = text.replace("      - name: Objektive\n      - name: Prismen\n      - name: Spiegel\n", items)
    text = text.replace("charts:\n", "charts:\n  - id: product-share\n    kind: donut\n"
                                     "    data: segment:product\n    years: [2019]\n"
                                     "    title: Share by product (%)\n"
                                     "    alt: Twenty-five product families, each with four percent"
                                     " of the market.\n")
    text = text.replace("      - figure: market-size\n",
                        "      - figure: market-size\n      - figure: product-share\n")
    (folder / "report.yaml").write_text(text, encoding="utf-8")
    return folder


def test_a_layout_the_preflight_refuses_writes_no_pdf_and_names_page_and_element(
        crowded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.pdf"
    assert main(["check", str(crowded)]) == 0  # the content itself is valid
    capsys.readouterr()
    assert main(["build", str(crowded), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert not out.exists()
    assert 'error: layout: page ' in err and 'figure "product-share"' in err
    assert "no PDF written (build --force writes it anyway)" in err
    assert "Traceback" not in err


def test_check_layout_runs_the_same_preflight_without_writing(
        crowded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--layout", str(crowded)]) == 2
    assert 'figure "product-share"' in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and not (tmp_path / ".cache").exists()


def test_force_writes_the_pdf_and_still_lists_what_is_wrong(
        crowded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "forced.pdf"
    assert main(["build", str(crowded), "-o", str(out), "--force"]) == 0
    assert out.is_file() and len(pypdf.PdfReader(out).pages) > 1
    assert "written because of --force" in capsys.readouterr().err


def test_a_very_long_title_code_and_subtitle_fit_the_cover_header_and_notice(tmp_path: Path) -> None:
    """The cover title shrinks, the code wraps at its hyphens, the header ends with an ellipsis;
    the preflight (run by build) finds nothing, and the code is printed whole on the cover."""
    folder = tmp_path / "content" / "long"
    shutil.copytree(REPORTS / "swiss-precision-optics", folder)
    code = "OPTIKUM-MARKTFORSCHUNG-SCHWEIZ-PRAEZISIONSOPTIK-2020-REV-C-2026-DRAFT-FINAL"
    title = ("Schweizer Präzisionsoptik-Markt für Objektive, Prismen und Spiegel in Industrie, "
             "Medizin, Forschung, Raumfahrt und Verteidigung — Volumen, Wert, Preise und Wettbewerb ") * 2
    text = (folder / "report.yaml").read_text(encoding="utf-8")
    text = text.replace("title: Schweizer Präzisionsoptik-Markt\n", f"title: {title.strip()}\n")
    text = text.replace("code: OPT-7", f"code: {code}")
    text = text.replace("short_title: Präzisionsoptik, 2020–2026", f"short_title: {title.strip()}")
    (folder / "report.yaml").write_text(text, encoding="utf-8")
    from pacspdf.build import build

    result = build(folder, tmp_path / "long.pdf", cache_dir=None)
    assert result.preflight == []
    cover = pypdf.PdfReader(result.path).pages[0].extract_text()
    assert code in "".join(cover.split())


def test_a_brand_without_a_white_logo_gets_its_logo_on_a_white_panel(tmp_path: Path) -> None:
    """swiss-precision-optics has only a red logo: on the red cover band it sits on white."""
    import pypdfium2

    from pacspdf.build import build

    pdf = build(REPORTS / "swiss-precision-optics", tmp_path / "o.pdf", cache_dir=None).path
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=1).to_pil().convert("RGB")
    left = 22 * 72 / 25.4  # the brand's left margin, where the logo starts
    assert image.getpixel((int(left - 4), 48)) == (255, 255, 255)  # the panel, just left of it
    assert image.getpixel((int(left - 20), 48)) != (255, 255, 255)  # the red band beyond it

"""Tests for pacspdf.charts: recorded matplotlib charts replayed as vector PDF content."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import font_source_sans_pro
import pytest

from pacspdf.charts import (
    KINDS,
    ChartData,
    ChartSpec,
    ChartStyle,
    Series,
    VectorDrawing,
    cache_key,
    cached_render,
    render_chart,
)

FONT_DIR = os.path.join(os.path.dirname(font_source_sans_pro.__file__), "files")
FONT_FILES = {"regular": "Regular", "semibold": "Semibold", "bold": "Bold", "light": "Light"}
FONTS = {k: os.path.join(FONT_DIR, f"SourceSansPro-{v}.ttf") for k, v in FONT_FILES.items()}
STYLE = ChartStyle(fonts=FONTS, palette=("#0B3C5D", "#328CC1", "#8FC1E3", "#D9B310"),
                   text="#1F2A36", muted="#6B7280", grid="#E3E6EA", accent="#C8553D")
YEARS = tuple(str(y) for y in range(2020, 2031))
SEGMENTS = ("Cloud-based PACS", "On-premise PACS", "Hybrid PACS")
GROWTH = tuple(round(1800 * 1.06**i, 1) for i in range(len(YEARS)))


def _data(kind: str) -> ChartData:
    if kind == "donut":
        return ChartData(SEGMENTS, (Series("2024", (1040.5, 880.2, 420.0)),), "USD million")
    if kind == "hbar":
        return ChartData(SEGMENTS, (Series("2024", (1040.5, 880.2, 420.0)),), "USD million")
    if kind == "bar":
        return ChartData(YEARS, (Series("Market", GROWTH),), "USD million")
    shares = (0.5, 0.3, 0.2)
    return ChartData(YEARS, tuple(Series(name, tuple(round(v * s, 1) for v in GROWTH))
                                  for name, s in zip(SEGMENTS, shares, strict=True)),
                     "USD million")


def _spec(kind: str, width: float = 450, height: float = 230) -> ChartSpec:
    callout = "CAGR 2025–2030: 6.0%" if kind != "donut" else "Total: USD 2.3 bn"
    return ChartSpec(kind, width, height, callout=callout,
                     forecast_from="2025" if kind not in ("donut", "hbar") else None)


@pytest.fixture(scope="module")
def drawings() -> dict[str, VectorDrawing]:
    return {kind: render_chart(_spec(kind), _data(kind), STYLE) for kind in KINDS}


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_paths_and_text(kind: str, drawings: dict[str, VectorDrawing]) -> None:
    """Every chart kind records a non-empty op list with both paths and text."""
    ops = drawings[kind].ops
    assert {op[0] for op in ops} == {"p", "t"}


@pytest.mark.parametrize("kind", KINDS)
def test_text_ops_use_brand_fonts_at_legible_sizes(kind: str,
                                                   drawings: dict[str, VectorDrawing]) -> None:
    """Recorded text uses only logical brand font keys and is never smaller than 7 pt."""
    texts = [op for op in drawings[kind].ops if op[0] == "t"]
    assert {op[4] for op in texts} <= set(FONT_FILES)
    assert min(op[5] for op in texts) >= 7.0


@pytest.mark.parametrize("kind", KINDS)
def test_ops_stay_inside_the_chart_box(kind: str, drawings: dict[str, VectorDrawing]) -> None:
    """No path point or text origin falls outside the chart's width x height box."""
    d = drawings[kind]
    for op in d.ops:
        if op[0] == "t":
            points = [(op[1], op[2])]
        else:
            points = [seg[i:i + 2] for seg in op[1] for i in range(1, len(seg) - 1, 2)]
        for x, y in points:
            assert -0.5 <= x <= d.width + 0.5 and -0.5 <= y <= d.height + 0.5, (op, x, y)


def test_same_input_gives_identical_json() -> None:
    """Rendering the same spec, data and style twice yields byte-identical JSON."""
    a = render_chart(_spec("stacked_bar"), _data("stacked_bar"), STYLE).to_json()
    b = render_chart(_spec("stacked_bar"), _data("stacked_bar"), STYLE).to_json()
    assert a == b


def test_global_matplotlib_style_does_not_leak_into_charts() -> None:
    """A host application's global rcParams leave the recorded chart unchanged."""
    from matplotlib import rc_context

    plain = render_chart(_spec("line"), _data("line"), STYLE).to_json()
    with rc_context({"lines.scale_dashes": False, "font.size": 20.0, "lines.linewidth": 4.0}):
        styled = render_chart(_spec("line"), _data("line"), STYLE).to_json()
    assert plain == styled


def test_json_round_trip_is_lossless(drawings: dict[str, VectorDrawing]) -> None:
    """A drawing survives to_json/from_json unchanged (ops come back as tuples)."""
    for d in drawings.values():
        assert VectorDrawing.from_json(d.to_json()) == d


def test_cache_key_changes_with_data() -> None:
    """The cache key depends on the chart data, not just the spec."""
    other = ChartData(YEARS, (Series("Market", (*GROWTH[:-1], 1.0)),), "USD million")
    assert cache_key(_spec("bar"), _data("bar"), STYLE) != cache_key(_spec("bar"), other, STYLE)


def test_importing_charts_pulls_in_neither_matplotlib_nor_reportlab() -> None:
    """`import pacspdf.charts` stays cheap: no matplotlib, no ReportLab."""
    code = ("import sys, pacspdf.charts; "
            "print(sorted(m for m in ('matplotlib', 'reportlab') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_cache_hit_returns_same_drawing_without_matplotlib(tmp_path: Path) -> None:
    """A cache hit returns the stored drawing and never imports matplotlib."""
    first = cached_render(_spec("bar"), _data("bar"), STYLE, tmp_path)
    files = list(tmp_path.iterdir())
    assert [f.suffix for f in files] == [".json"]  # no temp files left behind
    code = textwrap.dedent(f"""
        import json, sys
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_charts import STYLE, _data, _spec
        from pacspdf.charts import cached_render
        d = cached_render(_spec("bar"), _data("bar"), STYLE, Path({str(tmp_path)!r}))
        print(json.dumps({{"mpl": "matplotlib" in sys.modules, "json": d.to_json()}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    result = json.loads(out)
    assert result["mpl"] is False
    assert result["json"] == first.to_json()


def test_corrupt_cache_entry_is_re_rendered(tmp_path: Path) -> None:
    """An unreadable cache file is replaced by a fresh rendering instead of failing."""
    path = tmp_path / f"{cache_key(_spec('hbar'), _data('hbar'), STYLE)}.json"
    path.write_text("{not json", encoding="utf-8")
    d = cached_render(_spec("hbar"), _data("hbar"), STYLE, tmp_path)
    assert VectorDrawing.from_json(path.read_text(encoding="utf-8")) == d


def test_a_cache_entry_read_before_is_reused_until_the_file_changes(tmp_path: Path) -> None:
    """In one process a file read before comes from memory; a rewritten file is read again."""
    spec, data = _spec("line"), _data("line")
    first = cached_render(spec, data, STYLE, tmp_path)
    assert cached_render(spec, data, STYLE, tmp_path) is first  # same file, same stamp
    path = tmp_path / f"{cache_key(spec, data, STYLE)}.json"
    path.write_text("{not json", encoding="utf-8")  # a different size: the memory is stale
    again = cached_render(spec, data, STYLE, tmp_path)
    assert again is not first and again == first
    assert VectorDrawing.from_json(path.read_text(encoding="utf-8")) == first


def test_line_chart_draws_solid_lines_on_a_forecast_band_with_end_labels(
        drawings: dict[str, VectorDrawing]) -> None:
    """Forecast years are a faint band drawn first (under gridlines and lines); the series are
    solid, like their legend keys; each line ends in a label with its last value."""
    ops = drawings["line"].ops
    strokes = [op[3] for op in ops if op[0] == "p" and op[3] is not None]
    assert strokes and all(not stroke[5] for stroke in strokes)  # no dash arrays at all
    fills = [op for op in ops if op[0] == "p" and op[2] is not None and op[3] is None]
    assert fills and ops.index(fills[0]) < min(i for i, op in enumerate(ops) if op[0] == "p" and op[3])
    texts = {op[3] for op in ops if op[0] == "t"}
    last = _data("line").series
    assert {f"{s.values[-1]:,.0f}" for s in last} <= texts




def test_unknown_kind_is_rejected() -> None:
    """An unsupported chart kind raises ValueError naming the valid kinds."""
    with pytest.raises(ValueError, match="unknown chart kind"):
        render_chart(ChartSpec("pie3d", 300, 200), _data("bar"), STYLE)


def test_recording_canvas_supports_constrained_layout() -> None:
    """The recorder's canvas hands layout engines a renderer, so constrained layout runs."""
    from matplotlib.figure import Figure

    from pacspdf.charts.recorder import RecordingCanvas, font_properties

    fig = Figure(figsize=(4, 3), dpi=72, layout="constrained")
    ax = fig.add_subplot()
    ax.set_ylabel("USD million", fontproperties=font_properties(FONTS["regular"], 8))
    ax.set_xlabel("Year", fontproperties=font_properties(FONTS["regular"], 8))
    for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        label.set_fontproperties(font_properties(FONTS["regular"], 7))
    ops = RecordingCanvas(fig, FONTS).record()
    texts = [op for op in ops if op[0] == "t"]
    assert {"USD million", "Year"} <= {op[3] for op in texts}
    assert ax.get_position().x0 * 288 > 10  # room was made for the tick and axis labels


def test_text_without_a_brand_font_file_is_refused_not_looked_up() -> None:
    """The recorder never asks matplotlib's font manager for a family: no silent fallback."""
    from matplotlib.figure import Figure

    from pacspdf.charts.recorder import RecordingCanvas

    fig = Figure(figsize=(2, 1), dpi=72)
    fig.text(0.1, 0.5, "USD million")  # default font: a family name, not a brand file
    with pytest.raises(ValueError, match="without a brand font file"):
        RecordingCanvas(fig, FONTS).record()


def test_flowable_scales_down_to_the_available_width(drawings: dict[str, VectorDrawing]) -> None:
    """wrap() keeps the natural size when it fits and scales proportionally when it does not."""
    from pacspdf.charts import VectorFlowable

    f = VectorFlowable(drawings["bar"], {"regular": "Helvetica"})
    assert f.wrap(500, 1000) == (450, 230)
    assert f.wrap(225, 1000) == pytest.approx((225, 115))


def test_pdf_has_vector_charts_with_embedded_truetype_text(
        drawings: dict[str, VectorDrawing], tmp_path: Path) -> None:
    """A PDF of all kinds has no images, extractable labels and embedded TrueType subsets."""
    from pypdf import PdfReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    from pacspdf.charts import VectorFlowable

    names = {}
    for key, path in FONTS.items():
        names[key] = f"ChartsTest-{key}"
        pdfmetrics.registerFont(TTFont(names[key], path))
    out = tmp_path / "charts.pdf"
    # initialFontName: otherwise ReportLab references Helvetica in every page preamble.
    canvas = Canvas(str(out), pagesize=(2 * 470 + 20, 3 * 250 + 20),
                    initialFontName=names["regular"])
    for i, kind in enumerate(KINDS):
        flowable = VectorFlowable(drawings[kind], names)
        flowable.wrapOn(canvas, 450, 250)
        flowable.drawOn(canvas, 20 + (i % 2) * 470, 20 + (i // 2) * 250)
    canvas.save()

    reader = PdfReader(str(out))
    assert len(reader.pages) == 1
    page = reader.pages[0]
    resources = page["/Resources"]
    xobjects = resources.get("/XObject", {})
    assert not [n for n, x in xobjects.items() if x.get_object().get("/Subtype") == "/Image"]
    text = page.extract_text()
    for label in ("2024", "2030", "Cloud-based PACS", "On-premise PACS", "Forecast",
                  "USD million", "CAGR 2025–2030: 6.0%"):
        assert label in text, label
    fonts = [f.get_object() for f in resources["/Font"].values()]
    assert fonts
    for font in fonts:
        assert font["/Subtype"] == "/TrueType", font
        assert "+SourceSansPro" in font["/BaseFont"]
        assert "/FontFile2" in font["/FontDescriptor"].get_object()


@pytest.mark.slow
def test_owned_process_loads_matplotlib_without_the_3d_toolkit_and_leaves_it_importable() -> None:
    """The CLI skips mpl_toolkits.mplot3d while matplotlib loads (not drawn, ~0.09 s), and a
    later import still gets the real toolkit; a library caller's matplotlib is untouched."""
    code = """
import sys
from pacspdf.runtime import import_matplotlib
from pacspdf.runtime import own_process
own_process()
import_matplotlib()
assert "matplotlib.axes" in sys.modules and "mpl_toolkits.mplot3d" not in sys.modules
from matplotlib.projections import get_projection_names
assert "3d" not in get_projection_names()
from mpl_toolkits.mplot3d import Axes3D
assert Axes3D is not None and Axes3D.name == "3d"
print("ok")
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.stdout.strip() == "ok", run.stderr
    library = ("from pacspdf.runtime import import_matplotlib; import_matplotlib(); "
               "from matplotlib.projections import get_projection_names as names; print('3d' in names())")
    run = subprocess.run([sys.executable, "-c", library], capture_output=True, text=True, check=False)
    assert run.stdout.strip() == "True", run.stderr

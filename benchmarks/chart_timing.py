"""Time chart rendering (matplotlib -> op list) per kind and the replay into a PDF.

Usage: python benchmarks/chart_timing.py [runs]

Prints the median over *runs* (default 5) after one warm-up render per kind, so
the one-off matplotlib import and font loading are reported separately. Wall and
process CPU time are both shown: on a busy machine the CPU figure is the stable one.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time

import font_source_sans_pro

from pacspdf.charts import KINDS, ChartData, ChartSpec, ChartStyle, Series, render_chart

FONT_DIR = os.path.join(os.path.dirname(font_source_sans_pro.__file__), "files")
FONTS = {k: os.path.join(FONT_DIR, f"SourceSansPro-{v}.ttf")
         for k, v in {"regular": "Regular", "semibold": "Semibold", "bold": "Bold",
                      "light": "Light"}.items()}
STYLE = ChartStyle(fonts=FONTS, palette=("#0B3C5D", "#328CC1", "#8FC1E3", "#D9B310"),
                   text="#1F2A36", muted="#6B7280", grid="#E3E6EA", accent="#C8553D")
YEARS = tuple(str(y) for y in range(2020, 2033))
BASE = tuple(round(2150 * 1.06**i, 1) for i in range(len(YEARS)))
SEGMENTS = ("Cloud-based PACS", "On-premise PACS", "Hybrid PACS", "Vendor-neutral archives")


def case(kind: str) -> tuple[ChartSpec, ChartData]:
    spec = ChartSpec(kind, 450, 240, callout="CAGR 2025–2032: 6.0%",
                     forecast_from=None if kind in ("donut", "hbar") else "2025")
    if kind in ("donut", "hbar"):
        return spec, ChartData(SEGMENTS, (Series("2024", (1040.5, 880.2, 420.0, 260.3)),),
                               "USD million")
    if kind == "bar":
        return spec, ChartData(YEARS, (Series("Market", BASE),), "USD million")
    shares = (0.5, 0.3, 0.2)
    years = YEARS[::2] if kind == "grouped_bar" else YEARS
    base = BASE[::2] if kind == "grouped_bar" else BASE
    return spec, ChartData(years, tuple(Series(n, tuple(v * s for v in base))
                                        for n, s in zip(SEGMENTS, shares, strict=False)),
                           "USD million")


def main(runs: int = 5) -> None:
    t0 = time.perf_counter()
    render_chart(*case("bar"), STYLE)
    print(f"first render incl. matplotlib import: {(time.perf_counter() - t0) * 1e3:7.1f} ms")
    drawings = {}
    for kind in KINDS:
        spec, data = case(kind)
        render_chart(spec, data, STYLE)  # warm-up
        wall, cpu = [], []
        for _ in range(runs):
            t, c = time.perf_counter(), time.process_time()
            drawings[kind] = render_chart(spec, data, STYLE)
            wall.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        print(f"render_chart {kind:<12} median {statistics.median(wall) * 1e3:6.1f} ms wall"
              f" {statistics.median(cpu) * 1e3:6.1f} ms cpu"
              f"  ({len(drawings[kind].ops)} ops, {len(drawings[kind].to_json())} B JSON)")

    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    from pacspdf.charts import VectorFlowable

    names = {}
    for key, path in FONTS.items():
        names[key] = f"Bench-{key}"
        pdfmetrics.registerFont(TTFont(names[key], path))
    times, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        canvas = Canvas(io.BytesIO(), pagesize=(470, 260), initialFontName=names["regular"])
        for kind in KINDS:
            flowable = VectorFlowable(drawings[kind], names)
            flowable.wrapOn(canvas, 450, 260)
            flowable.drawOn(canvas, 10, 10)
            canvas.showPage()
        canvas.save()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    print(f"replay into PDF (incl. save)  median {statistics.median(times) / len(KINDS) * 1e3:6.1f}"
          f" ms wall {statistics.median(cpu) / len(KINDS) * 1e3:6.1f} ms cpu per chart")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)

"""One catalogue worker builds reports of different brands without mixing their fonts, and a
report the layout preflight refuses fails alone, with a one-line reason."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pypdf
import pytest

from pacspdf.catalogue import build_all
from pacspdf.cli.catalogue import Reporter

REPORTS = Path(__file__).resolve().parents[1] / "reports"


def _fonts(pdf: Path) -> set[str]:
    names: set[str] = set()
    for page in pypdf.PdfReader(pdf).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            names.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    return names


@pytest.mark.slow
def test_one_worker_keeps_each_brands_fonts_and_reports_a_refused_layout(tmp_path: Path) -> None:
    root = tmp_path / "content"
    for slug in ("full-service-carriers-uk", "swiss-precision-optics"):
        shutil.copytree(REPORTS / slug, root / slug)  # both brands: fonts/Regular.ttf, ...
    crowded = root / "crowded"
    shutil.copytree(REPORTS / "swiss-precision-optics", crowded)
    text = (crowded / "report.yaml").read_text(encoding="utf-8")
    text = text.replace("slug: swiss-precision-optics", "slug: crowded")
    text = text.replace("      - figure: market-size\n", "      - figure: market-size\n"
                                                        "      - figure: market-size-2\n")
    # A donut of 25 items with long names: a legend taller than any figure may grow.
    names = [f"A very long series name number {i:02d} that wraps over several lines of the legend"
             for i in range(25)]
    rows = ["year," + ",".join(f'"{n}"' for n in names)]
    rows += [f"{y}," + ",".join("4.0" for _ in names) for y in range(2019, 2027)]
    (crowded / "tables" / "by_product.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    items = "".join(f"      - name: {n}\n" for n in names)
    text = text.replace("      - name: Objektive\n      - name: Prismen\n      - name: Spiegel\n", items)
    text = text.replace("charts:\n", "charts:\n  - id: market-size-2\n    kind: donut\n"
                                     "    data: segment:product\n    years: [2019]\n"
                                     "    title: Share (%)\n"
                                     "    alt: Twenty-five series, each with four percent of the market.\n")
    (crowded / "report.yaml").write_text(text, encoding="utf-8")
    out = io.StringIO()
    result = build_all(root, jobs=1, out_dir=tmp_path / "out", listener=Reporter(out),
                       cache_dir=tmp_path / "cache")
    assert result is not None and result.exit_code == 1
    failed = [o for o in result.outcomes if not o.ok]
    assert len(failed) == 1 and "layout: page " in (failed[0].error or "")
    assert "crowded" in failed[0].label
    lato = _fonts(tmp_path / "out" / "full-service-carriers-uk-sample.pdf")
    caladea = _fonts(tmp_path / "out" / "swiss-precision-optics-sample.pdf")
    assert lato and all(n.startswith("Lato-") for n in lato), lato
    assert caladea and all(n.startswith("Caladea-") for n in caladea), caladea
    assert not (tmp_path / "out" / "crowded-sample.pdf").exists()

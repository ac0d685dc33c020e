"""The sample as a sales document, measured on the built PDF (issue 12).

Expected values come from the content (report.yaml, the CSV tables, brand.yaml); the layout
is measured from what pdfium and pypdf read back, never from the code that drew it.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pikepdf
import pypdf
import pypdfium2
import pytest
import yaml

import pdf_reading as lm

REPO = Path(__file__).resolve().parents[2]
REPORT = yaml.safe_load((REPO / "content" / "pacs" / "report.yaml").read_text(encoding="utf-8"))
BRAND = yaml.safe_load((REPO / "assets" / "brand.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pages(sample_pages: list[lm.Page]) -> list[lm.Page]:
    return sample_pages


def norm(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


def squash(text: str) -> str:
    """``text`` without spaces, line breaks and hyphens (so hyphenated line ends join up)."""
    return re.sub(r"[\s\-\u2010\x02\xad]", "", text)


def body_pages(pages: list[lm.Page]) -> list[lm.Page]:
    """Pages with a running footer ("Page N of M"): not the cover or the back cover."""
    return [p for p in pages if re.search(rf"Page {p.number} of {len(pages)}\b", p.text)]


# ---------------------------------------------------------------------------- page fill

def test_no_body_page_is_less_than_60_percent_full_but_the_notice_and_the_last(pages: list[lm.Page]) -> None:
    """Chapters run on and keep figures with text, so no page in the middle is half empty."""
    body = body_pages(pages)
    assert len(body) >= 10
    notice = [p for p in body if norm(p.text).count("Notice") and "Licence of this sample" in p.text]
    assert len(notice) == 1
    checked = [p for p in body[:-1] if p is not notice[0]]
    low = [(p.number, round(p.fill, 2)) for p in checked if p.fill < 0.60]
    assert not low, f"pages under 60 % full: {low}"


@pytest.mark.slow  # a build to show the measure can fail; the measure runs by default (test above)
def test_page_fill_measure_sees_a_half_empty_page(tmp_path: Path, content_copy: Any, sample_pdf: Any) -> None:
    """The fill measure is not blind: a chapter forced onto its own page leaves one short."""
    from pacspdf.build import build

    folder = content_copy()
    report = folder / "report.yaml"
    report.write_text(report.read_text(encoding="utf-8").replace("chapter_start: run_on",
                                                                 "chapter_start: new_page"),
                      encoding="utf-8")
    shutil.copytree(sample_pdf.cache_dir / "charts", tmp_path / "cache" / "charts")  # same charts: read
    out = build(folder, tmp_path / "s.pdf", cache_dir=tmp_path / "cache").path
    fills = [p.fill for p in body_pages(lm.read(out))]
    assert min(fills) < 0.6


# ---------------------------------------------------------------------------- typography

def test_body_text_is_10_to_10_5_pt_at_65_to_80_characters_a_line(pages: list[lm.Page]) -> None:
    size = lm.body_size(pages)
    assert 10.0 <= size <= 10.5
    per_line = lm.chars_per_line(pages)
    assert 65 <= per_line <= 80, per_line


def test_text_is_hyphenated_with_at_most_two_hyphenated_lines_in_a_row(pages: list[lm.Page]) -> None:
    runs = lm.hyphen_runs(pages)
    assert runs, "no line ends in a hyphen: hyphenation is off"
    assert max(n for _, n, _ in runs) <= 2, [r for r in runs if r[1] > 2]


def test_the_hyphenator_refuses_a_third_hyphenated_line() -> None:
    """A narrow paragraph of long words would hyphenate line after line; the limiter stops it."""
    from reportlab.lib.styles import ParagraphStyle

    from pacspdf.document.paragraph import MAX_HYPHEN_RUN, Hyphenator, Paragraph, hyphen_runs, line_texts

    text = ("internationalisation telecommunications responsibilities characteristically "
            "incomprehensibility disproportionately counterproductive institutionalisation ") * 3
    style = ParagraphStyle("t", fontName="Helvetica", fontSize=10, leading=12,
                           hyphenationLang=Hyphenator("en_GB"))
    plain = ParagraphStyle("p", parent=style, hyphenationLang="en_GB")
    unlimited = Paragraph.__mro__[1](text, plain)
    unlimited.wrap(118, 1000)
    assert max(n for _, n in hyphen_runs(line_texts(unlimited.blPara))) > MAX_HYPHEN_RUN
    limited = Paragraph(text, style)
    limited.wrap(118, 1000)
    assert max((n for _, n in hyphen_runs(line_texts(limited.blPara))), default=0) <= MAX_HYPHEN_RUN


def test_no_widows_orphans_or_headings_at_the_foot_of_a_page(pages: list[lm.Page]) -> None:
    assert lm.widows_orphans(pages) == []
    assert lm.headings_at_foot(pages) == []


def test_watermark_is_drawn_but_never_extracted_as_text(sample_pdf: Any, pages: list[lm.Page]) -> None:
    word = BRAND.get("watermark_text", "SAMPLE")
    assert lm.watermark_hits(pages) == []
    for p in body_pages(pages):
        letters = re.sub(r"[^A-Z]", "", "".join(c.text for c in p.chars if c.size > 20))
        assert word not in letters
        assert not re.search(r"(?m)^\s*(S\s*A\s*M\s*P\s*L\s*E|P\s*L\s*E\s*S\s*A\s*M)\s*$", p.text)
    # ... and still there: the watermark form is drawn on every chapter page.
    reader = sample_pdf.reader
    marked = [p.number for p in body_pages(pages)
              if "/FormXob.Watermark" in reader.pages[p.number - 1]["/Resources"].get("/XObject", {})]
    assert len(marked) >= len(body_pages(pages)) - 3


# ---------------------------------------------------------------------------- links and calls to action

def http_links(pages: list[lm.Page]) -> list[tuple[int, tuple[float, float, float, float], str]]:
    return [(p.number, rect, uri) for p in pages for rect, uri in p.links if uri.startswith("http")]


def test_every_web_link_carries_the_brands_tracking_parameters(pages: list[lm.Page]) -> None:
    links = http_links(pages)
    assert len(links) >= 10
    tracking = BRAND["tracking"]
    for page, _rect, uri in links:
        query = parse_qs(urlsplit(uri).query)
        assert query.get("utm_source") == [tracking["utm_source"]], (page, uri)
        assert query.get("utm_medium") == [tracking["utm_medium"]], (page, uri)
        assert query.get("utm_campaign") == [tracking["utm_campaign"].replace("{slug}", REPORT["slug"])]
        assert query.get("utm_content"), (page, uri)


def purchase_url() -> str:
    return BRAND["links"]["purchase"].replace("{id}", REPORT["publisher_id"])


def test_continued_boxes_link_to_the_purchase_page(pages: list[lm.Page], sample_pdf: Any) -> None:
    pdf = pypdfium2.PdfDocument(sample_pdf.path)
    boxes = 0
    for p in pages:
        tp = pdf[p.number - 1].get_textpage()
        searcher = tp.search("Continued in the full report", match_case=True)
        while (hit := searcher.get_next()) is not None:
            x0, y0, _x1, _y1 = tp.get_charbox(hit[0])
            boxes += 1
            covering = [uri for rect, uri in p.links
                        if rect[0] <= x0 <= rect[2] and rect[1] <= y0 <= rect[3]]
            assert covering and covering[0].startswith(purchase_url()), (p.number, covering)
    pdf.close()
    teasers = sum(1 for s in REPORT["sections"] for b in [*s.get("blocks", []),
                  *(x for sub in s.get("subsections", []) for x in sub["blocks"])] if "teaser" in b)
    assert boxes == teasers >= 1


def test_buy_customise_and_analyst_buttons_and_a_named_analyst(pages: list[lm.Page]) -> None:
    text = norm(" ".join(p.text for p in pages))
    for label in ("Buy the full report", "Request customisation", "Speak to an analyst"):
        assert label in text
    analyst = REPORT["analyst"]
    assert analyst["name"] in text and analyst["phone"] in text
    kinds = {parse_qs(urlsplit(u).query)["utm_content"][0].rsplit("-", 1)[-1]
             for _, _, u in http_links(pages)}
    assert {"purchase", "customise", "enquiry"} <= kinds


def test_back_cover_sells_the_full_report(pages: list[lm.Page]) -> None:
    back = pages[-1]
    assert back not in body_pages(pages)  # no running header or footer: a cover
    text = norm(back.text)
    chapters = REPORT["full_report"]
    counts = (f"{sum(c['pages'] for c in chapters)} pages, {sum(c.get('tables', 0) for c in chapters)} "
              f"tables, {sum(c.get('figures', 0) for c in chapters)} figures")
    assert counts in text
    assert REPORT["analyst"]["name"] in text
    assert any(uri.startswith(purchase_url()) for _, uri in back.links)


# ---------------------------------------------------------------------------- content that sells

def test_full_report_outline_marks_what_is_in_the_sample(pages: list[lm.Page]) -> None:
    text = norm(" ".join(p.text for p in pages[:6]))
    assert "Contents of the Full Report" in text
    marks = {"full": "In this sample", "opening": "Opening shown", "none": "Full report only"}
    for ch in REPORT["full_report"]:
        assert ch["title"] in text
    for kind in {c["sample"] for c in REPORT["full_report"]}:
        assert marks[kind] in text
    assert sum(c["pages"] for c in REPORT["full_report"]) == REPORT["pages_in_full_report"]


def test_methodology_diagrams_are_vector_figures_drawn_from_content(sample_pdf: Any,
                                                                    pages: list[lm.Page]) -> None:
    m = REPORT["methodology"]
    method = [p for p in pages if "Market sizing: bottom-up and top-down" in norm(p.text)]
    assert method
    text = norm(" ".join(p.text for p in pages))
    for step in m["bottom_up"]["steps"] + m["top_down"]["steps"] + [m["triangulation"]["result"]]:
        assert norm(step) in text
    for breakdown in m["interviews"]["breakdowns"]:
        for share in breakdown["parts"].values():
            assert f"{share:.0f}%" in text
    assert f"(n = {m['interviews']['total']})" in text
    pdf = pypdfium2.PdfDocument(sample_pdf.path)
    for p in method:
        assert not [o for o in pdf[p.number - 1].get_objects(max_depth=3) if o.type == 3]  # no images
    pdf.close()


def test_one_complete_company_profile_and_a_dated_deals_table(pages: list[lm.Page]) -> None:
    text = norm(" ".join(p.text for p in pages))
    full = [p for p in REPORT["players"]["profiles"] if "detail" in p]
    assert len(full) == 1
    d = full[0]["detail"]
    for heading in ("Financials", "Products and services", "Recent developments", "SWOT analysis",
                    "Strengths", "Weaknesses", "Opportunities", "Threats"):
        assert heading in text
    for year, values in d["financials"]["rows"].items():
        assert f"{year} " + " ".join(f"{v:.1f}" for v in values) in text
    assert "Selected deals and launches" in text
    deals = (REPO / "content" / "pacs" / REPORT["deals"]["file"]).read_text(encoding="utf-8")
    assert len(re.findall(r"(?m)^\d{4}-\d{2},", deals)) >= 5
    assert re.search(r"Mar 2019 Koninklijke Philips .*Carestream", text)


def test_facts_are_corrected(pages: list[lm.Page]) -> None:
    text = norm(" ".join(p.text for p in pages))
    assert "GE HealthCare" in text and "GE Healthcare" not in text
    assert squash("Carestream Health sold its healthcare IT business, PACS included, to Philips in 2019") \
        in squash(text)


def test_yearly_growth_is_a_realistic_path_that_meets_the_headline_cagr() -> None:
    rows = (REPO / "content" / "pacs" / "tables" / "market_size.csv").read_text().split()[1:]
    values = {int(y): float(v) for y, v in (r.split(",") for r in rows)}
    growth = [round((values[y] / values[y - 1] - 1) * 100, 1) for y in sorted(values)[1:]]
    assert len(set(growth)) >= 4
    start, end = REPORT["forecast"]["start"], REPORT["forecast"]["end"]
    cagr = ((values[end] / values[start]) ** (1 / (end - start)) - 1) * 100
    assert abs(cagr - REPORT["claims"]["cagr_pct"]) < 0.1
    assert abs(values[2027] - REPORT["claims"]["size"][2027]) / 5000 < 0.02


def test_illustrative_notes_are_printed_once_per_chapter_and_source(pages: list[lm.Page]) -> None:
    notes = sum(norm(p.text).count("Illustrative:") for p in pages)
    sources = sum(1 for _ in re.finditer(r"(?m)^\s+illustrative:", (REPO / "content" / "pacs" /
                                                                     "report.yaml").read_text()))
    chapters = len(REPORT["sections"])
    assert 1 <= notes <= min(sources, chapters) + 2
    assert any("Source: as Figure" in norm(p.text) or "Source: as Table" in norm(p.text) for p in pages)


def test_company_share_chart_adds_others_up_to_100_percent(pages: list[lm.Page]) -> None:
    rows = (REPO / "content" / "pacs" / "tables" / "players.csv").read_text(encoding="utf-8").splitlines()[1:]
    shares = [float(r.rsplit(",", 1)[1]) for r in rows]
    rest = 100 - sum(shares)
    page = next(p for p in pages if "by company" in norm(p.text) and "Key companies compared" in p.text
                and ". . ." not in p.text)
    assert REPORT["players"].get("others", "Others") in page.text
    assert f"{rest:.1f}%" in page.text


def test_time_charts_mark_the_actual_years(pages: list[lm.Page]) -> None:
    time_charts = [p for p in pages if "Forecast" in p.text.splitlines() or
                   any(ln.strip() == "Forecast" for ln in p.text.splitlines())]
    assert time_charts
    for p in time_charts:
        assert any(ln.strip() == "Actual" for ln in p.text.splitlines()), p.number


def test_prose_prints_shares_with_the_charts_decimals(pages: list[lm.Page]) -> None:
    text = norm(" ".join(p.text for p in pages))
    rows = (REPO / "content" / "pacs" / "tables" / "by_region.csv").read_text().splitlines()
    header = rows[0].split(",")
    base = dict(zip(header, rows[1].split(","), strict=True))
    assert f"North America leads with about {float(base['North America']):.1f}%" in text
    assert not re.search(r"(?<![\d.])\d{1,2}% of (the market|\d{4} revenue|\d{4} spending)", text)


# ---------------------------------------------------------------------------- contrast

def test_brand_colours_meet_wcag_aa() -> None:
    from pacspdf.content.contrast import GRAPHIC_MIN, PAIRS, TEXT_MIN, ratio

    colours = {**BRAND["colours"], "white": "#FFFFFF"}
    for pair in PAIRS:
        assert ratio(colours[pair.fg], colours[pair.bg]) >= pair.minimum, pair
    assert all(ratio(c, "#FFFFFF") >= GRAPHIC_MIN for c in BRAND["colours"]["chart"])
    assert TEXT_MIN == 4.5 and ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)  # WCAG's own example


def test_check_reports_low_contrast_brand_colours(tmp_path: Path, content_copy: Any) -> None:
    from pacspdf.validate import check

    folder = content_copy()
    brand = tmp_path / "assets" / "brand.yaml"
    text = brand.read_text(encoding="utf-8")
    text = re.sub(r'accent: "#[0-9A-Fa-f]{6}"', 'accent: "#E07A1F"', text)
    text = text.replace('"#B45309"', '"#8DBFDF"')  # chart[2] (the accent was replaced above)
    text = text.replace('"#2C75AD"', '"#2F80AE"')  # chart[1]: 4.36:1 to white labels
    brand.write_text(text, encoding="utf-8")
    _content, problems = check(folder)
    messages = [f"{p.field}: {p.message}" for p in problems if p.is_error]
    assert any(m.startswith("colours.accent:") and "3.01:1" in m and "4.5:1" in m for m in messages)
    assert any(m.startswith("colours.chart[2]:") and "1.97:1" in m for m in messages)
    assert any(m.startswith("colours.chart[1]:") and "labels" in m and "4.36:1" in m for m in messages)


# ---------------------------------------------------------------------------- personalised copies

NAMES = [
    ("王小明", "北京协和医院"),
    ("山田 太郎", "東京大学医学部附属病院"),
    ("김민준", "서울대학교병원"),
    ("محمد عبد الله", "مستشفى الملك فيصل التخصصي"),
    ("דוד כהן", "בית החולים הדסה"),
    ("สมชาย ใจดี", "โรงพยาบาลจุฬาลงกรณ์"),
]


@pytest.fixture(scope="module")
def base(sample_pdf: Any) -> Iterator[Any]:
    from pacspdf.document.personal import BaseArtifact

    yield BaseArtifact.load(sample_pdf.path)


def cover_lines(pdf_bytes: bytes) -> list[str]:
    pdf = pypdfium2.PdfDocument(pdf_bytes)
    text = pdf[0].get_textpage().get_text_range()
    pdf.close()
    return [ln.strip() for ln in text.splitlines()]


@pytest.mark.parametrize(("name", "company"), NAMES)
def test_names_in_cjk_rtl_and_thai_scripts_print_on_the_cover(base: Any, name: str, company: str) -> None:
    from pacspdf.delivery.personalise import Recipient, make_copy

    copy = make_copy(base, Recipient(name, company, "reader@example.org"), "ABC123", "2026-11-29")
    assert copy.warnings == []
    lines = cover_lines(copy.pdf)
    shown = lines[lines.index("PREPARED FOR") + 1]
    assert shown == f"{name}, {company}"
    # The name's glyphs come from an embedded subset of a fallback font (PP3 onwards).
    with pikepdf.open(io.BytesIO(copy.pdf)) as pdf:
        fonts = pdf.pages[0].Resources.XObject["/FormXob.PersonalCover"].Resources.Font
        assert set(fonts.keys()) - {"/PP1", "/PP2"}
        assert all(fonts[k].FontDescriptor.FontFile2.read_bytes() for k in fonts)


def test_long_name_wraps_on_the_cover_and_footer_keeps_email_and_copy_id(base: Any) -> None:
    from pacspdf.delivery.personalise import Recipient, make_copy

    name = "Maximilian Alexander von Hohenzollern-Sigmaringen"
    company = "Universitätsklinikum Schleswig-Holstein, Campus Kiel, Klinik für Radiologie"
    email = "maximilian.von.hohenzollern@uksh-radiologie.example.de"
    copy = make_copy(base, Recipient(name, company, email), "LONG42", "2026-11-29")
    lines = cover_lines(copy.pdf)
    i = lines.index("PREPARED FOR")
    assert norm(" ".join(lines[i + 1:i + 3])) == f"{name}, {company}"  # whole, on two lines
    pdf = pypdfium2.PdfDocument(copy.pdf)
    for n in (2, 6):
        footer = [ln for ln in pdf[n].get_textpage().get_text_range().splitlines() if "Prepared for" in ln]
        assert footer and email in footer[0] and "copy LONG42" in footer[0]
        assert "\u2026" in footer[0]  # the name was shortened, not the email
    pdf.close()


def test_links_in_a_personalised_copy_carry_the_copy_id(base: Any, tmp_path: Path) -> None:
    from pacspdf.delivery.personalise import Recipient, make_copy

    copy = make_copy(base, Recipient("Jane Doe", "Acme", "jane@acme.example"), "CPY777", "2026-11-29")
    path = tmp_path / "copy.pdf"
    path.write_bytes(copy.pdf)
    reader = pypdf.PdfReader(path)  # the links only: what lm.read() gives as Page.links, without rendering
    links = [(i + 1, rect, uri) for i in range(len(reader.pages)) for rect, uri in lm.links_of(reader, i)
             if uri.startswith("http")]
    param = BRAND["tracking"]["copy_param"]
    assert links and all(parse_qs(urlsplit(u).query).get(param) == ["CPY777"] for _, _, u in links)
    assert all(parse_qs(urlsplit(u).query).get("utm_source") for _, _, u in links)


# ---------------------------------------------------------------------------- content checks

@pytest.mark.parametrize(("old", "new", "expected"), [
    ("- diagram: triangulation", "- diagram: triangulation\n      - profile: Fujifilm",
     'the profile of "Fujifilm" has no detail'),
    ("- profile: GE HealthCare", "- profile: GE Health", 'no profile named "GE Health"'),
    ("  triangulation:\n    sources:", "  triangulation_gone:\n    sources:", "unknown field"),
    ("pages: 40\n", "pages: 41\n", "the chapters add up to 183 pages, but pages_in_full_report is 182"),
    ("deals:\n  file: tables/deals.csv\n"
     "  source: Company announcements; compiled by Reliable Market Forecast\n", "", "no deals table"),
])
def test_check_names_sales_blocks_without_their_data(content_copy: Any, old: str, new: str,
                                                     expected: str) -> None:
    """A block that shows data the report does not have is an error at check, not a crash."""
    from pacspdf.validate import check

    folder = content_copy()
    report = folder / "report.yaml"
    text = report.read_text(encoding="utf-8")
    assert old in text
    report.write_text(text.replace(old, new, 1), encoding="utf-8")
    _content, problems = check(folder)
    errors = [p.message for p in problems if p.is_error]
    assert any(expected in m for m in errors), errors


@pytest.mark.slow  # a second build of changed content; the sample's sales blocks are checked by default
def test_a_report_without_the_sales_extras_still_builds(tmp_path: Path, content_copy: Any,
                                                         sample_pdf: Any) -> None:
    """Analyst, outline, methodology, deals and the complete profile are optional."""
    from pacspdf.build import build

    folder = content_copy()
    report = folder / "report.yaml"
    text = report.read_text(encoding="utf-8")
    start, end = text.index("deals:\n  file:"), text.index("licences:\n")
    text = text[:start] + text[end:]
    for block in ("      - diagram: funnels\n", "      - diagram: triangulation\n",
                  "      - diagram: interviews\n", "          - deals: true\n",
                  "          - profile: GE HealthCare\n"):
        text = text.replace(block, "")
    report.write_text(text, encoding="utf-8")
    shutil.copytree(sample_pdf.cache_dir / "charts", tmp_path / "cache" / "charts")  # same charts: read
    result = build(folder, tmp_path / "plain.pdf", cache_dir=tmp_path / "cache")
    pages = lm.read(result.path)
    assert "Contents of the Full Report" not in " ".join(p.text for p in pages)
    assert "Buy the full report" in norm(pages[-1].text)


def test_every_character_reads_at_wcag_aa_contrast_on_its_background(sample_pdf: Any) -> None:
    """Measured on the rendered pages: each character's fill colour against the background
    around it is at least 4.5:1 (3:1 for large text: 18 pt, or 14 pt bold)."""
    low = [(page, ch, round(size, 1), round(value, 2))
           for page, ch, size, value in lm.text_contrasts(sample_pdf.path)
           if value < (3.0 if size >= 18 else 4.5)]
    assert not low, f"{len(low)} characters under WCAG AA, e.g. {low[:8]}"

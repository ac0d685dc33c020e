"""`pacspdf site`: the teaser pages' content, metadata, accessibility, determinism and links."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import copy_content
from pacspdf.cli import main
from pacspdf.web.colours import AA, contrast, palette_for
from pacspdf.web.site import build_site, digest
from pdf_reading import warm_cache
from selection import examples

BASE = "https://reports.example.com"


class Page(HTMLParser):
    """Tags, attributes and text of one HTML page, as a reader of its structure needs them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self._script: dict[str, str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag == "script":
            self._script = a

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self.scripts.append((self._script, data))
        else:
            self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag]

    def meta(self, key: str) -> str:
        for a in self.all("meta"):
            if a.get("property") == key or a.get("name") == key:
                return a.get("content", "")
        raise AssertionError(f"no meta {key}")

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    folder = copy_content(root)
    monkey = pytest.MonkeyPatch()
    monkey.setenv("PACSPDF_PUBLIC_URL", BASE)
    try:
        build_site([folder], root / "site", base_url=BASE, pdf_dir=root / "out")
    finally:
        monkey.undo()
    return root / "site"


def report_page(site: Path, slug: str = "pacs") -> Page:
    return Page((site / "reports" / slug / "index.html").read_text(encoding="utf-8"))


def test_report_page_shows_what_the_teaser_needs(site: Path) -> None:
    """Title, subtitle, key figures, summary, contents, segment, region and player lists, previews,
    charts and the three calls to action are all on the page, from the content."""
    page = report_page(site)
    words = page.words
    content = yaml.safe_load((Path("content/pacs/report.yaml")).read_text(encoding="utf-8"))
    assert content["title"] in words and content["subtitle"] in words
    for label in ("Market size 2024", "Market size 2027", "Market size 2032", "CAGR 2025–2032"):
        assert label in words
    assert "USD 5.0 billion" in words and "6.0%" in words
    assert "store, retrieve, manage and share medical images" in words        # the summary
    for section in content["sections"]:
        assert section["title"] in words                                   # the contents
    for seg in content["segments"]:
        for item in seg["items"]:
            assert item["name"] in words
    assert "United States, Canada" in words                               # a region's countries
    import csv

    with open("content/pacs/tables/players.csv", encoding="utf-8") as fh:
        companies = [row["company"] for row in csv.DictReader(fh)]
    assert len(companies) >= 5
    for company in companies:
        assert company in words
    links = {a.get("href", ""): a for a in page.all("a")}
    brand = yaml.safe_load(Path("assets/brand.yaml").read_text(encoding="utf-8"))["links"]
    for cta in ("sample", "enquiry", "purchase"):
        assert brand[cta].replace("{id}", content["publisher_id"]) in links
    texts = words
    for label in ("Get a Sample PDF", "Inquire before purchasing", "Purchase"):
        assert label in texts
    previews = [a for a in page.all("img") if a["src"].startswith("page-")]
    assert len(previews) >= 2
    assert all("of the free sample of" in a["alt"] for a in previews)
    charts = [a for a in page.all("img") if a["src"].startswith("chart-")]
    assert 1 <= len(charts) <= 2
    for chart in charts:
        assert "4,198" in chart["alt"] or "%" in chart["alt"], chart["alt"]  # values, not just a title
        svg = (site / "reports" / "pacs" / chart["src"]).read_text(encoding="utf-8")
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert "#12355b" in svg.lower()                                   # the brand's first chart colour


def test_previews_are_rendered_pages_of_the_built_sample(site: Path) -> None:
    """Each preview is a PNG of a page of the PDF: the cover preview is mostly the brand's navy."""
    from PIL import Image

    cover = Image.open(site / "reports" / "pacs" / "page-1.png").convert("RGB")
    assert cover.width == 360 and cover.height > cover.width
    top = cover.crop((0, 0, cover.width, cover.height // 4))
    pixels = [top.getpixel((x, y)) for x in range(0, top.width, 4) for y in range(0, top.height, 4)]
    navy = sum(1 for px in pixels if abs(px[0] - 0x12) < 30 and abs(px[2] - 0x5B) < 40)
    assert navy > 0.4 * len(pixels)


def test_metadata_for_search_and_sharing(site: Path) -> None:
    """Title, description, canonical URL, Open Graph and a schema.org Product in JSON-LD."""
    page = report_page(site)
    canonical = [a["href"] for a in page.all("link") if a.get("rel") == "canonical"]
    assert canonical == [f"{BASE}/reports/pacs/"]
    assert page.meta("og:url") == canonical[0]
    assert page.meta("og:title").startswith("Healthcare Picture Archiving")
    assert page.meta("og:image").startswith(f"{BASE}/reports/pacs/page-1.png")
    assert 50 < len(page.meta("description")) <= 300
    (_attrs, text), = [s for s in page.scripts if s[0].get("type") == "application/ld+json"]
    data = json.loads(text)
    assert data["@type"] == "Product" and data["sku"] == "RMF-HC-1896609"
    assert {o["name"] for o in data["offers"]} == {"Single user", "Multi-user", "Enterprise"}
    assert data["brand"]["name"] == "Reliable Market Forecast"
    assert not any(a.get("src") for a in page.all("script")), "no JavaScript is needed to read the page"


def test_accessible_structure(site: Path) -> None:
    """Landmarks, one h1, a language, alt text on every image, a skip link, labelled sections."""
    for html in (site / "index.html", site / "reports" / "pacs" / "index.html"):
        page = Page(html.read_text(encoding="utf-8"))
        tags = [t for t, _ in page.tags]
        assert {"header", "main", "footer"} <= set(tags)
        assert tags.count("h1") == 1
        assert page.all("html")[0].get("lang")
        assert all(a.get("alt") for a in page.all("img"))
        assert page.all("a")[0].get("href") == "#main"
        ids = [a["id"] for _, a in page.tags if "id" in a]
        assert len(ids) == len(set(ids)), "duplicate ids"
        for section in page.all("section"):
            assert section.get("aria-labelledby") in ids


def test_links_resolve(site: Path) -> None:
    """Every internal link and asset resolves to a file of the site; every external link is the brand's."""
    brand = yaml.safe_load(Path("assets/brand.yaml").read_text(encoding="utf-8"))
    allowed = {v.replace("{id}", "1896609") for v in brand["links"].values()}
    allowed |= {f"mailto:{brand['contact']['sales_email']}"}
    checked = 0
    for html in sorted(site.rglob("*.html")):
        page = Page(html.read_text(encoding="utf-8"))
        here = "/" + str(html.relative_to(site))
        refs = [a.get("href", "") for t, a in page.tags if t in ("a", "link")] + \
               [a.get("src", "") for t, a in page.tags if t in ("img", "script") and a.get("src")]
        for ref in refs:
            if ref.startswith("#"):
                assert f'id="{ref[1:]}"' in html.read_text(encoding="utf-8"), ref
                continue
            parts = urlsplit(ref)
            if parts.scheme == "data":
                continue  # inline (the empty favicon), nothing to fetch
            if parts.scheme in ("http", "https", "mailto"):
                if ref.startswith(BASE):
                    continue  # canonical and og: URLs of the published site
                assert ref in allowed, f"{html}: external link {ref} is not one of the brand's"
                continue
            target = urljoin(here, parts.path)
            path = site / target.lstrip("/")
            if target.endswith("/"):
                path = path / "index.html"
            assert path.is_file(), f"{html}: {ref} -> {path} does not exist"
            checked += 1
        css = html.parent / "brand.css"
        if css.exists():
            assert re.search(r"--primary:#[0-9A-F]{6}", css.read_text())
    assert checked > 10
    for font in re.findall(r'url\("([^"]+)"\)', (site / "static" / "site.css").read_text()):
        assert (site / "static" / font).is_file()


def test_deterministic(site: Path, tmp_path: Path) -> None:
    """The same content gives a byte-identical site, wherever it is written."""
    folder = copy_content(tmp_path)
    build_site([folder], tmp_path / "again", base_url=BASE, pdf_dir=tmp_path / "out")
    assert digest(tmp_path / "again") == digest(site)


colour = st.integers(0, 0xFFFFFF).map(lambda n: f"#{n:06X}")


@settings(max_examples=examples(300), deadline=None)
@given(primary=colour, accent=colour, text=colour, muted=colour, tint=colour, rule=colour)
def test_palette_reaches_aa_for_any_brand(primary: str, accent: str, text: str, muted: str, tint: str,
                                          rule: str) -> None:
    """Whatever colours a brand picks, every text/background pair the stylesheet uses is at 4.5:1."""

    class Colours:
        pass

    c = Colours()
    c.primary, c.accent, c.text, c.muted, c.tint, c.rule = primary, accent, text, muted, tint, rule  # type: ignore[attr-defined]
    palette = palette_for(c)
    for what, fg, bg in palette.pairs:
        assert contrast(fg, bg) >= AA, (what, fg, bg)


@pytest.mark.slow  # two reports' sites written in full (3 s); the quick run keeps the one-report site tests
def test_site_cli_catalogue_and_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str], sample_pdf: Any) -> None:
    """Two reports: without REPORT the command exits 2 listing them; --all writes both and an index
    linking each; a report removed from the catalogue loses its page."""
    first = copy_content(tmp_path, "pacs")
    second = tmp_path / "content" / "pacs-copy"
    shutil.copytree(first, second)
    data = (second / "report.yaml").read_text(encoding="utf-8")
    data = data.replace("slug: pacs", "slug: pacs-copy").replace(
        "title: Healthcare Picture Archiving and Communication System (PACS) Market",
        "title: Veterinary <Imaging> & Archiving Market")
    (second / "report.yaml").write_text(data, encoding="utf-8")
    warm_cache(tmp_path, sample_pdf)  # the two samples' charts are the session build's: read, not drawn
    monkeypatch.chdir(tmp_path)
    assert main(["site"]) == 2
    err = capsys.readouterr().err
    assert "2 reports" in err and "pacs-copy" in err and "Traceback" not in err
    assert main(["site", "--all", "-o", "web"]) == 0
    index = Page((tmp_path / "web" / "index.html").read_text(encoding="utf-8"))
    hrefs = {a.get("href") for a in index.all("a")}
    assert {"reports/pacs/", "reports/pacs-copy/"} <= hrefs
    html = (tmp_path / "web" / "reports" / "pacs-copy" / "index.html").read_text(encoding="utf-8")
    assert "Veterinary &lt;Imaging&gt; &amp; Archiving Market" in html and "<Imaging>" not in html
    assert main(["site", "content/pacs", "-o", "web"]) == 0
    assert not (tmp_path / "web" / "reports" / "pacs-copy").exists()
    assert main(["site", "content/nothing-here"]) == 2

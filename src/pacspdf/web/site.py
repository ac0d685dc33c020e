"""Turn report folders into the public teaser pages: static HTML, CSS, SVG charts and PNG previews."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from pacspdf.web import core
from pacspdf.web.media import Preview, chart_svg, page_previews
from pacspdf.web.page import ReportPage, build_page

DEFAULT_SITE = Path("out/site")
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
STATIC = Path(__file__).with_name("static")


@dataclass
class SiteReport:
    """A report's page data and the files written beside it."""

    page: ReportPage
    previews: list[Preview]
    charts: list[tuple[str, str, str, str]]     # (file, title, alt, illustrative note)
    pdf: Path
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return self.page.slug


def environment() -> jinja2.Environment:
    """The page templates, HTML-escaped by default: report text and visitor text are data."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("pacspdf.web", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["thousands"] = lambda v: f"{v:,.0f}"
    return env


def _write_if_changed(path: Path, data: bytes) -> None:
    """Write ``data`` unless the file already holds it (keeps modification times of unchanged files)."""
    if path.is_file() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def prepare_report(folder: Path, site_dir: Path, pdf_dir: Path) -> SiteReport:
    """Build the sample if needed, then write the report's previews, charts, logo and brand CSS."""
    base = core.ensure_base(Path(folder), pdf_dir)
    page = build_page(Path(folder))
    out = site_dir / "reports" / page.slug
    out.mkdir(parents=True, exist_ok=True)
    previews = page_previews(base.pdf_path, out, page.title)
    charts = []
    for pick in page.charts:
        name = f"chart-{pick.id}.svg"
        _write_if_changed(out / name, chart_svg(pick.spec, pick.data, page.chart_style))
        charts.append((name, pick.title, pick.alt, pick.note))
    _write_if_changed(out / f"logo{page.logo.suffix}", page.logo.read_bytes())
    _write_if_changed(out / "brand.css", f":root{{{page.palette.css()}}}\n".encode())
    return SiteReport(page, previews, charts, base.pdf_path)


def write_static(site_dir: Path, reports: list[SiteReport]) -> None:
    """The shared stylesheet and the brand fonts it names."""
    _write_if_changed(site_dir / "static" / "site.css", (STATIC / "site.css").read_bytes())
    if reports:
        for key, path in sorted(reports[0].page.fonts.items()):
            _write_if_changed(site_dir / "static" / "fonts" / f"{key}.ttf", path.read_bytes())


def page_url(base_url: str, slug: str | None = None) -> str:
    base = base_url.rstrip("/")
    return f"{base}/reports/{slug}/" if slug else f"{base}/"


def render_report(env: jinja2.Environment, report: SiteReport, base_url: str,
                  intake: dict[str, Any] | None = None, root: str = "../../") -> str:
    """The report's teaser page; with ``intake`` (the served site) its forms replace the outbound links."""
    canonical = page_url(base_url, report.slug)
    image = canonical + (report.previews[0].file if report.previews else "")
    return env.get_template("report.html").render(
        r=report.page, previews=report.previews, charts=report.charts, canonical=canonical,
        image=image, json_ld=report.page.json_ld(canonical, image), intake=intake, root=root,
        logo=f"logo{report.page.logo.suffix}")


def render_index(env: jinja2.Environment, reports: list[SiteReport], base_url: str) -> str:
    first = reports[0].page if reports else None
    return env.get_template("index.html").render(reports=reports, first=first, canonical=page_url(base_url),
                                                 root="")


def report_folders(root: Path) -> list[Path]:
    """Every report folder (one holding report.yaml) directly under ``root``, sorted by name."""
    return sorted(p.parent for p in Path(root).glob("*/report.yaml"))


def build_site(folders: Iterable[Path], site_dir: Path = DEFAULT_SITE, *, base_url: str = DEFAULT_BASE_URL,
               pdf_dir: Path | None = None, progress: Callable[[str], None] | None = None) -> list[Path]:
    """Write the teaser page of each report and the catalogue index; return the pages written."""
    site_dir = Path(site_dir)
    reports = []
    for folder in folders:
        reports.append(prepare_report(Path(folder), site_dir, Path(pdf_dir or core.DEFAULT_OUT)))
        if progress:
            progress(reports[-1].slug)
    return write_site(reports, site_dir, base_url)


def write_site(reports: list[SiteReport], site_dir: Path, base_url: str) -> list[Path]:
    """The pages of prepared reports, the index and the stylesheet; pages of removed reports go."""
    slugs = [r.slug for r in reports]
    if len(set(slugs)) != len(slugs):
        dupes = sorted({s for s in slugs if slugs.count(s) > 1})
        raise core.UsageError(f"two report folders have the slug {dupes[0]!r}; each page needs its own")
    env = environment()
    write_static(site_dir, reports)
    written = []
    for report in reports:
        path = site_dir / "reports" / report.slug / "index.html"
        _write_if_changed(path, render_report(env, report, base_url).encode("utf-8"))
        written.append(path)
    index = site_dir / "index.html"
    _write_if_changed(index, render_index(env, reports, base_url).encode("utf-8"))
    written.insert(0, index)
    _prune(site_dir, set(slugs))
    return written


def _prune(site_dir: Path, slugs: set[str]) -> None:
    """Remove pages of reports that are no longer in the catalogue."""
    reports = site_dir / "reports"
    for child in sorted(reports.iterdir()) if reports.is_dir() else []:
        if child.is_dir() and child.name not in slugs:
            shutil.rmtree(child)


def digest(site_dir: Path) -> str:
    """sha256 over every file of the site (paths and bytes): equal digests, identical sites."""
    h = hashlib.sha256()
    for path in sorted(p for p in Path(site_dir).rglob("*") if p.is_file()):
        h.update(str(path.relative_to(site_dir)).encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()

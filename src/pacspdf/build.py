"""Orchestrate a build: load -> validate -> derive -> charts -> compose -> layout -> write."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pacspdf.content.load import Content
from pacspdf.errors import BuildError, ContentError, Problem
from pacspdf.validate import check

log = logging.getLogger("pacspdf.build")

DEFAULT_REPORT = Path("content/pacs")
DEFAULT_OUT = Path("out")
CACHE_DIR = Path(".cache")  # charts/, derived/, layout/ and logo/ caches, all safe to delete


@dataclass
class BuildResult:
    path: Path
    pages: int
    size: int
    seconds: float
    warnings: list[Problem] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    passes: int = 0  # layout passes multiBuild needed (1 when seeded from a previous build)


def default_output(content: Content, out_dir: Path = DEFAULT_OUT) -> Path:
    return out_dir / f"{content.report.slug}-sample.pdf"


def template_context(content: Content, derived: Any) -> dict[str, Any]:
    return {"report": content.report, "brand": content.brand, "size": derived.size,
            "segments": derived.segments, "players": derived.players, "leader": derived.leader}


def build(folder: Path | str = DEFAULT_REPORT, output: Path | None = None, *,
          cache_dir: Path | None = CACHE_DIR, personal: dict[str, Any] | None = None,
          progress: Callable[[str], None] | None = None) -> BuildResult:
    """Build the sample PDF of the report in ``folder``; raise ContentError on bad content."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    mark = started

    def step(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        timings[name] = now - mark
        mark = now
        if progress:
            progress(name)

    content, problems = check(Path(folder))
    errors = [p for p in problems if p.is_error]
    if content is None or errors:
        raise ContentError(problems)
    step("load+validate")

    from pacspdf.derive import cached_derive

    derived = cached_derive(content, _sub(cache_dir, "derived"))
    step("derive")

    from pacspdf.charts import cached_render
    from pacspdf.figures import chart_input
    from pacspdf.theme import make_theme

    theme = make_theme(content.brand, content.brand_dir, content.brand_file, content.report.language)
    drawings = {}
    for chart in content.report.charts:
        spec, data = chart_input(chart, content.report, derived, theme.frame_width)
        drawings[chart.id] = cached_render(spec, data, theme.chart, _sub(cache_dir, "charts"))
    step("charts")

    from pacspdf.charts._replay import VectorFlowable
    from pacspdf.compose import Composer, key_figures
    from pacspdf.cover import make_cover
    from pacspdf.doctemplate import PageDecor, ReportDocTemplate, layout_hints, seed_layout
    from pacspdf.text import TemplateRenderer, make_env

    r, b = content.report, content.brand
    renderer = TemplateRenderer(make_env(r.currency, r.unit), template_context(content, derived))
    decor = PageDecor(header_left=r.short_title, header_right=b.publisher,
                      footer_left=f"{r.code}  ·  {renderer.render(b.copyright, _brand_where(content))}",
                      show_watermark=b.watermark, personal=dict(personal or {}))
    buffer = io.BytesIO()
    doc = ReportDocTemplate(buffer, theme, decor, title=r.title, author=b.publisher,
                            subject=r.subtitle, keywords=list(r.keywords), creator="pacspdf",
                            producer="pacspdf (ReportLab)", lang=r.language,
                            date=r.edition)
    decor.cover = make_cover(content, theme, key_figures(content, derived, renderer.env.filters["money"]),
                             cache_dir=_sub(cache_dir, "logo"))
    from pacspdf.backcover import make_back_cover
    from pacspdf.cover import load_logo

    decor.cover_panel, decor.cover_link = cover_panel(content)
    decor.back = make_back_cover(content, theme, load_logo(
        content, theme, b.logo_white or b.logo, "logo_white" if b.logo_white else "logo",
        _sub(cache_dir, "logo")))
    fontmap = dict(theme.fonts)
    composer = Composer(content, derived, theme, renderer,
                        lambda cid: VectorFlowable(drawings[cid], fontmap), doc.page_count)
    story = composer.story()
    hints_path = _sub(cache_dir, "layout")
    if hints_path is not None:
        hints_path = hints_path / f"{r.slug}.json"
        seed_layout(_read_json(hints_path), composer.lists, doc.page_count)
    step("compose")
    from reportlab.platypus.doctemplate import LayoutError

    try:
        passes = doc.multiBuild(story)
    except LayoutError as exc:  # content that no page can hold; a clean message, no traceback
        first = str(exc).splitlines()[0][:200]
        raise BuildError(f"{content.report_file}: layout failed: {first}") from None
    pdf = buffer.getvalue()
    step("layout")

    from pacspdf.base import base_meta, write_meta
    from pacspdf.compose import brand_links
    from pacspdf.write import write_atomic

    path = Path(output) if output else default_output(content)
    meta = base_meta(content, theme, pdf, doc.page_count.total, brand_links(content))
    write_atomic(path, pdf)
    write_meta(path, meta)
    if hints_path is not None:
        _write_json(hints_path, layout_hints(composer.lists, doc.page_count))
    step("write")
    return BuildResult(path=path, pages=doc.page_count.total, size=len(pdf),
                       seconds=time.perf_counter() - started,
                       warnings=[p for p in problems if not p.is_error], timings=timings, passes=passes)


def cover_panel(content: Content) -> tuple[tuple[str, str, str], str]:
    """What the cover tells an anonymous reader: the full report's size and price, where to
    buy it and whom to call; and the tracked purchase link the panel opens."""
    from pacspdf.backcover import counts_text
    from pacspdf.links import report_links, tracked
    from pacspdf.text import fmt_number

    r, b = content.report, content.brand
    purchase = report_links(b, r)["purchase"]
    headline = (counts_text(content) or r.title).capitalize()
    if r.licences:
        headline += f" · from {r.currency} {fmt_number(min(lic.price for lic in r.licences))}"
    bare = purchase.removeprefix("https://").removeprefix("http://")
    detail = f"Buy it at {bare}"
    if r.analyst is not None:
        detail += f" or call {r.analyst.name} on {r.analyst.phone}"
    return ("THE FULL REPORT", headline, detail), tracked(purchase, b, r, "cover-panel")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Best effort: a cache that cannot be written only costs time."""
    from pacspdf.write import write_atomic

    with contextlib.suppress(BuildError):
        write_atomic(path, json.dumps(data, ensure_ascii=False).encode("utf-8"))


def _sub(cache_dir: Path | None, name: str) -> Path | None:
    return None if cache_dir is None else Path(cache_dir) / name


def _brand_where(content: Content) -> Any:
    from pacspdf.text import Where

    line, _ = content.brand_located.where(("copyright",))
    return Where(content.brand_file, line, "copyright")

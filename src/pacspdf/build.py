"""A report folder -> its sample PDF: load+check -> derive -> charts -> compose -> layout -> write."""

from __future__ import annotations

import logging
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pacspdf.content.load import Content
from pacspdf.errors import BuildError, ContentError, PreflightError, Problem
from pacspdf.validate import check

if TYPE_CHECKING:
    from pacspdf.charts import VectorDrawing
    from pacspdf.derive.model import Derived
    from pacspdf.document.personal import BaseArtifact
    from pacspdf.document.theme import Theme

log = logging.getLogger("pacspdf.build")

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
    preflight: list[str] = field(default_factory=list)  # what the preflight found (written with --force)


def default_output(content: Content, out_dir: Path = DEFAULT_OUT) -> Path:
    return out_dir / f"{content.report.slug}-sample.pdf"


def build(folder: Path | str, output: Path | None = None, *,
          cache_dir: Path | None = CACHE_DIR,
          progress: Callable[[str], None] | None = None, force: bool = False,
          write: bool = True, pdfa: str | None = None) -> BuildResult:
    """Build the sample PDF of the report in ``folder``; raise ContentError on bad content.

    The PDF is tagged (PDF/UA-1) and archival as ``pdfa`` says ("2b", "3b" or "none"); None
    takes the brand's ``pdfa`` (default "2b").

    One line per stage; each stage's modules are imported only when it runs, so bad content
    fails before pandas, matplotlib or ReportLab load. After layout the PREFLIGHT reads the
    pages back: text over text, outside its frame or a squashed chart raise PreflightError
    and nothing is written, unless ``force``. ``write=False`` stops after the preflight
    (``check --layout``).
    """
    clock = _Clock(progress)
    content, warnings = _checked(Path(folder))
    clock.step("load+validate")
    from pacspdf.derive.frames import cached_derive

    derived = cached_derive(content, _sub(cache_dir, "derived"))
    clock.step("derive")
    from pacspdf.document.theme import make_theme

    theme = make_theme(content.brand, content.brand_dir, content.brand_file, content.report.language)
    drawings = _draw_charts(content, derived, theme, _sub(cache_dir, "charts"))
    clock.step("charts")
    from pacspdf.document.assemble import assemble

    assembly = assemble(content, derived, theme, drawings, _sub(cache_dir, "logo"), _sub(cache_dir, "layout"),
                        pdfa=pdfa)
    clock.step("compose")
    pdf, passes = assembly.lay_out()
    clock.step("layout")
    findings = assembly.preflight(pdf)
    clock.step("preflight")
    if findings and not force:
        raise PreflightError(content.report_file, findings)
    path = Path(output) if output else default_output(content)
    if write:
        _write(content, theme, pdf, assembly.pages, path)
        assembly.save_hints()
        clock.step("write")
    return BuildResult(path=path, pages=assembly.pages, size=len(pdf), seconds=clock.total(),
                       warnings=warnings, timings=clock.timings, passes=passes, preflight=findings)


class _Clock:
    """Per-stage timings, reported to ``progress`` as each stage ends."""

    def __init__(self, progress: Callable[[str], None] | None) -> None:
        self.progress = progress
        self.started = self.mark = time.perf_counter()
        self.timings: dict[str, float] = {}

    def step(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = now - self.mark
        self.mark = now
        if self.progress:
            self.progress(name)

    def total(self) -> float:
        return time.perf_counter() - self.started


def _checked(folder: Path) -> tuple[Content, list[Problem]]:
    """LOAD + CHECK: the content and its warnings; ContentError when anything is an error."""
    content, problems = check(folder)
    if content is None or any(p.is_error for p in problems):
        raise ContentError(problems)
    return content, [p for p in problems if not p.is_error]


def _draw_charts(content: Content, derived: Derived, theme: Theme,
                 cache_dir: Path | None) -> dict[str, VectorDrawing]:
    """CHARTS: every chart of the report as a vector drawing (from the cache when it can)."""
    from pacspdf.charts import cached_render
    from pacspdf.charts.spec import MissingGlyph
    from pacspdf.document.tables import chart_input

    drawings = {}
    for chart in content.report.charts:
        spec, data = chart_input(chart, content.report, derived, theme.frame_width)
        try:
            drawings[chart.id] = cached_render(spec, data, theme.chart, cache_dir)
        except MissingGlyph as exc:  # check names these first; never a traceback here
            raise BuildError(f'{content.report_file}: chart "{chart.id}": {exc}') from None
    return drawings


def _write(content: Content, theme: Theme, pdf: bytes, pages: int, path: Path) -> Path:
    """WRITE: the PDF and its sidecar for personalisation, each atomically."""
    from pacspdf.content.brand import link_urls
    from pacspdf.document.personal import sidecar, write_sidecar
    from pacspdf.write import write_atomic

    r = content.report
    meta = sidecar(content, theme, pdf, pages, link_urls(content.brand, r.publisher_id),
                   content_hash(content.folder, content.brand_dir))
    write_atomic(path, pdf)
    write_sidecar(path, meta)
    return path


def content_hash(folder: Path, brand_dir: Path) -> str:
    """The freshness key of a base PDF built from ``folder`` with the brand in ``brand_dir``.

    Every file of both folders, pacspdf's source and the drawing libraries' versions
    (:func:`pacspdf.write.folders_key`); the build records it in the sidecar.
    """
    from pacspdf.write import folders_key

    return folders_key(Path(folder), Path(brand_dir))


def ensure_base(report_folder: Path, out_dir: Path | None = None) -> BaseArtifact:
    """The base build of ``report_folder`` in ``out_dir``, rebuilt first when its key is stale."""
    from pacspdf.content.load import load
    from pacspdf.document.personal import BaseArtifact, sidecar_path

    content = load(report_folder)  # raises ContentError for bad content
    pdf_path = default_output(content, Path(out_dir) if out_dir is not None else DEFAULT_OUT)
    if pdf_path.is_file() and sidecar_path(pdf_path).is_file():
        try:
            artifact = BaseArtifact.load(pdf_path)
            if artifact.meta.get("content_hash") == content_hash(content.folder, content.brand_dir):
                return artifact
        except (OSError, ValueError, KeyError):
            pass
    result = build(Path(report_folder), pdf_path)
    return BaseArtifact.load(result.path)


def _sub(cache_dir: Path | None, name: str) -> Path | None:
    return None if cache_dir is None else Path(cache_dir) / name


class _CallableModule(types.ModuleType):
    """``pacspdf.build`` names both this module and the public API's ``build`` function; once the
    module is imported, Python binds the package attribute to the module, so the module itself
    is callable and does what the function does."""

    def __call__(self, folder: Path | str, output: Path | None = None, *,
                 cache_dir: Path | None = CACHE_DIR,
                 progress: Callable[[str], None] | None = None, force: bool = False,
                 write: bool = True, pdfa: str | None = None) -> BuildResult:
        return build(folder, output, cache_dir=cache_dir, progress=progress, force=force,
                     write=write, pdfa=pdfa)


sys.modules[__name__].__class__ = _CallableModule

"""Content -> every Problem the schema cannot see, sorted by file, line and column.

``validate(content)`` returns every problem at once: numbers that contradict each other
(:mod:`.numbers`), names that do not match (:mod:`.names`), references to things that do not
exist (:mod:`.references`), charts without usable alternative text (:mod:`.alt`), template
mistakes (:mod:`.templates`), prose that states the wrong figures (:mod:`.statements`), brand
files that are not what they claim (:mod:`.brand`), chart kinds that misstate their data,
printed columns that lose information, characters the brand's fonts lack
(:mod:`.presentation`), and a note for each set of illustrative figures.

This package is on the ``pacspdf check`` path, so it must stay light: plain Python, PyYAML
and Jinja2 only (no pandas, matplotlib or ReportLab). The prose templates are rendered
against :mod:`pacspdf.derive.plain`, the pure-Python derivation.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pacspdf.content.load import Content, load, one_line
from pacspdf.derive.model import (
    CONTEXT_NAMES,
    PlayerView,
    SegmentView,
    Series,
    SizeView,
    TemplateDataError,
    template_context,
)
from pacspdf.derive.plain import derive_plain
from pacspdf.errors import ContentError, Problem
from pacspdf.validate.alt import AltChecks
from pacspdf.validate.brand import BrandChecks, resolve_asset
from pacspdf.validate.names import NameChecks, countries
from pacspdf.validate.numbers import NumberChecks
from pacspdf.validate.presentation import PresentationChecks
from pacspdf.validate.report import line_map
from pacspdf.validate.sales import SalesChecks
from pacspdf.validate.statements import Statements
from pacspdf.validate.templates import (
    TemplateChecker,
    environment,
    non_template_placeholders,
    template_fields,
)

__all__ = [
    "CONTEXT_NAMES",
    "PlayerView",
    "SegmentView",
    "Series",
    "SizeView",
    "TemplateDataError",
    "check",
    "countries",
    "environment",
    "heavy_modules_loaded",
    "line_map",
    "resolve_asset",
    "validate",
]


class _Checker(NumberChecks, NameChecks, SalesChecks, BrandChecks, AltChecks, PresentationChecks):
    """All checks of one report's content, collecting into one list of problems."""


def validate(content: Content) -> list[Problem]:
    """Every problem in ``content`` the loader cannot see (errors, warnings and notes), sorted.

    The loader's own warnings (``content.warnings``) are not repeated here: print both.
    """
    checker = _Checker(content)
    checker.report_fields()
    checker.brand_fields()
    checker.market_size()
    checker.segments()
    checker.coverage()
    checker.players()
    checker.references()
    checker.sales()
    checker.alt_texts()
    checker.brand_files()
    checker.brand_contrast()
    checker.illustrative()
    checker.chart_pairings()
    checker.glyphs()
    derived = derive_plain(content) if content.data.size else None
    if derived is not None:
        checker.precision(derived)
    context = template_context(content, derived) if derived is not None else None
    env = environment(content.report.currency, content.report.unit)
    templates = TemplateChecker(content, checker, env, context)
    fields = list(template_fields(content))
    for f in fields:
        templates.check(f)
    non_template_placeholders(checker, {f.path for f in fields if f.file == content.report_file})
    if context is not None:
        Statements(checker, {f.path: f for f in fields if f.file == content.report_file},
                   context).run(templates.rendered)
    return sorted(set(one_line(checker.problems)))


def heavy_modules_loaded() -> list[str]:
    """Modules the check path must never import that are loaded now (for tests and benchmarks)."""
    return sorted(m for m in ("pandas", "matplotlib", "reportlab") if m in sys.modules)


def check(folder: Path) -> tuple[Content | None, list[Problem]]:
    """Load and validate a report folder: the content (None if it cannot be read) and every
    problem found, errors, warnings and notes, sorted. This is ``pacspdf check``."""
    try:
        content = load(folder)
    except ContentError as exc:
        return None, exc.problems
    return content, sorted([*content.warnings, *validate(content)])

"""Prose templates + a context -> text: the Jinja2 environment, its filters and the renderer.

Templates are rendered from the shared parse tree (:mod:`pacspdf.templates.tree`) when it
can, else by Jinja2; a template error becomes a located :class:`~pacspdf.errors.Problem`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jinja2

from pacspdf import numbers
from pacspdf.errors import ContentError, Problem
from pacspdf.templates.tree import Evaluator, parsed, walk


def fmt_number(value: float, digits: int | None = None) -> str:
    """``value`` with thousands commas, rounded half away from zero; without ``digits``, with
    the decimals its magnitude calls for (three significant digits: 2.84, 41.9, 4,198)."""
    places = numbers.decimals_for([float(value)]) if digits is None else max(0, int(digits))
    return numbers.fmt(float(value), places)


def fmt_pct(value: float, digits: int = 1) -> str:
    return numbers.pct(float(value), int(digits))


def long_date(iso: str) -> str:
    """``2025-04-15`` as ``15 April 2025``."""
    d = dt.date.fromisoformat(iso)
    return f"{d.day} {d.strftime('%B %Y')}"


def money_formatter(currency: str, unit: str) -> Callable[..., str]:
    """A filter writing a value held in ``unit`` (thousand|million|billion) as readable money,
    in the unit that reads best: "EUR 2.8 billion", "EUR 596.4 million" (see numbers.money)."""

    def money(value: float, digits: int | None = None) -> str:
        return numbers.money(float(value), currency, unit, digits)

    return money


@functools.lru_cache(maxsize=8)
def make_env(currency: str = "USD", unit: str = "million") -> jinja2.Environment:
    """The Jinja2 environment all prose is rendered with: unknown names are errors.

    One environment per currency and unit, shared by every build in a process, so templates
    compiled for one build are reused by the next (see TemplateRenderer).
    """
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False,
                             keep_trailing_newline=False, trim_blocks=False)
    env.filters["money"] = money_formatter(currency, unit)
    env.filters["pct"] = fmt_pct
    env.filters["num"] = fmt_number
    return env


@dataclass(frozen=True)
class Where:
    """Where a template came from, for error messages."""

    file: str
    line: int
    field: str


def _compiled(env: jinja2.Environment) -> dict[str, jinja2.Template]:
    """The compiled-template cache kept on ``env`` itself (it dies with the environment)."""
    cache: dict[str, jinja2.Template] | None = getattr(env, "_pacspdf_compiled", None)
    if cache is None:
        cache = {}
        env._pacspdf_compiled = cache  # type: ignore[attr-defined]  # our own slot on the env
    return cache


class TemplateRenderer:
    """Renders prose templates against one report's context, turning failures into ContentError."""

    def __init__(self, env: jinja2.Environment, context: dict[str, Any]) -> None:
        self.env = env
        self.context = context
        # Compiled templates live with their environment, so they outlive one build.
        self._cache: dict[str, jinja2.Template] = _compiled(env)

    def render(self, source: str, where: Where) -> str:
        if "{" not in source:
            return source
        try:
            text = walk(Evaluator(self.env, self.context), parsed(self.env, source)[0])
            if text is not None:  # most prose: straight from the shared parse tree
                return text
            template = self._cache.get(source)
            if template is None:
                template = self._cache[source] = self.env.from_string(source)
            return template.render(self.context)
        except jinja2.TemplateSyntaxError as exc:
            raise ContentError([Problem(where.file, where.line + max(exc.lineno - 1, 0), 0,
                                        where.field, f"template syntax error: {exc.message}")]) from None
        except jinja2.UndefinedError as exc:
            raise ContentError([Problem(where.file, where.line, 0, where.field,
                                        f"unknown placeholder: {exc.message}")]) from None
        except (TypeError, ValueError, LookupError, AttributeError, ZeroDivisionError) as exc:
            raise ContentError([Problem(where.file, where.line, 0, where.field,
                                        f"template error: {type(exc).__name__}: {exc}")]) from None

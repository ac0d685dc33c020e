"""Prose template fields -> Problems (syntax, unknown names and filters, "None"), and their rendered text."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jinja2
from jinja2 import nodes

from pacspdf.content._yaml import Path_
from pacspdf.content.load import Content, field_path
from pacspdf.content.model import Block, Chart, Table
from pacspdf.content.schema import Record, field_names
from pacspdf.derive.model import CONTEXT_NAMES, TemplateDataError, did_you_mean
from pacspdf.errors import Problem
from pacspdf.templates.tree import Evaluator, parsed, walk
from pacspdf.validate.report import (
    ERROR,
    NOTE,
    WARNING,
    Field,
    Reporter,
    line_map,
)

# ---------------------------------------------------------------- templates: environment

class _UnknownName(jinja2.UndefinedError):
    def __init__(self, message: str, name: str | None, obj: Any) -> None:
        super().__init__(message)
        self.name = name
        self.obj = obj


def _recording(base: type[jinja2.Undefined]) -> type[jinja2.Undefined]:
    """A subclass of ``base`` that remembers every undefined name a render touched."""
    log: list[tuple[str | None, Any]] = []

    def __init__(self: jinja2.Undefined, hint: str | None = None, obj: Any = jinja2.utils.missing,
                 name: str | None = None,
                 exc: type[jinja2.exceptions.TemplateRuntimeError] = jinja2.UndefinedError) -> None:
        base.__init__(self, hint, obj, name, exc)
        log.append((name, obj))
        # jinja2 types this as an exception class; it is only ever called with the message.
        self._undefined_exception = lambda message: _UnknownName(message, name, obj)  # type: ignore[assignment]

    return type("Undefined", (base,), {"__slots__": (), "__init__": __init__, "log": log})


@cache
def _base_environment(currency: str, unit: str) -> jinja2.Environment:
    from pacspdf.templates.environment import (
        make_env,  # the build's own environment and filters (light: jinja2 only)
    )

    return make_env(currency, unit)


def environment(currency: str = "USD", unit: str = "million") -> jinja2.Environment:
    """The build's Jinja2 environment with an Undefined that records what was missing."""
    base = _base_environment(currency, unit)
    undefined = base.undefined
    if not issubclass(undefined, jinja2.StrictUndefined):
        undefined = jinja2.StrictUndefined
    return base.overlay(undefined=_recording(undefined))


# ---------------------------------------------------------------- templates

def template_fields(content: Content) -> Iterator[Field]:
    r = content.report
    rf, loc = content.report_file, content.located

    def f(path: Path_, text: str | None) -> Iterator[Field]:
        if text is not None:
            yield Field(rf, loc, path, text)

    displays: tuple[tuple[str, Sequence[Chart | Table]], ...] = (("charts", r.charts), ("tables", r.tables))
    for kind, items in displays:
        for i, item in enumerate(items):
            yield from f((kind, i, "title"), item.title)
    for i, chart in enumerate(r.charts):
        yield from f(("charts", i, "alt"), chart.alt)
    for i, seg in enumerate(r.segments):
        for j, seg_item in enumerate(seg.items):
            yield from f(("segments", i, "items", j, "description"), seg_item.description)
    for k, profile in enumerate(r.players.profiles):
        yield from f(("players", "profiles", k, "text"), profile.text)
    for i, section in enumerate(r.sections):
        groups: list[tuple[Path_, list[Block]]] = [(("sections", i), section.blocks)]
        groups += [(("sections", i, "subsections", k), sub.blocks)
                   for k, sub in enumerate(section.subsections)]
        for prefix, blocks in groups:
            for j, block in enumerate(blocks):
                path = (*prefix, "blocks", j)
                yield from f((*path, "text"), block.text)
                yield from f((*path, "teaser"), block.teaser)
                if block.callout is not None:
                    yield from f((*path, "callout", "text"), block.callout.text)
    for key in ("copyright", "licence"):
        yield Field(content.brand_file, content.brand_located, (key,), getattr(content.brand, key))



def _expression(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_expression(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem):
        arg = node.arg
        inner = repr(arg.value) if isinstance(arg, nodes.Const) else "…"
        return f"{_expression(node.node)}[{inner}]"
    if isinstance(node, nodes.Call):
        args = ", ".join(repr(a.value) if isinstance(a, nodes.Const) else "…" for a in node.args)
        return f"{_expression(node.node)}({args})"
    return "…"


def _attributes(obj: Any) -> list[str]:
    if isinstance(obj, dict):
        return [str(k) for k in obj]
    if isinstance(obj, Record):
        return field_names(type(obj))
    return [n for n in dir(obj) if not n.startswith("_")]


@dataclass
class TemplateChecker:
    content: Content
    checker: Reporter
    env: jinja2.Environment
    context: dict[str, Any] | None
    rendered: dict[Path_, str] = field(default_factory=dict)

    def problem(self, f: Field, template_line: int, message: str, severity: str = ERROR) -> None:
        lines = line_map(f.located.spans.get(f.path), f.text)
        line, col = f.located.where(f.path)
        if lines and template_line >= 1:
            line, col = lines[min(template_line, len(lines)) - 1], 0
        self.checker.problems.append(Problem(f.file, line, col, field_path(f.path), message, severity))

    def check(self, f: Field) -> None:
        markup = sorted({c for c in f.text if c in "<&"})
        if markup:
            first = min(i for i, line in enumerate(f.text.split("\n")) if "<" in line or "&" in line)
            self.problem(f, first + 1, "contains " + " and ".join(f'"{c}"' for c in markup)
                         + ": printed literally (the renderer escapes ReportLab markup)", NOTE)
        if "{" not in f.text:
            self.rendered[f.path] = f.text
            return
        try:
            ast, names = parsed(self.env, f.text)
        except jinja2.TemplateSyntaxError as exc:
            self.problem(f, exc.lineno, f"template syntax error: {exc.message}")
            return
        undeclared = names - CONTEXT_NAMES - set(self.env.globals)
        for name in sorted(undeclared):
            line = min((n.lineno for n in ast.find_all(nodes.Name) if n.name == name), default=1)
            self.problem(f, line, f'unknown placeholder "{name}"'
                         + did_you_mean(name, sorted(CONTEXT_NAMES)))
        if undeclared or self.context is None:
            self._compile(f)  # still reports unknown filters
            return
        self._render(f, ast, self.context)

    def _compile(self, f: Field) -> jinja2.Template | None:
        # From the text, not the shared parsed tree: Jinja2's optimizer rewrites the tree it compiles.
        try:
            return self.env.from_string(f.text)
        except jinja2.TemplateSyntaxError as exc:
            self.problem(f, exc.lineno, self._compile_message(exc))
            return None

    def _compile_message(self, exc: jinja2.TemplateSyntaxError) -> str:
        match = re.match(r"No (filter|test) named '(.+?)'", exc.message or "")
        if match:
            kind, name = match.groups()
            known = self.env.filters if kind == "filter" else self.env.tests
            return f'unknown {kind} "{name}"' + did_you_mean(name, sorted(known))
        return f"template error: {exc.message}"

    def _render(self, f: Field, ast: nodes.Template, context: dict[str, Any]) -> None:
        # ``log`` is the class attribute _recording() adds to the environment's Undefined.
        log: list[tuple[str | None, Any]] = self.env.undefined.log  # type: ignore[attr-defined]
        log.clear()
        evaluator = Evaluator(self.env, context)
        try:
            text = walk(evaluator, ast)
            if text is None:  # loops with `loop`, keyword splats, tests...: let Jinja2 do it
                log.clear()
                evaluator.line = 0
                template = self._compile(f)
                if template is None:
                    return
                text = template.render(context)
        except Exception as exc:  # a template may call anything; report, never crash
            line = _template_line(exc) or evaluator.line
            self.problem(f, line, self._render_message(exc, ast, line, log))
            return
        self.rendered[f.path] = text
        if re.search(r"\bNone\b", text) and not re.search(r"\bNone\b", f.text):
            self._none(f)

    def _none(self, f: Field) -> None:
        """Point at the placeholder that printed "None"."""
        for number, line in enumerate(f.text.split("\n"), 1):
            for match in re.finditer(r"\{\{(.*?)\}\}", line):
                try:
                    value = self.env.compile_expression(match.group(1))(**(self.context or {}))
                except Exception:  # loop variables and the like: try the next one
                    continue
                if value is None:
                    self.problem(f, number, f'"{match.group(0)}" renders as "None": it has no value',
                                 WARNING)
                    return
        self.problem(f, 1, 'renders as "None": a placeholder has no value', WARNING)

    def _render_message(self, exc: Exception, ast: nodes.Template, line: int,
                        log: list[tuple[str | None, Any]]) -> str:
        if isinstance(exc, _UnknownName) or (log and not isinstance(exc, TemplateDataError)):
            name, obj = (exc.name, exc.obj) if isinstance(exc, _UnknownName) else log[0]
            if obj is jinja2.utils.missing:
                return f'unknown placeholder "{name}"' + did_you_mean(str(name), sorted(CONTEXT_NAMES))
            candidates = [n for n in ast.find_all((nodes.Getattr, nodes.Getitem))
                          if (isinstance(n, nodes.Getattr) and n.attr == name)
                          or (isinstance(n, nodes.Getitem) and isinstance(n.arg, nodes.Const)
                              and n.arg.value == name)]
            candidates.sort(key=lambda n: (n.lineno != line, n.lineno))
            what = _expression(candidates[0]) if candidates else str(name)
            return f'unknown placeholder "{what}"' + did_you_mean(str(name), _attributes(obj))
        if isinstance(exc, TemplateDataError):
            return f"cannot be filled in: {exc}"
        if isinstance(exc, jinja2.TemplateError):
            return f"template error: {exc.message or exc}"
        return f"cannot be filled in: {type(exc).__name__}: {exc}"


def _template_line(exc: BaseException) -> int:
    line = 0
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line or getattr(exc, "lineno", 0) or 0



def non_template_placeholders(checker: Reporter, template_paths: set[Path_]) -> None:
    """A '{{' in a field that is not a template is printed as is: almost surely a mistake."""
    for located, brand in ((checker.content.located, False), (checker.content.brand_located, True)):
        for path, span in located.spans.items():
            if (brand and path in {("copyright",), ("licence",)}) or (not brand and path in template_paths):
                continue
            if path and path[0] == "links":
                continue
            if "{{" in span.source or "{%" in span.source:
                checker.at(path, 'contains "{{" or "{%", but this field is not a template: '
                                 "printed as is", WARNING, brand=brand)

"""Render simple Jinja2 templates straight from their parse tree, and parse each text once.

Most prose fields are text with ``{{ expressions }}`` and filters. Jinja2 compiles each
template to Python before rendering it, which costs more than the rendering itself in a
fresh process (~0.1 s for a report's ~100 fields). :class:`Evaluator` walks the parsed tree
instead and gives exactly what Jinja2's compiled template gives (tests compare both on
every field of the sample); on anything it does not handle it raises :class:`Unsupported`
and the caller compiles. Both the checks (validate.py) and the renderer (text.py) use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import jinja2
from jinja2 import nodes


class Unsupported(Exception):
    """The template uses more than Evaluator knows; compile it instead."""


@dataclass
class Evaluator:
    """Renders templates that are only text and ``{{ expressions }}`` straight from the parsed
    tree, as Jinja2 would, without generating and compiling Python code (most prose fields
    are like that; compiling them would be most of the check's time)."""

    env: jinja2.Environment
    context: dict[str, Any]
    line: int = 0

    def run(self, ast: nodes.Template) -> str:
        out: list[str] = []
        self.body(ast.body, self.context, out)
        return "".join(out)

    def body(self, statements: list[nodes.Node], scope: dict[str, Any], out: list[str]) -> None:
        for node in statements:
            if isinstance(node, nodes.Output):
                for child in node.nodes:
                    if isinstance(child, nodes.TemplateData):
                        out.append(child.data)
                    else:
                        self.line = child.lineno
                        out.append(str(self.value(child, scope)))
            elif (isinstance(node, nodes.For) and isinstance(node.target, nodes.Name)
                  and not (node.else_ or node.test or node.recursive)
                  and not any(n.name == "loop" for n in node.find_all(nodes.Name))):
                self.line = node.lineno
                for item in iter(self.value(node.iter, scope)):
                    self.body(node.body, {**scope, node.target.name: item}, out)
            elif isinstance(node, nodes.If):
                self.line = node.lineno
                branches = [(node.test, node.body), *((e.test, e.body) for e in node.elif_)]
                chosen = next((b for test, b in branches if self.value(test, scope)), node.else_)
                self.body(chosen, scope, out)
            else:
                raise Unsupported

    def value(self, node: nodes.Node, scope: dict[str, Any]) -> Any:
        # Operands are evaluated in the order Jinja2's compiled code evaluates them (the object
        # before its key, the function or filtered value before the arguments), so the first
        # failure, and its message, is the one Jinja2 would give.
        if isinstance(node, nodes.Const):
            return node.value
        if isinstance(node, nodes.Name):
            if node.name in scope:
                return scope[node.name]
            if node.name in self.env.globals:
                return self.env.globals[node.name]
            return self.env.undefined(name=node.name)
        if isinstance(node, nodes.Getattr):
            return self.env.getattr(self.value(node.node, scope), node.attr)
        if isinstance(node, nodes.Getitem):
            obj = self.value(node.node, scope)
            arg = node.arg
            if isinstance(arg, nodes.Slice):
                bounds = (arg.start, arg.stop, arg.step)
                key: Any = slice(*(None if b is None else self.value(b, scope) for b in bounds))
            else:
                key = self.value(arg, scope)
            return self.env.getitem(obj, key)
        if isinstance(node, nodes.Neg):
            return -self.value(node.node, scope)
        if isinstance(node, nodes.Not):
            return not self.value(node.node, scope)
        if isinstance(node, nodes.Call) and not (node.dyn_args or node.dyn_kwargs):
            function = self.value(node.node, scope)
            args, kwargs = self._arguments(node, scope)
            if isinstance(function, jinja2.Undefined):
                str(function)  # raises: the name or attribute does not exist
            return function(*args, **kwargs)
        if isinstance(node, nodes.Filter) and not (node.dyn_args or node.dyn_kwargs):
            flt: Any = self.env.filters.get(node.name)
            if node.node is None or not _handled(flt):
                raise Unsupported  # compiling reports the unknown filter
            subject = self.value(node.node, scope)
            args, kwargs = self._arguments(node, scope)
            if getattr(flt, "jinja_pass_arg", None) is None:
                return flt(subject, *args, **kwargs)
            return flt(self.env, subject, *args, **kwargs)
        raise Unsupported

    def _arguments(self, node: nodes.Call | nodes.Filter,
                   scope: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        args = [self.value(a, scope) for a in node.args]
        # jinja2 annotates Filter.kwargs as list[Pair], but its parser builds Keyword nodes.
        keywords = cast("list[nodes.Keyword]", node.kwargs)
        return args, {k.key: self.value(k.value, scope) for k in keywords}


def _handled(function: Any) -> bool:
    """A filter that takes only its value and arguments, or the environment too (not the
    render context or the eval context, which the walker does not have)."""
    passes = getattr(function, "jinja_pass_arg", None)
    return function is not None and (passes is None or getattr(passes, "name", "") == "environment")


def walkable(env: jinja2.Environment, ast: nodes.Template) -> bool:
    """Whether :class:`Evaluator` renders ``ast`` in ``env`` the way Jinja2 would, decided before
    anything runs (a template is never half-run by the walker, then again by Jinja2)."""
    if env.autoescape or env.finalize is not None:
        return False
    return all(_statement(env, node) for node in ast.body)


def walk(evaluator: Evaluator, ast: nodes.Template) -> str | None:
    """``ast`` rendered by ``evaluator``, or None when Jinja2 must render it instead (decided
    by :func:`walkable` before anything runs; None too if the two ever disagree)."""
    if not walkable(evaluator.env, ast):
        return None
    try:
        return evaluator.run(ast)
    except Unsupported:  # a walkable() / Evaluator mismatch: Jinja2 still renders it right
        return None


def _statement(env: jinja2.Environment, node: nodes.Node) -> bool:
    if isinstance(node, nodes.Output):
        return all(isinstance(c, nodes.TemplateData) or _expression(env, c) for c in node.nodes)
    if isinstance(node, nodes.For):
        return (isinstance(node.target, nodes.Name) and not (node.else_ or node.test or node.recursive)
                and not any(n.name == "loop" for n in node.find_all(nodes.Name))
                and _expression(env, node.iter) and all(_statement(env, n) for n in node.body))
    if isinstance(node, nodes.If):
        branches = [(node.test, node.body), *((e.test, e.body) for e in node.elif_)]
        return (all(_expression(env, test) and all(_statement(env, n) for n in body)
                    for test, body in branches)
                and all(_statement(env, n) for n in node.else_))
    return False


def _expression(env: jinja2.Environment, node: nodes.Node | None) -> bool:
    if isinstance(node, (nodes.Const, nodes.Name)):
        return True
    if isinstance(node, (nodes.Getattr, nodes.Neg, nodes.Not)):
        return _expression(env, node.node)
    if isinstance(node, nodes.Getitem):
        arg = node.arg
        parts = [b for b in (arg.start, arg.stop, arg.step) if b is not None] \
            if isinstance(arg, nodes.Slice) else [arg]
        return _expression(env, node.node) and all(_expression(env, p) for p in parts)
    if isinstance(node, (nodes.Call, nodes.Filter)):
        if node.dyn_args or node.dyn_kwargs:
            return False
        keywords = cast("list[nodes.Keyword]", node.kwargs)
        if not all(_expression(env, a) for a in [*node.args, *(k.value for k in keywords)]):
            return False
        if isinstance(node, nodes.Call):
            return _expression(env, node.node)
        return node.node is not None and _handled(env.filters.get(node.name)) and _expression(env, node.node)
    return False


#: Parsed prose templates and the names they read, by source text, shared by the checks and
#: the renderer of every build in a process (each text is parsed once per process). Parsing does
#: not depend on the environment's filters or globals, only on Jinja2's default syntax, which
#: every pacspdf environment uses. The trees are only read: compile from the text, since
#: Jinja2's optimizer rewrites the tree it compiles.
_PARSED: dict[str, tuple[nodes.Template, frozenset[str]]] = {}
_PARSED_MAX = 20_000


def parsed(env: jinja2.Environment, text: str) -> tuple[nodes.Template, frozenset[str]]:
    """``text`` parsed, with the names it reads but never sets; raises TemplateSyntaxError."""
    hit = _PARSED.get(text)
    if hit is None:
        ast = env.parse(text)
        hit = (ast, frozenset(_undeclared(ast)))
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[text] = hit
    return hit


def _undeclared(ast: nodes.Template) -> set[str]:
    """Names a template reads but never sets (a cheap jinja2.meta.find_undeclared_variables,
    which would generate the template's code a second time)."""
    loaded: set[str] = set()
    stored: set[str] = set()
    for node in ast.find_all(nodes.Name):
        (loaded if node.ctx == "load" else stored).add(node.name)
    macros = cast("Iterator[nodes.Macro | nodes.CallBlock]", ast.find_all((nodes.Macro, nodes.CallBlock)))
    for macro in macros:
        stored.update(arg.name for arg in macro.args)
        if isinstance(macro, nodes.Macro):
            stored.add(macro.name)
    stored.update({"loop", "caller", "varargs", "kwargs", "super", "self"})
    return loaded - stored

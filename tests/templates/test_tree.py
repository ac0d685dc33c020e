"""The tree walker renders exactly what Jinja2's compiled templates render, or declines first."""

from __future__ import annotations

from typing import Any

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pacspdf.templates.environment import make_env
from pacspdf.templates.tree import Evaluator, parsed, walkable
from selection import examples

CONTEXT: dict[str, Any] = {"n": 2.5, "k": 3, "xs": ["a", "b", "c"], "d": {"k": 1, "name": "PACS"},
                           "s": "Text", "none": None}

atoms = st.sampled_from(["n", "k", "xs", "d", "s", "none", "missing", "1", "0", "'x'", "-k", "not n",
                         "d.name", "d.nope", "d['k']", "xs[1]", "xs[1:]", "xs[5]", "d.get('k')",
                         "d.get('zz', 7)", "range(2)", "loop.index", "n > 1", "s.upper()", "missing.attr"])
filters = st.sampled_from(["", " | money", " | pct", " | pct(1)", " | num", " | length", " | join(', ')",
                           " | default('n/a')", " | upper", " | round(1)", " | first", " | nosuch",
                           " | money(digits=2)", " | list"])


@st.composite
def expressions(draw: st.DrawFn) -> str:
    return draw(atoms) + draw(filters)


@st.composite
def templates(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["text", "expr", "for", "if"] if depth < 2 else ["text", "expr"]))
        if kind == "text":
            parts.append(draw(st.sampled_from(["The market ", " and ", "%", ", ", "\n"])))
        elif kind == "expr":
            parts.append("{{ " + draw(expressions()) + " }}")
        elif kind == "for":
            parts.append("{% for x in " + draw(atoms) + " %}" + draw(templates(depth + 1))
                         + "{{ x }}{% endfor %}")
        else:
            parts.append("{% if " + draw(atoms) + " %}" + draw(templates(depth + 1))
                         + "{% else %}" + draw(templates(depth + 1)) + "{% endif %}")
    return "".join(parts)


def _outcome(render: Any) -> tuple[str, str]:
    try:
        return "ok", render()
    except Exception as exc:  # the kind of failure is what must match
        return "error", type(exc).__name__


@pytest.mark.slow
@settings(max_examples=examples(400), deadline=None)
@given(source=templates())
def test_walker_matches_jinja_or_declines_before_running(source: str) -> None:
    env = make_env()
    try:
        ast = parsed(env, source)[0]
    except jinja2.TemplateSyntaxError:
        return
    compiled = _outcome(lambda: env.from_string(source).render(CONTEXT))
    if not walkable(env, ast):
        return
    walked = _outcome(lambda: Evaluator(env, dict(CONTEXT)).run(ast))
    assert walked == compiled, source

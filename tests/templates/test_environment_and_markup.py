"""Unit tests of templates.environment and document.markup: escaping, emphasis, bullets, filters."""

from __future__ import annotations

import io

import jinja2
import pypdf
import pytest
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, SimpleDocTemplate

from pacspdf.document.markup import Bullets, Para, blocks, inline
from pacspdf.errors import ContentError
from pacspdf.templates.environment import (
    TemplateRenderer,
    Where,
    fmt_number,
    fmt_pct,
    make_env,
    money_formatter,
)

STYLE = ParagraphStyle("t", fontName="Helvetica", fontSize=10, leading=12)
HERE = Where("content/x/report.yaml", 40, "sections[0].blocks[1].text")


def rendered_text(markup: str) -> str:
    """What a reader sees: the markup laid out by ReportLab, then extracted from the PDF."""
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, invariant=1).build([Paragraph(markup, STYLE)])
    return " ".join(pypdf.PdfReader(buffer).pages[0].extract_text().split())


# ---------------------------------------------------------------------------- escaping

@pytest.mark.parametrize("text, markup", [
    ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
    ("<b>not bold</b>", "&lt;b&gt;not bold&lt;/b&gt;"),
    ("R&D", "R&amp;D"),
    ("x &amp; y", "x &amp;amp; y"),
])
def test_inline_escapes_markup_characters(text: str, markup: str) -> None:
    """A bare '<', '>' or '&' (even one that looks like a tag or an entity) is escaped, never markup."""
    assert inline(text) == markup


@pytest.mark.parametrize("text", ["Revenue < USD 5 bn & rising", "<b>tag</b> & <i>more</i>", "a &lt; b"])
def test_escaped_text_renders_literally(text: str) -> None:
    """Content with '<' and '&' comes out of ReportLab exactly as typed."""
    assert rendered_text(inline(text)) == text


# ---------------------------------------------------------------------------- emphasis

@pytest.mark.parametrize("text, markup", [
    ("**bold** and *italic*", "<b>bold</b> and <i>italic</i>"),
    ("(*see*) the **2027** size", "(<i>see</i>) the <b>2027</b> size"),
    ("**bold with *italic* inside**", "<b>bold with <i>italic</i> inside</b>"),
    ("**a < b**", "<b>a &lt; b</b>"),
    ("a *b\nc* d", "a <i>b c</i> d"),
])
def test_inline_turns_stars_into_bold_and_italic(text: str, markup: str) -> None:
    """'**x**' becomes <b>, '*x*' becomes <i>, after escaping; line breaks collapse to spaces."""
    assert inline(text) == markup


@pytest.mark.parametrize("text", ["2 * 3 * 4", "*not closed", "snake_*case*_name", "a ** b", "5*"])
def test_stray_stars_stay_literal(text: str) -> None:
    """Stars that do not wrap a word (arithmetic, unclosed, inside identifiers) are left as typed."""
    assert inline(text) == " ".join(text.split())


@pytest.mark.parametrize("text", [
    "**bold** and *italic*",
    "**bold with *italic* inside**",
    "*italic with **bold** inside*",
    "***bold italic***",
])
def test_inline_markup_is_well_formed_for_reportlab(text: str) -> None:
    """Whatever emphasis the content uses, ReportLab accepts the markup and shows the words."""
    words = text.replace("*", "")
    assert rendered_text(inline(text)) == words


# ---------------------------------------------------------------------------- blocks

def test_blank_lines_separate_paragraphs_and_lines_join() -> None:
    """Lines of one paragraph join with a space; a blank line starts a new paragraph."""
    assert blocks("First line\nsecond line.\n\n  Next   paragraph.\n") == [
        Para("First line second line."), Para("Next paragraph.")]


def test_dash_lines_are_bullets_with_indented_continuations() -> None:
    """'- ' lines are bullet items; indented lines continue the item above; emphasis works inside."""
    text = "Intro:\n- **One** item\n  continued here\n- Two & three\nAfter the list."
    assert blocks(text) == [Para("Intro:"), Bullets(["<b>One</b> item continued here", "Two &amp; three"]),
                            Para("After the list.")]


def test_a_leading_minus_without_space_is_not_a_bullet() -> None:
    """'-5%' at the start of a line is text, not a bullet."""
    assert blocks("-5% in 2024") == [Para("-5% in 2024")]


def test_empty_text_gives_no_blocks() -> None:
    """Whitespace-only prose produces nothing to lay out."""
    assert blocks("  \n\n ") == []


# ---------------------------------------------------------------------------- filters

@pytest.mark.parametrize("unit, value, args, expected", [
    ("million", 4198.1, (), "USD 4.2 billion"),
    ("million", 5000, (), "USD 5.0 billion"),
    ("million", 950, (), "USD 950.0 million"),
    ("million", 4198.1, (2,), "USD 4.20 billion"),
    ("million", 1234567, (), "USD 1.2 trillion"),
    ("million", 0.421, (), "USD 421.0 thousand"),
    ("thousand", 4198, (), "USD 4.2 million"),
    ("billion", 2.84, (2,), "USD 2.84 billion"),
    ("billion", 1.5, (), "USD 1.5 billion"),
    ("billion", 0.25, (0,), "USD 250 million"),
    ("million", 999.96, (), "USD 1.0 billion"),
])
def test_money_filter(unit: str, value: float, args: tuple[int, ...], expected: str) -> None:
    """money writes a value held in the report unit in the unit that reads best (at least 1 of it,
    never 1,000), with one decimal unless told otherwise."""
    assert money_formatter("USD", unit)(value, *args) == expected


@pytest.mark.parametrize("value, args, expected", [
    (6.0, (), "6.0%"), (5.96, (0,), "6%"), (10.94, (), "10.9%"), (0.0, (2,), "0.00%"),
    (2.5, (0,), "3%"), (0.125, (2,), "0.13%"),
])
def test_pct_filter(value: float, args: tuple[int, ...], expected: str) -> None:
    """pct writes a percentage with one decimal by default and no space before '%', halves
    rounded away from zero (2.5 % is "3%", as readers expect)."""
    assert fmt_pct(value, *args) == expected


@pytest.mark.parametrize("value, args, expected", [
    (1234567, (), "1,234,567"), (1234.56, (1,), "1,234.6"), (1.59, (2,), "1.59"),
    (-2500, (), "\u22122,500"), (2.84, (), "2.84"), (412.6, (), "413"),
])
def test_num_filter(value: float, args: tuple[int, ...], expected: str) -> None:
    """num writes thousands separators, a true minus sign and the requested number of decimals
    (by default three significant digits)."""
    assert fmt_number(value, *args) == expected


def test_filters_are_available_in_templates() -> None:
    """The environment registers money, pct and num under those names, with the report's units."""
    env = make_env("EUR", "billion")
    out = env.from_string("{{ 1.5 | money }} / {{ 6 | pct(0) }} / {{ 1234.5 | num(1) }}").render()
    assert out == "EUR 1.5 billion / 6% / 1,234.5"


# ---------------------------------------------------------------------------- templates

def test_renderer_substitutes_placeholders() -> None:
    """A template sees the context; text without '{' is returned unchanged."""
    r = TemplateRenderer(make_env(), {"report": {"market": "PACS"}, "size": 4198.1})
    assert r.render("The {{ report.market }} market: {{ size | money }}.", HERE) == \
        "The PACS market: USD 4.2 billion."
    assert r.render("No placeholders & no braces", HERE) == "No placeholders & no braces"


def test_unknown_placeholder_is_an_error_naming_file_line_and_field() -> None:
    """An unknown name is a ContentError at the template's file, line and field, never a blank."""
    r = TemplateRenderer(make_env(), {"report": {"market": "PACS"}})
    with pytest.raises(ContentError) as info:
        r.render("The {{ report.markt }} market", HERE)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.field) == (HERE.file, HERE.line, HERE.field)
    assert "markt" in problem.message
    assert str(problem).startswith("content/x/report.yaml:40: error: sections[0].blocks[1].text: ")


def test_template_syntax_error_points_at_the_line_inside_the_text() -> None:
    """A syntax error on the third line of a text is reported two lines below the text's start."""
    r = TemplateRenderer(make_env(), {})
    with pytest.raises(ContentError) as info:
        r.render("one\ntwo\nthree {{ oops", HERE)
    (problem,) = info.value.problems
    assert problem.line == HERE.line + 2
    assert "syntax" in problem.message


def test_every_sample_template_renders_from_its_tree_exactly_as_jinja_compiles_it() -> None:
    """The renderer's tree-walking path gives, for each prose field of the sample with the real
    derived figures, the same text as Jinja2's compiled template (which it replaces)."""
    from pathlib import Path

    from pacspdf.content.load import load
    from pacspdf.derive.frames import derive
    from pacspdf.derive.model import template_context
    from pacspdf.templates.tree import Evaluator, parsed, walkable
    from pacspdf.validate.templates import template_fields

    content = load(Path(__file__).resolve().parents[2] / "content" / "pacs")
    env = make_env(content.report.currency, content.report.unit)
    context = template_context(content, derive(content))
    renderer = TemplateRenderer(env, context)
    walked = 0
    for f in template_fields(content):
        if "{" not in f.text:
            continue
        compiled = env.from_string(f.text).render(context)
        assert renderer.render(f.text, HERE) == compiled, f.path
        ast = parsed(env, f.text)[0]
        if walkable(env, ast):
            assert Evaluator(env, context).run(ast) == compiled, f.path
            walked += 1
    assert walked >= 20  # most fields take the tree-walking path


@pytest.mark.parametrize("source", [
    "{% for i in range(3) %}{{ i }}{% endfor %}",            # a global
    "{% for x in xs %}{{ loop.index }}{{ x }}{% endfor %}",  # `loop`: compiled by Jinja2
    "{{ xs[1:] | join(', ') }} {{ -n }} {{ not n }}",
    "{% if n > 1 %}big{% elif n %}one{% else %}none{% endif %}",  # a comparison: compiled
    "{{ '%.1f' | format(n) }} {{ xs | length }} {{ n | num }}",
])
def test_walked_and_compiled_templates_render_alike(source: str) -> None:
    from pacspdf.templates.tree import parsed

    env = make_env()
    context = {"xs": ["a", "b", "c"], "n": 2}
    assert TemplateRenderer(env, context).render(source, HERE) == env.from_string(source).render(context)
    parsed(env, source)  # parsing is shared and never changes what renders next
    assert TemplateRenderer(env, context).render(source, HERE) == env.from_string(source).render(context)


def test_a_failing_template_runs_once() -> None:
    """Whether the tree walker can render a template is decided before anything runs, so a
    template that fails is never run a second time by Jinja2 (calls would repeat)."""
    items = ["a", "b", "c"]
    with pytest.raises(ContentError, match="missing"):
        TemplateRenderer(make_env(), {"items": items}).render("{{ items.pop() }} {{ missing }}", HERE)
    assert items == ["a", "b"]


def test_the_first_failure_is_the_one_jinja_reports() -> None:
    """Operands are evaluated in Jinja2's order: the filtered value before the filter's arguments."""
    env = make_env()
    source = "{{ report.nope | money(other.none) }}"
    with pytest.raises(jinja2.UndefinedError) as compiled:
        env.from_string(source).render({"report": {}, "other": {}})
    with pytest.raises(ContentError) as walked:
        TemplateRenderer(env, {"report": {}, "other": {}}).render(source, HERE)
    assert compiled.value.message is not None and compiled.value.message in walked.value.problems[0].message

"""Content validation: the broken-content table, the check path's cost, and its building blocks."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from content_cases import CASES, Case
from pacspdf.content._yaml import load_located
from pacspdf.content.load import Content, load
from pacspdf.content.tables import parse_number, read_csv
from pacspdf.derive.model import template_context
from pacspdf.derive.plain import derive_plain
from pacspdf.errors import ContentError, Problem
from pacspdf.validate import (
    countries,
    line_map,
    validate,
)

REPO = Path(__file__).resolve().parents[2]


def stand_in_context(content: Content) -> dict[str, object]:
    """The template context ``pacspdf check`` renders prose against (plain derivation)."""
    return template_context(content, derive_plain(content))
OLD_PDF = b"%PDF-1.7\n% an earlier build, which a failed build must leave alone\n"


def _copy(root: Path) -> Path:
    shutil.copytree(REPO / "content" / "pacs", root / "content" / "pacs")
    shutil.copytree(REPO / "assets", root / "assets")
    return root / "content" / "pacs"


def _problems(root: Path) -> list[str]:
    """Everything check reports for ``root``/content/pacs, as printed (cwd must be ``root``)."""
    try:
        content = load("content/pacs")
    except ContentError as exc:
        return [str(p) for p in exc.problems]
    return [str(p) for p in sorted([*content.warnings, *validate(content)])]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The problems of the unmodified sample (its illustrative warnings)."""
    root = tmp_path_factory.mktemp("baseline")
    _copy(root)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        return set(_problems(root))
    finally:
        os.chdir(cwd)


@pytest.fixture
def mutated(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample with the case's mutations applied; the working directory is its root."""
    case: Case = request.param
    _copy(tmp_path)
    for mutation in case.mutations:
        mutation(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _ids(case: Case) -> str:
    return case.id


# ---------------------------------------------------------------- the table

def test_the_table_has_at_least_40_cases_with_unique_ids() -> None:
    """The broken-content table keeps at least 40 distinct cases."""
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize(("case", "mutated"), [(c, c) for c in CASES], ids=[c.id for c in CASES],
                         indirect=["mutated"])
def test_case_reports_exactly_its_problems(case: Case, mutated: Path, baseline: set[str]) -> None:
    """Each mutation yields exactly the expected problems (file, line, column, field, message)."""
    first = _problems(mutated)
    new = set(first) - baseline
    assert new == {a.render(mutated) for a in case.expected}
    # Checking again in the same process (parsed templates and read files are shared) is the same.
    assert _problems(mutated) == first


@pytest.mark.slow
@pytest.mark.parametrize(("case", "mutated"), [(c, c) for c in CASES], ids=[c.id for c in CASES],
                         indirect=["mutated"])
def test_case_through_the_cli(case: Case, mutated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """check prints each expected problem and exits 2 (--strict for warnings); build writes no PDF."""
    cli = pytest.importorskip("pacspdf.cli")
    out = mutated / "out"
    out.mkdir()
    (out / "pacs-sample.pdf").write_bytes(OLD_PDF)
    (out / "other.pdf").write_bytes(OLD_PDF)
    before = sorted(p.name for p in out.iterdir())
    expected = [a.render(mutated) for a in case.expected]

    code = cli.main(["check", "content/pacs"])
    printed = capsys.readouterr().err.splitlines()
    for line in expected:
        assert line in printed
    errors = sum(a.severity == "error" for a in case.expected)
    assert code == (2 if errors else 0)
    assert printed[-1].startswith(f"{errors} error{'s' * (errors != 1)}, ")
    if not errors and any(a.severity == "warning" for a in case.expected):
        assert cli.main(["check", "content/pacs", "--strict"]) == 2
        capsys.readouterr()
    if errors:
        assert cli.main(["build", "content/pacs"]) == 2
        assert cli.main(["build", "content/pacs", "-o", "out/other.pdf"]) == 2
        assert "no PDF written" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == before
    assert (out / "pacs-sample.pdf").read_bytes() == OLD_PDF
    assert (out / "other.pdf").read_bytes() == OLD_PDF


# ---------------------------------------------------------------- the real content

@pytest.fixture(scope="module")
def pacs() -> Content:
    return load(REPO / "content" / "pacs")


def test_pacs_has_no_errors_and_one_note_per_illustrative_source(pacs: Content) -> None:
    """The shipped PACS content validates with 0 errors; each illustrative table gives one note
    (declared, so not a warning: `check --strict` passes)."""
    problems = validate(pacs)
    assert [p for p in problems if p.is_error] == []
    illustrative = [p for p in problems if "illustrative figures" in p.message]
    sources = [pacs.report.market_size, *pacs.report.segments, pacs.report.players]
    assert len(illustrative) == sum(s.illustrative is not None for s in sources)
    assert all(p.severity == "note" for p in illustrative)
    assert [p for p in problems if p.severity == "warning"] == []


def test_problems_are_sorted_and_located(pacs: Content) -> None:
    """validate() returns problems sorted by file, line and column, each with a known severity."""
    problems = validate(pacs)
    assert problems == sorted(problems)
    assert all(p.severity in {"error", "warning", "note"} for p in problems)
    assert all(p.line > 0 for p in problems)


def test_stand_in_matches_derive(pacs: Content) -> None:
    """The pandas-free template context is made of derive's own view classes, with the same figures."""
    from pacspdf.derive.frames import derive
    from pacspdf.derive.model import PlayerView, SegmentView, SizeView

    derived = derive(pacs)
    ctx = stand_in_context(pacs)
    assert isinstance(ctx["size"], SizeView)
    assert all(isinstance(v, SegmentView) for v in ctx["segments"].values())
    assert all(isinstance(p, PlayerView) for p in ctx["players"])
    assert ctx["size"].values == derived.size.values
    assert ctx["size"].cagr == pytest.approx(derived.size.cagr)
    assert ctx["size"].growth == pytest.approx(derived.size.growth)
    for seg_id, view in derived.segments.items():
        stub = ctx["segments"][seg_id]
        assert (stub.leading.name, stub.fastest.name, stub.years) == (view.leading.name, view.fastest.name,
                                                                      view.years)
        assert stub.countries == view.countries
        for a, b in zip(stub.items, view.items, strict=True):
            assert a.name == b.name
            assert a.cagr == pytest.approx(b.cagr)
            assert a.values == pytest.approx(b.values)
            assert a.shares == pytest.approx(b.shares)
    assert [vars(p) for p in ctx["players"]] == [vars(p) for p in derived.players]
    assert vars(ctx["leader"]) == vars(derived.leader)


def test_check_path_imports_no_pandas_matplotlib_or_reportlab() -> None:
    """load() + validate() never import pandas, matplotlib or ReportLab."""
    code = ("import sys; from pacspdf.content.load import load; from pacspdf.validate import validate, "
            "heavy_modules_loaded; validate(load('content/pacs')); print(heavy_modules_loaded())")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True)
    assert run.stdout.strip() == "[]"


@pytest.mark.slow  # a second interpreter; the test above is the quick run's guard
def test_pacspdf_check_imports_no_pandas_matplotlib_reportlab_or_the_build() -> None:
    """`python -m pacspdf check` (mail preview included) never imports the drawing stack."""
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "pacspdf", "check", "content/pacs"],
                         cwd=REPO, capture_output=True, text=True, check=False)
    imported = {line.split("|")[-1].strip() for line in run.stderr.splitlines() if "|" in line}
    assert not imported & {"pandas", "matplotlib", "reportlab", "pacspdf.build"}, run.stderr[-2000:]


# ---------------------------------------------------------------- building blocks

@pytest.mark.parametrize(("yaml_text", "expected"), [
    ("text: |\n  one\n  two\n\n  four\n", [2, 3, 4, 5, 6]),
    ("text: >-\n  one\n  two\n\n  four\n", [2, 5]),
    ("text: plain one\n  and two\n", [1]),
    ('text: "quoted {{ x }}"\n', [1]),
])
def test_line_map_points_each_template_line_at_its_yaml_line(yaml_text: str, expected: list[int]) -> None:
    """line_map maps every line of a scalar's value to the YAML line it was written on."""
    located = load_located(yaml_text)
    value = located.data["text"]
    assert line_map(located.spans[("text",)], value) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("a: &x [*x]\n", "YAML error: an alias refers to a node that contains it"),
    ("a: " + "[" * 300 + "]" * 300 + "\n", "YAML error: nested more than 200 levels deep"),
    ("a: !!int twelve\n", "YAML error: 'twelve' is not a valid !!int value"),
    ("? [1, 2]\n: x\n", "YAML error: a key must be plain text, not a list or mapping"),
    ("<<: {a: 1}\n", "YAML error: merge keys ('<<') are not supported"),
])
def test_hostile_yaml_is_a_clean_error(text: str, message: str) -> None:
    """Recursive aliases, deep nesting, bad tags and complex keys become YAML errors, not crashes."""
    from pacspdf.content._yaml import YamlSyntaxError

    with pytest.raises(YamlSyntaxError) as info:
        load_located(text)
    assert str(info.value) == message


@pytest.mark.slow
def test_alias_bomb_stops_early() -> None:
    """An exponential alias expansion ('billion laughs') is refused instead of built."""
    from pacspdf.content._yaml import YamlSyntaxError

    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    with pytest.raises(YamlSyntaxError, match="document too large"):
        load_located("\n".join(lines) + "\n")


@pytest.mark.parametrize(("text", "kind", "value"), [
    ("1,234.5", "float", 1234.5), ("-2", "int", -2), (" 7 ", "int", 7), (".5", "float", 0.5),
    ("1e3", "float", 1000.0),
])
def test_parse_number_accepts_plain_numbers(text: str, kind: str, value: float) -> None:
    """Numbers with optional thousands commas, sign and exponent are read."""
    assert parse_number(text, kind) == value


@pytest.mark.parametrize(("text", "kind"), [
    ("1_000", "int"), ("٣", "int"), ("2024.0", "int"), ("inf", "float"), ("nan", "float"),
    ("1e999", "float"), ("12,34", "float"), ("40%", "float"), ("4O.0", "float"),
])
def test_parse_number_rejects_lookalikes(text: str, kind: str) -> None:
    """Underscores, non-ASCII digits, inf/nan, misplaced commas and letters are not numbers."""
    with pytest.raises(ValueError):
        parse_number(text, kind)


def test_csv_cells_know_their_columns_across_quoted_newlines(tmp_path: Path) -> None:
    """Row and cell positions stay right when a quoted field contains commas and a newline."""
    path = tmp_path / "t.csv"
    path.write_text('a,b,c\n"x, ""y""\nz",2,3\n4,5,6\n', encoding="utf-8")
    problems: list[Problem] = []
    table = read_csv(path, "t.csv", None, problems)
    assert problems == [] and table is not None
    assert [(r.line, r.columns) for r in table.rows] == [(2, {"a": 1, "b": 0, "c": 0}),
                                                         (4, {"a": 1, "b": 3, "c": 5})]
    assert table.header_columns == {"a": 1, "b": 3, "c": 5}


def test_country_list_knows_aliases_and_run_together_names() -> None:
    """The built-in country list resolves aliases and splits names that are two countries."""
    known = countries()
    assert known.canonical("korea") == "South Korea"
    assert known.canonical("UAE") == "United Arab Emirates"
    assert known.canonical("Saudi") is None
    assert known.split_into_countries("Argentina Korea") == ["Argentina", "South Korea"]
    assert known.split_into_countries("Papua New Guinea") is None  # one country, not "Guinea" + rest
    assert known.split_into_countries("Trinidad") is None


def test_shares_within_half_a_point_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Shares summing to 100.5 are accepted; 100.6 is an error (the ±0.5 tolerance)."""
    folder = _copy(tmp_path)
    monkeypatch.chdir(tmp_path)
    table = folder / "tables" / "by_type.csv"
    text = table.read_text(encoding="utf-8")
    table.write_text(text.replace("2024,38.0,62.0", "2024,38.5,62.0"), encoding="utf-8")
    assert not [p for p in validate(load("content/pacs")) if p.is_error]
    table.write_text(text.replace("2024,38.0,62.0", "2024,38.6,62.0"), encoding="utf-8")
    assert [p.message for p in validate(load("content/pacs")) if p.is_error] == [
        "shares for 2024 add up to 100.6 %, expected 100 % (±0.5)"]


def test_cagr_claim_within_a_tenth_of_a_point_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stated CAGR 0.1 pp from the series passes; 0.11 pp off is an error."""
    folder = _copy(tmp_path)
    monkeypatch.chdir(tmp_path)
    report = folder / "report.yaml"
    text = report.read_text(encoding="utf-8")
    actual = stand_in_context(load("content/pacs"))["size"].cagr
    assert math.isfinite(actual)
    report.write_text(text.replace("cagr_pct: 6.0", f"cagr_pct: {actual + 0.099:.4f}"), encoding="utf-8")
    assert not [p for p in validate(load("content/pacs")) if p.is_error]
    report.write_text(text.replace("cagr_pct: 6.0", f"cagr_pct: {actual + 0.11:.4f}"), encoding="utf-8")
    assert [p.field for p in validate(load("content/pacs")) if p.is_error] == ["claims.cagr_pct"]


def test_fast_path_renders_like_jinja(pacs: Content) -> None:
    """Templates rendered from the parse tree give exactly what Jinja2's compiled template gives."""
    from pacspdf.templates.tree import Evaluator, Unsupported
    from pacspdf.validate.templates import environment, template_fields

    env = environment(pacs.report.currency, pacs.report.unit)
    context = stand_in_context(pacs)
    evaluated = 0
    for f in template_fields(pacs):
        ast = env.parse(f.text)
        try:
            fast = Evaluator(env, context).run(ast)
        except Unsupported:
            continue
        assert fast == env.from_string(f.text).render(context), f.path
        evaluated += 1
    assert evaluated >= 10


@pytest.mark.parametrize("alt", ["", "   ", "Chart", "chart 3", "Figure 2:", "Bar chart", "stacked_bar",
                                 "market-size", "TODO", "alt text", "image.png", "Lorem ipsum dolor",
                                 "Global market size, 2024–2032", "Rising bars."])
def test_alt_texts_a_tool_would_write_are_refused(alt: str) -> None:
    """Empty, placeholder, id, kind, file name, the title again, or a few words: all refused."""
    from pacspdf.validate.alt import alt_problem

    assert alt_problem(alt, "Global market size, 2024–2032", "market-size", "stacked_bar") is not None


def test_a_written_alt_text_passes() -> None:
    """A sentence saying what the chart shows is accepted, templates included."""
    from pacspdf.validate.alt import alt_problem

    alt = "Bars rise every year from {{ size.at(2024) | money }} to {{ size.at(2032) | money }}."
    assert alt_problem(alt, "Global market size, 2024–2032", "market-size", "bar") is None

"""Property tests: whatever bytes sit in a report's files, loading gives a model or clean errors.

Each example writes random or randomly mutated YAML / CSV into a copy of content/pacs and
runs load() and, when that succeeds, validate(). Either may report problems; neither may
raise anything but ContentError. Set PACSPDF_FUZZ_EXAMPLES to run more examples.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pacspdf.content.load import load
from pacspdf.content.model import Report
from pacspdf.content.schema import field_names
from pacspdf.errors import ContentError, Problem
from pacspdf.validate import validate
from selection import examples

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("PACSPDF_FUZZ_EXAMPLES", examples(40)))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
TABLES = ("market_size.csv", "by_type.csv", "by_application.csv", "by_region.csv", "countries.csv",
          "players.csv")


class Sandbox:
    """A copy of content/pacs + assets whose files are restored before every example."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / "content" / "pacs"
        shutil.copytree(REPO / "content" / "pacs", self.folder)
        shutil.copytree(REPO / "assets", root / "assets")
        self.pristine = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}

    def reset(self) -> None:
        for path, data in self.pristine.items():
            path.write_bytes(data)

    def file(self, relative: str) -> Path:
        return self.root / relative

    def check(self) -> None:
        """load() then validate(): a model or ContentError, and problems that are well formed."""
        try:
            content = load(self.folder)
        except ContentError as exc:
            assert exc.problems, "a ContentError must list at least one problem"
            problems = exc.problems
        else:
            problems = validate(content)
        for p in problems:
            assert isinstance(p, Problem)
            assert p.severity in {"error", "warning", "note"}
            assert p.line >= 0 and p.column >= 0
            assert "\n" not in p.message, p
            str(p)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with tempfile.TemporaryDirectory() as tmp:
        yield Sandbox(Path(tmp))


# ---------------------------------------------------------------- strategies

FIELD_NAMES = sorted(set(field_names(Report)) | {"id", "name", "file", "items", "blocks", "text", "years",
                                                  "data", "title", "kind", "start", "end", "source"})
keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**12),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
                    st.sampled_from(["{{ report.market }}", "{{ size.at(1900) }}", "{% for %}", "<b>&",
                                     "segment:type", "market_size", "tables/by_type.csv", "2024"]))
documents = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                          st.dictionaries(keys, inner, max_size=6)),
                         max_leaves=40)


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@st.composite
def mutated_text(draw: st.DrawFn, original: str) -> str:
    """``original`` with a few random edits: lines deleted, duplicated or swapped, text spliced in."""
    lines = original.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "splice", "indent", "dedent"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "splice":
            at = draw(st.integers(0, len(lines[i])))
            noise = draw(st.one_of(st.text(max_size=6), st.sampled_from(
                [":", "- ", "{{", "}}", "{%", "'", '"', ",", "&a ", "*a", "!!int ", "\t", "\\"])))
            lines[i] = lines[i][:at] + noise + lines[i][at:]
        elif op == "indent":
            lines[i] = " " + lines[i]
        else:
            lines[i] = lines[i][1:]
    return "\n".join(lines)


cells = st.one_of(st.integers(-5, 3000).map(str), st.integers(-10**15, 10**15).map(str),
                  st.floats(-1e3, 1e4).map(lambda f: f"{f:.1f}"),
                  st.text(max_size=8), st.sampled_from(["", '"', '""', ",", "\n", "1,000", "4O.0",
                                                        "2024", "North America", "Saudi", "Arabia"]))
csv_text = st.lists(st.lists(cells, min_size=0, max_size=7), max_size=12).map(
    lambda rows: "\n".join(",".join(r) for r in rows))


# ---------------------------------------------------------------- properties

@FUZZ
@given(data=documents)
def test_random_yaml_document_as_report(sandbox: Sandbox, data: Any) -> None:
    """Any YAML document as report.yaml gives a model or ContentError, never another exception."""
    sandbox.reset()
    sandbox.file("content/pacs/report.yaml").write_text(_dump(data), encoding="utf-8")
    sandbox.check()


@FUZZ
@given(text=st.text(max_size=300))
def test_random_text_as_report(sandbox: Sandbox, text: str) -> None:
    """Arbitrary text (mostly invalid YAML) as report.yaml never crashes the loader."""
    sandbox.reset()
    sandbox.file("content/pacs/report.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
    sandbox.check()


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_mutated_report_and_brand(sandbox: Sandbox, data: st.DataObject) -> None:
    """The real report.yaml or brand.yaml with random edits gives a model or clean errors."""
    sandbox.reset()
    name = data.draw(st.sampled_from(["content/pacs/report.yaml", "assets/brand.yaml"]))
    path = sandbox.file(name)
    path.write_text(data.draw(mutated_text(path.read_text(encoding="utf-8"))), encoding="utf-8",
                    errors="surrogatepass")
    sandbox.check()


@FUZZ
@given(table=st.sampled_from(TABLES), raw=st.binary(max_size=400))
def test_random_csv_bytes(sandbox: Sandbox, table: str, raw: bytes) -> None:
    """Random bytes in any CSV table give clean content errors, never an exception."""
    sandbox.reset()
    sandbox.file(f"content/pacs/tables/{table}").write_bytes(raw)
    sandbox.check()


@pytest.mark.slow
@FUZZ
@given(data=st.data(), table=st.sampled_from(TABLES))
def test_random_csv_rows(sandbox: Sandbox, data: st.DataObject, table: str) -> None:
    """CSV-shaped random text, with the table's own header or rows appended, is handled cleanly."""
    sandbox.reset()
    path = sandbox.file(f"content/pacs/tables/{table}")
    original = path.read_text(encoding="utf-8")
    body = data.draw(csv_text)
    mode = data.draw(st.sampled_from(["replace", "keep-header", "append", "mutate"]))
    if mode == "replace":
        text = body
    elif mode == "keep-header":
        text = original.split("\n", 1)[0] + "\n" + body
    elif mode == "append":
        text = original + body
    else:
        text = data.draw(mutated_text(original))
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    sandbox.check()

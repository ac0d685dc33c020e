"""The package's imports, read with ``ast``: no cycle, and every import points down the pipeline."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "pacspdf"

#: The pipeline, bottom first. A module may import its own layer or any layer before it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("pacspdf", "pacspdf.errors", "pacspdf.write", "pacspdf.runtime", "pacspdf.reportlab_surface"),
    ("pacspdf.content",),
    ("pacspdf.templates",),
    ("pacspdf.derive",),
    ("pacspdf.validate",),
    ("pacspdf.charts",),
    ("pacspdf.document",),
    ("pacspdf.build",),
    ("pacspdf.catalogue",),
    ("pacspdf.delivery",),
    ("pacspdf.buildqueue",),  # catalogue builds as jobs in the PostgreSQL store (issue 15)
    ("pacspdf.web",),
    ("pacspdf.cli", "pacspdf.__main__"),
)

#: Upward imports still waiting for a fix (none left): each entry must still exist, so the
#: set only shrinks.
PENDING_UP: set[tuple[str, str]] = set()
#: Import cycles still waiting for a fix (none left).
PENDING_CYCLES: set[frozenset[str]] = set()


def _name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_name(p): p for p in SRC.rglob("*.py")}


@functools.cache
def _nodes(path: Path) -> tuple[ast.AST, ...]:
    """Every node of the file's syntax tree, parsed once for all the tests here."""
    return tuple(ast.walk(ast.parse(path.read_text(encoding="utf-8"))))


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """pacspdf modules ``path`` imports, anywhere in the file (lazy imports included)."""
    found: set[str] = set()
    for node in _nodes(path):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name in modules:
                found.add(name)
    found.discard(_name(path))
    return found


def _layer(module: str) -> int:
    best = -1, -1  # (length of the matching prefix, layer)
    for index, layer in enumerate(LAYERS):
        for prefix in layer:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best[0]:
                best = len(prefix), index
    if best[1] < 0:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS")
    return best[1]


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) for name, path in modules.items()}


def upward_imports(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    # The package root is the lazy public API facade: it stands above everything it re-exports.
    return {(a, b) for a, targets in graph.items() if a != "pacspdf"
            for b in targets if _layer(b) > _layer(a)}


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: set[frozenset[str]] = set()

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.add(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_every_module_is_in_a_layer() -> None:
    for name in _modules():
        _layer(name)


def test_no_import_points_up_the_pipeline() -> None:
    assert upward_imports(_graph()) == PENDING_UP


def test_no_import_cycle() -> None:
    graph = _graph()
    graph.pop("pacspdf", None)  # the facade imports lazily, on attribute access
    assert cycles(graph) == PENDING_CYCLES


@pytest.mark.parametrize(("graph", "expected"), [
    ({"a": {"b"}, "b": {"a"}}, {frozenset({"a", "b"})}),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, {frozenset({"a", "b", "c"})}),
    ({"a": {"b"}, "b": set()}, set()),
])
def test_the_cycle_finder_finds_cycles(graph: dict[str, set[str]], expected: set[frozenset[str]]) -> None:
    assert cycles(graph) == expected


def test_an_upward_import_is_caught() -> None:
    assert upward_imports({"pacspdf.content.load": {"pacspdf.build"}}) == {
        ("pacspdf.content.load", "pacspdf.build")}


#: Modules outside cli/ allowed to name the process's streams, and why (never to write to them).
STREAM_USERS = {"pacspdf.catalogue"}  # a worker flushes both before os._exit, writing nothing


def stream_users(modules: dict[str, Path]) -> set[str]:
    """Modules outside ``pacspdf.cli`` that name ``sys.stdout`` or ``sys.stderr`` (ruff T20 sees
    only ``print``; a ``sys.stdout.write`` would slip past it)."""
    found = set()
    for name, path in modules.items():
        if name == "pacspdf.cli" or name.startswith("pacspdf.cli.") or name == "pacspdf.__main__":
            continue
        for node in _nodes(path):
            if (isinstance(node, ast.Attribute) and node.attr in {"stdout", "stderr", "__stdout__",
                                                                  "__stderr__"}
                    and isinstance(node.value, ast.Name) and node.value.id == "sys"):
                found.add(name)
    return found


def test_only_the_cli_touches_stdout_and_stderr() -> None:
    assert stream_users(_modules()) == STREAM_USERS


def test_a_stream_write_outside_the_cli_is_caught(tmp_path: Path) -> None:
    module = tmp_path / "chatty.py"
    module.write_text("import sys\n\ndef f() -> None:\n    sys.stdout.write('x')\n", encoding="utf-8")
    assert stream_users({"pacspdf.delivery.chatty": module}) == {"pacspdf.delivery.chatty"}

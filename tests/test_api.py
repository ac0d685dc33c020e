"""The public API in pacspdf/__init__.py: a small __all__, imported lazily."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pacspdf

REPO = Path(__file__).resolve().parents[1]


def test_all_is_the_small_public_api() -> None:
    assert set(pacspdf.__all__) == {"build", "check", "load", "make_copy", "BaseArtifact", "Recipient",
                                    "BuildResult", "Problem", "PacspdfError", "ContentError",
                                    "UsageError", "BuildError", "__version__"}
    for name in pacspdf.__all__:
        assert getattr(pacspdf, name) is not None
    with pytest.raises(AttributeError):
        _ = pacspdf.no_such_name  # type: ignore[attr-defined]


def test_importing_the_package_loads_no_stage() -> None:
    code = ("import sys, pacspdf; print(sorted(m for m in sys.modules if m.startswith(('pacspdf.', "
            "'reportlab', 'pandas', 'matplotlib', 'jinja2', 'yaml'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


def test_error_types_are_one_tree() -> None:
    for name in ("ContentError", "UsageError", "BuildError"):
        assert issubclass(getattr(pacspdf, name), pacspdf.PacspdfError)


def test_check_and_load() -> None:
    content, problems = pacspdf.check(REPO / "content" / "pacs")
    assert content is not None and not [p for p in problems if p.is_error]
    assert pacspdf.load(REPO / "content" / "pacs").report.slug == content.report.slug


def test_build_and_make_copy(tmp_path: Path, sample_pdf: Any) -> None:
    """pacspdf.build is callable whether or not the pacspdf.build module was imported first."""
    import pacspdf.build as module

    assert pacspdf.build is module  # the import system binds the module; it is callable
    out = tmp_path / "api.pdf"
    result = pacspdf.build(REPO / "content" / "pacs", out, cache_dir=sample_pdf.cache_dir)
    assert isinstance(result, pacspdf.BuildResult)
    assert out.read_bytes() == sample_pdf.path.read_bytes()
    base = pacspdf.BaseArtifact.load(out)
    copy = pacspdf.make_copy(base, pacspdf.Recipient("Ada Lovelace", "Example Ltd", "ada@example.com"),
                             "c0ffee", "2025-04-15")
    assert copy.pdf.startswith(base.pdf) and b"c0ffee" in copy.pdf


def test_the_version_has_one_home() -> None:
    """pyproject reads the version from pacspdf.__version__ (setuptools dynamic attr)."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "pacspdf.__version__"}
    out = subprocess.run([sys.executable, "-m", "pacspdf", "--version"], capture_output=True, text=True,
                         check=True, cwd=REPO)
    assert out.stdout.strip() == f"pacspdf {pacspdf.__version__}"

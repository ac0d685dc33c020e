"""Catalogue builds as jobs on PostgreSQL: keyed by content hash, built once, by any worker."""

from __future__ import annotations

import shutil
from pathlib import Path

import pypdf
import pytest

from conftest import copy_content
from pacspdf import buildqueue
from pacspdf.cli import main
from pg_server import PgServer


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two reports with their own slugs under one content/ folder."""
    root = tmp_path_factory.mktemp("queue")
    first = copy_content(root, "alpha")
    second = root / "content" / "beta"
    shutil.copytree(first, second)
    for folder in (first, second):
        text = (folder / "report.yaml").read_text()
        lines = [f"slug: {folder.name}" if ln.startswith("slug:") else ln for ln in text.splitlines()]
        if not any(ln.startswith("slug:") for ln in lines):
            lines.insert(0, f"slug: {folder.name}")
        (folder / "report.yaml").write_text("\n".join(lines) + "\n")
    return root / "content"


def test_enqueue_twice_does_no_work_and_a_change_is_one_new_job(catalogue: Path, tmp_path: Path,
                                                                 postgres: PgServer,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    url = postgres.new_database()
    out = tmp_path / "shared"
    argv = ["build", str(catalogue), "--all", "--queue", "--db", url, "-o", str(out)]
    assert main(argv) == 0
    assert capsys.readouterr().out == "2 build jobs queued, 0 unchanged (already queued or built)\n"
    assert main(["worker", "--builds", "--once", "--db", url]) == 0
    assert capsys.readouterr().out == "2 built, 0 failed\n"
    pdfs = sorted(p.name for p in out.glob("*.pdf"))
    assert pdfs == ["alpha-sample.pdf", "beta-sample.pdf"]
    assert len(pypdf.PdfReader(out / "alpha-sample.pdf").pages) > 1
    before = (out / "beta-sample.pdf").stat().st_mtime_ns

    assert main(argv) == 0                                      # unchanged content: nothing to do
    assert capsys.readouterr().out == "0 build jobs queued, 2 unchanged (already queued or built)\n"
    assert buildqueue.counts(url) == {"built": 2}

    report = catalogue / "alpha" / "report.yaml"
    original = report.read_text()
    try:
        report.write_text(original + "\n# edited\n")
        assert main(argv) == 0
        assert capsys.readouterr().out == "1 build job queued, 1 unchanged (already queued or built)\n"
        assert main(["worker", "--builds", "--once", "--db", url]) == 0
        assert capsys.readouterr().out == "1 built, 0 failed\n"
    finally:
        report.write_text(original)
    assert (out / "beta-sample.pdf").stat().st_mtime_ns == before   # the unchanged one was not rebuilt


def test_the_queue_needs_postgresql(catalogue: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("PACSPDF_DATABASE_URL", raising=False)
    assert main(["build", str(catalogue), "--all", "--queue", "--db", str(tmp_path / "x.db")]) == 2
    assert "needs PostgreSQL" in capsys.readouterr().err


def test_content_hash_follows_the_content(catalogue: Path) -> None:
    alpha, beta = catalogue / "alpha", catalogue / "beta"
    assert buildqueue.content_hash(alpha) == buildqueue.content_hash(alpha)
    assert buildqueue.content_hash(alpha) != buildqueue.content_hash(beta)    # their slugs differ

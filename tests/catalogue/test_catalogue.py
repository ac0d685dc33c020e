"""``pacspdf build --all``: many report folders on worker processes; one failure stops nothing."""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from pacspdf.catalogue import Job, Outcome, build_all, find_reports
from pacspdf.cli.catalogue import Reporter, run_all

ROOT = Path(__file__).resolve().parents[2]
Built = tuple[Path, int, str, list[Outcome]]


def _copy(dest: Path, name: str, slug: str) -> Path:
    folder = dest / "content" / name
    shutil.copytree(ROOT / "content" / "pacs", folder)
    report = folder / "report.yaml"
    text = report.read_text(encoding="utf-8")
    report.write_text(re.sub(r"(?m)^slug: .*$", f"slug: {slug}", text, count=1), encoding="utf-8")
    if not (dest / "assets").exists():
        shutil.copytree(ROOT / "assets", dest / "assets")
    return folder


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory, sample_pdf: Any) -> Built:
    """Three good copies and one whose report.yaml has a type error, built on 2 workers (their
    charts read from a copy of the session build's cache: the workers, not drawing, are tested)."""
    tmp = tmp_path_factory.mktemp("catalogue")
    shutil.copytree(sample_pdf.cache_dir / "charts", tmp / "chart-cache" / "charts")
    for i in range(3):
        _copy(tmp, f"report-{i}", f"report-{i}")
    broken = _copy(tmp, "broken", "broken")
    yaml = broken / "report.yaml"
    yaml.write_text(re.sub(r"(?m)^base_year: .*$", "base_year: twenty-twenty-four",
                           yaml.read_text(encoding="utf-8")), encoding="utf-8")
    out = io.StringIO()
    result = build_all(tmp / "content", jobs=2, out_dir=tmp / "out", listener=Reporter(out),
                       cache_dir=tmp / "chart-cache")
    assert result is not None
    return tmp, result.exit_code, out.getvalue(), result.outcomes


@pytest.mark.slow
def test_good_reports_are_built_despite_a_broken_one(catalogue: Built) -> None:
    tmp, code, _text, outcomes = catalogue
    assert code == 1
    for i in range(3):
        pdf = tmp / "out" / f"report-{i}-sample.pdf"
        assert pdf.read_bytes().startswith(b"%PDF-")
    assert not (tmp / "out" / "broken-sample.pdf").exists()
    assert sorted(o.ok for o in outcomes) == [False, True, True, True]


@pytest.mark.slow  # the module's pool: two spawned interpreters and four builds (~6 s of CPU)
def test_summary_names_the_failure_with_its_one_line_error(catalogue: Built) -> None:
    _tmp, _code, text, _outcomes = catalogue
    summary = text[text.index("built 3 of 4 reports"):]
    assert "1 failed:" in summary
    failure = [ln for ln in summary.splitlines() if "broken" in ln]
    assert len(failure) == 1
    assert re.search(r"broken/report\.yaml:\d+:\d+: error: base_year", failure[0])
    # piped output is plain text: one line per report, no terminal control codes
    assert "\x1b" not in text
    assert len(re.findall(r"(?m)^\[\d/4\] (ok|FAILED) ", text)) == 4


@pytest.mark.slow  # the module's pool: two spawned interpreters and four builds (~6 s of CPU)
def test_workers_are_reused_across_reports(catalogue: Built) -> None:
    """Each worker imports the stack once and builds several reports (at most 2 processes)."""
    _tmp, _code, _text, outcomes = catalogue
    pids = {o.worker for o in outcomes}
    assert 1 <= len(pids) <= 2


def test_no_reports_under_root_is_exit_2(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_all(tmp_path, 2, None, stream=out) == 2
    assert "no report folders" in out.getvalue()
    assert find_reports(tmp_path / "missing") == []


def test_negative_jobs_is_a_usage_error(tmp_path: Path) -> None:
    from pacspdf.errors import UsageError

    with pytest.raises(UsageError):
        run_all(tmp_path, -1, None, stream=io.StringIO())


def _crash_or_pass(folder: str, output: str | None, label: str, cache_dir: str | None) -> Outcome:
    """A stand-in build for the worker: the report labelled 'crash' kills its process outright."""
    if "crash" in label:
        os._exit(3)
    return Outcome(label, True, path=str(output), worker=os.getpid())


@pytest.mark.slow
def test_a_dying_worker_takes_only_its_own_report_down(monkeypatch: pytest.MonkeyPatch) -> None:
    from pacspdf import catalogue

    def submit(pool: Any, job: Job, cache_dir: Path | None) -> Any:
        return pool.submit(_crash_or_pass, str(job.folder), str(job.output), job.label, None)

    monkeypatch.setattr(catalogue, "_submit", submit)
    jobs = [Job(Path(f"r{i}"), Path(f"o{i}"), "crash" if i == 2 else f"r{i}") for i in range(5)]
    out = io.StringIO()
    reporter = Reporter(out, fancy=False)
    reporter.start(len(jobs), 2)
    try:
        outcomes = catalogue.build_jobs(jobs, 2, reporter)
    finally:
        reporter.stop()
    assert sorted((o.label, o.ok) for o in outcomes) == [
        ("crash", False), ("r0", True), ("r1", True), ("r3", True), ("r4", True)]
    assert "FAILED crash: the worker process building it died" in out.getvalue()


def test_the_library_itself_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """build_all without a listener is silent (only pacspdf.cli prints); None when nothing to build."""
    assert build_all(tmp_path) is None
    assert capsys.readouterr() == ("", "")

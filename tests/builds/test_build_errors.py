"""Bad content and failed writes: one clean line per problem, exit code 2, the old PDF kept.

Expected values come from the content (report.yaml, the CSV tables, brand.yaml), never from
the code that built the PDF."""

from __future__ import annotations

import errno
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pacspdf.cli import main
from pdf_reading import (
    CONTENT,
    REPORT,
    warm_cache,
)

# ---------------------------------------------------------------------------- errors

PROBLEM = re.compile(r"^(?P<file>[^:\s][^:]*?)(?::(?P<line>\d+)(?::\d+)?)?: (?P<sev>error|warning): "
                     r"(?:(?P<field>[^:]+): )?(?P<msg>.+)$")
SUMMARY = re.compile(r"^\d+ errors?, \d+ warnings?(, \d+ notes?)?; no PDF written$")


def _edit(path: Path, old: str, new: str) -> int:
    """Replace the one occurrence of ``old``; the 1-based line where it was."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def _line_of(path: Path, fragment: str) -> int:
    text = path.read_text(encoding="utf-8")
    return text[: text.index(fragment)].count("\n") + 1


@dataclass(frozen=True)
class Case:
    """A content fault and the problem line it must produce."""

    id: str
    break_content: Callable[[Path], tuple[int, ...]]  # mutates the folder; accepted line numbers
    file: str                                         # path of the file, relative to the folder
    field: str | None
    message: str                                      # a fragment of the message


def _missing_report(folder: Path) -> tuple[int, ...]:
    (folder / "report.yaml").unlink()
    return (0,)


def _yaml_syntax(folder: Path) -> tuple[int, ...]:
    line = _edit(folder / "report.yaml", f"market: {REPORT['market']}\n", f"market: {REPORT['market']}: x\n")
    return (line,)


def _missing_field(folder: Path) -> tuple[int, ...]:
    _edit(folder / "report.yaml", f"code: {REPORT['code']}\n", "")
    return tuple(range(1, 12))


def _mistyped_field(folder: Path) -> tuple[int, ...]:
    return (_edit(folder / "report.yaml", "\nshort_title:", "\nshort_titel:") + 1,)


def _wrong_type(folder: Path) -> tuple[int, ...]:
    line = _edit(folder / "report.yaml", f"\nbase_year: {REPORT['base_year']}\n", "\nbase_year: twenty\n")
    return (line + 1,)


def _unknown_placeholder(folder: Path) -> tuple[int, ...]:
    path = folder / "report.yaml"
    line = _edit(path, PLACEHOLDER, PLACEHOLDER.replace("leading", "leeding"))
    block = path.read_text(encoding="utf-8").splitlines()[:line]
    text_line = max(i for i, ln in enumerate(block, start=1) if ln.strip().startswith("- text:"))
    return tuple(range(text_line, line + 1))


def _bad_number(folder: Path) -> tuple[int, ...]:
    path = folder / "tables" / "by_type.csv"
    rows = path.read_text(encoding="utf-8").splitlines()
    year, _first, rest = rows[3].split(",", 2)
    path.write_text("\n".join([*rows[:3], f"{year},4x.2,{rest}", *rows[4:]]) + "\n", encoding="utf-8")
    return (4,)


PLACEHOLDER = "{{ segments.region.leading.name }} leads"
PLACEHOLDER_FIELD = next(f"sections[{i}].blocks[{j}].text" for i, sec in enumerate(REPORT["sections"])
                         for j, block in enumerate(sec.get("blocks") or [])
                         if PLACEHOLDER in (block.get("text") or ""))

CASES = [
    Case("missing-report", _missing_report, "report.yaml", None, "not found"),
    Case("yaml-syntax", _yaml_syntax, "report.yaml", None, "YAML"),
    Case("missing-field", _missing_field, "report.yaml", "code", "required"),
    Case("mistyped-field", _mistyped_field, "report.yaml", "short_titel", "did you mean 'short_title'"),
    Case("wrong-type", _wrong_type, "report.yaml", "base_year", "expected a whole number"),
    Case("unknown-placeholder", _unknown_placeholder, "report.yaml", PLACEHOLDER_FIELD, "leeding"),
    Case("bad-number", _bad_number, "tables/by_type.csv", "Cloud-based PACS", "not a number"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_content_ends_with_one_clean_line_per_problem(
        case: Case, tmp_path: Path, content_copy: Callable[..., Path], sample_pdf: Any,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Bad content exits 2 with one line per problem naming file, line and field (no traceback),
    and writes no PDF."""
    folder = content_copy()
    lines_ok = case.break_content(folder)
    warm_cache(tmp_path, sample_pdf)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out" / "x.pdf"
    assert main(["build", "content/pacs", "-o", str(out)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert captured.out == ""
    err = captured.err.splitlines()
    assert err and SUMMARY.match(err[-1]), err
    problems = [PROBLEM.match(ln) for ln in err[:-1]]
    assert all(problems), f"lines that are not one problem each: {err}"
    errors = [m for m in problems if m and m["sev"] == "error"]
    wanted = [m for m in errors if m["file"] == f"content/pacs/{case.file}"
              and (case.field is None or m["field"] == case.field)
              and case.message in (m["msg"] if case.field else m[0].split(": error: ", 1)[1])]
    assert wanted, f"no error for {case.file} / {case.field} / {case.message!r}: {err}"
    got = int(wanted[0]["line"] or 0)
    assert got in lines_ok, f"line {got}, expected one of {lines_ok}"
    assert not out.exists() and not (tmp_path / "out").exists()


def test_failed_build_leaves_the_previous_pdf_untouched(
        tmp_path: Path, content_copy: Callable[..., Path], sample_pdf: Any,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A build that fails late (an unknown placeholder found while composing) exits 2 with one
    problem line, keeps the old PDF byte-identical and leaves no partial or stray file."""
    folder = content_copy()
    _unknown_placeholder(folder)
    warm_cache(tmp_path, sample_pdf)
    out_dir = tmp_path / "published"
    out_dir.mkdir()
    old = out_dir / "pacs-sample.pdf"
    shutil.copyfile(sample_pdf.path, old)
    before = old.read_bytes()
    monkeypatch.chdir(tmp_path)
    assert main(["build", "content/pacs", "-o", str(old)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    errors = [ln for ln in captured.err.splitlines() if ": error: " in ln]
    assert len(errors) == 1 and errors[0].startswith("content/pacs/report.yaml:"), errors
    assert old.read_bytes() == before
    assert [p.name for p in out_dir.iterdir()] == ["pacs-sample.pdf"]


def test_failed_write_leaves_the_previous_pdf_untouched(
        tmp_path: Path, sample_pdf: Any, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """When writing the new PDF fails (an I/O error before the rename) the CLI exits 2 with one
    line, the old PDF is unchanged and no *.part file is left."""
    import pacspdf.write

    out_dir = tmp_path / "published"
    out_dir.mkdir()
    old = out_dir / "pacs-sample.pdf"
    old.write_bytes(b"%PDF-1.4 previous edition\n")
    warm_cache(tmp_path, sample_pdf)

    def broken_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(pacspdf.write.os, "fsync", broken_fsync)
    monkeypatch.chdir(tmp_path)
    assert main(["build", str(CONTENT), "-o", str(old)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert len(captured.err.strip().splitlines()) == 1 and "cannot write" in captured.err
    assert old.read_bytes() == b"%PDF-1.4 previous edition\n"
    assert [p.name for p in out_dir.iterdir()] == ["pacs-sample.pdf"]

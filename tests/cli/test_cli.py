"""The command line: help, usage errors, check's summary and --strict, build's report line."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pacspdf import cli
from pdf_reading import warm_cache

ROOT = Path(__file__).resolve().parents[2]


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    """--help exits 0 and names build, check, send and outbox."""
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("build", "check", "send", "outbox"):
        assert command in out


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown command exits 2 with argparse's one-line error, no traceback."""
    with pytest.raises(SystemExit) as info:
        cli.main(["publish"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice" in err and "Traceback" not in err


def test_check_summarises_and_passes_on_the_sample(capsys: pytest.CaptureFixture[str]) -> None:
    """check on the PACS content exits 0 and ends with an 'N errors, M warnings' summary that
    says the layout is left to build."""
    assert cli.main(["check", "content/pacs"]) == 0
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert re.fullmatch(r"0 errors, \d+ warnings?(, \d+ notes?)?; layout not checked "
                        r"\(check --layout, or build, lays it out\)", last), last


def test_strict_fails_on_warnings_but_not_on_notes(content_copy: Callable[..., Path],
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """--strict turns warnings into failure; notes (declared illustrative figures, an '&' shown
    literally) alone do not fail."""
    folder = content_copy()
    monkeypatch.chdir(folder.parent.parent)
    assert cli.main(["check", "content/pacs", "--strict"]) == 0  # illustrative figures are notes
    report = folder / "report.yaml"
    text = report.read_text(encoding="utf-8")
    text = text.replace("**Demand for efficient imaging.**", "**Demand for efficient imaging & reads.**", 1)
    report.write_text(text, encoding="utf-8")
    capsys.readouterr()
    code = cli.main(["check", "content/pacs", "--strict"])
    err = capsys.readouterr().err
    assert "warning:" not in err, err
    assert ": note: " in err and "0 warnings, 6 notes" in err, err
    assert code == 0, err
    countries = folder / "tables" / "countries.csv"
    countries.write_text(countries.read_text(encoding="utf-8") + "Europe,Germnay\n", encoding="utf-8")
    assert cli.main(["check", "content/pacs", "--strict"]) == 2  # a real warning fails the gate
    assert 'warning: country: "Germnay" is not a known country name' in capsys.readouterr().err


def test_build_prints_path_pages_size_and_time(content_copy: Callable[..., Path],
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str], sample_pdf: Any) -> None:
    """build writes out/<slug>-sample.pdf and prints its path, page count, size and time."""
    folder = content_copy()
    warm_cache(folder.parent.parent, sample_pdf)  # the charts are read, not drawn
    monkeypatch.chdir(folder.parent.parent)
    assert cli.main(["build", "content/pacs", "-q"]) == 0
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(r"out/pacs-sample\.pdf: \d+ pages, \d+ KB, \d+\.\d\d s", line), line
    assert Path("out/pacs-sample.pdf").is_file()


@pytest.mark.slow
def test_build_pdfa_switch_and_brand_default(content_copy: Callable[..., Path],
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """--pdfa none drops the PDF/A claim; without it the brand's pdfa (here 3b) is used; a wrong
    value is a usage error."""
    folder = content_copy()
    monkeypatch.chdir(folder.parent.parent)
    assert cli.main(["build", "content/pacs", "-q", "--pdfa", "none", "-o", "out/none.pdf"]) == 0
    assert b"pdfaid:part" not in Path("out/none.pdf").read_bytes()
    brand = Path("assets/brand.yaml")
    text = re.sub(r"(?m)^pdfa:.*\n", "", brand.read_text(encoding="utf-8"))
    brand.write_text(text + "\npdfa: 3b\n", encoding="utf-8")
    assert cli.main(["build", "content/pacs", "-q", "-o", "out/3b.pdf"]) == 0
    assert b"<pdfaid:part>3</pdfaid:part>" in Path("out/3b.pdf").read_bytes()
    with pytest.raises(SystemExit) as exc:
        cli.main(["build", "content/pacs", "--pdfa", "1b"])
    assert exc.value.code == 2
    capsys.readouterr()


def test_python_dash_m_matches_the_entry_point() -> None:
    """`python -m pacspdf --version` runs the same program as the console script."""
    done = subprocess.run([sys.executable, "-m", "pacspdf", "--version"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0
    assert done.stdout.startswith("pacspdf ")


@pytest.mark.slow
def test_only_an_interpreter_pacspdf_owns_has_its_collector_tuned() -> None:
    """The CLI raises the garbage collector's thresholds (a cold build spent ~0.2 s in it);
    importing pacspdf as a library leaves the host program's settings alone."""
    from pacspdf.runtime import GC_THRESHOLDS

    code = ("import gc, sys; from pacspdf.cli import main; main(['check', 'content/pacs']); "
            "print(gc.get_threshold(), file=sys.stdout)")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert run.stdout.strip() == str(GC_THRESHOLDS), run.stderr[-500:]
    code = "import gc; before = gc.get_threshold(); import pacspdf.build; print(gc.get_threshold() == before)"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert run.stdout.strip() == "True", run.stderr[-500:]

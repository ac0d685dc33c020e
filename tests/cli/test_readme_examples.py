"""Every README example that shows output is run, and prints what the README says.

An example is a ```text block whose lines starting with "$ pacspdf" are commands; the lines
after each command are its output (stderr, then stdout). The commands of one block run in
order in a fresh copy of content/ and assets/. Timings and sizes ("2.21 s", "120 KB") vary
and are compared as numbers of any value.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest

from pacspdf.cli import main
from pdf_reading import warm_cache

REPO = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```text\n(\$ pacspdf.*?)```", re.S)
VARIES = re.compile(r"\b\d+(?:\.\d+)? (s|KB)\b")


def _examples() -> list[list[tuple[str, list[str]]]]:
    blocks = []
    for body in BLOCK.findall((REPO / "README.md").read_text(encoding="utf-8")):
        steps: list[tuple[str, list[str]]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
        blocks.append(steps)
    return blocks


EXAMPLES = _examples()


def _same(expected: list[str], actual: list[str]) -> bool:
    norm = [VARIES.sub(r"N \1", line.rstrip()) for line in expected]
    return norm == [VARIES.sub(r"N \1", line.rstrip()) for line in actual]


def test_the_readme_has_examples_with_output() -> None:
    assert len(EXAMPLES) >= 3
    assert all(any(out for _cmd, out in steps) for steps in EXAMPLES)


@pytest.mark.parametrize("steps", EXAMPLES, ids=[s[0][0] for s in EXAMPLES])
def test_readme_example_prints_what_the_readme_shows(
        steps: list[tuple[str, list[str]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], sample_pdf: Any) -> None:
    shutil.copytree(REPO / "content", tmp_path / "content")
    shutil.copytree(REPO / "assets", tmp_path / "assets")
    warm_cache(tmp_path, sample_pdf)  # a build reads the session build's charts instead of drawing them
    monkeypatch.chdir(tmp_path)
    for command, expected in steps:
        argv = shlex.split(command)[1:]
        main(argv)
        captured = capsys.readouterr()
        actual = (captured.err + captured.out).splitlines()
        assert _same(expected, actual), f"$ {command}\n" + "\n".join(actual)

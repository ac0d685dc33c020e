"""Shared parts of the checks: a Reporter turning (YAML path or CSV cell, message) into Problems."""

from __future__ import annotations

from dataclasses import dataclass, field

from pacspdf.content._yaml import Located, Path_, Span
from pacspdf.content.load import Content, field_path
from pacspdf.content.tables import CsvTable
from pacspdf.errors import Problem

#: Segment shares of one year must add up to 100 within this many percentage points.
SHARE_TOLERANCE = 0.5
#: A stated CAGR must match the series within this many percentage points.
CAGR_TOLERANCE = 0.1
ERROR, WARNING, NOTE = "error", "warning", "note"


# ---------------------------------------------------------------- helpers

def years_text(years: list[int]) -> str:
    """2024, 2025, 2026, 2029 -> '2024–2026, 2029'."""
    out: list[str] = []
    ys = sorted(set(years))
    i = 0
    while i < len(ys):
        j = i
        while j + 1 < len(ys) and ys[j + 1] == ys[j] + 1:
            j += 1
        out.append(str(ys[i]) if i == j else f"{ys[i]}–{ys[j]}")
        i = j + 1
    return ", ".join(out)


# ---------------------------------------------------------------- the checks

@dataclass
class Field:
    """One template field: where it is and its text."""

    file: str
    located: Located
    path: Path_
    text: str


@dataclass
class Reporter:
    """Where problems are collected, and how a check reports one at a YAML path or a CSV cell."""

    content: Content
    problems: list[Problem] = field(default_factory=list)

    # -- reporting --------------------------------------------------------------------
    @property
    def report_file(self) -> str:
        return self.content.report_file

    def at(self, path: Path_, message: str, severity: str = ERROR, *,
           brand: bool = False) -> None:
        located = self.content.brand_located if brand else self.content.located
        line, col = located.where(path)
        file = self.content.brand_file if brand else self.content.report_file
        self.problems.append(Problem(file, line, col, field_path(path), message, severity))

    def row(self, table: CsvTable, line: int, column: int, name: str, message: str,
            severity: str = ERROR) -> None:
        self.problems.append(Problem(table.file, line, column, name, message, severity))



def line_map(span: Span | None, text: str) -> list[int]:
    """For each line of ``text`` (a scalar's value), the line of the YAML file it comes from."""
    if span is None:
        return []
    raw = [line.rstrip("\r") for line in span.source.split("\n")]
    k = 1 if span.style in ("|", ">") else 0
    out: list[int] = []
    for value_line in text.split("\n"):
        s = value_line.strip()
        found = None
        if s:
            for j in range(k, len(raw)):
                candidate = raw[j].strip()
                if j == 0 and span.style in ("'", '"'):
                    candidate = candidate[1:]
                candidate = candidate.rstrip("'\"") if j == len(raw) - 1 else candidate
                if candidate and s.startswith(candidate):
                    found = j
                    break
        if found is not None:
            out.append(span.line + found)
            k = found + 1
        else:
            out.append(span.line + min(k, max(len(raw) - 1, 0)))
    return out

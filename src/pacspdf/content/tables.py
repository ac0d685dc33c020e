"""Read CSV tables into typed rows, each remembering its line in the file."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from pacspdf.errors import Problem

ColumnType = str  # "int" | "float" | "str"


@dataclass
class Row:
    line: int
    values: dict[str, object]


@dataclass
class CsvTable:
    file: str
    header: list[str]
    rows: list[Row] = field(default_factory=list)
    header_line: int = 1


def read_text(path: Path, display: str, problems: list[Problem]) -> str | None:
    """The file's UTF-8 text, or None with a problem recorded (missing, binary, not UTF-8)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        problems.append(Problem(display, message="file not found"))
        return None
    except OSError as exc:
        problems.append(Problem(display, message=f"cannot read file: {exc.strerror}"))
        return None
    if b"\x00" in raw:
        problems.append(Problem(display, message="binary file, expected UTF-8 text"))
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(Problem(display, line, message="not valid UTF-8 text"))
        return None
    if not text.strip():
        problems.append(Problem(display, message="file is empty"))
        return None
    return text


def parse_number(text: str, kind: ColumnType) -> float | int:
    t = text.strip().replace(",", "")
    if kind == "int":
        return int(t)
    value = float(t)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def read_csv(path: Path, display: str, columns: dict[str, ColumnType] | None,
             problems: list[Problem], *, numeric_rest: bool = False,
             min_value: float | None = 0.0) -> CsvTable | None:
    """Read ``path``; ``columns`` fixes the header (None: any header); with ``numeric_rest``
    every column not named in ``columns`` is a float. Problems are appended, never raised."""
    text = read_text(path, display, problems)
    if text is None:
        return None
    before = len(problems)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        problems.append(Problem(display, message=f"CSV syntax error: {exc}"))
        return None
    # Line numbers: csv.reader yields one record per physical line unless quoted newlines.
    lines: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    for _ in reader:
        lines.append(reader.line_num)
    numbered = [(ln, rec) for ln, rec in zip(lines, records, strict=True)
                if rec and any(c.strip() for c in rec)]
    if not numbered:
        problems.append(Problem(display, message="file is empty"))
        return None
    header_line, header = numbered[0]
    header = [h.strip() for h in header]
    table = CsvTable(display, header, header_line=header_line)
    seen: set[str] = set()
    for name in header:
        if not name:
            problems.append(Problem(display, header_line, message="empty column name in header"))
        elif name in seen:
            problems.append(Problem(display, header_line, field=name, message="duplicate column"))
        seen.add(name)
    types: dict[str, ColumnType] = {}
    if columns is not None:
        for name in columns:
            if name not in header:
                problems.append(Problem(display, header_line, field=name,
                                        message="missing column"))
        if not numeric_rest:
            for name in header:
                if name and name not in columns:
                    problems.append(Problem(display, header_line, field=name,
                                            message=f"unknown column (expected "
                                                    f"{', '.join(columns)})"))
        types.update(columns)
    if numeric_rest:
        for name in header:
            types.setdefault(name, "float")
    if len(problems) > before:
        return None
    for line, rec in numbered[1:]:
        if len(rec) != len(header):
            problems.append(Problem(display, line, message=f"expected {len(header)} fields, "
                                                           f"found {len(rec)}"))
            continue
        values: dict[str, object] = {}
        for name, cell in zip(header, rec, strict=True):
            kind = types.get(name, "str")
            cell = cell.strip()
            if kind == "str":
                values[name] = cell
                continue
            if not cell:
                problems.append(Problem(display, line, field=name, message="value missing"))
                continue
            try:
                number = parse_number(cell, kind)
            except ValueError:
                what = "a whole number" if kind == "int" else "a number"
                problems.append(Problem(display, line, field=name,
                                        message=f'"{cell}" is not {what}'))
                continue
            if min_value is not None and number < min_value:
                problems.append(Problem(display, line, field=name,
                                        message=f"{cell} is negative"))
                continue
            values[name] = number
        table.rows.append(Row(line, values))
    if not table.rows:
        problems.append(Problem(display, header_line, message="table has no data rows"))
    return table

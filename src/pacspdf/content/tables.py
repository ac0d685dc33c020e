"""Read CSV tables into typed rows, each remembering its line (and each cell its column)."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from pacspdf.errors import Problem

ColumnType = str  # "int" | "float" | "str"
#: A parsed cell: the text of a "str" column, or the number of an "int" or "float" one.
Cell = str | int | float

_INT = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)", re.ASCII)
_FLOAT = re.compile(r"[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


@dataclass
class Row:
    line: int
    values: dict[str, Cell]
    #: 1-based column (character position) of each cell on its line, by column name.
    columns: dict[str, int] = field(default_factory=dict)


@dataclass
class CsvTable:
    file: str
    header: list[str]
    rows: list[Row] = field(default_factory=list)
    header_line: int = 1
    #: 1-based column (character position) of each header name.
    header_columns: dict[str, int] = field(default_factory=dict)


def read_text(path: Path, display: str, problems: list[Problem]) -> str | None:
    """The file's UTF-8 text, or None with a problem recorded (missing, binary, not UTF-8)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        problems.append(Problem(display, message="file not found"))
        return None
    except IsADirectoryError:
        problems.append(Problem(display, message="is a folder, expected a file"))
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
    """``text`` as an int or a finite float; plain ASCII digits, optional thousands commas.

    Raises ValueError for anything else (letters, '%', '1_000', non-ASCII digits, inf, nan).
    """
    t = text.strip()
    if kind == "int":
        if not _INT.fullmatch(t):
            raise ValueError(text)
        return int(t.replace(",", ""))
    if not _FLOAT.fullmatch(t):
        raise ValueError(text)
    value = float(t.replace(",", ""))
    if not math.isfinite(value):
        raise ValueError(text)
    return value


@dataclass
class _Scan:
    """Where each record starts and where each of its fields starts (line, column)."""

    records: list[list[tuple[int, int]]] = field(default_factory=list)
    error: tuple[int, int] | None = None


def _scan(text: str) -> _Scan:
    """Field positions for the default csv dialect (',' and '"', doubled quotes)."""
    out = _Scan()
    i, n, line, col = 0, len(text), 1, 1
    fields: list[tuple[int, int]] = []

    def newline_len(k: int) -> int:
        if text.startswith("\r\n", k):
            return 2
        return 1 if k < n and text[k] in "\r\n" else 0

    while i < n:
        fields.append((line, col))
        if text[i] == '"':
            opening = (line, col)
            i += 1
            col += 1
            while True:
                if i >= n:
                    out.error = opening
                    out.records.append(fields)
                    return out
                if text[i] == '"':
                    if text.startswith('""', i):
                        i += 2
                        col += 2
                        continue
                    i += 1
                    col += 1
                    break
                nl = newline_len(i)
                if nl:
                    i += nl
                    line += 1
                    col = 1
                else:
                    i += 1
                    col += 1
            if i < n and text[i] != "," and not newline_len(i) and out.error is None:
                out.error = (line, col)
        while i < n and text[i] != "," and not newline_len(i):
            i += 1
            col += 1
        if i < n and text[i] == ",":
            i += 1
            col += 1
            if i >= n:
                fields.append((line, col))
            continue
        nl = newline_len(i)
        i += nl
        line += 1
        col = 1
        out.records.append(fields)
        fields = []
    if fields:
        out.records.append(fields)
    return out


def read_csv(path: Path, display: str, columns: dict[str, ColumnType] | None,
             problems: list[Problem], *, numeric_rest: bool = False,
             min_value: float | None = 0.0) -> CsvTable | None:
    """Read ``path``; ``columns`` fixes the header (None: any header); with ``numeric_rest``
    every column not named in ``columns`` is a float. Problems are appended, never raised."""
    text = read_text(path, display, problems)
    if text is None:
        return None
    before = len(problems)
    scan = _scan(text)
    starts = {rec[0][0]: rec for rec in scan.records if rec}
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    numbered: list[tuple[int, list[str], list[int]]] = []
    start = 1
    try:
        for rec in reader:
            cols = [c if ln == start else 0 for ln, c in starts.get(start, [])]
            if rec and any(c.strip() for c in rec):
                numbered.append((start, rec, cols))
            start = reader.line_num + 1
    except csv.Error as exc:
        line, col = scan.error if scan.error else (reader.line_num, 0)
        problems.append(Problem(display, line, col, message=f"CSV syntax error: {exc}"))
        return None
    except (ValueError, OverflowError) as exc:  # e.g. a field larger than the csv field limit
        problems.append(Problem(display, reader.line_num, message=f"CSV error: {exc}"))
        return None
    if not numbered:
        problems.append(Problem(display, message="file is empty"))
        return None
    header_line, raw_header, header_cols = numbered[0]
    header = [h.strip() for h in raw_header]
    table = CsvTable(display, header, header_line=header_line)
    seen: set[str] = set()
    for index, name in enumerate(header):
        col = _col(header_cols, index)
        if not name:
            problems.append(Problem(display, header_line, col, message="empty column name in header"))
        elif name in seen:
            problems.append(Problem(display, header_line, col, field=name, message="duplicate column"))
        else:
            table.header_columns[name] = col
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
                    problems.append(Problem(display, header_line, table.header_columns.get(name, 0),
                                            field=name, message=f"unknown column (expected "
                                                                f"{', '.join(columns)})"))
        types.update(columns)
    if numeric_rest:
        for name in header:
            types.setdefault(name, "float")
    if len(problems) > before:
        return None
    for line, rec, cols in numbered[1:]:
        if len(rec) != len(header):
            problems.append(Problem(display, line, _col(cols, len(header)) if len(rec) > len(header)
                                    else 0,
                                    message=f"expected {len(header)} fields, found {len(rec)}"))
            continue
        values: dict[str, Cell] = {}
        positions: dict[str, int] = {}
        for index, (name, raw_cell) in enumerate(zip(header, rec, strict=True)):
            kind = types.get(name, "str")
            cell = raw_cell.strip()
            col = _col(cols, index)
            positions[name] = col
            if kind == "str":
                values[name] = cell
                continue
            if not cell:
                problems.append(Problem(display, line, col, field=name, message="value missing"))
                continue
            try:
                number = parse_number(cell, kind)
            except ValueError:
                what = "a whole number" if kind == "int" else "a number"
                problems.append(Problem(display, line, col, field=name,
                                        message=f'"{_short(cell)}" is not {what}'))
                continue
            if min_value is not None and number < min_value:
                problems.append(Problem(display, line, col, field=name,
                                        message=f"{cell} is negative"))
                continue
            values[name] = number
        table.rows.append(Row(line, values, positions))
    if not table.rows:
        problems.append(Problem(display, header_line, message="table has no data rows"))
    return table


def _col(cols: list[int], index: int) -> int:
    return cols[index] if 0 <= index < len(cols) else 0


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

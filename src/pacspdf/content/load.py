"""Load a report folder (report.yaml, CSV tables, the brand) into a located, typed model."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pacspdf.content._yaml import Located, YamlSyntaxError, load_located
from pacspdf.content.confine import (
    MAX_CELL_CHARS,
    MAX_REPORT_BYTES,
    MAX_TABLE_BYTES,
    MAX_TABLE_ROWS,
    MAX_YAML_BYTES,
    Refusal,
    inside,
    limit_text,
    too_big,
)
from pacspdf.content.model import Brand, Report
from pacspdf.content.schema import Issue, Record, parse
from pacspdf.content.tables import CsvTable, read_csv, read_text
from pacspdf.errors import ContentError, Problem

REPORT_FILE = "report.yaml"
BRAND_FILE = Path("assets") / "brand.yaml"


@dataclass
class Player:
    company: str
    headquarters: str
    focus: str
    share_pct: float
    line: int


@dataclass
class Dataset:
    """The numbers of a report, read from its CSV files (plain Python, no pandas)."""

    size: dict[int, float] = field(default_factory=dict)
    shares: dict[str, dict[int, dict[str, float]]] = field(default_factory=dict)
    coverage: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    players: list[Player] = field(default_factory=list)
    deals: list[tuple[str, str, str, int]] = field(default_factory=list)  # date, company, event, line
    tables: dict[str, CsvTable] = field(default_factory=dict)


@dataclass
class Content:
    """Everything a build needs to know about one report, with where each part came from."""

    folder: Path
    report: Report
    brand: Brand
    data: Dataset
    report_file: str
    brand_file: str
    brand_dir: Path
    located: Located
    brand_located: Located
    warnings: list[Problem] = field(default_factory=list)

    def display(self, relative: str) -> str:
        return _display(self.folder / relative)


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it (as problems show it)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


_display = display_path


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\n``, ``\\x00``), so a problem stays one line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def one_line(problems: list[Problem]) -> list[Problem]:
    """``problems`` with fields and messages made printable (cells and keys come from users)."""
    return [p if p.message.isprintable() and p.field.isprintable()
            else dataclasses.replace(p, field=printable(p.field), message=printable(p.message))
            for p in problems]


def field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def schema_problems(issues: list[Issue], located: Located, display: str) -> list[Problem]:
    """Problems from :func:`schema.parse` issues, placed at the key's line in the YAML file."""
    problems = []
    for issue in issues:
        # A missing field is reported where its parent mapping starts.
        line, col = located.where(issue.loc[:-1] if issue.missing else issue.loc)
        problems.append(Problem(display, line, col, field_path(issue.loc), issue.message))
    return problems


def parse_yaml_model(path: Path, model: type[Record],
                     problems: list[Problem]) -> tuple[Any, Located] | None:
    display = _display(path)
    big = too_big(path, MAX_YAML_BYTES, path.name)
    if big:
        problems.append(Problem(display, 0, 0, "", big))
        return None
    text = read_text(path, display, problems)
    if text is None:
        return None
    try:
        located = load_located(text)
    except YamlSyntaxError as exc:
        problems.append(Problem(display, exc.line, exc.column, message=str(exc)))
        return None
    if not isinstance(located.data, dict):
        problems.append(Problem(display, 1, 1, message="expected a mapping of fields at the top"))
        return None
    record, issues = parse(located.data, model)
    if record is None:
        problems.extend(schema_problems(issues, located, display))
        return None
    return record, located


def find_brand(folder: Path, declared: str) -> Path | Refusal:
    """The brand file: ``brand:`` inside the report folder, else the nearest assets/brand.yaml."""
    if declared:
        return inside(folder, declared)
    for parent in [folder.resolve(), *folder.resolve().parents]:
        candidate = parent / BRAND_FILE
        if candidate.is_file():
            return candidate
    return (folder / ".." / ".." / BRAND_FILE).resolve()


def _load_data(report: Report, folder: Path, located: Located, problems: list[Problem]) -> Dataset:
    data = Dataset()
    report_file = _display(folder / REPORT_FILE)
    total = [_size_of(folder / REPORT_FILE)]

    def path(rel: str, where: tuple[Any, ...]) -> tuple[Path, str]:
        """The table's file, or a path that does not exist when it may not be read (the
        problem is recorded here: outside the folder, too large)."""
        def refuse(message: str) -> tuple[Path, str]:
            line, col = located.where(where)
            problems.append(Problem(report_file, line, col, field_path(where), message))
            return folder / "\0refused", ""

        found = inside(folder, rel)
        if isinstance(found, Refusal):
            return refuse(found.message)
        big = too_big(found, MAX_TABLE_BYTES, rel)
        if big:
            return refuse(big)
        total.append(_size_of(found))
        return found, _display(folder / rel)

    p, d = path(report.market_size.file, ("market_size", "file"))
    t = None if not d else read_csv(p, d, {"year": "int", "value": "float"}, problems)
    if t:
        data.tables["market_size"] = t
        for row in t.rows:
            if "year" in row.values and "value" in row.values:
                data.size[int(row.values["year"])] = float(row.values["value"])
    for i, seg in enumerate(report.segments):
        p, d = path(seg.file, ("segments", i, "file"))
        t = None if not d else read_csv(p, d, {"year": "int"}, problems, numeric_rest=True)
        if t:
            data.tables[f"segment:{seg.id}"] = t
            by_year: dict[int, dict[str, float]] = {}
            for row in t.rows:
                if "year" not in row.values:
                    continue
                by_year[int(row.values["year"])] = {
                    k: float(v) for k, v in row.values.items()
                    if k != "year"}
            data.shares[seg.id] = by_year
        if seg.coverage:
            p, d = path(seg.coverage, ("segments", i, "coverage"))
            t = None if not d else read_csv(p, d, {"segment": "str", "country": "str"}, problems)
            if t:
                data.tables[f"coverage:{seg.id}"] = t
                data.coverage[seg.id] = [(str(r.values["segment"]), str(r.values["country"]),
                                          r.line) for r in t.rows]
    p, d = path(report.players.file, ("players", "file"))
    t = None if not d else read_csv(p, d, {"company": "str", "headquarters": "str", "focus": "str",
                        "share_pct": "float"}, problems)
    if t:
        data.tables["players"] = t
        for r in t.rows:
            if "share_pct" in r.values:
                data.players.append(Player(str(r.values["company"]),
                                           str(r.values["headquarters"]),
                                           str(r.values["focus"]), float(r.values["share_pct"]),
                                           r.line))
    if report.deals is not None:
        p, d = path(report.deals.file, ("deals", "file"))
        t = None if not d else read_csv(p, d, {"date": "str", "company": "str", "event": "str"}, problems)
        if t:
            data.tables["deals"] = t
            for r in t.rows:
                if all(k in r.values for k in ("date", "company", "event")):
                    date = str(r.values["date"]).strip()
                    if not re.fullmatch(r"\d{4}(-(0[1-9]|1[0-2]))?", date):
                        problems.append(Problem(d, r.line, r.columns.get("date", 1), "date",
                                                f'"{date}" is not a year or a month as YYYY-MM'))
                        continue
                    data.deals.append((date, str(r.values["company"]), str(r.values["event"]), r.line))
    for table in data.tables.values():
        for row in table.rows:
            for name, value in row.values.items():
                if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                    problems.append(Problem(table.file, row.line, 0, name,
                                            f"{len(value)} characters; a table cell holds at most "
                                            f"{MAX_CELL_CHARS}"))
        if len(table.rows) > MAX_TABLE_ROWS:
            problems.append(Problem(table.file, 0, 0, "", f"{len(table.rows)} data rows; the limit "
                                                         f"is {MAX_TABLE_ROWS} rows per table"))
    if sum(total) > MAX_REPORT_BYTES:
        problems.append(Problem(report_file, 0, 0, "", f"report.yaml and its tables are "
                                f"{limit_text(sum(total))} together; the limit is "
                                f"{limit_text(MAX_REPORT_BYTES)} per report"))
    return data


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def load(folder: Path | str) -> Content:
    """Read and type-check a report folder; raise ContentError listing every problem found."""
    folder = Path(folder)
    problems: list[Problem] = []
    report_path = folder / REPORT_FILE
    if not folder.is_dir():
        raise ContentError.one(_display(folder), "report folder not found")
    parsed = parse_yaml_model(report_path, Report, problems)
    if parsed is None:
        raise ContentError(one_line(problems))
    report, located = parsed
    brand_path = find_brand(folder, report.brand)
    if isinstance(brand_path, Refusal):
        line, col = located.where(("brand",))
        problems.append(Problem(_display(report_path), line, col, "brand", brand_path.message))
        raise ContentError(one_line(problems))
    brand_parsed = parse_yaml_model(brand_path, Brand, problems)
    data = _load_data(report, folder, located, problems)
    if brand_parsed is None or any(p.is_error for p in problems):
        raise ContentError(one_line(problems))
    brand, brand_located = brand_parsed
    return Content(folder=folder, report=report, brand=brand, data=data,
                   report_file=_display(report_path), brand_file=_display(brand_path),
                   brand_dir=brand_path.parent, located=located, brand_located=brand_located,
                   warnings=one_line([p for p in problems if not p.is_error]))

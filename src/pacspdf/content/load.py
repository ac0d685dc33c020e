"""Load a report folder (report.yaml, CSV tables, the brand) into a located, typed model."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from pacspdf.content._fast import construct
from pacspdf.content._yaml import Located, YamlSyntaxError, load_located
from pacspdf.content.model import Brand, Report
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


def _model_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names allowed at ``loc`` (for 'did you mean'), walking the model's annotations."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        ann = fields[part].annotation
        current = _unwrap(ann)
    fields = getattr(current, "model_fields", None)
    return list(fields) if fields else []


def _unwrap(ann: Any) -> Any:
    for arg in getattr(ann, "__args__", ()) or ():
        inner = _unwrap(arg)
        if hasattr(inner, "model_fields"):
            return inner
    return ann


def validation_problems(exc: ValidationError, model: type[BaseModel], located: Located,
                        display: str) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        if kind == "missing":
            message = "field required"
            line, col = located.where(loc[:-1])
        elif kind == "extra_forbidden":
            allowed = _model_fields(model, loc[:-1])
            import difflib  # only when there is a problem: it costs ~10 ms to import

            key = str(loc[-1])
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6) if len(key) <= 100 else []
            message = "unknown field" + (f" (did you mean '{close[0]}'?)" if close else "")
            line, col = located.where(loc)
        else:
            message = err["msg"]
            message = message.removeprefix("Value error, ")
            if kind == "string_pattern_mismatch":
                message = f"{err.get('input')!r} does not have the expected form"
            elif kind == "string_too_short":
                message = "must not be empty"
            elif kind == "literal_error":
                message = f"{err.get('input')!r} is not allowed: {err['msg'].lower()}"
            line, col = located.where(loc)
        problems.append(Problem(display, line, col, field_path(loc), message))
    return problems


def parse_yaml_model(path: Path, model: type[BaseModel],
                     problems: list[Problem]) -> tuple[Any, Located] | None:
    display = _display(path)
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
    fast = construct(located.data, model)  # valid content, without building pydantic validators
    if fast is not None:
        return fast, located
    try:
        return model.model_validate(located.data), located
    except ValidationError as exc:
        problems.extend(validation_problems(exc, model, located, display))
        return None


def find_brand(folder: Path, declared: str) -> Path:
    if declared:
        return (folder / declared).resolve()
    for parent in [folder.resolve(), *folder.resolve().parents]:
        candidate = parent / BRAND_FILE
        if candidate.is_file():
            return candidate
    return (folder / ".." / ".." / BRAND_FILE).resolve()


def _load_data(report: Report, folder: Path, problems: list[Problem]) -> Dataset:
    data = Dataset()

    def path(rel: str) -> tuple[Path, str]:
        p = folder / rel
        return p, _display(p)

    p, d = path(report.market_size.file)
    t = read_csv(p, d, {"year": "int", "value": "float"}, problems)
    if t:
        data.tables["market_size"] = t
        for row in t.rows:
            if "year" in row.values and "value" in row.values:
                data.size[int(row.values["year"])] = float(row.values["value"])
    for seg in report.segments:
        p, d = path(seg.file)
        t = read_csv(p, d, {"year": "int"}, problems, numeric_rest=True)
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
            p, d = path(seg.coverage)
            t = read_csv(p, d, {"segment": "str", "country": "str"}, problems)
            if t:
                data.tables[f"coverage:{seg.id}"] = t
                data.coverage[seg.id] = [(str(r.values["segment"]), str(r.values["country"]),
                                          r.line) for r in t.rows]
    p, d = path(report.players.file)
    t = read_csv(p, d, {"company": "str", "headquarters": "str", "focus": "str",
                        "share_pct": "float"}, problems)
    if t:
        data.tables["players"] = t
        for r in t.rows:
            if "share_pct" in r.values:
                data.players.append(Player(str(r.values["company"]),
                                           str(r.values["headquarters"]),
                                           str(r.values["focus"]), float(r.values["share_pct"]),
                                           r.line))
    return data


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
    brand_parsed = parse_yaml_model(brand_path, Brand, problems)
    data = _load_data(report, folder, problems)
    if brand_parsed is None or any(p.is_error for p in problems):
        raise ContentError(one_line(problems))
    brand, brand_located = brand_parsed
    return Content(folder=folder, report=report, brand=brand, data=data,
                   report_file=_display(report_path), brand_file=_display(brand_path),
                   brand_dir=brand_path.parent, located=located, brand_located=brand_located,
                   warnings=one_line([p for p in problems if not p.is_error]))

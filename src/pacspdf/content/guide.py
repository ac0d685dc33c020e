"""Turn the content schema into Markdown field tables for docs/writing-a-report.md.

The guide's field reference is generated from the models themselves (names, types, defaults,
constraints and each field's ``doc``), between ``<!-- fields: Model -->`` and
``<!-- /fields -->`` markers, so it cannot drift from what ``check`` accepts. Run
``python -m pacspdf.content.guide docs/writing-a-report.md`` to refresh it; a test fails when
the file is not current.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pacspdf.content import model
from pacspdf.content.schema import MinLen, Pattern, Range, Record

MARKER = re.compile(r"(<!-- fields: (\w+) -->\n)(.*?)(<!-- /fields -->)", re.S)


def _type(ann: Any) -> str:
    """A field type in an analyst's words."""
    origin = get_origin(ann)
    if origin is Annotated:
        base, *extras = get_args(ann)
        words = _type(base)
        for extra in extras:
            if isinstance(extra, Pattern):
                words = f"{words} ({extra.expected})"
            elif isinstance(extra, Range) and base is int and (extra.ge, extra.le) == (1900, 2200):
                words = "year"
        return words
    if origin is Literal:
        return " | ".join(f"`{a}`" for a in get_args(ann))
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(ann) if a is not type(None)]
        return " or ".join(_type(a) for a in args)
    if origin is list:
        return f"list of {_type(get_args(ann)[0])}"
    if origin is dict:
        key, value = get_args(ann)
        return f"mapping of {_type(key)} to {_type(value)}"
    if isinstance(ann, type) and issubclass(ann, Record):
        return f"[{ann.__name__}](#{ann.__name__.lower()})"
    return {str: "text", int: "whole number", float: "number", bool: "true or false"}.get(ann, str(ann))


def _constraints(ann: Any, extra: tuple[Any, ...]) -> list[str]:
    notes = []
    found = list(extra)
    if get_origin(ann) is Annotated:
        found += list(get_args(ann)[1:])
    for c in found:
        if isinstance(c, MinLen):
            notes.append("not empty" if c.size == 1 else f"at least {c.size} items")
        elif isinstance(c, Range):
            if (c.ge, c.le) == (1900, 2200):
                continue
            if c.ge is not None:
                notes.append(f"≥ {c.ge:g}")
            if c.le is not None:
                notes.append(f"≤ {c.le:g}")
    return notes


def _default(spec: Any) -> str:
    f = spec.field
    if f.required:
        return "**required**"
    value = f.make_default()
    if value is None:
        return "none"
    if isinstance(value, Record):
        return "see its table"
    if value in ([], {}):
        return "empty"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, str):
        return f"`{value}`" if value else '`""`'
    return f"`{value:g}`" if isinstance(value, float) else f"`{value}`"


def _cell(text: str) -> str:
    """Text safe in a Markdown table cell: pipes escaped, <placeholders> not read as HTML."""
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def fields_table(cls: type[Record]) -> str:
    """The Markdown table of ``cls``'s fields: name, type, default, what it is."""
    rows = ["| field | type | default | meaning |", "|---|---|---|---|"]
    for name, spec in cls.__schema__.items():
        notes = _constraints(spec.type, spec.field.constraints)
        kind = _type(spec.type) + (f" ({', '.join(notes)})" if notes else "")
        rows.append(f"| `{name}` | {_cell(kind)} | {_default(spec)} | {_cell(spec.field.doc)} |")
    return "\n".join(rows) + "\n"


def render(text: str) -> str:
    """``text`` with every field table between markers regenerated."""
    def replace(match: re.Match[str]) -> str:
        cls = getattr(model, match.group(2))
        return f"{match.group(1)}{fields_table(cls)}{match.group(4)}"

    return MARKER.sub(replace, text)


def main(argv: list[str]) -> int:
    for name in argv or ["docs/writing-a-report.md"]:
        path = Path(name)
        path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

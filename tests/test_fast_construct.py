"""The fast reader of valid content builds exactly what pydantic builds, and gives up otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from pacspdf.content._fast import construct
from pacspdf.content._yaml import load_located
from pacspdf.content.model import Brand, Report

REPO = Path(__file__).resolve().parents[1]
FILES = [(REPO / "content" / "pacs" / "report.yaml", Report), (REPO / "assets" / "brand.yaml", Brand)]


@pytest.mark.parametrize(("path", "model"), FILES, ids=["report", "brand"])
def test_valid_content_is_built_fast_and_equals_pydantic(path: Path, model: type[BaseModel]) -> None:
    """The real report and brand take the fast path, and the objects equal pydantic's, field by field."""
    data = load_located(path.read_text(encoding="utf-8")).data
    fast = construct(data, model)
    assert fast is not None
    slow = model.model_validate(data)
    assert fast == slow
    assert repr(fast) == repr(slow)


def _mutations(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _mutations(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _mutations(v, (*path, i))
    return out


def _replace(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[head] = _replace(data[head], tuple(rest), value)
    return copy


REPORT_DATA = load_located((REPO / "content" / "pacs" / "report.yaml").read_text(encoding="utf-8")).data
PATHS = [p for p in _mutations(REPORT_DATA) if p]
ODD_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 3000), st.floats(allow_nan=True),
                       st.text(max_size=12), st.sampled_from(["", " ", "2024", "A4", "#12355B", "x-y"]),
                       st.lists(st.integers(0, 3), max_size=3), st.dictionaries(st.text(max_size=3),
                                                                                 st.integers(), max_size=2))


@settings(max_examples=150, deadline=None)
@given(path=st.sampled_from(PATHS), value=ODD_VALUES)
def test_fast_path_never_accepts_what_pydantic_rejects(path: tuple[Any, ...], value: Any) -> None:
    """Any one field of the report replaced by an odd value: when the fast path accepts the data,
    pydantic accepts it too and builds an equal object."""
    data = _replace(REPORT_DATA, path, value)
    fast = construct(data, Report)
    if fast is None:
        return
    try:
        slow = Report.model_validate(data)
    except ValidationError as exc:  # pragma: no cover - the assertion message shows the case
        pytest.fail(f"fast path accepted what pydantic rejects at {path}={value!r}: {exc}")
    assert fast == slow

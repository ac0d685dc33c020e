"""The schema reader behind the content models: types, constraints, messages, locations."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pacspdf.content._yaml import load_located
from pacspdf.content.model import Brand, Report
from pacspdf.content.schema import MinLen, Pattern, Range, Record, Strip, field, field_names, fields_of, parse
from selection import examples

REPO = Path(__file__).resolve().parents[2]


class Inner(Record):
    name: Annotated[str, Strip(), MinLen(1)]
    code: Annotated[str, Pattern(r"[a-z]+", "lower-case letters")] = "x"


class Outer(Record):
    year: Annotated[int, Range(ge=1900, le=2200)]
    ratio: float = 1.0
    flag: bool = False
    kind: Literal["a", "b", "c"] = "a"
    note: str | None = None
    inners: list[Inner] = field(factory=list)
    size: dict[int, float] = field(factory=dict)
    tags: list[str] = field(min_len=2, factory=lambda: ["p", "q"])
    price: float = field(0.0, ge=0)

    def validate(self) -> None:
        if self.note == "boom":
            raise ValueError("note must not be boom")


def messages(data: Any) -> list[tuple[tuple[Any, ...], str]]:
    record, issues = parse(data, Outer)
    assert (record is None) == bool(issues)
    return [(i.loc, i.message) for i in issues]


def test_valid_data_builds_the_record_with_defaults_and_coercions() -> None:
    record, issues = parse({"year": "2024", "ratio": 2, "inners": [{"name": "  Ann "}],
                            "size": {"2027": 5, 2028: 6.5}}, Outer)
    assert issues == [] and record is not None
    assert record.year == 2024 and record.ratio == 2.0 and isinstance(record.ratio, float)
    assert record.inners == [Inner(name="Ann", code="x")]
    assert record.size == {2027: 5.0, 2028: 6.5}
    assert record.tags == ["p", "q"] and record.kind == "a" and record.note is None


@pytest.mark.parametrize(("data", "expected"), [
    ({}, [(("year",), "field required")]),
    ({"year": 2024, "yaer": 1}, [(("yaer",), "unknown field (did you mean 'year'?)")]),
    ({"year": "twenty"}, [(("year",), "expected a whole number, found the text 'twenty'")]),
    ({"year": 2024.5}, [(("year",), "expected a whole number, found the number 2024.5")]),
    ({"year": True}, [(("year",), "expected a whole number, found true")]),
    ({"year": 1800}, [(("year",), "1800 is too small: must be at least 1900")]),
    ({"year": 2024, "ratio": "n/a"}, [(("ratio",), "expected a number, found the text 'n/a'")]),
    ({"year": 2024, "ratio": float("nan")}, [(("ratio",), "expected a finite number, found nan")]),
    ({"year": 2024, "flag": "yes"}, [(("flag",), "expected true or false, found the text 'yes'")]),
    ({"year": 2024, "kind": "d"}, [(("kind",), "'d' is not allowed: input should be 'a', 'b' or 'c'")]),
    ({"year": 2024, "note": 12}, [(("note",), "expected text, found the number 12 "
                                              "(put it in quotes to use it as text)")]),
    ({"year": 2024, "note": "boom"}, [((), "note must not be boom")]),
    ({"year": 2024, "inners": {"name": "x"}}, [(("inners",), "expected a list, found a mapping")]),
    ({"year": 2024, "inners": [{"name": " "}, "x", {"name": "n", "code": "X1"}]},
     [(("inners", 0, "name"), "must not be empty"),
      (("inners", 1), "expected a mapping of fields, found the text 'x'"),
      (("inners", 2, "code"), "'X1' does not have the expected form (lower-case letters)")]),
    ({"year": 2024, "size": {"later": 1}}, [(("size", "later"),
                                             "expected a whole number, found the text 'later'")]),
    ({"year": 2024, "tags": ["only"]}, [(("tags",), "needs at least 2 items, found 1")]),
    ({"year": 2024, "price": -1}, [(("price",), "-1.0 is too small: must be at least 0")]),
    ([1, 2], [((), "expected a mapping of fields, found a list")]),
    ({"year": 2024, "ratio": 10 ** 400}, [(("ratio",), "expected a finite number, "
                                                      "found a number of about 400 digits")]),
    ({"year": 10 ** 5000}, [(("year",), "a number of about 5000 digits is too large: must be at most 2200")]),
    ({"year": "1" * 5000}, [(("year",), "expected a whole number, found the text '"
                                        + "1" * 39 + "…'")]),
    ({"year": 2024, "kind": "x" * 5000}, [(("kind",), "'" + "x" * 39 + "…' is not allowed: "
                                                      "input should be 'a', 'b' or 'c'")]),
    ({"year": 2024, "kind": list(range(3000))}, [(("kind",), "a list is not allowed: "
                                                             "input should be 'a', 'b' or 'c'")]),
    ({"year": 2024, "size": {"2027": 1, 2027: 2}}, [(("size", 2027), "'2027' repeats the key 2027")]),
])
def test_each_problem_has_its_location_and_message(data: Any, expected: list[Any]) -> None:
    assert messages(data) == expected


class Optional_(Record):
    phone: str = ""
    name: Annotated[str, Strip(), MinLen(1)] = "x"


def test_an_empty_yaml_value_is_worded_by_whether_the_field_may_be_empty() -> None:
    assert [(i.loc, i.message) for i in parse({"phone": None, "name": None}, Optional_)[1]] == [
        (("phone",), 'expected text, found nothing (write "" for none, or leave the field out)'),
        (("name",), "must not be empty")]


def test_a_mutable_default_is_refused_when_the_class_is_declared() -> None:
    with pytest.raises(TypeError, match="mutable default"):
        class Shared(Record):
            tags: list[str] = []  # noqa: RUF012


def test_records_built_in_code_still_check_their_cross_field_rules() -> None:
    from pacspdf.content.model import Period

    assert Period(start=2025, end=2032).end == 2032
    with pytest.raises(ValueError, match="end must be after start"):
        Period(start=2030, end=2020)


def test_all_problems_are_reported_at_once() -> None:
    found = messages({"yeer": 1, "ratio": "x", "kind": "z", "inners": [{}]})
    assert [loc for loc, _ in found] == [("yeer",), ("year",), ("ratio",), ("kind",), ("inners", 0, "name")]


def test_records_are_immutable_comparable_and_picklable() -> None:
    record = Outer(year=2024)
    with pytest.raises(AttributeError, match="immutable"):
        record.year = 2025  # type: ignore[misc]
    assert record == Outer(year=2024) and record != Outer(year=2025)
    assert Outer(year=2024).inners is not record.inners  # factories give fresh lists
    assert pickle.loads(pickle.dumps(record)) == record
    assert copy.deepcopy(record) == record
    assert repr(Inner(name="a")) == "Inner(name='a', code='x')"
    assert fields_of(Inner(name="a")) == {"name": "a", "code": "x"}
    assert field_names(Inner) == ["name", "code"]
    with pytest.raises(TypeError, match="missing field 'name'"):
        Inner()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unknown fields"):
        Inner(name="a", other=1)  # type: ignore[call-arg]


def test_subclasses_inherit_fields() -> None:
    class More(Inner):
        extra: int = 3

    assert field_names(More) == ["name", "code", "extra"]
    assert parse({"name": "n", "extra": "4"}, More)[0] == More(name="n", extra=4)


@pytest.mark.parametrize(("path", "model"), [(REPO / "content" / "pacs" / "report.yaml", Report),
                                             (REPO / "assets" / "brand.yaml", Brand)])
def test_the_real_content_reads_cleanly(path: Path, model: type[Record]) -> None:
    record, issues = parse(load_located(path.read_text(encoding="utf-8")).data, model)
    assert issues == [] and isinstance(record, model)


def _conforms(value: Any, ann: Any) -> bool:
    """``value`` has the declared type (after reading), recursively."""
    origin = get_origin(ann)
    if origin is Annotated:
        return _conforms(value, get_args(ann)[0])
    if origin is Literal:
        return value in get_args(ann)
    if origin is list:
        return isinstance(value, list) and all(_conforms(v, get_args(ann)[0]) for v in value)
    if origin is dict:
        k, v = get_args(ann)
        return isinstance(value, dict) and all(_conforms(a, k) and _conforms(b, v) for a, b in value.items())
    if get_args(ann) and type(None) in get_args(ann):
        return value is None or any(_conforms(value, a) for a in get_args(ann) if a is not type(None))
    if isinstance(ann, type) and issubclass(ann, Record):
        return type(value) is ann and all(_conforms(getattr(value, n), s.type)
                                          for n, s in ann.__schema__.items())
    return type(value) is ann


REPORT_DATA = load_located((REPO / "content" / "pacs" / "report.yaml").read_text(encoding="utf-8")).data
ODD = st.one_of(st.none(), st.booleans(), st.integers(-5, 3000), st.integers(), st.floats(allow_nan=True),
                st.integers(300, 5000).map(lambda n: 10 ** n), st.integers(90, 6000).map(lambda n: "7" * n),
                st.text(max_size=12), st.sampled_from(["", " ", "2024", "1e3", "A4", "#12355B", "x-y"]),
                st.lists(st.integers(0, 3), max_size=3),
                st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def _paths(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for k, v in items:
        out += _paths(v, (*path, k))
    return out


def _replace(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    out = dict(data) if isinstance(data, dict) else list(data)
    out[head] = _replace(data[head], tuple(rest), value)
    return out


@settings(max_examples=examples(200), deadline=None)
@given(path=st.sampled_from([p for p in _paths(REPORT_DATA) if p]), value=ODD)
def test_a_record_is_built_only_from_data_of_the_declared_types(path: tuple[Any, ...], value: Any) -> None:
    """Any one field of the real report replaced by an odd value gives either problems or a
    record whose every field has its declared type; never an exception."""
    record, issues = parse(_replace(REPORT_DATA, path, value), Report)
    if record is None:
        assert issues and all(i.message for i in issues)
    else:
        assert issues == [] and _conforms(record, Report)

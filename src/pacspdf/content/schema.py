"""A small typed-record schema: declare content models, read plain YAML data into them.

The content models (content/model.py) are classes with annotated fields, like dataclasses.
:func:`parse` checks data against them and either builds the objects or lists every problem
with its location, worded for an analyst (``field required``, ``must not be empty``,
``'millions' is not allowed: input should be 'million' or 'billion'``).

It exists because ``pacspdf check`` must be quick: a general validation library costs more
to import and to set up than reading and checking a whole report, and its messages need
rewording anyway. Supported field types are the ones content uses: ``str``, ``bool``,
``int``, ``float``, ``Literal[...]``, ``X | None``, ``list[X]``, ``dict[K, V]`` and nested
records, with constraints attached through ``Annotated`` or :func:`field`.
"""

from __future__ import annotations

import inspect
import math
import re
import types
from collections.abc import Callable
from typing import (
    Annotated,
    Any,
    ClassVar,
    Literal,
    TypeVar,
    Union,
    dataclass_transform,
    get_args,
    get_origin,
    get_type_hints,
)

Loc = tuple[str | int, ...]


# ---------------------------------------------------------------- constraints

class Constraint:
    """Something a value must satisfy once its type is right."""

    def check(self, value: Any) -> tuple[Any, str | None]:
        """The (possibly normalised) value and a message when it is not acceptable."""
        raise NotImplementedError


class Strip(Constraint):
    """Leading and trailing white space is removed before the other checks."""

    def check(self, value: Any) -> tuple[Any, str | None]:
        return value.strip(), None


class MinLen(Constraint):
    def __init__(self, size: int) -> None:
        self.size = size

    def check(self, value: Any) -> tuple[Any, str | None]:
        if len(value) >= self.size:
            return value, None
        if isinstance(value, str):
            return value, "must not be empty" if self.size == 1 else f"needs at least {self.size} characters"
        return value, f"needs at least {self.size} items, found {len(value)}"


class Pattern(Constraint):
    """The whole string matches ``regex``; ``expected`` says what form that is, for the message."""

    def __init__(self, regex: str, expected: str) -> None:
        self.regex = re.compile(regex)
        self.expected = expected

    def check(self, value: Any) -> tuple[Any, str | None]:
        if self.regex.fullmatch(value):
            return value, None
        return value, f"{_short(value)} does not have the expected form ({self.expected})"


class Range(Constraint):
    def __init__(self, ge: float | None = None, le: float | None = None) -> None:
        self.ge, self.le = ge, le

    def check(self, value: Any) -> tuple[Any, str | None]:
        if self.ge is not None and value < self.ge:
            return value, f"{_number_text(value)} is too small: must be at least {_number(self.ge)}"
        if self.le is not None and value > self.le:
            return value, f"{_number_text(value)} is too large: must be at most {_number(self.le)}"
        return value, None


def _number_text(value: float) -> str:
    """A number as written, or its size when it is huge (Python refuses str() of huge integers)."""
    if isinstance(value, int) and value.bit_length() > 80:
        return f"a number of about {round(value.bit_length() * math.log10(2))} digits"
    return repr(value)


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


# ---------------------------------------------------------------- records

_MISSING: Any = object()


class Field:
    """A field's default (a value or a factory) and its constraints."""

    __slots__ = ("constraints", "default", "doc", "factory")

    def __init__(self, default: Any, factory: Callable[[], Any] | None,
                 constraints: tuple[Constraint, ...], doc: str) -> None:
        self.default, self.factory, self.constraints, self.doc = default, factory, constraints, doc

    @property
    def required(self) -> bool:
        return self.default is _MISSING and self.factory is None

    def make_default(self) -> Any:
        return self.factory() if self.factory is not None else self.default


def field(default: Any = _MISSING, *, factory: Callable[[], Any] | None = None, doc: str = "",
          min_len: int | None = None, ge: float | None = None, le: float | None = None) -> Any:
    """Declare a field's default, constraints and documentation (like ``dataclasses.field``)."""
    constraints: list[Constraint] = []
    if min_len is not None:
        constraints.append(MinLen(min_len))
    if ge is not None or le is not None:
        constraints.append(Range(ge, le))
    return Field(default, factory, tuple(constraints), doc)


class _Spec:
    __slots__ = ("field", "name", "type")

    def __init__(self, name: str, type_: Any, spec: Field) -> None:
        self.name, self.type, self.field = name, type_, spec


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field,))
class Record:
    """An immutable record with typed fields, declared like a dataclass.

    Subclasses may define ``validate(self)`` to check fields against each other; it raises
    ValueError with the message to show.
    """

    __schema__: ClassVar[dict[str, _Spec]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        hints = get_type_hints(cls, include_extras=True)
        own = inspect.get_annotations(cls)  # this class's own fields, in order
        schema = dict(cls.__schema__)
        for name in own:
            if get_origin(hints[name]) is ClassVar:
                continue
            declared = cls.__dict__.get(name, _MISSING)
            if isinstance(declared, (list, dict, set)):
                raise TypeError(f"{cls.__name__}.{name}: a mutable default would be shared by every "
                                "record; use field(factory=...)")
            spec = declared if isinstance(declared, Field) else Field(declared, None, (), "")
            if isinstance(declared, Field):
                delattr(cls, name)  # instances carry the value
            schema[name] = _Spec(name, hints[name], spec)
        cls.__schema__ = schema

    def __init__(self, **values: Any) -> None:
        for name, spec in self.__schema__.items():
            if name in values:
                value = values.pop(name)
            elif spec.field.required:
                raise TypeError(f"{type(self).__name__}: missing field {name!r}")
            else:
                value = spec.field.make_default()
            object.__setattr__(self, name, value)
        if values:
            raise TypeError(f"{type(self).__name__}: unknown fields {sorted(values)}")
        self.validate()  # field types are trusted here; cross-field rules are still checked

    def validate(self) -> None:
        """Check fields against each other (raise ValueError); the default accepts all."""

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__schema__)

    __hash__ = None  # type: ignore[assignment]  # fields hold lists

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__schema__)
        return f"{type(self).__name__}({inner})"


def fields_of(record: Record) -> dict[str, Any]:
    """A record's fields as a dict, in declaration order."""
    return {name: getattr(record, name) for name in record.__schema__}


def field_names(cls: type[Record]) -> list[str]:
    return list(cls.__schema__)


# ---------------------------------------------------------------- reading data into records

class Issue:
    """One problem found by :func:`parse`: where (a path of keys and indices) and what."""

    __slots__ = ("loc", "message", "missing")

    def __init__(self, loc: Loc, message: str, missing: bool = False) -> None:
        self.loc, self.message, self.missing = loc, message, missing

    def __repr__(self) -> str:
        return f"Issue({self.loc!r}, {self.message!r})"


class _Invalid(Exception):
    """Raised inside the walk when a value cannot be used; the issue is already recorded."""


R = TypeVar("R", bound=Record)


def parse(data: Any, cls: type[R]) -> tuple[R | None, list[Issue]]:
    """``data`` read into ``cls``, or None and every problem found (never raises for bad data)."""
    issues: list[Issue] = []
    try:
        return _record(data, cls, (), issues), issues
    except _Invalid:
        return None, issues


def _record(value: Any, cls: type[Record], loc: Loc, issues: list[Issue]) -> Any:
    if not isinstance(value, dict):
        _fail(issues, loc, f"expected a mapping of fields, found {_kind(value)}")
    schema = cls.__schema__
    failed = False
    for key in value:
        if key not in schema:
            issues.append(Issue((*loc, key), _unknown(key, schema)))
            failed = True
    out: dict[str, Any] = {}
    for name, spec in schema.items():
        if name not in value:
            if spec.field.required:
                issues.append(Issue((*loc, name), "field required", missing=True))
                failed = True
            else:
                out[name] = spec.field.make_default()
            continue
        try:
            out[name] = _value(value[name], spec.type, spec.field.constraints, (*loc, name), issues)
        except _Invalid:
            failed = True
    if failed:
        raise _Invalid
    obj = cls.__new__(cls)
    for name, item in out.items():
        object.__setattr__(obj, name, item)
    try:
        obj.validate()
    except ValueError as exc:
        _fail(issues, loc, str(exc))
    return obj


def _unknown(key: Any, schema: dict[str, _Spec]) -> str:
    text = str(key)
    close: list[str] = []
    if len(text) <= 100:
        import difflib  # only when there is a problem: it costs ~10 ms to import

        close = difflib.get_close_matches(text, list(schema), n=1, cutoff=0.6)
    return "unknown field" + (f" (did you mean '{close[0]}'?)" if close else "")


def _value(value: Any, ann: Any, constraints: tuple[Constraint, ...], loc: Loc,
           issues: list[Issue]) -> Any:
    origin = get_origin(ann)
    if origin is Annotated:
        base, *extra = get_args(ann)
        return _value(value, base, (*[c for c in extra if isinstance(c, Constraint)], *constraints),
                      loc, issues)
    if origin in (Union, types.UnionType):
        args = get_args(ann)
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _value(value, inner, constraints, loc, issues)
    if origin is Literal:
        choices = get_args(ann)
        if not any(type(value) is type(c) and value == c for c in choices):
            listed = " or ".join(repr(c) for c in choices) if len(choices) <= 2 else (
                ", ".join(repr(c) for c in choices[:-1]) + f" or {choices[-1]!r}")
            shown = _short(value) if isinstance(value, str) else _kind(value)
            _fail(issues, loc, f"{shown} is not allowed: input should be {listed}")
        return value
    if origin is list:
        if not isinstance(value, list):
            _fail(issues, loc, f"expected a list, found {_kind(value)}")
        (item_type,) = get_args(ann)
        out, failed = [], False
        for i, item in enumerate(value):
            try:
                out.append(_value(item, item_type, (), (*loc, i), issues))
            except _Invalid:
                failed = True
        if failed:
            raise _Invalid
        return _constrain(out, constraints, loc, issues)
    if origin is dict:
        key_type, value_type = get_args(ann)
        if not isinstance(value, dict):
            _fail(issues, loc, f"expected a mapping, found {_kind(value)}")
        mapping: dict[Any, Any] = {}
        failed = False
        for k, v in value.items():
            try:
                key = _value(k, key_type, (), (*loc, k), issues)
                if key in mapping:
                    _fail(issues, (*loc, k), f"{_short(str(k))} repeats the key {key!r}")
                mapping[key] = _value(v, value_type, (), (*loc, k), issues)
            except _Invalid:
                failed = True
        if failed:
            raise _Invalid
        return mapping
    if isinstance(ann, type) and issubclass(ann, Record):
        return _record(value, ann, loc, issues)
    if value is None and ann is str and not any(isinstance(c, MinLen) for c in constraints):
        _fail(issues, loc, 'expected text, found nothing (write "" for none, or leave the field out)')
    reader = _SCALARS.get(ann)
    if reader is None:  # pragma: no cover - a model declared with an unsupported type
        raise TypeError(f"unsupported field type {ann!r}")
    result, problem = reader(value)
    if problem is not None:
        _fail(issues, loc, problem)
    return _constrain(result, constraints, loc, issues)


def _constrain(value: Any, constraints: tuple[Constraint, ...], loc: Loc, issues: list[Issue]) -> Any:
    for c in constraints:
        value, problem = c.check(value)
        if problem is not None:
            _fail(issues, loc, problem)
    return value


def _fail(issues: list[Issue], loc: Loc, message: str) -> Any:
    issues.append(Issue(loc, message))
    raise _Invalid


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, (int, float)):
        shown = _number_text(value)
        return shown if shown.startswith("a number") else f"the number {shown}"
    if isinstance(value, str):
        return f"the text {_short(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__  # pragma: no cover - YAML gives only the types above


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:39] + "…")


def _read_str(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, str):
        return value, None
    if value is None:
        return value, "must not be empty"
    hint = " (put it in quotes to use it as text)" if isinstance(value, (int, float)) else ""
    return value, f"expected text, found {_kind(value)}{hint}"


_INT_TEXT = re.compile(r"[+-]?[0-9]+")


def _read_int(value: Any) -> tuple[Any, str | None]:
    if type(value) is int:
        return value, None
    if type(value) is float and value.is_integer():
        return int(value), None
    if isinstance(value, str) and len(value) <= 100 and _INT_TEXT.fullmatch(value.strip()):
        return int(value), None
    return value, f"expected a whole number, found {_kind(value)}"


def _read_float(value: Any) -> tuple[Any, str | None]:
    number: float | None = None
    try:
        if type(value) in (int, float):
            number = float(value)
        elif isinstance(value, str) and len(value) <= 100:
            number = float(value.strip())
    except ValueError:
        number = None
    except OverflowError:  # an integer too large for a float
        number = math.inf
    if number is None:
        return value, f"expected a number, found {_kind(value)}"
    if not math.isfinite(number):
        shown = repr(value) if isinstance(value, float) else _kind(value)  # nan, inf, or a huge integer
        return value, f"expected a finite number, found {shown}"
    return number, None


def _read_bool(value: Any) -> tuple[Any, str | None]:
    if type(value) is bool:
        return value, None
    return value, f"expected true or false, found {_kind(value)}"


_SCALARS: dict[Any, Callable[[Any], tuple[Any, str | None]]] = {
    str: _read_str, int: _read_int, float: _read_float, bool: _read_bool}

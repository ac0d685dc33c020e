"""Turn plain YAML data into content model objects quickly when it is already valid.

pydantic builds a validator for every model class; on the `pacspdf check` path that costs
more than reading the whole report. Content that an analyst has not broken is the common
case, so this module walks the models' own field declarations (types, constraints, model
validators) and builds the objects with ``model_construct``. On anything it is not sure of,
it gives up and returns None, and the caller validates with pydantic, whose messages are
the ones users see. It never accepts data pydantic would reject: a test compares both on
the real content, and every broken-content case goes through pydantic.
"""

from __future__ import annotations

import re
import types
from typing import Annotated, Any, Literal, TypeVar, Union, cast, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel, StringConstraints
from pydantic.fields import FieldInfo

M = TypeVar("M", bound=BaseModel)


class _Unsure(Exception):
    """The data may be invalid, or uses a form this walker does not handle: ask pydantic."""


def construct(data: Any, model: type[M]) -> M | None:
    """``model`` built from ``data`` if it is certainly valid, else None."""
    try:
        return _model(data, model)
    except _Unsure:
        return None


def _model(value: Any, cls: type[M]) -> M:
    if not isinstance(value, dict):
        raise _Unsure
    decorators = cls.__pydantic_decorators__
    if (decorators.field_validators or decorators.validators or decorators.root_validators
            or decorators.field_serializers or decorators.model_serializers):
        raise _Unsure
    fields = cls.model_fields
    if any(key not in fields for key in value):
        raise _Unsure  # an unknown field (extra="forbid")
    kwargs: dict[str, Any] = {}
    for name, info in fields.items():
        if name in value:
            kwargs[name] = _value(value[name], info.annotation, tuple(info.metadata))
        elif info.is_required():
            raise _Unsure
    obj = cls.model_construct(**kwargs)
    for decorator in decorators.model_validators.values():
        if decorator.info.mode != "after":
            raise _Unsure
        try:
            decorator.func(obj)
        except (ValueError, AssertionError):
            raise _Unsure from None
    return obj


def _value(value: Any, ann: Any, metadata: tuple[Any, ...] = ()) -> Any:
    origin = get_origin(ann)
    if origin is Annotated:
        base, *extra = get_args(ann)
        return _value(value, base, (*metadata, *extra))
    if origin in (Union, types.UnionType):
        args = get_args(ann)
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise _Unsure
        return _value(value, inner[0], metadata)
    if origin is Literal:
        if not any(type(value) is type(choice) and value == choice for choice in get_args(ann)):
            raise _Unsure
        return value
    if origin is list:
        if not isinstance(value, list):
            raise _Unsure
        (item,) = get_args(ann)
        out = [_value(v, item) for v in value]
        _check_size(len(out), metadata)
        return out
    if origin is dict:
        key_type, value_type = get_args(ann)
        if not isinstance(value, dict):
            raise _Unsure
        return {_key(k, key_type): _value(v, value_type) for k, v in value.items()}
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return _model(value, ann)
    if ann is str:
        if not isinstance(value, str):
            raise _Unsure
        return _check_str(value, metadata)
    if ann is bool:
        if type(value) is not bool:
            raise _Unsure
        return value
    if ann is int:
        if type(value) is not int:
            raise _Unsure
        _check_number(value, metadata)
        return value
    if ann is float:
        if type(value) not in (int, float):
            raise _Unsure
        _check_number(value, metadata)
        return float(value)
    raise _Unsure


def _key(key: Any, ann: Any) -> Any:
    # Mapping keys come from YAML as text; pydantic's lax mode reads "2027" as 2027.
    if ann is int and isinstance(key, str) and re.fullmatch(r"[0-9]+", key):
        return int(key)
    return _value(key, ann)


def _constraints(metadata: tuple[Any, ...]) -> list[Any]:
    out: list[Any] = []
    for item in metadata:
        if isinstance(item, FieldInfo):
            out += _constraints(tuple(item.metadata))
        else:
            out.append(item)
    return out


def _check_str(value: str, metadata: tuple[Any, ...]) -> str:
    for c in _constraints(metadata):
        if isinstance(c, StringConstraints):
            if c.to_upper or c.to_lower or c.ascii_only or c.strict:
                raise _Unsure
            if c.strip_whitespace:
                value = value.strip()
            if c.min_length is not None and len(value) < c.min_length:
                raise _Unsure
            if c.max_length is not None and len(value) > c.max_length:
                raise _Unsure
            if c.pattern is not None and not re.search(str(c.pattern), value):
                raise _Unsure
        else:
            _check_size(len(value), (c,))
    return value


def _check_size(size: int, metadata: tuple[Any, ...]) -> None:
    for c in _constraints(metadata):
        if isinstance(c, at.MinLen):
            if size < c.min_length:
                raise _Unsure
        elif isinstance(c, at.MaxLen):
            if size > c.max_length:
                raise _Unsure
        else:
            raise _Unsure


def _check_number(value: float, metadata: tuple[Any, ...]) -> None:
    for c in _constraints(metadata):
        # The models' bounds are plain numbers (annotated_types types them as protocols).
        if isinstance(c, at.Ge):
            ok = value >= cast(float, c.ge)
        elif isinstance(c, at.Le):
            ok = value <= cast(float, c.le)
        elif isinstance(c, at.Gt):
            ok = value > cast(float, c.gt)
        elif isinstance(c, at.Lt):
            ok = value < cast(float, c.lt)
        else:
            raise _Unsure
        if not ok:
            raise _Unsure

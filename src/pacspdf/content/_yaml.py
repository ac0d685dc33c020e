"""Turn YAML text into plain Python data plus the line and column of every node."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path_ = tuple[str | int, ...]

#: Nodes built from one document at most; stops alias "billion laughs" expansion.
MAX_NODES = 200_000
#: Nesting depth at most (the composer recurses; deeper documents are not content).
MAX_DEPTH = 200

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Span:
    """Where a scalar value sits in the source: first line/column (1-based), last line,
    its style (``""`` plain, ``"|"``, ``">"``, ``"'"``, ``'"'``) and its source text."""

    line: int
    column: int
    end_line: int
    style: str
    source: str


@dataclass
class Located:
    """YAML data with a map from each node's path (keys / indexes) to (line, column), 1-based.

    A mapping key's path points at the key itself; ``spans`` keeps, for every scalar value,
    where the value's own text starts and ends (used to map template lines to file lines).
    """

    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    spans: dict[Path_, Span] = field(default_factory=dict)

    def where(self, path: Path_) -> tuple[int, int]:
        """The position of ``path``, or of its nearest ancestor that exists in the file."""
        p = tuple(path)
        while p:
            if p in self.positions:
                return self.positions[p]
            p = p[:-1]
        return self.positions.get((), (1, 1))


class YamlSyntaxError(ValueError):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _scalar(node: yaml.ScalarNode, constructor: yaml.constructor.SafeConstructor) -> Any:
    # Resolve the scalar the way SafeLoader would (ints, floats, bools, null; dates as text).
    try:
        value = constructor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError:
        raise
    except Exception:  # an explicit tag on a value that does not fit it (e.g. "!!int abc")
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        raise YamlSyntaxError(f"YAML error: {node.value[:40]!r} is not a valid {tag} value",
                              *_mark(node)) from None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):  # !!binary
        return value.decode("utf-8", errors="replace")
    return value


class _Builder:
    def __init__(self, text: str) -> None:
        self.text = text
        self.positions: dict[Path_, tuple[int, int]] = {}
        self.spans: dict[Path_, Span] = {}
        self.count = 0
        self.active: set[int] = set()
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlSyntaxError("YAML error: document too large (aliases expand to more than "
                                  f"{MAX_NODES} values)", *_mark(node))
        if len(path) > MAX_DEPTH:
            raise YamlSyntaxError(f"YAML error: nested more than {MAX_DEPTH} levels deep",
                                  *_mark(node))
        self.positions[path] = _mark(node)
        if isinstance(node, yaml.ScalarNode):
            self._span(node, path)
            return _scalar(node, self.constructor)
        if id(node) in self.active:
            raise YamlSyntaxError("YAML error: an alias refers to a node that contains it",
                                  *_mark(node))
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlSyntaxError("YAML error: a key must be plain text, not a list or mapping",
                                      *_mark(key_node))
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlSyntaxError("YAML error: merge keys ('<<') are not supported",
                                      *_mark(key_node))
            key = str(_scalar(key_node, self.constructor))
            if key in out:
                raise YamlSyntaxError(f"duplicate key {key!r}", *_mark(key_node))
            child = (*path, key)
            out[key] = self.build(value_node, child)
            # Point a key's errors at the key itself, not at its value.
            self.positions[child] = _mark(key_node)
        return out

    def _span(self, node: yaml.ScalarNode, path: Path_) -> None:
        start, end = node.start_mark, node.end_mark
        source = self.text[start.index:end.index] if 0 <= start.index <= end.index else ""
        self.spans[path] = Span(start.line + 1, start.column + 1, end.line + 1,
                                node.style or "", source)


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        if _Loader is yaml.SafeLoader:
            raise
    # libyaml rejected it: ask the pure-Python parser, whose messages are the documented ones
    # (and which, in rare cases, accepts what libyaml does not).
    return yaml.compose(text, Loader=yaml.SafeLoader)


def load_located(text: str) -> Located:
    """Parse ``text`` (one YAML document) keeping positions; raise YamlSyntaxError on bad YAML."""
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlSyntaxError(f"YAML syntax error: {problem}", line, col) from None
    except yaml.YAMLError as exc:  # e.g. a reader error on control characters
        raise YamlSyntaxError(f"YAML error: {exc}".splitlines()[0], 0, 0) from None
    except RecursionError:
        raise YamlSyntaxError(f"YAML error: nested more than {MAX_DEPTH} levels deep", 0, 0) from None
    if node is None:
        return Located(None, {(): (1, 1)})
    builder = _Builder(text)
    try:
        data = builder.build(node, ())
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        raise YamlSyntaxError(f"YAML error: {exc.problem}", mark.line + 1 if mark else 0,
                              mark.column + 1 if mark else 0) from None
    return Located(data, builder.positions, builder.spans)

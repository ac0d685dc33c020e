"""Turn YAML text into plain Python data plus the line and column of every node."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


@dataclass
class Located:
    """YAML data with a map from each node's path (keys / indexes) to (line, column), 1-based."""

    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)

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


def _scalar(node: yaml.ScalarNode) -> Any:
    # Resolve the scalar the way SafeLoader would (ints, floats, bools, null; dates as text).
    constructor = yaml.constructor.SafeConstructor()
    value = constructor.construct_object(node, deep=True)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _build(node: yaml.Node, path: Path_, positions: dict[Path_, tuple[int, int]]) -> Any:
    positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            key = str(key)
            if key in out:
                raise YamlSyntaxError(f"duplicate key {key!r}", key_node.start_mark.line + 1,
                                      key_node.start_mark.column + 1)
            child = (*path, key)
            out[key] = _build(value_node, child, positions)
            # Point a key's errors at the key itself, not at its value.
            positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), positions) for i, item in enumerate(node.value)]
    return _scalar(node)


def load_located(text: str) -> Located:
    """Parse ``text`` (one YAML document) keeping positions; raise YamlSyntaxError on bad YAML."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlSyntaxError(f"YAML syntax error: {problem}", line, col) from None
    except yaml.YAMLError as exc:  # e.g. a reader error on control characters
        mark = getattr(exc, "problem_mark", None)
        raise YamlSyntaxError(f"YAML error: {exc}".splitlines()[0], 0, 0) from None
    if node is None:
        return Located(None, {(): (1, 1)})
    positions: dict[Path_, tuple[int, int]] = {}
    try:
        data = _build(node, (), positions)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        raise YamlSyntaxError(f"YAML error: {exc.problem}", mark.line + 1 if mark else 0,
                              mark.column + 1 if mark else 0) from None
    return Located(data, positions)

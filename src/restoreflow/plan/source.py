"""YAML text to plain data, remembering where every key and value stands in the file.

The document is composed into ruamel.yaml nodes (which keep their marks) and built by hand, so
that duplicate keys, unsupported tags and bad scalars become problems with a position instead of
stopping the loader at the first one.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, cast

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

JsonPath = tuple[str | int, ...]
MAX_VALUES = 100_000  # values in one plan, aliases expanded: a few hundred is typical, a bomb is billions
Mark = tuple[int, int]  # 0-based line and column, as ruamel.yaml counts

_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = {f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null")}
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_TEXT_TAGS = {f"{_TAG}timestamp", f"{_TAG}binary"}  # kept as the text written


def json_path(path: JsonPath) -> str:
    """("spec", "includedNamespaces", 1) -> "spec.includedNamespaces[1]"; () -> "$".

    Keys that are not plain names are quoted: `matchLabels["app.kubernetes.io/name"]`.
    """
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not _PLAIN_KEY.fullmatch(part):
            text += f"[{json.dumps(part)}]"
        else:
            text += f".{part}" if text else part
    return text or "$"


@dataclass
class Positions:
    """Where each path's key and value start; lookups fall back to the nearest enclosing node."""

    keys: dict[JsonPath, Mark] = field(default_factory=dict)
    values: dict[JsonPath, Mark] = field(default_factory=dict)

    def key(self, path: JsonPath) -> Mark:
        """The key of a mapping entry (or the item of a list); for unknown or missing fields."""
        while path and path not in self.keys:
            path = path[:-1]
        return self.keys.get(path, self.values.get(path, (0, 0)))

    def value(self, path: JsonPath) -> Mark:
        """The value at a path; for wrong types and bad values."""
        while path and path not in self.values:
            path = path[:-1]
        return self.values.get(path, (0, 0))


@dataclass
class Parsed:
    data: Any
    positions: Positions
    problems: list[tuple[Mark, JsonPath, str]]  # (mark, path, message), mark 0-based


class YamlSyntaxError(Exception):
    """The text is not YAML; `mark` is where the parser gave up (0-based)."""

    def __init__(self, message: str, mark: Mark) -> None:
        super().__init__(message)
        self.mark = mark


def parse_yaml(text: str) -> Parsed:
    """One YAML document to plain data with positions; raises YamlSyntaxError."""
    yaml = YAML(typ="safe", pure=True)
    try:
        root = yaml.compose(text)
        builder = _Builder(yaml)
        data = builder.build(root, ()) if root is not None else None
    except MarkedYAMLError as err:
        raise YamlSyntaxError(_syntax_message(err), _mark_of(err)) from None
    except ReaderError as err:
        what = f"#x{err.character:04x}" if isinstance(err.character, int) else repr(err.character)
        raise YamlSyntaxError(
            f"YAML syntax error: unacceptable character {what}: {err.reason}", _position(text, err.position)
        ) from None
    except RecursionError:
        raise YamlSyntaxError("YAML syntax error: the document is nested too deeply", (0, 0)) from None
    return Parsed(data, builder.positions, builder.problems)


def _position(text: str, offset: int) -> Mark:
    before = text[:offset]
    return (before.count("\n"), offset - (before.rfind("\n") + 1))


def _syntax_message(err: MarkedYAMLError) -> str:
    message = f"YAML syntax error: {err.problem or err.context}"
    if err.context and err.problem and err.context_mark is not None:
        where = f"line {err.context_mark.line + 1}, column {err.context_mark.column + 1}"
        message += f" ({err.context} at {where})"
    return message


def _mark_of(err: MarkedYAMLError) -> Mark:
    mark = err.problem_mark or err.context_mark
    return (mark.line, mark.column) if mark is not None else (0, 0)


class _Builder:
    def __init__(self, yaml: YAML) -> None:
        self.constructor = yaml.constructor
        self.positions = Positions()
        self.problems: list[tuple[Mark, JsonPath, str]] = []
        self.values = 0
        self.open: set[int] = set()  # the collections being built: an alias to one of them is a cycle

    def build(self, node: Node, path: JsonPath) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise YamlSyntaxError(
                f"YAML syntax error: more than {MAX_VALUES} values once aliases are expanded", _start(node)
            )
        if id(node) in self.open:
            raise YamlSyntaxError(
                "YAML syntax error: an alias refers to a value that contains it", _start(node)
            )
        if isinstance(node, ScalarNode):
            return self._build(node, path)
        self.open.add(id(node))
        try:
            return self._build(node, path)
        finally:
            self.open.discard(id(node))

    def _build(self, node: Node, path: JsonPath) -> Any:
        block = not isinstance(node, ScalarNode) and not getattr(node, "flow_style", False)
        # A block collection starts on the line after its key, and an empty value (`key:` alone)
        # where the next token does: point at the key instead.
        at_key = (block or _empty(node)) and path in self.positions.keys
        self.positions.values.setdefault(path, self.positions.keys[path] if at_key else _start(node))
        if isinstance(node, MappingNode):
            return self.mapping(node, path)
        if isinstance(node, SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.positions.keys[(*path, index)] = _start(item)
                items.append(self.build(item, (*path, index)))
            return items
        return self.scalar(cast(ScalarNode, node), path)

    def mapping(self, node: MappingNode, path: JsonPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in self.entries(node):
            if not isinstance(key_node, ScalarNode):
                self.problems.append((_start(key_node), path, "mapping keys must be plain strings"))
                continue
            key = str(key_node.value)
            child = (*path, key)
            if key in result:
                line, column = self.positions.keys[child]
                where = f"first defined at line {line + 1}, column {column + 1}"
                self.problems.append((_start(key_node), child, f'duplicate key "{key}" ({where})'))
                continue
            self.positions.keys[child] = _start(key_node)
            result[key] = self.build(value_node, child)
        return result

    def entries(self, node: MappingNode) -> list[tuple[Node, Node]]:
        """The node's entries with YAML merge keys (`<<: *base`) resolved; explicit keys win."""
        own = [(k, v) for k, v in node.value if k.tag != f"{_TAG}merge"]
        merged: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == f"{_TAG}merge":
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in sources:
                    if isinstance(source, MappingNode):
                        merged += self.entries(source)
        own_keys = {k.value for k, _ in own if isinstance(k, ScalarNode)}
        inherited: dict[Any, tuple[Node, Node]] = {}
        for k, v in merged:
            if getattr(k, "value", None) not in own_keys:
                inherited.setdefault(k.value, (k, v))
        return own + list(inherited.values())

    def scalar(self, node: ScalarNode, path: JsonPath) -> Any:
        if node.tag in _TEXT_TAGS:
            return node.value
        if node.tag not in _PLAIN_TAGS:
            self.problems.append((_start(node), path, f'unsupported YAML tag "{node.tag}"'))
            return node.value
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (MarkedYAMLError, ValueError) as err:
            problem = getattr(err, "problem", None) or str(err)
            self.problems.append((_start(node), path, f"invalid {node.tag.removeprefix(_TAG)}: {problem}"))
            return node.value
        if isinstance(value, float) and not math.isfinite(value):
            self.problems.append((_start(node), path, f"must be a finite number, not {node.value}"))
        return value


def _empty(node: Node) -> bool:
    """A value left out (`key:` with nothing after it), which YAML reads as null."""
    return isinstance(node, ScalarNode) and node.value == "" and node.style is None


def _start(node: Node) -> Mark:
    return (node.start_mark.line, node.start_mark.column)

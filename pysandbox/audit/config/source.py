"""YAML and JSON documents that remember where each value came from.

Mappings load as `Node` dicts and sequences as `NodeList` lists; both carry the 1-based line of the
value itself and of each key or item, so findings can point at the line that causes them.
"""

from __future__ import annotations

import json
from typing import Any

from pysandbox.types import UserError
from pysandbox.userfiles import yaml_problem

_MAX_DEPTH = 200


class Node(dict[str, Any]):
    """A mapping with `line` (where it starts) and `key_lines` (where each key is)."""

    line: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines: dict[str, int] = {}

    def line_of(self, key: str) -> int | None:
        return self.key_lines.get(key, self.line)

    def map(self, key: str) -> Node:
        """The mapping under `key`, or an empty one (placed at this mapping's line) when absent."""
        value = self.get(key)
        if isinstance(value, Node):
            return value
        empty = Node()
        empty.line = self.line_of(key)
        return empty

    def seq(self, key: str) -> NodeList:
        value = self.get(key)
        if isinstance(value, NodeList):
            return value
        empty = NodeList()
        empty.line = self.line_of(key)
        if value is not None and not isinstance(value, list | dict):
            empty.append(value)
            empty.item_lines.append(empty.line)
        return empty


class NodeList(list[Any]):
    line: int | None = None

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.item_lines: list[int | None] = []

    def line_at(self, index: int) -> int | None:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


def load_yaml_documents(text: str, path: str) -> list[Any]:
    """Every document of a (multi-document) YAML stream, as Node/NodeList trees."""
    import yaml

    try:
        roots = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        builder = _Builder()
        return [builder.build(root, 0) if root is not None else None for root in roots]
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML: {yaml_problem(exc)}") from None
    except RecursionError:
        raise UserError(f"{path}: nested too deeply to read: flatten its nesting") from None


def load_json_document(text: str, path: str) -> Any:
    """A JSON document with line numbers (composed as YAML, which JSON almost is), else without."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UserError(f"{path}: not valid JSON: {exc}") from None
    except RecursionError:
        raise UserError(f"{path}: nested too deeply to read: flatten its nesting") from None
    try:
        # Tabs are only legal between tokens in JSON, where YAML's scanner rejects them.
        docs = load_yaml_documents(text.replace("\t", " "), path)
    except (UserError, RecursionError):
        return data
    if len(docs) == 1 and docs[0] == data:
        return docs[0]
    return from_plain(data)


def from_plain(value: Any) -> Any:
    """Node/NodeList trees (without lines) from plain data."""
    if isinstance(value, dict):
        node = Node({str(k): from_plain(v) for k, v in value.items()})
        return node
    if isinstance(value, list):
        return NodeList([from_plain(v) for v in value])
    return value


def to_plain(value: Any) -> Any:
    """A copy without line information (plain dicts and lists)."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value


class _Builder:
    def __init__(self) -> None:
        import yaml

        self._yaml = yaml
        self._constructor = yaml.constructor.SafeConstructor()
        self._done: dict[int, Any] = {}

    def build(self, node: Any, depth: int) -> Any:
        yaml = self._yaml
        if depth > _MAX_DEPTH:
            raise UserError("document nested too deeply")
        if id(node) in self._done:
            return self._done[id(node)]
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            self._constructor.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
            mapping = Node()
            mapping.line = line
            self._done[id(node)] = mapping
            for key_node, value_node in node.value:
                key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
                mapping[str(key)] = self.build(value_node, depth + 1)
                mapping.key_lines[str(key)] = key_node.start_mark.line + 1
            return mapping
        if isinstance(node, yaml.SequenceNode):
            seq = NodeList()
            seq.line = line
            self._done[id(node)] = seq
            for item in node.value:
                seq.append(self.build(item, depth + 1))
                seq.item_lines.append(item.start_mark.line + 1)
            return seq
        return self._scalar(node)

    def _scalar(self, node: Any) -> Any:
        try:
            return self._constructor.construct_object(node, deep=True)
        except self._yaml.YAMLError:
            return node.value

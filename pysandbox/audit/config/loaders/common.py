"""Small conversions every loader needs: capability names, booleans, errors that name the file."""

from __future__ import annotations

from typing import Any

from pysandbox.audit.config.model import FORMAT_NAMES, Container
from pysandbox.audit.config.source import Node, NodeList
from pysandbox.types import UserError, is_decimal


def bad_input(path: str, line: int | None, problem: str, fmt: str) -> UserError:
    where = f" line {line}:" if line else ""
    return UserError(f"{path}:{where} {problem}: expected a valid {FORMAT_NAMES[fmt]}")


def cap_name(value: Any) -> str:
    name = str(value).strip().upper()
    return name[4:] if name.startswith("CAP_") else name


def caps(values: NodeList) -> tuple[str, ...]:
    return tuple(cap_name(v) for v in values if v is not None)


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "yes", "on", "1"):
            return True
        if low in ("false", "no", "off", "0"):
            return False
    if isinstance(value, int):
        return value != 0
    return None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and is_decimal(value.strip().lstrip("-")):
        return int(value.strip())
    return None


def text(value: Any) -> str | None:
    return None if value is None else str(value)


def mapping(node: Node, key: str, path: str, fmt: str) -> Node:
    """`node[key]` as a mapping (empty when absent); anything else is an input error."""
    value = node.get(key)
    if value is not None and not isinstance(value, Node):
        raise bad_input(path, node.line_of(key), f"`{key}` must be a mapping", fmt)
    return node.map(key)


def sequence(node: Node, key: str, path: str, fmt: str) -> NodeList:
    value = node.get(key)
    if value is not None and not isinstance(value, list):
        raise bad_input(path, node.line_of(key), f"`{key}` must be a list", fmt)
    return node.seq(key)


def entries(node: Node | NodeList) -> list[tuple[str, Any, int | None]]:
    """`KEY=VALUE` lists and mappings alike (compose sysctls, environment, labels)."""
    if isinstance(node, Node):
        return [(str(k), v, node.line_of(k)) for k, v in node.items()]
    out = []
    for i, item in enumerate(node):
        key, _, value = str(item).partition("=")
        out.append((key.strip(), value.strip(), node.line_at(i)))
    return out


def apply_label(c: Container, value: str, line: int | None) -> None:
    """A `label:...` security option (Docker/compose SELinux labelling)."""
    kind, _, val = value.partition(":") if ":" in value else value.partition("=")
    kind = kind.strip().lower()
    if kind == "disable":
        c.selinux_disabled = True
    elif kind in ("type", "user", "role"):
        setattr(c, f"selinux_{kind}", val.strip())
    c.lines["selinux"] = line

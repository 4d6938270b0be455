"""`@record`: a dataclass made without the `dataclasses` machinery at import time.

The `dataclass` decorator imports `inspect` (with `ast`, `dis`, `tokenize`: ~5 ms) and compiles
`__init__`, `__repr__`, `__eq__`, `__hash__` and, when frozen, `__setattr__`/`__delattr__` for every
class (~0.3-0.5 ms per class). The `pysandbox run` fast path defines a few dozen such classes, so
`record` installs shared generic methods instead, and turns the class into a standard dataclass
only when something asks for it (`dataclasses.fields/is_dataclass/asdict/replace`, pydantic):
the first look-up of `__dataclass_fields__` runs `dataclass()` on the class, in place.
Type checkers see `dataclasses.dataclass` itself.

Supported: plain defaults (a record instance is a fine default for a frozen field: it is
immutable), `frozen`, `__post_init__`; equality and hashing as `dataclass(eq=True)` gives them
(hashable when frozen). Not supported: `field(...)`, inheritance between records, ClassVar fields.
"""

from __future__ import annotations

__all__ = ["record", "replace"]

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from dataclasses import dataclass as record
    from dataclasses import replace
    from typing import Any
else:

    def record(cls: Any = None, /, *, frozen: bool = False) -> Any:
        def wrap(cls: type[Any]) -> type[Any]:
            return _make(cls, frozen)

        return wrap if cls is None else wrap(cls)

    def replace(obj: Any, /, **changes: Any) -> Any:
        """`dataclasses.replace` for records: a copy of `obj` with `changes`."""
        values = {name: obj.__dict__[name] for name, _ in type(obj)._record_spec}
        values.update(changes)
        return type(obj)(**values)


_MISSING = object()
_DATACLASS_ATTRS = ("__dataclass_fields__", "__dataclass_params__")


class _RecordType(type):
    """Makes the class a real dataclass the first time something looks for one."""

    def __getattr__(cls, name: str) -> Any:
        if name in _DATACLASS_ATTRS:
            import dataclasses

            target: Any = cls
            dataclasses.dataclass(init=False, repr=False, eq=False)(target)  # in place; compiles nothing
            return type.__getattribute__(cls, name)
        raise AttributeError(f"type object {cls.__name__!r} has no attribute {name!r}")


def _make(cls: type[Any], frozen: bool) -> type[Any]:
    namespace = {k: v for k, v in cls.__dict__.items() if k not in ("__dict__", "__weakref__")}
    annotations: dict[str, Any] = namespace.get("__annotations__", {})
    spec = tuple((name, namespace.get(name, _MISSING)) for name in annotations)
    namespace.update(
        _record_spec=spec,
        __match_args__=tuple(name for name, _ in spec),
        __init__=_init,
        __repr__=_repr,
        __eq__=_eq,
        __hash__=_hash if frozen else None,
        __getattr__=_getattr,
    )
    if frozen:
        namespace["__setattr__"] = namespace["__delattr__"] = _frozen
    if not namespace.get("__doc__"):  # else dataclass() would compute one with inspect.signature
        namespace["__doc__"] = f"{cls.__name__} record"
    return _RecordType(cls.__name__, cls.__bases__, namespace)


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    cls = type(self)
    spec = cls._record_spec
    if len(args) > len(spec):
        raise TypeError(f"{cls.__name__}() takes {len(spec)} positional arguments but {len(args)} were given")
    used = 0
    for i, (name, default) in enumerate(spec):
        if i < len(args):
            if name in kwargs:
                raise TypeError(f"{cls.__name__}() got multiple values for argument {name!r}")
            value = args[i]
        elif name in kwargs:
            value = kwargs[name]
            used += 1
        elif default is not _MISSING:
            value = default
        else:
            raise TypeError(f"{cls.__name__}() missing required argument: {name!r}")
        object.__setattr__(self, name, value)
    if used != len(kwargs):
        names = {name for name, _ in spec}
        unknown = next(k for k in kwargs if k not in names)
        raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {unknown!r}")
    post_init = getattr(self, "__post_init__", None)
    if post_init is not None:
        post_init()


def _getattr(self: Any, name: str) -> Any:
    if name in _DATACLASS_ATTRS:  # dataclasses.fields(instance) before the class was asked
        return getattr(type(self), name)
    raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def _values(self: Any) -> tuple[Any, ...]:
    d = self.__dict__
    return tuple(d[name] for name, _ in self._record_spec)


def _repr(self: Any) -> str:
    d = self.__dict__
    inner = ", ".join(f"{name}={d[name]!r}" for name, _ in self._record_spec if not name.startswith("_"))
    return f"{type(self).__qualname__}({inner})"


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash(_values(self))


def _frozen(self: Any, name: str, *_: Any) -> None:
    from dataclasses import FrozenInstanceError

    raise FrozenInstanceError(f"cannot assign to field {name!r}")

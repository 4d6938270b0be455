"""The compiled code of what `pysandbox run` imports, kept in one file and read once at start-up.

A cold `pysandbox run` imports ~45 modules. Before running each one, the import system spends
~75 us finding it on sys.path and reading and checking its .pyc (~3 ms in all, a tenth of a
launch); served from memory, an import costs ~35 us. So `run` keeps the .pyc payloads of the
modules it imported in one file of PYSANDBOX_HOME's cache, one per installation and interpreter
(`cache/imports/run-path.<cache tag>.<installation>.bundle`), and serves them from it:

- an entry is used only while its source file has the mtime and size it had when the entry was
  written (as a .pyc is), and only by an interpreter of the same bytecode magic; a file that is
  not the user's own, that others may write or that is a symlink is not used at all; anything
  else imports as usual;
- the file is written by the `run` that imported, the usual way, a module it could have served,
  from the fresh .pyc that import left, before that `run` exits; never when bytecode is not to
  be written (PYTHONDONTWRITEBYTECODE, -B);
- runs with other profiles or flags add what they import, except a run that validated a profile
  (a first run: pydantic and its ~2 MB are not what a launch needs), and past MAX_BYTES the file
  starts again from what the writing run imported: it is read whole at every start.
"""

from __future__ import annotations

import marshal
import os
import sys
from _frozen_importlib_external import MAGIC_NUMBER  # importlib.util's, without importing it

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from types import CodeType, ModuleType

# origin (the source path), is a package, the source's mtime_ns and size, offset and length of
# the code in the file's data
Entry = tuple[str, bool, int, int, int, int]

_HEADER = b"psb-bundle\0" + MAGIC_NUMBER
_LENGTH = 4  # bytes of the index's length, after the header
_FIRST_RUN_ONLY = "pydantic"  # validating a profile loads it, with typing, inspect, enum...
MAX_BYTES = 2 << 20
_ModuleSpec = type(sys.__spec__)  # importlib.machinery.ModuleSpec, without importing it


def bundle_path() -> str:
    from zlib import crc32

    from pysandbox import paths

    # two installations (venvs, checkouts) sharing a home must not serve each other's modules
    package = os.path.dirname(os.path.abspath(__file__))
    installation = crc32(f"{package}\0{sys.prefix}\0{sys.base_prefix}".encode())
    name = f"run-path.{sys.implementation.cache_tag}.{installation:08x}.bundle"
    return paths.location(paths.CACHE, "imports", name)


_CodeType = type(bundle_path.__code__)  # types.CodeType, without importing types


class BundleFinder:
    """A meta path finder and loader serving the bundle's modules."""

    def __init__(self, index: dict[str, Entry], data: memoryview, preloaded: set[str]) -> None:
        self.index = index
        self.data = data
        self.preloaded = preloaded  # in sys.modules before the finder: never the bundle's to add
        self._found: dict[str, CodeType] = {}  # find_spec -> exec_module, under the module's lock

    def find_spec(self, name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        entry = self.index.get(name)
        if entry is None or not _current(entry):
            return None
        try:
            self._found[name] = self.get_code(name)
        except (ValueError, EOFError, TypeError):  # a damaged entry: the usual way
            return None
        origin, is_package = entry[:2]
        spec: ModuleSpec = _ModuleSpec(name, self, origin=origin, is_package=is_package)  # type: ignore[arg-type]
        if is_package:
            spec.submodule_search_locations = [os.path.dirname(origin)]
        spec.has_location = True  # __file__ is the source's path
        return spec

    def create_module(self, spec: ModuleSpec) -> None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        name = module.__name__
        code = self._found.pop(name, None) or self.get_code(name)
        exec(code, module.__dict__)

    def get_code(self, name: str) -> CodeType:
        offset, length = self.index[name][4:]
        code = marshal.loads(self.data[offset : offset + length])
        if not isinstance(code, _CodeType):
            raise ValueError(f"no code for {name} in the bundle")
        return code

    def is_package(self, name: str) -> bool:
        return self.index[name][1]

    def get_filename(self, name: str) -> str:
        return self.index[name][0]


def install() -> None:
    """Serve imports from the bundle, when there is one this interpreter can use (otherwise
    imports go the usual way, and `save` writes one)."""
    try:
        with open(os.open(bundle_path(), os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW), "rb") as fh:
            st = os.fstat(fh.fileno())
            if st.st_uid != os.geteuid() or st.st_mode & 0o022:
                raise ValueError("code that someone else could have written")
            data = fh.read()
        index = _index(data)
    except (OSError, ValueError, EOFError, TypeError):  # none yet, or damaged: `save` replaces it
        data, index = b"", {}
    sys.meta_path.insert(0, BundleFinder(index, memoryview(data), set(sys.modules)))


def _index(data: bytes) -> dict[str, Entry]:
    if not data.startswith(_HEADER):
        raise ValueError("not a bundle of this interpreter")
    start = len(_HEADER) + _LENGTH
    length = int.from_bytes(data[len(_HEADER) : start], "little")
    index = marshal.loads(data[start : start + length])
    if not isinstance(index, dict):
        raise ValueError("bad index")
    base = start + length
    for name, (origin, is_package, mtime_ns, size, offset, size_of_code) in index.items():
        if base + offset + size_of_code > len(data):
            raise ValueError("truncated")
        index[name] = (origin, is_package, mtime_ns, size, base + offset, size_of_code)
    return index


def save() -> None:
    """Write the bundle again if this process imported, the usual way, a module it could hold.
    An optimisation only: `run` ignores its errors (a read-only home, say), and imports then go
    the usual way."""
    finder = next((f for f in sys.meta_path if isinstance(f, BundleFinder)), None)
    if finder is None or sys.dont_write_bytecode:
        return
    if _FIRST_RUN_ONLY in sys.modules:
        return  # it validated a profile (a new one, or a first run): not the path to serve
    new = _compiled_imports(finder.preloaded)
    if not new:
        return
    modules = {
        name: (entry, bytes(finder.data[entry[4] : entry[4] + entry[5]]))
        for name, entry in finder.index.items()
        if name not in new and _current(entry)
    }
    modules.update(new)  # the union: runs with other profiles or flags add what they import
    if sum(len(code) for _, code in modules.values()) > MAX_BYTES:  # then start again from this run
        modules = {name: got for name, got in modules.items() if name in sys.modules}
    _write(bundle_path(), modules)


def _compiled_imports(preloaded: set[str]) -> dict[str, tuple[Entry, bytes]]:
    """Modules imported the usual way from a source whose .pyc the import system would take for
    it now: name -> its entry and code."""
    found: dict[str, tuple[Entry, bytes]] = {}
    for name, module in list(sys.modules.items()):
        spec = getattr(module, "__spec__", None)
        if name in preloaded or spec is None or type(spec.loader).__name__ != "SourceFileLoader":
            continue
        if spec.origin and spec.cached:
            got = _entry(spec.origin, spec.cached, spec.submodule_search_locations is not None)
            if got is not None:
                found[name] = got
    return found


def _entry(origin: str, cached: str, is_package: bool) -> tuple[Entry, bytes] | None:
    try:
        st = os.stat(origin)
        with open(cached, "rb") as fh:
            pyc = fh.read()
    except OSError:
        return None
    # a timestamp-based .pyc (flags 0) made from this very source: what the import system checks
    if (
        pyc[:4] != MAGIC_NUMBER
        or int.from_bytes(pyc[4:8], "little") != 0
        or int.from_bytes(pyc[8:12], "little") != int(st.st_mtime) & 0xFFFFFFFF
        or int.from_bytes(pyc[12:16], "little") != st.st_size & 0xFFFFFFFF
    ):
        return None
    return (origin, is_package, st.st_mtime_ns, st.st_size, 0, len(pyc) - 16), pyc[16:]


def _current(entry: Entry) -> bool:
    """The entry's source is as it was when the entry was written (TypeError, ValueError: a damaged
    entry's path)."""
    try:
        st = os.stat(entry[0])
    except (OSError, TypeError, ValueError):
        return False
    return st.st_mtime_ns == entry[2] and st.st_size == entry[3]


def _write(path: str, modules: dict[str, tuple[Entry, bytes]]) -> None:
    from pathlib import Path  # a rewrite only: not the path of a launch that uses the bundle

    from pysandbox.fsutil import atomic_write_bytes

    index: dict[str, Entry] = {}
    blobs: list[bytes] = []
    offset = 0
    for name, (entry, code) in sorted(modules.items()):
        index[name] = (*entry[:4], offset, len(code))
        blobs.append(code)
        offset += len(code)
    packed = marshal.dumps(index)
    data = b"".join([_HEADER, len(packed).to_bytes(_LENGTH, "little"), packed, *blobs])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write_bytes(Path(path), data, 0o600)

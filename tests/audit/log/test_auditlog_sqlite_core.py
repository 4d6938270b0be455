"""The store loads SQLite's C core without functools (and collections): ~2.5 ms of every audited
`pysandbox run`. The stand-in must give the core its real statement cache, and leave nothing
behind for the modules that import functools later."""

from __future__ import annotations

import subprocess
import sys

PROBE = r"""
import sys
from pysandbox.audit import store
assert "functools" not in sys.modules and "collections" not in sys.modules, "loaded"
conn = store.sqlite3.connect(":memory:", cached_statements=4)
for i in range(50):  # more distinct statements than the cache holds, each run twice
    for _ in range(2):
        assert conn.execute(f"SELECT {i} + ?", (1,)).fetchone() == (i + 1,)
import functools
assert functools.lru_cache(maxsize=2)(abs)(-3) == 3 and hasattr(functools, "partial"), "stand-in kept"
print("ok")
"""


def test_the_core_loads_without_functools_and_caches_statements() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr


def test_a_process_that_has_functools_gets_the_core_as_usual() -> None:
    loaded = 'assert "functools" not in sys.modules and "collections" not in sys.modules, "loaded"\n'
    probe = "import functools\n" + PROBE.replace(loaded, "")
    assert probe != "import functools\n" + PROBE
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr

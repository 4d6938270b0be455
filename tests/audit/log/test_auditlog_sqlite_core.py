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


def test_with_another_thread_running_the_core_loads_the_real_functools() -> None:
    """A thread that imported functools while the stand-in is in sys.modules would get it. The
    other thread need not have run a line yet: the kernel counts it from its creation."""
    probe = (
        "import _thread, sys\n"
        "hold = _thread.allocate_lock(); hold.acquire()\n"
        "_thread.start_new_thread(hold.acquire, ())\n"
        "from pysandbox.audit import store\n"
        "assert hasattr(sys.modules['functools'], 'partial'), 'stand-in'\n"
        "assert store.sqlite3.connect(':memory:').execute('SELECT 2').fetchone() == (2,)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr

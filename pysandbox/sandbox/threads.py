"""The launcher's threads, on `_thread` (the threading module stays off the `run` path): each is
started with a lock that it holds until its body has returned, which is how it is joined. Like
a daemon thread, none holds up the interpreter's exit."""

from __future__ import annotations

from _thread import LockType, allocate_lock, start_new_thread

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the run path
if TYPE_CHECKING:
    from collections.abc import Callable


def start(body: Callable[[], None]) -> LockType:
    """Runs `body` in a new thread; the lock returned is held until it has returned."""
    done = allocate_lock()
    done.acquire()

    def run() -> None:
        try:
            body()
        finally:
            done.release()

    try:
        start_new_thread(run, ())
    except BaseException:
        done.release()
        raise
    return done


def join(done: LockType, timeout: float = -1) -> bool:
    """True once the thread of `done` has ended; False if it still runs after `timeout` seconds."""
    if not done.acquire(timeout=timeout):
        return False
    done.release()
    return True

"""One SQLite writer at a time across gunicorn workers, queued in the kernel.

SQLite lets one connection write at a time; the others wait in its busy
handler, which polls with growing sleeps (up to 100 ms). Under load a writer
could wait many times longer than the lock is ever held (a bulk change's p99
was ten times its median). Taking an ``flock`` on a file beside the database
first puts writers in a queue that the kernel wakes as soon as the lock is
free. SQLite's own locking still guarantees correctness; this only orders the
app's writers. Other databases need none of it. The wait is bounded: past
``WAIT_SECONDS`` a writer gives up with ``WriterQueueTimeout`` (503).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

# How long a writer waits in the queue before giving up (503); set by
# app.database from DB_LOCK_WAIT.
WAIT_SECONDS = 5.0
# (process id, thread id, lock path) -> file descriptor. One per thread, as a
# lock belongs to an open file: threads sharing one would all "hold" it at once.
# Keyed by process too, so a forked worker never shares its parent's.
_descriptors: dict[tuple[int, int, str], int] = {}


class WriterQueueTimeout(Exception):
    """Another writer held the database longer than a writer may wait."""


def _lock_path(engine: sa.Engine) -> str | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return database + "-writer.lock"


def _acquire(key: tuple[int, int, str], descriptor: int, timeout: float) -> None:
    """flock within ``timeout``: at once if free, else queued in the kernel.

    A blocking flock cannot time out, so a helper thread waits in it; if it
    gets the lock after we gave up, it lets go and closes the file, which
    this thread no longer uses (it opens a new one next time).
    """
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    acquired = threading.Event()
    guard = threading.Lock()
    abandoned = False

    def wait() -> None:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        with guard:
            if not abandoned:
                acquired.set()
                return
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)

    threading.Thread(target=wait, name="sqlite-writer-wait", daemon=True).start()
    if acquired.wait(timeout):
        return
    with guard:
        if acquired.is_set():
            return
        abandoned = True
        del _descriptors[key]
    raise WriterQueueTimeout()


@contextmanager
def writer_lock(engine: sa.Engine) -> Iterator[None]:
    """Hold the database's writer lock (SQLite files only) for the block."""
    path = _lock_path(engine)
    if path is None:
        yield
        return
    key = (os.getpid(), threading.get_ident(), path)
    descriptor = _descriptors.get(key)
    if descriptor is None:
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            # No place for the lock file: SQLite itself will say why (503).
            yield
            return
        _descriptors[key] = descriptor
    _acquire(key, descriptor, WAIT_SECONDS)
    try:
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)

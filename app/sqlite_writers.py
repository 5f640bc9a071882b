"""One SQLite writer at a time across gunicorn workers, queued in the kernel.

SQLite lets one connection write at a time; the others wait in its busy
handler, which polls with growing sleeps (up to 100 ms). Under load a writer
could wait many times longer than the lock is ever held (a bulk change's p99
was ten times its median). Taking an ``flock`` on a file beside the database
first puts writers in a queue that the kernel wakes as soon as the lock is
free. SQLite's own locking still guarantees correctness; this only orders the
app's writers. Other databases need none of it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

# (process id, lock path) -> file descriptor. Keyed by process so a forked
# worker never shares its parent's descriptor (flock locks follow it).
_descriptors: dict[tuple[int, str], int] = {}


def _lock_path(engine: sa.Engine) -> str | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return database + "-writer.lock"


@contextmanager
def writer_lock(engine: sa.Engine) -> Iterator[None]:
    """Hold the database's writer lock (SQLite files only) for the block."""
    path = _lock_path(engine)
    if path is None:
        yield
        return
    key = (os.getpid(), path)
    descriptor = _descriptors.get(key)
    if descriptor is None:
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            # No place for the lock file: SQLite itself will say why (503).
            yield
            return
        _descriptors[key] = descriptor
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)

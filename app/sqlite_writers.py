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
import time
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
# (process id, lock path) -> the lock of this process's writers (_process_lock).
_process_locks: dict[tuple[int, str], threading.RLock] = {}
_process_locks_guard = threading.Lock()


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


def _process_lock(path: str) -> threading.RLock:
    """The lock this process's threads take before the file's: they queue
    on it, so at most one thread of a worker waits in flock (a waiter there
    costs a helper thread; 8 threads of a worker taking turns on one writer
    started one for most writes)."""
    key = (os.getpid(), path)
    lock = _process_locks.get(key)
    if lock is None:
        with _process_locks_guard:
            lock = _process_locks.setdefault(key, threading.RLock())
    return lock


@contextmanager
def writer_lock(engine: sa.Engine) -> Iterator[None]:
    """Hold the database's writer lock (SQLite files only) for the block:
    first this process's, then the file's, both within ``WAIT_SECONDS``."""
    path = _lock_path(engine)
    if path is None:
        yield
        return
    deadline = time.monotonic() + WAIT_SECONDS
    process_lock = _process_lock(path)
    if not process_lock.acquire(timeout=WAIT_SECONDS):
        raise WriterQueueTimeout()
    try:
        with _file_lock(path, max(deadline - time.monotonic(), 0.0)):
            yield
    finally:
        process_lock.release()


@contextmanager
def _file_lock(path: str, timeout: float) -> Iterator[None]:
    """The flock on the lock file beside the database, within ``timeout``."""
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
    _acquire(key, descriptor, timeout)
    try:
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)

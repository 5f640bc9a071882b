"""How many sign-ins may check a password at once: per worker and per host.

A password check is an Argon2id hash, about 0.1 s of one to two cores and 64
MiB (passwords.py). Unbounded, 24 clients sending made-up logins took a
signed-in reader's median answer from 2.3 ms to 594 ms: no token is needed
to make the server hash, and the throttle counts per login.

So a sign-in first takes a slot (``HashGate.slot``), before it reads the
database, and one over the bound is answered at once, 503 with
``Retry-After``, the same for every login (it is refused before anyone is
looked up):

- per worker, ``SIGN_IN_HASHES_PER_WORKER`` (1) checks run and at most
  ``QUEUE`` more sign-ins wait, each at most ``WAIT`` seconds; the others
  are refused without waiting, so sign-ins never hold more than a few of the
  worker's threads and readers keep the rest;
- per host, ``SIGN_IN_HASHES_PER_HOST`` (half the cores, at least 1) checks
  run across all workers: one ``flock`` a slot file in
  ``SIGN_IN_SLOTS_DIR`` (instance/sign-in-slots), so the bound needs no
  database round trip and a killed worker's slot is free again at once.

Per host, not per database: what a hash uses up is the cores and memory of
the host that runs it, and hosts do not share those. Failed sign-ins are
still counted in the database, across hosts (throttle.py).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app

QUEUE = 2  # sign-ins that may wait for a worker's slot
WAIT = 0.25  # seconds one may wait, about two checks on a quiet machine
POLL = 0.005  # seconds between tries of the host's slot files
RETRY_AFTER = 1


class Busy(Exception):
    """No slot free within the wait: answer 503 with Retry-After."""

    retry_after = RETRY_AFTER


class HashGate:
    def __init__(self, per_worker: int, per_host: int, folder: Path) -> None:
        self.admitted = threading.BoundedSemaphore(per_worker + QUEUE)
        self.running = threading.BoundedSemaphore(per_worker)
        self.paths = [folder / f"slot-{n}" for n in range(per_host)]
        self.folder = folder

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot of this worker and one of the host for the block; Busy
        when none is free within ``WAIT`` (at once when the queue is full)."""
        if not self.admitted.acquire(blocking=False):
            raise Busy()
        try:
            deadline = time.monotonic() + WAIT
            if not self.running.acquire(timeout=WAIT):
                raise Busy()
            try:
                descriptor = self._host_slot(deadline)
                try:
                    yield
                finally:
                    os.close(descriptor)  # releases the flock
            finally:
                self.running.release()
        finally:
            self.admitted.release()

    def _host_slot(self, deadline: float) -> int:
        """A descriptor holding one of the host's slot files locked."""
        while True:
            for path in self.paths:
                descriptor = _open(path, self.folder)
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(descriptor)
                    continue
                return descriptor
            if time.monotonic() >= deadline:
                raise Busy()
            time.sleep(POLL)


def _open(path: Path, folder: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except FileNotFoundError:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


def init_app(app: Flask) -> None:
    folder = app.config["SIGN_IN_SLOTS_DIR"] or os.path.join(
        app.instance_path, "sign-in-slots"
    )
    app.extensions["hash_gate"] = HashGate(
        int(app.config["SIGN_IN_HASHES_PER_WORKER"]),
        int(app.config["SIGN_IN_HASHES_PER_HOST"]),
        Path(folder),
    )


def gate() -> HashGate:
    found: HashGate = current_app.extensions["hash_gate"]
    return found

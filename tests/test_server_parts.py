"""The pieces of app/server.py, in process (tests/test_server.py runs them
under gunicorn, where coverage does not follow)."""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time
from collections import deque
from types import SimpleNamespace
from typing import Any

import pytest
from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

from app import server


def test_gunicorn_errors_are_written_as_problem_documents() -> None:
    assert util.write_error is server.write_problem  # what gunicorn will call
    ours, theirs = socket.socketpair()
    with ours, theirs:
        server.write_problem(ours, 431, "Request Header Fields Too Large", "x" * 500)
        ours.shutdown(socket.SHUT_WR)
        raw = b""
        while chunk := theirs.recv(4096):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert b"Content-Type: application/problem+json" in head
    assert f"Content-Length: {len(body)}".encode() in head
    problem = json.loads(body)
    assert problem["status"] == 431
    assert problem["title"] == "Request Header Fields Too Large"
    assert len(problem["detail"]) == server.PROBLEM_DETAIL_LIMIT


class Conn:
    """What the watchdog uses of gunicorn's TConn."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock


def test_a_reader_past_its_deadline_is_cut_and_its_read_returns() -> None:
    worker = server.BoundedThreadWorker.__new__(server.BoundedThreadWorker)
    worker.reading, worker.reading_lock = {}, threading.Lock()
    worker.pending_conns = deque()
    worker.log = logging.getLogger("test")
    late_ours, late_theirs = socket.socketpair()
    fresh_ours, fresh_theirs = socket.socketpair()
    late = Conn(late_ours)
    fresh = Conn(fresh_ours)
    gone = Conn(socket.socket())
    gone.sock.close()
    worker.reading = {
        late: time.monotonic() - 1,
        fresh: time.monotonic() + 60,
        gone: time.monotonic() - 1,
    }
    read: list[bytes] = []
    blocked = threading.Thread(target=lambda: read.append(late_ours.recv(10)))
    blocked.start()

    worker.murder_pending()
    blocked.join(timeout=5)

    assert read == [b""]  # the blocked read returned: the thread is free
    assert list(worker.reading) == [fresh]
    fresh_theirs.sendall(b"ok")
    assert fresh_ours.recv(10) == b"ok"  # the others are untouched
    for sock in (late_ours, late_theirs, fresh_ours, fresh_theirs):
        sock.close()


class KeptAlive(Conn):
    """What a lingering thread uses of gunicorn's TConn: the socket, and the
    bytes its parser read ahead (none here)."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock)
        self.parser = SimpleNamespace(unreader=SimpleNamespace(buf=io.BytesIO()))


def _lingering(
    monkeypatch: pytest.MonkeyPatch, in_flight: int
) -> tuple[server.BoundedThreadWorker, list[bytes]]:
    """A worker of 2 threads whose gthread ``handle`` reads one byte (one
    request) of its connection and keeps it alive; what each read."""
    worker = server.BoundedThreadWorker.__new__(server.BoundedThreadWorker)
    worker.reading, worker.reading_lock = {}, threading.Lock()
    worker.alive, worker.in_flight = True, in_flight
    worker.cfg = SimpleNamespace(threads=2)
    served: list[bytes] = []

    def handle(self: Any, conn: KeptAlive) -> bool:
        served.append(conn.sock.recv(1))
        return True

    monkeypatch.setattr(ThreadWorker, "handle", handle)
    return worker, served


def test_a_thread_serves_the_next_requests_of_its_connection_that_come_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three requests sent together are served by the thread that took the
    first; a request later than LINGER_SECONDS goes to the poller, as do the
    requests of a connection past LINGER_REQUESTS in a row, and any while
    connections wait for a thread (more in flight than threads)."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        worker, served = _lingering(monkeypatch, in_flight=2)
        theirs.sendall(b"abc")
        assert worker.handle(KeptAlive(ours)) is True
        assert served == [b"a", b"b", b"c"]

        served.clear()
        later = threading.Timer(server.LINGER_SECONDS * 20, theirs.sendall, [b"d"])
        theirs.sendall(b"c")
        later.start()
        assert worker.handle(KeptAlive(ours)) is True
        later.join()
        assert served == [b"c"]  # "d" waits in the socket for the poller
        assert ours.recv(1) == b"d"

        served.clear()
        monkeypatch.setattr(server, "LINGER_REQUESTS", 2)
        theirs.sendall(b"efg")
        worker.handle(KeptAlive(ours))
        assert served == [b"e", b"f"]
        assert ours.recv(1) == b"g"

        served.clear()
        worker.in_flight = 3
        theirs.sendall(b"hi")
        worker.handle(KeptAlive(ours))
        assert served == [b"h"]
        assert ours.recv(1) == b"i"
        assert worker.reading == {}  # no deadline left behind


def test_requests_take_turns_and_wait_for_one_another_a_bounded_time() -> None:
    """Requests from four threads at once never run together; one that
    holds its turn (a database wait, a client sending its body slowly)
    holds up the next by the wait alone, and that one then runs beside it."""
    running, most = [0], [0]
    count = threading.Lock()
    holding, release = threading.Event(), threading.Event()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with count:
            running[0] += 1
            most[0] = max(most[0], running[0])
        if environ.get("hold"):
            holding.set()
            release.wait(5)
        else:
            time.sleep(0.01)
        with count:
            running[0] -= 1
        return [b"ok"]

    turns = server.one_at_a_time(app, wait=0.2)
    quick = [threading.Thread(target=turns, args=({}, None)) for _ in range(4)]
    for thread in quick:
        thread.start()
    for thread in quick:
        thread.join()
    assert most == [1]

    holder = threading.Thread(target=turns, args=({"hold": True}, None))
    holder.start()
    assert holding.wait(5)
    started = time.monotonic()
    assert turns({}, None) == [b"ok"]
    waited = time.monotonic() - started
    release.set()
    holder.join()
    assert 0.19 <= waited < 1.0, waited
    assert most == [2]  # it ran beside the one holding its turn

"""The pieces of app/server.py, in process (tests/test_server.py runs them
under gunicorn, where coverage does not follow)."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections import deque

from gunicorn import util

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

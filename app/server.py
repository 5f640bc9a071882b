"""gunicorn's threaded worker, bounded for slow clients, answering its own
errors (400, 414, 431...) with problem documents; named in gunicorn.conf.py.

A sync worker reads a request's head itself: two clients that send a request
line and stop held both workers until gunicorn killed them (30 s), and every
other request waited. Here a connection holds one thread of a pool, and no
connection may take longer than ``READ_TIMEOUT`` from its first byte to the
end of its request: past it, its reading side is shut (the blocked read
returns, the thread is free; a response under way is still written).

Two things keep the threads from costing the throughput they once did: a
thread that answered a kept-alive connection waits a moment for the
client's next request itself (``LINGER_SECONDS``) instead of handing the
connection back to the poller and the next request to another thread; and
the app serves one request at a time in a worker (``one_at_a_time``), so
requests in flight take turns rather than trading the GIL at every
database round trip. Each hand-over between threads is a context switch:
before these two, under 8 threads the kernel's switching took 27-30 % of a
worker's profile (``finish_task_switch`` alone 11-14 %; 2.5 % with sync
workers), and GET one gift on PostgreSQL served 1 554 req/s against 2 284
with sync workers (bench/threads.py). The README's server section has
what they gained.
"""

from __future__ import annotations

import json
import logging
import select
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

from app.errors import SECURITY_HEADERS, new_request_id

# Seconds a connection may take to send a request (head and body) once its
# thread started on it; an idle connection waits for its first byte in the
# poller instead, at most the keep-alive time.
READ_TIMEOUT = 10.0
# A thread that answered a request of a kept-alive connection waits this
# long for the next one (a busy client sends it at once), and serves at most
# LINGER_REQUESTS of one connection in a row; then, or while connections
# wait for a thread, the connection goes back to the poller, as gthread's do.
LINGER_SECONDS = 0.005
LINGER_REQUESTS = 100
# A request waits at most this long for the one before it in its worker
# (``one_at_a_time``), then runs beside it: one that waits on the database
# (up to its timeouts) or on a client sending its body slowly holds up the
# worker's others by this much at most.
TURN_WAIT_SECONDS = 0.05
PROBLEM_DETAIL_LIMIT = 200
log = logging.getLogger(__name__)


def write_problem(sock: socket.socket, status: int, reason: str, message: str) -> None:
    """gunicorn's ``util.write_error``, writing a problem document, not HTML."""
    body = json.dumps(
        {
            "type": "about:blank",
            "title": reason,
            "status": status,
            "detail": (message or reason)[:PROBLEM_DETAIL_LIMIT],
        }
    ).encode()
    # The headers every response carries; the request was not read,
    # so its X-Request-ID is a new one, also in the log line.
    request_id = new_request_id()
    headers = {**SECURITY_HEADERS, "X-Request-ID": request_id}
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/problem+json\r\n{lines}"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    log.info("%s %s answered by gunicorn %s", status, reason, request_id)
    util.write_nonblock(sock, head.encode("latin-1") + body)


# The worker's error path calls util.write_error by module attribute; it is
# replaced here, in the one module that reaches into gunicorn
# (tests/test_server.py reads the result).
util.write_error = write_problem


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def one_at_a_time(app: WSGIApp, wait: float = TURN_WAIT_SECONDS) -> WSGIApp:
    """``app``, run by one thread at a time, each waiting for its turn at
    most ``wait`` seconds (then running anyway). The response is written
    after the turn: a client slow to read it holds its own thread alone."""
    turn = threading.Lock()

    def turns(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        mine = turn.acquire(timeout=wait)
        try:
            return app(environ, start_response)
        finally:
            if mine:
                turn.release()

    return turns


class BoundedThreadWorker(ThreadWorker):
    """gthread, with a deadline on reading each request, a thread that stays
    a moment with a kept-alive connection, and the app's requests taking
    turns (see the module)."""

    def load_wsgi(self) -> None:
        super().load_wsgi()
        # Flask's way to wrap its WSGI app: the worker's app stays the Flask
        # app (gunicorn.conf.py's hooks open its database pools).
        flask_app = self.wsgi
        flask_app.wsgi_app = one_at_a_time(flask_app.wsgi_app)

    def init_process(self) -> None:
        self.reading: dict[Any, float] = {}
        self.reading_lock = threading.Lock()
        # Connections handed to the thread pool and not yet finished (read
        # and written by the main loop's thread only).
        self.in_flight = 0
        super().init_process()

    # Accepting only while a thread is free. gthread accepts every
    # connection it can: when 16 clients connected at once, one worker could
    # take most of them and serve them on one core while the other idled (a
    # PATCH run at 776 req/s, its workers serving 9 200 and 1 342 requests,
    # against 1 450 with 8 200 each). A worker whose threads are all busy
    # leaves new connections in the listen queue for a worker with a free
    # thread; when every thread is busy they wait there, as they would in its
    # pool's queue.
    def enqueue_req(self, conn: Any) -> None:
        self.in_flight += 1
        super().enqueue_req(conn)
        if self.in_flight >= self.cfg.threads:
            self.set_accept_enabled(False)

    def finish_request(self, conn: Any, fs: Any) -> None:
        self.in_flight -= 1
        super().finish_request(conn, fs)

    def set_accept_enabled(self, enabled: bool) -> None:
        """gthread's, and only while a thread is free (the main loop asks
        again on each turn, so accepting resumes when one is)."""
        super().set_accept_enabled(enabled and self.in_flight < self.cfg.threads)

    def handle(self, conn: Any) -> Any:
        """gthread's, for each request of the connection that arrives within
        LINGER_SECONDS of the last answer (see the module)."""
        for _ in range(LINGER_REQUESTS):
            result = self._handle_one(conn)
            if result is not True or not self.alive:
                return result
            if self.in_flight > self.cfg.threads:
                return result  # connections wait for a thread: let them have it
            if not conn.parser.unreader.buf.getvalue():  # none read ahead
                readable, _, _ = select.select([conn.sock], [], [], LINGER_SECONDS)
                if not readable:
                    return result
        return result

    def _handle_one(self, conn: Any) -> Any:
        with self.reading_lock:
            self.reading[conn] = time.monotonic() + READ_TIMEOUT
        try:
            return super().handle(conn)
        finally:
            with self.reading_lock:
                self.reading.pop(conn, None)

    def murder_pending(self) -> None:
        """Run by the main loop about once a second: also cut slow readers."""
        super().murder_pending()
        now = time.monotonic()
        with self.reading_lock:
            late = [conn for conn, deadline in self.reading.items() if deadline < now]
            for conn in late:
                del self.reading[conn]
        for conn in late:
            self.log.warning("request not received within %.0f s", READ_TIMEOUT)
            try:
                conn.sock.shutdown(socket.SHUT_RD)
            except OSError:
                pass  # already closed

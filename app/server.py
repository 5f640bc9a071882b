"""gunicorn's threaded worker, bounded for slow clients, answering its own
errors (400, 414, 431...) with problem documents; named in gunicorn.conf.py.

A sync worker reads a request's head itself: two clients that send a request
line and stop held both workers until gunicorn killed them (30 s), and every
other request waited. Here a connection holds one thread of a pool, and no
connection may take longer than ``READ_TIMEOUT`` from its first byte to the
end of its request: past it, its reading side is shut (the blocked read
returns, the thread is free; a response under way is still written).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

from app.errors import SECURITY_HEADERS, new_request_id

# Seconds a connection may take to send a request (head and body) once its
# thread started on it; an idle connection waits for its first byte in the
# poller instead, at most the keep-alive time.
READ_TIMEOUT = 10.0
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


class BoundedThreadWorker(ThreadWorker):
    """gthread, with a deadline on reading each request (see the module)."""

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

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


# The worker's error path calls util.write_error by module attribute; this is
# the one place we reach into gunicorn (tests/test_server.py reads the result).
util.write_error = write_problem


class BoundedThreadWorker(ThreadWorker):
    """gthread, with a deadline on reading each request (see the module)."""

    def init_process(self) -> None:
        self.reading: dict[Any, float] = {}
        self.reading_lock = threading.Lock()
        super().init_process()

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

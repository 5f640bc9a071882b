"""Serving the real app under gunicorn for the slow tests: start, speak, stop.

``gunicorn()`` migrates a database, serves it with ``gunicorn -c
gunicorn.conf.py wsgi:app`` on a free port of 127.0.0.1, waits until it is
ready and always stops it; ``Service.request`` speaks to it with stdlib HTTP.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from tests.conftest import make_member

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 30.0
REQUEST_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
PASSWORD = "correct horse battery"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


class Service:
    """A running gunicorn, spoken to over HTTP on 127.0.0.1."""

    def __init__(
        self, process: subprocess.Popen[bytes], port: int, log: Path, token: str
    ):
        self.process = process
        self.port = port
        self.log_path = log
        self.token = token  # a parent's, sent unless a request says otherwise

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        token: str | None = "",
    ) -> Reply:
        """``token``: "" sends the service's parent token, None sends none."""
        all_headers = dict(headers or {})
        token = self.token if token == "" else token
        if token is not None:
            all_headers.setdefault("Authorization", f"Bearer {token}")
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=REQUEST_TIMEOUT
        )
        try:
            connection.request(method, path, body=payload, headers=all_headers)
            response = connection.getresponse()
            raw = response.read()
            reply_headers = {k.lower(): v for k, v in response.getheaders()}
            status = response.status
        finally:
            connection.close()
        # Money comes back exact: parse fractions as Decimal, like the server.
        parsed = json.loads(raw, parse_float=Decimal) if raw else None
        return Reply(status, reply_headers, parsed)


def free_port() -> int:
    """A free port of 127.0.0.1: one the system picks, or with TEST_PORTS
    (say ``8400-8449``, on a machine whose ports are shared out) the first
    free one of that range."""
    first, _, last = os.environ.get("TEST_PORTS", "0-0").partition("-")
    for port in range(int(first), int(last or first) + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise OSError(f"no free port in TEST_PORTS={os.environ['TEST_PORTS']}")


def migrate(url: str) -> str:
    """``flask db upgrade`` on the given database; a parent's token."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    _, token = make_member(app, "Mum", "parent", password=PASSWORD)
    with app.app_context():
        db.engine.dispose()
    return token


def stop(process: subprocess.Popen[bytes]) -> None:
    """Graceful shutdown first (SIGTERM), then SIGKILL if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_ready(service: Service) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    last: object = None
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            pytest.fail(f"gunicorn exited early:\n{service.log()[-4000:]}")
        try:
            reply = service.request("GET", "/readyz")
            if reply.status == 200:
                return
            last = reply.body
        except OSError as error:  # refused, reset: not listening yet
            last = error
        time.sleep(0.1)
    pytest.fail(f"not ready in {READY_TIMEOUT}s ({last!r}):\n{service.log()[-4000:]}")


@contextmanager
def gunicorn(url: str, log_path: Path, **settings: str) -> Iterator[Service]:
    """gunicorn on a freshly migrated ``url``, ``settings`` added to its
    environment (WEB_CONCURRENCY, DB_STATEMENT_TIMEOUT...); ready when
    entered, always stopped."""
    token = migrate(url)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        **settings,
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            # No control socket: the default path ($HOME/.gunicorn/gunicorn.ctl)
            # is shared with any other gunicorn of this user (make run, bench).
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
            + ["--no-control-socket", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        running = Service(process, port, log_path, token)
        wait_until_ready(running)
        yield running
    finally:
        stop(process)

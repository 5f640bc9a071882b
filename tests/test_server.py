"""The service as `make run` starts it (gunicorn.conf.py): slow clients and a
held database lock cost other clients nothing, workers are never killed, and
gunicorn's own errors are problem documents."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.config import database_url
from app.server import READ_TIMEOUT
from tests.serving import ROOT, Service, free_port, gunicorn

pytestmark = pytest.mark.slow

GIFTS = "/api/v1/gifts"
WORKERS = 2  # the README's `make run` on this machine's 2 cores
STATEMENT_MS = 1500
LOCK_MS = 1000


@pytest.fixture
def served(empty_database_url: str, tmp_path: Path) -> Iterator[Service]:
    """gunicorn -c gunicorn.conf.py with short database timeouts."""
    with gunicorn(
        empty_database_url,
        tmp_path / "gunicorn.log",
        WEB_CONCURRENCY=str(WORKERS),
        DB_STATEMENT_TIMEOUT=str(STATEMENT_MS),
        DB_LOCK_TIMEOUT=str(LOCK_MS),
    ) as running:
        yield running


def workers_survived(service: Service) -> None:
    log = service.log()
    assert "WORKER TIMEOUT" not in log, log[-3000:]
    assert log.count("Booting worker") == WORKERS, log[-3000:]
    assert "Traceback" not in log, log[-3000:]


def timed(service: Service, method: str, path: str, body: Any = None) -> Any:
    started = time.monotonic()
    reply = service.request(method, path, body)
    return reply, time.monotonic() - started


def stall(port: int, data: bytes) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port))
    if data:
        connection.sendall(data)
    return connection


def stalled_heads(port: int, count: int) -> list[socket.socket]:
    """``count`` clients that sent a request head without its end: each
    holds a thread until READ_TIMEOUT cuts it."""
    return [stall(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n") for _ in range(count)]


def test_stalled_clients_cost_other_clients_nothing(served: Service) -> None:
    gift = served.request("POST", GIFTS, {"name": "Kite"}).body
    usual = max(timed(served, "GET", GIFTS)[1] for _ in range(5))
    stalled = [
        stall(served.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"),  # no end
        stall(served.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"),
        stall(served.port, b"POST /api/v1/gifts HTTP/1.1\r\nContent-Length: 50\r\n"),
        stall(served.port, b""),  # connects, sends nothing
    ]
    started = time.monotonic()
    time.sleep(0.5)  # every stalled connection has reached a worker

    during = []
    for path in ("/healthz", GIFTS, f"{GIFTS}/{gift['id']}", "/readyz") * 3:
        reply, elapsed = timed(served, "GET", path)
        assert reply.status == 200
        during.append(elapsed)
    assert time.monotonic() - started < READ_TIMEOUT  # all while they stall
    print(f"usual {usual * 1000:.1f} ms, while stalled {max(during) * 1000:.1f} ms")
    assert max(during) < max(10 * usual, 1.0)

    for connection in stalled[:3]:  # cut once their time to send is up
        connection.settimeout(READ_TIMEOUT + 5)
        assert connection.recv(100) == b""
        connection.close()
    stalled[3].close()
    workers_survived(served)


def test_a_worker_with_every_thread_busy_leaves_new_clients_to_another(
    empty_database_url: str, tmp_path: Path
) -> None:
    """Two workers of two threads, three of them held by stalled clients:
    one thread is free, and every new client reaches it. A worker whose
    threads are busy does not accept (app/server.py); gthread's own accepted
    about half of the new clients into the full worker, where they waited for
    a stalled one to be cut (READ_TIMEOUT)."""
    with gunicorn(
        empty_database_url,
        tmp_path / "gunicorn.log",
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="2",
    ) as served:
        stalled = stalled_heads(served.port, 3)
        started = time.monotonic()
        time.sleep(0.5)  # every stalled connection has reached a worker
        for _ in range(12):  # each on a connection of its own
            reply, elapsed = timed(served, "GET", "/healthz")
            assert reply.status == 200
            assert elapsed < 1.0
        assert time.monotonic() - started < READ_TIMEOUT  # all while they stall
        for connection in stalled:
            connection.close()


def test_a_worker_whose_threads_were_all_busy_accepts_again(
    empty_database_url: str, tmp_path: Path
) -> None:
    """One worker of two threads, both held by stalled clients, three times
    over: once they leave, a new client is answered at once (app/server.py
    stops accepting while every thread is busy, and must start again)."""
    with gunicorn(
        empty_database_url,
        tmp_path / "gunicorn.log",
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="2",
    ) as served:
        for _ in range(3):
            stalled = stalled_heads(served.port, 2)
            time.sleep(0.3)  # both have reached a thread
            for connection in stalled:
                connection.close()
            reply, elapsed = timed(served, "GET", "/healthz")
            assert reply.status == 200
            assert elapsed < 1.0


def test_a_trickling_client_is_cut_after_the_read_timeout(served: Service) -> None:
    connection = stall(served.port, b"GET /healthz HTTP/1.1\r\n")
    connection.settimeout(2)
    started = time.monotonic()
    answer = b""
    while time.monotonic() - started < READ_TIMEOUT + 5:
        try:
            connection.sendall(b"X-Slow: 1\r\n")  # a header every second
            answer = connection.recv(100)
            if answer == b"":
                break
        except TimeoutError:
            continue
        except OSError:  # reset: cut
            break
    assert time.monotonic() - started < READ_TIMEOUT + 5
    assert answer == b""
    connection.close()
    assert served.request("GET", "/healthz").status == 200


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
        (b"G\x01T / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", 400),
    ],
)
def test_gunicorns_own_errors_are_problem_documents(
    served: Service, request_bytes: bytes, status: int
) -> None:
    connection = stall(served.port, request_bytes)
    connection.settimeout(10)
    raw = b""
    while chunk := connection.recv(4096):
        raw += chunk
    connection.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    assert status_line.split(" ")[1] == str(status)
    headers = dict(line.split(": ", 1) for line in header_lines)
    assert headers["Content-Type"] == "application/problem+json"
    # The headers of every response, here too.
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])
    problem = json.loads(body)
    assert problem["status"] == status
    assert set(problem) == {"type", "title", "status", "detail"}
    assert headers["X-Request-ID"] in served.log()  # logged before answering


def test_a_held_lock_is_a_503_within_the_timeout_and_workers_survive(
    served: Service, empty_database_url: str
) -> None:
    gift = served.request("POST", GIFTS, {"name": "Kite"}).body
    url = f"{GIFTS}/{gift['id']}"
    holder = sa.create_engine(database_url(empty_database_url))
    with holder.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.exec_driver_sql("LOCK TABLE gifts IN ACCESS EXCLUSIVE MODE")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            connection.exec_driver_sql("UPDATE gifts SET notes = 'held'")
        calls = [("PATCH", url, {"notes": f"n{i}"}) for i in range(4)]
        if postgres:  # SQLite readers go on beside a writer (WAL)
            calls += [("GET", url, None), ("GET", GIFTS, None)]
        with ThreadPoolExecutor(len(calls)) as pool:
            results = list(pool.map(lambda call: timed(served, *call), calls))
        ready, ready_time = timed(served, "GET", "/readyz")
        connection.rollback()
    holder.dispose()

    bound = max(STATEMENT_MS, LOCK_MS) / 1000 + 3  # plus a loaded machine's delay
    for reply, elapsed in results:
        assert reply.status == 503, reply.body
        assert reply.headers["content-type"] == "application/problem+json"
        assert int(reply.headers["retry-after"]) > 0
        assert elapsed < bound, elapsed
    assert ready.status == 200 and ready_time < bound
    after = served.request("PATCH", url, {"notes": "after"})
    assert after.status == 200 and after.body["notes"] == "after"
    log = served.log()
    assert "WORKER TIMEOUT" not in log, log[-3000:]
    assert log.count("Booting worker") == WORKERS, log[-3000:]


def test_cors_origins_star_stops_gunicorn_with_a_clear_message(
    tmp_path: Path,
) -> None:
    """Refused at start, not served with every site allowed."""
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gifts.db'}",
        "PORT": str(free_port()),
        "CORS_ORIGINS": "*",
    }
    with open(log, "wb") as out:
        process = subprocess.run(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
            + ["--no-control-socket", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=60,
        )
    assert process.returncode != 0
    assert "CORS_ORIGINS=* is refused" in log.read_text()

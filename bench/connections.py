"""How many database connections the served app opens under load: a count,
not a time (not run by make bench).

Serves the app as `make run` does (gunicorn.conf.py, LOG_LEVEL=DEBUG so each
new connection is a "database connection opened" line), seeded with 1 000
gifts, and drives each case with N requests from 16 keep-alive clients after a
warm-up. Reports, per case, the new connections the workers logged and, on
PostgreSQL, the server's own count (pg_stat_database.sessions, read from
another database).

    .venv/bin/python bench/connections.py
    BENCH_CONNECTIONS_N=2000    requests per case (default 2000)
    BENCH_CONNECTIONS_URL=...   serve this (empty) database instead of a temp
                                SQLite file and a gifts_bench_*_conn database
    PORT=8500                   serve on this port (default: a free one)
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import database_url  # noqa: E402
from bench import databases, serving  # noqa: E402
from bench.seed import seed_gifts  # noqa: E402

N = int(os.environ.get("BENCH_CONNECTIONS_N") or 2000)
CLIENTS = 16
GIFTS = 1000
WARMUP = 400
OPENED = "database connection opened"


class Clients:
    """One keep-alive HTTP connection per client thread, as wrk keeps them."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.local = threading.local()

    def call(self, method: str, path: str, body: object = None) -> int:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
            self.local.connection = connection
        headers = {"Authorization": f"Bearer {self.token}"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            response.read()
        except (http.client.HTTPException, OSError):
            connection.close()
            self.local.connection = None
            return 0
        if response.will_close:
            connection.close()
            self.local.connection = None
        return response.status


def cases(clients: Clients) -> dict[str, Callable[[int], int]]:
    def gift(i: int) -> str:
        return f"/api/v1/gifts/{1 + (i * 7919) % GIFTS}"

    return {
        "GET one gift": lambda i: clients.call("GET", gift(i)),
        "GET a page of 50": lambda i: clients.call("GET", "/api/v1/gifts?limit=50"),
        "PATCH from_santa": lambda i: clients.call(
            "PATCH", gift(i), {"from_santa": i % 2 == 0}
        ),
        "POST a gift": lambda i: clients.call(
            "POST", "/api/v1/gifts", {"name": f"Bench kite {i}", "price": 12.5}
        ),
    }


def sessions_counter(url: str) -> Callable[[], int | None]:
    """PostgreSQL's count of sessions ever opened to the served database, read
    over a connection to another database (so the reading does not count)."""
    served = sa.make_url(database_url(url))
    if served.get_backend_name() != "postgresql":
        return lambda: None
    admin = sa.create_engine(
        served.set(database="postgres"), poolclass=sa.pool.NullPool
    )
    query = sa.text("SELECT sessions FROM pg_stat_database WHERE datname = :name")

    def read() -> int | None:
        with admin.connect() as connection:
            return connection.scalar(query, {"name": served.database})

    return read


def measure(url: str, name: str, workdir: Path) -> None:
    databases.flask_cli(url, "db", "upgrade")
    seed_gifts(url, GIFTS)
    databases.flask_cli(url, "members", "add", "bench", "--role", "parent")
    token = databases.flask_cli(url, "tokens", "create", "bench", "--label", "bench")
    token = token.split()[-1]
    if os.environ.get("PORT"):
        serving.free_port = lambda: int(os.environ["PORT"])
    log_path = workdir / f"{name}.log"
    sessions = sessions_counter(url)
    env = {"DATABASE_URL": url, "LOG_LEVEL": "DEBUG"}
    with serving.serving("wsgi:app", env, log_path) as server:
        clients = Clients(server.port, token)

        def opened() -> int:
            lines = log_path.read_text(errors="replace").splitlines()
            return sum(
                1
                for line in lines
                if line.startswith("{") and json.loads(line).get("message") == OPENED
            )

        print(f"\n## {name}: {CLIENTS} clients, {N} requests a case\n")
        by_case = cases(clients)
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(by_case["GET one gift"], range(WARMUP)))
            print(f"  at start and warm-up ({WARMUP} GET one): {opened()} opened")
            for label, case in by_case.items():
                before, server_before = opened(), sessions()
                statuses = list(pool.map(case, range(N)))
                failed = sum(1 for status in statuses if status not in (200, 201))
                line = f"  {label:18} {opened() - before:4} new connections"
                if server_before is not None:
                    time.sleep(1.0)  # a backend reports its session within a second
                server_after = sessions()
                if server_before is not None and server_after is not None:
                    line += f" (server: {server_after - server_before})"
                print(line + f", {failed} answers not 2xx")


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="gifts-connections-"))
    postgres = None
    try:
        explicit = os.environ.get("BENCH_CONNECTIONS_URL")
        if explicit:
            measure(
                explicit,
                sa.make_url(database_url(explicit)).get_backend_name(),
                workdir,
            )
            return
        measure(f"sqlite:///{workdir / 'connections.db'}", "SQLite", workdir)
        postgres, why = databases.find_postgres()
        if postgres is None:
            print(f"\nPostgreSQL skipped: {why}")
        else:
            url = postgres.create(f"gifts_bench_{os.getpid()}_conn")
            measure(url, "PostgreSQL", workdir)
    finally:
        if postgres is not None:
            postgres.drop_all()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

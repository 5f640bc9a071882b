"""`make bench`: throughput, latency, scaling and memory of the Gifts API.

What it does, in one bounded run (about 4 minutes with the defaults):

1. HTTP: serves the real app with `gunicorn -c gunicorn.conf.py wsgi:app` (the
   `make run` command and config, HOST=127.0.0.1, a free PORT, WEB_CONCURRENCY
   as set or the config's default) on a fresh SQLite file and, when PostgreSQL
   answers, on a fresh database `gifts_bench_<pid>`; both migrated with
   `flask db upgrade` and seeded with 10 000 gifts, 10 people and 20 lists
   (each gift for 1 or 2 people and on 0 to 2 lists). `wrk` (a separate process on
   127.0.0.1) drives each endpoint for BENCH_DURATION seconds after a warm-up.
   The ceiling, bench/ceiling.py (a minimal Flask app returning one gift's JSON,
   same gunicorn config), is measured in the same run; every endpoint is
   reported as a ratio to it.
2. Scaling: the from_santa migration (0002) up and down with 1 000 and
   1 000 000 rows at revision 0001, timed in-process; then the first and the
   last listing page of the 1 000 000-row table at head, and the first and
   last page filtered by a list holding every 20th gift, and the first page
   of two searches ("1234", 300 gifts; "gift 1234", 111 gifts, but "gift" is
   in every name), against the unfiltered first page.
3. Memory: peak RSS (VmHWM) of each gunicorn worker after its load.

Results: bench/results/latest.json and latest.png, and Markdown on stdout.
Everything it starts or creates (processes, temp dir, gifts_bench_* databases)
is removed in `finally` blocks, also on Ctrl-C or SIGTERM.

Environment: BENCH_DURATION (s per case, default 10), BENCH_WARMUP (s, default
2), BENCH_CONNECTIONS (16), BENCH_THREADS (2), BENCH_SCALE_ROWS (1000000),
BENCH_REPEATS (5), BENCH_DATABASE_URL (a PostgreSQL maintenance database to
create the bench databases from; default postgres@127.0.0.1:5432/postgres if it
answers), BENCH_SKIP_POSTGRES=1.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import platform
import runpy
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
BIN = Path(sys.executable).parent  # the venv's bin: gunicorn, flask

sys.path.insert(0, str(ROOT))  # `app` and `bench.seed`, even outside the venv

from app import create_app  # noqa: E402
from app.access import accounts  # noqa: E402
from app.config import database_url  # noqa: E402
from app.extensions import db  # noqa: E402
from app.gifts.store import encode_cursor  # noqa: E402
from app.models import Gift  # noqa: E402
from bench.seed import (  # noqa: E402
    insert_rows_sql,
    link_scale_rows,
    seed_gifts,
    seed_people_and_lists,
)


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


DURATION = max(1, round(_env_number("BENCH_DURATION", 10)))
WARMUP = max(1, round(_env_number("BENCH_WARMUP", min(2, DURATION))))
CONNECTIONS = int(_env_number("BENCH_CONNECTIONS", 16))
THREADS = int(_env_number("BENCH_THREADS", 2))
SCALE_SMALL = 1_000
SCALE_BIG = int(_env_number("BENCH_SCALE_ROWS", 1_000_000))
REPEATS = int(_env_number("BENCH_REPEATS", 5))
GIFTS = 10_000
DEFAULT_PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"

# Targets (ratios to the ceiling), from the performance issue.
THROUGHPUT_TARGETS = {
    "get_one": {"sqlite": 0.60, "postgresql": 0.45},
    "patch_santa": {"sqlite": 0.40, "postgresql": 0.35},
    "get_page": {"sqlite": 0.20, "postgresql": 0.20},
}
TAIL_MAX = 5.0  # p99 <= 5 x p50
SCALING_MAX = 1.5  # 1M rows <= 1.5 x 1k rows; last page <= 1.5 x first page
# A rare search's first page <= 3 x the unfiltered first page at 1M gifts
# (PostgreSQL, its trigram index: it reads the matches, then sorts them; a
# scan of the table is about 100 x).
SEARCH_MAX = 3.0


@dataclass(frozen=True)
class Case:
    key: str
    title: str
    script: str
    method: str
    path: str  # for the one-request check before the run: {low} = first id
    body: Any
    status: int


CASES = (
    Case(
        "get_one",
        "GET one gift",
        "get_one.lua",
        "GET",
        "/api/v1/gifts/{low}",
        None,
        200,
    ),
    Case(
        "get_page",
        "GET a page of 50",
        "get_page.lua",
        "GET",
        "/api/v1/gifts?limit=50",
        None,
        200,
    ),
    Case(
        "get_page_person",
        "GET a page of 50 for a person",
        "get_page_person.lua",
        "GET",
        "/api/v1/gifts?limit=50&person_ids=1",
        None,
        200,
    ),
    Case(
        "summary",
        "GET the summary",
        "summary.lua",
        "GET",
        "/api/v1/gifts/summary",
        None,
        200,
    ),
    Case(
        "patch_santa",
        "PATCH from_santa",
        "patch_santa.lua",
        "PATCH",
        "/api/v1/gifts/{low}",
        {"from_santa": True},
        200,
    ),
    Case(
        "bulk_patch",
        "PATCH 50 gifts (bulk)",
        "bulk_patch.lua",
        "PATCH",
        "/api/v1/gifts",
        "bulk",
        200,
    ),
    Case(
        "post",
        "POST a gift",
        "post.lua",
        "POST",
        "/api/v1/gifts",
        {"name": "Bench kite", "price": 12.5},
        201,
    ),
)
# Measured again under the former server setup (2 sync workers, no threads),
# in the same run, to compare it with gunicorn.conf.py's threaded workers.
COMPARED = tuple(c for c in CASES if c.key in ("get_one", "patch_santa"))
FORMER_SETUP = {"GUNICORN_WORKER_CLASS": "sync", "GUNICORN_THREADS": "1"}
CEILING = Case(
    "ceiling",
    "ceiling (fixed JSON)",
    "get_one.lua",
    "GET",
    "/api/v1/gifts/{low}",
    None,
    200,
)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# Processes -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def expected_workers() -> int:
    """What gunicorn.conf.py will start (it reads WEB_CONCURRENCY itself)."""
    return int(runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"])


def worker_setup() -> str:
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    kind = conf["worker_class"].rsplit(".", 1)[-1]
    return f"{conf['workers']} {kind} workers x {conf['threads']} threads"


def children(pid: int) -> list[int]:
    pids = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            pids += [int(p) for p in task.read_text().split()]
    return sorted(pids)


CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (0 if it is gone)."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICK
    return 0.0


def machine_busy_seconds() -> float:
    """CPU time all cores spent busy (not idle, not waiting for I/O)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICK


class CpuMeter:
    """Who used the CPU during a run: the server, the database, wrk, the rest.

    The machine has 2 cores shared by wrk, gunicorn, PostgreSQL and whatever
    else runs (other sessions' tests): CPU time per request is the figure that
    other load disturbs least."""

    def __init__(
        self, server_pids: Callable[[], list[int]], db_pids: Callable[[], list[int]]
    ) -> None:
        self.server_pids, self.db_pids = server_pids, db_pids

    def snapshot(self) -> dict[str, Any]:
        server = {pid: cpu_seconds(pid) for pid in self.server_pids()}
        database = {pid: cpu_seconds(pid) for pid in self.db_pids()}
        children = os.times()
        return {
            "server": server,
            "db": database,
            "wrk": children.children_user + children.children_system,
            "busy": machine_busy_seconds(),
            "wall": time.monotonic(),
        }

    @staticmethod
    def usage(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
        def delta(kind: str) -> float:
            return sum(
                seconds - before[kind].get(pid, 0.0)
                for pid, seconds in after[kind].items()
            )

        used = {"server": delta("server"), "db": delta("db")}
        used["wrk"] = after["wrk"] - before["wrk"]
        used["other"] = max(0.0, after["busy"] - before["busy"] - sum(used.values()))
        used["wall"] = after["wall"] - before["wall"]
        return used  # fmt: skip


def vm_kib(pid: int, field: str) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


class Gunicorn:
    """`gunicorn -c gunicorn.conf.py APP` on 127.0.0.1:<free port>, as `make run`."""

    def __init__(self, app_spec: str, env: dict[str, str], log_path: Path) -> None:
        self.app_spec, self.extra_env, self.log_path = app_spec, env, log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Gunicorn:
        self.port = free_port()
        env = {**os.environ, **self.extra_env, "HOST": "127.0.0.1"}
        env["PORT"] = str(self.port)
        command = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", self.app_spec]
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: we can kill all of it
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_tail()}")
            ready = len(children(self.process.pid)) >= expected_workers()
            if ready and http(self.url + "/healthz")[0] == 200:
                # let every worker import the app before the warm-up
                time.sleep(1.0)
                return self
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn not ready in 60 s:\n{self.log_tail()}")

    def pids(self) -> list[int]:
        if self.process is None:
            return []
        return [self.process.pid, *children(self.process.pid)]

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            text = self.log_path.read_text(errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        return ""

    def memory(self) -> dict[str, Any]:
        """Peak resident memory (VmHWM) of the master and of each worker, in MiB."""
        assert self.process is not None
        workers = {pid: vm_kib(pid, "VmHWM") for pid in children(self.process.pid)}
        per_worker = [round(kib / 1024, 1) for kib in workers.values() if kib]
        master = vm_kib(self.process.pid, "VmHWM")
        return {
            "workers": len(per_worker),
            "worker_vmhwm_mib": per_worker,
            "worker_vmhwm_max_mib": max(per_worker, default=None),
            "master_vmhwm_mib": round(master / 1024, 1) if master else None,
        }

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # graceful: the master stops workers
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # its own group only
            process.wait(timeout=5)


@contextlib.contextmanager
def serving(app_spec: str, env: dict[str, str], log_path: Path) -> Iterator[Gunicorn]:
    server = Gunicorn(app_spec, env, log_path)
    try:
        yield server.start()
    finally:
        server.stop()


def http(
    url: str, method: str = "GET", body: Any = None, token: str | None = None
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (OSError, ValueError):
        return 0, None


# wrk -------------------------------------------------------------------------


def ensure_wrk() -> str:
    """wrk from Debian's packages: installed here if missing and we are root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk is missing: apt-get install -y wrk")
        install = ["apt-get", "install", "-y", "-q", "wrk"]
        if subprocess.run(install, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True)
            subprocess.run(install, capture_output=True)
        found = shutil.which("wrk")
        if found:
            return found
    sys.exit(
        "bench: `wrk` is needed (Debian package `wrk`): "
        "sudo apt-get install -y wrk, then run again."
    )


def wrk_version(wrk: str) -> str:
    result = subprocess.run([wrk, "-v"], capture_output=True, text=True)
    return (result.stdout or result.stderr).splitlines()[0].split(" [")[0]


def run_wrk(
    wrk: str,
    url: str,
    script: str,
    ids: tuple[int, int],
    seconds: int,
    token: str = "",
) -> dict:
    command = [
        wrk,
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / "wrk" / script),
        url,
        "--",
        str(ids[0]),
        str(ids[1]),
    ]
    # The token goes through the environment: never on a command line or in
    # the results.
    env = {**os.environ, "LUA_PATH": f"{BENCH / 'wrk'}/?.lua;;", "BENCH_TOKEN": token}
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=seconds + 60
    )
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            raw = json.loads(line[len("BENCH_JSON ") :])
            break
    else:
        raise RuntimeError(f"wrk failed:\n{result.stdout}\n{result.stderr}")
    seconds_run = raw["duration_us"] / 1e6
    errors = sum(
        raw[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return {
        "requests": raw["requests"],
        "seconds": round(seconds_run, 2),
        "rps": round(raw["requests"] / seconds_run, 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "p99_over_p50": round(raw["p99_us"] / max(raw["p50_us"], 1), 2),
        "non_2xx": raw["non_2xx_3xx"],
        "socket_errors": errors,
        "kib_per_s": round(raw["bytes"] / 1024 / seconds_run, 1),
        "command": "LUA_PATH='bench/wrk/?.lua;;' "
        + shlex.join(command).replace(str(ROOT) + "/", ""),
    }


def check_case(
    server: Gunicorn, case: Case, ids: tuple[int, int], token: str
) -> str | None:
    """One request first: the endpoint answers what the run will count as success."""
    body = case.body
    if body == "bulk":
        body = {
            "ids": list(range(ids[0], ids[0] + 50)),
            "changes": {"from_santa": True},
        }
    url = server.url + case.path.format(low=ids[0])
    status, answer = http(url, case.method, body, token)
    if status != case.status:
        return f"expected {case.status}, got {status}: {answer!r:.300}"
    if case.key == "get_page" and len(answer["items"]) != 50:
        return f"expected 50 items, got {len(answer['items'])}"
    if case.key == "bulk_patch" and len(answer["items"]) != 50:
        return f"expected 50 items, got {len(answer['items'])}"
    if case.key in ("get_one", "patch_santa", "post") and "from_santa" not in answer:
        return f"no from_santa in {answer!r:.300}"
    return None


def measure(
    wrk: str,
    server: Gunicorn,
    case: Case,
    ids: tuple[int, int],
    token: str,
    db_pids: Callable[[], list[int]] = list,
) -> dict:
    problem = check_case(server, case, ids, token)
    if problem:
        raise RuntimeError(f"{case.title}: {problem}\n{server.log_tail()}")
    run_wrk(wrk, server.url, case.script, ids, WARMUP, token)
    meter = CpuMeter(server.pids, db_pids)
    before = meter.snapshot()
    result = {
        "title": case.title,
        **run_wrk(wrk, server.url, case.script, ids, DURATION, token),
    }
    used = meter.usage(before, meter.snapshot())
    requests = max(result["requests"], 1)
    result["cpu_ms_per_request"] = {
        kind: round(used[kind] * 1000 / requests, 3) for kind in ("server", "db", "wrk")
    }
    cores = os.cpu_count() or 1
    result["cpu_share"] = {
        kind: round(used[kind] / (used["wall"] * cores), 3)
        for kind in ("server", "db", "wrk", "other")
    }
    log(
        f"  {case.title:24} {result['rps']:8.1f} req/s  p50 {result['p50_ms']:.2f} ms"
        f"  p99 {result['p99_ms']:.2f} ms  non-2xx {result['non_2xx']}"
        f"  cpu/req {result['cpu_ms_per_request']['server']:.2f}"
        f"+{result['cpu_ms_per_request']['db']:.2f} ms"
        f"  other load {result['cpu_share']['other']:.0%}"
    )
    return result


# Databases -------------------------------------------------------------------


def flask_cli(url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi.py"}
    result = subprocess.run(
        [str(BIN / "flask"), *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


class Postgres:
    """A server reachable as BENCH_DATABASE_URL (or the local default): makes
    and drops gifts_bench_* databases, nothing else."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = sa.make_url(database_url(admin_url))
        self.engine = sa.create_engine(
            self.admin_url,
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 3},
            poolclass=sa.pool.NullPool,
        )
        self.created: list[str] = []

    def version(self) -> str:
        with self.engine.connect() as connection:
            return connection.exec_driver_sql("SHOW server_version").scalar_one()

    def create(self, name: str) -> str:
        assert name.startswith("gifts_bench_")
        with self.engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def backend_pids(self, name: str) -> list[int]:
        """The server processes serving database ``name`` (their CPU is the
        database's share of a request)."""
        with self.engine.connect() as connection:
            return list(
                connection.scalars(
                    sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :name"),
                    {"name": name},
                )
            )

    def drop_all(self) -> None:
        with self.engine.connect() as connection:
            while self.created:
                name = self.created.pop()
                connection.exec_driver_sql(
                    f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
                )
        self.engine.dispose()


def find_postgres() -> tuple[Postgres | None, str]:
    if os.environ.get("BENCH_SKIP_POSTGRES"):
        return None, "BENCH_SKIP_POSTGRES is set"
    explicit = os.environ.get("BENCH_DATABASE_URL")
    server = Postgres(explicit or DEFAULT_PG_ADMIN)
    try:
        server.version()
    except sa.exc.OperationalError as error:
        if explicit:
            raise RuntimeError(f"BENCH_DATABASE_URL does not answer: {error}") from None
        return None, "no PostgreSQL answers on 127.0.0.1:5432 (user postgres)"
    return server, ""


# The HTTP benchmark ------------------------------------------------------------


def typical_gift_body(url: str, token: str) -> bytes:
    """The JSON of a gift of median size, as the real app serves it."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    bodies = sorted(
        (client.get(f"/api/v1/gifts/{gift_id}").data for gift_id in range(1, 102)),
        key=len,
    )
    with app.app_context():
        db.engine.dispose()
    return bodies[len(bodies) // 2]


def bench_service(
    wrk: str,
    url: str,
    workdir: Path,
    name: str,
    db_pids: Callable[[], list[int]] = list,
) -> dict:
    """Migrate and seed, measure the ceiling, then every endpoint of the app.

    The ceiling runs right before the app's cases, so that both see about the
    same background load (the 2 cores are shared)."""
    log(f"{name}: flask db upgrade, seed {GIFTS} gifts")
    flask_cli(url, "db", "upgrade")
    started = time.perf_counter()
    ids = seed_gifts(url, GIFTS)
    seed_people_and_lists(url, ids)
    seed_seconds = round(time.perf_counter() - started, 2)
    result: dict[str, Any] = {"seed_seconds": seed_seconds, "ids": list(ids)}
    # Every case is authenticated, as every client must be.
    flask_cli(url, "members", "add", "bench", "--role", "parent")
    token = flask_cli(url, "tokens", "create", "bench", "--label", "bench").split()[-1]
    result["ceiling"] = bench_ceiling(
        wrk, typical_gift_body(url, token), workdir, token
    )
    with serving("wsgi:app", {"DATABASE_URL": url}, workdir / f"{name}.log") as server:
        log(f"{name}: gunicorn on {server.url}")
        result["endpoints"] = {
            case.key: measure(wrk, server, case, ids, token, db_pids) for case in CASES
        }
        result["memory"] = server.memory()
        result["server_errors_logged"] = server.log_tail(10000).count("Traceback")
    env = {"DATABASE_URL": url, **FORMER_SETUP}
    with serving("wsgi:app", env, workdir / f"{name}-sync.log") as server:
        log(f"{name}: the former setup (sync workers) on {server.url}")
        result["sync_workers"] = {
            case.key: measure(wrk, server, case, ids, token, db_pids)
            for case in COMPARED
        }
    return result


def bench_ceiling(wrk: str, body: bytes, workdir: Path, token: str) -> dict:
    """The ceiling app gets the same requests, token included (it ignores it)."""
    body_path = workdir / "ceiling.json"
    body_path.write_bytes(body)
    env = {"BENCH_CEILING_BODY": str(body_path)}
    with serving("bench.ceiling:app", env, workdir / "ceiling.log") as server:
        log(f"ceiling: gunicorn on {server.url}, {len(body)} bytes of JSON")
        result = measure(wrk, server, CEILING, (1, GIFTS), token)
        result["memory"] = server.memory()
    result["body_bytes"] = len(body)
    return result


# Scaling -----------------------------------------------------------------------


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def _fill(dialect: str, rows: int) -> float:
    started = time.perf_counter()
    with db.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM gifts")
        connection.execute(insert_rows_sql(dialect), {"rows": rows})
    if dialect == "postgresql":
        with db.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as connection:
            connection.exec_driver_sql("VACUUM ANALYZE gifts")
    return round(time.perf_counter() - started, 2)


def time_migration(dialect: str) -> dict:
    """0002 up and down, REPEATS times each, at 1k and at SCALE_BIG rows."""
    from flask_migrate import downgrade, upgrade

    result: dict[str, Any] = {}
    for rows in (SCALE_SMALL, SCALE_BIG):
        fill_seconds = _fill(dialect, rows)
        ups, downs = [], []
        for _ in range(REPEATS):
            started = time.perf_counter()
            upgrade(revision="0002")
            ups.append(time.perf_counter() - started)
            started = time.perf_counter()
            downgrade(revision="0001")
            downs.append(time.perf_counter() - started)
        result[str(rows)] = {
            "rows": rows,
            "fill_seconds": fill_seconds,
            "upgrade_ms": _median_ms(ups),
            "downgrade_ms": _median_ms(downs),
            "upgrade_samples_ms": [round(s * 1000, 2) for s in ups],
            "downgrade_samples_ms": [round(s * 1000, 2) for s in downs],
        }
        log(
            f"  {rows:>9} rows: upgrade {result[str(rows)]['upgrade_ms']} ms,"
            f" downgrade {result[str(rows)]['downgrade_ms']} ms"
        )
    small, big = result[str(SCALE_SMALL)], result[str(SCALE_BIG)]
    result["upgrade_ratio"] = round(big["upgrade_ms"] / small["upgrade_ms"], 2)
    result["downgrade_ratio"] = round(big["downgrade_ms"] / small["downgrade_ms"], 2)
    return result


class _Row(dict):
    """A gift row that encode_cursor can read as a mapping or as an object."""

    __getattr__ = dict.__getitem__


def _cursor_of(sort: str, statement: str) -> str:
    """The app's own cursor for the gift that ``statement`` picks."""
    gift_id = db.session.execute(sa.text(statement)).scalar_one()
    table = Gift.__table__
    row = db.session.execute(sa.select(table).where(table.c.id == gift_id))
    return encode_cursor(sort, _Row(row.mappings().one()))


def time_listing(app: Any, list_id: int) -> dict:
    """First page against pages at the end of the table, through the app; and
    pages of the gifts on list ``list_id`` against the unfiltered first page."""
    client = app.test_client()
    with app.app_context():
        member = accounts.add_member(f"bench-listing-{os.getpid()}", "parent")
        _, token = accounts.create_token(member, label="bench listing")
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    with app.app_context():
        pages = {
            "recent_first": ("", True),
            "recent_last": (
                "&cursor="
                + _cursor_of(
                    "recent", "SELECT id FROM gifts ORDER BY id LIMIT 1 OFFSET 50"
                ),
                False,
            ),
            "price_asc_first": ("&sort=price_asc", True),
            "price_asc_end_of_priced": (
                "&sort=price_asc&cursor="
                + _cursor_of(
                    "price_asc",
                    "SELECT id FROM gifts WHERE price IS NOT NULL"
                    " ORDER BY price DESC, id DESC LIMIT 1 OFFSET 50",
                ),
                True,
            ),
            "price_asc_last": (
                "&sort=price_asc&cursor="
                + _cursor_of(
                    "price_asc",
                    "SELECT id FROM gifts WHERE price IS NULL"
                    " ORDER BY id DESC LIMIT 1 OFFSET 50",
                ),
                False,
            ),
            # A list holding every 20th gift (bench.seed.link_scale_rows).
            "list_first": (f"&list_ids={list_id}", True),
            "list_last": (
                f"&list_ids={list_id}&cursor="
                + _cursor_of(
                    "recent",
                    f"SELECT gift_id FROM gift_lists WHERE list_id = {list_id}"
                    " ORDER BY gift_id LIMIT 1 OFFSET 50",
                ),
                False,
            ),
            # Names are "Gift <n>" (bench.seed). "1234" is in 300 of them, and
            # so are its trigrams: the index finds them. "gift 1234" is in 111,
            # but "gif" and "ift" are in every name: the index reads a
            # million entries for them (pg_trgm's weak spot, reported).
            "search_first": ("&search=1234", True),
            "search_common_word_first": ("&search=gift%201234", True),
        }
        db.session.remove()
    # Round-robin over the pages, so background load hits them all alike.
    samples: dict[str, list[float]] = {name: [] for name in pages}
    for attempt in range(35):
        for name, (query, has_more) in pages.items():
            path = "/api/v1/gifts?limit=50" + query
            started = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - started
            page = response.get_json()
            if response.status_code != 200 or len(page["items"]) != 50:
                raise RuntimeError(f"{path}: {response.status_code} {page!r:.300}")
            if page["has_more"] is not has_more:
                raise RuntimeError(f"{path}: has_more is {page['has_more']}")
            if attempt >= 5:  # the first rounds warm the caches
                samples[name].append(elapsed)
    result: dict[str, Any] = {
        name: {
            "median_ms": _median_ms(samples[name]),
            "path": "/api/v1/gifts?limit=50" + query,
        }
        for name, (query, _) in pages.items()
    }
    for sort in ("recent", "price_asc"):
        first = result[f"{sort}_first"]["median_ms"]
        result[f"{sort}_last_over_first"] = round(
            result[f"{sort}_last"]["median_ms"] / first, 2
        )
    for page in ("list_first", "list_last", "search_first", "search_common_word_first"):
        result[f"{page}_over_unfiltered_first"] = round(
            result[page]["median_ms"] / result["recent_first"]["median_ms"], 2
        )
    result["price_asc_end_of_priced_over_first"] = round(
        result["price_asc_end_of_priced"]["median_ms"]
        / result["price_asc_first"]["median_ms"],
        2,
    )
    log(
        f"  listing, {SCALE_BIG} rows: last/first page recent "
        f"{result['recent_last_over_first']}, price_asc "
        f"{result['price_asc_last_over_first']}; by a list, first "
        f"{result['list_first_over_unfiltered_first']}, last "
        f"{result['list_last_over_unfiltered_first']}; a rare search "
        f"{result['search_first_over_unfiltered_first']}, with a word in every "
        f"name {result['search_common_word_first_over_unfiltered_first']}"
        " x unfiltered first"
    )
    return result


def bench_scaling(url: str, dialect: str) -> dict:
    from flask_migrate import upgrade

    log(f"{dialect}: migration 0002 with {SCALE_SMALL} and {SCALE_BIG} rows")
    flask_cli(url, "db", "upgrade", "0001")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    try:
        with app.app_context():
            result: dict[str, Any] = {"migration": time_migration(dialect)}
            started = time.perf_counter()
            upgrade()  # head: 0002 and 0003 (version, the listing indexes)
            result["upgrade_to_head_with_big_table_s"] = round(
                time.perf_counter() - started, 2
            )
            with db.engine.begin() as connection:
                list_id = link_scale_rows(connection)
            if dialect == "postgresql":  # as autovacuum would after a bulk load
                with db.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                ) as connection:
                    connection.exec_driver_sql("ANALYZE gifts")
                    connection.exec_driver_sql("ANALYZE gift_lists")
        result["listing"] = time_listing(app, list_id)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return result


# Report ------------------------------------------------------------------------


def machine(wrk: str, postgres_version: str | None) -> dict:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import gunicorn

    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version,
        "gunicorn": gunicorn.__version__,
        "wrk": wrk_version(wrk),
        "workers": expected_workers(),
        "setup": worker_setup(),
    }


def code_version() -> dict[str, Any]:
    """The commit measured, and whether app/ or migrations/ had local edits."""

    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        )
        return result.stdout.strip()

    changed = git("status", "--porcelain", "--", "app", "migrations", "wsgi.py")
    return {
        "commit": git("rev-parse", "--short", "HEAD") or None,
        "uncommitted_changes": changed.splitlines(),
    }


def add_ratios(results: dict) -> list[dict]:
    """Throughput ratios to the ceiling, and every target as a pass/fail line."""
    checks: list[dict] = []
    for dialect, service in results["databases"].items():
        if "endpoints" not in service:
            continue
        ceiling_rps = service["ceiling"]["rps"]
        ceiling_cpu = service["ceiling"]["cpu_ms_per_request"]["server"]
        for key, endpoint in service["endpoints"].items():
            endpoint["ratio_to_ceiling"] = round(endpoint["rps"] / ceiling_rps, 3)
            cpu = endpoint["cpu_ms_per_request"]
            endpoint["cpu_ratio_to_ceiling"] = round(
                ceiling_cpu / max(cpu["server"] + cpu["db"], 1e-9), 3
            )
            target = THROUGHPUT_TARGETS.get(key, {}).get(dialect)
            endpoint["target_ratio"] = target
            if target is not None:
                checks.append(
                    _check(
                        f"{dialect} {endpoint['title']} x ceiling",
                        endpoint["ratio_to_ceiling"],
                        ">=",
                        target,
                    )
                )
            checks.append(
                _check(
                    f"{dialect} {endpoint['title']} p99/p50",
                    endpoint["p99_over_p50"],
                    "<=",
                    TAIL_MAX,
                )
            )
            checks.append(
                _check(
                    f"{dialect} {endpoint['title']} non-2xx",
                    endpoint["non_2xx"] + endpoint["socket_errors"],
                    "<=",
                    0,
                )
            )  # noqa: E501
    for dialect, scaling in results["scaling"].items():
        migration = scaling["migration"]
        checks.append(
            _check(
                f"{dialect} migration 0002 upgrade 1M/1k",
                migration["upgrade_ratio"],
                "<=",
                SCALING_MAX,
            )
        )
        if dialect == "postgresql":
            checks.append(
                _check(
                    f"{dialect} migration 0002 downgrade 1M/1k",
                    migration["downgrade_ratio"],
                    "<=",
                    SCALING_MAX,
                )
            )
        for sort in ("recent", "price_asc"):
            checks.append(
                _check(
                    f"{dialect} last/first listing page ({sort})",
                    scaling["listing"][f"{sort}_last_over_first"],
                    "<=",
                    SCALING_MAX,
                )
            )
        for page in ("first", "last"):
            checks.append(
                _check(
                    f"{dialect} {page} page by a list / unfiltered first",
                    scaling["listing"][f"list_{page}_over_unfiltered_first"],
                    "<=",
                    SCALING_MAX,
                )
            )
        if dialect == "postgresql":  # SQLite has no trigram index: it scans
            checks.append(
                _check(
                    f"{dialect} first page of a rare search / unfiltered first",
                    scaling["listing"]["search_first_over_unfiltered_first"],
                    "<=",
                    SEARCH_MAX,
                )
            )
    return checks  # fmt: skip


def _check(name: str, value: float, op: str, target: float) -> dict:
    ok = value >= target if op == ">=" else value <= target
    return {"check": name, "value": value, "target": f"{op} {target}", "ok": ok}


def markdown(results: dict) -> str:
    m, s = results["machine"], results["settings"]
    pg = f", PostgreSQL {m['postgresql']}" if m["postgresql"] else ""
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    services = {d: x for d, x in results["databases"].items() if "endpoints" in x}
    lines = [
        f"### Benchmark ({results['generated_at'][:10]}, `{results['command']}`)",
        "",
        f"Machine: {m['nproc']} × {m['cpu']}, Linux {m['kernel']}, Python "
        f"{m['python']}, SQLite {m['sqlite']}{pg}; gunicorn {m['gunicorn']} "
        f"(gunicorn.conf.py: {m.get('setup', m['workers'])}). Load: {m['wrk']} "
        f"`-t{s['threads']} -c{s['connections']}`, {s['duration_s']} s per case "
        f"after {s['warmup_s']} s warm-up, on the same {m['nproc']} cores as the "
        f"server. Code: {results['code']['commit']}"
        + (" with local changes" if results["code"]["uncommitted_changes"] else "")
        + ". 10 000 gifts; the ceiling (bench/ceiling.py: Flask, same gunicorn "
        "config, a fixed JSON gift) is measured right before each database's cases.",
        "",
        "| endpoint | database | req/s | × ceiling | target | p50 ms | p99 ms "
        "| p99/p50 | non-2xx | CPU ms/req app+db | CPU × ceiling |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    other = []
    for dialect, service in services.items():
        c = service["ceiling"]
        other.append(c["cpu_share"]["other"])
        lines.append(
            f"| *ceiling ({c['body_bytes']} B of JSON)* | {names[dialect]} "
            f"| {c['rps']:.0f} | 1.00 | | {c['p50_ms']:.2f} | {c['p99_ms']:.2f} "
            f"| {c['p99_over_p50']:.1f} | {c['non_2xx'] + c['socket_errors']} "
            f"| {c['cpu_ms_per_request']['server']:.2f} | 1.00 |"
        )
        for case in CASES:
            e = service["endpoints"][case.key]
            target = e["target_ratio"]
            mark = ""
            if target is not None:
                ok = e["ratio_to_ceiling"] >= target
                mark = f"≥ {target:.2f} " + ("✅" if ok else "❌")
            tail = "" if e["p99_over_p50"] <= TAIL_MAX else " ❌"
            cpu = e["cpu_ms_per_request"]
            db_cpu = f"+{cpu['db']:.2f}" if dialect == "postgresql" else ""
            other.append(e["cpu_share"]["other"])
            lines.append(
                f"| {case.title} | {names[dialect]} | {e['rps']:.0f} "
                f"| {e['ratio_to_ceiling']:.2f} | {mark} | {e['p50_ms']:.2f} "
                f"| {e['p99_ms']:.2f} | {e['p99_over_p50']:.1f}{tail} "
                f"| {e['non_2xx'] + e['socket_errors']} "
                f"| {cpu['server']:.2f}{db_cpu} | {e['cpu_ratio_to_ceiling']:.2f} |"
            )
    noisy = max(other, default=0)
    verdict = ": req/s are noisy, trust the CPU column more." if noisy > 0.05 else "."
    lines += [
        "",
        "× ceiling: req/s over the ceiling's req/s (what the targets are about). "
        "CPU × ceiling: the ceiling's CPU time per request over this endpoint's "
        "(gunicorn workers, plus the PostgreSQL backends): a cross-check that load "
        f"from other processes disturbs less. Processes outside the bench used up to "
        f"{noisy:.0%} of the machine during a case{verdict}",
    ]
    compared = [(d, x) for d, x in services.items() if "sync_workers" in x]
    if compared:
        lines += [
            "",
            f"| this setup ({m.get('setup')}) vs the former (2 sync workers) "
            "| database | req/s | sync req/s | ratio | p99 ms | sync p99 ms |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for dialect, service in compared:
            for key, sync in service["sync_workers"].items():
                e = service["endpoints"][key]
                lines.append(
                    f"| {e['title']} | {names[dialect]} | {e['rps']:.0f} "
                    f"| {sync['rps']:.0f} | {e['rps'] / max(sync['rps'], 1):.2f} "
                    f"| {e['p99_ms']:.2f} | {sync['p99_ms']:.2f} |"
                )
    scaling = results["scaling"]
    if scaling:
        dialects = list(scaling)
        big = f"{SCALE_BIG / 1e6:g}M" if SCALE_BIG >= 1e6 else str(SCALE_BIG)
        lines += [
            "",
            f"| scaling (median of {s['repeats']}; ms) | "
            + " | ".join(names[d] for d in dialects)
            + " | target |",
            "|---|" + "---:|" * len(dialects) + "---|",
        ]

        def row(label: str, get: Callable[[dict], Any], target: str = "") -> None:
            values = " | ".join(str(get(scaling[d])) for d in dialects)
            lines.append(f"| {label} | {values} | {target} |")

        small = str(SCALE_SMALL)
        row("0002 upgrade, 1k rows", lambda x: x["migration"][small]["upgrade_ms"])
        row(
            f"0002 upgrade, {big} rows",
            lambda x: x["migration"][str(SCALE_BIG)]["upgrade_ms"],
        )
        row(f"upgrade {big}/1k", lambda x: x["migration"]["upgrade_ratio"], "≤ 1.5")
        row("0002 downgrade, 1k rows", lambda x: x["migration"][small]["downgrade_ms"])
        row(
            f"0002 downgrade, {big} rows",
            lambda x: x["migration"][str(SCALE_BIG)]["downgrade_ms"],
        )
        row(
            f"downgrade {big}/1k",
            lambda x: x["migration"]["downgrade_ratio"],
            "≤ 1.5 (PostgreSQL)",
        )
        for sort in ("recent", "price_asc"):
            row(
                f"listing {sort}: first page of {big}",
                lambda x, s=sort: x["listing"][f"{s}_first"]["median_ms"],
            )
            row(
                f"listing {sort}: last page of {big}",
                lambda x, s=sort: x["listing"][f"{s}_last"]["median_ms"],
            )
            row(
                f"listing {sort}: last/first",
                lambda x, s=sort: x["listing"][f"{s}_last_over_first"],
                "≤ 1.5",
            )
        row("listing price_asc: end of priced part/first",
            lambda x: x["listing"]["price_asc_end_of_priced_over_first"])  # fmt: skip
        for page in ("first", "last"):
            row(
                f"listing by a list (1 in 20 gifts): {page} page of {big}",
                lambda x, p=page: x["listing"][f"list_{p}"]["median_ms"],
            )
            row(
                f"listing by a list: {page} page/unfiltered first",
                lambda x, p=page: x["listing"][f"list_{p}_over_unfiltered_first"],
                "≤ 1.5",
            )
        row(
            f'search "1234" (300 of {big}): first page',
            lambda x: x["listing"]["search_first"]["median_ms"],
        )
        row(
            "search: first page/unfiltered first",
            lambda x: x["listing"]["search_first_over_unfiltered_first"],
            f"≤ {SEARCH_MAX:g} (PostgreSQL)",
        )
        row(
            f'search "gift 1234" (111 of {big}, "gift" in all): first page',
            lambda x: x["listing"]["search_common_word_first"]["median_ms"],
        )
        row(
            "search with a word in every name: first page/unfiltered first",
            lambda x: x["listing"]["search_common_word_first_over_unfiltered_first"],
        )
    lines += [
        "",
        "| server | workers | peak RSS per worker (VmHWM, MiB) | max |",
        "|---|---:|---|---:|",
    ]
    servers = [("ceiling", next(iter(services.values()))["ceiling"]["memory"])]
    servers += [(names[d], service["memory"]) for d, service in services.items()]
    for label, memory in servers:
        per_worker = ", ".join(f"{v:.0f}" for v in memory["worker_vmhwm_mib"])
        lines.append(
            f"| {label} | {memory['workers']} | {per_worker} "
            f"| {memory['worker_vmhwm_max_mib']:.0f} |"
        )
    failed = [c for c in results["checks"] if not c["ok"]]
    lines += [
        "",
        f"Targets: {len(results['checks']) - len(failed)} of "
        f"{len(results['checks'])} met."
        + ("" if not failed else " Missed: " + "; ".join(
            f"{c['check']} = {c['value']} (want {c['target']})" for c in failed)),
    ]  # fmt: skip
    return "\n".join(lines)


def chart(results: dict, path: Path) -> str | None:
    try:
        import matplotlib
    except ImportError:
        return "matplotlib is not installed: no chart (pip install matplotlib)"
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    services = {d: s for d, s in results["databases"].items() if "endpoints" in s}
    colours = {"sqlite": "#4C72B0", "postgresql": "#55A868"}
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [3, 2]}
    )
    width = 0.8 / max(len(services), 1)
    for index, (dialect, service) in enumerate(services.items()):
        for position, case in enumerate(CASES):
            endpoint = service["endpoints"][case.key]
            x = position + (index - (len(services) - 1) / 2) * width
            left.bar(
                x,
                endpoint["ratio_to_ceiling"],
                width * 0.95,
                color=colours[dialect],
                label=names[dialect] if position == 0 else None,
            )
            left.plot(
                x,
                endpoint["cpu_ratio_to_ceiling"],
                marker="D",
                color="black",
                markersize=4,
                linestyle="none",
                label="CPU-time ratio" if (index, position) == (0, 0) else None,
            )
            left.text(
                x,
                endpoint["ratio_to_ceiling"] + 0.01,
                f"{endpoint['ratio_to_ceiling']:.2f}",
                ha="center",
                va="bottom",
                fontsize=7,
            )
            if endpoint["target_ratio"] is not None:
                left.hlines(
                    endpoint["target_ratio"],
                    x - width / 2,
                    x + width / 2,
                    colors="#C44E52",
                    linestyles="--",
                    linewidth=2,
                    label="target" if (index, position) == (0, 0) else None,
                )
    left.set_xticks(range(len(CASES)))
    left.set_xticklabels([c.title for c in CASES], rotation=15, fontsize=8)
    left.set_ylabel("throughput / ceiling (fixed-JSON Flask app)")
    ceilings = ", ".join(
        f"{names[d]} run {x['ceiling']['rps']:.0f}" for d, x in services.items()
    )
    left.set_title(f"req/s ÷ ceiling req/s ({ceilings})", fontsize=10)  # noqa: E501
    left.set_ylim(0, 1.05)
    left.legend(fontsize=8)

    labels, values, bar_colours = [], [], []
    for dialect, scaling in results["scaling"].items():
        short = "PG" if dialect == "postgresql" else "SQLite"
        for label, value in (
            ("0002 up", scaling["migration"]["upgrade_ratio"]),
            (
                "0002 down" + (" (no target)" if dialect == "sqlite" else ""),
                scaling["migration"]["downgrade_ratio"],
            ),
            ("last page recent", scaling["listing"]["recent_last_over_first"]),
            ("last page price", scaling["listing"]["price_asc_last_over_first"]),
            ("by list first", scaling["listing"]["list_first_over_unfiltered_first"]),
            ("by list last", scaling["listing"]["list_last_over_unfiltered_first"]),
            (
                "search" + (" (no target)" if dialect == "sqlite" else " (≤ 3)"),
                scaling["listing"]["search_first_over_unfiltered_first"],
            ),
        ):
            labels.append(f"{short} {label}")
            values.append(value)
            bar_colours.append(colours[dialect])
    right.bar(range(len(values)), values, color=bar_colours)
    for x, value in enumerate(values):
        right.text(x, value, f"{value:g}", ha="center", va="bottom", fontsize=7)
    right.axhline(SCALING_MAX, color="#C44E52", linestyle="--", label="target ≤ 1.5")
    right.set_yscale("log")
    right.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    right.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    right.set_xticks(range(len(values)))
    right.set_xticklabels(labels, rotation=45, ha="right", fontsize=7)
    big = f"{SCALE_BIG / 1e6:g}M" if SCALE_BIG >= 1e6 else str(SCALE_BIG)
    right.set_title(
        f"{big} rows over 1k (migration 0002), last page over first", fontsize=10
    )
    right.legend(fontsize=8)
    m = results["machine"]
    figure.suptitle(
        f"Gifts API bench — {m['nproc']} cores {m['cpu']}, {m['workers']} workers,"
        f" wrk -t{THREADS} -c{CONNECTIONS}"
        " on the same cores",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return None


# Main --------------------------------------------------------------------------


def main() -> int:
    # SIGTERM (e.g. from make or CI) unwinds through the finally blocks.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logging.disable(logging.INFO)  # Alembic's per-migration lines
    warnings.filterwarnings("ignore", message="Dialect sqlite.*Decimal")
    begun = time.monotonic()
    wrk = ensure_wrk()
    postgres, postgres_skipped = find_postgres()
    results: dict[str, Any] = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "make bench  # .venv/bin/python bench/run.py",
        "machine": machine(wrk, postgres.version() if postgres else None),
        "code": code_version(),
        "settings": {
            "duration_s": DURATION,
            "warmup_s": WARMUP,
            "connections": CONNECTIONS,
            "threads": THREADS,
            "gifts": GIFTS,
            "scale_rows": [SCALE_SMALL, SCALE_BIG],
            "repeats": REPEATS,
            "env": {k: v for k, v in os.environ.items() if k.startswith("BENCH_")},
        },
        "databases": {},
        "scaling": {},
    }
    if postgres is None:
        results["databases"]["postgresql"] = {"skipped": postgres_skipped}
    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="gifts-bench-"))
    try:
        results["databases"]["sqlite"] = bench_service(
            wrk, f"sqlite:///{workdir / 'bench.db'}", workdir, "sqlite"
        )
        if postgres is not None:
            name = f"gifts_bench_{os.getpid()}"
            url = postgres.create(name)
            results["databases"]["postgresql"] = bench_service(
                wrk, url, workdir, "postgresql", lambda: postgres.backend_pids(name)
            )
        results["scaling"]["sqlite"] = bench_scaling(
            f"sqlite:///{workdir / 'scale.db'}", "sqlite"
        )
        if postgres is not None:
            url = postgres.create(f"gifts_bench_{os.getpid()}_scale")
            results["scaling"]["postgresql"] = bench_scaling(url, "postgresql")
    finally:
        if postgres is not None:
            postgres.drop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    results["checks"] = add_ratios(results)
    results["total_seconds"] = round(time.monotonic() - begun, 1)
    ordered = results
    tmp = RESULTS / "latest.json.tmp"
    tmp.write_text(json.dumps(ordered, indent=2) + "\n")
    tmp.replace(RESULTS / "latest.json")
    problem = chart(ordered, RESULTS / "latest.png")
    if problem:
        log(problem)
    print(markdown(ordered))
    log(f"done in {results['total_seconds']} s: bench/results/latest.json, latest.png")
    invalid = [
        c for c in results["checks"] if c["check"].endswith("non-2xx") and not c["ok"]
    ]
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main())

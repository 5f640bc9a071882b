"""The sign-in flood case of `make bench`: what a flood of sign-ins with
made-up logins costs a signed-in reader.

Serves the app as `make run` does (gunicorn -c gunicorn.conf.py wsgi:app, its
default workers and threads) on a fresh SQLite file with 200 gifts. A reader
(this process, one request at a time, a new connection each) lists a page of
20 gifts for FLOOD_QUIET seconds alone, then for FLOOD_SECONDS while
FLOOD_CLIENTS clients (another process, one thread each) send
POST /api/v1/sessions with made-up logins as fast as they are answered: no
token needed, and a new login each time, so the throttle never answers.
Prints the reader's p50 and p99 during the flood over its p50 without it, as
ratios (the machine's load moves absolutes), and what the flood got back.

FLOOD_COMPARE=1 also measures the service with the bound on password checks
lifted (SIGN_IN_HASHES_PER_WORKER and _PER_HOST of 1000): the flood as it was;
and the same clients listing gifts with made-up tokens (401, no password
checked): what any flood of cheap requests costs a reader.

Usage: .venv/bin/python bench/flood.py     (FLOOD_PORT: a port to serve on,
default a free one, of BENCH_PORTS if set; FLOOD_SECONDS 6, FLOOD_QUIET 6,
FLOOD_CLIENTS 24)
Last line: FLOOD_JSON {...}; `make bench` calls ``run`` (bench/features.py).
"""

from __future__ import annotations

import collections
import http.client
import json
import logging
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.access import accounts  # noqa: E402
from app.extensions import db  # noqa: E402
from bench.serving import free_port  # noqa: E402  (a port of BENCH_PORTS)

SECONDS = float(os.environ.get("FLOOD_SECONDS", 6))
QUIET = float(os.environ.get("FLOOD_QUIET", 6))
CLIENTS = int(os.environ.get("FLOOD_CLIENTS", 24))
TIMEOUT = 20.0  # any one request
READER_PATH = "/api/v1/gifts?limit=20"
UNBOUNDED = {"SIGN_IN_HASHES_PER_WORKER": "1000", "SIGN_IN_HASHES_PER_HOST": "1000"}


def log(message: str) -> None:
    print(f"[flood {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def request(
    port: int, method: str, path: str, body: Any = None, token: str | None = None
) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def prepare(url: str) -> str:
    """Migrate and fill the database; a reader's token."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        member = accounts.add_member("Reader", "parent", None, "reader's password")
        _, token = accounts.create_token(member, label="flood bench")
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    for n in range(200):
        assert (
            client.post("/api/v1/gifts", json={"name": f"Gift {n}"}).status_code == 201
        )
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()
    return token


class Served:
    """gunicorn as `make run` starts it; always stopped."""

    def __init__(self, url: str, port: int, workdir: Path, extra: dict[str, str]):
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "SIGN_IN_SLOTS_DIR": str(workdir / "slots"),
            **extra,
        }
        self.port = port
        self.log_path = workdir / f"gunicorn-{port}-{len(extra)}.log"
        with open(self.log_path, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
                + ["wsgi:app"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_path.read_text()}")
            try:
                if request(self.port, "GET", "/readyz") == 200:
                    time.sleep(1.0)  # every worker has imported the app
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn not ready in 60 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def read_for(port: int, token: str, seconds: float) -> list[float]:
    """The reader: latencies in ms of one GET after another."""
    times = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.perf_counter()
        status = request(port, "GET", READER_PATH, token=token)
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"the reader got {status}")
    return times


def flood(port: int, seconds: float, clients: int, kind: str, out: Any) -> None:
    """In its own process: ``clients`` threads signing in with made-up logins,
    or (``kind`` "bad-token") listing gifts with made-up tokens."""
    counts: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < end:
            made_up = uuid.uuid4().hex
            try:
                if kind == "bad-token":
                    token = (made_up + made_up)[:43]  # a token's shape, no one's
                    status = str(request(port, "GET", READER_PATH, token=token))
                else:
                    body = {"login": f"nobody-{made_up[:12]}", "password": "guess"}
                    status = str(request(port, "POST", "/api/v1/sessions", body))
            except OSError as error:
                status = type(error).__name__
            with lock:
                counts[status] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + TIMEOUT + 5)
    out.put(dict(counts))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(
    url: str,
    token: str,
    port: int,
    workdir: Path,
    extra: dict[str, str],
    kind: str = "sign-in",
) -> dict:
    served = Served(url, port, workdir, extra)
    try:
        served.wait_ready()
        read_for(port, token, 1.0)  # warm-up
        quiet = read_for(port, token, QUIET)
        results: Any = multiprocessing.get_context("spawn").Queue()
        flooder = multiprocessing.get_context("spawn").Process(
            target=flood, args=(port, SECONDS, CLIENTS, kind, results)
        )
        flooder.start()
        time.sleep(min(1.0, SECONDS / 4))  # the flood under way
        during = read_for(port, token, SECONDS - min(1.0, SECONDS / 4))
        answers = results.get(timeout=SECONDS + TIMEOUT + 10)
        flooder.join(10)
    finally:
        served.stop()
    quiet_p50 = statistics.median(quiet)
    return {
        "flood_of": kind,
        "settings": extra or "as make run",
        "quiet": {
            "reads": len(quiet),
            "p50_ms": round(quiet_p50, 2),
            "p99_ms": round(percentile(quiet, 0.99), 2),
        },
        "flood": {
            "reads": len(during),
            "p50_ms": round(statistics.median(during), 2),
            "p99_ms": round(percentile(during, 0.99), 2),
        },
        "p50_ratio": round(statistics.median(during) / quiet_p50, 2),
        "p99_ratio": round(percentile(during, 0.99) / quiet_p50, 2),
        "sign_in_answers": answers,
        "sign_ins_per_s": round(sum(answers.values()) / SECONDS, 1),
    }


def run(compare: bool = False) -> dict:
    """The flood case, on a fresh SQLite file; everything removed after."""
    logging.disable(logging.INFO)  # Alembic's per-migration lines
    warnings.filterwarnings("ignore", message="Dialect sqlite.*Decimal")
    workdir = Path(tempfile.mkdtemp(prefix="gifts-flood-"))
    try:
        url = f"sqlite:///{workdir / 'flood.db'}"
        token = prepare(url)
        port = int(os.environ.get("FLOOD_PORT") or free_port())
        cases = {"bounded": measure(url, token, port, workdir, {})}
        if compare:
            cases["unbounded"] = measure(url, token, port, workdir, UNBOUNDED)
            # What any flood of cheap requests costs (no password checked):
            # what is left of the sign-in flood's cost once checks are bounded.
            cases["bad-token"] = measure(url, token, port, workdir, {}, "bad-token")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "command": ".venv/bin/python bench/flood.py",
        "clients": CLIENTS,
        "seconds": SECONDS,
        "cores": os.cpu_count(),
        "cases": cases,
    }


def main() -> None:
    result = run(compare=os.environ.get("FLOOD_COMPARE") == "1")
    print(
        "| case | reader p50 quiet | p50 flood / p50 quiet | p99 flood / p50 quiet "
        "| reads flood / quiet | answers to the flood |"
    )
    print("|---|---|---|---|---|---|")
    for name, case in result["cases"].items():
        answers = ", ".join(
            f"{k}: {v}" for k, v in sorted(case["sign_in_answers"].items())
        )
        reads = f"{case['flood']['reads']} / {case['quiet']['reads']}"
        print(
            f"| {name} | {case['quiet']['p50_ms']} ms | {case['p50_ratio']} "
            f"| {case['p99_ratio']} | {reads} | {answers} |"
        )
    print("FLOOD_JSON " + json.dumps(result))


if __name__ == "__main__":
    main()

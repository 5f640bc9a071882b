"""Threads per worker, measured: 2 sync workers against 2 threaded workers of
4 and of 8 threads, on GET one gift and PATCH from_santa, with make bench's
wrk load (16 connections). Setups alternate within each round so that they
share the background load of the 2 shared cores; medians of the rounds.
Besides req/s and p99: the CPU time of a request (the workers, plus the
PostgreSQL backends) and how often the workers' threads switched per request
(voluntary: blocked on a socket, a lock or the GIL; involuntary: preempted),
which say where a threaded worker's time goes.

Usage: .venv/bin/python bench/threads.py   (BENCH_ROUNDS, BENCH_DURATION)
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cases import CASES, run_case  # noqa: E402
from bench.databases import find_postgres, flask_cli  # noqa: E402
from bench.load import ensure_wrk  # noqa: E402
from bench.seed import seed_gifts  # noqa: E402
from bench.serving import serving  # noqa: E402
from bench.settings import log  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SETUPS: dict[str, dict[str, str]] = {
    "sync": {"GUNICORN_WORKER_CLASS": "sync", "GUNICORN_THREADS": "1"},
    "4 threads": {"GUNICORN_THREADS": "4"},
    "8 threads": {"GUNICORN_THREADS": "8"},
}
COMPARED = tuple(c for c in CASES if c.key in ("get_one", "patch_santa"))


def _figures(run: dict[str, Any]) -> dict[str, float]:
    return {
        "rps": run["rps"],
        "p99_ms": run["p99_ms"],
        "cpu_ms": run["cpu_ms_per_request"]["server"] + run["cpu_ms_per_request"]["db"],
        "voluntary": run["switches_per_request"]["voluntary"],
        "involuntary": run["switches_per_request"]["involuntary"],
    }


def bench(
    wrk: str,
    url: str,
    workdir: Path,
    name: str,
    db_pids: Callable[[], list[int]] = list,
) -> dict[str, Any]:
    flask_cli(url, "db", "upgrade")
    ids = seed_gifts(url, 10_000)
    flask_cli(url, "members", "add", "bench", "--role", "parent")
    token = flask_cli(url, "tokens", "create", "bench", "--label", "bench").split()[-1]
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {
        setup: {case.key: [] for case in COMPARED} for setup in SETUPS
    }
    for round_ in range(ROUNDS):
        for setup, env in SETUPS.items():
            log(f"{name} round {round_ + 1}: {setup}")
            log_path = workdir / f"{name}-{setup.replace(' ', '-')}.log"
            with serving("wsgi:app", {"DATABASE_URL": url, **env}, log_path) as server:
                for case in COMPARED:
                    run = run_case(wrk, server, case, ids, token, db_pids)
                    samples[setup][case.key].append(_figures(run))
    return {
        setup: {
            key: {
                metric: round(statistics.median(r[metric] for r in runs), 2)
                for metric in runs[0]
            }
            for key, runs in cases.items()
        }
        for setup, cases in samples.items()
    }


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logging.disable(logging.INFO)
    wrk = ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="gifts-threads-"))
    postgres, _ = find_postgres()
    results = {}
    try:
        results["SQLite"] = bench(
            wrk, f"sqlite:///{workdir / 'b.db'}", workdir, "sqlite"
        )
        if postgres is not None:
            database = postgres.name("threads")
            url = postgres.create(database)
            results["PostgreSQL"] = bench(
                wrk, url, workdir, "postgresql", lambda: postgres.backend_pids(database)
            )
    finally:
        if postgres is not None:
            postgres.drop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    titles = {case.key: case.title for case in COMPARED}
    print(
        f"median of {ROUNDS} rounds; req/s (p99 ms) [CPU ms a request; voluntary"
        " + involuntary switches of the workers' threads a request]"
    )
    print("| endpoint | database | " + " | ".join(SETUPS) + " |")
    print("|---|---|" + "---:|" * len(SETUPS))
    for database, setups in results.items():
        for key, title in titles.items():
            cells = [
                f"{f['rps']:.0f} ({f['p99_ms']:.1f}) [{f['cpu_ms']:.2f};"
                f" {f['voluntary']:.1f} + {f['involuntary']:.1f}]"
                for f in (setups[s][key] for s in SETUPS)
            ]
            print(f"| {title} | {database} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

"""`make bench`: throughput, latency, scaling and memory of the Gifts API.

What it does, in one bounded run (about 4 minutes with the defaults):

1. HTTP (bench.cases): serves the real app with `gunicorn -c gunicorn.conf.py
   wsgi:app` (the `make run` command and config, HOST=127.0.0.1, a free PORT,
   WEB_CONCURRENCY as set or the config's default) on a fresh SQLite file and,
   when PostgreSQL answers, on a fresh database `<BENCH_DB_PREFIX>_<pid>`; both
   migrated with `flask db upgrade` and seeded with 10 000 gifts, 10 people
   and 20 lists (each gift for 1 or 2 people and on 0 to 2 lists), then
   settled (statistics and a checkpoint, bench.seed.settle). `wrk` (a
   separate process on 127.0.0.1) drives each endpoint for BENCH_DURATION
   seconds after a warm-up. The ceiling, bench/ceiling.py (a minimal Flask app
   returning one gift's JSON, same gunicorn config), is measured in the same
   run; every endpoint is reported as a ratio to it.
2. Scaling (bench.scaling): the from_santa migration (0002) up and down with
   1 000 and 1 000 000 rows at revision 0001, timed in-process; then the first
   and the last listing page of the 1 000 000-row table at head, and the first
   and last page filtered by a list holding every 20th gift, and the first page
   of two searches ("1234", 300 gifts; "gift 1234", 111 gifts, but "gift" is in
   every name), against the unfiltered first page; then every listing shape
   (bench/shapes.py: each filter alone x each sort, first and 4th page,
   matching many, few or none, the combinations of issue 19, a member linked
   to a person), each against the plain first page, each a check (<= 3).
3. Memory: peak RSS (VmHWM) of each gunicorn worker after its load.
4. Features (bench.features): what the surprise rule costs a linked member's
   page (bench/surprises.py), at 10 000 and at 1 000 000 gifts, on PostgreSQL
   when it answers (else SQLite), and a signed-in reader's latency during a
   flood of sign-ins (bench/flood.py, its own gunicorn on SQLite), and an
   occasion's budget view and first page at 1 000 000 gifts against the plain
   first page (bench/occasions.py); each figure a ratio, with its target in
   bench/targets.py where one is set.

Results: latest.json and latest.png in bench/results/ (or BENCH_RESULTS_DIR),
and Markdown on stdout; a full run into bench/results/ also rewrites the
README's results block (bench/publish.py). Everything it starts or creates
(processes, temp dir, the bench databases) is removed in `finally` blocks,
also on Ctrl-C or SIGTERM. The BENCH_* variables: bench/settings.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from bench import settings
from bench.cases import bench_service
from bench.chart import chart
from bench.databases import find_postgres
from bench.features import bench_features
from bench.load import ensure_wrk
from bench.publish import publish_readme
from bench.report import code_version, machine, markdown, write_results
from bench.scaling import bench_scaling
from bench.settings import log
from bench.targets import add_ratios, invalid_run


def results_dir() -> Path:
    """Where this run writes: a quick run never overwrites the published files."""
    if settings.RESULTS_DIR is not None:
        return settings.RESULTS_DIR
    if settings.QUICK:
        return Path(tempfile.mkdtemp(prefix="gifts-bench-quick-"))
    return settings.PUBLISHED_RESULTS


def run_settings() -> dict[str, Any]:
    return {
        "duration_s": settings.DURATION,
        "warmup_s": settings.WARMUP,
        "connections": settings.CONNECTIONS,
        "threads": settings.THREADS,
        "gifts": settings.GIFTS,
        "scale_rows": [settings.SCALE_SMALL, settings.SCALE_BIG],
        "repeats": settings.REPEATS,
        **({"quick": True} if settings.QUICK else {}),
        "env": {k: v for k, v in os.environ.items() if k.startswith("BENCH_")},
    }


def measure_all(wrk: str, results: dict[str, Any], postgres: Any) -> None:
    """Every database's cases, then every database's scaling, into ``results``."""
    workdir = Path(tempfile.mkdtemp(prefix="gifts-bench-"))
    try:
        results["databases"]["sqlite"] = bench_service(
            wrk, f"sqlite:///{workdir / 'bench.db'}", workdir, "sqlite"
        )
        if postgres is not None:
            name = postgres.name("")
            url = postgres.create(name)
            results["databases"]["postgresql"] = bench_service(
                wrk, url, workdir, "postgresql", lambda: postgres.backend_pids(name)
            )
        if settings.CASES_ONLY:
            return
        results["scaling"]["sqlite"] = bench_scaling(
            f"sqlite:///{workdir / 'scale.db'}", "sqlite"
        )
        if postgres is not None:
            url = postgres.create(postgres.name("scale"))
            results["scaling"]["postgresql"] = bench_scaling(url, "postgresql")
        if not settings.SKIP_FEATURES:
            results["features"] = bench_features(postgres, workdir)
    finally:
        if postgres is not None:
            postgres.drop_all()
        shutil.rmtree(workdir, ignore_errors=True)


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
        "command": "make bench  # .venv/bin/python -m bench",
        "machine": machine(wrk, postgres.version() if postgres else None),
        "code": code_version(),
        "settings": run_settings(),
        "databases": {},
        "scaling": {},
    }
    if postgres is None:
        results["databases"]["postgresql"] = {"skipped": postgres_skipped}
    directory = results_dir()
    directory.mkdir(parents=True, exist_ok=True)
    measure_all(wrk, results, postgres)
    results["checks"] = add_ratios(results)
    results["total_seconds"] = round(time.monotonic() - begun, 1)
    write_results(results, directory)
    if directory == settings.PUBLISHED_RESULTS and not settings.QUICK:
        publish_readme(results)  # the README's block, from this very run
    problem = chart(results, directory / "latest.png")
    if problem:
        log(problem)
    print(markdown(results))
    log(f"done in {results['total_seconds']} s: {directory}/latest.json, latest.png")
    return 1 if invalid_run(results["checks"]) else 0


if __name__ == "__main__":
    sys.exit(main())

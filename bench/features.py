"""The feature figures of `make bench` (results["features"]), each a ratio:

- surprises (bench/surprises.py, issue 16): a linked member's pages and summary
  over an unlinked parent's, at 10 000 gifts and at the scaling size
  (BENCH_SCALE_ROWS, 1 000 000), in process through the Flask test client;
- flood (bench/flood.py, issue 17): a signed-in reader's p50 and p99 during a
  flood of sign-ins over its p50 without it, on its own gunicorn and SQLite
  file (a port of BENCH_PORTS); reported without a target ("within a few
  times" names no number). BENCH_SKIP_FLOOD=1 leaves it out;
- occasions (bench/occasions.py, issue 18): an occasion's budget view (1 000
  gifts for 20 people) and its first page of gifts (occasion_ids) over the
  plain first page at BENCH_SCALE_ROWS gifts, on a database of its own (the
  budget view lists every person), at most 3 x each.

They run on a fresh PostgreSQL database of the run when one answers (what
production runs), else on SQLite files in the run's temporary directory. Every
module stays runnable alone; this one only chooses the databases and sizes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import flood, occasions, settings, surprises
from bench.databases import Postgres, flask_cli
from bench.settings import log


def _database(postgres: Postgres | None, workdir: Path, name: str) -> str:
    """A fresh, empty database for one feature figure; its URL."""
    if postgres is None:
        return f"sqlite:///{workdir / f'{name}.db'}"
    return postgres.create(postgres.name(name))


def bench_features(postgres: Postgres | None, workdir: Path) -> dict[str, Any]:
    """Every feature figure; the databases made go with ``postgres.drop_all``."""
    sizes = {"small": settings.SURPRISE_GIFTS, "big": settings.SCALE_BIG}
    runs = {}
    for size, gifts in sizes.items():
        rounds, calls = settings.SURPRISE_ROUNDS[size]
        url = _database(postgres, workdir, f"surprises_{size}")
        log(f"surprises: {gifts} gifts, {rounds} rounds of {calls} calls")
        runs[str(gifts)] = surprises.measure(url, gifts, rounds, calls)
    features: dict[str, Any] = {"surprises": runs}
    log(f"occasions (bench/occasions.py): {settings.SCALE_BIG} gifts")
    url = _database(postgres, workdir, "occasions")  # its budget view lists everyone
    flask_cli(url, "db", "upgrade")
    features["occasions"] = occasions.run(url, settings.SCALE_BIG)
    if not settings.SKIP_FLOOD:
        log("sign-in flood (bench/flood.py)")
        features["flood"] = flood.run()
    return features

"""What one `make bench` run measures, read once from the environment.

BENCH_DURATION (s per case, default 10), BENCH_WARMUP (s, default 2),
BENCH_CONNECTIONS (16), BENCH_THREADS (wrk's, 2), BENCH_SCALE_ROWS (1000000),
BENCH_REPEATS (5), BENCH_DATABASE_URL (a PostgreSQL maintenance database to
create the bench databases from; default postgres@127.0.0.1:5432/postgres if it
answers), BENCH_SKIP_POSTGRES=1, BENCH_DB_PREFIX (the bench databases' names
start with it; gifts_bench), BENCH_PORTS (e.g. 8300-8349: the servers listen
on free ports of that range; default any free port), BENCH_RESULTS_DIR (where
latest.json and latest.png go; bench/results), BENCH_SKIP_FEATURES=1 (no
feature figures: bench.features), BENCH_SKIP_FLOOD=1 (no sign-in flood),
BENCH_ONLY=cases (the HTTP cases and their ceilings alone: no former-setup
rerun, no scaling, no feature figures; a minute or two a database); the
listing shapes' BENCH_SHAPES_ROUNDS, BENCH_SHAPES_SLOW_ROUNDS and
BENCH_SHAPES_ONLY: bench/shapes.py.

BENCH_QUICK=1 proves the plumbing in about two minutes: 1 s cases, 1 000 gifts,
150 000 rows for scaling, 1 repeat, results into a fresh temporary directory
unless BENCH_RESULTS_DIR names one. Its figures measure nothing; the report
and the chart say so.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WRK_SCRIPTS = BENCH / "wrk"
PUBLISHED_RESULTS = BENCH / "results"
# The code a run measures: a published run is stale once any of these differ
# from the commit it names (bench/publish.py, tests/test_bench_results.py).
MEASURED_PATHS = ("app", "migrations", "wsgi.py", "gunicorn.conf.py")
BIN = Path(sys.executable).parent  # the venv's bin: gunicorn, flask


class SettingError(SystemExit):
    """A BENCH_* variable that cannot be used: one line on stderr, exit status 1,
    before anything starts."""

    def __init__(self, message: str) -> None:
        super().__init__(f"bench: {message}")


def _number(name: str, default: float, minimum: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a number") from None
    if not minimum <= value < 1e9:  # also refuses nan and inf
        raise SettingError(f"{name}={raw!r}: at least {minimum:g}, below 1e9")
    return value


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip() not in ("", "0")


def _ports(raw: str) -> range | None:
    if not raw.strip():
        return None
    found = re.fullmatch(r"\s*(\d{1,5})\s*-\s*(\d{1,5})\s*", raw)
    low, high = (int(found[1]), int(found[2])) if found else (0, -1)
    if not 1024 <= low <= high <= 65535:
        raise SettingError(f"BENCH_PORTS={raw!r}: want LOW-HIGH within 1024-65535")
    return range(low, high + 1)


QUICK = _flag("BENCH_QUICK")
DURATION = max(1, round(_number("BENCH_DURATION", 1 if QUICK else 10, 1)))
WARMUP = max(1, round(_number("BENCH_WARMUP", min(2, DURATION), 1)))
CONNECTIONS = int(_number("BENCH_CONNECTIONS", 16, 1))
THREADS = int(_number("BENCH_THREADS", 2, 1))
if THREADS > CONNECTIONS:
    raise SettingError("BENCH_THREADS is more than BENCH_CONNECTIONS (wrk refuses)")
GIFTS = 1_000 if QUICK else 10_000
SCALE_SMALL = 1_000
# The search pages at scale need 50 names holding "1234": 150 000 rows have 135.
SCALE_MIN = 150_000
SCALE_BIG = int(_number("BENCH_SCALE_ROWS", SCALE_MIN if QUICK else 1e6, SCALE_MIN))
REPEATS = int(_number("BENCH_REPEATS", 1 if QUICK else 5, 1))
# Listing pages at scale: rounds over every page; the first ones warm caches.
LISTING_ROUNDS, LISTING_WARM = (3, 1) if QUICK else (35, 5)
# bench.features: the surprise rule's pages at 10 000 gifts and at SCALE_BIG,
# (rounds, calls a round) at each; BENCH_SKIP_FEATURES=1 leaves them out.
SURPRISE_GIFTS = 10_000
SURPRISE_ROUNDS = {"small": (1, 3), "big": (1, 2)} if QUICK else {
    "small": (7, 40), "big": (3, 5)}  # fmt: skip
SKIP_FEATURES = _flag("BENCH_SKIP_FEATURES")
SKIP_FLOOD = _flag("BENCH_SKIP_FLOOD")
ONLY = os.environ.get("BENCH_ONLY", "").strip()
if ONLY not in ("", "cases"):
    raise SettingError(f"BENCH_ONLY={ONLY!r}: the only choice is cases")
CASES_ONLY = ONLY == "cases"

SKIP_POSTGRES = _flag("BENCH_SKIP_POSTGRES")
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "").strip()
DEFAULT_PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "").strip() or "gifts_bench"
if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", DB_PREFIX):
    raise SettingError(
        f"BENCH_DB_PREFIX={DB_PREFIX!r}: lower-case letters, digits and _, "
        "starting with a letter, at most 40"
    )
PORTS = _ports(os.environ.get("BENCH_PORTS", ""))
_results = os.environ.get("BENCH_RESULTS_DIR", "").strip()
RESULTS_DIR = Path(_results).resolve() if _results else None


def big_label(rows: int) -> str:
    """A big table's rows as the tables name them: 1M, or 150000."""
    return f"{rows / 1e6:g}M" if rows >= 1e6 else str(rows)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

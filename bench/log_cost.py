"""What the JSON request line costs a GET of one gift under gunicorn (not run
by make bench).

Two servers on one seeded SQLite file, the same in all but the request line:
LOG_LEVEL=INFO writes it (to a file, as the bench does), LOG_LEVEL=WARNING
does not. `wrk` drives GET one gift against each in turn, ROUNDS times, so a
change in the machine's other load hits both alike; the report compares the
medians of req/s and of the workers' CPU time per request.

    .venv/bin/python bench/log_cost.py        # about 2 minutes
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cases import CASES, run_case  # noqa: E402
from bench.databases import flask_cli  # noqa: E402
from bench.load import ensure_wrk  # noqa: E402
from bench.seed import seed_gifts  # noqa: E402
from bench.serving import serving  # noqa: E402
from bench.settings import GIFTS  # noqa: E402

ROUNDS = 4


def main() -> None:
    wrk = ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="gifts-log-cost-"))
    url = f"sqlite:///{workdir / 'gifts.db'}"
    get_one = next(case for case in CASES if case.key == "get_one")
    try:
        flask_cli(url, "db", "upgrade")
        ids = seed_gifts(url, GIFTS)
        flask_cli(url, "members", "add", "bench", "--role", "parent")
        created = flask_cli(url, "tokens", "create", "bench", "--label", "bench")
        token = created.split()[-1]
        results: dict[str, list[dict]] = {"INFO": [], "WARNING": []}
        with (
            serving("wsgi:app", {"DATABASE_URL": url}, workdir / "on.log") as on,
            serving(
                "wsgi:app",
                {"DATABASE_URL": url, "LOG_LEVEL": "WARNING"},
                workdir / "off.log",
            ) as off,
        ):
            for _ in range(ROUNDS):
                results["INFO"].append(run_case(wrk, on, get_one, ids, token))
                results["WARNING"].append(run_case(wrk, off, get_one, ids, token))
            lines = (workdir / "on.log").read_text().count('"app.requests"')
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    def median(level: str, pick: object) -> float:
        return statistics.median(pick(r) for r in results[level])  # type: ignore[operator]

    rps_on = median("INFO", lambda r: r["rps"])
    rps_off = median("WARNING", lambda r: r["rps"])
    cpu_on = median("INFO", lambda r: r["cpu_ms_per_request"]["server"])
    cpu_off = median("WARNING", lambda r: r["cpu_ms_per_request"]["server"])
    print(f"request lines written by the INFO server: {lines}")
    print(f"GET one gift, median of {ROUNDS} runs each, alternating:")
    print(f"  without the line: {rps_off:7.1f} req/s  {cpu_off:.3f} ms CPU/request")
    print(f"  with the line:    {rps_on:7.1f} req/s  {cpu_on:.3f} ms CPU/request")
    print(
        f"  the line costs {100 * (1 - rps_on / rps_off):.1f} % of req/s, "
        f"{100 * (cpu_on / cpu_off - 1):.1f} % of CPU per request"
    )


if __name__ == "__main__":
    main()

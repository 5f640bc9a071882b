"""The HTTP cases: which requests `make bench` sends, checked once before they
count, and how one database's run goes (migrate, seed, the ceiling, then the
app's cases under gunicorn.conf.py's workers and under the former setup)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app import create_app
from app.extensions import db
from bench import settings
from bench.databases import flask_cli
from bench.load import measure
from bench.seed import seed_gifts, seed_people_and_lists, settle
from bench.serving import Gunicorn, http, serving
from bench.settings import log


@dataclass(frozen=True)
class Case:
    key: str
    title: str
    script: str  # in bench/wrk/
    method: str
    path: str  # for the one-request check before the run: {low} = first id
    body: Any
    status: int


def _case(key: str, title: str, method: str, path: str, body: Any, status: int) -> Case:
    """A case whose wrk script is bench/wrk/<key>.lua."""
    return Case(key, title, f"{key}.lua", method, path, body, status)


CASES = (
    _case("get_one", "GET one gift", "GET", "/api/v1/gifts/{low}", None, 200),
    _case("get_page", "GET a page of 50", "GET", "/api/v1/gifts?limit=50", None, 200),
    _case(
        "get_page_person",
        "GET a page of 50 for a person",
        "GET",
        "/api/v1/gifts?limit=50&person_ids=1",
        None,
        200,
    ),
    _case("summary", "GET the summary", "GET", "/api/v1/gifts/summary", None, 200),
    _case(
        "patch_santa",
        "PATCH from_santa",
        "PATCH",
        "/api/v1/gifts/{low}",
        {"from_santa": True},
        200,
    ),
    _case("bulk_patch", "PATCH 50 gifts (bulk)", "PATCH", "/api/v1/gifts", "bulk", 200),
    _case(
        "post",
        "POST a gift",
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
# The ceiling app answers GET one gift's URL with a fixed body.
CEILING = Case(
    "ceiling",
    "ceiling (fixed JSON)",
    "get_one.lua",
    "GET",
    "/api/v1/gifts/{low}",
    None,
    200,
)


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


def run_case(
    wrk: str,
    server: Gunicorn,
    case: Case,
    ids: tuple[int, int],
    token: str,
    db_pids: Callable[[], list[int]] = list,
) -> dict[str, Any]:
    """Check the case, then measure it (bench.load.measure); one log line."""
    problem = check_case(server, case, ids, token)
    if problem:
        raise RuntimeError(f"{case.title}: {problem}\n{server.log_tail()}")
    result = {
        "title": case.title,
        **measure(wrk, server, case.script, ids, token, db_pids),
    }
    log(
        f"  {case.title:24} {result['rps']:8.1f} req/s  p50 {result['p50_ms']:.2f} ms"
        f"  p99 {result['p99_ms']:.2f} ms  non-2xx {result['non_2xx']}"
        f"  cpu/req {result['cpu_ms_per_request']['server']:.2f}"
        f"+{result['cpu_ms_per_request']['db']:.2f} ms"
        f"  other load {result['cpu_share']['other']:.0%}"
    )
    return result


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
) -> dict[str, Any]:
    """Migrate and seed, measure the ceiling, then every endpoint of the app.

    The ceiling runs right before the app's cases, so that both see about the
    same background load (the 2 cores are shared)."""
    log(f"{name}: flask db upgrade, seed {settings.GIFTS} gifts")
    flask_cli(url, "db", "upgrade")
    started = time.perf_counter()
    ids = seed_gifts(url, settings.GIFTS)
    seed_people_and_lists(url, ids)
    seed_seconds = round(time.perf_counter() - started, 2)
    settle(url)  # no autovacuum or checkpoint in the middle of a case
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
            case.key: run_case(wrk, server, case, ids, token, db_pids) for case in CASES
        }
        result["memory"] = server.memory()
        result["server_errors_logged"] = server.log_tail(10000).count("Traceback")
    if settings.CASES_ONLY:
        return result
    env = {"DATABASE_URL": url, **FORMER_SETUP}
    with serving("wsgi:app", env, workdir / f"{name}-sync.log") as server:
        log(f"{name}: the former setup (sync workers) on {server.url}")
        result["sync_workers"] = {
            case.key: run_case(wrk, server, case, ids, token, db_pids)
            for case in COMPARED
        }
    return result


def bench_ceiling(wrk: str, body: bytes, workdir: Path, token: str) -> dict[str, Any]:
    """The ceiling app gets the same requests, token included (it ignores it)."""
    body_path = workdir / "ceiling.json"
    body_path.write_bytes(body)
    env = {"BENCH_CEILING_BODY": str(body_path)}
    with serving("bench.ceiling:app", env, workdir / "ceiling.log") as server:
        log(f"ceiling: gunicorn on {server.url}, {len(body)} bytes of JSON")
        result = run_case(wrk, server, CEILING, (1, settings.GIFTS), token)
        result["memory"] = server.memory()
    result["body_bytes"] = len(body)
    return result

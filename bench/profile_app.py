"""Where the time of the API's hot paths goes (not run by make bench).

In-process, through the Flask test client, on SQLite and (if it answers) on a
fresh PostgreSQL database <BENCH_DB_PREFIX>_<pid>_prof, both seeded like the bench:

1. per-request time of the ceiling app and of GET one gift, PATCH from_santa,
   GET a page of 50 and POST a gift; then of each layer on its own: the query through
   app.gifts.store (SQLAlchemy Core; on PostgreSQL on the autocommit bind),
   the marshmallow dump (GiftSchema), the JSON encoding, the argument parsing;
   and a few what-ifs (the ORM's session.get, the statement built per request,
   on PostgreSQL the read in a transaction and bare psycopg);
2. cProfile of each endpoint: own time by package and the top functions.

    .venv/bin/python bench/profile_app.py            # prints a report
    BENCH_PROFILE_N=200 ...   fewer calls per measure (default 1500)
    BENCH_PROFILE_HTML=1 ... also writes bench/results/profile-<db>-<case>.html
                               (pyinstrument, if installed)
"""

from __future__ import annotations

import cProfile
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.access import accounts  # noqa: E402
from app.access.auth import member_for  # noqa: E402
from app.extensions import db  # noqa: E402
from app.gifts import listing, store  # noqa: E402
from app.gifts.schemas import (  # noqa: E402
    GiftListArgsSchema,
    GiftPageSchema,
    GiftSchema,
    GiftUpdateSchema,
)
from app.models import Gift  # noqa: E402
from app.visibility import Viewer  # noqa: E402
from bench.ceiling import app as ceiling_app  # noqa: E402
from bench.databases import Postgres, find_postgres, flask_cli  # noqa: E402
from bench.seed import seed_gifts  # noqa: E402

GIFTS = 10_000
N = int(os.environ.get("BENCH_PROFILE_N", 1500))
PAGE_ARGS = {"limit": 50, "sort": "recent"}  # GET /api/v1/gifts?limit=50, loaded
PARENT = Viewer(0, "parent", None)  # a parent who is no person (sees every gift)


def per_call_us(function: Callable[[int], Any], n: int = N) -> float:
    """Median over 5 batches of the time of one call, in microseconds."""
    for i in range(min(200, n)):
        function(i)
    batches = []
    size = max(n // 5, 1)
    for batch in range(5):
        started = time.perf_counter()
        for i in range(batch * size, (batch + 1) * size):
            function(i)
        batches.append((time.perf_counter() - started) / size)
    return statistics.median(batches) * 1e6


def gift_id(i: int) -> int:
    return 1 + (i * 7919) % GIFTS


def get_one(client: Any, i: int) -> Any:
    return client.get(f"/api/v1/gifts/{gift_id(i)}")


def patch_santa(client: Any, i: int) -> Any:
    return client.patch(f"/api/v1/gifts/{gift_id(i)}", json={"from_santa": i % 2 == 0})


def get_page(client: Any, i: int) -> Any:
    return client.get("/api/v1/gifts?limit=50")


def post_gift(client: Any, i: int) -> Any:
    return client.post(
        "/api/v1/gifts", json={"name": f"Profile kite {i}", "price": 12.5}
    )


ENDPOINTS = {
    "GET one gift": get_one,
    "PATCH from_santa": patch_santa,
    "GET a page of 50": get_page,
    "POST a gift": post_gift,
}


def signed_in_client(app: Any) -> tuple[Any, str]:
    """A test client sending a new parent's token, as every request must."""
    with app.app_context():
        name = f"profile-{os.getpid()}-{time.monotonic_ns()}"
        _, token = accounts.create_token(accounts.add_member(name, "parent"))
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client, token


def request_line(app: Any, client: Any) -> list[tuple[str, float]]:
    """The JSON request line (app/logs.py: its two hooks, the record, the
    formatter, the write to /dev/null) against GET one gift, each the fastest
    of 9 batches: on a shared machine a difference of two medians of whole
    requests drowns in the noise of other processes."""
    import logging
    import timeit

    from flask import g

    from app import logs

    def fastest_us(function: Callable[[], Any], n: int = 1000) -> float:
        return min(timeit.repeat(function, number=n, repeat=9)) / n * 1e6

    get_one_us = fastest_us(lambda: get_one(client, 1))
    with open(os.devnull, "w") as sink, app.test_request_context("/api/v1/gifts/1"):
        handler = logging.StreamHandler(sink)
        handler.setFormatter(logs.JsonFormatter())
        handler.addFilter(logs.RequestIdFilter())
        logs.log.addHandler(handler)
        logs.log.propagate = False
        logging.disable(logging.NOTSET)
        g.request_id = "0123456789abcdef0123456789abcdef"
        response = app.response_class("{}", status=200)

        def line() -> None:
            logs._start_timer()
            logs._log_request(response)

        try:
            line_us = fastest_us(line, 5000)
        finally:
            logs.log.removeHandler(handler)
            logs.log.propagate = True
            logging.disable(logging.INFO)
    return [
        ("GET one gift (fastest batch)", get_one_us),
        (f"  request line: {100 * line_us / get_one_us:.1f} % of GET one", line_us),
    ]


def layers(url: str) -> list[tuple[str, float]]:
    """Per-request cost of each endpoint and of each layer, in microseconds."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    client, token = signed_in_client(app)
    ceiling = ceiling_app.test_client()
    rows: list[tuple[str, float]] = []

    def add(label: str, function: Callable[[int], Any]) -> None:
        rows.append((label, per_call_us(function)))

    add("ceiling app: GET (test client)", lambda i: ceiling.get("/api/v1/gifts/1"))
    for label, request in ENDPOINTS.items():
        response = request(client, 0)
        assert response.status_code in (200, 201), (label, response.status_code)
        add(label, lambda i, request=request: request(client, i))
    rows += request_line(app, client)

    with app.app_context():
        add("  query: store.get_gift", lambda i: store.get_gift(gift_id(i), PARENT))
        add(
            "  query: store.update_gift from_santa",
            lambda i: store.update_gift(gift_id(i), {"from_santa": i % 2 == 0}, PARENT),
        )
        add(
            "  query: listing.list_gifts (50)",
            lambda i: listing.list_gifts(PAGE_ARGS, PARENT),
        )

        add("  auth: member_for(token), cached", lambda i: member_for(token))
        gift = store.get_gift(1, PARENT)
        items, has_more, cursor = listing.list_gifts(PAGE_ARGS, PARENT)
        page = {"items": items, "has_more": has_more, "next_cursor": cursor}
        one_schema, page_schema = GiftSchema(), GiftPageSchema()
        add("  dump: GiftSchema().dump(gift)", lambda i: one_schema.dump(gift))
        add("  dump: GiftPageSchema().dump(page)", lambda i: page_schema.dump(page))
        one_json, page_json = one_schema.dump(gift), page_schema.dump(page)
        add("  JSON: app.json.dumps(one gift)", lambda i: app.json.dumps(one_json))
        add("  JSON: app.json.dumps(page)", lambda i: app.json.dumps(page_json))
        update_schema = GiftUpdateSchema(partial=True)
        list_schema = GiftListArgsSchema()
        add(
            "  args: GiftUpdateSchema(partial=True).load",
            lambda i: update_schema.load({"from_santa": True}),
        )
        add(
            "  args: GiftListArgsSchema().load(limit=50)",
            lambda i: list_schema.load({"limit": "50"}),
        )

        def orm_get(i: int) -> Any:
            gift = db.session.get(Gift, gift_id(i))
            db.session.remove()  # as at the end of each request
            return gift

        add("what-if: ORM session.get(Gift) + session.remove", orm_get)
        build = store._update_statement.__wrapped__  # without its lru_cache
        add(
            "what-if: build the UPDATE per request (no cache)",
            lambda i: build(("from_santa",), False, PARENT, db.engine.dialect.name),
        )
        if url.startswith("postgresql"):
            by_id = store._by_id("postgresql", PARENT)

            def in_transaction(i: int) -> Any:
                with db.engine.connect() as connection:  # BEGIN .. ROLLBACK
                    result = connection.execute(by_id, {"gift_id": gift_id(i)})
                    return result.mappings().first()

            add("what-if: store._by_id on db.engine (in a transaction)", in_transaction)
            rows += psycopg_floor(url)
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    return rows


def psycopg_floor(url: str) -> list[tuple[str, float]]:
    """The cost of one round trip to the server, and of the bare query."""
    import psycopg

    from app.config import database_url

    raw = sa.make_url(database_url(url)).set(drivername="postgresql")
    connection = psycopg.connect(
        raw.render_as_string(hide_password=False), autocommit=True
    )
    rows = [
        (
            "what-if: psycopg SELECT 1 (one round trip, autocommit)",
            per_call_us(lambda i: connection.execute("SELECT 1")),
        ),
        (
            "what-if: psycopg SELECT * FROM gifts WHERE id = %s",
            per_call_us(
                lambda i: connection.execute(
                    "SELECT * FROM gifts WHERE id = %s", (gift_id(i),)
                ).fetchone()
            ),
        ),
    ]
    connection.close()
    return rows


def package_of(filename: str, function: str) -> str:
    if filename == "~":  # a C function: name it by its type or module
        for name in ("sqlite3", "psycopg", "json", "uuid", "decimal", "datetime"):
            if name in function:
                return f"C: {name}"
        return "C: other builtins"
    path = Path(filename)
    parts = path.parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].split(".")[0]
    if str(ROOT / "app") in filename:
        return "app (ours)"
    if "bench" in parts:
        return "bench"
    return "stdlib: " + path.stem


def profile(url: str, label: str, request: Callable[[Any, int], Any]) -> str:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    client, token = signed_in_client(app)
    for i in range(200):
        request(client, i)
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(N):
        request(client, i)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    by_package: dict[str, float] = defaultdict(float)
    for (filename, _, function), row in stats.stats.items():  # type: ignore[attr-defined]
        by_package[package_of(filename, function)] += row[2]
    lines = [f"cProfile, {label}: {total / N * 1e6:.0f} µs/request under the profiler"]
    lines.append("  own time by package:")
    for package, seconds in sorted(by_package.items(), key=lambda x: -x[1])[:12]:
        lines.append(f"    {package:28} {seconds / total:6.1%}")
    trips = [
        f"{function} {row[1] / N:.1f}"
        for (filename, _, function), row in stats.stats.items()  # type: ignore[attr-defined]
        if "psycopg" in filename
        and function in ("wait", "execute", "_exec_command", "_check_connection_ok")
    ]
    if trips:
        lines.append("  psycopg calls per request: " + ", ".join(sorted(trips)))
    lines.append("  top functions by cumulative time (µs/request):")
    rows = sorted(
        stats.stats.items(),  # type: ignore[attr-defined]
        key=lambda item: -item[1][3],
    )
    shown = 0
    for (filename, line, function), row in rows:
        package = package_of(filename, function)
        if package == "flask" or package.startswith(("werkzeug", "stdlib", "C: other")):
            continue
        if function in ("<module>", "<lambda>") or package == "bench":
            continue
        lines.append(
            f"    {row[3] / N * 1e6:7.0f}  {package}: {function} "
            f"({Path(filename).name}:{line})"
        )
        shown += 1
        if shown == 25:
            break
    if os.environ.get("BENCH_PROFILE_HTML"):
        try:
            from pyinstrument import Profiler
        except ImportError:
            pass
        else:
            sampler = Profiler(interval=0.0002)
            sampler.start()
            for i in range(N):
                request(client, i)
            sampler.stop()
            name = label.replace(" ", "-").replace("/", "")
            out = ROOT / "bench" / "results" / f"profile-{name}.html"
            out.write_text(sampler.output_html())
            lines.append(f"  pyinstrument: {out.relative_to(ROOT)}")
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()
    return "\n".join(lines)


def report(url: str, name: str) -> None:
    flask_cli(url, "db", "upgrade")
    seed_gifts(url, GIFTS)
    print(f"\n## {name}: per-request time, in-process (median of 5 batches)\n")
    rows = layers(url)
    ceiling = rows[0][1]
    for label, micros in rows:
        print(f"  {label:55} {micros:8.0f} µs  ({micros / ceiling:5.1f} × ceiling)")
    for label, request in ENDPOINTS.items():
        print()
        print(profile(url, f"{name} {label}", request))


def main() -> None:
    warnings.filterwarnings("ignore", message="Dialect sqlite.*Decimal")
    import logging

    logging.disable(logging.INFO)
    workdir = Path(tempfile.mkdtemp(prefix="gifts-profile-"))
    postgres: Postgres | None = None
    try:
        report(f"sqlite:///{workdir / 'profile.db'}", "SQLite")
        postgres, why = find_postgres()
        if postgres is None:
            print(f"\nPostgreSQL skipped: {why}")
        else:
            report(postgres.create(postgres.name("prof")), "PostgreSQL")
    finally:
        if postgres is not None:
            postgres.drop_all()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

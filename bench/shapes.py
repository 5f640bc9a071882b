"""Every listing shape at scale (issue 19): each filter alone x each sort, a
first page and a later one (the app's own cursor), matching many, few or
none, the issue's combinations, and the same for a member linked to a
person; each page's median against the plain first page, in one run,
round-robin. Part of `make bench` (bench.scaling), runnable alone:

    .venv/bin/python bench/shapes.py     # SQLite, 1M, in $TMPDIR, kept
    BENCH_SHAPES_URL=postgresql://.../h_x .venv/bin/python bench/shapes.py
    BENCH_SHAPES_REUSE=1 ...      # measure again what a previous run seeded

BENCH_SCALE_ROWS (1 000 000) gifts; BENCH_SHAPES_ROUNDS (10 measured rounds
after one warm-up, 2 with BENCH_QUICK=1; a page slower than 30 x the plain
one in the warm-up takes BENCH_SHAPES_SLOW_ROUNDS, 3); BENCH_SHAPES_ONLY=text
measures the
shapes whose name holds it (with the plain page). A PostgreSQL URL must name
a scratch database: its schema is dropped first unless reused.

The data (``seed_shapes``, on a table filled by bench.seed.insert_rows_sql:
random ids, created_at in fill order, so id order is not creation order):

- statuses: idea or selected half each (many), received one in 9941 (few),
  purchased none; priority: low or medium (many), high one in 9949 (few);
  from_santa one in 1000 (few); the rest false (many);
- people: Ann on every 20th gift (many), Bob on one in 10007 (few), Cleo on
  none; lists: every 50th (many), one in 9973 (few), one empty (none), and
  Ann's planning list; occasions: every 10th, one in 9931, one empty;
- claimed_by: the viewer on every 10th gift (me), a member on one in 9967
  (few), a member on none; unclaimed (none) the rest;
- Ann's member is linked to her: her gifts not received are hidden from her
  but one in 10 of them (every 200th gift), her wishes;
- names are "Gift <n>": "gift 1" matches most, "1234" some 600, "kite"
  none, "Gift 123456" one.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.access import accounts  # noqa: E402
from app.extensions import db  # noqa: E402
from bench.settings import QUICK, log  # noqa: E402

PAGE = "/api/v1/gifts?limit=50"
SORTS = ("recent", "price_asc", "price_desc", "name")
ROUNDS = int(os.environ.get("BENCH_SHAPES_ROUNDS", "") or (2 if QUICK else 10))
SLOW_ROUNDS = int(os.environ.get("BENCH_SHAPES_SLOW_ROUNDS", "") or (1 if QUICK else 3))
SLOW = 30.0
ONLY = os.environ.get("BENCH_SHAPES_ONLY", "").strip()
LATER = 4  # the later page: the 4th, following next_cursor
TARGET = 3.0  # each shape <= 3 x the plain first page (issue 19)


def _ids(connection: sa.Connection, table: str, names: list[str]) -> list[int]:
    rows = connection.execute(
        sa.text(f"SELECT name, id FROM {table} WHERE name IN :names").bindparams(
            sa.bindparam("names", expanding=True)
        ),
        {"names": names},
    ).all()
    found = dict(rows)
    return [found[name] for name in names]


def seed_shapes(connection: sa.Connection) -> dict[str, int]:
    """People, lists, occasions, members, claims and the columns the shapes
    filter on, over the gifts already in the table (at head); the ids."""
    dialect = connection.dialect.name
    now = "2026-06-01 00:00:00.000000" if dialect == "sqlite" else "2026-06-01"
    people = ["Ann", "Bob", "Cleo"]
    for name in people:
        connection.execute(
            sa.text("INSERT INTO people (name, version) VALUES (:name, 1)"),
            {"name": name},
        )
    ann, bob, cleo = _ids(connection, "people", people)
    lists = {
        "Many": None,
        "Few": None,
        "Empty": None,
        "Ann's ideas": ann,  # a planning list of Ann's: hidden from her
    }
    for number, (name, person) in enumerate(lists.items(), start=1):
        connection.execute(
            sa.text(
                "INSERT INTO lists (id, name, kind, person_id, version)"
                " VALUES (:id, :name, 'ideas', :person, 1)"
            ),
            {"id": 900_000 + number, "name": name, "person": person},
        )
    many, few, empty, planning = _ids(connection, "lists", list(lists))
    occasions = ["Often", "Seldom", "Never"]
    for name in occasions:
        connection.execute(
            sa.text(
                "INSERT INTO occasions (name, kind, repeats_yearly, date, version)"
                " VALUES (:name, 'other', false, '2026-12-24', 1)"
            ),
            {"name": name},
        )
    often, seldom, never = _ids(connection, "occasions", occasions)
    members = {}
    for name, person in (
        ("shapes-viewer", None),
        ("shapes-claims-few", None),
        ("shapes-claims-none", None),
        ("shapes-ann", ann),
    ):
        connection.execute(
            sa.text(
                "INSERT INTO members (name, role, disabled, created_at, person_id)"
                " VALUES (:name, 'parent', false, :now, :person)"
            ),
            {"name": name, "now": now, "person": person},
        )
        members[name] = connection.scalar(
            sa.text("SELECT id FROM members WHERE name = :name"), {"name": name}
        )

    def enum(value: str, kind: str) -> str:
        return (
            f"CAST('{value}' AS gift_{kind})"
            if dialect == "postgresql"
            else repr(value)
        )

    connection.execute(
        sa.text(
            f"""
            UPDATE gifts SET
              status = CASE WHEN id % 9941 = 4 THEN {enum("received", "status")}
                            WHEN id % 2 = 0 THEN {enum("idea", "status")}
                            ELSE {enum("selected", "status")} END,
              priority = CASE WHEN id % 9949 = 6 THEN {enum("high", "priority")}
                              WHEN id % 2 = 1 THEN {enum("low", "priority")}
                              ELSE {enum("medium", "priority")} END,
              from_santa = (id % 1000 = 11),
              claimed_by = CASE WHEN id % 10 = 1 THEN :me
                                WHEN id % 9967 = 8 THEN :few END,
              occasion_id = CASE WHEN id % 10 = 3 THEN :often
                                 WHEN id % 9931 = 5 THEN :seldom END,
              created_by = CASE WHEN id % 200 = 0 THEN :ann END
            """
        ),
        {
            "me": members["shapes-viewer"],
            "few": members["shapes-claims-few"],
            "often": often,
            "seldom": seldom,
            "ann": members["shapes-ann"],
        },
    )
    for table, column, key, rule in (
        ("gift_recipients", "person_id", ann, "id % 20 = 0"),
        ("gift_recipients", "person_id", bob, "id % 10007 = 1"),
        ("gift_lists", "list_id", many, "id % 50 = 7"),
        ("gift_lists", "list_id", few, "id % 9973 = 3"),
        ("gift_lists", "list_id", planning, "id % 40 = 0"),
    ):
        connection.execute(
            sa.text(
                f"INSERT INTO {table} (gift_id, {column})"
                f" SELECT id, :key FROM gifts WHERE {rule}"
            ),
            {"key": key},
        )
    return {
        "ann": ann,
        "bob": bob,
        "cleo": cleo,
        "list_many": many,
        "list_few": few,
        "list_empty": empty,
        "list_planning": planning,
        "occasion_many": often,
        "occasion_few": seldom,
        "occasion_none": never,
        # Members apart from people: "ann" is her person.
        **{
            "member_" + name.removeprefix("shapes-"): id_
            for name, id_ in members.items()
        },
    }


def analyze(connection: sa.Connection) -> None:
    """The planner's statistics after the bulk load (an AUTOCOMMIT
    connection): what autovacuum does on PostgreSQL; on SQLite the ANALYZE
    that migration 0011 runs, again, as the data now stands."""
    if connection.dialect.name == "postgresql":
        for table in ("gifts", "gift_recipients", "gift_lists", "lists"):
            connection.exec_driver_sql(f"VACUUM ANALYZE {table}")
    else:
        connection.exec_driver_sql("ANALYZE")


def seeded_ids(connection: sa.Connection) -> dict[str, int]:
    """The ids ``seed_shapes`` returned, read back from a seeded database."""
    ann, bob, cleo = _ids(connection, "people", ["Ann", "Bob", "Cleo"])
    lists = _ids(connection, "lists", ["Many", "Few", "Empty", "Ann's ideas"])
    occasions = _ids(connection, "occasions", ["Often", "Seldom", "Never"])
    names = ["viewer", "claims-few", "claims-none", "ann"]
    members = _ids(connection, "members", [f"shapes-{n}" for n in names])
    return {
        "ann": ann,
        "bob": bob,
        "cleo": cleo,
        **dict(
            zip(
                ("list_many", "list_few", "list_empty", "list_planning"),
                lists,
                strict=True,
            )
        ),
        **dict(
            zip(
                ("occasion_many", "occasion_few", "occasion_none"),
                occasions,
                strict=True,
            )
        ),
        **dict(zip([f"member_{n}" for n in names], members, strict=True)),
    }


def filter_values(ids: dict[str, int]) -> dict[str, str]:
    """Each filter alone at each selectivity: name -> query string."""
    return {
        "statuses many": "statuses=idea",
        "statuses few": "statuses=received",
        "statuses none": "statuses=purchased",
        "priority many": "priority=low",
        "priority few": "priority=high",
        "from_santa many": "from_santa=false",
        "from_santa few": "from_santa=true",
        "search many": "search=" + quote("gift 1"),
        "search few": "search=1234",
        "search none": "search=kite",
        "person_ids many": f"person_ids={ids['ann']}",
        "person_ids few": f"person_ids={ids['bob']}",
        "person_ids none": f"person_ids={ids['cleo']}",
        "list_ids many": f"list_ids={ids['list_many']}",
        "list_ids few": f"list_ids={ids['list_few']}",
        "list_ids none": f"list_ids={ids['list_empty']}",
        "claimed_by me": "claimed_by=me",
        "claimed_by none": "claimed_by=none",
        "claimed_by few": f"claimed_by={ids['member_claims-few']}",
        "claimed_by nobody's": f"claimed_by={ids['member_claims-none']}",
        "occasion_ids many": f"occasion_ids={ids['occasion_many']}",
        "occasion_ids few": f"occasion_ids={ids['occasion_few']}",
        "occasion_ids none": f"occasion_ids={ids['occasion_none']}",
    }


def combinations(ids: dict[str, int]) -> dict[str, str]:
    """The issue's combinations (first pages; the 4th where it names one)."""
    return {
        "search one gift": "search=" + quote("Gift 123456"),
        "idea+low+santa+search kite, name": (
            "statuses=idea&priority=low&from_santa=true&search=kite&sort=name"
        ),
        "person+list (none), name": (
            f"person_ids={ids['ann']}&list_ids={ids['list_many']}&sort=name"
        ),
        "person+santa+high, price_desc": (
            f"person_ids={ids['ann']}&from_santa=true&priority=high&sort=price_desc"
        ),
        "list+search kit": f"list_ids={ids['list_many']}&search=kit",
        "planning list": f"list_ids={ids['list_planning']}",
    }


def shapes(ids: dict[str, int]) -> dict[str, tuple[str, str, int]]:
    """name -> (member, query, page number); page 1 or LATER."""
    found: dict[str, tuple[str, str, int]] = {}
    values = filter_values(ids)
    for name, query in values.items():
        for sort in SORTS:
            for page in (1, LATER):
                label = f"{name}, {sort}" + (f", page {page}" if page > 1 else "")
                found[label] = ("viewer", f"{query}&sort={sort}", page)
    for name, query in combinations(ids).items():
        found[name] = ("viewer", query, 1)
    found["list many, price_asc, page 4"] = (
        "viewer",
        f"list_ids={ids['list_many']}&sort=price_asc",
        LATER,
    )
    # The linked member: her plain pages, each filter alone newest first
    # (a first page and a later one) and by each other sort (a first page),
    # and the combinations.
    found["linked: plain"] = ("ann", "sort=recent", 1)
    found["linked: plain, page 4"] = ("ann", "sort=recent", LATER)
    for sort in SORTS[1:]:
        found[f"linked: plain, {sort}"] = ("ann", f"sort={sort}", 1)
    for name, query in values.items():
        found[f"linked: {name}"] = ("ann", query, 1)
        found[f"linked: {name}, page 4"] = ("ann", query, LATER)
        for sort in SORTS[1:]:
            found[f"linked: {name}, {sort}"] = ("ann", f"{query}&sort={sort}", 1)
    for name, query in combinations(ids).items():
        found[f"linked: {name}"] = ("ann", query, 1)
    if ONLY:
        found = {name: shape for name, shape in found.items() if ONLY in name}
    return found


def _get(client: Any, path: str) -> dict[str, Any]:
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path}: {response.status_code} {response.data!r:.300}")
    return response.get_json()


def _path(client: Any, query: str, page: int) -> str | None:
    """The path of page ``page`` of ``query`` (None: there are fewer pages)."""
    path = f"{PAGE}&{query}"
    for _ in range(page - 1):
        cursor = _get(client, path)["next_cursor"]
        if cursor is None:
            return None
        path = f"{PAGE}&{query}&cursor={cursor}"
    return path


def _timed(client: Any, path: str) -> float:
    started = time.perf_counter()
    _get(client, path)
    return time.perf_counter() - started


def time_shapes(app: Any, ids: dict[str, int]) -> dict[str, Any]:
    """Every shape's median against the plain first page, round-robin."""
    clients = {}
    with app.app_context():
        for member in ("viewer", "ann"):
            found = accounts.find_member(f"shapes-{member}")
            _, token = accounts.create_token(found, label="bench shapes")
            client = app.test_client()
            client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
            clients[member] = client
        db.session.remove()
    plain = _path(clients["viewer"], "sort=recent", 1)
    assert plain is not None
    paths: dict[str, tuple[str, str]] = {}
    skipped = []
    for name, (member, query, page) in shapes(ids).items():
        path = _path(clients[member], query, page)
        if path is None:
            skipped.append(name)  # fewer pages than that: nothing to measure
        else:
            paths[name] = (member, path)
    samples: dict[str, list[float]] = {name: [] for name in paths}
    base: list[float] = []
    # The warm-up round; then a shape far above the plain page takes fewer.
    base.append(_timed(clients["viewer"], plain))
    warm = {name: _timed(clients[m], p) for name, (m, p) in paths.items()}
    started = time.perf_counter()
    for attempt in range(ROUNDS):
        base.append(_timed(clients["viewer"], plain))
        for name, (member, path) in paths.items():
            if attempt >= SLOW_ROUNDS and warm[name] > SLOW * base[0]:
                continue
            samples[name].append(_timed(clients[member], path))
    plain_ms = statistics.median(base[1:]) * 1000
    result: dict[str, Any] = {
        "plain_first_ms": round(plain_ms, 3),
        "rounds": ROUNDS,
        "seconds": round(time.perf_counter() - started, 1),
        "skipped": skipped,
        "shapes": {},
    }
    for name, (member, path) in paths.items():
        median_ms = statistics.median(samples[name]) * 1000
        result["shapes"][name] = {
            "member": member,
            "path": path.split("&cursor=")[0]
            + (f" (page {shapes(ids)[name][2]})" if "&cursor=" in path else ""),
            "median_ms": round(median_ms, 3),
            "ratio": round(median_ms / plain_ms, 2),
        }
    worst = sorted(result["shapes"].items(), key=lambda item: -item[1]["ratio"])
    over = [name for name, x in worst if x["ratio"] > TARGET]
    result["over_target"] = len(over)
    result["worst_ratio"] = worst[0][1]["ratio"] if worst else None
    log(
        f"  shapes: {len(paths)} measured, plain first page {plain_ms:.2f} ms,"
        f" {len(over)} over {TARGET}x; worst "
        + ", ".join(f"{name} {x['ratio']}x" for name, x in worst[:5])
    )
    return result


def _prepare(url: str, rows: int, reuse: bool) -> tuple[Any, dict[str, int]]:
    from flask_migrate import upgrade

    from app import create_app
    from bench.seed import insert_rows_sql

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        if reuse:
            with db.engine.connect() as connection:
                ids = seeded_ids(connection)
        else:
            with db.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.exec_driver_sql("DROP SCHEMA public CASCADE")
                    connection.exec_driver_sql("CREATE SCHEMA public")
            upgrade(revision="0001")
            with db.engine.begin() as connection:
                connection.execute(
                    insert_rows_sql(connection.dialect.name, random_ids=True),
                    {"rows": rows},
                )
            upgrade()
            with db.engine.begin() as connection:
                ids = seed_shapes(connection)
        with db.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as connection:
            analyze(connection)
        db.engine.dispose()
    return app, ids


def main() -> None:
    import logging

    from bench import settings

    logging.disable(logging.INFO)

    scratch = Path(tempfile.gettempdir()) / "gifts-bench-shapes.db"
    url = os.environ.get("BENCH_SHAPES_URL") or f"sqlite:///{scratch}"
    reuse = bool(os.environ.get("BENCH_SHAPES_REUSE"))
    started = time.perf_counter()
    app, ids = _prepare(url, settings.SCALE_BIG, reuse)
    log(f"seeded in {time.perf_counter() - started:.0f} s")
    result = time_shapes(app, ids)
    print(f"plain first page {result['plain_first_ms']} ms")
    for name, x in result["shapes"].items():
        mark = "  " if x["ratio"] <= TARGET else "!!"
        print(f"{mark} {x['ratio']:>8.2f}x {x['median_ms']:>9.2f} ms  {name}")
    print(f"over {TARGET}x: {result['over_target']} of {len(result['shapes'])}")


if __name__ == "__main__":
    main()

"""The real service under gunicorn with several workers: concurrent edits are safe.

Each test migrates a database of its own (``empty_database_url``: a file on
SQLite, a fresh database on PostgreSQL when TEST_DATABASE_URL is set), serves it
with ``gunicorn -c gunicorn.conf.py wsgi:app`` and 4 worker processes, and races
stdlib HTTP clients against it on 127.0.0.1.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from threading import Barrier, BrokenBarrierError
from typing import Any

import pytest

from tests.serving import PASSWORD, REQUEST_TIMEOUT, Reply, Service, gunicorn

pytestmark = pytest.mark.slow

WORKERS = 4
GIFTS = "/api/v1/gifts"


@pytest.fixture
def service(empty_database_url: str, tmp_path: Path) -> Iterator[Service]:
    """gunicorn with 4 workers on a freshly migrated database, always stopped."""
    with gunicorn(
        empty_database_url, tmp_path / "gunicorn.log", WEB_CONCURRENCY=str(WORKERS)
    ) as running:
        yield running


def run_together(tasks: list[Callable[[Barrier], Any]]) -> list[Any]:
    """Run each task in its own thread; they pass ``barrier.wait()`` together.

    A task that fails breaks the barrier, so the others do not wait for it;
    its own error (not the others' BrokenBarrierError) is the one raised.
    """
    barrier = Barrier(len(tasks), timeout=REQUEST_TIMEOUT)

    def run(task: Callable[[Barrier], Any]) -> Any:
        try:
            return task(barrier)
        except BaseException:
            barrier.abort()
            raise

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        futures = [pool.submit(run, task) for task in tasks]
    errors = [error for future in futures if (error := future.exception())]
    first_causes = [e for e in errors if not isinstance(e, BrokenBarrierError)]
    if errors:
        raise (first_causes or errors)[0]
    return [future.result() for future in futures]


def create_gift(service: Service, **fields: Any) -> tuple[dict[str, Any], str]:
    reply = service.request("POST", GIFTS, {"name": "Race", **fields})
    assert reply.status == 201, reply.body
    return reply.body, reply.headers["etag"]


def assert_log_clean(service: Service) -> None:
    log = service.log()
    assert "Traceback" not in log, log[-4000:]
    assert "database unavailable" not in log, log[-4000:]


def money(value: Decimal) -> float:
    """As a JSON number: a float whose repr is the two-decimal value."""
    return float(value)


# Each writer owns one field: request i of a writer sends value(i).
WRITERS: dict[str, Callable[[int], Any]] = {
    "price": lambda i: Decimal(f"{i + 1}.{i % 100:02d}"),
    "sale_price": lambda i: Decimal(f"{i}.99"),
    "notes": lambda i: f"notes {i}",
    "name": lambda i: f"Race {i}",
    "from_santa": lambda i: i % 2 == 1,
    "quantity": lambda i: i + 2,
    "status": lambda i: ("selected", "purchased", "received", "idea")[i % 4],
    "priority": lambda i: ("low", "medium", "high")[i % 3],
}
REQUESTS_PER_WRITER = 30  # the last value differs from the default for every field


def as_json(value: Any) -> Any:
    return money(value) if isinstance(value, Decimal) else value


def test_patches_of_different_fields_never_undo_each_other(service: Service) -> None:
    gift, etag_before = create_gift(service)
    path = f"{GIFTS}/{gift['id']}"

    def writer(field: str) -> Callable[[Barrier], list[Reply]]:
        def write(barrier: Barrier) -> list[Reply]:
            barrier.wait()
            replies = []
            for i in range(REQUESTS_PER_WRITER):
                value = WRITERS[field](i)
                reply = service.request("PATCH", path, {field: as_json(value)})
                replies.append(reply)
                assert reply.status == 200, (field, i, reply.status, reply.body)
                assert reply.body[field] == value, (field, i, reply.body)
            return replies

        return write

    started = time.monotonic()
    results = run_together([writer(field) for field in WRITERS])
    elapsed = time.monotonic() - started

    replies = [reply for replies in results for reply in replies]
    assert len(replies) == len(WRITERS) * REQUESTS_PER_WRITER
    assert {reply.status for reply in replies} == {200}
    # Every write made a version of its own: no two share an ETag.
    etags = [reply.headers["etag"] for reply in replies]
    assert len(set(etags)) == len(etags)
    assert etag_before not in etags

    final = service.request("GET", path)
    assert final.status == 200
    last = REQUESTS_PER_WRITER - 1
    assert {field: final.body[field] for field in WRITERS} == {
        field: value(last) for field, value in WRITERS.items()
    }, f"lost updates after {elapsed:.1f}s"
    etag_after = final.headers["etag"]
    assert etag_after != etag_before
    assert etag_after in etags

    not_modified = service.request("GET", path, headers={"If-None-Match": etag_after})
    assert not_modified.status == 304
    assert not_modified.headers["etag"] == etag_after
    stale = service.request("GET", path, headers={"If-None-Match": etag_before})
    assert stale.status == 200
    assert_log_clean(service)


RACERS = 8
ROUNDS = 5


def test_if_match_races_have_exactly_one_winner(service: Service) -> None:
    gift, first_etag = create_gift(service)
    path = f"{GIFTS}/{gift['id']}"

    def racer(notes: str) -> Callable[[Barrier], tuple[str, str, Reply]]:
        """Read the gift, then (with all the others) change it if unchanged."""

        def race(barrier: Barrier) -> tuple[str, str, Reply]:
            read = service.request("GET", path)
            assert read.status == 200, read.body
            etag = read.headers["etag"]
            barrier.wait()
            reply = service.request(
                "PATCH", path, {"notes": notes}, headers={"If-Match": etag}
            )
            return notes, etag, reply

        return race

    for round_ in range(ROUNDS):
        names = [f"round {round_} racer {n}" for n in range(RACERS)]
        results = run_together([racer(notes) for notes in names])

        assert len({etag for _, etag, _ in results}) == 1  # all read the same state
        statuses = sorted(reply.status for _, _, reply in results)
        assert statuses == [200] + [412] * (RACERS - 1), statuses
        (winner,) = [notes for notes, _, reply in results if reply.status == 200]
        for _, _, reply in results:
            if reply.status == 412:
                assert reply.headers["content-type"] == "application/problem+json"
                assert reply.body["status"] == 412

        final = service.request("GET", path)
        assert final.body["notes"] == winner

    # A DELETE with a stale ETag changes nothing.
    current = service.request("GET", path)
    stale = service.request("DELETE", path, headers={"If-Match": first_etag})
    assert stale.status == 412, stale.body
    after = service.request("GET", path)
    assert after.status == 200
    assert after.headers["etag"] == current.headers["etag"]
    assert after.body == current.body

    # Racing DELETEs with the current ETag: one deletes it, the rest find it gone.
    def deleter(barrier: Barrier) -> int:
        barrier.wait()
        headers = {"If-Match": current.headers["etag"]}
        return service.request("DELETE", path, headers=headers).status

    statuses = sorted(run_together([deleter] * RACERS))
    assert statuses == [204] + [404] * (RACERS - 1), statuses
    assert service.request("GET", path).status == 404
    assert_log_clean(service)


BULK_GIFTS = 10
BULK_REQUESTS = 40
# Each bulk writer owns one field and changes it on an overlapping subset of
# the gifts (request i sends value(i)); some gifts also get single PATCHes.
BULK_WRITERS: dict[str, Callable[[int], Any]] = {
    "priority": lambda i: ("low", "medium", "high")[i % 3],
    "from_santa": lambda i: i % 2 == 1,
    "status": lambda i: ("selected", "purchased")[i % 2],
    "quantity": lambda i: i + 2,
}


def test_bulk_and_single_patches_on_overlapping_gifts(service: Service) -> None:
    ids = [create_gift(service, name=f"Bulk {n}")[0]["id"] for n in range(BULK_GIFTS)]
    # Different subsets in different orders (the answer follows the order).
    targets = {
        "priority": ids,
        "from_santa": ids[::-1],
        "status": ids[1:],
        "quantity": ids[:-1][::-1],
    }
    singles = [ids[0], ids[len(ids) // 2], ids[-1]]

    def bulk(field: str) -> Callable[[Barrier], None]:
        def write(barrier: Barrier) -> None:
            barrier.wait()
            for i in range(BULK_REQUESTS):
                value = BULK_WRITERS[field](i)
                body = {"ids": targets[field], "changes": {field: value}}
                reply = service.request("PATCH", GIFTS, body)
                assert reply.status == 200, (field, i, reply.status, reply.body)
                items = reply.body["items"]
                assert [item["id"] for item in items] == targets[field]
                assert {item[field] for item in items} == {value}

        return write

    def single(gift_id: int) -> Callable[[Barrier], None]:
        def write(barrier: Barrier) -> None:
            barrier.wait()
            for i in range(BULK_REQUESTS):
                notes = f"gift {gift_id} notes {i}"
                reply = service.request("PATCH", f"{GIFTS}/{gift_id}", {"notes": notes})
                assert reply.status == 200, (gift_id, i, reply.status, reply.body)
                assert reply.body["notes"] == notes

        return write

    run_together([bulk(field) for field in BULK_WRITERS] + [single(i) for i in singles])

    listing = service.request("GET", f"{GIFTS}?limit=100")
    assert listing.status == 200
    final = {gift["id"]: gift for gift in listing.body["items"]}
    assert sorted(final) == sorted(ids)
    last = BULK_REQUESTS - 1
    defaults = {"priority": "medium", "from_santa": False, "status": "idea"}
    for gift_id, gift in final.items():
        expected = {
            field: value(last) if gift_id in targets[field] else defaults.get(field, 1)
            for field, value in BULK_WRITERS.items()
        }
        expected["notes"] = (
            f"gift {gift_id} notes {last}" if gift_id in singles else None
        )
        assert {field: gift[field] for field in expected} == expected, gift_id
    assert_log_clean(service)


LIST_WRITERS = 6
LIST_ROUNDS = 5


def test_concurrent_bulk_adds_of_different_lists_all_stick(service: Service) -> None:
    """The "+List" race: each client adds its own list to the same gifts; the
    links are rows of their own, so no add overwrites another."""
    gifts = [create_gift(service)[0]["id"] for _ in range(5)]
    lists = []
    for n in range(LIST_WRITERS * LIST_ROUNDS):
        reply = service.request("POST", "/api/v1/lists", {"name": f"List {n}"})
        assert reply.status == 201, reply.body
        lists.append(reply.body["id"])

    def adder(writer: int) -> Callable[[Barrier], list[Reply]]:
        def add(barrier: Barrier) -> list[Reply]:
            replies = []
            for round_ in range(LIST_ROUNDS):
                barrier.wait()
                list_id = lists[round_ * LIST_WRITERS + writer]
                # Each writer names the gifts in another order.
                ids = gifts[writer % len(gifts) :] + gifts[: writer % len(gifts)]
                body = {"ids": ids, "changes": {"add_list_ids": [list_id]}}
                reply = service.request("PATCH", GIFTS, body)
                assert reply.status == 200, (writer, round_, reply.status, reply.body)
                replies.append(reply)
            return replies

        return add

    run_together([adder(writer) for writer in range(LIST_WRITERS)])

    for gift_id in gifts:
        reply = service.request("GET", f"{GIFTS}/{gift_id}")
        assert reply.body["list_ids"] == sorted(lists), gift_id
    counts = service.request("GET", "/api/v1/lists?limit=100").body["items"]
    assert {item["gift_count"] for item in counts} == {len(gifts)}
    assert_log_clean(service)


# Access across workers ------------------------------------------------------------


def test_a_revoked_token_is_refused_by_every_worker_within_5_seconds(
    service: Service,
) -> None:
    signed_in = service.request(
        "POST", "/api/v1/sessions", {"login": "Mum", "password": PASSWORD}, token=None
    )
    assert signed_in.status == 201, signed_in.body
    token = signed_in.body["token"]

    def get(_: Barrier) -> int:
        return service.request("GET", GIFTS, token=token).status

    # Every worker has now checked the token, and may remember it.
    assert run_together([get] * 16) == [200] * 16
    signed_out = service.request("DELETE", "/api/v1/sessions/current", token=token)
    assert signed_out.status == 204
    revoked = time.monotonic()
    while True:
        statuses = run_together([get] * 16)
        if set(statuses) == {401}:
            break
        assert set(statuses) <= {200, 401}, statuses
        assert time.monotonic() - revoked < 5, "still accepted after 5 s"
        time.sleep(0.2)
    assert service.request("GET", GIFTS).status == 200  # the other token works
    assert_log_clean(service)


@pytest.fixture
def all_checked(empty_database_url: str, tmp_path: Path) -> Iterator[Service]:
    """As ``service``, with the bound on password checks at once lifted: each
    of 12 sign-ins at once is checked (none answered 503 by the gate), so
    what holds the limit is the database's count alone."""
    with gunicorn(
        empty_database_url,
        tmp_path / "gunicorn.log",
        WEB_CONCURRENCY=str(WORKERS),
        SIGN_IN_HASHES_PER_WORKER="16",
        SIGN_IN_HASHES_PER_HOST="64",
    ) as running:
        yield running


def test_the_sign_in_throttle_holds_across_workers(all_checked: Service) -> None:
    service = all_checked

    def wrong(barrier: Barrier) -> int:
        barrier.wait()
        body = {"login": "nobody", "password": "guess"}  # an unknown login
        return service.request("POST", "/api/v1/sessions", body, token=None).status

    def attempt(barrier: Barrier) -> Reply:
        barrier.wait()
        body = {"login": "Mum", "password": "guess"}
        return service.request("POST", "/api/v1/sessions", body, token=None)

    # 12 at once, spread over the workers: exactly 5 are checked.
    assert sorted(run_together([wrong] * 12)) == [401] * 5 + [429] * 7
    replies = run_together([attempt] * 12)
    assert sorted(reply.status for reply in replies) == [401] * 5 + [429] * 7
    for reply in replies:
        if reply.status == 429:
            assert 1 <= int(reply.headers["retry-after"]) <= 15 * 60
    right = service.request(
        "POST", "/api/v1/sessions", {"login": "Mum", "password": PASSWORD}, token=None
    )
    assert right.status == 429
    assert_log_clean(service)

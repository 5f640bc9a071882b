"""Budgets and occasions under gunicorn with several workers: budgets set at
once never clash (one upsert each), and an occasion deleted while gifts join
it leaves no gift under an occasion that is gone."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from threading import Barrier

import pytest

from tests.serving import Service, gunicorn
from tests.test_concurrency import assert_log_clean, run_together

pytestmark = pytest.mark.slow

OCCASIONS = "/api/v1/occasions"


@pytest.fixture
def service(empty_database_url: str, tmp_path: Path) -> Iterator[Service]:
    with gunicorn(
        empty_database_url, tmp_path / "gunicorn.log", WEB_CONCURRENCY="4"
    ) as running:
        yield running


def test_budgets_set_at_once_all_succeed_and_one_stays(service: Service) -> None:
    person = service.request("POST", "/api/v1/people", {"name": "Ann"}).body["id"]
    occasion = service.request(
        "POST", OCCASIONS, {"name": "Christmas", "date": "2026-12-25"}
    ).body["id"]
    path = f"{OCCASIONS}/{occasion}/budgets/{person}"
    amounts = [Decimal(f"{n}.{n:02d}") for n in range(1, 13)]

    def put(amount: Decimal):
        def task(barrier: Barrier) -> int:
            barrier.wait()
            return service.request("PUT", path, {"amount": float(amount)}).status

        return task

    assert run_together([put(amount) for amount in amounts]) == [200] * len(amounts)
    view = service.request("GET", f"{OCCASIONS}/{occasion}/budget").body
    assert len(view["people"]) == 1
    assert view["people"][0]["budget"] in amounts
    assert_log_clean(service)


def test_gifts_joining_an_occasion_being_deleted_end_up_under_none(
    service: Service,
) -> None:
    occasion = service.request(
        "POST", OCCASIONS, {"name": "Christmas", "date": "2026-12-25"}
    ).body["id"]

    def add(n: int):
        def task(barrier: Barrier) -> int:
            barrier.wait()
            body = {"name": f"Gift {n}", "occasion_id": occasion}
            return service.request("POST", "/api/v1/gifts", body).status

        return task

    def delete(barrier: Barrier) -> int:
        barrier.wait()
        return service.request("DELETE", f"{OCCASIONS}/{occasion}").status

    statuses = run_together([add(n) for n in range(8)] + [delete])
    assert statuses[-1] == 204
    assert set(statuses[:-1]) <= {201, 422}  # after the delete: no such occasion
    gifts = service.request("GET", "/api/v1/gifts?limit=100").body["items"]
    assert len(gifts) == statuses.count(201)
    assert {gift["occasion_id"] for gift in gifts} <= {None}
    assert_log_clean(service)

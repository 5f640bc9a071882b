"""GET /api/v1/gifts: filters, sorts and keyset pages that never skip or repeat."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from tests.conftest import POSTGRES_URL

GIFTS = "/api/v1/gifts"
MakeGift = Callable[..., dict[str, Any]]


def walk(client: FlaskClient, query: str = "", limit: int = 2) -> list[dict[str, Any]]:
    """Every gift of a listing, following next_cursor page by page."""
    gifts: list[dict[str, Any]] = []
    url = f"{GIFTS}?limit={limit}{'&' + query if query else ''}"
    while True:
        response = client.get(url)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        assert len(page["items"]) <= limit
        gifts += page["items"]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            return gifts
        url = f"{GIFTS}?limit={limit}&cursor={page['next_cursor']}"
        url += f"&{query}" if query else ""


def names(gifts: list[dict[str, Any]]) -> list[str]:
    return [gift["name"] for gift in gifts]


@pytest.fixture
def shelf(make_gift: MakeGift) -> dict[str, int]:
    """Six gifts made one after the other; their ids by name."""
    made = [
        make_gift(name="Bike", price=150, status="idea", priority="high"),
        make_gift(name="apron", price=None, status="selected", from_santa=True),
        make_gift(name="Chess set", price=20.5, status="purchased", priority="low"),
        make_gift(name="Doll", price=20.5, status="received", from_santa=True),
        make_gift(name="Easel", price=None, status="idea", priority="high"),
        make_gift(name="Flute", price=0.1, status="selected", priority="low"),
    ]
    return {gift["name"]: gift["id"] for gift in made}


def test_empty_listing(client: FlaskClient) -> None:
    assert client.get(GIFTS).get_json() == {
        "items": [],
        "has_more": False,
        "next_cursor": None,
    }


def test_default_listing_is_newest_first_in_pages_of_50(
    client: FlaskClient, make_gift: MakeGift
) -> None:
    created = [make_gift(name=f"Gift {i:02}")["name"] for i in range(55)]

    first = client.get(GIFTS).get_json()

    assert names(first["items"]) == created[::-1][:50]
    assert first["has_more"] is True
    assert names(walk(client, limit=7)) == created[::-1]


@pytest.mark.parametrize(
    ("sort", "groups"),
    [
        (
            "recent",
            [["Flute"], ["Easel"], ["Doll"], ["Chess set"], ["apron"], ["Bike"]],
        ),
        # no price sorts last either way; equal prices by id (in the sort's
        # direction)
        ("price_asc", [["Flute"], ["Chess set", "Doll"], ["Bike"], ["apron", "Easel"]]),
        (
            "price_desc",
            [["Bike"], ["Chess set", "Doll"], ["Flute"], ["apron", "Easel"]],
        ),
    ],
)
def test_sorts_page_through_every_gift_once(
    client: FlaskClient, shelf: dict[str, int], sort: str, groups: list[list[str]]
) -> None:
    descending = sort != "price_asc"
    expected = [
        name
        for group in groups
        for name in sorted(group, key=shelf.__getitem__, reverse=descending)
    ]
    assert names(walk(client, f"sort={sort}", limit=1)) == expected
    assert names(walk(client, f"sort={sort}", limit=4)) == expected


@pytest.mark.usefixtures("shelf")
def test_sort_by_name_pages_in_name_order(client: FlaskClient) -> None:
    listed = names(walk(client, "sort=name", limit=4))

    assert sorted(listed) == sorted(names(walk(client, "sort=recent")))
    assert listed == sorted(listed, key=lambda name: name) or listed == sorted(
        listed, key=str.lower
    )
    assert names(walk(client, "sort=name", limit=1)) == listed


@pytest.mark.usefixtures("shelf")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("statuses=idea", ["Easel", "Bike"]),
        ("statuses=idea&statuses=received", ["Easel", "Doll", "Bike"]),
        ("priority=low", ["Flute", "Chess set"]),
        ("priority=low&priority=high", ["Flute", "Easel", "Chess set", "Bike"]),
        ("from_santa=true", ["Doll", "apron"]),
        ("from_santa=false", ["Flute", "Easel", "Chess set", "Bike"]),
        ("search=ch", ["Chess set"]),
        ("search=BI", ["Bike"]),
        ("statuses=idea&priority=high&from_santa=false&search=as", ["Easel"]),
    ],
)
def test_filters_combine_with_and_and_repeat_with_or(
    client: FlaskClient, query: str, expected: list[str]
) -> None:
    assert names(walk(client, query, limit=1)) == expected


def test_search_treats_wildcards_literally(
    client: FlaskClient, make_gift: MakeGift
) -> None:
    make_gift(name="100% wool scarf")
    make_gift(name="1000 piece puzzle")
    make_gift(name="snake_case mug")

    assert names(walk(client, "search=0%25")) == ["100% wool scarf"]
    assert names(walk(client, "search=e_c")) == ["snake_case mug"]


def test_pages_never_skip_or_repeat_while_others_insert(
    client: FlaskClient, make_gift: MakeGift
) -> None:
    before = [make_gift(name=f"Old {i}")["name"] for i in range(6)]
    page = client.get(f"{GIFTS}?limit=3").get_json()
    seen = names(page["items"])

    make_gift(name="New while paging")
    rest = client.get(f"{GIFTS}?limit=3&cursor={page['next_cursor']}").get_json()
    seen += names(rest["items"])

    assert seen == before[::-1]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("statuses=lost", "statuses"),
        ("priority=urgent", "priority"),
        ("from_santa=yes", "from_santa"),
        ("from_santa=1", "from_santa"),
        ("search=a", "search"),
        ("sort=price", "sort"),
        ("cursor=not-a-cursor", "cursor"),
        ("colour=red", "colour"),
    ],
)
def test_bad_parameters_are_a_422_naming_them(
    client: FlaskClient, query: str, field: str
) -> None:
    response = client.get(f"{GIFTS}?{query}")

    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert list(response.get_json()["errors"]) == [field]


def test_a_cursor_of_another_sort_is_rejected(
    client: FlaskClient, make_gift: MakeGift
) -> None:
    for _ in range(3):
        make_gift(price=5)
    cursor = client.get(f"{GIFTS}?limit=1&sort=price_asc").get_json()["next_cursor"]

    response = client.get(f"{GIFTS}?limit=1&sort=name&cursor={cursor}")

    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "cursor": ["Not a cursor of this listing."]
    }


@pytest.mark.skipif(not POSTGRES_URL, reason="the trigram index is PostgreSQL's")
def test_a_search_on_postgresql_reads_the_trigram_index(
    app: Flask, client: FlaskClient
) -> None:
    """`search` (``name ~ ...``, app/gifts/search.py) finds a rare name
    through ix_gifts_name_trigram (migration 0006), not reading every gift.
    At 200 000 gifts the planner takes the index; at 50 000 it still prefers
    to read the table (18 ms there)."""
    with app.app_context():
        with db.engine.begin() as connection:
            # Set-up, not a request: a busy machine may take longer than a
            # request's statement timeout to fill and index 200 000 rows.
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
            connection.execute(
                sa.text(
                    "INSERT INTO gifts (name, quantity, priority, status, "
                    "created_at, updated_at) SELECT 'Gift ' || n, 1, 'medium', "
                    "'idea', now(), now() FROM generate_series(1, 200000) AS n"
                )
            )
            connection.exec_driver_sql("ANALYZE gifts")
        sent: list[tuple[str, Any]] = []

        def keep(
            _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any
        ) -> None:
            sent.append((statement, parameters))

        engines = list(db.engines.values())
        for engine in engines:
            sa.event.listen(engine, "before_cursor_execute", keep)
        try:
            response = client.get(f"{GIFTS}?search=gift%20123456")
        finally:
            for engine in engines:
                sa.event.remove(engine, "before_cursor_execute", keep)

        assert names(response.get_json()["items"]) == ["Gift 123456"]
        # The walk of the newest 5 000 gifts finds no match, so the page is
        # driven from the filter's index (app/gifts/listing.py, _page).
        walk, (statement, parameters) = [
            (s, p) for s, p in sent if "gifts.name ~ " in s
        ]
        with db.engine.connect() as connection:
            plan = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            plan_text = "\n".join(row[0] for row in plan)
        assert "ix_gifts_name_trigram" in plan_text, plan_text

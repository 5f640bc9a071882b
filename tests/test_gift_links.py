"""A gift's recipients and lists: set, replaced, added, removed, filtered by,
summed up; and a page of gifts with its ids read in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from tests.conftest import newest_first_key
from tests.test_people_lists import GIFTS, LISTS, PEOPLE, make, walk

MakeGift = Callable[..., dict[str, Any]]


@pytest.fixture
def ann(client: FlaskClient) -> int:
    return make(client, PEOPLE, name="Ann")["id"]


@pytest.fixture
def bob(client: FlaskClient) -> int:
    return make(client, PEOPLE, name="Bob")["id"]


@pytest.fixture
def wish(client: FlaskClient) -> int:
    return make(client, LISTS, name="Wish")["id"]


@pytest.fixture
def xmas(client: FlaskClient) -> int:
    return make(client, LISTS, name="Xmas")["id"]


def gift_count(client: FlaskClient) -> int:
    return len(walk(client, GIFTS, limit=100))


def test_create_sets_links_ascending_and_once(
    client: FlaskClient, ann: int, bob: int, wish: int
) -> None:
    response = client.post(
        GIFTS,
        json={"name": "Kite", "recipient_ids": [bob, ann, bob], "list_ids": [wish]},
    )

    assert response.status_code == 201
    gift = response.get_json()
    assert (gift["recipient_ids"], gift["list_ids"]) == ([ann, bob], [wish])
    assert client.get(response.headers["Location"]).get_json() == gift


@pytest.mark.parametrize("field", ["recipient_ids", "list_ids"])
def test_an_unknown_id_is_422_naming_it_and_creates_nothing(
    client: FlaskClient, ann: int, wish: int, field: str
) -> None:
    known = ann if field == "recipient_ids" else wish
    noun = "person" if field == "recipient_ids" else "list"
    response = client.post(GIFTS, json={"name": "Kite", field: [known, 404, 405]})

    assert response.status_code == 422
    body = response.get_json()
    assert body["errors"] == {
        field: {"404": [f"No such {noun}."], "405": [f"No such {noun}."]}
    }
    assert body["detail"] == f"{field}: no {noun} has id 404, 405; nothing was changed."
    assert gift_count(client) == 0


@pytest.mark.parametrize("value", ["1", 1.0, True, None, [[1]]])
def test_ids_must_be_json_integers(client: FlaskClient, value: Any) -> None:
    response = client.post(GIFTS, json={"name": "Kite", "recipient_ids": [value]})
    assert response.status_code == 422
    assert "recipient_ids" in response.get_json()["errors"]


def test_patch_replaces_empties_or_leaves_the_sets(
    client: FlaskClient, make_gift: MakeGift, ann: int, bob: int, wish: int, xmas: int
) -> None:
    gift = make_gift(recipient_ids=[ann], list_ids=[wish])
    url = f"{GIFTS}/{gift['id']}"

    replaced = client.patch(
        url, json={"recipient_ids": [bob], "list_ids": [xmas, wish]}
    )
    assert replaced.status_code == 200
    assert (replaced.get_json()["recipient_ids"], replaced.get_json()["list_ids"]) == (
        [bob],
        sorted([wish, xmas]),
    )
    assert replaced.get_json()["updated_at"] > gift["updated_at"]

    left = client.patch(url, json={"recipient_ids": None, "name": "Kite 2"}).get_json()
    assert (left["recipient_ids"], left["list_ids"]) == ([bob], sorted([wish, xmas]))

    emptied = client.patch(url, json={"list_ids": []}).get_json()
    assert (emptied["recipient_ids"], emptied["list_ids"]) == ([bob], [])
    assert client.get(url).get_json() == emptied


def test_patch_with_an_unknown_id_changes_nothing(
    client: FlaskClient, make_gift: MakeGift, ann: int
) -> None:
    gift = make_gift(recipient_ids=[ann])
    url = f"{GIFTS}/{gift['id']}"

    response = client.patch(url, json={"name": "Other", "recipient_ids": [999]})

    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "recipient_ids": {"999": ["No such person."]}
    }
    assert client.get(url).get_json() == gift


def test_a_link_change_moves_the_etag_and_honours_if_match(
    client: FlaskClient, wish: int
) -> None:
    created = client.post(GIFTS, json={"name": "Kite"})
    url, etag = created.headers["Location"], created.headers["ETag"]

    changed = client.patch(url, json={"list_ids": [wish]}, headers={"If-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    stale = client.patch(url, json={"list_ids": []}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert client.get(url).get_json()["list_ids"] == [wish]


def test_bulk_sets_adds_and_removes_links(
    client: FlaskClient, make_gift: MakeGift, ann: int, bob: int, wish: int, xmas: int
) -> None:
    first, second = make_gift(list_ids=[wish]), make_gift(recipient_ids=[bob])
    ids = [second["id"], first["id"]]

    added = client.patch(
        GIFTS,
        json={
            "ids": ids,
            "changes": {"add_list_ids": [xmas, wish], "add_recipient_ids": [ann]},
        },
    )
    assert added.status_code == 200
    assert [
        (g["id"], g["recipient_ids"], g["list_ids"]) for g in added.get_json()["items"]
    ] == [
        (second["id"], [ann, bob], sorted([wish, xmas])),
        (first["id"], [ann], sorted([wish, xmas])),
    ]
    assert all(g["updated_at"] > first["updated_at"] for g in added.get_json()["items"])

    removed = client.patch(
        GIFTS,
        json={
            "ids": ids,
            "changes": {"remove_list_ids": [wish, 999], "remove_recipient_ids": [bob]},
        },
    )
    assert removed.status_code == 200
    assert [
        (g["recipient_ids"], g["list_ids"]) for g in removed.get_json()["items"]
    ] == [
        ([ann], [xmas]),
        ([ann], [xmas]),
    ]

    replaced = client.patch(GIFTS, json={"ids": ids, "changes": {"recipient_ids": []}})
    assert [g["recipient_ids"] for g in replaced.get_json()["items"]] == [[], []]
    assert walk(client, GIFTS, limit=10) == replaced.get_json()["items"]  # newest first


@pytest.mark.parametrize(
    ("changes", "status", "errors"),
    [
        ({"add_list_ids": [999]}, 422, {"add_list_ids": {"999": ["No such list."]}}),
        (
            {"recipient_ids": [1], "add_recipient_ids": [1]},
            422,
            {"changes": {"add_recipient_ids": ["Not together with recipient_ids."]}},
        ),
        ({"add_list_ids": ["1"]}, 422, None),
    ],
)
def test_bad_bulk_link_changes_change_nothing(
    client: FlaskClient,
    make_gift: MakeGift,
    ann: int,
    changes: dict[str, Any],
    status: int,
    errors: Any,
) -> None:
    gift = make_gift(name="Kite")
    response = client.patch(GIFTS, json={"ids": [gift["id"]], "changes": changes})

    assert response.status_code == status
    if errors is not None:
        assert response.get_json()["errors"] == errors
    assert client.get(f"{GIFTS}/{gift['id']}").get_json() == gift


def test_bulk_with_a_missing_gift_adds_no_link_anywhere(
    client: FlaskClient, make_gift: MakeGift, wish: int
) -> None:
    gift = make_gift()
    response = client.patch(
        GIFTS, json={"ids": [gift["id"], 999], "changes": {"add_list_ids": [wish]}}
    )

    assert response.status_code == 404
    assert client.get(f"{GIFTS}/{gift['id']}").get_json() == gift


def test_deleting_a_gift_removes_it_from_every_list(
    app: Flask, client: FlaskClient, make_gift: MakeGift, wish: int
) -> None:
    gift = make_gift(list_ids=[wish])
    client.delete(f"{GIFTS}/{gift['id']}")

    assert client.get(f"{GIFTS}?list_ids={wish}").get_json()["items"] == []
    with app.app_context(), db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM gift_lists")) == 0


# A list created with gifts --------------------------------------------------------


def test_a_list_created_with_gift_ids_holds_them_and_they_change(
    client: FlaskClient, make_gift: MakeGift, wish: int
) -> None:
    gifts = [make_gift(list_ids=[wish]) for _ in range(2)]
    other = make_gift()

    response = client.post(
        LISTS, json={"name": "New", "gift_ids": [gifts[1]["id"], gifts[0]["id"]]}
    )

    assert response.status_code == 201
    made = response.get_json()
    assert made["gift_count"] == 2
    for before in gifts:
        after = client.get(f"{GIFTS}/{before['id']}").get_json()
        assert after["list_ids"] == sorted([wish, made["id"]])
        assert after["updated_at"] > before["updated_at"]
    assert client.get(f"{GIFTS}/{other['id']}").get_json() == other


def test_a_list_with_an_unknown_gift_is_not_created(
    client: FlaskClient, make_gift: MakeGift
) -> None:
    gift = make_gift()
    response = client.post(LISTS, json={"name": "New", "gift_ids": [gift["id"], 31]})

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"gift_ids": {"31": ["No such gift."]}}
    assert client.get(LISTS).get_json()["items"] == []
    assert client.get(f"{GIFTS}/{gift['id']}").get_json() == gift


# Filters --------------------------------------------------------------------------


@pytest.fixture
def linked(
    client: FlaskClient, make_gift: MakeGift, ann: int, bob: int, wish: int, xmas: int
) -> list[dict[str, Any]]:
    """Gifts in every combination of recipients, lists, status, price, Santa."""
    gifts = []
    combos = itertools.product(
        [[], [ann], [bob], [ann, bob]], [[], [wish], [wish, xmas]]
    )
    for n, (people, lists) in enumerate(combos):
        gifts.append(
            make_gift(
                name=f"Gift {n % 5}",
                recipient_ids=people,
                list_ids=lists,
                status="idea" if n % 3 else "purchased",
                price=None if n % 4 == 0 else Decimal(f"{n}.25"),
                from_santa=n % 2 == 0,
            )
        )
    return gifts


def _order(sort: str) -> Callable[[dict[str, Any]], Any]:
    if sort == "recent":
        return lambda g: tuple(-part for part in _stamp_and_id(g))
    if sort == "name":
        return lambda g: (g["name"], g["id"])
    sign = 1 if sort == "price_asc" else -1
    return lambda g: (g["price"] is None, sign * (g["price"] or 0), sign * g["id"])


def _stamp_and_id(gift: dict[str, Any]) -> tuple[int, int]:
    created, gift_id = newest_first_key(gift)
    return (created - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(
        microseconds=1
    ), gift_id


@pytest.mark.parametrize("sort", ["recent", "name", "price_asc", "price_desc"])
@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ("person_ids={ann}", lambda g, v: v["ann"] in g["recipient_ids"]),
        (
            "person_ids={ann}&person_ids={bob}",
            lambda g, v: bool({v["ann"], v["bob"]} & set(g["recipient_ids"])),
        ),
        ("list_ids={xmas}", lambda g, v: v["xmas"] in g["list_ids"]),
        (
            "list_ids={wish}&person_ids={bob}&statuses=idea&from_santa=false",
            lambda g, v: (
                v["wish"] in g["list_ids"]
                and v["bob"] in g["recipient_ids"]
                and g["status"] == "idea"
                and not g["from_santa"]
            ),
        ),
        ("list_ids=999", lambda g, v: False),
    ],
)
def test_link_filters_combine_with_every_sort_in_exact_pages(
    client: FlaskClient,
    linked: list[dict[str, Any]],
    ann: int,
    bob: int,
    wish: int,
    xmas: int,
    sort: str,
    query: str,
    keep: Callable[[dict[str, Any], dict[str, int]], bool],
) -> None:
    ids = {"ann": ann, "bob": bob, "wish": wish, "xmas": xmas}
    expected = sorted((g for g in linked if keep(g, ids)), key=_order(sort))

    listed = walk(client, f"{GIFTS}?sort={sort}&{query.format(**ids)}", limit=2)

    assert [g["id"] for g in listed] == [g["id"] for g in expected]
    assert listed == expected


# Summary --------------------------------------------------------------------------


def test_summary_counts_and_totals_exactly(
    client: FlaskClient, make_gift: MakeGift, ann: int
) -> None:
    prices = [
        ("0.10", 3),
        ("0.20", 1),
        ("99999999.99", 10_000),
        (None, 7),
        ("19.99", 2),
    ]
    for n, (price, quantity) in enumerate(prices):
        make_gift(
            price=None if price is None else Decimal(price),
            quantity=quantity,
            status="selected" if n < 2 else "received",
            from_santa=n == 1,
            recipient_ids=[ann] if n != 2 else [],
        )
    total = sum(Decimal(p) * q for p, q in prices if p is not None)

    response = client.get(f"{GIFTS}/summary")
    assert response.status_code == 200
    assert response.get_json() == {
        "total": 5,
        "by_status": {"idea": 0, "selected": 2, "purchased": 0, "received": 3},
        "from_santa": 1,
        "price_total": float(total),
    }
    exact = json.loads(response.get_data(), parse_float=Decimal)
    assert exact["price_total"] == total  # to the cent, read as a client would

    for_ann = client.get(f"{GIFTS}/summary?person_ids={ann}").get_json()
    assert (for_ann["total"], for_ann["price_total"]) == (
        4,
        float(total - Decimal("99999999.99") * 10_000),
    )
    nothing = client.get(f"{GIFTS}/summary?list_ids=5").get_json()
    assert nothing == {
        "total": 0,
        "by_status": {"idea": 0, "selected": 0, "purchased": 0, "received": 0},
        "from_santa": 0,
        "price_total": 0,
    }


@pytest.mark.parametrize("query", ["limit=5", "cursor=x", "sort=name", "colour=red"])
def test_summary_refuses_page_and_sort_parameters(
    client: FlaskClient, query: str
) -> None:
    response = client.get(f"{GIFTS}/summary?{query}")
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == [query.split("=")[0]]


# Queries per page -----------------------------------------------------------------


@contextmanager
def counting_queries(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engines = list(db.engines.values())
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", count)


def test_a_page_of_50_gifts_with_their_ids_costs_one_query(
    app: Flask, client: FlaskClient, make_gift: MakeGift, ann: int, bob: int, wish: int
) -> None:
    for n in range(60):
        make_gift(recipient_ids=[ann, bob][: n % 3], list_ids=[wish] if n % 2 else [])
    client.get(f"{GIFTS}?limit=1")  # connections opened, dialects initialised

    with app.app_context(), counting_queries(app) as statements:
        page = client.get(f"{GIFTS}?limit=50").get_json()
    assert len(page["items"]) == 50
    assert sum(len(g["recipient_ids"]) + len(g["list_ids"]) for g in page["items"]) > 50
    assert len(statements) == 1, statements

    with app.app_context(), counting_queries(app) as statements:
        client.get(f"{GIFTS}?limit=1")
    assert len(statements) == 1, statements

"""PATCH /api/v1/gifts: one change to many selected gifts, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

GIFTS = "/api/v1/gifts"
MakeGift = Callable[..., dict[str, Any]]


def test_bulk_change_updates_every_gift_in_the_order_of_ids(
    client: FlaskClient, make_gift: MakeGift
) -> None:
    a, b, c = (make_gift(name=name, price=10) for name in "abc")

    response = client.patch(
        GIFTS, json={"ids": [c["id"], a["id"]], "changes": {"from_santa": True}}
    )

    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [(g["name"], g["from_santa"], g["price"]) for g in items] == [
        ("c", True, 10),
        ("a", True, 10),
    ]
    assert client.get(f"{GIFTS}/{b['id']}").get_json() == b
    assert [client.get(f"{GIFTS}/{g['id']}").get_json() for g in items] == items


def test_bulk_change_with_a_missing_id_changes_nothing_and_names_it(
    client: FlaskClient, make_gift: MakeGift
) -> None:
    gift = make_gift()

    response = client.patch(
        GIFTS, json={"ids": [gift["id"], 998, 999], "changes": {"status": "received"}}
    )

    assert response.status_code == 404
    assert response.get_json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "No gifts with ids 998, 999; nothing was changed.",
        "errors": {"ids": {"998": ["No such gift."], "999": ["No such gift."]}},
    }
    assert client.get(f"{GIFTS}/{gift['id']}").get_json() == gift


def test_duplicated_ids_count_once(client: FlaskClient, make_gift: MakeGift) -> None:
    gift = make_gift()

    response = client.patch(
        GIFTS, json={"ids": [gift["id"]] * 3, "changes": {"price": 5}}
    )

    assert [item["id"] for item in response.get_json()["items"]] == [gift["id"]]


def test_bulk_follows_the_partial_update_rules(
    client: FlaskClient, make_gift: MakeGift
) -> None:
    gift = make_gift(price=12, from_santa=True)

    response = client.patch(
        GIFTS,
        json={"ids": [gift["id"]], "changes": {"from_santa": None, "price": None}},
    )

    (item,) = response.get_json()["items"]
    assert (item["from_santa"], item["price"]) == (True, None)


def test_bulk_with_no_changes_returns_the_gifts_unchanged(
    client: FlaskClient, make_gift: MakeGift
) -> None:
    gift = make_gift()

    response = client.patch(GIFTS, json={"ids": [gift["id"]], "changes": {}})

    assert response.get_json() == {"items": [gift]}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"ids": [], "changes": {}}, {"ids": ["Length must be between 1 and 100."]}),
        (
            {"ids": list(range(1, 102)), "changes": {}},
            {"ids": ["Length must be between 1 and 100."]},
        ),
        ({"ids": ["1"], "changes": {}}, {"ids": {"0": ["Not a valid integer."]}}),
        ({"changes": {}}, {"ids": ["Missing data for required field."]}),
        ({"ids": [1]}, {"changes": ["Missing data for required field."]}),
        (
            {"ids": [1], "changes": {"from_santa": "yes"}},
            {"changes": {"from_santa": ["Not a valid boolean."]}},
        ),
        (
            {"ids": [1], "changes": {"id": 3}},
            {"changes": {"id": ["Read-only field."]}},
        ),
        (
            {"ids": [1], "changes": {}, "all": True},
            {"all": ["Unknown field."]},
        ),
    ],
)
def test_bad_bulk_requests_are_a_422_and_change_nothing(
    client: FlaskClient, make_gift: MakeGift, body: dict[str, Any], errors: Any
) -> None:
    gift = make_gift()

    response = client.patch(GIFTS, json=body)

    assert response.status_code == 422
    assert response.get_json()["errors"] == errors
    assert client.get(f"{GIFTS}/{gift['id']}").get_json() == gift

"""The gifts endpoints as a client sees them: POST, GET, PATCH and DELETE, with
and without from_santa."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import ids
from tests.conftest import member_id

GIFTS = "/api/v1/gifts"
MakeGift = Callable[..., dict[str, Any]]

GIFT_FIELDS = {
    "id",
    "created_by",
    "claimed_by",
    "wish_withdrawn",
    "occasion_id",
    "name",
    "description",
    "notes",
    "url",
    "image_url",
    "source",
    "price",
    "sale_price",
    "quantity",
    "priority",
    "status",
    "purchase_date",
    "from_santa",
    "created_at",
    "updated_at",
    "recipient_ids",
    "list_ids",
}


def problem(status: int, errors: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "about:blank",
        "title": "Unprocessable Content",
        "status": status,
        "detail": "The request is invalid.",
        "errors": errors,
    }


def test_post_without_from_santa_creates_a_gift_that_is_not_from_santa(
    client: FlaskClient, app: Flask
) -> None:
    response = client.post(GIFTS, json={"name": "Wooden train set", "price": 49.99})

    assert response.status_code == 201
    gift = response.get_json()
    assert response.headers["Location"] == f"{GIFTS}/{gift['id']}"
    assert set(gift) == GIFT_FIELDS
    assert gift["from_santa"] is False
    assert gift | {"id": 0, "created_at": "", "updated_at": ""} == {
        "id": 0,
        "name": "Wooden train set",
        "description": None,
        "notes": None,
        "url": None,
        "image_url": None,
        "source": None,
        "price": 49.99,
        "sale_price": None,
        "quantity": 1,
        "priority": "medium",
        "status": "idea",
        "purchase_date": None,
        "from_santa": False,
        "created_at": "",
        "updated_at": "",
        "recipient_ids": [],
        "list_ids": [],
        "created_by": member_id(app, "Mum"),
        "claimed_by": None,
        "wish_withdrawn": False,
        "occasion_id": None,
    }
    assert client.get(response.headers["Location"]).get_json() == gift


@pytest.mark.parametrize("value", [True, False])
def test_post_with_from_santa_keeps_it(client: FlaskClient, value: bool) -> None:
    response = client.post(GIFTS, json={"name": "Kite", "from_santa": value})

    assert response.status_code == 201
    assert response.get_json()["from_santa"] is value
    location = response.headers["Location"]
    assert client.get(location).get_json()["from_santa"] is value


def test_post_with_every_field_round_trips(client: FlaskClient) -> None:
    sent = {
        "name": "Bike",
        "description": "Red, with a bell",
        "notes": "Check the size",
        "url": "https://shop.example/bike",
        "image_url": "http://img.example/bike.png",
        "source": "Neighbour",
        "price": 199.5,
        "sale_price": 149,
        "quantity": 2,
        "priority": "high",
        "status": "purchased",
        "purchase_date": "2026-12-01",
        "from_santa": True,
    }
    gift = client.post(GIFTS, json=sent).get_json()

    assert {key: gift[key] for key in sent} == sent
    created = dt.datetime.fromisoformat(gift["created_at"])
    assert created.utcoffset() == dt.timedelta(0)
    assert (
        gift["created_at"] == gift["updated_at"]
        or gift["updated_at"] > gift["created_at"]
    )


@pytest.mark.parametrize("price", [19.99, 0.1, 99999999.99, 0, 5, 12.5])
def test_price_comes_back_exactly_as_sent(client: FlaskClient, price: float) -> None:
    response = client.post(GIFTS, json={"name": "Kite", "price": price})

    assert response.status_code == 201
    raw = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'"price": {json.dumps(price)}' in raw.replace('"price":', '"price": ', 1)
    assert json.loads(raw)["price"] == price


@pytest.mark.parametrize("price", ["19.999", "19.990000000000001", "0.001"])
def test_price_with_three_decimals_is_rejected_not_rounded(
    client: FlaskClient, price: str
) -> None:
    response = client.post(
        GIFTS,
        data=f'{{"name": "Kite", "price": {price}}}',
        content_type="application/json",
    )

    assert response.status_code == 422
    assert response.get_json() == problem(422, {"price": ["At most two decimals."]})
    assert client.get(GIFTS).get_json()["items"] == []


@pytest.mark.parametrize("value", [True, False])
def test_patch_from_santa_changes_only_it_and_moves_updated_at(
    client: FlaskClient, make_gift: MakeGift, value: bool
) -> None:
    gift = make_gift(name="Kite", price=10, notes="blue", from_santa=not value)

    response = client.patch(f"{GIFTS}/{gift['id']}", json={"from_santa": value})

    assert response.status_code == 200
    changed = response.get_json()
    assert changed["from_santa"] is value
    assert changed["updated_at"] > gift["updated_at"]
    assert changed | {"from_santa": gift["from_santa"], "updated_at": ""} == gift | {
        "updated_at": ""
    }
    assert client.get(f"{GIFTS}/{gift['id']}").get_json() == changed


def test_patch_null_from_santa_leaves_it_unchanged(
    client: FlaskClient, make_gift: MakeGift
) -> None:
    gift = make_gift(from_santa=True)

    response = client.patch(f"{GIFTS}/{gift['id']}", json={"from_santa": None})

    assert response.status_code == 200
    assert response.get_json() == gift


def test_patch_without_from_santa_keeps_it_and_changes_the_rest(
    client: FlaskClient, make_gift: MakeGift
) -> None:
    gift = make_gift(from_santa=True, price=20)

    response = client.patch(
        f"{GIFTS}/{gift['id']}", json={"status": "selected", "price": None}
    )

    body = response.get_json()
    assert response.status_code == 200
    assert (body["from_santa"], body["status"], body["price"]) == (
        True,
        "selected",
        None,
    )


def test_patch_empty_object_is_a_no_op(
    client: FlaskClient, make_gift: MakeGift
) -> None:
    gift = make_gift()

    response = client.patch(f"{GIFTS}/{gift['id']}", json={})

    assert response.status_code == 200
    assert response.get_json() == gift


def test_patch_null_name_is_ignored_but_empty_name_is_rejected(
    client: FlaskClient, make_gift: MakeGift
) -> None:
    gift = make_gift(name="Kite")

    assert client.patch(f"{GIFTS}/{gift['id']}", json={"name": None}).get_json() == gift
    response = client.patch(f"{GIFTS}/{gift['id']}", json={"name": "  "})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"name"}


@pytest.mark.parametrize("value", ["yes", 1, "true", 0, "false", "on"])
def test_patch_from_santa_that_is_not_a_boolean_is_rejected_and_changes_nothing(
    client: FlaskClient, make_gift: MakeGift, value: Any
) -> None:
    gift = make_gift()

    response = client.patch(
        f"{GIFTS}/{gift['id']}", json={"from_santa": value, "notes": "changed"}
    )

    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.get_json() == problem(422, {"from_santa": ["Not a valid boolean."]})
    assert client.get(f"{GIFTS}/{gift['id']}").get_json() == gift


@pytest.mark.parametrize("method", ["post", "patch"])
def test_unknown_and_read_only_fields_are_rejected_by_name(
    client: FlaskClient, make_gift: MakeGift, method: str
) -> None:
    gift = make_gift()
    url = GIFTS if method == "post" else f"{GIFTS}/{gift['id']}"

    response = getattr(client, method)(
        url, json={"name": "New", "colour": "red", "created_at": "2026-01-01T00:00:00Z"}
    )

    assert response.status_code == 422
    assert response.get_json() == problem(
        422, {"colour": ["Unknown field."], "created_at": ["Read-only field."]}
    )
    assert client.get(GIFTS).get_json()["items"] == [gift]


def test_post_without_name_names_the_missing_field(client: FlaskClient) -> None:
    response = client.post(GIFTS, json={"from_santa": True})

    assert response.get_json() == problem(
        422, {"name": ["Missing data for required field."]}
    )


@pytest.mark.parametrize("body", ["[]", '"gift"', "3", "null"])
def test_a_body_that_is_not_an_object_is_rejected(
    client: FlaskClient, body: str
) -> None:
    response = client.post(GIFTS, data=body, content_type="application/json")

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"_schema": ["Invalid input type."]}


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/999"), ("patch", "/999"), ("delete", "/999")],
)
def test_missing_gift_is_a_404_problem(
    client: FlaskClient, method: str, path: str
) -> None:
    kwargs = {"json": {"from_santa": True}} if method == "patch" else {}

    response = getattr(client, method)(GIFTS + path, **kwargs)

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.get_json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "No gift with this id.",
    }


def test_delete_twice_answers_204_then_404(
    client: FlaskClient, make_gift: MakeGift
) -> None:
    gift = make_gift()

    first = client.delete(f"{GIFTS}/{gift['id']}")
    second = client.delete(f"{GIFTS}/{gift['id']}")

    assert (first.status_code, first.get_data()) == (204, b"")
    assert second.status_code == 404
    assert client.get(f"{GIFTS}/{gift['id']}").status_code == 404


def test_a_new_gift_whose_random_id_is_taken_tries_another(
    client: FlaskClient, make_gift: MakeGift, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids are random (API.md "Ids tell nothing"): one that is taken is
    drawn again, and the gift holding it stays as it was."""
    taken = make_gift(name="Taken")
    draws = iter([taken["id"], taken["id"], 12345])
    monkeypatch.setattr(ids, "random_id", lambda: next(draws))

    created = client.post(GIFTS, json={"name": "New", "list_ids": []})

    assert created.status_code == 201
    assert created.get_json()["id"] == 12345
    assert client.get(f"{GIFTS}/{taken['id']}").get_json() == taken


def test_a_gift_gets_no_id_when_every_draw_is_taken(
    client: FlaskClient, make_gift: MakeGift, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = make_gift(name="Taken")
    monkeypatch.setattr(ids, "random_id", lambda: taken["id"])

    response = client.post(GIFTS, json={"name": "New"})

    assert response.status_code == 503 and response.headers["Retry-After"]
    assert [g["name"] for g in client.get(GIFTS).get_json()["items"]] == ["Taken"]


def test_a_client_that_never_heard_of_from_santa_works_unchanged(
    client: FlaskClient,
) -> None:
    """Written before the field existed: it never sends it and ignores it."""
    old_fields = GIFT_FIELDS - {"from_santa"}
    created = client.post(GIFTS, json={"name": "Scarf", "price": 15, "quantity": 2})
    assert created.status_code == 201
    gift = created.get_json()
    assert old_fields <= set(gift)

    patched = client.patch(
        f"{GIFTS}/{gift['id']}", json={"status": "purchased", "price": 12.5}
    )
    assert patched.status_code == 200
    assert {k: patched.get_json()[k] for k in ("status", "price", "quantity")} == {
        "status": "purchased",
        "price": 12.5,
        "quantity": 2,
    }
    listed = client.get(GIFTS).get_json()["items"]
    assert [item["id"] for item in listed] == [gift["id"]]
    assert client.delete(f"{GIFTS}/{gift['id']}").status_code == 204

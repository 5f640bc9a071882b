"""Roles (API.md "Roles"): for a child, a gift from Santa does not exist; only a
parent may mark a gift from Santa."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.fields import MAX_ID

GIFTS = "/api/v1/gifts"
MakeGift = Callable[..., dict[str, Any]]
# Headers that may differ between two answers whatever they say.
NOISE = {"Date", "X-Request-ID", "Content-Length"}


def comparable(response: Any) -> tuple[int, dict[str, str], Any]:
    headers = {k: v for k, v in response.headers.items() if k not in NOISE}
    return response.status_code, headers, response.get_json()


@pytest.fixture
def gifts(make_gift: MakeGift) -> dict[str, dict[str, Any]]:
    """Made by a parent: two ordinary gifts around one from Santa."""
    return {
        "kite": make_gift(name="Kite", price=12.5),
        "bike": make_gift(name="Bike", price=150, from_santa=True),
        "yoyo": make_gift(name="Yoyo", price=3),
    }


def test_a_santa_gift_answers_a_child_exactly_as_a_missing_one(
    child_client: FlaskClient, gifts: dict[str, Any]
) -> None:
    santa = gifts["bike"]["id"]
    missing = gifts["yoyo"]["id"] + 1000
    for method, body in (("GET", None), ("PATCH", {"notes": "x"}), ("PATCH", {})):
        hidden = child_client.open(f"{GIFTS}/{santa}", method=method, json=body)
        absent = child_client.open(f"{GIFTS}/{missing}", method=method, json=body)
        assert hidden.status_code == 404
        assert comparable(hidden) == comparable(absent)
    hidden = child_client.delete(f"{GIFTS}/{santa}")
    absent = child_client.delete(f"{GIFTS}/{missing}")
    assert hidden.status_code == 404 and comparable(hidden) == comparable(absent)


def test_etag_conditions_on_a_santa_gift_answer_a_child_as_a_missing_gift(
    client: FlaskClient, child_client: FlaskClient, gifts: dict[str, Any]
) -> None:
    url = f"{GIFTS}/{gifts['bike']['id']}"
    etag = client.get(url).headers["ETag"]
    assert child_client.get(url, headers={"If-None-Match": etag}).status_code == 404
    patch = child_client.patch(url, json={"notes": "x"}, headers={"If-Match": etag})
    assert patch.status_code == 404
    assert child_client.delete(url, headers={"If-Match": etag}).status_code == 404
    # If-Match: * asks that the gift exist: for a child Santa's gift does not,
    # so the answer is a missing gift's (412, RFC 9110), never a tell-tale 404.
    star = {"If-Match": "*"}
    missing = f"{GIFTS}/{MAX_ID}"
    for method, body in (("PATCH", {"notes": "x"}), ("DELETE", None)):
        hidden = child_client.open(url, method=method, json=body, headers=star)
        absent = child_client.open(missing, method=method, json=body, headers=star)
        assert hidden.status_code == absent.status_code == 412
    after = client.get(url)
    assert after.headers["ETag"] == etag and after.get_json()["notes"] is None


def test_a_parent_sees_and_changes_santa_gifts(
    client: FlaskClient, gifts: dict[str, Any]
) -> None:
    url = f"{GIFTS}/{gifts['bike']['id']}"
    assert client.get(url).get_json() == gifts["bike"]
    assert len(client.get(GIFTS).get_json()["items"]) == 3
    assert client.patch(url, json={"from_santa": False}).status_code == 200


def ids(page: dict[str, Any]) -> list[int]:
    return [gift["id"] for gift in page["items"]]


def walk(client: FlaskClient, query: dict[str, Any]) -> list[int]:
    """Every gift of a listing, one gift per page, following the cursors."""
    seen: list[int] = []
    params = {**query, "limit": 1}
    while True:
        page = client.get(GIFTS, query_string=params).get_json()
        seen += ids(page)
        assert page["has_more"] is (page["next_cursor"] is not None)
        if not page["has_more"]:
            return seen
        params["cursor"] = page["next_cursor"]


@pytest.mark.parametrize("sort", ["recent", "price_asc", "price_desc", "name"])
@pytest.mark.parametrize(
    "query",
    [{}, {"search": "if"}, {"statuses": ["idea"]}, {"priority": ["medium", "low"]}],
)
def test_a_childs_listings_and_pages_leave_santa_gifts_out(
    client: FlaskClient,
    child_client: FlaskClient,
    make_gift: MakeGift,
    sort: str,
    query: dict[str, Any],
) -> None:
    for n in range(6):  # Santa's gifts at the start, middle and end of each order
        make_gift(name=f"Gift {n}", price=n, from_santa=n % 3 == 0)
    query = {**query, "sort": sort}
    not_santa = walk(client, {**query, "from_santa": "false"})
    assert len(not_santa) >= 1
    assert walk(child_client, query) == not_santa
    whole = child_client.get(GIFTS, query_string={**query, "limit": 100}).get_json()
    assert ids(whole) == not_santa and whole["has_more"] is False
    only_santa = {**query, "from_santa": "true", "limit": 100}
    assert child_client.get(GIFTS, query_string=only_santa).get_json() == {
        "items": [],
        "has_more": False,
        "next_cursor": None,
    }


def test_a_page_ending_before_santa_gifts_says_no_more(
    child_client: FlaskClient, make_gift: MakeGift
) -> None:
    older = make_gift(name="Older")
    make_gift(name="Santa 1", from_santa=True)
    make_gift(name="Santa 2", from_santa=True)
    newer = make_gift(name="Newer")
    page = child_client.get(GIFTS, query_string={"limit": 2}).get_json()
    assert ids(page) == [newer["id"], older["id"]]
    assert page["has_more"] is False and page["next_cursor"] is None


def test_a_bulk_change_naming_a_santa_gift_is_a_404_naming_it(
    client: FlaskClient, child_client: FlaskClient, gifts: dict[str, Any]
) -> None:
    kite, bike = gifts["kite"]["id"], gifts["bike"]["id"]
    missing = bike + 1000
    body = {"ids": [kite, bike, missing], "changes": {"status": "selected"}}
    response = child_client.patch(GIFTS, json=body)
    assert response.status_code == 404
    assert response.get_json()["errors"] == {
        "ids": {str(bike): ["No such gift."], str(missing): ["No such gift."]}
    }
    assert client.get(f"{GIFTS}/{kite}").get_json() == gifts["kite"]
    assert client.get(f"{GIFTS}/{bike}").get_json() == gifts["bike"]
    fine = child_client.patch(GIFTS, json={"ids": [kite], "changes": {"quantity": 2}})
    assert fine.status_code == 200 and fine.get_json()["items"][0]["quantity"] == 2


def test_a_gift_a_parent_marks_disappears_from_the_childs_next_request(
    client: FlaskClient, child_client: FlaskClient, gifts: dict[str, Any]
) -> None:
    url = f"{GIFTS}/{gifts['kite']['id']}"
    assert child_client.get(url).status_code == 200
    assert client.patch(url, json={"from_santa": True}).status_code == 200
    assert child_client.get(url).status_code == 404
    assert gifts["kite"]["id"] not in ids(child_client.get(GIFTS).get_json())


def forbidden(response: Any) -> None:
    assert response.status_code == 403
    assert response.get_json() == {
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
        "detail": "Only a parent may mark a gift from Santa.",
    }


def test_a_child_may_not_mark_a_gift_from_santa(
    client: FlaskClient, child_client: FlaskClient, gifts: dict[str, Any]
) -> None:
    kite = gifts["kite"]["id"]
    forbidden(child_client.post(GIFTS, json={"name": "Drum", "from_santa": True}))
    forbidden(child_client.patch(f"{GIFTS}/{kite}", json={"from_santa": True}))
    body = {"ids": [kite], "changes": {"from_santa": True, "notes": "x"}}
    forbidden(child_client.patch(GIFTS, json=body))
    assert len(client.get(GIFTS).get_json()["items"]) == 3
    assert client.get(f"{GIFTS}/{kite}").get_json() == gifts["kite"]


def test_the_403_comes_before_any_lookup(
    child_client: FlaskClient, gifts: dict[str, Any]
) -> None:
    """Else a 403 for one id and a 404 for another would tell Santa's apart."""
    for gift_id in (gifts["bike"]["id"], gifts["yoyo"]["id"] + 1000):
        url = f"{GIFTS}/{gift_id}"
        forbidden(child_client.patch(url, json={"from_santa": True}))
        body = {"ids": [gift_id], "changes": {"from_santa": True}}
        forbidden(child_client.patch(GIFTS, json=body))


def test_a_child_may_create_and_edit_other_gifts(
    child_client: FlaskClient, gifts: dict[str, Any]
) -> None:
    made = child_client.post(GIFTS, json={"name": "Drum", "from_santa": False})
    assert made.status_code == 201 and made.get_json()["from_santa"] is False
    url = f"{GIFTS}/{gifts['kite']['id']}"
    changed = child_client.patch(url, json={"from_santa": False, "price": 10})
    assert changed.status_code == 200
    assert (
        changed.get_json()["price"] == 10 and changed.get_json()["from_santa"] is False
    )
    nulled = child_client.patch(url, json={"from_santa": None})
    assert nulled.status_code == 200
    assert child_client.delete(url).status_code == 204

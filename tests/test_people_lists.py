"""People and lists as resources: create, read, change, delete, list by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

PEOPLE = "/api/v1/people"
LISTS = "/api/v1/lists"
GIFTS = "/api/v1/gifts"


def make(client: FlaskClient, path: str, **fields: Any) -> dict[str, Any]:
    response = client.post(path, json=fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def walk(client: FlaskClient, path: str, limit: int) -> list[dict[str, Any]]:
    """Every item of a listing, page by page."""
    items: list[dict[str, Any]] = []
    url = f"{path}{'&' if '?' in path else '?'}limit={limit}"
    cursor = None
    while True:
        response = client.get(url + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        assert page["has_more"] is (cursor is not None)
        if cursor is None:
            return items


def test_a_person_is_created_read_changed_and_deleted(client: FlaskClient) -> None:
    response = client.post(
        PEOPLE,
        json={"name": "  Ann  ", "relationship": "niece", "birthdate": "2019-05-04"},
    )
    assert response.status_code == 201
    person = response.get_json()
    assert person == {
        "id": person["id"],
        "name": "Ann",
        "relationship": "niece",
        "birthdate": "2019-05-04",
        "notes": None,
        "gift_count": 0,
    }
    location = response.headers["Location"]
    assert location == f"{PEOPLE}/{person['id']}"
    got = client.get(location)
    assert (got.get_json(), got.headers["ETag"]) == (person, response.headers["ETag"])

    changed = client.patch(location, json={"name": None, "notes": "likes owls"})
    assert changed.status_code == 200
    assert changed.get_json() == person | {"notes": "likes owls"}
    assert changed.headers["ETag"] != response.headers["ETag"]

    assert client.delete(location).status_code == 204
    assert client.get(location).status_code == 404
    assert client.patch(location, json={}).status_code == 404
    assert client.delete(location).status_code == 404


def test_a_list_defaults_to_ideas_and_keeps_kind_on_null(client: FlaskClient) -> None:
    ann = make(client, PEOPLE, name="Ann")
    made = make(client, LISTS, name=" Birthday ", person_id=ann["id"])
    assert made == {
        "id": made["id"],
        "name": "Birthday",
        "kind": "ideas",
        "person_id": ann["id"],
        "gift_count": 0,
    }
    response = client.patch(
        f"{LISTS}/{made['id']}", json={"kind": None, "name": None, "person_id": None}
    )
    assert response.get_json() == made | {"person_id": None}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (PEOPLE, {"name": " "}, "name"),
        (PEOPLE, {"name": "x" * 81}, "name"),
        (PEOPLE, {"name": "Ann", "relationship": "x" * 81}, "relationship"),
        (PEOPLE, {"name": "Ann", "birthdate": "tomorrow"}, "birthdate"),
        (PEOPLE, {"name": "Ann", "gift_count": 3}, "gift_count"),
        (LISTS, {"name": "x" * 121}, "name"),
        (LISTS, {"name": "L", "kind": "shopping"}, "kind"),
        (LISTS, {"name": "L", "person_id": "1"}, "person_id"),
        (LISTS, {"name": "L", "gift_ids": [1.0]}, "gift_ids"),
        (LISTS, {"name": "L", "gift_ids": [True]}, "gift_ids"),
    ],
)
def test_bad_fields_are_422_and_create_nothing(
    client: FlaskClient, path: str, body: dict[str, Any], field: str
) -> None:
    response = client.post(path, json=body)

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert list(response.get_json()["errors"]) == [field]
    assert client.get(path).get_json()["items"] == []


def test_a_list_for_an_unknown_person_is_422_naming_it(client: FlaskClient) -> None:
    response = client.post(LISTS, json={"name": "L", "person_id": 77})

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"person_id": {"77": ["No such person."]}}
    assert client.get(LISTS).get_json()["items"] == []


def test_people_are_listed_by_code_point_name_then_id_in_exact_pages(
    client: FlaskClient,
) -> None:
    names = ["bob", "Ann", "Émile", "Ann", "Zoe", "ann", "Bob"]
    made = [make(client, PEOPLE, name=name) for name in names]
    expected = sorted(made, key=lambda p: (p["name"], p["id"]))

    assert walk(client, PEOPLE, limit=2) == expected
    assert walk(client, PEOPLE, limit=100) == expected


def test_lists_filter_by_person_and_page_by_name(client: FlaskClient) -> None:
    ann, bob = make(client, PEOPLE, name="Ann"), make(client, PEOPLE, name="Bob")
    lists = [
        make(client, LISTS, name=name, person_id=owner["id"])
        for name, owner in [("b", ann), ("a", bob), ("c", ann), ("a", ann)]
    ]

    anns = walk(client, f"{LISTS}?person_id={ann['id']}", limit=1)
    assert [(x["name"], x["id"]) for x in anns] == [
        ("a", lists[3]["id"]),
        ("b", lists[0]["id"]),
        ("c", lists[2]["id"]),
    ]
    assert client.get(f"{LISTS}?person_id=999").get_json()["items"] == []


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "cursor=nope", "sort=name"])
def test_listing_rejects_bad_parameters(client: FlaskClient, query: str) -> None:
    for path in (PEOPLE, LISTS):
        assert client.get(f"{path}?{query}").status_code == 422


def test_if_match_and_if_none_match_on_a_person(client: FlaskClient) -> None:
    person = client.post(PEOPLE, json={"name": "Ann"})
    url, etag = person.headers["Location"], person.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304

    assert (
        client.patch(url, json={"notes": "x"}, headers={"If-Match": etag}).status_code
        == 200
    )
    stale = client.patch(url, json={"notes": "y"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert client.delete(url, headers={"If-Match": etag}).status_code == 412
    assert client.get(url).get_json()["notes"] == "x"


def test_if_match_on_a_list_fails_once_a_gift_joins_it(
    client: FlaskClient, make_gift: Callable[..., dict[str, Any]]
) -> None:
    made = client.post(LISTS, json={"name": "L"})
    url, etag = made.headers["Location"], made.headers["ETag"]
    make_gift(list_ids=[made.get_json()["id"]])

    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200
    assert client.delete(url, headers={"If-Match": etag}).status_code == 412
    fresh = client.get(url).headers["ETag"]
    assert client.delete(url, headers={"If-Match": fresh}).status_code == 204


def test_gift_counts_follow_links_and_deletes(
    client: FlaskClient, make_gift: Callable[..., dict[str, Any]]
) -> None:
    ann = make(client, PEOPLE, name="Ann")
    wish = make(client, LISTS, name="Wish")
    gifts = [
        make_gift(recipient_ids=[ann["id"]], list_ids=[wish["id"]]) for _ in range(3)
    ]
    make_gift()

    assert client.get(f"{PEOPLE}/{ann['id']}").get_json()["gift_count"] == 3
    assert client.get(LISTS).get_json()["items"][0]["gift_count"] == 3

    client.delete(f"{GIFTS}/{gifts[0]['id']}")
    assert client.get(PEOPLE).get_json()["items"][0]["gift_count"] == 2
    assert client.get(f"{LISTS}/{wish['id']}").get_json()["gift_count"] == 2


def test_deleting_a_person_keeps_their_gifts_and_lists(
    client: FlaskClient, make_gift: Callable[..., dict[str, Any]]
) -> None:
    ann, bob = make(client, PEOPLE, name="Ann"), make(client, PEOPLE, name="Bob")
    theirs = make(client, LISTS, name="Ann's", person_id=ann["id"])
    gift = client.post(
        GIFTS, json={"name": "Kite", "recipient_ids": [bob["id"], ann["id"]]}
    )
    gift_url, etag = gift.headers["Location"], gift.headers["ETag"]

    assert client.delete(f"{PEOPLE}/{ann['id']}").status_code == 204

    after = client.get(gift_url)
    assert after.get_json()["recipient_ids"] == [bob["id"]]
    assert after.headers["ETag"] != etag
    assert after.get_json()["updated_at"] > gift.get_json()["updated_at"]
    assert client.get(f"{LISTS}/{theirs['id']}").get_json()["person_id"] is None


def test_deleting_a_list_keeps_its_gifts_and_changes_them(
    client: FlaskClient, make_gift: Callable[..., dict[str, Any]]
) -> None:
    keep, drop = make(client, LISTS, name="Keep"), make(client, LISTS, name="Drop")
    gift = client.post(
        GIFTS, json={"name": "Kite", "list_ids": [drop["id"], keep["id"]]}
    )
    assert gift.get_json()["list_ids"] == sorted([drop["id"], keep["id"]])
    untouched = make_gift()

    assert client.delete(f"{LISTS}/{drop['id']}").status_code == 204

    after = client.get(gift.headers["Location"])
    assert after.get_json()["list_ids"] == [keep["id"]]
    assert after.headers["ETag"] != gift.headers["ETag"]
    assert client.get(f"{GIFTS}/{untouched['id']}").get_json() == untouched


def test_a_list_patched_to_an_unknown_person_is_422_and_unchanged(
    client: FlaskClient,
) -> None:
    made = make(client, LISTS, name="L")

    response = client.patch(
        f"{LISTS}/{made['id']}", json={"person_id": 12, "name": "M"}
    )

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"person_id": {"12": ["No such person."]}}
    assert client.get(f"{LISTS}/{made['id']}").get_json() == made

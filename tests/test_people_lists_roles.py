"""People, lists and the summary as a child sees them, over HTTP: Santa's gifts
leave every count, filter and page out, and an id of one is an id of nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.test_people_lists import GIFTS, LISTS, PEOPLE, make, walk

MakeGift = Callable[..., dict[str, Any]]


@pytest.fixture
def household(client: FlaskClient, make_gift: MakeGift) -> dict[str, Any]:
    """Ann and Bob, the lists Wish (Ann's) and Xmas; per person and list a plain
    gift and one from Santa, made by a parent."""
    ann = make(client, PEOPLE, name="Ann")["id"]
    bob = make(client, PEOPLE, name="Bob")["id"]
    wish = make(client, LISTS, name="Wish", person_id=ann)["id"]
    xmas = make(client, LISTS, name="Xmas")["id"]
    gifts = {
        "kite": make_gift(recipient_ids=[ann], list_ids=[wish], price=3, quantity=2),
        "sledge": make_gift(
            recipient_ids=[ann], list_ids=[wish, xmas], price=120, from_santa=True
        ),
        "scarf": make_gift(recipient_ids=[bob], list_ids=[xmas], price=20.5),
        "bike": make_gift(recipient_ids=[bob], price=90, from_santa=True),
        "puzzle": make_gift(recipient_ids=[ann, bob], status="purchased"),
    }
    ids = {name: gift["id"] for name, gift in gifts.items()}
    return {"ann": ann, "bob": bob, "wish": wish, "xmas": xmas, **ids}


def counts(client: FlaskClient, path: str) -> dict[str, int]:
    return {item["name"]: item["gift_count"] for item in walk(client, path, limit=1)}


def test_a_childs_gift_counts_leave_santas_gifts_out(
    client: FlaskClient, child_client: FlaskClient, household: dict[str, Any]
) -> None:
    assert counts(client, PEOPLE) == {"Ann": 3, "Bob": 3}
    assert counts(child_client, PEOPLE) == {"Ann": 2, "Bob": 2}
    assert counts(client, LISTS) == {"Wish": 2, "Xmas": 2}
    assert counts(child_client, LISTS) == {"Wish": 1, "Xmas": 1}
    assert counts(child_client, f"{LISTS}?person_id={household['ann']}") == {"Wish": 1}

    one = ((PEOPLE, household["ann"], 2, 3), (LISTS, household["xmas"], 1, 2))
    for path, item_id, childs, parents in one:
        assert child_client.get(f"{path}/{item_id}").get_json()["gift_count"] == childs
        assert client.get(f"{path}/{item_id}").get_json()["gift_count"] == parents


def test_a_childs_summary_leaves_santas_gifts_out(
    client: FlaskClient, child_client: FlaskClient, household: dict[str, Any]
) -> None:
    everything = client.get(f"{GIFTS}/summary").get_json()
    assert (everything["total"], everything["from_santa"]) == (5, 2)
    assert everything["price_total"] == 3 * 2 + 120 + 20.5 + 90

    summary = child_client.get(f"{GIFTS}/summary").get_json()
    assert summary == {
        "total": 3,
        "by_status": {"idea": 2, "selected": 0, "purchased": 1, "received": 0},
        "from_santa": 0,
        "price_total": 3 * 2 + 20.5,
    }
    on_xmas = child_client.get(f"{GIFTS}/summary?list_ids={household['xmas']}")
    assert (on_xmas.get_json()["total"], on_xmas.get_json()["price_total"]) == (1, 20.5)
    santa_only = child_client.get(f"{GIFTS}/summary?from_santa=true").get_json()
    assert (santa_only["total"], santa_only["price_total"]) == (0, 0)


@pytest.mark.parametrize("sort", ["recent", "price_asc", "price_desc", "name"])
def test_a_childs_filtered_pages_leave_santas_gifts_out(
    client: FlaskClient,
    child_client: FlaskClient,
    household: dict[str, Any],
    sort: str,
) -> None:
    h = household
    cases = {
        f"person_ids={h['ann']}": {"kite", "puzzle"},
        f"person_ids={h['ann']}&person_ids={h['bob']}": {"kite", "scarf", "puzzle"},
        f"list_ids={h['wish']}": {"kite"},
        f"list_ids={h['wish']}&list_ids={h['xmas']}": {"kite", "scarf"},
        f"person_ids={h['ann']}&list_ids={h['xmas']}": set(),
        f"person_ids={h['bob']}&from_santa=true": set(),
        f"person_ids={h['bob']}&statuses=purchased": {"puzzle"},
    }
    names = {h[name]: name for name in ("kite", "sledge", "scarf", "bike", "puzzle")}
    for query, expected in cases.items():
        items = walk(child_client, f"{GIFTS}?{query}&sort={sort}", limit=1)
        assert {names[item["id"]] for item in items} == expected, query
        # The parent's view of the same filter holds Santa's gifts besides.
        everything = walk(client, f"{GIFTS}?{query}&sort={sort}", limit=1)
        assert {names[i["id"]] for i in everything if not i["from_santa"]} == expected


def test_a_list_a_child_makes_with_santas_gift_is_as_with_no_such_gift(
    client: FlaskClient, child_client: FlaskClient, household: dict[str, Any]
) -> None:
    missing, santa = 999_999, household["sledge"]

    answers = [
        child_client.post(LISTS, json={"name": "Mine", "gift_ids": [household[k], i]})
        for k, i in (("kite", missing), ("kite", santa))
    ]

    assert [a.status_code for a in answers] == [422, 422]
    bodies = [a.get_json() for a in answers]
    assert bodies[0]["errors"] == {"gift_ids": {str(missing): ["No such gift."]}}
    assert bodies[1]["errors"] == {"gift_ids": {str(santa): ["No such gift."]}}
    assert bodies[1]["detail"] == bodies[0]["detail"].replace(str(missing), str(santa))
    assert counts(client, LISTS) == {"Wish": 2, "Xmas": 2}  # nothing was created
    kite = client.get(f"{GIFTS}/{household['kite']}").get_json()
    assert kite["list_ids"] == [household["wish"]]

    made = child_client.post(LISTS, json={"name": "Mine", "gift_ids": [kite["id"]]})
    assert made.status_code == 201 and made.get_json()["gift_count"] == 1


def test_a_child_cannot_reach_santas_gift_through_its_links(
    client: FlaskClient, child_client: FlaskClient, household: dict[str, Any]
) -> None:
    h = household
    bulk = child_client.patch(
        GIFTS,
        json={
            "ids": [h["kite"], h["sledge"]],
            "changes": {"add_list_ids": [h["xmas"]]},
        },
    )
    assert bulk.status_code == 404
    assert bulk.get_json()["errors"] == {"ids": {str(h["sledge"]): ["No such gift."]}}
    one = child_client.patch(f"{GIFTS}/{h['sledge']}", json={"list_ids": []})
    assert one.status_code == 404

    both = sorted([h["wish"], h["xmas"]])
    for name, lists in (("kite", [h["wish"]]), ("sledge", both)):
        assert client.get(f"{GIFTS}/{h[name]}").get_json()["list_ids"] == lists


def test_a_child_manages_people_and_lists_but_deletes_neither(
    client: FlaskClient, child_client: FlaskClient, household: dict[str, Any]
) -> None:
    """A child may add and change people and lists; deleting one is a 403,
    whatever it holds (a list of Santa's gifts would look empty to it), and
    changes nothing. A parent's delete takes Santa's gifts off and keeps them."""
    cleo = child_client.post(PEOPLE, json={"name": "Cleo"})
    assert cleo.status_code == 201
    url = cleo.headers["Location"]
    assert child_client.patch(url, json={"relationship": "friend"}).status_code == 200
    refused = child_client.delete(url)
    assert refused.status_code == 403
    assert refused.get_json()["detail"] == "Only a parent may delete a person."
    assert client.get(url).status_code == 200
    xmas = f"{LISTS}/{household['xmas']}"
    assert child_client.get(xmas).get_json()["gift_count"] == 1  # not the sledge
    assert child_client.delete(xmas).status_code == 403
    assert child_client.delete(f"{LISTS}/999").status_code == 403  # before lookup
    assert client.get(xmas).get_json()["gift_count"] == 2

    assert client.delete(xmas).status_code == 204
    sledge = client.get(f"{GIFTS}/{household['sledge']}").get_json()
    assert sledge["list_ids"] == [household["wish"]]


def test_santas_gift_joining_a_list_leaves_the_childs_etag_alone(
    client: FlaskClient, child_client: FlaskClient, household: dict[str, Any]
) -> None:
    url = f"{LISTS}/{household['xmas']}"
    etag = child_client.get(url).headers["ETag"]
    parents = client.get(url).headers["ETag"]

    client.patch(
        GIFTS,
        json={
            "ids": [household["bike"]],
            "changes": {"add_list_ids": [household["xmas"]]},
        },
    )

    assert child_client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-None-Match": parents}).status_code == 200
    assert child_client.get(url).get_json()["gift_count"] == 1
    assert client.get(url).get_json()["gift_count"] == 3


def test_people_and_lists_are_private_to_the_member_and_need_a_token(
    child_client: FlaskClient, anonymous_client: FlaskClient, household: dict[str, Any]
) -> None:
    for path in (PEOPLE, LISTS, f"{GIFTS}/summary"):
        assert anonymous_client.get(path).status_code == 401
        answer = child_client.get(path)
        assert answer.headers["Cache-Control"] == "private, no-cache"
    assert anonymous_client.post(PEOPLE, json={"name": "Eve"}).status_code == 401

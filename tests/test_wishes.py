"""A member's wishes (API.md "A member's wishes"), over HTTP: the wisher sees
their wish as if nobody planned it, body and headers, whatever planners do;
they may edit what they wished for; a planned wish they delete is withdrawn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from app.access import accounts
from tests.family import GIFTS, LISTS, PEOPLE, Family, make_family, same_as_missing


@pytest.fixture
def family(app: Flask) -> Family:
    return make_family(app)


@pytest.fixture
def wish(family: Family) -> dict[str, Any]:
    """The kid wishes for a bike, on their own wishlist."""
    wishlist = family.list(
        family.kid, name="Kid wishes", kind="wishlist", person_id=family.kid.person
    )
    return family.gift(
        family.kid,
        name="Bike",
        price=150,
        recipient_ids=[family.kid.person],
        list_ids=[wishlist["id"]],
    )


def seen(client: Any, url: str) -> tuple[int, str, bytes]:
    response = client.get(url)
    return response.status_code, response.headers["ETag"], response.get_data()


def _planner_changes(family: Family, gift_id: int) -> list[Callable[[], Any]]:
    """Every kind of change a planner makes, one after the other."""
    mum, dad, url = family.mum.client, family.dad.client, f"{GIFTS}/{gift_id}"
    planning: dict[str, Any] = {}

    def planning_list() -> Any:
        made = dad.post(
            LISTS,
            json={
                "name": "For Kid",
                "kind": "assigned",
                "person_id": family.kid.person,
                "gift_ids": [gift_id],
            },
        )
        planning["list"] = made.get_json()["id"]
        return made

    def bulk(changes: dict[str, Any]) -> Callable[[], Any]:
        return lambda: dad.patch(GIFTS, json={"ids": [gift_id], "changes": changes})

    return [
        lambda: mum.patch(url, json={"status": "selected"}),
        lambda: mum.patch(url, json={"claimed_by": family.mum.id}),
        lambda: dad.patch(url, json={"notes": "Red, with a bell"}),
        lambda: dad.patch(
            url, json={"sale_price": 99.5, "purchase_date": "2026-12-24"}
        ),
        lambda: mum.patch(url, json={"status": "purchased", "from_santa": True}),
        planning_list,
        lambda: dad.patch(f"{LISTS}/{planning['list']}", json={"kind": "ideas"}),
        lambda: dad.patch(f"{LISTS}/{planning['list']}", json={"name": "Kid ideas"}),
        lambda: bulk({"remove_list_ids": [planning["list"]]})(),
        lambda: dad.patch(
            GIFTS,
            json={"ids": [gift_id], "changes": {"add_list_ids": [planning["list"]]}},
        ),
        lambda: dad.delete(f"{LISTS}/{planning['list']}"),
        bulk({"status": "selected", "claimed_by": None}),
        lambda: mum.patch(url, json={"claimed_by": family.mum.id, "price": 150}),
    ]


def test_nothing_a_planner_does_shows_in_the_wish_view(
    family: Family, wish: dict[str, Any]
) -> None:
    kid, url = family.kid.client, f"{GIFTS}/{wish['id']}"
    before = seen(kid, url)

    for change in _planner_changes(family, wish["id"]):
        assert change().status_code in (200, 201, 204)
        assert seen(kid, url) == before
        not_modified = kid.get(url, headers={"If-None-Match": before[1]})
        assert not_modified.status_code == 304

    planned = family.mum.client.get(url).get_json()
    assert (planned["status"], planned["claimed_by"]) == ("selected", family.mum.id)
    assert (planned["notes"], planned["from_santa"]) == ("Red, with a bell", True)
    assert kid.get(url).get_json() == wish  # as it was made: an untouched idea


def test_a_wisher_edits_what_they_wished_for_and_planners_see_it(
    family: Family, wish: dict[str, Any]
) -> None:
    kid, url = family.kid.client, f"{GIFTS}/{wish['id']}"
    family.mum.client.patch(url, json={"status": "purchased", "notes": "Hidden"})
    old = kid.get(url).headers["ETag"]
    stale = family.mum.client.get(url).headers["ETag"]

    refused = kid.patch(url, json={"price": 140}, headers={"If-Match": stale})
    edited = kid.patch(url, json={"price": 140}, headers={"If-Match": old})

    assert refused.status_code == 412
    assert edited.status_code == 200
    assert edited.headers["ETag"] != old
    assert edited.get_json()["price"] == 140
    assert edited.get_json()["status"] == "idea"
    assert edited.get_json()["updated_at"] > wish["updated_at"]
    planned = family.mum.client.get(url)
    assert (planned.get_json()["price"], planned.get_json()["status"]) == (
        140,
        "purchased",
    )
    with_wish_tag = family.mum.client.patch(
        url, json={"notes": "x"}, headers={"If-Match": edited.headers["ETag"]}
    )
    assert with_wish_tag.status_code == 412


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "idea"},
        {"notes": None},
        {"from_santa": False},
        {"claimed_by": None},
        {"sale_price": 1},
        {"purchase_date": None},
        {"recipient_ids": []},
        {"list_ids": []},
    ],
)
def test_a_wisher_may_not_touch_planning_fields_or_links(
    family: Family, wish: dict[str, Any], changes: dict[str, Any]
) -> None:
    kid, url = family.kid.client, f"{GIFTS}/{wish['id']}"

    one = kid.patch(url, json={"name": "Mine", **changes})
    bulk = kid.patch(
        GIFTS, json={"ids": [wish["id"]], "changes": {"name": "Mine", **changes}}
    )

    assert (one.status_code, bulk.status_code) == (403, 403)
    assert kid.get(url).get_json() == wish


def test_a_wish_in_bulk_with_planning_changes_changes_nothing(
    family: Family, wish: dict[str, Any]
) -> None:
    other = family.gift(family.kid, name="For Gran", recipient_ids=[family.gran])

    bulk = family.kid.client.patch(
        GIFTS,
        json={"ids": [other["id"], wish["id"]], "changes": {"status": "selected"}},
    )

    assert bulk.status_code == 403
    assert family.kid.client.get(f"{GIFTS}/{other['id']}").get_json() == other


@pytest.mark.parametrize(
    "planning",
    [
        {"status": "purchased"},
        {"notes": "x"},
        {"from_santa": True},
        {"claimed_by": "me"},
        {"sale_price": 2},
    ],
)
def test_a_new_wish_starts_untouched(family: Family, planning: dict[str, Any]) -> None:
    if planning.get("claimed_by") == "me":
        planning = {"claimed_by": family.mum.id}
    body = {"name": "Pony", "recipient_ids": [family.mum.person], **planning}

    response = family.mum.client.post(GIFTS, json=body)

    assert response.status_code == 403
    assert family.dad.client.get(GIFTS).get_json()["items"] == []


def test_filters_and_the_summary_see_the_wish_as_its_wisher_does(
    family: Family, wish: dict[str, Any]
) -> None:
    kid, url = family.kid.client, f"{GIFTS}/{wish['id']}"
    family.mum.client.patch(
        url, json={"status": "purchased", "claimed_by": family.mum.id}
    )

    def found(**query: Any) -> list[int]:
        page = kid.get(GIFTS, query_string=query).get_json()
        return [item["id"] for item in page["items"]]

    assert found(statuses="idea") == [wish["id"]]
    assert found(statuses="purchased") == []
    assert found(claimed_by="none") == [wish["id"]]
    assert found(claimed_by=str(family.mum.id)) == []
    assert found(from_santa="false") == [wish["id"]]
    summary = kid.get(f"{GIFTS}/summary").get_json()
    assert summary["by_status"] == {
        "idea": 1,
        "selected": 0,
        "purchased": 0,
        "received": 0,
    }
    assert summary["price_total"] == 150
    parents = family.mum.client.get(f"{GIFTS}/summary").get_json()
    assert parents["by_status"]["purchased"] == 1


def test_a_childs_santa_wish_stays_in_the_wish_view_an_adults_is_revealed(
    family: Family, wish: dict[str, Any]
) -> None:
    pony = family.gift(family.mum, name="Pony", recipient_ids=[family.mum.person])
    for gift_id in (wish["id"], pony["id"]):
        changes = {"status": "received", "from_santa": True, "notes": "Given"}
        assert family.dad.client.patch(f"{GIFTS}/{gift_id}", json=changes).status_code
    kids = family.kid.client.get(f"{GIFTS}/{wish['id']}").get_json()
    mums = family.mum.client.get(f"{GIFTS}/{pony['id']}").get_json()

    assert (kids["status"], kids["from_santa"], kids["notes"]) == ("idea", False, None)
    assert (mums["status"], mums["from_santa"], mums["notes"]) == (
        "received",
        True,
        "Given",
    )


def test_what_the_wisher_sees_of_its_lists_moves_the_wish_view(
    family: Family, wish: dict[str, Any]
) -> None:
    kid, url = family.kid.client, f"{GIFTS}/{wish['id']}"
    xmas = family.list(family.dad, name="Xmas")["id"]
    wishlist = wish["list_ids"][0]
    old = seen(kid, url)

    family.dad.client.patch(
        GIFTS, json={"ids": [wish["id"]], "changes": {"add_list_ids": [xmas]}}
    )
    shown = kid.get(url).get_json()
    assert shown["list_ids"] == sorted([xmas, wishlist])
    assert seen(kid, url)[1] != old[1]

    before = seen(kid, url)
    family.dad.client.patch(f"{LISTS}/{wishlist}", json={"kind": "ideas"})
    assert kid.get(url).get_json()["list_ids"] == [xmas]
    assert seen(kid, url)[1] != before[1]

    before = seen(kid, url)
    assert family.dad.client.delete(f"{LISTS}/{xmas}").status_code == 204
    assert kid.get(url).get_json()["list_ids"] == []
    assert seen(kid, url)[1] != before[1]


def test_set_person_makes_what_a_member_made_for_that_person_their_wish(
    app: Flask, family: Family
) -> None:
    for_gran = family.gift(family.mum, name="Shawl", recipient_ids=[family.gran])
    url = f"{GIFTS}/{for_gran['id']}"
    family.dad.client.patch(url, json={"status": "purchased"})
    before = family.mum.client.get(url)
    assert before.get_json()["status"] == "purchased"

    with app.app_context():
        accounts.set_person("Mum", family.gran)
        accounts.set_person("Dad", family.mum.person)  # Mum's person is free now
    after = family.mum.client.get(url)

    assert after.get_json()["status"] == "idea"
    assert after.headers["ETag"] != before.headers["ETag"]
    assert family.dad.client.get(url).get_json()["status"] == "purchased"


def test_a_planned_wish_deleted_by_its_wisher_is_withdrawn(
    family: Family, wish: dict[str, Any]
) -> None:
    kid, url = family.kid.client, f"{GIFTS}/{wish['id']}"
    family.mum.client.patch(url, json={"claimed_by": family.mum.id})

    deleted = kid.delete(url, headers={"If-Match": kid.get(url).headers["ETag"]})

    assert deleted.status_code == 204
    assert same_as_missing(kid, "GET", url)
    assert kid.get(GIFTS).get_json()["items"] == []
    kept = family.mum.client.get(url).get_json()
    assert (kept["wish_withdrawn"], kept["claimed_by"]) == (True, family.mum.id)
    assert (
        family.mum.client.get(f"{PEOPLE}/{family.kid.person}").get_json()["gift_count"]
        == 1
    )


def test_an_unplanned_wish_deleted_by_its_wisher_is_gone(
    family: Family, wish: dict[str, Any]
) -> None:
    url = f"{GIFTS}/{wish['id']}"
    # Planned nothing: visible edits and the wisher's own wishlist do not count.
    family.mum.client.patch(url, json={"price": 120, "notes": "Note only"})

    assert family.kid.client.delete(url).status_code == 204
    assert family.mum.client.get(url).status_code == 404


def test_a_wish_on_a_planning_list_counts_as_planned(
    family: Family, wish: dict[str, Any]
) -> None:
    url = f"{GIFTS}/{wish['id']}"
    family.list(
        family.dad,
        name="Kid ideas",
        person_id=family.kid.person,
        gift_ids=[wish["id"]],
    )

    assert family.kid.client.delete(url).status_code == 204
    assert family.mum.client.get(url).get_json()["wish_withdrawn"] is True


def test_a_wisher_may_not_put_their_wish_on_a_new_list(
    family: Family, wish: dict[str, Any]
) -> None:
    other = family.gift(family.kid, name="For Gran", recipient_ids=[family.gran])

    made = family.kid.client.post(
        LISTS, json={"name": "Mine", "gift_ids": [other["id"], wish["id"]]}
    )

    assert made.status_code == 403
    names = [item["name"] for item in family.kid.client.get(LISTS).get_json()["items"]]
    assert names == ["Kid wishes"]

"""Surprises (API.md "Surprises"), over HTTP: members are people, a gift is
hidden from the person it is for until it is received, planning lists are
hidden from their person, and ids tell nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from app.access import accounts
from tests.conftest import client_with_token, make_member, newest_first
from tests.family import (
    GIFTS,
    LISTS,
    PEOPLE,
    Family,
    comparable,
    make_family,
    same_as_missing,
)
from tests.test_cli import flask

MEMBERS = "/api/v1/members"


@pytest.fixture
def family(app: Flask) -> Family:
    return make_family(app)


def ids_of(response: Any) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


# Members are people ---------------------------------------------------------------


def test_me_says_which_person_the_member_is(family: Family) -> None:
    me = family.kid.client.get(f"{MEMBERS}/me").get_json()

    assert me == {
        "id": family.kid.id,
        "name": "Kid",
        "role": "child",
        "person_id": family.kid.person,
    }


def test_members_lists_the_active_family_by_name_without_emails(
    app: Flask, family: Family
) -> None:
    make_member(app, "Aunt", "parent", email="aunt@example.org")
    gone = make_member(app, "Bert", "parent")[0]
    with app.app_context():
        accounts.disable_member("Bert")

    first = family.kid.client.get(MEMBERS, query_string={"limit": 2}).get_json()
    rest = family.kid.client.get(
        MEMBERS, query_string={"limit": 2, "cursor": first["next_cursor"]}
    ).get_json()

    items = first["items"] + rest["items"]
    assert [m["name"] for m in items] == ["Aunt", "Dad", "Kid", "Mum"]
    assert all(set(m) == {"id", "name", "role", "person_id"} for m in items)
    assert gone not in [m["id"] for m in items]
    assert items[1] == {
        "id": family.dad.id,
        "name": "Dad",
        "role": "parent",
        "person_id": family.dad.person,
    }
    assert (first["has_more"], rest["has_more"]) == (True, False)
    bad = family.kid.client.get(MEMBERS, query_string={"cursor": "nope"})
    assert bad.status_code == 422


def test_the_cli_links_a_member_on_creation_and_later(
    app: Flask, family: Family
) -> None:
    added = flask(
        app, "members", "add", "Gran", "--role", "parent", "--person", str(family.gran)
    )
    assert added.exit_code == 0, added.stderr
    taken = flask(app, "members", "set-person", "Mum", str(family.gran))
    assert taken.exit_code == 1 and "already the member 'Gran'" in taken.stderr
    unknown = flask(app, "members", "set-person", "Mum", "999")
    assert unknown.exit_code == 1 and "no person with id 999" in unknown.stderr
    neither = flask(app, "members", "set-person", "Mum")
    assert neither.exit_code == 1

    unlinked = flask(app, "members", "set-person", "Gran", "--none")
    assert unlinked.exit_code == 0, unlinked.stderr
    relinked = flask(app, "members", "set-person", "Mum", str(family.gran))
    assert relinked.exit_code == 0, relinked.stderr
    with app.app_context():
        assert accounts.find_member("Mum").person_id == family.gran
        assert accounts.find_member("Gran").person_id is None


def test_a_person_linked_to_a_member_cannot_be_deleted(
    app: Flask, family: Family
) -> None:
    response = family.dad.client.delete(f"{PEOPLE}/{family.mum.person}")

    assert response.status_code == 409
    assert "member" in response.get_json()["detail"]
    assert family.dad.client.get(f"{PEOPLE}/{family.mum.person}").status_code == 200
    with app.app_context():
        accounts.set_person("Mum", None)
    assert family.dad.client.delete(f"{PEOPLE}/{family.mum.person}").status_code == 204


# Hidden from the person it is for ----------------------------------------------


@pytest.fixture
def planned(family: Family) -> dict[str, Any]:
    """Dad plans a watch for Mum (on his list Xmas); Mum plans a tie for Dad."""
    xmas = family.list(family.dad, name="Xmas")
    watch = family.gift(
        family.dad,
        name="Watch",
        price=120,
        recipient_ids=[family.mum.person],
        list_ids=[xmas["id"]],
        status="purchased",
    )
    tie = family.gift(family.mum, name="Tie", recipient_ids=[family.dad.person])
    return {"xmas": xmas, "watch": watch, "tie": tie}


def test_a_gift_for_me_is_a_missing_gift_until_it_is_received(
    family: Family, planned: dict[str, Any]
) -> None:
    mum, watch = family.mum.client, planned["watch"]
    url = f"{GIFTS}/{watch['id']}"

    assert same_as_missing(mum, "GET", url)
    assert same_as_missing(mum, "GET", url, headers={"If-None-Match": '"x"'})
    assert same_as_missing(mum, "PATCH", url, json={"name": "Peek"})
    assert same_as_missing(mum, "PATCH", url, json={}, headers={"If-Match": '"x"'})
    assert same_as_missing(mum, "DELETE", url)
    assert watch["id"] not in ids_of(mum.get(GIFTS))
    # and the tie, for Dad, is missing for him.
    assert ids_of(family.dad.client.get(GIFTS)) == [watch["id"]]
    assert ids_of(mum.get(GIFTS)) == [planned["tie"]["id"]]

    given = family.dad.client.patch(url, json={"status": "received"})
    assert given.status_code == 200
    revealed = mum.get(url)
    assert revealed.status_code == 200
    assert revealed.get_json() == given.get_json()  # in full: list, price, status


def test_if_match_star_on_a_hidden_gift_answers_as_on_a_missing_one(
    family: Family, planned: dict[str, Any]
) -> None:
    url = f"{GIFTS}/{planned['watch']['id']}"
    star = {"If-Match": "*"}
    hidden = family.mum.client.patch(url, json={"name": "x"}, headers=star)
    missing = family.mum.client.patch(
        f"{GIFTS}/2147483647", json={"name": "x"}, headers=star
    )

    assert hidden.status_code == 412
    assert comparable(hidden) == comparable(missing)


def test_counts_and_the_summary_leave_what_is_hidden_out(
    family: Family, planned: dict[str, Any]
) -> None:
    mum, dad = family.mum.client, family.dad.client
    xmas = f"{LISTS}/{planned['xmas']['id']}"
    person = f"{PEOPLE}/{family.mum.person}"

    assert mum.get(xmas).get_json()["gift_count"] == 0
    assert dad.get(xmas).get_json()["gift_count"] == 1
    assert mum.get(person).get_json()["gift_count"] == 0
    assert dad.get(person).get_json()["gift_count"] == 1
    assert mum.get(f"{GIFTS}/summary").get_json()["total"] == 1  # the tie
    assert dad.get(f"{GIFTS}/summary").get_json()["by_status"]["purchased"] == 1
    found = mum.get(GIFTS, query_string={"person_ids": family.mum.person})
    assert ids_of(found) == []


def test_linking_a_hidden_gift_moves_nothing_its_person_sees(
    family: Family, planned: dict[str, Any]
) -> None:
    mum, dad = family.mum.client, family.dad.client
    xmas = f"{LISTS}/{planned['xmas']['id']}"
    gran = f"{PEOPLE}/{family.gran}"
    before = [comparable(mum.get(url)) for url in (xmas, gran)]

    changed = dad.patch(
        f"{GIFTS}/{planned['watch']['id']}",
        json={"recipient_ids": [family.mum.person, family.gran], "list_ids": []},
    )

    assert changed.status_code == 200
    after = [comparable(mum.get(url)) for url in (xmas, gran)]
    assert [(s, h.get("ETag"), b) for s, h, b in after] == [
        (s, h.get("ETag"), b) for s, h, b in before
    ]
    assert dad.get(gran).get_json()["gift_count"] == 1


def test_a_bulk_change_or_a_list_naming_a_hidden_gift_names_it_missing(
    family: Family, planned: dict[str, Any]
) -> None:
    mum, watch, tie = family.mum.client, planned["watch"]["id"], planned["tie"]["id"]

    bulk = mum.patch(GIFTS, json={"ids": [tie, watch], "changes": {"priority": "low"}})
    made = mum.post(LISTS, json={"name": "Mine", "gift_ids": [watch, tie]})

    assert bulk.status_code == 404
    assert bulk.get_json()["errors"] == {"ids": {str(watch): ["No such gift."]}}
    assert made.status_code == 422
    assert made.get_json()["errors"] == {"gift_ids": {str(watch): ["No such gift."]}}
    assert mum.get(f"{GIFTS}/{tie}").get_json()["priority"] == "medium"
    assert [item["name"] for item in mum.get(LISTS).get_json()["items"]] == ["Xmas"]


def test_santas_gifts_stay_hidden_from_a_child_once_received(
    family: Family,
) -> None:
    bike = family.gift(
        family.mum,
        name="Bike",
        from_santa=True,
        status="received",
        recipient_ids=[family.kid.person],
    )
    for_mum = family.gift(family.dad, name="Ring", recipient_ids=[family.mum.person])

    assert same_as_missing(family.kid.client, "GET", f"{GIFTS}/{bike['id']}")
    # A gift for someone else is not the child's to miss.
    assert family.kid.client.get(f"{GIFTS}/{for_mum['id']}").status_code == 200


def test_a_member_with_no_person_sees_every_gift_as_before(
    app: Flask, family: Family, planned: dict[str, Any]
) -> None:
    token = make_member(app, "Aunt", "parent")[1]
    aunt = client_with_token(app, token)

    listed = aunt.get(GIFTS)

    assert ids_of(listed) == [planned["tie"]["id"], planned["watch"]["id"]]
    assert aunt.get(f"{GIFTS}/{planned['watch']['id']}").get_json() == planned["watch"]


# Planning lists -------------------------------------------------------------------


@pytest.fixture
def lists(family: Family) -> dict[str, Any]:
    """Mum's ideas (a planning list, hidden from her), her wishlist, and a
    gift for Dad on both."""
    ideas = family.list(family.dad, name="For Mum", person_id=family.mum.person)
    wishes = family.list(
        family.dad, name="Mum wishes", kind="wishlist", person_id=family.mum.person
    )
    gift = family.gift(
        family.dad,
        name="Book",
        recipient_ids=[family.dad.person],
        list_ids=[ideas["id"], wishes["id"]],
    )
    return {"ideas": ideas["id"], "wishes": wishes["id"], "gift": gift}


def test_a_planning_list_is_missing_for_its_person(
    family: Family, lists: dict[str, Any]
) -> None:
    mum = family.mum.client
    url = f"{LISTS}/{lists['ideas']}"

    assert same_as_missing(mum, "GET", url)
    assert same_as_missing(mum, "PATCH", url, json={"name": "Peek"})
    assert [item["id"] for item in mum.get(LISTS).get_json()["items"]] == [
        lists["wishes"]
    ]
    seen = mum.get(f"{GIFTS}/{lists['gift']['id']}").get_json()
    assert seen["list_ids"] == [lists["wishes"]]
    assert ids_of(mum.get(GIFTS, query_string={"list_ids": lists["ideas"]})) == []
    assert family.dad.client.get(url).status_code == 200


def test_what_a_member_sends_never_touches_lists_hidden_from_them(
    family: Family, lists: dict[str, Any]
) -> None:
    mum, dad = family.mum.client, family.dad.client
    url = f"{GIFTS}/{lists['gift']['id']}"
    both = sorted([lists["ideas"], lists["wishes"]])

    assert mum.patch(url, json={"list_ids": []}).get_json()["list_ids"] == []
    assert dad.get(url).get_json()["list_ids"] == [lists["ideas"]]
    removed = mum.patch(
        GIFTS,
        json={"ids": [lists["gift"]["id"]], "changes": {"remove_list_ids": both}},
    )
    assert removed.status_code == 200
    assert dad.get(url).get_json()["list_ids"] == [lists["ideas"]]
    named = mum.patch(url, json={"list_ids": [lists["ideas"]]})
    assert named.status_code == 422
    assert named.get_json()["errors"] == {
        "list_ids": {str(lists["ideas"]): ["No such list."]}
    }
    added = mum.patch(
        GIFTS,
        json={"ids": [lists["gift"]["id"]], "changes": {"add_list_ids": both}},
    )
    assert added.status_code == 422


def test_a_child_may_not_delete_people_or_lists(family: Family) -> None:
    xmas = family.list(family.dad, name="Xmas")
    kid = family.kid.client

    assert kid.delete(f"{LISTS}/{xmas['id']}").status_code == 403
    assert kid.delete(f"{PEOPLE}/{family.gran}").status_code == 403
    assert family.dad.client.get(f"{LISTS}/{xmas['id']}").status_code == 200


# Ids tell nothing -----------------------------------------------------------------


def test_ids_in_a_row_say_nothing_of_hidden_gifts_between(family: Family) -> None:
    kid = family.kid.client
    mine = [family.gift(family.kid, name="Mine")]
    for round_ in range(12):
        for _ in range(round_ % 3):  # hidden from the child, made in between
            family.gift(family.mum, name="Surprise", recipient_ids=[family.kid.person])
        mine.append(family.gift(family.kid, name=f"Mine {round_}"))
    ids = [gift["id"] for gift in mine]

    assert ids != sorted(ids) and ids != sorted(ids, reverse=True)
    assert all(1 <= gift_id <= 2_147_483_647 for gift_id in ids)
    listed = kid.get(GIFTS, query_string={"limit": 100}).get_json()["items"]
    assert [g["id"] for g in listed] == [g["id"] for g in newest_first(mine)]
    assert [g["name"] for g in listed] == [g["name"] for g in mine[::-1]]


def test_list_ids_are_random_too(family: Family) -> None:
    made = [family.list(family.kid, name=f"L{i}")["id"] for i in range(12)]

    assert made != sorted(made)

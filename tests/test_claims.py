"""Claims (API.md "Who made it, who is getting it"), over HTTP: a member
claims for themselves, another's claim is a 409 (all or nothing in bulk),
releases follow the roles, and of members claiming at once exactly one wins."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import pytest
from flask import Flask

from tests.conftest import client_with_token, make_member
from tests.family import GIFTS, Family, make_family

BARRIER_TIMEOUT = 20.0


@pytest.fixture
def family(app: Flask) -> Family:
    return make_family(app)


@pytest.fixture
def train(family: Family) -> dict[str, Any]:
    """A train for Gran, made by Dad."""
    return family.gift(family.dad, name="Train", recipient_ids=[family.gran])


def test_a_gift_tells_who_made_it_and_who_claimed_it(
    family: Family, train: dict[str, Any]
) -> None:
    url = f"{GIFTS}/{train['id']}"
    assert (train["created_by"], train["claimed_by"]) == (family.dad.id, None)
    before = family.mum.client.get(url).headers["ETag"]

    claimed = family.kid.client.patch(url, json={"claimed_by": family.kid.id})

    assert claimed.status_code == 200
    assert claimed.get_json()["claimed_by"] == family.kid.id
    after = family.mum.client.get(url)
    assert after.get_json()["claimed_by"] == family.kid.id
    assert after.headers["ETag"] != before
    made = family.mum.client.post(
        GIFTS, json={"name": "Mine", "claimed_by": family.mum.id}
    )
    assert (made.get_json()["created_by"], made.get_json()["claimed_by"]) == (
        family.mum.id,
        family.mum.id,
    )


def test_created_by_and_wish_withdrawn_are_read_only(family: Family) -> None:
    response = family.mum.client.post(
        GIFTS, json={"name": "X", "created_by": family.dad.id, "wish_withdrawn": True}
    )

    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "created_by": ["Read-only field."],
        "wish_withdrawn": ["Read-only field."],
    }


def test_another_members_claim_is_a_409_and_changes_nothing(
    family: Family, train: dict[str, Any]
) -> None:
    url = f"{GIFTS}/{train['id']}"
    held = family.mum.client.patch(url, json={"claimed_by": family.mum.id})

    taken = family.dad.client.patch(
        url, json={"claimed_by": family.dad.id, "notes": "mine"}
    )

    assert taken.status_code == 409
    assert family.dad.client.get(url).get_json() == held.get_json()
    again = family.mum.client.patch(url, json={"claimed_by": family.mum.id})
    assert again.status_code == 200  # one's own claim, claimed again


@pytest.mark.parametrize("whose", ["other", "nobody"])
def test_claiming_for_anyone_else_is_a_403(
    family: Family, train: dict[str, Any], whose: str
) -> None:
    other = family.mum.id if whose == "other" else 2_000_000
    url = f"{GIFTS}/{train['id']}"

    for response in (
        family.kid.client.patch(url, json={"claimed_by": other}),
        family.kid.client.patch(
            GIFTS, json={"ids": [train["id"]], "changes": {"claimed_by": other}}
        ),
        family.kid.client.post(GIFTS, json={"name": "X", "claimed_by": other}),
    ):
        assert response.status_code == 403
    assert family.kid.client.get(url).get_json() == train


def test_releases_a_member_their_own_a_parent_anyones(
    family: Family, train: dict[str, Any]
) -> None:
    url = f"{GIFTS}/{train['id']}"
    family.mum.client.patch(url, json={"claimed_by": family.mum.id})

    by_child = family.kid.client.patch(url, json={"claimed_by": None})
    by_parent = family.dad.client.patch(url, json={"claimed_by": None})
    family.kid.client.patch(url, json={"claimed_by": family.kid.id})
    by_self = family.kid.client.patch(url, json={"claimed_by": None})

    assert by_child.status_code == 403
    assert by_parent.status_code == 200
    assert by_self.status_code == 200
    assert by_self.get_json()["claimed_by"] is None


def test_a_bulk_claim_is_all_or_nothing_naming_the_held_ones(
    family: Family, train: dict[str, Any]
) -> None:
    kite = family.gift(family.dad, name="Kite", recipient_ids=[family.gran])
    ball = family.gift(family.dad, name="Ball")
    family.mum.client.patch(f"{GIFTS}/{kite['id']}", json={"claimed_by": family.mum.id})
    ids = [train["id"], kite["id"], ball["id"]]

    bulk = family.dad.client.patch(
        GIFTS, json={"ids": ids, "changes": {"claimed_by": family.dad.id}}
    )

    assert bulk.status_code == 409
    assert bulk.get_json()["errors"] == {
        "ids": {str(kite["id"]): ["Claimed by another member."]}
    }
    claims = [
        family.dad.client.get(f"{GIFTS}/{i}").get_json()["claimed_by"] for i in ids
    ]
    assert claims == [None, family.mum.id, None]


def test_a_hidden_gift_cannot_be_claimed_it_is_missing(family: Family) -> None:
    ring = family.gift(family.dad, name="Ring", recipient_ids=[family.mum.person])

    response = family.mum.client.patch(
        f"{GIFTS}/{ring['id']}", json={"claimed_by": family.mum.id}
    )

    assert response.status_code == 404
    assert family.dad.client.get(f"{GIFTS}/{ring['id']}").get_json() == ring


def test_listing_and_summary_filter_by_claimer(
    family: Family, train: dict[str, Any]
) -> None:
    kite = family.gift(family.dad, name="Kite", price=4)
    family.gift(family.dad, name="Ball")
    family.mum.client.patch(f"{GIFTS}/{kite['id']}", json={"claimed_by": family.mum.id})
    family.dad.client.patch(
        f"{GIFTS}/{train['id']}", json={"claimed_by": family.dad.id}
    )

    def names(client: Any, claimed_by: str) -> list[str]:
        page = client.get(GIFTS, query_string={"claimed_by": claimed_by})
        assert page.status_code == 200, page.get_json()
        return [item["name"] for item in page.get_json()["items"]]

    assert names(family.mum.client, "me") == ["Kite"]
    assert names(family.dad.client, "me") == ["Train"]
    assert names(family.kid.client, str(family.mum.id)) == ["Kite"]
    assert names(family.kid.client, "none") == ["Ball"]
    assert names(family.kid.client, "me") == []
    summary = family.kid.client.get(
        f"{GIFTS}/summary", query_string={"claimed_by": family.mum.id}
    )
    assert (summary.get_json()["total"], summary.get_json()["price_total"]) == (1, 4)
    for bad in ("you", "0", "01", "2147483648", "1.5"):
        refused = family.kid.client.get(GIFTS, query_string={"claimed_by": bad})
        assert refused.status_code == 422, bad


def test_of_eight_members_claiming_at_once_exactly_one_wins(
    app: Flask, family: Family, train: dict[str, Any]
) -> None:
    claimers = [(family.mum.id, family.mum.client), (family.dad.id, family.dad.client)]
    claimers.append((family.kid.id, family.kid.client))
    for n in range(5):
        member_id, token = make_member(app, f"Cousin {n}", "parent")
        claimers.append((member_id, client_with_token(app, token)))
    barrier = Barrier(len(claimers), timeout=BARRIER_TIMEOUT)
    url = f"{GIFTS}/{train['id']}"

    def claim(member_id: int, client: Any) -> tuple[int, int]:
        barrier.wait()
        return member_id, client.patch(url, json={"claimed_by": member_id}).status_code

    with ThreadPoolExecutor(max_workers=len(claimers)) as pool:
        results = list(pool.map(lambda c: claim(*c), claimers))

    statuses = sorted(status for _, status in results)
    assert statuses == [200] + [409] * 7
    winner = next(member_id for member_id, status in results if status == 200)
    assert family.dad.client.get(url).get_json()["claimed_by"] == winner

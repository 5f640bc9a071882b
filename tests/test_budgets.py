"""Budgets and the budget view over HTTP: amounts exact to the cent against
sums done here by hand (with amounts floats get wrong), every sum over the
gifts the asking member sees as they see them, and nobody's own budget."""

from __future__ import annotations

import json
from decimal import Decimal as D
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.family import GIFTS, PEOPLE, Family, make_family

OCCASIONS = "/api/v1/occasions"


def exact(response: Any) -> Any:
    """The body with its numbers as decimals: 0.30000000000000004 is not 0.3."""
    return json.loads(response.get_data(), parse_float=D)


def row(person_id: int | None, budget: D | None, spent: D, planned: D) -> dict:
    """A row of the view, its remaining and over_budget worked out here."""
    shown = {
        "budget": budget,
        "spent": spent,
        "planned": planned,
        "remaining": None if budget is None else budget - spent - planned,
        "over_budget": budget is not None and spent + planned > budget,
    }
    return shown if person_id is None else {"person_id": person_id, **shown}


@pytest.fixture
def family(app: Flask) -> Family:
    return make_family(app)


@pytest.fixture
def christmas(family: Family) -> dict[str, Any]:
    """Christmas, its gifts and budgets (ids by letter, for the tests)."""
    mum, dad, kid, gran = family.mum, family.dad, family.kid, family.gran
    response = mum.client.post(
        OCCASIONS, json={"name": "Christmas", "kind": "christmas", "date": "2026-12-25"}
    )
    xmas = response.get_json()["id"]
    on = {"occasion_id": xmas}

    def gift(by: Any, price: Any, quantity: int, status: str, *people: int, **more):
        return family.gift(
            by,
            price=price,
            quantity=quantity,
            status=status,
            recipient_ids=list(people),
            **on,
            **more,
        )["id"]

    ids = {
        "a": gift(dad, 0.1, 1, "idea", gran),
        "b": gift(dad, 0.2, 1, "idea", gran),
        "c": gift(dad, 0.1, 3, "purchased", gran),
        "d": gift(mum, 19.99, 3, "selected", gran, kid.person),  # for two
        "e": gift(mum, 49.99, 1, "purchased", kid.person, from_santa=True),
        "f": gift(dad, 10, 1, "purchased", mum.person),  # hidden from Mum
        "h": gift(dad, None, 1, "idea", gran),  # no price: adds 0
    }
    family.gift(dad, price=100, status="purchased", recipient_ids=[gran])  # no occasion
    # Kid's wish for Christmas, which Mum then buys: Kid sees an idea.
    wish = family.gift(kid, name="Bike", price=120, recipient_ids=[kid.person], **on)
    bought = mum.client.patch(f"{GIFTS}/{wish['id']}", json={"status": "purchased"})
    assert bought.status_code == 200
    ids["wish"] = wish["id"]
    for person, amount in ((gran, 60), (kid.person, 100), (mum.person, 30)):
        put = dad.client.put(
            f"{OCCASIONS}/{xmas}/budgets/{person}", json={"amount": amount}
        )
        assert put.status_code == 200, put.get_json()
    return {"id": xmas, **ids}


def view(client: FlaskClient, occasion: dict[str, Any]) -> Any:
    response = client.get(f"{OCCASIONS}/{occasion['id']}/budget")
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "private, no-cache"
    return exact(response)


def test_a_parent_sees_everyone_but_themselves_and_each_gift_once_in_the_total(
    family: Family, christmas: dict[str, Any]
) -> None:
    gran, kid, mum = family.gran, family.kid.person, family.mum.person
    gran_spent = D("0.10") * 3
    gran_planned = D("0.10") + D("0.20") + D("19.99") * 3
    kid_spent = D("49.99") + D("120")
    kid_planned = D("19.99") * 3

    assert view(family.dad.client, christmas) == {
        "occasion_id": christmas["id"],
        "people": [  # by name: Gran, Kid, Mum
            row(gran, D(60), gran_spent, gran_planned),
            row(kid, D(100), kid_spent, kid_planned),
            row(mum, D(30), D(10), D(0)),
        ],
        "total": row(
            None,
            D(60) + D(100) + D(30),
            gran_spent + kid_spent + D(10),
            D("0.10") + D("0.20") + D("19.99") * 3,  # d counted once
        ),
    }


def test_a_member_sees_no_row_and_no_budget_of_their_own_nor_hidden_gifts(
    family: Family, christmas: dict[str, Any]
) -> None:
    gran, kid = family.gran, family.kid.person
    gran_spent = D("0.10") * 3
    gran_planned = D("0.10") + D("0.20") + D("19.99") * 3

    assert view(family.mum.client, christmas)["people"] == [
        row(gran, D(60), gran_spent, gran_planned),
        row(kid, D(100), D("49.99") + D("120"), D("19.99") * 3),
    ]
    assert view(family.mum.client, christmas)["total"] == row(
        None,
        D(60) + D(100),
        gran_spent + D("49.99") + D("120"),  # f is hidden from Mum
        D("0.10") + D("0.20") + D("19.99") * 3,
    )


def test_a_child_sees_neither_santa_nor_what_is_planned_for_them(
    family: Family, christmas: dict[str, Any]
) -> None:
    """Kid's own gifts (d, Santa's e) are hidden; their wish, bought, reads as
    an idea; 0.1 + 0.2 and 0.1 x 3 are exact."""
    mum, gran = family.mum.person, family.gran
    assert view(family.kid.client, christmas) == {
        "occasion_id": christmas["id"],
        "people": [
            row(gran, D(60), D("0.30"), D("0.30")),
            row(mum, D(30), D(10), D(0)),
        ],
        "total": row(None, D(90), D("0.30") + D(10), D("0.30") + D(120)),
    }
    occasion = family.kid.client.get(f"{OCCASIONS}/{christmas['id']}").get_json()
    assert occasion["gift_count"] == 6  # a, b, c, f, h and the wish
    parent = family.dad.client.get(f"{OCCASIONS}/{christmas['id']}").get_json()
    assert parent["gift_count"] == 8


def test_a_wisher_sees_the_occasion_of_their_wish_and_may_not_move_it(
    family: Family, christmas: dict[str, Any]
) -> None:
    kid = family.kid.client
    wish = kid.get(f"{GIFTS}/{christmas['wish']}")
    assert (wish.get_json()["occasion_id"], wish.get_json()["status"]) == (
        christmas["id"],
        "idea",
    )
    moved = kid.patch(f"{GIFTS}/{christmas['wish']}", json={"occasion_id": None})
    assert moved.status_code == 403
    # A planner moving it is a change the wisher sees: its ETag moves.
    other = family.mum.client.post(
        OCCASIONS, json={"name": "Birthday", "date": "2027-03-01"}
    ).get_json()["id"]
    family.mum.client.patch(f"{GIFTS}/{christmas['wish']}", json={"occasion_id": other})
    after = kid.get(f"{GIFTS}/{christmas['wish']}")
    assert after.get_json()["occasion_id"] == other
    assert after.headers["ETag"] != wish.headers["ETag"]
    found = kid.get(f"{GIFTS}?occasion_ids={other}").get_json()["items"]
    assert [gift["id"] for gift in found] == [christmas["wish"]]


def test_nobody_sets_or_removes_their_own_budget(
    family: Family, christmas: dict[str, Any]
) -> None:
    for member in (family.mum, family.kid):
        path = f"{OCCASIONS}/{christmas['id']}/budgets/{member.person}"
        assert member.client.put(path, json={"amount": 1000}).status_code == 403
        assert member.client.delete(path).status_code == 403
    mum_budget = f"{OCCASIONS}/{christmas['id']}/budgets/{family.mum.person}"
    assert family.kid.client.put(mum_budget, json={"amount": 31}).status_code == 200
    assert view(family.dad.client, christmas)["people"][2]["budget"] == D(31)


def test_a_budget_is_set_replaced_and_removed(client: FlaskClient) -> None:
    ann = client.post(PEOPLE, json={"name": "Ann"}).get_json()["id"]
    xmas = client.post(
        OCCASIONS, json={"name": "Christmas", "date": "2026-12-25"}
    ).get_json()["id"]
    path = f"{OCCASIONS}/{xmas}/budgets/{ann}"
    first = client.put(path, json={"amount": 0.1})
    assert (first.status_code, exact(first)) == (
        200,
        {"person_id": ann, "amount": D("0.1")},
    )
    second = client.put(path, json={"amount": 25})
    assert exact(second) == {"person_id": ann, "amount": D(25)}
    budget = exact(client.get(f"{OCCASIONS}/{xmas}/budget"))
    assert budget["people"] == [row(ann, D(25), D(0), D(0))]
    assert budget["total"] == row(None, D(25), D(0), D(0))

    assert client.delete(path).status_code == 204
    assert client.delete(path).status_code == 404
    empty = exact(client.get(f"{OCCASIONS}/{xmas}/budget"))
    assert empty == {
        "occasion_id": xmas,
        "people": [],
        "total": row(None, None, D(0), D(0)),
    }


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"amount": None},
        {"amount": "5"},
        {"amount": True},
        {"amount": -1},
        {"amount": 0.001},
        {"amount": 100000000},
        {"amount": 5, "currency": "EUR"},
    ],
)
def test_a_bad_amount_is_a_422_and_changes_nothing(
    client: FlaskClient, body: dict[str, Any]
) -> None:
    ann = client.post(PEOPLE, json={"name": "Ann"}).get_json()["id"]
    xmas = client.post(
        OCCASIONS, json={"name": "Christmas", "date": "2026-12-25"}
    ).get_json()["id"]
    response = client.put(f"{OCCASIONS}/{xmas}/budgets/{ann}", json=body)
    assert response.status_code == 422
    assert exact(client.get(f"{OCCASIONS}/{xmas}/budget"))["people"] == []


def test_a_budget_needs_an_occasion_and_a_person(client: FlaskClient) -> None:
    ann = client.post(PEOPLE, json={"name": "Ann"}).get_json()["id"]
    xmas = client.post(
        OCCASIONS, json={"name": "Christmas", "date": "2026-12-25"}
    ).get_json()["id"]
    missing_person = client.put(f"{OCCASIONS}/{xmas}/budgets/99", json={"amount": 1})
    assert missing_person.status_code == 404
    assert missing_person.get_json()["detail"] == "No person with this id."
    missing = client.put(f"{OCCASIONS}/99/budgets/{ann}", json={"amount": 1})
    assert missing.get_json()["detail"] == "No occasion with this id."
    assert client.get(f"{OCCASIONS}/99/budget").status_code == 404
    assert client.delete(f"{OCCASIONS}/99/budgets/{ann}").status_code == 404


def test_large_amounts_stay_exact(client: FlaskClient, make_gift: Any) -> None:
    ann = client.post(PEOPLE, json={"name": "Ann"}).get_json()["id"]
    xmas = client.post(
        OCCASIONS, json={"name": "Christmas", "date": "2026-12-25"}
    ).get_json()["id"]
    top = D("99999999.99")
    for status in ("idea", "purchased"):
        make_gift(
            price=top,
            quantity=10_000,
            status=status,
            occasion_id=xmas,
            recipient_ids=[ann],
        )
    client.put(f"{OCCASIONS}/{xmas}/budgets/{ann}", json={"amount": top})
    budget = exact(client.get(f"{OCCASIONS}/{xmas}/budget"))
    assert budget["people"] == [row(ann, top, top * 10_000, top * 10_000)]


def test_a_total_beyond_what_a_float_holds_is_exact(
    client: FlaskClient, make_gift: Any
) -> None:
    """101 gifts at the highest price and quantity and one cent: 17 digits."""
    xmas = client.post(
        OCCASIONS, json={"name": "Christmas", "date": "2026-12-25"}
    ).get_json()["id"]
    top = D("99999999.99")
    for _ in range(101):
        make_gift(price=top, quantity=10_000, status="purchased", occasion_id=xmas)
    make_gift(price=D("0.01"), status="purchased", occasion_id=xmas)
    total = exact(client.get(f"{OCCASIONS}/{xmas}/budget"))["total"]
    assert total["spent"] == top * 10_000 * 101 + D("0.01")
    assert str(total["spent"]) == "100999999989900.01"


def _copies(app: Flask, gift_id: int, copies: int) -> None:
    """``copies`` more gifts like ``gift_id`` (ids 1 000 000 and up), in one
    statement: 92 000 through HTTP would take minutes."""
    from app.extensions import db
    from app.models import Gift

    columns = [c.name for c in Gift.__table__.columns if c.name != "id"]
    names = ", ".join(columns)
    with app.app_context(), db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # set-up, not a request
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        connection.execute(
            sa.text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                f" WHERE i < :copies) INSERT INTO gifts (id, {names})"
                f" SELECT 1000000 + i, {names} FROM gifts, n WHERE gifts.id = :id"
            ),
            {"copies": copies, "id": gift_id},
        )


def test_sums_past_what_a_64_bit_integer_holds_are_exact(
    app: Flask, client: FlaskClient, make_gift: Any
) -> None:
    """At the highest price and quantity (10**14 cents a gift), 92 300 gifts
    sum past 2**63 cents: the budget view and the summary stay exact."""
    xmas = client.post(
        OCCASIONS, json={"name": "Christmas", "date": "2026-12-25"}
    ).get_json()["id"]
    top = D("99999999.99")
    gift = make_gift(price=top, quantity=10_000, status="purchased", occasion_id=xmas)
    _copies(app, gift["id"], 92_299)
    expected = top * 10_000 * 92_300
    assert expected * 100 > 2**63
    total = exact(client.get(f"{OCCASIONS}/{xmas}/budget"))["total"]
    assert total["spent"] == expected
    summary = client.get(f"{GIFTS}/summary?occasion_ids={xmas}")
    assert summary.status_code == 200, summary.get_json()
    assert exact(summary)["price_total"] == expected

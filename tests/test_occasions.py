"""Occasions over HTTP: their fields, next dates as of a fixed today in the
family's time zone, the listing's order, pages and `upcoming`, ETags, PATCH,
and what deleting an occasion or a person does to what refers to it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db

OCCASIONS = "/api/v1/occasions"
PEOPLE = "/api/v1/people"
GIFTS = "/api/v1/gifts"


def at(app: Flask, when: str, zone: str = "UTC") -> None:
    """From now on, the time is ``when`` (an RFC 3339 instant) in ``zone``."""
    instant = dt.datetime.fromisoformat(when)
    app.config["CLOCK"] = lambda: instant
    app.config["FAMILY_TIMEZONE"] = zone


def make(client: FlaskClient, path: str = OCCASIONS, **fields: Any) -> dict[str, Any]:
    fields.setdefault("name", "An occasion")
    response = client.post(path, json=fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def next_date(client: FlaskClient, occasion: dict[str, Any]) -> str | None:
    return client.get(f"{OCCASIONS}/{occasion['id']}").get_json()["next_date"]


def walk(client: FlaskClient, query: str, limit: int) -> list[str]:
    """The names of every occasion of a listing, page by page."""
    names: list[str] = []
    cursor = None
    while True:
        args = f"?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(OCCASIONS + args)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        names += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        assert page["has_more"] is (cursor is not None)
        if cursor is None:
            return names


def test_an_occasion_is_created_read_changed_and_deleted(
    app: Flask, client: FlaskClient
) -> None:
    at(app, "2026-12-01T12:00:00+00:00")
    ann = make(client, PEOPLE, name="Ann")
    response = client.post(
        OCCASIONS,
        json={
            "name": "  Ann's birthday ",
            "kind": "birthday",
            "date": "2019-05-04",
            "repeats_yearly": True,
            "person_id": ann["id"],
        },
    )
    assert response.status_code == 201
    occasion = response.get_json()
    assert occasion == {
        "id": occasion["id"],
        "name": "Ann's birthday",
        "kind": "birthday",
        "date": "2019-05-04",
        "repeats_yearly": True,
        "person_id": ann["id"],
        "next_date": "2027-05-04",
        "gift_count": 0,
    }
    location = response.headers["Location"]
    assert location == f"{OCCASIONS}/{occasion['id']}"
    got = client.get(location)
    assert (got.get_json(), got.headers["ETag"]) == (occasion, response.headers["ETag"])
    assert (
        client.get(location, headers={"If-None-Match": got.headers["ETag"]}).status_code
        == 304
    )

    # null leaves a non-nullable field as it is, and clears person_id.
    nulls = {"name": None, "kind": None, "date": None, "repeats_yearly": None}
    changed = client.patch(location, json={**nulls, "person_id": None})
    assert changed.status_code == 200
    assert changed.get_json() == occasion | {"person_id": None}
    assert changed.headers["ETag"] != got.headers["ETag"]
    stale = client.patch(
        location, json={"name": "X"}, headers={"If-Match": got.headers["ETag"]}
    )
    assert stale.status_code == 412
    assert client.patch(location, json={}).get_json() == changed.get_json()

    assert client.delete(location).status_code == 204
    assert client.get(location).status_code == 404
    assert client.patch(location, json={}).status_code == 404
    assert client.delete(location).status_code == 404


def test_an_occasion_defaults_to_other_and_once(client: FlaskClient) -> None:
    made = make(client, name="Fair", date="2026-12-05")
    assert (made["kind"], made["repeats_yearly"], made["person_id"]) == (
        "other",
        False,
        None,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": " ", "date": "2026-12-25"}, "name"),
        ({"name": "x" * 121, "date": "2026-12-25"}, "name"),
        ({"name": "X"}, "date"),
        ({"name": "X", "date": "2026-02-29"}, "date"),
        ({"name": "X", "date": "25/12/2026"}, "date"),
        ({"name": "X", "date": "2026-12-25", "kind": "easter"}, "kind"),
        (
            {"name": "X", "date": "2026-12-25", "repeats_yearly": "yes"},
            "repeats_yearly",
        ),
        ({"name": "X", "date": "2026-12-25", "person_id": "1"}, "person_id"),
        ({"name": "X", "date": "2026-12-25", "next_date": "2026-12-25"}, "next_date"),
        ({"name": "X", "date": "2026-12-25", "gift_count": 0}, "gift_count"),
    ],
)
def test_a_bad_occasion_is_a_422_naming_the_field(
    client: FlaskClient, body: dict[str, Any], field: str
) -> None:
    response = client.post(OCCASIONS, json=body)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == [field]
    assert client.get(OCCASIONS).get_json()["items"] == []


def test_a_person_that_names_nothing_is_a_422(client: FlaskClient) -> None:
    response = client.post(
        OCCASIONS, json={"name": "X", "date": "2026-12-25", "person_id": 99}
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"person_id": {"99": ["No such person."]}}
    made = make(client, date="2026-12-25")
    patched = client.patch(f"{OCCASIONS}/{made['id']}", json={"person_id": 99})
    assert patched.status_code == 422
    assert next_date(client, made) == "2026-12-25"
    assert client.get(OCCASIONS).get_json()["items"] == [made]


def test_an_occasion_on_new_years_day_is_tomorrow_on_new_years_eve(
    app: Flask, client: FlaskClient
) -> None:
    new_year = make(client, name="New Year", date="2020-01-01", repeats_yearly=True)
    at(app, "2026-12-31T23:59:59+00:00")
    assert next_date(client, new_year) == "2027-01-01"
    assert walk(client, "&upcoming=1", 10) == ["New Year"]
    at(app, "2027-01-01T00:00:00+00:00")
    assert next_date(client, new_year) == "2027-01-01"  # today counts
    at(app, "2027-01-02T00:00:00+00:00")
    assert next_date(client, new_year) == "2028-01-01"
    # 2 January 2027 to 1 January 2028: 364 days.
    assert walk(client, "&upcoming=364", 10) == ["New Year"]
    assert walk(client, "&upcoming=363", 10) == []


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        ("2026-12-01", "2027-02-28"),  # 2027 has no 29 February
        ("2027-02-28", "2027-02-28"),
        ("2027-03-01", "2028-02-29"),  # 2028 has one
        ("2028-02-29", "2028-02-29"),
        ("2028-03-01", "2029-02-28"),
        ("2099-12-31", "2100-02-28"),  # a century is no leap year...
        ("2399-12-31", "2400-02-29"),  # ...but every fourth one is
    ],
)
def test_29_february_falls_on_28_february_in_other_years(
    app: Flask, client: FlaskClient, today: str, expected: str
) -> None:
    leap = make(client, name="Leap day", date="2024-02-29", repeats_yearly=True)
    at(app, f"{today}T12:00:00+00:00")
    assert next_date(client, leap) == expected


def test_a_one_off_occasion_is_its_date_until_it_is_past(
    app: Flask, client: FlaskClient
) -> None:
    fair = make(client, name="Fair", date="2026-12-05")
    later = make(client, name="Later", date="2030-06-01", repeats_yearly=True)
    at(app, "2026-12-05T23:00:00+00:00")
    assert (next_date(client, fair), next_date(client, later)) == (
        "2026-12-05",
        "2030-06-01",  # a yearly one starts on its first date
    )
    at(app, "2026-12-06T00:00:00+00:00")
    assert next_date(client, fair) is None
    assert walk(client, "", 10) == ["Later", "Fair"]  # past ones last
    assert walk(client, "&upcoming=366", 10) == []


@pytest.mark.parametrize(
    ("zone", "now", "shown"),
    [
        # 10:00 UTC on 24 December is already Christmas Day in Kiritimati (UTC+14).
        ("UTC", "2026-12-24T10:00:00+00:00", "2026-12-24"),
        ("Pacific/Kiritimati", "2026-12-24T10:00:00+00:00", None),
        # 05:00 UTC on 1 January is still New Year's Eve in Pago Pago (UTC-11).
        ("UTC", "2027-01-01T05:00:00+00:00", None),
        ("Pacific/Pago_Pago", "2027-01-01T05:00:00+00:00", "2026-12-31"),
    ],
)
def test_today_is_the_familys_date_in_its_time_zone(
    app: Flask, client: FlaskClient, zone: str, now: str, shown: str | None
) -> None:
    eve = make(client, name="Eve", date=now[:4] + "-12-24")
    last = make(client, name="Last day", date="2026-12-31")
    at(app, now, zone)
    day = next_date(client, eve if now.startswith("2026") else last)
    assert day == shown


def test_a_zone_that_does_not_exist_stops_the_app_at_start() -> None:
    from app import create_app

    with pytest.raises(ValueError, match="FAMILY_TIMEZONE: 'Mars/Olympus'"):
        create_app({"FAMILY_TIMEZONE": "Mars/Olympus", "TESTING": True})


def test_the_listing_is_by_next_date_then_name_then_id_in_pages(
    app: Flask, client: FlaskClient
) -> None:
    at(app, "2026-12-20T09:00:00+00:00")
    for name, date, yearly in [
        ("Christmas", "2000-12-25", True),
        ("Boxing Day", "2000-12-26", True),
        ("Advent", "2026-11-29", False),  # past
        ("Carols", "2026-12-25", False),
        ("Christmas", "2026-12-25", False),  # same date and name: by id
        ("Ann's birthday", "2019-03-01", True),
        ("Solstice", "2026-12-21", False),
        ("Bake sale", "2020-06-01", False),  # past
    ]:
        make(client, name=name, date=date, repeats_yearly=yearly)
    expected = [
        "Solstice",
        "Carols",
        "Christmas",
        "Christmas",
        "Boxing Day",
        "Ann's birthday",
        "Advent",
        "Bake sale",
    ]
    items = client.get(OCCASIONS).get_json()["items"]
    assert [item["name"] for item in items] == expected
    christmases = [item["id"] for item in items if item["name"] == "Christmas"]
    assert christmases == sorted(christmases)
    for limit in (1, 2, 3, 7):
        assert walk(client, "", limit) == expected
    assert walk(client, "&upcoming=5", 2) == expected[:4]
    assert walk(client, "&upcoming=6", 2) == expected[:5]


def test_a_cursor_of_another_listing_or_a_bad_upcoming_is_a_422(
    client: FlaskClient,
) -> None:
    for name in ("A", "B"):
        make(client, PEOPLE, name=name)
    people_cursor = client.get(f"{PEOPLE}?limit=1").get_json()["next_cursor"]
    for query in (
        f"cursor={people_cursor}",
        "cursor=nonsense",
        "upcoming=0",
        "upcoming=367",
        "upcoming=soon",
        "sort=name",
    ):
        response = client.get(f"{OCCASIONS}?{query}")
        assert response.status_code == 422, query


def test_the_etag_moves_when_the_next_date_does(
    app: Flask, client: FlaskClient
) -> None:
    at(app, "2026-12-25T12:00:00+00:00")
    christmas = make(client, name="Christmas", date="2000-12-25", repeats_yearly=True)
    first = client.get(f"{OCCASIONS}/{christmas['id']}")
    at(app, "2026-12-26T12:00:00+00:00")
    second = client.get(
        f"{OCCASIONS}/{christmas['id']}",
        headers={"If-None-Match": first.headers["ETag"]},
    )
    assert second.status_code == 200
    assert second.get_json()["next_date"] == "2027-12-25"
    assert second.headers["ETag"] != first.headers["ETag"]


def test_gifts_of_an_occasion_are_set_filtered_and_counted(
    client: FlaskClient, make_gift: Any
) -> None:
    christmas = make(client, name="Christmas", date="2026-12-25")
    birthday = make(client, name="Birthday", date="2027-03-01")
    train = make_gift(name="Train", occasion_id=christmas["id"], price=0.1)
    kite = make_gift(name="Kite", price=0.2)
    ball = make_gift(name="Ball", price=5)
    assert train["occasion_id"] == christmas["id"] and kite["occasion_id"] is None

    patched = client.patch(
        f"{GIFTS}/{kite['id']}", json={"occasion_id": christmas["id"]}
    )
    assert patched.get_json()["occasion_id"] == christmas["id"]
    bulk = client.patch(
        GIFTS, json={"ids": [ball["id"]], "changes": {"occasion_id": birthday["id"]}}
    )
    assert bulk.get_json()["items"][0]["occasion_id"] == birthday["id"]

    def names(query: str) -> list[str]:
        return sorted(
            g["name"] for g in client.get(f"{GIFTS}?{query}").get_json()["items"]
        )

    assert names(f"occasion_ids={christmas['id']}") == ["Kite", "Train"]
    assert names(f"occasion_ids={christmas['id']}&occasion_ids={birthday['id']}") == [
        "Ball",
        "Kite",
        "Train",
    ]
    assert names("occasion_ids=99") == []
    summary = client.get(f"{GIFTS}/summary?occasion_ids={christmas['id']}").get_json()
    assert (summary["total"], summary["price_total"]) == (2, 0.3)
    assert (
        next(
            o["gift_count"]
            for o in client.get(OCCASIONS).get_json()["items"]
            if o["id"] == christmas["id"]
        )
        == 2
    )

    cleared = client.patch(f"{GIFTS}/{kite['id']}", json={"occasion_id": None})
    assert cleared.get_json()["occasion_id"] is None


def test_an_occasion_that_names_nothing_changes_no_gift(
    client: FlaskClient, make_gift: Any
) -> None:
    gift = make_gift(name="Train")
    for response in (
        client.post(GIFTS, json={"name": "New", "occasion_id": 99}),
        client.patch(f"{GIFTS}/{gift['id']}", json={"occasion_id": 99, "price": 3}),
        client.patch(GIFTS, json={"ids": [gift["id"]], "changes": {"occasion_id": 99}}),
    ):
        assert response.status_code == 422
        assert response.get_json()["errors"] == {
            "occasion_id": {"99": ["No such occasion."]}
        }
    assert client.get(GIFTS).get_json()["items"] == [gift]
    for bad in ("1", 1.0, True, 0):
        response = client.patch(f"{GIFTS}/{gift['id']}", json={"occasion_id": bad})
        assert response.status_code == 422, bad


def test_deleting_an_occasion_unlinks_its_gifts_and_drops_its_budgets(
    app: Flask, client: FlaskClient, make_gift: Any
) -> None:
    christmas = make(client, name="Christmas", date="2026-12-25")
    ann = make(client, PEOPLE, name="Ann")
    budget = client.put(
        f"{OCCASIONS}/{christmas['id']}/budgets/{ann['id']}", json={"amount": 20}
    )
    assert budget.status_code == 200
    gift = client.get(f"{GIFTS}/{make_gift(occasion_id=christmas['id'])['id']}")
    other = make_gift()

    assert client.delete(f"{OCCASIONS}/{christmas['id']}").status_code == 204

    after = client.get(f"{GIFTS}/{gift.get_json()['id']}")
    assert after.get_json()["occasion_id"] is None
    assert after.headers["ETag"] != gift.headers["ETag"]
    assert after.get_json()["updated_at"] != gift.get_json()["updated_at"]
    assert client.get(f"{GIFTS}/{other['id']}").get_json() == other
    with app.app_context(), db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM budgets")) == 0
    assert client.get(f"{OCCASIONS}/{christmas['id']}/budget").status_code == 404


def test_deleting_a_person_unlinks_their_occasions_and_drops_their_budgets(
    client: FlaskClient,
) -> None:
    ann = make(client, PEOPLE, name="Ann")
    birthday = client.post(
        OCCASIONS,
        json={"name": "Ann's", "date": "2019-05-04", "person_id": ann["id"]},
    )
    location = birthday.headers["Location"]
    client.put(f"{location}/budgets/{ann['id']}", json={"amount": 20})

    assert client.delete(f"{PEOPLE}/{ann['id']}").status_code == 204

    after = client.get(location)
    assert after.get_json()["person_id"] is None
    assert after.headers["ETag"] != birthday.headers["ETag"]
    assert client.get(f"{location}/budget").get_json()["people"] == []


def test_only_a_parent_deletes_an_occasion(
    client: FlaskClient, child_client: FlaskClient
) -> None:
    christmas = make(client, name="Christmas", date="2026-12-25")
    response = child_client.delete(f"{OCCASIONS}/{christmas['id']}")
    assert response.status_code == 403
    assert child_client.get(f"{OCCASIONS}/{christmas['id']}").status_code == 200
    changed = child_client.patch(
        f"{OCCASIONS}/{christmas['id']}", json={"name": "Xmas"}
    )
    assert changed.status_code == 200

"""Bad input of every class the fuzzing and a hostile client found is a 4xx
problem document and changes nothing (each class answered 500 before)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import keyset, sealing
from app.gifts import cursors
from app.limits import MAX_DEPTH, nesting_depth_exceeds

GIFTS = "/api/v1/gifts"
MakeGift = Callable[..., dict[str, Any]]


def send(client: FlaskClient, method: str, url: str, body: str) -> Any:
    return client.open(
        url, method=method, data=body.encode(), content_type="application/json"
    )


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data()[:300]
    assert response.content_type == "application/problem+json"
    return response.get_json()


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


@pytest.fixture
def gift(make_gift: MakeGift) -> dict[str, Any]:
    return make_gift(name="Kite", price=10)


def unchanged(client: FlaskClient, gift: dict[str, Any]) -> None:
    assert client.get(f"{GIFTS}/{gift['id']}").get_json() == gift
    assert len(client.get(GIFTS).get_json()["items"]) == 1


@pytest.mark.parametrize(
    "body",
    [
        nested(100_000),
        '{"name": "a", "notes": ' + nested(5000) + "}",
        '{"name": "a", "notes": ' + "{" + '"a":{' * 40 + "}" * 41 + "}",
        '{"name": "a", "price": NaN}',
        '{"name": "a", "price": Infinity}',
        '{"name": "a", "price": -Infinity}',
        '{"name": "a", "\\ud800": 1}',
        '{"name": "a", "notes": {"\\udfff": 1}}',
    ],
    ids=[
        "deep",
        "deep-field",
        "deep-objects",
        "nan",
        "inf",
        "-inf",
        "surrogate-key",
        "nested-surrogate-key",
    ],
)
def test_json_outside_the_limits_is_a_400(
    client: FlaskClient, gift: dict[str, Any], body: str
) -> None:
    url = f"{GIFTS}/{gift['id']}"
    for method, target in (("POST", GIFTS), ("PATCH", url)):
        detail = problem(send(client, method, target, body), 400)["detail"]
        assert "JSON" in detail
    bulk = f'{{"ids": [{gift["id"]}], "changes": {body}}}'
    problem(send(client, "PATCH", GIFTS, bulk), 400)
    unchanged(client, gift)


def test_nesting_at_the_limit_is_parsed(client: FlaskClient) -> None:
    """Depth MAX_DEPTH is read (and refused by the schema); one more is not."""
    at_limit = '{"name": "a", "notes": ' + nested(MAX_DEPTH - 1) + "}"
    assert list(problem(send(client, "POST", GIFTS, at_limit), 422)["errors"]) == [
        "notes"
    ]
    beyond = '{"name": "a", "notes": ' + nested(MAX_DEPTH) + "}"
    problem(send(client, "POST", GIFTS, beyond), 400)


@pytest.mark.parametrize(
    ("raw", "deeper"),
    [
        (b"[]", False),
        (b'["[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["]', False),  # in a string
        (b'["\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["]', False),  # escaped quote
        (b"[" * 33 + b"]" * 33, True),
        (b"[{" * 16 + b"}]" * 16, False),
        (b"[{" * 16 + b"[]" + b"}]" * 16, True),
        (b"[" * 40, False),  # unbalanced: the parser reports it
    ],
)
def test_nesting_depth_counts_brackets_outside_strings(
    raw: bytes, deeper: bool
) -> None:
    assert nesting_depth_exceeds(raw) is deeper


@pytest.mark.parametrize(
    ("field", "digits"), [("quantity", 5000), ("quantity", 40), ("price", 5000)]
)
def test_huge_integers_are_a_422_naming_the_field(
    client: FlaskClient, gift: dict[str, Any], field: str, digits: int
) -> None:
    number = "9" * digits
    body = f'{{"name": "a", "{field}": {number}}}'
    assert list(problem(send(client, "POST", GIFTS, body), 422)["errors"]) == [field]
    url = f"{GIFTS}/{gift['id']}"
    body = f'{{"{field}": -{number}}}'
    assert list(problem(send(client, "PATCH", url, body), 422)["errors"]) == [field]
    unchanged(client, gift)


def test_huge_bulk_ids_are_a_422(client: FlaskClient, gift: dict[str, Any]) -> None:
    body = '{"ids": [%s], "changes": {"notes": "x"}}' % ("9" * 5000)
    assert list(problem(send(client, "PATCH", GIFTS, body), 422)["errors"]) == ["ids"]
    unchanged(client, gift)


def test_half_a_million_ids_are_refused_before_each_is_checked(
    client: FlaskClient, gift: dict[str, Any]
) -> None:
    """Refused by length first: the answer names the length rule only."""
    ids = ",".join(["1"] * 500_000)
    body = f'{{"ids": [{ids}], "changes": {{"notes": "x"}}}}'
    started = time.perf_counter()
    errors = problem(send(client, "PATCH", GIFTS, body), 422)["errors"]
    elapsed = time.perf_counter() - started
    assert errors == {"ids": ["Length must be between 1 and 100."]}
    print(f"half a million ids refused in {elapsed:.3f} s")
    unchanged(client, gift)


class Contents(bytes):
    """What a forged cursor holds, sealed with the server's own key in the
    test: the checks behind the seal are what is tried (a leaked key)."""


def cursor(raw: bytes | list[Any]) -> Contents:
    if isinstance(raw, list):
        raw = json.dumps(raw).encode()
    return Contents(raw)


def sealed(app: Flask, purpose: bytes, forged: str | Contents) -> str:
    if not isinstance(forged, Contents):
        return forged
    with app.app_context():
        return sealing.sealer().seal(purpose, forged)


FORGED = [
    ("price_asc", cursor(["price_asc", "1e999999999", 1])),
    ("price_asc", cursor(["price_asc", "NaN", 1])),
    ("price_asc", cursor(["price_asc", "sNaN", 1])),
    ("price_asc", cursor(["price_asc", "-Infinity", 1])),
    ("price_asc", cursor(["price_asc", "-1", 1])),
    ("price_desc", cursor(["price_desc", "1" * 100, 1])),
    ("price_asc", cursor(["price_asc", 1.5, True])),
    ("recent", cursor(["recent", None, 10**30])),
    ("recent", cursor(["recent", None, 0])),
    ("recent", cursor(["recent", "x", 1])),
    ("recent", cursor(b'["recent", null, ' + b"9" * 5000 + b"]")),
    ("recent", cursor(b'["recent", ' + nested(5000).encode() + b", 1]")),
    ("recent", cursor(b'["recent", null, NaN]')),
    ("recent", cursor(b'{"sort": "recent", "key": null, "id": 1}')),
    ("recent", cursor(b'["recent", null, 1, 2]')),
    ("recent", cursor(b"\xff\xfe")),
    ("name", cursor(["name", "a\x00", 1])),
    ("name", cursor(["name", "\ud800", 1])),
    ("name", cursor(["name", "a" * 256, 1])),
    ("name", cursor(["name", None, 1])),
    ("name", cursor(["name", "a", -1])),
    ("name", cursor(["price_asc", "1", 1])),
    ("recent", "A" * 5000),
]


@pytest.mark.parametrize(("sort", "forged"), FORGED)
def test_a_forged_cursor_is_a_422(
    app: Flask, client: FlaskClient, gift: dict[str, Any], sort: str, forged: Any
) -> None:
    forged = sealed(app, cursors.PURPOSE, forged)
    response = client.get(GIFTS, query_string={"sort": sort, "cursor": forged})
    assert list(problem(response, 422)["errors"]) == ["cursor"]


@pytest.mark.parametrize("sort", ["recent", "price_asc", "price_desc", "name"])
def test_cursors_this_service_hands_out_still_work(
    client: FlaskClient, make_gift: MakeGift, sort: str
) -> None:
    names = ["Ünïcode 🎁 " + "x" * 240, "plain", 'quote " and \\']
    for index, name in enumerate(names):
        make_gift(name=name, price=[None, 99999999.99, 0.01][index])
    seen = []
    query: dict[str, Any] = {"sort": sort, "limit": 1}
    while True:
        page = client.get(GIFTS, query_string=query).get_json()
        seen += [item["name"] for item in page["items"]]
        if not page["has_more"]:
            break
        query["cursor"] = page["next_cursor"]
    assert sorted(seen) == sorted(names)


# People and lists: the same classes, through the same parser and checks. ----

NAME_LISTINGS = ("/api/v1/people", "/api/v1/lists")
FORGED_NAME_CURSORS = [
    cursor(["a", 10**30]),
    cursor(["a", 0]),
    cursor(["a", True]),
    cursor([None, 1]),
    cursor(["a\x00", 1]),
    cursor(["\ud800", 1]),
    cursor(["a" * 256, 1]),
    cursor(["a", 1, 2]),
    cursor(b'["a", ' + b"9" * 5000 + b"]"),
    cursor(b'["a", ' + nested(5000).encode() + b"]"),
    cursor(b'["a", NaN]'),
    cursor(b"\xff\xfe"),
    "A" * 5000,
]


@pytest.mark.parametrize("listing", NAME_LISTINGS)
@pytest.mark.parametrize("forged", FORGED_NAME_CURSORS)
def test_a_forged_cursor_of_people_or_lists_is_a_422(
    app: Flask, client: FlaskClient, listing: str, forged: Any
) -> None:
    forged = sealed(app, keyset.PURPOSE, forged)
    response = client.get(listing, query_string={"cursor": forged})
    assert list(problem(response, 422)["errors"]) == ["cursor"]


@pytest.mark.parametrize("listing", NAME_LISTINGS)
def test_cursors_of_people_and_lists_still_work(
    client: FlaskClient, listing: str
) -> None:
    names = ["Ünïcode 🎁 " + "x" * 60, "plain", 'quote " and \\']
    for name in names:
        assert client.post(listing, json={"name": name}).status_code == 201
    seen = []
    query: dict[str, Any] = {"limit": 1}
    while True:
        page = client.get(listing, query_string=query).get_json()
        seen += [item["name"] for item in page["items"]]
        if not page["has_more"]:
            break
        query["cursor"] = page["next_cursor"]
    assert seen == sorted(names)


@pytest.mark.parametrize("listing", NAME_LISTINGS)
def test_if_match_star_on_a_missing_person_or_list_is_a_412(
    client: FlaskClient, listing: str
) -> None:
    url = f"{listing}/{2**31 - 1}"
    star = {"If-Match": "*"}
    problem(client.patch(url, json={"name": "x"}, headers=star), 412)
    problem(client.delete(url, headers=star), 412)
    assert client.patch(url, json={"name": "x"}).status_code == 404  # no condition
    made = client.post(listing, json={"name": "Real"}).get_json()
    changed = client.patch(f"{listing}/{made['id']}", json={"name": "R"}, headers=star)
    assert changed.status_code == 200


@pytest.mark.parametrize(
    ("method", "url", "template"),
    [
        ("POST", GIFTS, '{"name": "x", "recipient_ids": [%s]}'),
        ("POST", GIFTS, '{"name": "x", "list_ids": [%s]}'),
        ("PATCH", GIFTS, '{"ids": [1], "changes": {"add_list_ids": [%s]}}'),
        ("POST", "/api/v1/lists", '{"name": "x", "gift_ids": [%s]}'),
    ],
)
def test_a_flood_of_link_ids_is_refused_before_each_is_checked(
    client: FlaskClient, method: str, url: str, template: str
) -> None:
    # Not one of them an id: checked one by one, each would be named.
    body = template % ",".join(['"x"'] * 200_000)  # within the 1 MiB
    errors = problem(send(client, method, url, body), 422)["errors"]
    messages = json.dumps(errors)
    assert "Longer than maximum length 100." in messages
    assert "Not a valid integer" not in messages
    huge = template % ("9" * 5000)
    problem(send(client, method, url, huge), 422)


@pytest.mark.parametrize("url", [GIFTS, f"{GIFTS}/summary"])
@pytest.mark.parametrize("name", ["person_ids", "list_ids"])
def test_listing_filters_take_at_most_100_ids_like_a_body(
    client: FlaskClient, url: str, name: str
) -> None:
    ids = "&".join(f"{name}={n}" for n in range(1, 101))
    assert client.get(f"{url}?{ids}").status_code == 200
    response = client.get(f"{url}?{ids}&{name}=101")
    errors = problem(response, 422)["errors"]
    assert errors == {name: ["Longer than maximum length 100."]}

"""Listing cursors carry no readable gift data (issue 17): sealed with
AES-GCM under the server's key, the same in every worker and after a
restart; one forged, altered, cut or sealed with another key is a 422."""

from __future__ import annotations

import base64
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import sealing
from app.config import ConfigError
from app.gifts.schemas import MAX_CURSOR
from tests.conftest import dispose, make_app
from tests.serving import Service, gunicorn

GIFTS = "/api/v1/gifts"


def raw(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


def next_cursor(client: FlaskClient, url: str, **query: Any) -> str:
    page = client.get(url, query_string={"limit": 1, **query}).get_json()
    assert page["has_more"], page
    cursor: str = page["next_cursor"]
    return cursor


@pytest.mark.parametrize(
    ("sort", "shown"),
    [("name", [b"SECRET", b"Santa", b"bike"]), ("price_desc", [b"300", b"299"])],
)
def test_a_gift_cursor_shows_neither_name_nor_price(
    client: FlaskClient, make_gift: Any, sort: str, shown: list[bytes]
) -> None:
    make_gift(name="SECRET Santa bike", price=300)
    make_gift(name="Socks", price=299.99)
    cursor = next_cursor(client, GIFTS, sort=sort)
    assert not any(part.lower() in raw(cursor).lower() for part in shown)
    assert cursor != next_cursor(client, GIFTS, sort=sort)  # not even equality
    rest = client.get(GIFTS, query_string={"sort": sort, "cursor": cursor})
    assert rest.status_code == 200 and len(rest.get_json()["items"]) == 1


@pytest.mark.parametrize("listing", ["/api/v1/people", "/api/v1/lists"])
def test_a_people_or_lists_cursor_shows_no_name(
    client: FlaskClient, listing: str
) -> None:
    for name in ("Grandma Secret", "Zed"):
        assert client.post(listing, json={"name": name}).status_code == 201
    cursor = next_cursor(client, listing)
    assert b"grandma" not in raw(cursor).lower()
    page = client.get(listing, query_string={"cursor": cursor}).get_json()
    assert [item["name"] for item in page["items"]] == ["Zed"]


def test_a_cursor_sealed_with_another_key_is_a_422(
    database_url_for_tests: str,
    client: FlaskClient,
    make_gift: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_gift(name="a")
    make_gift(name="b")
    cursor = next_cursor(client, GIFTS, sort="name")
    monkeypatch.setenv("CURSOR_KEY", "another server's key, 32 characters or more")
    other = make_app(database_url_for_tests)
    try:
        with other.app_context():
            forged = sealing.sealer().seal(b"gift listing", raw_contents(client))
    finally:
        dispose(other)
    # The first character changed: to "x", or to "y" where it was an "x"
    # already (then "x" + the rest was the cursor itself: 1 run in 64).
    changed = ("y" if cursor.startswith("x") else "x") + cursor[1:]
    for bad in (forged, cursor[:-4], cursor[:20], changed, cursor + "A"):
        response = client.get(GIFTS, query_string={"sort": "name", "cursor": bad})
        assert response.status_code == 422, bad
        assert response.get_json()["errors"] == {
            "cursor": ["Not a cursor of this listing."]
        }


def raw_contents(client: FlaskClient) -> bytes:
    first = client.get(GIFTS, query_string={"sort": "name", "limit": 1}).get_json()
    return f'["name","a",{first["items"][0]["id"]}]'.encode()


def test_apps_given_one_cursor_key_read_each_others_cursors(
    database_url_for_tests: str,
    app: Flask,
    parent_token: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As two hosts do with the same CURSOR_KEY."""
    monkeypatch.setenv("CURSOR_KEY", "one key for every host of the family, 32+")
    first, second = make_app(database_url_for_tests), make_app(database_url_for_tests)
    try:
        one = first.test_client()
        one.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {parent_token}"
        for name in ("a", "b"):
            assert one.post(GIFTS, json={"name": name}).status_code == 201
        cursor = next_cursor(one, GIFTS, sort="name")
        other = second.test_client()
        other.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {parent_token}"
        page = other.get(GIFTS, query_string={"sort": "name", "cursor": cursor})
        assert [gift["name"] for gift in page.get_json()["items"]] == ["b"]
    finally:
        dispose(first)
        dispose(second)


def test_a_short_cursor_key_stops_the_start(
    database_url_for_tests: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CURSOR_KEY", "secret")
    with pytest.raises(ConfigError, match="CURSOR_KEY has 6 characters"):
        make_app(database_url_for_tests)


def test_the_key_file_is_made_once_owner_only_and_checked(tmp_path: Path) -> None:
    folder = tmp_path / "instance"
    key = sealing._key_file(folder)
    path = folder / sealing.KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert len(key) == 32 and sealing._key_file(folder) == key  # read, not remade
    assert list(folder.iterdir()) == [path]  # no temporary file left
    path.write_bytes(b"short")
    with pytest.raises(ConfigError, match="holds 5 bytes"):
        sealing._key_file(folder)


def test_the_longest_cursor_is_the_documented_maximum(
    client: FlaskClient, make_gift: Any
) -> None:
    """255 characters JSON writes as 6 bytes each: the worst case, but for
    an id of 10 digits (2**31 - 1) in MAX_CURSOR."""
    gift_id = make_gift(name="\x01" * 255)["id"]
    make_gift(name="\x02")
    cursor = next_cursor(client, GIFTS, sort="name")
    digits_short = len(str(2**31 - 1)) - len(str(gift_id))
    assert len(cursor) == sealing.sealed_length(len(f'["name","",{gift_id}]') + 255 * 6)
    assert MAX_CURSOR == sealing.sealed_length(
        len(f'["name","",{gift_id}]') + 255 * 6 + digits_short
    )


# Served: every worker and a restart read the cursors. -----------------------


@pytest.fixture
def two_workers(empty_database_url: str, tmp_path: Path) -> Iterator[Service]:
    with gunicorn(
        empty_database_url, tmp_path / "gunicorn.log", WEB_CONCURRENCY="2"
    ) as running:
        yield running


def pages(served: Service, query: str) -> tuple[list[str], list[str]]:
    """Every gift's name, one page a connection (so workers take turns)."""
    names, cursors, cursor = [], [], ""
    while True:
        reply = served.request("GET", f"{GIFTS}?limit=1&{query}{cursor}")
        assert reply.status == 200, reply.body
        names += [gift["name"] for gift in reply.body["items"]]
        if not reply.body["has_more"]:
            return names, cursors
        cursors.append(reply.body["next_cursor"])
        cursor = f"&cursor={reply.body['next_cursor']}"


@pytest.mark.slow
def test_cursors_work_on_every_worker_and_after_a_restart(
    two_workers: Service, tmp_path: Path
) -> None:
    made = ["\x01" * 255, *(f"gift {n:02}" for n in range(12))]
    for name in made:
        assert two_workers.request("POST", GIFTS, {"name": name}).status == 201
    names, cursors = pages(two_workers, "sort=name")
    assert names == sorted(made)
    # The longest cursor, with the rest of a listing's request line, is
    # within what gunicorn accepts (no 414).
    assert MAX_CURSOR - 12 <= len(cursors[0]) <= MAX_CURSOR  # but the id's digits
    longest = f"sort=name&limit=100&cursor={cursors[0]}"
    assert two_workers.request("GET", f"{GIFTS}?{longest}").status == 200
    # A restart (the same instance folder, so the same key): an old cursor
    # is still read, on a new database with the same gifts. Ids are random,
    # so the gift named as the cursor's may fall on either side of its id.
    with gunicorn(
        f"sqlite:///{tmp_path / 'again.db'}", tmp_path / "again.log"
    ) as again:
        for name in made:
            assert again.request("POST", GIFTS, {"name": name}).status == 201
        reply = again.request("GET", f"{GIFTS}?sort=name&limit=1&cursor={cursors[5]}")
        assert reply.status == 200
        assert [gift["name"] for gift in reply.body["items"]] in (
            [names[5]],
            [names[6]],
        )

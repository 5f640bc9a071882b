"""Strong ETags, If-None-Match and If-Match on single-gift requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

GIFTS = "/api/v1/gifts"
MakeGift = Callable[..., dict[str, Any]]


def etag_of(client: FlaskClient, gift_id: int) -> str:
    return client.get(f"{GIFTS}/{gift_id}").headers["ETag"]


def test_every_single_gift_response_has_a_strong_etag_that_changes_with_it(
    client: FlaskClient,
) -> None:
    created = client.post(GIFTS, json={"name": "Kite"})
    url = created.headers["Location"]
    read = client.get(url)
    changed = client.patch(url, json={"from_santa": True})
    unchanged = client.patch(url, json={})

    tags = [r.headers["ETag"] for r in (created, read, changed, unchanged)]
    assert all(tag.startswith('"') for tag in tags)  # strong, not W/"..."
    assert tags[0] == tags[1] != tags[2] == tags[3]


def test_if_none_match_answers_304_until_the_gift_changes(
    client: FlaskClient, make_gift: MakeGift
) -> None:
    gift = make_gift()
    url = f"{GIFTS}/{gift['id']}"
    tag = etag_of(client, gift["id"])

    not_modified = client.get(url, headers={"If-None-Match": tag})
    client.patch(url, json={"notes": "wrap it"})
    modified = client.get(url, headers={"If-None-Match": tag})

    assert (not_modified.status_code, not_modified.get_data()) == (304, b"")
    assert not_modified.headers["ETag"] == tag
    assert modified.status_code == 200
    assert modified.get_json()["notes"] == "wrap it"


def test_patch_with_a_current_if_match_proceeds(
    client: FlaskClient, make_gift: MakeGift
) -> None:
    gift = make_gift()

    response = client.patch(
        f"{GIFTS}/{gift['id']}",
        json={"price": 9.99},
        headers={"If-Match": etag_of(client, gift["id"])},
    )

    assert response.status_code == 200
    assert response.get_json()["price"] == 9.99


def test_patch_with_a_stale_if_match_is_a_412_and_changes_nothing(
    client: FlaskClient, make_gift: MakeGift
) -> None:
    gift = make_gift()
    url = f"{GIFTS}/{gift['id']}"
    stale = etag_of(client, gift["id"])
    current = client.patch(url, json={"status": "selected"}).get_json()

    for changes in ({"from_santa": True}, {}):
        response = client.patch(url, json=changes, headers={"If-Match": stale})
        assert response.status_code == 412
        assert response.headers["Content-Type"] == "application/problem+json"
    assert client.get(url).get_json() == current


def test_a_weak_or_foreign_etag_never_matches(
    client: FlaskClient, make_gift: MakeGift
) -> None:
    gift, other = make_gift(), make_gift()
    url = f"{GIFTS}/{gift['id']}"
    tag = etag_of(client, gift["id"])

    for header in (f"W/{tag}", etag_of(client, other["id"]), '"garbage"'):
        response = client.patch(url, json={"notes": "x"}, headers={"If-Match": header})
        assert response.status_code == 412


def test_if_match_star_needs_an_existing_gift(
    client: FlaskClient, make_gift: MakeGift
) -> None:
    """RFC 9110 section 13.1.1: "*" is false when there is no gift: 412."""
    gift = make_gift()
    star = {"If-Match": "*"}

    ok = client.patch(f"{GIFTS}/{gift['id']}", json={"notes": "x"}, headers=star)
    missing = [
        client.patch(f"{GIFTS}/999", json={"notes": "x"}, headers=star),
        client.patch(f"{GIFTS}/999", json={}, headers=star),
        client.delete(f"{GIFTS}/999", headers=star),
    ]

    assert ok.status_code == 200
    assert [r.status_code for r in missing] == [412, 412, 412]
    assert client.get(f"{GIFTS}/999").status_code == 404


@pytest.mark.parametrize(
    "tag",
    [
        "1-" + "9" * 5000,  # thousands of digits
        "1-\u0661-1",  # Arabic-Indic digit one
        "1-\u00b2-1",  # superscript two
        "1-1",  # the format before updated_at joined the tag
        "1-1-" + "9" * 18,  # past year 9999
        "1-01-1",
        " 1-1-1",
    ],
)
def test_an_etag_this_service_never_issued_is_a_412(
    client: FlaskClient, make_gift: MakeGift, tag: str
) -> None:
    gift = make_gift()
    url = f"{GIFTS}/{gift['id']}"
    header = f'"{tag}"'.encode().decode("latin-1")  # as the bytes reach WSGI

    for response in (
        client.patch(url, json={"notes": "x"}, headers={"If-Match": header}),
        client.delete(url, headers={"If-Match": header}),
        client.get(url, headers={"If-None-Match": header}),
    ):
        assert response.status_code in (200, 412), response.get_json()
        if response.request.method != "GET":
            assert response.status_code == 412
    assert client.get(url).get_json() == gift


def test_delete_with_a_stale_if_match_is_a_412_and_keeps_the_gift(
    client: FlaskClient, make_gift: MakeGift
) -> None:
    gift = make_gift()
    url = f"{GIFTS}/{gift['id']}"
    stale = etag_of(client, gift["id"])
    client.patch(url, json={"from_santa": True})

    refused = client.delete(url, headers={"If-Match": stale})
    assert refused.status_code == 412
    assert client.get(url).status_code == 200

    deleted = client.delete(url, headers={"If-Match": etag_of(client, gift["id"])})
    assert deleted.status_code == 204
    assert client.get(url).status_code == 404


def test_if_match_on_a_missing_gift_is_a_404(client: FlaskClient) -> None:
    response = client.delete(f"{GIFTS}/999", headers={"If-Match": '"999-1"'})

    assert response.status_code == 404

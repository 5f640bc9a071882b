"""Every error is a problem document (RFC 9457), whatever raised it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import ClientResponse, client_with_token, make_app

GIFTS = "/api/v1/gifts"
PROBLEM_JSON = "application/problem+json"


def expect_problem(response: Any, status: int, title: str, detail: str) -> None:
    assert response.status_code == status
    assert response.headers["Content-Type"] == PROBLEM_JSON
    assert response.get_json() == {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }


@pytest.mark.parametrize("body", [b'{"name": "Kite",', b"", b"  ", b'{"name": "\xff"}'])
@pytest.mark.parametrize("method", ["post", "patch"])
def test_a_body_that_is_not_json_text_is_a_400(
    client: FlaskClient, make_gift: Callable[..., Any], method: str, body: bytes
) -> None:
    gift = make_gift(name="Kite")
    url = GIFTS if method == "post" else f"{GIFTS}/{gift['id']}"

    response = getattr(client, method)(url, data=body, content_type="application/json")

    expect_problem(response, 400, "Bad Request", "The request body is not valid JSON.")
    assert client.get(GIFTS).get_json()["items"] == [gift]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", None]
)
def test_a_body_that_is_not_json_is_a_415(
    client: FlaskClient, content_type: str | None
) -> None:
    response = client.post(GIFTS, data='{"name": "Kite"}', content_type=content_type)

    expect_problem(
        response,
        415,
        "Unsupported Media Type",
        "The request body must be application/json.",
    )
    assert client.get(GIFTS).get_json()["items"] == []


def test_json_with_a_charset_is_accepted(client: FlaskClient) -> None:
    response = client.post(
        GIFTS, data='{"name": "Kite"}', content_type="application/json; charset=utf-8"
    )

    assert response.status_code == 201


def test_a_body_over_the_limit_is_a_413(app: Flask, parent_token: str) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 100
    client = client_with_token(app, parent_token)

    response = client.post(GIFTS, json={"name": "Kite", "notes": "x" * 200})

    expect_problem(
        response,
        413,
        "Content Too Large",
        "The request body is larger than the limit.",
    )


def test_an_unknown_route_is_a_404(client: FlaskClient) -> None:
    response = client.post("/api/v1/presents", data="x", content_type="text/plain")

    expect_problem(response, 404, "Not Found", "The requested resource does not exist.")


def test_a_wrong_method_is_a_405_with_allow(client: FlaskClient) -> None:
    response = client.put(f"{GIFTS}/1", json={"name": "Kite"})

    expect_problem(
        response,
        405,
        "Method Not Allowed",
        "The method is not allowed for the requested URL.",
    )
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "PATCH", "DELETE"}


def test_a_crash_is_a_500_without_a_stack_trace_and_is_logged(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    def explode() -> None:
        raise RuntimeError("secret internals")

    app.add_url_rule("/explode", view_func=explode)
    client = FlaskClient(app, ClientResponse)

    with caplog.at_level(logging.ERROR):
        response = client.get("/explode", headers={"X-Request-ID": "req-42"})

    assert response.status_code == 500
    assert response.headers["Content-Type"] == PROBLEM_JSON
    assert response.get_json() == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "The server hit an unexpected error.",
        "request_id": "req-42",
    }
    assert "secret internals" not in response.get_data(as_text=True)
    assert "req-42" in caplog.text and "secret internals" in caplog.text


@pytest.mark.parametrize("given", ["two words", "x" * 129, "a\tb", "ünïcode"])
def test_a_request_id_that_is_not_a_plain_token_is_replaced(
    client: FlaskClient, given: str
) -> None:
    response = client.get(GIFTS, headers={"X-Request-ID": given})

    assert response.headers["X-Request-ID"] != given
    assert len(response.headers["X-Request-ID"]) == 32


def test_every_response_carries_a_request_id(client: FlaskClient) -> None:
    assert (
        client.get(GIFTS, headers={"X-Request-ID": "abc"}).headers["X-Request-ID"]
        == "abc"
    )
    assert len(client.get(GIFTS).headers["X-Request-ID"]) == 32


@pytest.fixture
def unreachable_client(tmp_path: Any) -> FlaskClient:
    app = make_app(f"sqlite:///{tmp_path}/missing/dir/gifts.db")
    # Well-formed, so checking it needs the database.
    return client_with_token(app, "A" * 43)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get(f"{GIFTS}/1"),
        lambda c: c.get(GIFTS),
        lambda c: c.post(GIFTS, json={"name": "Kite"}),
    ],
)
def test_an_unreachable_database_is_a_503(
    unreachable_client: FlaskClient, call: Callable[[FlaskClient], Any]
) -> None:
    response = call(unreachable_client)

    assert response.status_code == 503
    assert response.headers["Content-Type"] == PROBLEM_JSON
    assert response.headers["Retry-After"] == "5"
    assert response.get_json()["detail"] == "The database is unavailable."

"""Cross-origin use and the headers on every response (API.md "Cross-origin
use", "Headers on every response")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.config import ConfigError
from tests.conftest import client_with_token, dispose, make_app

GIFTS = "/api/v1/gifts"
DASHBOARD = "http://127.0.0.1:5173"


@pytest.fixture
def cors_app(
    database_url_for_tests: str, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    """The app with two dashboard origins allowed (``app`` empties the tables)."""
    monkeypatch.setenv("CORS_ORIGINS", f"{DASHBOARD}, https://family.example")
    cors_app = make_app(database_url_for_tests)
    yield cors_app
    dispose(cors_app)


def preflight(client: FlaskClient, origin: str, method: str, headers: str) -> Any:
    return client.options(
        f"{GIFTS}/1",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "PUT", "DELETE"])
def test_a_preflight_from_an_allowed_origin_succeeds(
    cors_app: Flask, method: str
) -> None:
    client = client_with_token(cors_app, None)  # preflights carry no token
    asked = "authorization, content-type, if-match, if-none-match, x-request-id"
    response = preflight(client, DASHBOARD, method, asked)

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == DASHBOARD
    allowed = response.headers["Access-Control-Allow-Methods"].split(", ")
    assert method in allowed
    allowed_headers = response.headers["Access-Control-Allow-Headers"].lower()
    assert set(allowed_headers.split(", ")) == set(asked.split(", "))
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Origin" in response.headers["Vary"]


def test_an_answer_to_an_allowed_origin_exposes_the_headers_a_client_reads(
    cors_app: Flask, parent_token: str
) -> None:
    client = client_with_token(cors_app, parent_token)
    response = client.post(GIFTS, json={"name": "Kite"}, headers={"Origin": DASHBOARD})
    assert response.status_code == 201
    assert response.headers["Access-Control-Allow-Origin"] == DASHBOARD
    exposed = response.headers["Access-Control-Expose-Headers"].split(", ")
    assert set(exposed) == {"ETag", "Location", "X-Request-ID", "Retry-After"}
    refused = client_with_token(cors_app, None).get(
        GIFTS, headers={"Origin": DASHBOARD}
    )
    assert refused.status_code == 401  # errors, too, readable by the dashboard
    assert refused.headers["Access-Control-Allow-Origin"] == DASHBOARD


def test_another_origin_gets_no_cors_headers(
    cors_app: Flask, parent_token: str
) -> None:
    client = client_with_token(cors_app, parent_token)
    for response in (
        preflight(client, "http://evil.example", "PATCH", "authorization"),
        client.get(GIFTS, headers={"Origin": "http://evil.example"}),
    ):
        assert not [
            h for h in response.headers.keys() if h.startswith("Access-Control")
        ]
        assert "Origin" in response.headers["Vary"]


def test_no_origin_is_allowed_by_default(client: FlaskClient) -> None:
    response = preflight(client, DASHBOARD, "GET", "authorization")
    assert not [h for h in response.headers.keys() if h.startswith("Access-Control")]
    get = client.get(GIFTS, headers={"Origin": DASHBOARD})
    assert get.status_code == 200
    assert "Access-Control-Allow-Origin" not in get.headers
    assert get.headers["Vary"] == "Origin"


@pytest.mark.parametrize(
    "path", ["/healthz", "/openapi.json", "/docs", GIFTS, "/api/v1/nowhere", "/x"]
)
def test_every_response_carries_the_security_headers(
    anonymous_client: FlaskClient, path: str
) -> None:
    response = anonymous_client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Request-ID"]


def test_gift_data_is_private_and_revalidated(
    client: FlaskClient, make_gift: Any
) -> None:
    gift = make_gift(name="Kite")
    url = f"{GIFTS}/{gift['id']}"
    one = client.get(url)
    responses = [
        client.post(GIFTS, json={"name": "Drum"}),
        one,
        client.get(GIFTS),
        client.patch(url, json={"notes": "x"}),
        client.patch(GIFTS, json={"ids": [gift["id"]], "changes": {}}),
        client.get(url, headers={"If-None-Match": client.get(url).headers["ETag"]}),
    ]
    assert [r.status_code for r in responses] == [201, 200, 200, 200, 200, 304]
    for response in responses:
        assert response.headers["Cache-Control"] == "private, no-cache"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("*", "CORS_ORIGINS=* is refused"),
        (f"{DASHBOARD},*", "CORS_ORIGINS=* is refused"),
        ("https://*.example", "'https://*.example' is not an origin"),
        ("https://dash.example/", "'https://dash.example/' is not an origin"),
        ("https://dash.example$", "is not an origin"),  # a pattern to flask-cors
        ("dash.example", "is not an origin"),
        ("file://x", "is not an origin"),
    ],
)
def test_an_origin_setting_that_is_no_origin_stops_the_start(
    database_url_for_tests: str,
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    message: str,
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", setting)
    with pytest.raises(ConfigError, match=re.escape(message)):
        make_app(database_url_for_tests)

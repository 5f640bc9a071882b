"""Sign-in over HTTP (API.md "Members and access"): sessions, the current
member, and the throttle on failed sign-ins."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.access import accounts, passwords
from app.extensions import db
from app.models import SignInFailure
from tests.conftest import client_with_token

SESSIONS = "/api/v1/sessions"
ME = "/api/v1/members/me"
GIFTS = "/api/v1/gifts"
PASSWORD = "correct horse battery"
FAILED = {
    "type": "about:blank",
    "title": "Unauthorized",
    "status": 401,
    "detail": "The login or the password is wrong.",
}


@pytest.fixture
def mum(app: Flask) -> int:
    with app.app_context():
        return accounts.add_member("Mum", "parent", "Mum@Example.org", PASSWORD).id


def sign_in(client: FlaskClient, login: str, password: str = PASSWORD) -> Any:
    return client.post(SESSIONS, json={"login": login, "password": password})


@pytest.mark.parametrize("login", ["Mum", "Mum@Example.org", "mum@example.ORG"])
def test_sign_in_by_name_or_email_gives_a_working_token(
    anonymous_client: FlaskClient, app: Flask, mum: int, login: str
) -> None:
    before = dt.datetime.now(dt.UTC)
    response = sign_in(anonymous_client, login)

    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"token", "expires_at", "member"}
    member = {"id": mum, "name": "Mum", "role": "parent", "person_id": None}
    assert body["member"] == member
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert dt.timedelta(days=30) <= expires - before < dt.timedelta(days=30, minutes=1)
    signed_in = client_with_token(app, body["token"])
    me = signed_in.get(ME)
    assert me.status_code == 200
    assert me.get_json() == member
    assert signed_in.get(GIFTS).status_code == 200


def test_session_days_come_from_the_settings(
    app: Flask, anonymous_client: FlaskClient, mum: int
) -> None:
    app.config["SESSION_DAYS"] = 2
    body = sign_in(anonymous_client, "Mum").get_json()
    expires = dt.datetime.fromisoformat(body["expires_at"])
    left = expires - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=1, hours=23) < left <= dt.timedelta(days=2)


@pytest.mark.parametrize(
    ("login", "password"),
    [
        ("Mum", "wrong password"),
        ("mum", PASSWORD),  # a name matches exactly
        ("Nobody", PASSWORD),
        ("nobody@example.org", PASSWORD),
    ],
)
def test_a_failed_sign_in_is_the_same_401_whether_or_not_the_login_exists(
    anonymous_client: FlaskClient, mum: int, login: str, password: str
) -> None:
    response = sign_in(anonymous_client, login, password)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.get_json() == FAILED


def test_an_unknown_login_costs_a_password_check_too(
    anonymous_client: FlaskClient, mum: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So an unknown login answers in about the time of a wrong password."""
    checked: list[str] = []
    hasher = passwords.hasher

    class Spy:
        def verify(self, password_hash: str, password: str) -> bool:
            checked.append(password_hash)
            return hasher.verify(password_hash, password)

    monkeypatch.setattr(passwords, "hasher", Spy())
    sign_in(anonymous_client, "Nobody")
    sign_in(anonymous_client, "Mum", "wrong password")
    assert len(checked) == 2
    assert all(h.startswith("$argon2id$") for h in checked)
    assert checked[0] != checked[1]


def test_a_disabled_member_or_one_without_a_password_cannot_sign_in(
    app: Flask, anonymous_client: FlaskClient, mum: int
) -> None:
    with app.app_context():
        accounts.add_member("Kid", "child")
        accounts.disable_member("Mum")
    assert sign_in(anonymous_client, "Mum").get_json() == FAILED
    assert sign_in(anonymous_client, "Kid").get_json() == FAILED


def test_passwords_are_stored_as_argon2id_hashes(app: Flask, mum: int) -> None:
    with app.app_context():
        stored = accounts.find_member("Mum").password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize(
    "body",
    [
        {"login": "Mum"},
        {"password": PASSWORD},
        {"login": "", "password": PASSWORD},
        {"login": "Mum", "password": PASSWORD, "remember": True},
        {"login": 1, "password": PASSWORD},
        {"login": "Mum\x00", "password": PASSWORD},  # no database can compare it
        {"login": "Mum\ud800", "password": PASSWORD},
        {"login": "Mum", "password": "\ud800 is no UTF-8"},  # Argon2 cannot hash it
    ],
)
def test_a_bad_sign_in_body_is_a_422(
    anonymous_client: FlaskClient, mum: int, body: dict[str, Any]
) -> None:
    # The json module writes a lone surrogate as "\ud800", as a client would.
    text = json.dumps(body)
    response = anonymous_client.post(
        SESSIONS, data=text, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"


def test_signing_out_revokes_only_that_token(
    app: Flask, anonymous_client: FlaskClient, mum: int
) -> None:
    first = client_with_token(app, sign_in(anonymous_client, "Mum").get_json()["token"])
    second = client_with_token(
        app, sign_in(anonymous_client, "Mum").get_json()["token"]
    )
    response = first.delete(f"{SESSIONS}/current")
    assert response.status_code == 204 and response.data == b""
    assert first.get(ME).status_code == 401
    assert first.delete(f"{SESSIONS}/current").status_code == 401
    assert second.get(ME).status_code == 200


def test_a_child_sees_its_own_role(child_client: FlaskClient) -> None:
    assert child_client.get(ME).get_json()["role"] == "child"


def failures(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(SignInFailure))


def test_five_failures_throttle_the_login_even_with_the_right_password(
    app: Flask, anonymous_client: FlaskClient, mum: int
) -> None:
    spellings = ("mum@example.org", "Mum@Example.org", "MUM@example.org")
    for login in spellings + spellings[:2]:
        assert sign_in(anonymous_client, login, "wrong").status_code == 401
    for login in ("mum@example.org", "mum@EXAMPLE.org"):
        response = sign_in(anonymous_client, login)
        assert response.status_code == 429
        assert response.headers["Content-Type"] == "application/problem+json"
        assert 15 * 60 - 5 <= int(response.headers["Retry-After"]) <= 15 * 60
    assert failures(app) == 5  # a 429 is not itself a failure
    # Another login is not affected (the member's name counts on its own).
    assert sign_in(anonymous_client, "Nobody", "x").status_code == 401


def test_an_unknown_login_is_throttled_by_its_case_folded_spelling(
    anonymous_client: FlaskClient,
) -> None:
    for login in ("ghost", "Ghost", "GHOST", "ghost", "gHost"):
        assert sign_in(anonymous_client, login).status_code == 401
    assert sign_in(anonymous_client, "GhOsT").status_code == 429


def test_the_throttle_lifts_when_the_oldest_failure_is_15_minutes_old(
    app: Flask, anonymous_client: FlaskClient, mum: int
) -> None:
    for _ in range(5):
        sign_in(anonymous_client, "Mum", "wrong")
    with app.app_context():
        first = db.session.scalar(sa.select(sa.func.min(SignInFailure.id)))
        # The oldest failure now 14 min 50 s old: 10 more seconds to wait.
        db.session.execute(
            sa.update(SignInFailure)
            .where(SignInFailure.id == first)
            .values(
                failed_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=14, seconds=50)
            )
        )
        db.session.commit()
    response = sign_in(anonymous_client, "Mum")
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 10
    with app.app_context():
        db.session.execute(
            sa.update(SignInFailure)
            .where(SignInFailure.id == first)
            .values(failed_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=15))
        )
        db.session.commit()
    assert sign_in(anonymous_client, "Mum").status_code == 201


def test_a_successful_sign_in_is_not_counted(
    app: Flask, anonymous_client: FlaskClient, mum: int
) -> None:
    for _ in range(4):
        sign_in(anonymous_client, "Mum", "wrong")
    for _ in range(3):
        assert sign_in(anonymous_client, "Mum").status_code == 201
    assert failures(app) == 4


def test_a_login_that_grows_when_case_folded_is_throttled_not_a_500(
    anonymous_client: FlaskClient,
) -> None:
    login = "ß" * 254  # case-folds to 508 characters
    for _ in range(5):
        assert sign_in(anonymous_client, login).status_code == 401
    assert sign_in(anonymous_client, "\u1e9e" * 254).status_code == 429  # capital ß
    assert sign_in(anonymous_client, "ss" * 127).status_code == 401  # another login

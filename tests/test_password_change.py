"""A password change ends the member's earlier sign-in sessions (issue 17),
on this worker at once and on the others within the contract's 5 seconds;
tokens made with `flask tokens create` are not sessions and keep working."""

from __future__ import annotations

import time
from typing import Any

import pytest
from click.testing import Result
from flask import Flask

from app.access import accounts
from tests.conftest import client_with_token, dispose, make_app

SESSIONS = "/api/v1/sessions"
ME = "/api/v1/members/me"
OLD, NEW = "correct horse battery", "battery staple horse"


def flask(app: Flask, *args: str, input: str | None = None) -> Result:
    return app.test_cli_runner().invoke(args=list(args), input=input)


def sign_in(app: Flask, login: str, password: str) -> Any:
    client = client_with_token(app, None)
    return client.post(SESSIONS, json={"login": login, "password": password})


def works(app: Flask, token: str) -> bool:
    status = client_with_token(app, token).get(ME).status_code
    assert status in (200, 401)
    return status == 200


@pytest.fixture
def mum(app: Flask) -> None:
    with app.app_context():
        accounts.add_member("Mum", "parent", "mum@example.org", OLD)
        accounts.add_member("Dad", "parent", None, OLD)


def test_set_password_ends_earlier_sessions_not_cli_tokens(
    app: Flask, mum: None
) -> None:
    sessions = [sign_in(app, login, OLD).get_json()["token"] for login in ("Mum",) * 2]
    sessions.append(sign_in(app, "mum@example.org", OLD).get_json()["token"])
    dads = sign_in(app, "Dad", OLD).get_json()["token"]
    laptop = flask(app, "tokens", "create", "Mum", "--label", "laptop").stdout.strip()
    assert all(works(app, token) for token in [*sessions, dads, laptop])

    changed = flask(app, "members", "set-password", "Mum", input=f"{NEW}\n")
    assert changed.exit_code == 0, changed.stderr

    assert not any(works(app, token) for token in sessions)
    assert works(app, laptop) and works(app, dads)  # not a session; not Mum's
    assert sign_in(app, "Mum", OLD).status_code == 401
    fresh = sign_in(app, "Mum", NEW)
    assert fresh.status_code == 201 and works(app, fresh.get_json()["token"])
    listed = flask(app, "tokens", "list", "Mum").stdout.splitlines()[1:]
    revoked = [line for line in listed if line.split("\t")[-1]]
    assert len(revoked) == 3 and all("\tsession\t" in line for line in revoked)


def test_another_worker_ends_them_within_5_seconds(app: Flask, mum: None) -> None:
    """The change made by another process (the CLI): no cache of ours told."""
    token = sign_in(app, "Mum", OLD).get_json()["token"]
    assert works(app, token)  # now in this worker's cache
    elsewhere = make_app(app.config["SQLALCHEMY_DATABASE_URI"])
    assert (
        flask(elsewhere, "members", "set-password", "Mum", input=f"{NEW}\n").exit_code
        == 0
    )
    dispose(elsewhere)
    changed = time.monotonic()
    while works(app, token):
        assert time.monotonic() - changed < 5
        time.sleep(0.1)


def test_a_sign_in_checked_against_the_old_password_makes_no_token(
    app: Flask, mum: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The password changes between the check and the token: no session
    outlives the change (nor is one handed out)."""
    from app.access import routes

    verify = routes.verify_password

    def change_meanwhile(password_hash: str | None, password: str) -> bool:
        right = verify(password_hash, password)
        with app.app_context():
            accounts.set_password("Mum", NEW)
        return right

    monkeypatch.setattr(routes, "verify_password", change_meanwhile)
    response = sign_in(app, "Mum", OLD)
    assert response.status_code == 401
    with app.app_context():
        assert accounts.list_tokens("Mum") == []


def test_the_session_label_is_kept_for_sign_ins(app: Flask, mum: None) -> None:
    result = flask(app, "tokens", "create", "Mum", "--label", "session")
    assert result.exit_code != 0 and result.stdout == ""
    assert "kept for tokens from signing in" in result.stderr

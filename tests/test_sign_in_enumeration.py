"""A failed sign-in, and every answer after it, is the same whether or not
the login exists (issue 17): each attack sequence is run twice, once with the
member there and once without, and the two runs must answer alike, header
for header, under one injected clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app.access import accounts, throttle
from app.extensions import db
from app.models import Member, SignInFailure
from tests.conftest import client_with_token

SESSIONS = "/api/v1/sessions"
PASSWORD = "correct horse battery"
NOW = dt.datetime(2026, 12, 1, 20, 0, tzinfo=dt.UTC)
# What a client can tell answers apart by (X-Request-ID and Date differ anyway).
COMPARED = ("Content-Type", "WWW-Authenticate", "Retry-After", "Cache-Control")


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every failure at the same instant, so Retry-After can be compared."""
    monkeypatch.setattr(throttle, "utcnow", lambda: NOW)


def answers(app: Flask, attempts: Sequence[tuple[str, str]]) -> list[Any]:
    client = client_with_token(app, None)
    seen = []
    for login, password in attempts:
        response = client.post(SESSIONS, json={"login": login, "password": password})
        headers = {name: response.headers.get(name) for name in COMPARED}
        seen.append((response.status_code, headers, response.get_json()))
    return seen


def forget_everyone(app: Flask) -> None:
    with app.app_context():
        db.session.execute(sa.delete(SignInFailure))
        db.session.execute(sa.delete(Member))
        db.session.commit()


def with_and_without(
    app: Flask, member: dict[str, Any], attempts: Sequence[tuple[str, str]]
) -> tuple[list[Any], list[Any]]:
    """The answers to ``attempts`` with ``member`` there, then with no one."""
    with app.app_context():
        accounts.add_member(password=PASSWORD, **member)
    there = answers(app, attempts)
    forget_everyone(app)
    return there, answers(app, attempts)


def statuses(seen: list[Any]) -> list[int]:
    return [status for status, _, _ in seen]


def wrong(*logins: str) -> list[tuple[str, str]]:
    return [(login, "wrong password") for login in logins]


def test_failures_on_one_spelling_then_another_case_of_a_name(app: Flask) -> None:
    """Issue 17's first sequence: five for "tee6", then "Tee6"."""
    attempts = wrong("tee6", "tee6", "tee6", "tee6", "tee6", "Tee6", "TEE6")
    there, absent = with_and_without(app, {"name": "Tee6", "role": "child"}, attempts)
    assert there == absent
    assert statuses(there) == [401] * 5 + [429] * 2
    assert there[-1][1]["Retry-After"] == str(15 * 60)


def test_failures_on_an_email_in_any_case_then_the_name(app: Flask) -> None:
    """Issue 17's second sequence: the email's failures do not reach the name,
    which would tell that both are one member's."""
    attempts = wrong(
        "mum@example.org",
        "MUM@example.org",
        "Mum@Example.Org",
        "mum@EXAMPLE.ORG",
        "mum@example.org",
        "Mum",
        "mum@example.org",
    )
    member = {"name": "Mum", "role": "parent", "email": "Mum@Example.org"}
    there, absent = with_and_without(app, member, attempts)
    assert there == absent
    assert statuses(there) == [401] * 6 + [429]


def test_failures_on_a_name_in_any_case_then_the_email(app: Flask) -> None:
    attempts = wrong("Mum", "mum", "MUM", "Mum", "mUm", "mum@example.org", "Mum")
    member = {"name": "Mum", "role": "parent", "email": "mum@example.org"}
    there, absent = with_and_without(app, member, attempts)
    assert there == absent
    assert statuses(there) == [401] * 6 + [429]


def test_a_locked_login_answers_429_to_the_right_password_too(app: Flask) -> None:
    """Not an oracle: the right password gets the same 429 as no member."""
    attempts = [*wrong("Mum", "Mum", "Mum", "Mum", "Mum"), ("Mum", PASSWORD)]
    there, absent = with_and_without(app, {"name": "Mum", "role": "parent"}, attempts)
    assert there == absent
    assert statuses(there)[-1] == 429


@pytest.mark.parametrize(
    "member",
    [
        {"name": "Kid", "role": "child"},  # a member with no password
        {"name": "Kid", "role": "child", "disabled": True},
    ],
    ids=["no-password", "disabled"],
)
def test_a_member_who_cannot_sign_in_answers_as_no_one(
    app: Flask, member: dict[str, Any]
) -> None:
    attempts = [("Kid", PASSWORD), *wrong("kid", "KID", "Kid", "kid"), ("Kid", "x")]
    with app.app_context():
        added = accounts.add_member(member["name"], member["role"])
        if member.get("disabled"):
            accounts.disable_member(added.name)
    there = answers(app, attempts)
    forget_everyone(app)
    assert there == answers(app, attempts)
    assert statuses(there) == [401] * 5 + [429]


def test_the_member_can_still_sign_in_by_the_login_nobody_failed_on(
    app: Flask,
) -> None:
    """What the lock costs the real member: the other login still works."""
    with app.app_context():
        accounts.add_member("Mum", "parent", "mum@example.org", PASSWORD)
    answers(app, wrong(*["mum@example.org"] * 5))
    [(status, _, body)] = answers(app, [("Mum", PASSWORD)])
    assert status == 201 and body["member"]["name"] == "Mum"

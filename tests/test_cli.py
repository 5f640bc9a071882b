"""`flask members …` and `flask tokens …`: results on stdout, messages on
stderr, bad input a one-line error and a non-zero exit."""

from __future__ import annotations

import pytest
from click.testing import Result
from flask import Flask

from app.extensions import db
from tests.conftest import client_with_token, make_app

GIFTS = "/api/v1/gifts"


def flask(app: Flask, *args: str, input: str | None = None) -> Result:
    return app.test_cli_runner().invoke(args=list(args), input=input)


def fails_in_one_line(result: Result, message: str) -> None:
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_add_prints_the_id_and_list_shows_the_member(app: Flask) -> None:
    added = flask(
        app, "members", "add", "Mum", "--role", "parent", "--email", "M@x.org"
    )
    assert added.exit_code == 0, added.stderr
    assert added.stdout.strip().isdigit()
    assert "Mum" in added.stderr

    listed = flask(app, "members", "list")
    assert listed.exit_code == 0
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert rows == [
        ["id", "name", "role", "email", "password", "disabled", "person"],
        [added.stdout.strip(), "Mum", "parent", "M@x.org", "no", "no", ""],
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "uncle"], "'uncle' is not one of 'parent', 'child'"),
        (["--role", "child", "--email", "nope"], "not an email address"),
    ],
)
def test_add_refuses_bad_input(app: Flask, args: list[str], message: str) -> None:
    fails_in_one_line(flask(app, "members", "add", "Kid", *args), message)
    assert flask(app, "members", "list").stdout.count("\n") == 1  # header only


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "1 to 80 characters"), ("x" * 81, "1 to 80"), ("a@b", "may not contain '@'")],
)
def test_add_refuses_bad_names(app: Flask, name: str, message: str) -> None:
    fails_in_one_line(flask(app, "members", "add", name, "--role", "child"), message)


def test_names_and_emails_are_unique(app: Flask) -> None:
    flask(app, "members", "add", "Mum", "--role", "parent", "--email", "mum@x.org")
    again = flask(app, "members", "add", "Mum", "--role", "child")
    fails_in_one_line(again, "a member named 'Mum' already exists")
    other_case = flask(
        app, "members", "add", "Dad", "--role", "parent", "--email", "MUM@X.org"
    )
    fails_in_one_line(other_case, "another member has the email")


def test_unknown_members_and_tokens_are_one_line_errors(app: Flask) -> None:
    fails_in_one_line(flask(app, "members", "disable", "Nobody"), "no member named")
    fails_in_one_line(flask(app, "tokens", "create", "Nobody"), "no member named")
    fails_in_one_line(flask(app, "tokens", "list", "Nobody"), "no member named")
    fails_in_one_line(flask(app, "tokens", "revoke", "99"), "no token with id 99")
    fails_in_one_line(
        flask(app, "members", "set-password", "Nobody", input="password1\n"),
        "no member named",
    )


def test_a_token_works_is_listed_without_itself_and_can_be_revoked(
    app: Flask,
) -> None:
    flask(app, "members", "add", "Mum", "--role", "parent")
    made = flask(app, "tokens", "create", "Mum", "--label", "laptop", "--days", "7")
    assert made.exit_code == 0, made.stderr
    token = made.stdout.splitlines()[-1]
    assert len(token) == 43
    assert token not in made.stderr
    assert client_with_token(app, token).get(GIFTS).status_code == 200

    listed = flask(app, "tokens", "list", "Mum")
    assert token not in listed.stdout
    header, row = listed.stdout.splitlines()
    assert header.split("\t") == [
        "id",
        "member",
        "label",
        "created_at",
        "expires_at",
        "revoked_at",
    ]
    token_id, member, label, _, expires_at, revoked_at = row.split("\t")
    assert (member, label, revoked_at) == ("Mum", "laptop", "")
    assert expires_at.endswith("Z")

    revoked = flask(app, "tokens", "revoke", token_id)
    assert revoked.exit_code == 0
    assert client_with_token(app, token).get(GIFTS).status_code == 401
    assert flask(app, "tokens", "list").stdout.splitlines()[1].split("\t")[5]


@pytest.mark.parametrize("days", ["0", "-1", "x", "100000"])
def test_token_days_must_be_sensible(app: Flask, days: str) -> None:
    flask(app, "members", "add", "Mum", "--role", "parent")
    result = flask(app, "tokens", "create", "Mum", "--days", days)
    assert result.exit_code != 0 and result.stdout == ""


def test_disable_stops_the_members_tokens(app: Flask) -> None:
    flask(app, "members", "add", "Kid", "--role", "child")
    token = flask(app, "tokens", "create", "Kid").stdout.strip()
    assert client_with_token(app, token).get(GIFTS).status_code == 200
    assert flask(app, "members", "disable", "Kid").exit_code == 0
    assert client_with_token(app, token).get(GIFTS).status_code == 401
    assert flask(app, "members", "list").stdout.splitlines()[1].endswith("\tyes\t")


def test_passwords_come_from_stdin(app: Flask) -> None:
    added = flask(
        app,
        "members",
        "add",
        "Mum",
        "--role",
        "parent",
        "--password-stdin",
        input="correct horse\n",
    )
    assert added.exit_code == 0, added.stderr
    assert "\tyes\tno\t" in flask(app, "members", "list").stdout
    short = flask(app, "members", "set-password", "Mum", input="short\n")
    fails_in_one_line(short, "8 to 1024 characters")
    changed = flask(app, "members", "set-password", "Mum", input="battery staple\n")
    assert changed.exit_code == 0, changed.stderr


def test_bootstrap_makes_a_first_parent_once(app: Flask) -> None:
    first = flask(app, "members", "bootstrap")
    assert first.exit_code == 0, first.stderr
    token = first.stdout.strip()
    assert (
        "first run" in first.stderr.lower() and "Authorization: Bearer" in first.stderr
    )
    response = client_with_token(app, token).get("/api/v1/gifts")
    assert response.status_code == 200

    again = flask(app, "members", "bootstrap")
    assert again.exit_code == 0
    assert again.stdout == "" and again.stderr == ""


def test_an_unmigrated_database_is_a_one_line_error(empty_database_url: str) -> None:
    app = make_app(empty_database_url)
    fails_in_one_line(flask(app, "members", "list"), "flask db upgrade")
    with app.app_context():
        db.engine.dispose()

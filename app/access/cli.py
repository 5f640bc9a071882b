"""`flask members …` and `flask tokens …`: messages on stderr, results on stdout."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from app.access import accounts
from app.extensions import db
from app.fields import MAX_ID
from app.models import ROLES, Member


def _say(message: str) -> None:
    click.echo(message, err=True)


def _one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Bad input and database trouble end in one line and a non-zero exit."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except accounts.AccountError as error:
            raise click.ClickException(str(error)) from None
        except sa.exc.SQLAlchemyError as error:
            db.session.rollback()
            reason = str(error.orig if hasattr(error, "orig") else error)
            reason = reason.strip().splitlines()[0] if reason.strip() else "error"
            raise click.ClickException(
                f"database: {reason} (is it migrated? flask db upgrade)"
            ) from None

    return run


def _read_password(confirm: bool = True) -> str:
    """From a terminal, asked twice without echo; else the first stdin line."""
    if sys.stdin.isatty():
        password: str = click.prompt(
            "Password", hide_input=True, confirmation_prompt=confirm, err=True
        )
        return password
    return sys.stdin.readline().rstrip("\r\n")


class OneLineCommand(click.Command):
    """Bad arguments (a role not offered, --days not a number) are one line,
    like every other error here, not click's usage text."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise click.ClickException(error.format_message()) from None


class Commands(click.Group):
    command_class = OneLineCommand


members = Commands("members", help="Family members who use the service.")
tokens = Commands("tokens", help="Bearer tokens of the members.")


@members.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--email", default=None, help="Optional; unique, any case.")
@click.option(
    "--password-stdin", is_flag=True, help="Read a password (first line of stdin)."
)
@click.option(
    "--person",
    "person_id",
    type=click.IntRange(1, MAX_ID),
    default=None,
    help="The id of the person of the family this member is.",
)
@with_appcontext
@_one_line_errors
def add_member(
    name: str,
    role: str,
    email: str | None,
    password_stdin: bool,
    person_id: int | None,
) -> None:
    """Add a member; prints its id."""
    password = _read_password() if password_stdin else None
    if password_stdin and not password:
        raise click.ClickException("no password on standard input")
    member = accounts.add_member(name, role, email, password, person_id)
    person = f", person {member.person_id}" if member.person_id else ""
    _say(f"Added {member.role} {member.name!r} (id {member.id}{person}).")
    click.echo(member.id)


@members.command("list")
@with_appcontext
@_one_line_errors
def list_members() -> None:
    """List the members, tab-separated."""
    rows = accounts.list_members()
    click.echo("id\tname\trole\temail\tpassword\tdisabled\tperson")
    for m in rows:
        password = "yes" if m.password_hash else "no"
        disabled = "yes" if m.disabled else "no"
        person = "" if m.person_id is None else m.person_id
        click.echo(
            f"{m.id}\t{m.name}\t{m.role}\t{m.email or ''}\t{password}\t{disabled}"
            f"\t{person}"
        )


@members.command("disable")
@click.argument("name")
@with_appcontext
@_one_line_errors
def disable_member(name: str) -> None:
    """Disable a member: none of its tokens works any more."""
    member = accounts.disable_member(name)
    _say(f"Disabled {member.name!r}: its tokens stop working within seconds.")


@members.command("set-person")
@click.argument("name")
@click.argument("person_id", required=False, type=click.IntRange(1, MAX_ID))
@click.option("--none", "unlink", is_flag=True, help="Link to no person.")
@with_appcontext
@_one_line_errors
def set_person(name: str, person_id: int | None, unlink: bool) -> None:
    """Link a member to the person they are (PERSON_ID), or to none (--none)."""
    if (person_id is None) == (not unlink):
        raise click.ClickException("give either PERSON_ID or --none")
    member = accounts.set_person(name, person_id)
    if member.person_id is None:
        _say(f"{member.name!r} is no person now.")
    else:
        _say(f"{member.name!r} is person {member.person_id} now.")


@members.command("set-password")
@click.argument("name")
@with_appcontext
@_one_line_errors
def set_password(name: str) -> None:
    """Set a member's password (asked for, or read from stdin)."""
    accounts.find_member(name)  # an unknown name fails before the prompt
    member = accounts.set_password(name, _read_password())
    _say(f"Set the password of {member.name!r}.")


@members.command("bootstrap")
@click.option("--name", default="parent", show_default=True)
@with_appcontext
@_one_line_errors
def bootstrap(name: str) -> None:
    """On a database with no member: add a first parent and print a token."""
    if db.session.scalar(sa.select(Member.id).limit(1)) is not None:
        return
    member = accounts.add_member(name, "parent")
    _, token = accounts.create_token(member, label="first run")
    _say(
        f"First run: created the parent member {member.name!r}. Its access token "
        "follows, shown only this once; send it as 'Authorization: Bearer <token>':"
    )
    click.echo(token)


@tokens.command("create")
@click.argument("name")
@click.option(
    "--label", default=None, help="What the token is for ('session' is kept)."
)
@click.option("--days", type=int, default=None, help="Expire after N days.")
@with_appcontext
@_one_line_errors
def create_token(name: str, label: str | None, days: int | None) -> None:
    """Make a token for a member; prints it alone on the last line."""
    member = accounts.find_member(name)
    row, token = accounts.create_token(member, label, days)
    expiry = f"expires {row.expires_at:%Y-%m-%dT%H:%M:%SZ}" if days else "no expiry"
    _say(f"Token {row.id} for {member.name!r} ({expiry}); it is shown only once:")
    click.echo(token)


@tokens.command("list")
@click.argument("name", required=False)
@with_appcontext
@_one_line_errors
def list_tokens(name: str | None) -> None:
    """List tokens (never the tokens themselves), tab-separated."""
    rows = accounts.list_tokens(name)
    click.echo("id\tmember\tlabel\tcreated_at\texpires_at\trevoked_at")

    def when(value: Any) -> str:
        return "" if value is None else f"{value:%Y-%m-%dT%H:%M:%SZ}"

    for t, m in rows:
        click.echo(
            f"{t.id}\t{m.name}\t{t.label or ''}\t{when(t.created_at)}\t"
            f"{when(t.expires_at)}\t{when(t.revoked_at)}"
        )


@tokens.command("revoke")
@click.argument("token_id", metavar="ID", type=int)
@with_appcontext
@_one_line_errors
def revoke_token(token_id: int) -> None:
    """Revoke a token (by the id `flask tokens list` shows)."""
    accounts.revoke_token(token_id)
    _say(f"Revoked token {token_id}: it stops working within seconds.")

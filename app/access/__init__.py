"""Members and access: who asks (a bearer token), checked once per request."""

from __future__ import annotations

from flask import Flask

from app.access import auth, cli
from app.access.auth import CurrentMember, current_member

__all__ = ["CurrentMember", "current_member", "init_app"]


def init_app(app: Flask) -> None:
    """The per-request token check and the `flask members|tokens` commands."""
    auth.init_app(app)
    app.cli.add_command(cli.members)
    app.cli.add_command(cli.tokens)

"""Members and access: who asks (a bearer token), checked once per request."""

from __future__ import annotations

from flask import Flask

from app.access import auth, cli, gate, headers, routes
from app.access.auth import CurrentMember, current_member, current_viewer
from app.extensions import api

__all__ = ["CurrentMember", "current_member", "current_viewer", "init_app"]


def init_app(app: Flask) -> None:
    """The per-request token check, sign-in endpoints, CORS and security
    headers, and the `flask members|tokens` commands."""
    auth.init_app(app)
    gate.init_app(app)
    headers.init_app(app)
    api.register_blueprint(routes.blp, url_prefix="/api/v1")
    app.cli.add_command(cli.members)
    app.cli.add_command(cli.tokens)

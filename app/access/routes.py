"""HTTP endpoints of sign-in: /api/v1/sessions and /api/v1/members/me."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import abort

from app.access import accounts, gate, throttle
from app.access.auth import current_member, token_cache, unauthorized
from app.access.passwords import verify_password
from app.access.schemas import (
    MemberPageSchema,
    MemberSchema,
    SessionSchema,
    SignInSchema,
)
from app.errors import problem, problem_responses
from app.keyset import BadCursor, PageArgsSchema
from app.models import AccessToken, utcnow
from app.resources import ResourceBlueprint
from app.transactions import transaction

# Reads request JSON like the other resources (400 for an empty body).
blp = ResourceBlueprint(
    "access", __name__, description="Sign-in: sessions and the current member."
)
SIGN_IN_FAILED = "The login or the password is wrong."


@blp.after_request
def _no_store(response: Response) -> Response:
    """A token or a member is nothing for a cache to keep."""
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.errorhandler(throttle.Throttled)
def _throttled(error: throttle.Throttled) -> Response:
    return problem(
        429,
        "Too many failed sign-ins for this login; try again later.",
        headers={"Retry-After": str(error.retry_after)},
    )


@blp.errorhandler(gate.Busy)
def _busy(error: gate.Busy) -> Response:
    return problem(
        503,
        "Too many sign-ins at once; try again in a moment.",
        headers={"Retry-After": str(error.retry_after)},
    )


@blp.route("/sessions")
class Sessions(MethodView):
    @blp.arguments(SignInSchema())
    @blp.response(201, SessionSchema)
    @blp.problem(401, SIGN_IN_FAILED)
    @blp.problem(429, "Too many failed sign-ins (see Retry-After).")
    @blp.problem(
        503,
        "Too many sign-ins at once (the password checks a host runs together "
        "are bounded), or the database is unavailable; see Retry-After.",
    )
    @blp.doc(security=[], responses=problem_responses(400, 413, 415, 500))
    def post(self, body: dict[str, Any]) -> Any:
        """Sign in with a login and password: a new session token"""
        login, password = body["login"], body["password"]
        # A slot for the password check first: over the bound, a 503 at once,
        # before anyone is looked up (gate.py).
        with gate.gate().slot():
            return self._sign_in(login, password)

    @staticmethod
    def _sign_in(login: str, password: str) -> Any:
        member = accounts.find_login(login)
        key = throttle.login_key(login)
        with transaction() as connection:
            attempt = throttle.reserve(connection, key)
        # Checked even for an unknown login (against a dummy hash): the answer
        # takes the same time whether or not the login exists.
        password_hash = member.password_hash if member is not None else None
        right = verify_password(password_hash, password)
        if member is None or member.disabled or not right or password_hash is None:
            return unauthorized(SIGN_IN_FAILED)
        days = int(current_app.config["SESSION_DAYS"])
        with transaction() as connection:
            made = accounts.create_session(connection, member.id, password_hash, days)
            if made is not None:  # else the password changed meanwhile: a failure
                throttle.take_back(connection, attempt)
        if made is None:
            return unauthorized(SIGN_IN_FAILED)
        expires_at, token = made
        return {"token": token, "expires_at": expires_at, "member": member}


@blp.route("/sessions/current")
class CurrentSession(MethodView):
    @blp.response(204)
    @blp.doc(responses=problem_responses(500, 503))
    def delete(self) -> None:
        """Sign out: revoke the token that makes this request"""
        with transaction() as connection:  # on SQLite, in the writers' queue
            connection.execute(
                sa.update(AccessToken)
                .where(AccessToken.id == current_member().token_id)
                .values(revoked_at=utcnow())
            )
        # This worker forgets at once; the others within the cache's seconds.
        token_cache(current_app).clear()


@blp.route("/members")
class Members(MethodView):
    @blp.arguments(PageArgsSchema(), location="query", unknown="raise")
    @blp.response(200, MemberPageSchema)
    @blp.doc(responses=problem_responses(422, 500, 503))
    def get(self, args: dict[str, Any]) -> Any:
        """The family's active members by name, one page at a time"""
        try:
            items, has_more, next_cursor = accounts.member_page(
                args["limit"], args.get("cursor")
            )
        except BadCursor:
            abort(422, errors={"cursor": ["Not a cursor of this listing."]})
        return {"items": items, "has_more": has_more, "next_cursor": next_cursor}


@blp.route("/members/me")
class Me(MethodView):
    @blp.response(200, MemberSchema)
    @blp.doc(responses=problem_responses(500, 503))
    def get(self) -> Any:
        """The member this token belongs to"""
        return current_member()

"""The one problem-document shape (RFC 9457) for every error the API returns."""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import marshmallow as ma
from apispec import BasePlugin
from flask import Flask, Response, g, jsonify, request
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException, UnsupportedMediaType
from werkzeug.http import HTTP_STATUS_CODES

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# On every response, with X-Request-ID: the app's (app/access/headers.py) and
# gunicorn's own (app/server.py).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# RFC 9110's names where werkzeug still has the older ones.
TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}
DETAILS = {
    400: "The request body is not valid JSON.",
    401: "A valid bearer token is required (Authorization: Bearer <token>).",
    403: "The member's role may not do this.",
    404: "The requested resource does not exist.",
    405: "The method is not allowed for the requested URL.",
    412: "The resource has changed since you last read it.",
    413: "The request body is larger than the limit.",
    414: "The request line is longer than 4094 bytes (answered by the server).",
    415: "The request body must be application/json.",
    422: "The request is invalid.",
    429: "Too many failed sign-ins; try again after Retry-After seconds.",
    431: "A header is longer than 8190 bytes, or there are more than 100 "
    "(answered by the server).",
    500: "The server hit an unexpected error.",
    503: "The database is unavailable.",
}


# Headers that always come with these errors, for the API document.
ERROR_HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": 'Bearer, or Bearer error="invalid_token" (RFC 6750).',
            "required": True,
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds until a sign-in is accepted again.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


# gunicorn answers these itself, as problem documents (app/server.py), before
# any view runs: every operation of the document lists them.
SERVER_ANSWERS = (414, 431)


class ServerAnswersPlugin(BasePlugin):
    """apispec plugin: the server's own 414 and 431 in every operation."""

    def operation_helper(
        self,
        path: str | None = None,
        operations: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            for status in SERVER_ANSWERS:
                responses.setdefault(str(status), HTTPStatus(status).name)


class ProblemSchema(ma.Schema):
    """An error (RFC 9457 problem document); documents every error response."""

    # required: documents that every problem document carries these four.
    type = ma.fields.String(required=True, metadata={"example": "about:blank"})
    title = ma.fields.String(
        required=True, metadata={"example": "Unprocessable Content"}
    )
    status = ma.fields.Integer(required=True, metadata={"example": 422})
    detail = ma.fields.String(required=True)
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        metadata={"description": "Problems by field name."},
    )
    request_id = ma.fields.String()


def problem(
    status: int,
    detail: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem-document response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(status) or HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail or DETAILS.get(status, HTTP_STATUS_CODES.get(status, "")),
    }
    if errors:
        body["errors"] = errors
    if status >= 500:
        body["request_id"] = g.get("request_id")
    response = jsonify(body)
    response.status_code = status
    response.content_type = PROBLEM_JSON
    response.headers.extend(headers or {})
    return response


def _flatten(messages: Any) -> dict[str, Any]:
    """webargs nests errors under their location ("json", "query"): merge them."""
    if not isinstance(messages, dict):
        return {"_schema": messages}
    flat: dict[str, Any] = {}
    for location, errors in messages.items():
        if isinstance(errors, dict):
            flat.update(errors)
        else:
            flat[location] = errors
    return flat


def problem_responses(*statuses: int) -> dict[int, str]:
    """OpenAPI ``responses`` of a view: the problem documents it may answer."""
    return {status: HTTPStatus(status).name for status in statuses}


def problem_response(
    blp: Blueprint, status: int, description: str
) -> Callable[..., Any]:
    """Document an error answer peculiar to one view, as a problem document."""
    return blp.alt_response(
        status,
        schema=ProblemSchema,
        content_type=PROBLEM_JSON,
        description=description,
        headers=ERROR_HEADERS.get(status),
    )


class ProblemApi(Api):
    """flask-smorest's Api, answering every HTTP error with a problem document."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        """Name a response per status, errors as application/problem+json.

        flask-smorest refers to them (UNPROCESSABLE_ENTITY for bad arguments,
        DEFAULT_ERROR for any status a view does not list), views through
        ``problem_responses``; only those referred to appear in the document.
        """
        for status in HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["description"] = DETAILS.get(status, status.phrase)
                response["schema"] = self.ERROR_SCHEMA
                if status in ERROR_HEADERS:
                    response["headers"] = ERROR_HEADERS[status]
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        default = {
            "description": "Any other error, e.g. 405 for a method the path "
            "does not allow.",
            "schema": self.ERROR_SCHEMA,
        }
        prepare_response(default, self.spec, PROBLEM_JSON)
        self.spec.components.response(
            self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True
        )

    def _register_pagination_header(self) -> None:
        """Register no X-Pagination header (nor its PaginationMetadata schema).

        Listings page with a cursor in the body, never with flask-smorest's
        header; registered anyway, its schema would sit unused in the document.
        """

    def handle_http_exception(self, error: HTTPException) -> Response:
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        headers.update(data.get("headers") or {})
        if status == 500:
            return problem(500)
        errors = data.get("errors")
        if errors is None and "messages" in data and status == 422:
            errors = _flatten(data["messages"])
        detail = data.get("message")
        if status == 400 and "messages" in data:
            detail = DETAILS[400]
        elif detail is None and status not in DETAILS:
            detail = error.description
        return problem(status, detail, errors, headers)


def _assign_request_id() -> None:
    """The caller's X-Request-ID if it is a plain token (it goes into logs and
    headers), else a new one: random, not uuid4, as it needs no syscall and need
    not be a secret."""
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.fullmatch(given) else new_request_id()


def new_request_id() -> str:
    return f"{random.getrandbits(128):032x}"


def require_json_body() -> Response | None:
    """A write must send JSON; anything else is refused before any parsing."""
    if request.routing_exception is not None:
        return None  # an unknown route or method answers 404/405 first
    if request.method in BODY_METHODS and request.mimetype != "application/json":
        raise UnsupportedMediaType()
    return None


def _add_request_id(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    return response


def _unexpected(error: Exception) -> Response:
    log.exception("unhandled error (request %s)", g.get("request_id"))
    return problem(500)


def init_app(app: Flask) -> None:
    """Wire request ids and the catch-all handlers (create_app adds
    ``require_json_body`` after the token check)."""
    app.before_request(_assign_request_id)
    app.after_request(_add_request_id)
    app.register_error_handler(Exception, _unexpected)

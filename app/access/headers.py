"""Cross-origin use (flask-cors, for the origins in CORS_ORIGINS) and the
security headers every response carries."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_cors import CORS

from app.access.auth import API_PREFIX
from app.errors import SECURITY_HEADERS

CORS_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]
CORS_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "X-Request-ID",
]
CORS_EXPOSED_HEADERS = ["ETag", "Location", "X-Request-ID", "Retry-After"]


def _secure(response: Response) -> Response:
    headers = response.headers
    for name, value in SECURITY_HEADERS.items():
        headers[name] = value
    if request.path.startswith(API_PREFIX):
        # Answers differ by Origin (CORS headers or none): caches must not mix.
        # Most responses have no Vary yet: set it, and spare werkzeug's
        # HeaderSet (parsed, then written back) its 8 µs a request.
        if "Vary" in headers:
            response.vary.add("Origin")
        else:
            headers["Vary"] = "Origin"
    return response


def init_app(app: Flask) -> None:
    app.after_request(_secure)
    origins = app.config["CORS_ORIGINS"]
    if not origins:
        return  # no other origin is allowed: browsers keep their same-origin rule
    CORS(
        app,
        resources={f"{API_PREFIX}*": {}},
        origins=origins,
        methods=CORS_METHODS,
        allow_headers=CORS_REQUEST_HEADERS,
        expose_headers=CORS_EXPOSED_HEADERS,
        supports_credentials=False,  # bearer tokens, never cookies
        max_age=600,
    )

"""The files of the /docs page, served from the installed Swagger UI bundle.

Only what the page loads: the bundle also holds a stock index.html that
fetches an example document from another host, source maps and other builds.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, send_from_directory
from swagger_ui_bundle import swagger_ui_path

# What flask-smorest's swagger_ui.html links to.
FILES = frozenset(
    {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"}
)

blp = Blueprint("docs_files", __name__)


@blp.get("/docs/static/<name>")
def docs_file(name: str) -> Response:
    if name not in FILES:
        abort(404)
    return send_from_directory(swagger_ui_path, name, max_age=86400)

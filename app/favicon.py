"""The browser tab's icon for /docs: Swagger UI's own, served from the package."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_file
from swagger_ui_bundle import swagger_ui_path

ICON = Path(swagger_ui_path) / "favicon-32x32.png"
ONE_DAY = 24 * 60 * 60

# A plain Flask blueprint: the icon is no part of the API or its document.
blp = Blueprint("favicon", __name__)


@blp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico; the docs page names no other icon."""
    return send_file(ICON, mimetype="image/png", max_age=ONE_DAY)

"""The application factory: builds a configured Gifts API app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from swagger_ui_bundle import swagger_ui_path

from app import config, errors, health
from app.extensions import api, db, migrate
from app.gifts.routes import blp as gifts_blp
from app.json import GiftsJSONProvider


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings from the environment, then ``overrides`` (tests)."""
    # The only static files are the docs page's, from an installed package, so
    # /docs works offline (no CDN).
    app = Flask(
        __name__,
        instance_relative_config=True,
        static_folder=str(swagger_ui_path),
        static_url_path="/docs/static",
    )
    app.json_provider_class = GiftsJSONProvider
    app.json = GiftsJSONProvider(app)
    config.load(app, overrides)

    db.init_app(app)
    migrate.init_app(app, db, directory=app.config["MIGRATIONS_DIRECTORY"])
    api.init_app(app)
    api.register_blueprint(gifts_blp, url_prefix="/api/v1/gifts")
    api.register_blueprint(health.blp)
    errors.init_app(app)
    return app

"""The application factory: builds a configured Gifts API app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from app import config, errors, health
from app.extensions import api, db, migrate
from app.gifts.routes import blp as gifts_blp
from app.json import GiftsJSONProvider


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings from the environment, then ``overrides`` (tests)."""
    app = Flask(__name__, instance_relative_config=True)
    app.json_provider_class = GiftsJSONProvider
    app.json = GiftsJSONProvider(app)
    config.load(app, overrides)

    db.init_app(app)
    migrate.init_app(app, db, directory=app.config["MIGRATIONS_DIRECTORY"])
    api.init_app(app)
    api.register_blueprint(gifts_blp, url_prefix="/api/v1/gifts")
    app.register_blueprint(health.blp)
    errors.init_app(app)
    return app

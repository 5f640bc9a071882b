"""The application factory: builds a configured Gifts API app."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from inspect import iscoroutinefunction
from typing import Any

from flask import Flask

from app import (
    access,
    config,
    database,
    docs_files,
    errors,
    favicon,
    health,
    logs,
    sealing,
)
from app.access.openapi import AccessPlugin
from app.extensions import api, db, migrate
from app.gifts.cli import cli as gifts_cli
from app.gifts.routes import blp as gifts_blp
from app.json import GiftsJSONProvider
from app.lists.routes import blp as lists_blp
from app.occasions.routes import blp as occasions_blp
from app.people.routes import blp as people_blp


class GiftsFlask(Flask):
    """Flask with our JSON provider, remembering which functions are coroutines.

    Flask and each flask-smorest decorator layer ask ``ensure_sync`` about the
    view on every call; ``inspect.iscoroutinefunction`` then costs about a
    tenth of a read's time (see ``make bench``). The answer never changes.
    """

    json_provider_class = GiftsJSONProvider
    _is_coroutine: dict[Callable[..., Any], bool] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        key = getattr(func, "__func__", func)  # views are bound anew per request
        is_coroutine = self._is_coroutine.get(key)
        if is_coroutine is None:
            is_coroutine = self._is_coroutine[key] = iscoroutinefunction(func)
        return self.async_to_sync(func) if is_coroutine else func


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings from the environment, then ``overrides`` (tests)."""
    # No static folder: the docs page's files come from app.docs_files.
    app = GiftsFlask(__name__, instance_relative_config=True, static_folder=None)
    config.load(app, overrides)
    logs.configure(app)  # first: its timer starts before any other hook
    sealing.init_app(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=app.config["MIGRATIONS_DIRECTORY"])
    plugins = [AccessPlugin(), errors.ServerAnswersPlugin()]
    api.init_app(app, spec_kwargs={"extra_plugins": plugins})
    api.register_blueprint(gifts_blp, url_prefix="/api/v1/gifts")
    api.register_blueprint(people_blp, url_prefix="/api/v1/people")
    api.register_blueprint(lists_blp, url_prefix="/api/v1/lists")
    api.register_blueprint(occasions_blp, url_prefix="/api/v1/occasions")
    api.register_blueprint(health.blp)
    app.register_blueprint(docs_files.blp)
    app.register_blueprint(favicon.blp)
    # Order of the checks before a view: request id, who asks, body type.
    errors.init_app(app)
    database.init_app(app)
    access.init_app(app)
    app.before_request(errors.require_json_body)
    app.cli.add_command(gifts_cli)
    return app

"""View helpers shared by people and lists, two resources of the same shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request
from flask_smorest import Blueprint, abort
from sqlalchemy.engine import RowMapping

from app.counted import etag
from app.errors import problem
from app.gifts.cursors import BadCursor
from app.gifts.routes import revalidate, visible
from app.json import ExactJSONParser
from app.transactions import NotFound, PreconditionFailed

# A store's listing: (args, visible) -> (items, has_more, next_cursor).
Listing = Callable[[dict[str, Any], Any], tuple[list[Any], bool, str | None]]


class ResourceBlueprint(Blueprint):
    """Reads request JSON as the gifts' blueprint does (``ExactJSONParser``)."""

    ARGUMENTS_PARSER = ExactJSONParser()


def resource_blueprint(
    name: str, import_name: str, description: str, noun: str
) -> ResourceBlueprint:
    """A blueprint whose answers revalidate like gift data, with a 404 naming
    ``noun`` for a missing id and a bare 412 for a stale If-Match."""
    blp = ResourceBlueprint(name, import_name, description=description)
    blp.after_request(revalidate)

    @blp.errorhandler(NotFound)
    def _handle_not_found(error: NotFound) -> Response:
        return problem(404, f"No {noun} with this id.")

    @blp.errorhandler(PreconditionFailed)
    def _handle_precondition_failed(error: PreconditionFailed) -> Response:
        return problem(412)

    return blp


def etag_headers(row: RowMapping) -> dict[str, str]:
    """The ETag header of a person or list (a strong tag)."""
    return {"ETag": f'"{etag(row)}"'}


def page(listing: Listing, args: dict[str, Any]) -> dict[str, Any]:
    """One page of ``listing`` as the member asking sees it; a cursor of
    another listing is a 422."""
    try:
        items, has_more, next_cursor = listing(args, visible())
    except BadCursor:
        abort(422, errors={"cursor": ["Not a cursor of this listing."]})
    return {"items": items, "has_more": has_more, "next_cursor": next_cursor}


def conditional_get(row: RowMapping) -> Any:
    """``row`` with its ETag, or a bodiless 304 when If-None-Match has it."""
    headers = etag_headers(row)
    if request.if_none_match.contains_weak(etag(row)):
        return Response(status=304, headers=headers)
    return row, headers

"""What every resource's views share: a blueprint that reads exact JSON,
revalidates its answers and answers a missing row (404), a stale If-Match
(412) and ids that name nothing (422) with problem documents; the errors any
view documents; one page of a listing.

A resource passes in what is its own (its noun, its 404 for several ids).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response
from flask_smorest import Blueprint, abort

from app.conditional import revalidate
from app.errors import problem, problem_response, problem_responses
from app.json import ExactJSONParser
from app.keyset import BadCursor
from app.transactions import NotFound, PreconditionFailed, UnknownIds
from app.visibility import PARENT, Viewer

# The errors any view may answer, and those of a view that reads a JSON body.
SERVER_ERRORS = problem_responses(500, 503)
BODY_ERRORS = problem_responses(400, 413, 415, 500, 503)

# A store's listing: (args, who asks) -> (items, has_more, next_cursor).
Listing = Callable[[dict[str, Any], Any], tuple[list[Any], bool, str | None]]


def _documenting_only(decorator: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """flask-smorest's ``doc`` or ``alt_response`` decorator without its
    wrapper at request time.

    Those two only record documentation (``_apidoc``), yet each wraps the
    view in a function that calls it through ``current_app.ensure_sync``: a
    call and a context lookup per layer on every request, four layers on GET
    one gift, five on PATCH: 6-7 µs of CPU a request for GET one's four
    (timeit of the chain inside a request context, best of 7 batches of
    20 000: 6.1-7.1 µs, without them 0.02). This keeps what the library
    recorded, on the
    view itself, and drops the layer; tests/test_openapi.py checks the API
    document is the one committed, built by flask-smorest itself.
    """

    def apply(func: Any) -> Any:
        wrapper = decorator(func)
        func._apidoc = wrapper._apidoc
        return func

    return apply


class ResourceBlueprint(Blueprint):
    """Reads request JSON with exact decimals (see ``ExactJSONParser``); its
    documentation-only decorators add no layer to a request
    (``_documenting_only``)."""

    ARGUMENTS_PARSER = ExactJSONParser()

    def doc(self, **kwargs: Any) -> Callable[[Any], Any]:
        return _documenting_only(super().doc(**kwargs))

    def alt_response(self, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        return _documenting_only(super().alt_response(*args, **kwargs))

    def problem(self, status: int, description: str) -> Callable[[Any], Any]:
        """Document an error answer peculiar to one view (a problem document)."""
        return problem_response(self, status, description)


def unknown_ids_problem(error: UnknownIds) -> Response:
    """422 naming each id in the body that names nothing; nothing changed."""
    named = "; ".join(
        f"{field}: no {noun} has id {', '.join(map(str, ids))}"
        for field, (noun, ids) in error.unknown.items()
    )
    return problem(
        422,
        f"{named}; nothing was changed.",
        errors={
            field: {str(i): [f"No such {noun}."] for i in ids}
            for field, (noun, ids) in error.unknown.items()
        },
    )


def resource_blueprint(
    name: str,
    import_name: str,
    description: str,
    noun: str,
    not_found: Callable[[NotFound], Response] | None = None,
) -> ResourceBlueprint:
    """A blueprint whose answers revalidate, with a 404 naming ``noun`` for a
    missing id (or ``not_found``'s answer), a bare 412 for a stale If-Match
    and a 422 for ids in a body that name nothing."""
    blp = ResourceBlueprint(name, import_name, description=description)
    blp.after_request(revalidate)

    def _handle_not_found(error: NotFound) -> Response:
        return problem(404, f"No {noun} with this id.")

    @blp.errorhandler(PreconditionFailed)
    def _handle_precondition_failed(error: PreconditionFailed) -> Response:
        return problem(412)

    blp.errorhandler(NotFound)(not_found or _handle_not_found)
    blp.errorhandler(UnknownIds)(unknown_ids_problem)
    return blp


def page(listing: Listing, args: dict[str, Any], asker: Any) -> dict[str, Any]:
    """One page of ``listing`` as ``asker`` (what the store takes to know who
    asks) sees it; a cursor of another listing is a 422."""
    try:
        items, has_more, next_cursor = listing(args, asker)
    except BadCursor:
        abort(422, errors={"cursor": ["Not a cursor of this listing."]})
    return {"items": items, "has_more": has_more, "next_cursor": next_cursor}


def parents_only(asker: Viewer, action: str) -> None:
    """What a child may not do, whatever the row (403, decided before any
    lookup): delete a person or a list."""
    if asker.role != PARENT:
        abort(403, message=f"Only a parent may {action}.")

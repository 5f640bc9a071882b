"""HTTP endpoints of /api/v1/gifts: the views turn store results into responses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Response, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from werkzeug.datastructures import ETags

from app.access import current_member
from app.errors import problem, problem_response, problem_responses
from app.fields import MAX_ID
from app.gifts import store
from app.gifts.cursors import BadCursor
from app.gifts.schemas import (
    GiftBulkUpdateSchema,
    GiftCreateSchema,
    GiftItemsSchema,
    GiftListArgsSchema,
    GiftPageSchema,
    GiftSchema,
    GiftSummaryArgsSchema,
    GiftSummarySchema,
    GiftUpdateSchema,
)
from app.json import ExactJSONParser
from app.transactions import NotFound, PreconditionFailed, UnknownIds
from app.visibility import PARENT, visible_to


class GiftsBlueprint(Blueprint):
    """Reads request JSON with exact decimals (see ``ExactJSONParser``)."""

    ARGUMENTS_PARSER = ExactJSONParser()


blp = GiftsBlueprint("gifts", __name__, description="Gift ideas and their progress.")

IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "Change only if the gift still has this ETag (else 412).",
}
IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "Answer 304 if the gift still has this ETag.",
}
ETAG_HEADER = {"ETag": {"schema": {"type": "string"}, "description": "Strong ETag."}}
# The errors any view may answer, and those of a view that reads a JSON body.
SERVER_ERRORS = problem_responses(500, 503)
BODY_ERRORS = problem_responses(400, 413, 415, 500, 503)


def _role() -> str:
    return current_member().role


def visible() -> Any:
    """The gifts the member asking may see (``visible_to``): people and
    lists count only these."""
    return visible_to(_role())


def _checked_role(fields: dict[str, Any]) -> str:
    """The asker's role, once it may make this change: a child may not mark a
    gift from Santa (403, decided before any gift is looked up). Sending
    false is fine: for a child every gift it can reach is not Santa's."""
    role = _role()
    if role != PARENT and fields.get("from_santa") is True:
        abort(403, message="Only a parent may mark a gift from Santa.")
    return role


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


def _problem(status: int, description: str) -> Callable[..., Any]:
    return problem_response(blp, status, description)


def _etag_headers(gift: Mapping[str, Any]) -> dict[str, str]:
    return {"ETag": f'"{store.etag(gift)}"'}


def _if_match() -> ETags | None:
    """The If-Match ETags; None without the header (older clients proceed)."""
    if "If-Match" not in request.headers:
        return None
    # werkzeug reads an empty tag ("") as None: it matches no gift, so drop it.
    etags = request.if_match
    return ETags([tag for tag in etags.as_set() if tag], star_tag=etags.star_tag)


@blp.errorhandler(NotFound)
def _handle_not_found(error: NotFound) -> Response:
    if request.view_args:  # the URL names one gift
        return problem(404, "No gift with this id.")
    ids = ", ".join(str(gift_id) for gift_id in error.missing_ids)
    return problem(
        404,
        f"No gifts with ids {ids}; nothing was changed.",
        errors={"ids": {str(i): ["No such gift."] for i in error.missing_ids}},
    )


blp.errorhandler(UnknownIds)(unknown_ids_problem)


def revalidate(response: Response) -> Response:
    """Gift data is the member's own view (a child's differs, and so do the
    counts of people and lists): a browser may keep it for this user only,
    and must revalidate it with the ETag."""
    if response.status_code in (200, 201, 304):
        response.headers["Cache-Control"] = "private, no-cache"
    return response


blp.after_request(revalidate)


@blp.errorhandler(PreconditionFailed)
def _handle_precondition_failed(error: PreconditionFailed) -> Response:
    return problem(412)


@blp.route("")
class Gifts(MethodView):
    # Schema instances, not classes: webargs would build a class anew per request.
    @blp.arguments(GiftListArgsSchema(), location="query", unknown="raise")
    @blp.response(200, GiftPageSchema)
    @blp.doc(responses=SERVER_ERRORS)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List gifts, newest first, filtered and sorted, one page at a time"""
        try:
            gifts, has_more, next_cursor = store.list_gifts(args, _role())
        except BadCursor:
            abort(422, errors={"cursor": ["Not a cursor of this listing."]})
        return {"items": gifts, "has_more": has_more, "next_cursor": next_cursor}

    @blp.arguments(GiftCreateSchema())
    @blp.response(201, GiftSchema, headers=ETAG_HEADER)
    @blp.doc(responses=BODY_ERRORS)
    def post(self, fields: dict[str, Any]) -> tuple[Mapping[str, Any], dict[str, str]]:
        """Create a gift"""
        _checked_role(fields)
        gift = store.create_gift(fields)
        location = url_for("gifts.GiftById", gift_id=gift["id"])
        return gift, {"Location": location, **_etag_headers(gift)}

    @blp.arguments(GiftBulkUpdateSchema())
    @blp.response(200, GiftItemsSchema)
    @_problem(404, "Some ids do not exist; nothing changed.")
    @blp.doc(responses=BODY_ERRORS)
    def patch(self, body: dict[str, Any]) -> dict[str, Any]:
        """Apply the same change to many gifts, all or nothing"""
        role = _checked_role(body["changes"])
        items = store.bulk_update(body["ids"], body["changes"], role)
        return {"items": items}


@blp.route("/summary")
class GiftSummary(MethodView):
    @blp.arguments(GiftSummaryArgsSchema(), location="query", unknown="raise")
    @blp.response(200, GiftSummarySchema)
    @blp.doc(responses=SERVER_ERRORS)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Count the gifts matching the listing's filters and total their prices"""
        return store.summarize(args, _role())


@blp.route(f"/<int(max={MAX_ID}):gift_id>")
class GiftById(MethodView):
    @blp.doc(parameters=[IF_NONE_MATCH])
    @blp.response(200, GiftSchema, headers=ETAG_HEADER)
    @blp.alt_response(304, description="Not modified since the ETag given.")
    @_problem(404, "No such gift.")
    @blp.doc(responses=SERVER_ERRORS)
    def get(self, gift_id: int) -> Any:
        """Get one gift"""
        gift = store.get_gift(gift_id, _role())
        headers = _etag_headers(gift)
        if request.if_none_match.contains_weak(store.etag(gift)):
            return Response(status=304, headers=headers)
        return gift, headers

    @blp.doc(parameters=[IF_MATCH])
    @blp.arguments(GiftUpdateSchema(partial=True))
    @blp.response(200, GiftSchema, headers=ETAG_HEADER)
    @_problem(404, "No such gift.")
    @_problem(412, "The gift changed since that ETag; nothing changed.")
    @blp.doc(responses=BODY_ERRORS)
    def patch(self, changes: dict[str, Any], gift_id: int) -> Any:
        """Change some fields of a gift"""
        role = _checked_role(changes)
        gift = store.update_gift(gift_id, changes, role, _if_match())
        return gift, _etag_headers(gift)

    @blp.doc(parameters=[IF_MATCH])
    @blp.response(204)
    @_problem(404, "No such gift.")
    @_problem(412, "The gift changed since that ETag; nothing changed.")
    @blp.doc(responses=SERVER_ERRORS)
    def delete(self, gift_id: int) -> None:
        """Delete a gift"""
        store.delete_gift(gift_id, _role(), _if_match())

"""HTTP endpoints of /api/v1/gifts: the views turn store results into responses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Response, request, url_for
from flask.views import MethodView
from flask_smorest import abort

from app.access import current_member
from app.conditional import (
    ETAG_HEADER,
    IF_MATCH,
    IF_NONE_MATCH,
    conditional_get,
    etag_headers,
    if_match,
)
from app.errors import problem, problem_response
from app.fields import MAX_ID
from app.gifts import store
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
from app.resources import BODY_ERRORS, SERVER_ERRORS, page, resource_blueprint
from app.transactions import NotFound
from app.visibility import PARENT


def _role() -> str:
    return current_member().role


def _checked_role(fields: dict[str, Any]) -> str:
    """The asker's role, once it may make this change: a child may not mark a
    gift from Santa (403, decided before any gift is looked up). Sending
    false is fine: for a child every gift it can reach is not Santa's."""
    role = _role()
    if role != PARENT and fields.get("from_santa") is True:
        abort(403, message="Only a parent may mark a gift from Santa.")
    return role


def _not_found(error: NotFound) -> Response:
    """One gift the URL names, or some of the ids a bulk change names."""
    if request.view_args:  # the URL names one gift
        return problem(404, "No gift with this id.")
    ids = ", ".join(str(gift_id) for gift_id in error.missing_ids)
    return problem(
        404,
        f"No gifts with ids {ids}; nothing was changed.",
        errors={"ids": {str(i): ["No such gift."] for i in error.missing_ids}},
    )


blp = resource_blueprint(
    "gifts",
    __name__,
    description="Gift ideas and their progress.",
    noun="gift",
    not_found=_not_found,
)


def _problem(status: int, description: str) -> Callable[..., Any]:
    return problem_response(blp, status, description)


def _etag_headers(gift: Mapping[str, Any]) -> dict[str, str]:
    return etag_headers(store.etag(gift))


@blp.route("")
class Gifts(MethodView):
    # Schema instances, not classes: webargs would build a class anew per request.
    @blp.arguments(GiftListArgsSchema(), location="query", unknown="raise")
    @blp.response(200, GiftPageSchema)
    @blp.doc(responses=SERVER_ERRORS)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List gifts, newest first, filtered and sorted, one page at a time"""
        return page(store.list_gifts, args, _role())

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
        return conditional_get(gift, store.etag(gift))

    @blp.doc(parameters=[IF_MATCH])
    @blp.arguments(GiftUpdateSchema(partial=True))
    @blp.response(200, GiftSchema, headers=ETAG_HEADER)
    @_problem(404, "No such gift.")
    @_problem(412, "The gift changed since that ETag; nothing changed.")
    @blp.doc(responses=BODY_ERRORS)
    def patch(self, changes: dict[str, Any], gift_id: int) -> Any:
        """Change some fields of a gift"""
        role = _checked_role(changes)
        gift = store.update_gift(gift_id, changes, role, if_match())
        return gift, _etag_headers(gift)

    @blp.doc(parameters=[IF_MATCH])
    @blp.response(204)
    @_problem(404, "No such gift.")
    @_problem(412, "The gift changed since that ETag; nothing changed.")
    @blp.doc(responses=SERVER_ERRORS)
    def delete(self, gift_id: int) -> None:
        """Delete a gift"""
        store.delete_gift(gift_id, _role(), if_match())

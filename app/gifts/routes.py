"""HTTP endpoints of /api/v1/gifts: the views turn store results into responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, request, url_for
from flask.views import MethodView
from flask_smorest import abort

from app.access import current_viewer
from app.conditional import (
    ETAG_HEADER,
    IF_MATCH,
    IF_NONE_MATCH,
    conditional_get,
    etag_headers,
    if_match,
)
from app.errors import problem
from app.fields import MAX_ID
from app.gifts import guarded, listing, store
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
from app.visibility import PARENT, PLANNING_FIELDS, Viewer


def planning_fields_set(fields: dict[str, Any]) -> list[str]:
    """The planning fields a new gift would start with another value than
    untouched (a wish may not)."""
    return [
        field
        for field, untouched in PLANNING_FIELDS.items()
        if fields.get(field, untouched) != untouched
    ]


def _checked(fields: dict[str, Any], *, new: bool = False) -> Viewer:
    """The asker, once they may make this change, decided before any gift is
    looked up (403): a child may not mark a gift from Santa (sending false is
    fine: for a child every gift it can reach in full is not Santa's); a
    member claims for themselves only; and a new wish starts untouched."""
    asker = current_viewer()
    if asker.role != PARENT and fields.get("from_santa") is True:
        abort(403, message="Only a parent may mark a gift from Santa.")
    if fields.get("claimed_by") not in (None, asker.id):
        abort(403, message="A member claims a gift for themselves only.")
    wish = asker.linked and asker.person_id in (fields.get("recipient_ids") or ())
    if new and wish and planning_fields_set(fields):
        abort(403, message=guarded.WISH_CHANGE)
    return asker


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


@blp.errorhandler(store.Forbidden)
def _handle_forbidden(error: store.Forbidden) -> Response:
    return problem(403, str(error))


@blp.errorhandler(store.Conflict)
def _handle_conflict(error: store.Conflict) -> Response:
    """409: another member holds the claim; nothing changed."""
    if request.view_args:
        return problem(409, "Another member has claimed this gift.")
    ids = ", ".join(str(gift_id) for gift_id in error.gift_ids)
    return problem(
        409,
        f"Another member has claimed the gifts with ids {ids}; nothing was changed.",
        errors={
            "ids": {str(i): ["Claimed by another member."] for i in error.gift_ids}
        },
    )


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
        return page(listing.list_gifts, args, current_viewer())

    @blp.arguments(GiftCreateSchema())
    @blp.response(201, GiftSchema, headers=ETAG_HEADER)
    @blp.doc(responses=BODY_ERRORS)
    def post(self, fields: dict[str, Any]) -> tuple[Mapping[str, Any], dict[str, str]]:
        """Create a gift"""
        gift = store.create_gift(fields, _checked(fields, new=True))
        location = url_for("gifts.GiftById", gift_id=gift["id"])
        return gift, {"Location": location, **_etag_headers(gift)}

    @blp.arguments(GiftBulkUpdateSchema())
    @blp.response(200, GiftItemsSchema)
    @blp.problem(404, "Some ids do not exist; nothing changed.")
    @blp.problem(409, "Another member claimed some of them; nothing changed.")
    @blp.doc(responses=BODY_ERRORS)
    def patch(self, body: dict[str, Any]) -> dict[str, Any]:
        """Apply the same change to many gifts, all or nothing"""
        asker = _checked(body["changes"])
        items = guarded.bulk_update(body["ids"], body["changes"], asker)
        return {"items": items}


@blp.route("/summary")
class GiftSummary(MethodView):
    @blp.arguments(GiftSummaryArgsSchema(), location="query", unknown="raise")
    @blp.response(200, GiftSummarySchema)
    @blp.doc(responses=SERVER_ERRORS)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Count the gifts matching the listing's filters and total their prices"""
        return listing.summarize(args, current_viewer())


@blp.route(f"/<int(max={MAX_ID}):gift_id>")
class GiftById(MethodView):
    @blp.doc(parameters=[IF_NONE_MATCH])
    @blp.response(200, GiftSchema, headers=ETAG_HEADER)
    @blp.alt_response(304, description="Not modified since the ETag given.")
    @blp.problem(404, "No such gift.")
    @blp.doc(responses=SERVER_ERRORS)
    def get(self, gift_id: int) -> Any:
        """Get one gift"""
        gift = store.get_gift(gift_id, current_viewer())
        return conditional_get(gift, store.etag(gift))

    @blp.doc(parameters=[IF_MATCH])
    @blp.arguments(GiftUpdateSchema(partial=True))
    @blp.response(200, GiftSchema, headers=ETAG_HEADER)
    @blp.problem(404, "No such gift.")
    @blp.problem(412, "The gift changed since that ETag; nothing changed.")
    @blp.problem(409, "Another member claimed it; nothing changed.")
    @blp.doc(responses=BODY_ERRORS)
    def patch(self, changes: dict[str, Any], gift_id: int) -> Any:
        """Change some fields of a gift"""
        asker = _checked(changes)
        if store.plain_change(asker, changes):
            gift = store.update_gift(gift_id, changes, asker, if_match())
        else:  # links, claims, or a member who may have wishes
            gift = guarded.update_gift(gift_id, changes, asker, if_match())
        return gift, _etag_headers(gift)

    @blp.doc(parameters=[IF_MATCH])
    @blp.response(204)
    @blp.problem(404, "No such gift.")
    @blp.problem(412, "The gift changed since that ETag; nothing changed.")
    @blp.doc(responses=SERVER_ERRORS)
    def delete(self, gift_id: int) -> None:
        """Delete a gift"""
        asker = current_viewer()
        # A member with a person may be deleting their wish.
        (guarded if asker.linked else store).delete_gift(gift_id, asker, if_match())

"""HTTP endpoints of /api/v1/lists: the views turn store results into responses."""

from __future__ import annotations

from typing import Any

from flask import Response, url_for
from flask.views import MethodView
from sqlalchemy.engine import RowMapping

from app.access import current_viewer
from app.conditional import (
    ETAG_HEADER,
    IF_MATCH,
    IF_NONE_MATCH,
    conditional_get,
    etag_headers,
    if_match,
)
from app.counted import etag
from app.errors import problem
from app.fields import MAX_ID
from app.lists import store
from app.lists.schemas import (
    ListCreateSchema,
    ListListArgsSchema,
    ListPageSchema,
    ListSchema,
    ListUpdateSchema,
)
from app.resources import (
    BODY_ERRORS,
    SERVER_ERRORS,
    page,
    parents_only,
    resource_blueprint,
)

blp = resource_blueprint(
    "lists",
    __name__,
    description="Lists of gifts (wishlists, ideas, assigned).",
    noun="list",
)


@blp.route("")
class Lists(MethodView):
    @blp.arguments(ListListArgsSchema(), location="query", unknown="raise")
    @blp.response(200, ListPageSchema)
    @blp.doc(responses=SERVER_ERRORS)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List the lists by name, maybe one person's, one page at a time"""
        return page(store.list_lists, args, current_viewer())

    @blp.arguments(ListCreateSchema())
    @blp.response(201, ListSchema, headers=ETAG_HEADER)
    @blp.problem(403, "A wish's lists are not its wisher's to change; nothing changed.")
    @blp.doc(responses=BODY_ERRORS)
    def post(self, fields: dict[str, Any]) -> tuple[RowMapping, dict[str, str]]:
        """Create a list, maybe holding some gifts at once"""
        gift_list = store.create_list(fields, current_viewer())
        location = url_for("lists.ListById", list_id=gift_list["id"])
        return gift_list, {"Location": location, **etag_headers(etag(gift_list))}


@blp.route(f"/<int(max={MAX_ID}):list_id>")
class ListById(MethodView):
    @blp.doc(parameters=[IF_NONE_MATCH])
    @blp.response(200, ListSchema, headers=ETAG_HEADER)
    @blp.alt_response(304, description="Not modified since the ETag given.")
    @blp.problem(404, "No such list.")
    @blp.doc(responses=SERVER_ERRORS)
    def get(self, list_id: int) -> Any:
        """Get one list"""
        gift_list = store.get_list(list_id, current_viewer())
        return conditional_get(gift_list, etag(gift_list))

    @blp.doc(parameters=[IF_MATCH])
    @blp.arguments(ListUpdateSchema(partial=True))
    @blp.response(200, ListSchema, headers=ETAG_HEADER)
    @blp.problem(404, "No such list.")
    @blp.problem(412, "The list changed since that ETag; nothing changed.")
    @blp.doc(responses=BODY_ERRORS)
    def patch(self, changes: dict[str, Any], list_id: int) -> Any:
        """Change some fields of a list"""
        gift_list = store.update_list(list_id, changes, if_match(), current_viewer())
        return gift_list, etag_headers(etag(gift_list))

    @blp.doc(parameters=[IF_MATCH])
    @blp.response(204)
    @blp.problem(403, "Only a parent may delete a list.")
    @blp.problem(404, "No such list.")
    @blp.problem(412, "The list changed since that ETag; nothing changed.")
    @blp.doc(responses=SERVER_ERRORS)
    def delete(self, list_id: int) -> None:
        """Delete a list: its gifts remain"""
        parents_only(current_viewer(), "delete a list")
        store.delete_list(list_id, if_match(), current_viewer())


@blp.errorhandler(store.WishListed)
def _handle_wish_listed(error: store.WishListed) -> Response:
    return problem(403, "A wish's lists are not its wisher's to change.")

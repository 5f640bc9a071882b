"""HTTP endpoints of /api/v1/people: the views turn store results into responses."""

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
from app.keyset import PageArgsSchema
from app.people import store
from app.people.schemas import (
    PersonCreateSchema,
    PersonPageSchema,
    PersonSchema,
    PersonUpdateSchema,
)
from app.resources import (
    BODY_ERRORS,
    SERVER_ERRORS,
    page,
    parents_only,
    resource_blueprint,
)

blp = resource_blueprint(
    "people", __name__, description="People the family buys for.", noun="person"
)


@blp.route("")
class People(MethodView):
    @blp.arguments(PageArgsSchema(), location="query", unknown="raise")
    @blp.response(200, PersonPageSchema)
    @blp.doc(responses=SERVER_ERRORS)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List people by name, one page at a time"""
        return page(store.list_people, args, current_viewer())

    @blp.arguments(PersonCreateSchema())
    @blp.response(201, PersonSchema, headers=ETAG_HEADER)
    @blp.doc(responses=BODY_ERRORS)
    def post(self, fields: dict[str, Any]) -> tuple[RowMapping, dict[str, str]]:
        """Add a person"""
        person = store.create_person(fields, current_viewer())
        location = url_for("people.PersonById", person_id=person["id"])
        return person, {"Location": location, **etag_headers(etag(person))}


@blp.route(f"/<int(max={MAX_ID}):person_id>")
class PersonById(MethodView):
    @blp.doc(parameters=[IF_NONE_MATCH])
    @blp.response(200, PersonSchema, headers=ETAG_HEADER)
    @blp.alt_response(304, description="Not modified since the ETag given.")
    @blp.problem(404, "No such person.")
    @blp.doc(responses=SERVER_ERRORS)
    def get(self, person_id: int) -> Any:
        """Get one person"""
        person = store.get_person(person_id, current_viewer())
        return conditional_get(person, etag(person))

    @blp.doc(parameters=[IF_MATCH])
    @blp.arguments(PersonUpdateSchema(partial=True))
    @blp.response(200, PersonSchema, headers=ETAG_HEADER)
    @blp.problem(404, "No such person.")
    @blp.problem(412, "The person changed since that ETag; nothing changed.")
    @blp.doc(responses=BODY_ERRORS)
    def patch(self, changes: dict[str, Any], person_id: int) -> Any:
        """Change some fields of a person"""
        person = store.update_person(person_id, changes, if_match(), current_viewer())
        return person, etag_headers(etag(person))

    @blp.doc(parameters=[IF_MATCH])
    @blp.response(204)
    @blp.problem(403, "Only a parent may delete a person.")
    @blp.problem(404, "No such person.")
    @blp.problem(412, "The person changed since that ETag; nothing changed.")
    @blp.problem(409, "The person is a member of the family; nothing changed.")
    @blp.doc(responses=SERVER_ERRORS)
    def delete(self, person_id: int) -> None:
        """Delete a person: their gifts remain, their lists belong to no one"""
        parents_only(current_viewer(), "delete a person")
        store.delete_person(person_id, if_match(), current_viewer())


@blp.errorhandler(store.LinkedPerson)
def _handle_linked_person(error: store.LinkedPerson) -> Response:
    return problem(409, "This person is a member of the family and cannot be deleted.")

"""HTTP endpoints of /api/v1/occasions: occasions, their budgets and the
budget view; the views turn store results into responses."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Response, url_for
from flask.views import MethodView

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
from app.occasions import budgets, store
from app.occasions.schemas import (
    BudgetSchema,
    BudgetSetSchema,
    BudgetViewSchema,
    OccasionCreateSchema,
    OccasionListArgsSchema,
    OccasionPageSchema,
    OccasionSchema,
    OccasionUpdateSchema,
)
from app.resources import (
    BODY_ERRORS,
    SERVER_ERRORS,
    page,
    parents_only,
    resource_blueprint,
)

blp = resource_blueprint(
    "occasions",
    __name__,
    description="Occasions the family plans gifts for, and budgets for each person.",
    noun="occasion",
)
ID = f"int(max={MAX_ID})"


def _etag_headers(occasion: Any) -> dict[str, str]:
    return etag_headers(store.etag(occasion))


@blp.errorhandler(budgets.OwnBudget)
def _handle_own_budget(error: budgets.OwnBudget) -> Response:
    return problem(403, "A member's own budget is not theirs to see or set.")


@blp.errorhandler(budgets.MissingPerson)
def _handle_missing_person(error: budgets.MissingPerson) -> Response:
    return problem(404, "No person with this id.")


@blp.errorhandler(budgets.MissingBudget)
def _handle_missing_budget(error: budgets.MissingBudget) -> Response:
    return problem(404, "This person has no budget at this occasion.")


@blp.route("")
class Occasions(MethodView):
    @blp.arguments(OccasionListArgsSchema(), location="query", unknown="raise")
    @blp.response(200, OccasionPageSchema)
    @blp.doc(responses=SERVER_ERRORS)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List occasions, soonest first, maybe only those coming soon"""
        return page(store.list_occasions, args, current_viewer())

    @blp.arguments(OccasionCreateSchema())
    @blp.response(201, OccasionSchema, headers=ETAG_HEADER)
    @blp.doc(responses=BODY_ERRORS)
    def post(self, fields: dict[str, Any]) -> tuple[Any, dict[str, str]]:
        """Add an occasion"""
        occasion = store.create_occasion(fields, current_viewer())
        location = url_for("occasions.OccasionById", occasion_id=occasion["id"])
        return occasion, {"Location": location, **_etag_headers(occasion)}


@blp.route(f"/<{ID}:occasion_id>")
class OccasionById(MethodView):
    @blp.doc(parameters=[IF_NONE_MATCH])
    @blp.response(200, OccasionSchema, headers=ETAG_HEADER)
    @blp.alt_response(304, description="Not modified since the ETag given.")
    @blp.problem(404, "No such occasion.")
    @blp.doc(responses=SERVER_ERRORS)
    def get(self, occasion_id: int) -> Any:
        """Get one occasion"""
        occasion = store.get_occasion(occasion_id, current_viewer())
        return conditional_get(occasion, store.etag(occasion))

    @blp.doc(parameters=[IF_MATCH])
    @blp.arguments(OccasionUpdateSchema(partial=True))
    @blp.response(200, OccasionSchema, headers=ETAG_HEADER)
    @blp.problem(404, "No such occasion.")
    @blp.problem(412, "The occasion changed since that ETag; nothing changed.")
    @blp.doc(responses=BODY_ERRORS)
    def patch(self, changes: dict[str, Any], occasion_id: int) -> Any:
        """Change some fields of an occasion"""
        occasion = store.update_occasion(
            occasion_id, changes, if_match(), current_viewer()
        )
        return occasion, _etag_headers(occasion)

    @blp.doc(parameters=[IF_MATCH])
    @blp.response(204)
    @blp.problem(404, "No such occasion.")
    @blp.problem(412, "The occasion changed since that ETag; nothing changed.")
    @blp.problem(403, "Only a parent may delete an occasion.")
    @blp.doc(responses=SERVER_ERRORS)
    def delete(self, occasion_id: int) -> None:
        """Delete an occasion and its budgets: its gifts remain, for no occasion"""
        # As for people and lists: what it holds may be hidden from a child.
        parents_only(current_viewer(), "delete an occasion")
        store.delete_occasion(occasion_id, if_match(), current_viewer())


@blp.route(f"/<{ID}:occasion_id>/budgets/<{ID}:person_id>")
class BudgetOfPerson(MethodView):
    @blp.arguments(BudgetSetSchema())
    @blp.response(200, BudgetSchema)
    @blp.problem(404, "No such occasion or person.")
    @blp.problem(403, "Your own budget: not yours to see or set.")
    @blp.doc(responses=BODY_ERRORS)
    def put(self, body: dict[str, Decimal], occasion_id: int, person_id: int) -> Any:
        """Set or replace what the family means to spend on a person at an occasion"""
        return budgets.set_budget(
            occasion_id, person_id, body["amount"], current_viewer()
        )

    @blp.response(204)
    @blp.problem(404, "No budget for this person at this occasion.")
    @blp.problem(403, "Your own budget: not yours to see or set.")
    @blp.doc(responses=SERVER_ERRORS)
    def delete(self, occasion_id: int, person_id: int) -> None:
        """Remove a person's budget at an occasion"""
        budgets.delete_budget(occasion_id, person_id, current_viewer())


@blp.route(f"/<{ID}:occasion_id>/budget")
class BudgetView(MethodView):
    @blp.response(200, BudgetViewSchema)
    @blp.problem(404, "No such occasion.")
    @blp.doc(responses=SERVER_ERRORS)
    def get(self, occasion_id: int) -> dict[str, Any]:
        """What is spent, planned and left at an occasion, per person and in total"""
        return budgets.budget_view(occasion_id, current_viewer())

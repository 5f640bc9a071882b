"""Response schemas of every resource: fields from the model's columns
(marshmallow-sqlalchemy), and database rows dumped along a plan made once."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from marshmallow import fields
from marshmallow_sqlalchemy import ModelConverter, SQLAlchemySchema
from sqlalchemy.engine import RowMapping

from app.fields import Flag


class Row(dict[str, Any]):
    """A row of our tables copied to change some values (a wish view): it
    holds every key a row holds, so it dumps along the plan as rows do."""


class RowDumpSchema(ma.Schema):
    """A dump schema that dumps database rows along a plan made once per schema.

    marshmallow's ``dump`` walks every field through ``get_value`` and
    ``serialize``, about a microsecond a field: a page of 50 gifts spent more
    time there than in the database. A row of our own table (or a ``Row``
    made from one) holds every key, so
    each field needs only the conversion its type implies, picked here once.
    Anything else (other objects, hooks, unplanned field types) takes
    marshmallow's own path; tests check both give the same JSON.

    Dates and times stay ``date`` and ``datetime`` objects: the app's JSON
    encoder (orjson, app/json.py) writes them as ``isoformat()`` does, in C,
    where calling ``isoformat`` per value took half of a page's dump (a page
    of 50 gifts, dump and JSON together: 266 -> 161 µs at best of 15 batches,
    in-process timeit, SQLite, interleaved with the code before). So a
    planned dump is for the app's JSON encoder: the same JSON as
    marshmallow's own dump, not the same Python values.
    """

    CONVERTERS: dict[type[fields.Field], Any] = {
        fields.String: None,
        fields.Integer: None,
        # Exact in the database; a float's shortest repr writes the same digits
        # (at most 12 significant) and spares the JSON encoder a hook per value.
        fields.Decimal: lambda value: None if value is None else float(value),
        fields.Date: None,  # written by orjson, as isoformat() writes it
        fields.DateTime: None,
        Flag: bool,
        fields.List: None,  # of ids: already JSON
    }

    @cached_property
    def _row_plan(self) -> list[tuple[str, str, Any]] | None:
        """(output key, row key, conversion) per field; None: marshmallow dumps."""
        if self._hooks["pre_dump"] or self._hooks["post_dump"]:
            return None  # load hooks (marshmallow-sqlalchemy's) do not matter
        plan = []
        for name, field in self.dump_fields.items():
            iso = getattr(field, "format", None) in (None, "iso")
            if type(field) not in self.CONVERTERS or not iso:
                return None
            convert = self.CONVERTERS[type(field)]
            plan.append((field.data_key or name, field.attribute or name, convert))
        return plan

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        many = self.many if many is None else many
        rows = obj if many else [obj]
        plan = self._row_plan
        if plan is None or not all(isinstance(row, RowMapping | Row) for row in rows):
            return super().dump(obj, many=many)
        dumped = [
            {
                key: row[attribute] if convert is None else convert(row[attribute])
                for key, attribute, convert in plan
            }
            for row in rows
        ]
        return dumped if many else dumped[0]


class DumpConverter(ModelConverter):
    """Response field types from column types: enums as strings (their values
    listed by ``ModelDumpSchema``), booleans never null."""

    SQLA_TYPE_MAPPING = {
        **ModelConverter.SQLA_TYPE_MAPPING,
        sa.Enum: fields.String,
        sa.Boolean: Flag,
    }


class ModelDumpSchema(RowDumpSchema, SQLAlchemySchema):
    """A response schema whose fields come from the model's columns
    (``auto_field``): each column is declared once, in the model."""

    class Meta:
        model_converter = DumpConverter

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        """Every field is in every response (``required`` documents it); an
        enum column lists its values."""
        field_obj.required = True
        column = self.opts.model.__table__.c.get(field_name)
        if column is not None and isinstance(column.type, sa.Enum):
            field_obj.metadata = {**field_obj.metadata, "enum": list(column.type.enums)}

"""When an occasion next happens: today in the family's time zone, and
``next_date`` as an expression the database computes per request.

``next_date`` depends on today, so it is no stored column: the listing sorts,
filters (``upcoming``) and pages by it as an integer key ``YYYYMMDD`` built
from the occasion's date and today's, which compares as the dates do. A
yearly occasion falls on its month and day; 29 February on 28 February in a
year that has none.
"""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.models import Occasion

occasions = Occasion.__table__

# The listing's key for an occasion that never happens again: after any date.
NEVER = 99_999_999


def today() -> dt.date:
    """Today in ``FAMILY_TIMEZONE``, by the app's ``CLOCK``."""
    now = current_app.config["CLOCK"]()
    zone = zoneinfo.ZoneInfo(current_app.config["FAMILY_TIMEZONE"])
    return now.astimezone(zone).date()


def key_of(day: dt.date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def date_of(key: int | None) -> dt.date | None:
    if key is None or key >= NEVER:
        return None
    return dt.date(key // 10_000, key // 100 % 100, key % 100)


def _part(name: str) -> Any:
    return sa.cast(sa.extract(name, occasions.c.date), sa.Integer)


def _month_day(year: int) -> Any:
    """The occasion's month and day (``MMDD``) in ``year``."""
    month_day = _part("month") * 100 + _part("day")
    if calendar.isleap(year):
        return month_day
    return sa.case((month_day == 229, 228), else_=month_day)


def next_key(on: dt.date) -> sa.ColumnElement[int]:
    """``next_date`` as of ``on`` (a ``YYYYMMDD`` integer), NULL once a one-off
    occasion is past: its date while that is still ahead, else (yearly) this
    year's day if not past, else next year's."""
    first = _part("year") * 10_000 + _part("month") * 100 + _part("day")
    today_key = key_of(on)
    this_year = on.year * 10_000 + _month_day(on.year)
    next_year = (on.year + 1) * 10_000 + _month_day(on.year + 1)
    return sa.case(
        (first >= today_key, first),
        (
            occasions.c.repeats_yearly.is_(True),
            sa.case((this_year >= today_key, this_year), else_=next_year),
        ),
        else_=None,
    )


def sort_key(on: dt.date) -> sa.ColumnElement[int]:
    """The listing's first key: ``next_date``, with the past ones last."""
    return sa.func.coalesce(next_key(on), NEVER)

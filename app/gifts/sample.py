"""Sample gifts to try the service with (`flask gifts seed N`) and to bench it."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from app.models import PRIORITIES, STATUSES

THINGS = (
    "train set",
    "puzzle",
    "scarf",
    "board game",
    "telescope",
    "sketchbook",
    "headphones",
    "teddy bear",
    "cookbook",
    "kite",
    "watercolour set",
    "skateboard",
    "lego castle",
    "slippers",
    "novel",
    "chess set",
)
ADJECTIVES = ("Wooden", "Red", "Cosy", "Giant", "Tiny", "Vintage", "Electric", "Soft")
SOURCES = ("Grandma", "wish list", "catalogue", "Instagram", None, None)
WEIGHTS_STATUS = (50, 25, 15, 10)
WEIGHTS_PRIORITY = (25, 50, 25)


def gift_row(rng: random.Random, now: dt.datetime, index: int) -> dict[str, Any]:
    """One gift as a row of the ``gifts`` table at the newest revision."""
    name = f"{rng.choice(ADJECTIVES)} {rng.choice(THINGS)} #{index}"
    price = None
    if rng.random() > 0.15:  # about 15 % have no price
        price = Decimal(rng.randint(99, 25_000)) / 100
    sale_price = None
    if price is not None and rng.random() < 0.2:
        sale_price = (price * Decimal("0.8")).quantize(Decimal("0.01"))
    created = now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 365))
    status = rng.choices(STATUSES, WEIGHTS_STATUS)[0]
    slug = name.lower().replace(" ", "-").replace("#", "")
    has_url = rng.random() < 0.5
    return {
        "name": name,
        "description": (
            f"A {name.split(' #')[0].lower()} for the little ones."
            if rng.random() < 0.4
            else None
        ),
        "notes": "Check the size first." if rng.random() < 0.1 else None,
        "url": f"https://shop.example.com/p/{slug}" if has_url else None,
        "image_url": f"https://img.example.com/{slug}.jpg" if has_url else None,
        "source": rng.choice(SOURCES),
        "price": price,
        "sale_price": sale_price,
        "quantity": rng.choice((1, 1, 1, 2, 3)),
        "priority": rng.choices(PRIORITIES, WEIGHTS_PRIORITY)[0],
        "status": status,
        "purchase_date": (
            created.date() if status in ("purchased", "received") else None
        ),
        "from_santa": rng.random() < 0.3,
        "version": 1,
        "created_at": created,
        "updated_at": created,
    }

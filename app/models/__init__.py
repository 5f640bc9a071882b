"""Every table of the service, one module per area."""

from app.models.gift import MAX_TEXT, MAX_URL, PRIORITIES, STATUSES, Gift
from app.models.member import ROLES, AccessToken, Member, SignInFailure
from app.models.occasion import (
    MAX_OCCASION_NAME,
    OCCASION_KINDS,
    Occasion,
    budgets,
)
from app.models.people import (
    LIST_KINDS,
    MAX_LIST_NAME,
    MAX_PERSON_NAME,
    GiftList,
    Person,
    gift_lists,
    gift_recipients,
)
from app.models.types import UTCDateTime, utcnow

__all__ = [
    "LIST_KINDS",
    "MAX_LIST_NAME",
    "MAX_OCCASION_NAME",
    "MAX_PERSON_NAME",
    "MAX_TEXT",
    "MAX_URL",
    "OCCASION_KINDS",
    "PRIORITIES",
    "ROLES",
    "STATUSES",
    "AccessToken",
    "Gift",
    "GiftList",
    "Member",
    "Occasion",
    "Person",
    "SignInFailure",
    "UTCDateTime",
    "budgets",
    "gift_lists",
    "gift_recipients",
    "utcnow",
]

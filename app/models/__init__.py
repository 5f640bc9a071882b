"""Every table of the service, one module per area."""

from app.models.gift import MAX_TEXT, MAX_URL, PRIORITIES, STATUSES, Gift
from app.models.member import ROLES, AccessToken, Member, SignInFailure
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
    "MAX_PERSON_NAME",
    "MAX_TEXT",
    "MAX_URL",
    "PRIORITIES",
    "ROLES",
    "STATUSES",
    "AccessToken",
    "Gift",
    "GiftList",
    "Member",
    "Person",
    "SignInFailure",
    "UTCDateTime",
    "gift_lists",
    "gift_recipients",
    "utcnow",
]

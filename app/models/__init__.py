"""Every table of the service, one module per area."""

from app.models.gift import MAX_TEXT, MAX_URL, PRIORITIES, STATUSES, Gift
from app.models.member import ROLES, AccessToken, Member, SignInFailure
from app.models.types import UTCDateTime, utcnow

__all__ = [
    "MAX_TEXT",
    "MAX_URL",
    "PRIORITIES",
    "ROLES",
    "STATUSES",
    "AccessToken",
    "Gift",
    "Member",
    "SignInFailure",
    "UTCDateTime",
    "utcnow",
]

"""What a new account agrees to at sign-up (이용약관 동의): the items, which are required, and the version of
each text. One home for the list: the sign-up form, the API and the service read it. Bump a `version` when
its text changes; each agreement is stored with the version and the time (accounts.Consent)."""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Item:
    key: str
    label: Promise
    required: bool
    version: str


ITEMS = (
    Item("terms", _("I agree to the terms of service (required)"), True, "2026-12-01"),
    Item("privacy", _("I agree to the collection and use of my personal information (required)"), True, "2026-12-01"),
    Item("age", _("I am 14 or older (required)"), True, "2026-12-01"),
    Item("marketing", _("Send me offers and news by email (optional)"), False, "2026-12-01"),
)
BY_KEY = {item.key: item for item in ITEMS}
REQUIRED = tuple(item.key for item in ITEMS if item.required)

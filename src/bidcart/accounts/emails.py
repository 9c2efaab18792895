"""One mailbox, one spelling: the canonical form of an email address, the only form the shop stores or
looks up (sign-up, login, password reset, resend, the admin's createsuperuser).

Why: "buyer@ｅｘａｍｐｌｅ.com" (full-width) and "buyer@exam\u00adple.com" (a soft hyphen) are different strings,
so they signed up as new accounts, yet mail servers deliver both to buyer@example.com: one person could
hold many accounts (many first-order coupons, many bidders in one auction). So:
- characters a person cannot see (soft hyphen, zero-width space/joiners, word joiner, BOM, bidi marks,
  Hangul fillers, control characters) are refused, not silently dropped: an address that contains them was
  not typed by hand;
- the rest is NFKC-normalised (full-width and compatibility forms become their plain letters);
- the domain is checked and mapped by IDNA (UTS #46, the mapping browsers and mail servers use), lowercased
  and kept in its Unicode form (테스트.한국 stays readable); the local part is lowercased, as the shop
  always has.
"""

from __future__ import annotations

import unicodedata

import idna
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

# Invisible but not category Cf/Cc: Hangul fillers and the Mongolian vowel separator render as nothing.
_INVISIBLE = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u180e", "\u034f"}


class InvalidEmail(ValueError):
    def __init__(self, message, code: str):
        super().__init__(str(message))
        self.message, self.code = message, code


def _has_invisible(text: str) -> bool:
    return any(ch in _INVISIBLE or unicodedata.category(ch) in ("Cf", "Cc", "Zl", "Zp") for ch in text)


def normalize_email(raw: str) -> str:
    """The canonical address, or InvalidEmail (code "email_invisible_characters" or "email_invalid")."""
    text = (raw or "").strip()
    if _has_invisible(text):
        raise InvalidEmail(
            _("The email address contains invisible characters. Type it again by hand."),
            code="email_invisible_characters",
        )
    text = unicodedata.normalize("NFKC", text)
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise InvalidEmail(_("Enter a valid email address."), code="email_invalid")
    try:
        domain = idna.decode(idna.encode(domain, uts46=True))
    except (idna.IDNAError, UnicodeError):
        raise InvalidEmail(_("Enter a valid email address."), code="email_invalid") from None
    address = f"{local.lower()}@{domain.lower()}"
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidEmail(_("Enter a valid email address."), code="email_invalid") from None
    return address


def lookup_form(raw: str) -> str:
    """The form to look an address up by: canonical when it can be, else as typed (it then matches nobody)."""
    try:
        return normalize_email(raw)
    except InvalidEmail:
        return (raw or "").strip().lower()

"""Test cards for billing keys, the same for every provider (docs/pgsim.md, "Billing keys").

A card registered at any provider's simulated page (or issued through an API that takes card details)
keeps its scripted outcome with the key, and every later charge on that key ends so:

- a number ending in `0002`: every charge is declined for insufficient funds (잔액 부족);
- a number ending in `0069`: every charge is declined as an expired card (the card lapsed after it was
  registered: 유효기간 만료);
- an expiry month already past: refused at registration (no key is issued);
- anything else charges fine. `DEFAULT_CARD` is what a page registers when nobody types a number.

A charge whose item name carries the word `pgsim:decline` is declined once, whatever the card; the control
API's next-outcome queues `insufficient_funds` or `expired_card` for a provider's next charge on any key.
"""

from __future__ import annotations

from datetime import datetime, timezone

DEFAULT_CARD = "9100200000000005"
DEFAULT_EXPIRY = "2099-12"
INSUFFICIENT_FUNDS = "insufficient_funds"
EXPIRED_CARD = "expired_card"
DECLINED = "declined"
# What the control API's next-outcome may queue for a provider's next billing-key charge (one charge each),
# whatever the card: a card that paid last month declines this one, as a real card runs out of funds.
CHARGE_DECLINES = (INSUFFICIENT_FUNDS, EXPIRED_CARD)


def digits(number: object) -> str:
    return "".join(c for c in str(number or "") if c not in " -")


def valid_number(number: str) -> bool:
    return number.isdigit() and 14 <= len(number) <= 16


def masked(number: str) -> str:
    """`9100200000000005` → `910020******0005` (BIN and last four, as Korean PGs mask)."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def charge_outcome(number: str) -> str | None:
    """How every charge on this card ends: None (paid) or the decline kind."""
    if number.endswith("0002"):
        return INSUFFICIENT_FUNDS
    if number.endswith("0069"):
        return EXPIRED_CARD
    return None


def declined_by_name(name: object) -> bool:
    return "pgsim:decline" in str(name or "").split()


def expired(year: int, month: int, now: float) -> bool:
    today = datetime.fromtimestamp(now, timezone.utc)
    return (year, month) < (today.year, today.month)


def brand(number: str) -> str:
    """The card company a Korean PG names for the test number (BC for the default)."""
    return {"4": "신한카드", "5": "KB국민카드", "3": "현대카드"}.get(number[:1], "BC카드")

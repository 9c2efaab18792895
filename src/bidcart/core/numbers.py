"""The one home for reading a whole number that came from outside: an amount, a quantity, a stock count or
an id, whether it arrived in JSON, a form, a query string or a WebSocket frame.

Why not `int()`: Python's `int()` and `str.isdigit()` take any Unicode digit, so "²" passes `isdigit()` and
then makes `int()` raise (a 500), and "٣٠٠٠٠٠" (Arabic-Indic digits) quietly becomes 300000. DRF's and
Django's IntegerFields call `int()` too. And an unbounded number reaches the database as an overflow
(another 500). Here a number is an `int` (never a bool) or a string of ASCII digits (an optional "-" and
surrounding ASCII spaces), within the range the column can hold. Everything else is `InvalidNumber`, which
each edge answers as its own 400 (API field error, form error, WebSocket refusal).

The DRF fields (core.serializers) and the Django form field (core.forms) are thin adapters over
`parse_int`, so every edge gets the same rule; this module imports nothing from either.
"""

from __future__ import annotations

import re

MAX_BIGINT = 2**63 - 1  # a (Positive)BigIntegerField / BigAutoField: ids, amounts, counters
MAX_INT = 2**31 - 1  # an IntegerField / PositiveIntegerField: stock, quantities, positions
MAX_AMOUNT = 10**15  # minor units: 1,000조 won; any price or order total the shop takes stays under bigint
MAX_ID = MAX_BIGINT

# ASCII only: [0-9] is spelled out (not \d, which matches every script's digits). 19 digits hold any bigint;
# a longer string is out of range before int() sees it (int() of thousands of digits is slow, then raises).
_WHOLE = re.compile(r"-?[0-9]+")
_MAX_DIGITS = 19
_SPACES = " \t\r\n"


class InvalidNumber(ValueError):
    """Not a whole number within range. `code` says which: "invalid", "min_value" or "max_value"."""

    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.code = code


def parse_int(value, *, low: int = 0, high: int = MAX_BIGINT) -> int:
    """`value` as an int in [low, high]: an int (not a bool) or a string of ASCII digits. Else InvalidNumber."""
    if isinstance(value, bool):
        raise InvalidNumber("Enter a whole number.")
    if isinstance(value, str):
        text = value.strip(_SPACES)
        if not _WHOLE.fullmatch(text):
            raise InvalidNumber("Enter a whole number.")
        if len(text.lstrip("-").lstrip("0")) > _MAX_DIGITS:
            value = (low - 1) if text.startswith("-") else (high + 1)  # out of range, without int()
        else:
            value = int(text)
    if not isinstance(value, int):
        raise InvalidNumber("Enter a whole number.")
    if value < low:
        raise InvalidNumber(f"Enter a number of at least {low}.", code="min_value")
    if value > high:
        raise InvalidNumber(f"Enter a number of at most {high}.", code="max_value")
    return value


def parse_amount(value, *, low: int = 1, high: int = MAX_AMOUNT) -> int:
    """A price or payment amount in minor units."""
    return parse_int(value, low=low, high=high)


def parse_id(value) -> int:
    """A primary key from outside (a path, a query string, a form's hidden field, a WebSocket message)."""
    return parse_int(value, low=1, high=MAX_ID)


def optional_id(value) -> int | None:
    """`parse_id`, or None for anything that is not an id (a lookup that then finds nothing: a 404)."""
    try:
        return parse_id(value)
    except InvalidNumber:
        return None

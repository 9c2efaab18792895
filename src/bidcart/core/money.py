"""Money is an integer count of a currency's minor units plus an ISO 4217 code, everywhere.

Decimal strings exist only at the edge, for a provider that wants them (PayPal); conversion between
currencies happens only where a provider refuses the shop's currency, at a configured rate.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 minor-unit exponents of the currencies bidcart is likely to meet; anything else has 2.
EXPONENTS = {"KRW": 0, "JPY": 0, "VND": 0, "CLP": 0, "TWD": 2, "HUF": 2, "BHD": 3, "KWD": 3}


# How a shopper reads an amount: the symbol shown before it (a currency without one is written after).
SYMBOLS = {"KRW": "₩", "USD": "$", "EUR": "€", "JPY": "¥"}


def exponent(currency: str) -> int:
    return EXPONENTS.get(currency.upper(), 2)


_exponent = exponent  # for the functions whose `exponent` argument hides it


def format_money(amount: int | None, currency: str = "KRW", language: str | None = None) -> str:
    """The one formatter for people: 15000, "KRW" → "15,000원" in Korean, "₩15,000" in English;
    1929, "USD" → "$19.29". `language` defaults to the active one. The live room's money.js mirrors
    this (same symbols, same digits from EXPONENTS)."""
    if amount is None:
        return ""
    if language is None:
        from django.utils.translation import get_language

        language = get_language() or "ko"
    currency = (currency or "KRW").upper()
    places = exponent(currency)
    major = f"{int(amount) / 10**places:,.{places}f}" if places else f"{int(amount):,}"
    if currency == "KRW" and language.startswith("ko"):
        return f"{major}원"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{major}" if symbol else f"{major} {currency}"


def to_decimal_string(amount: int, currency: str, *, exponent: int | None = None) -> str:
    """12345, "USD" → "123.45"; 15000, "KRW" → "15000". `exponent`: a provider's decimals where they
    differ from ISO 4217's (PayPal's HUF and TWD have none)."""
    places = _exponent(currency) if exponent is None else exponent
    if places == 0:
        return str(int(amount))
    return str((Decimal(int(amount)) / (10**places)).quantize(Decimal(1).scaleb(-places)))


def from_decimal_string(value: str | int | float, currency: str, *, exponent: int | None = None) -> int:
    """ "123.45", "USD" → 12345. Raises ValueError on anything that isn't an exact amount."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    minor = number.scaleb(_exponent(currency) if exponent is None else exponent)
    if minor != minor.to_integral_value():
        raise ValueError(f"{value!r} has more decimals than {currency} allows")
    return int(minor)


def convert(amount: int, source: str, target: str, rate: Decimal | str, *, target_exponent: int | None = None) -> int:
    """`amount` minor units of `source` in `target` minor units, where `rate` is how many *major* units
    of `source` one major unit of `target` costs (e.g. 1350 KRW per USD). Rounded half up.
    `target_exponent`: the target's decimals as the provider counts them."""
    if source.upper() == target.upper():
        return int(amount)
    major_source = Decimal(int(amount)).scaleb(-exponent(source))
    major_target = major_source / Decimal(str(rate))
    places = exponent(target) if target_exponent is None else target_exponent
    return int(major_target.scaleb(places).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def share(part: int, whole: int, of: int) -> int:
    """`part`/`whole` of `of`, rounded half up: a partial refund in the shop's currency mapped onto the
    amount the provider charged in its own."""
    if whole <= 0:
        return 0
    return int((Decimal(part) * Decimal(of) / Decimal(whole)).quantize(Decimal(1), rounding=ROUND_HALF_UP))

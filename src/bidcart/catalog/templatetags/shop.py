"""Template helpers of the store: money in minor units shown in the reader's language."""

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import get_language

register = template.Library()

# currency → (symbol, minor-unit digits)
CURRENCIES = {"KRW": ("₩", 0), "USD": ("$", 2), "EUR": ("€", 2), "JPY": ("¥", 0)}


def format_money(amount, currency="KRW") -> str:
    if amount is None:
        return ""
    symbol, digits = CURRENCIES.get((currency or "KRW").upper(), ("", 2))
    if digits:
        major = f"{int(amount) / 10**digits:,.{digits}f}"
    else:
        major = f"{int(amount):,}"
    if currency == "KRW" and (get_language() or "ko").startswith("ko"):
        return f"{major}원"
    return f"{symbol}{major}" if symbol else f"{major} {currency}"


@register.filter
def money(amount, currency="KRW"):
    return format_money(amount, currency)


@register.filter
def stars(value) -> str:
    try:
        n = round(float(value or 0))
    except (TypeError, ValueError):
        n = 0
    return "★" * n + "☆" * (5 - n)


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters changed (for sort links and pagination)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + params.urlencode() if params else "?"


__all__ = ["intcomma"]

"""Template helpers of the store: money in minor units shown in the reader's language."""

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

from bidcart.catalog import models as catalog_models
from bidcart.core import money as core_money
from bidcart.core.money import format_money

register = template.Library()


@register.filter
def money(amount, currency="KRW"):
    return format_money(amount, currency)


@register.filter
def currency_places(currency) -> int:
    """The currency's minor-unit digits from core.money's one table (for the live room's money.js)."""
    return core_money.exponent(currency or "KRW")


@register.filter
def currency_symbol(currency) -> str:
    return core_money.SYMBOLS.get((currency or "KRW").upper(), "")


@register.filter
def option_label(attributes) -> str:
    return catalog_models.option_label(attributes)


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

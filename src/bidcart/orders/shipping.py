"""The shipping rule, in one place: the order charges it, the cart and the checkout show it before."""

from dataclasses import dataclass

from django.conf import settings


def shipping_fee(subtotal: int, currency: str) -> int:
    """Flat fee, free from a threshold (KRW defaults: ₩3,000, free from ₩50,000)."""
    return 0 if subtotal >= settings.ORDER_FREE_SHIPPING_FROM else settings.ORDER_SHIPPING_FEE


@dataclass(frozen=True)
class ShippingQuote:
    fee: int
    free_from: int
    missing: int  # how much more makes shipping free (0: it is free already)


def quote(subtotal: int, currency: str) -> ShippingQuote:
    fee = shipping_fee(subtotal, currency)
    free_from = settings.ORDER_FREE_SHIPPING_FROM
    return ShippingQuote(fee=fee, free_from=free_from, missing=max(free_from - subtotal, 0) if fee else 0)

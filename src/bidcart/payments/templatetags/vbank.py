"""`{{ payment|vbank }}`: what a buyer reads about a virtual account (가상계좌): the bank's name in their
language, the account, the holder, the deadline as an aware datetime (shown in Asia/Seoul by the
template's date filter) and whether it is closed (the order was paid another way, cancelled or expired)."""

from django import template
from django.utils.dateparse import parse_datetime

from .. import banks
from ..models import OPEN, Method

register = template.Library()


@register.filter
def vbank(payment) -> dict | None:
    info = payment.vbank or {}
    if payment.method != Method.VBANK or not info.get("account"):
        return None
    bank = banks.find(info.get("bank", ""))
    return {
        "bank": bank.name if bank else info.get("bank", ""),
        "account": info["account"],
        "holder": info.get("holder", ""),
        "due": parse_datetime(info["due"]) if info.get("due") else None,
        "amount": payment.provider_amount,
        "currency": payment.provider_currency,
        "open": payment.status in OPEN,
    }

"""`{{ payment|vbank }}`: what a buyer reads about a virtual account (가상계좌): the bank's name in their
language, the account, the holder, the deadline as an aware datetime (shown in Asia/Seoul by the
template's date filter) and whether it is closed (the order was paid another way, cancelled or expired)."""

from django import template
from django.utils.dateparse import parse_datetime

from .. import banks
from ..models import CAPTURED, OPEN, Method

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
        # ended without the deposit (order cancelled, expired or paid another way): not to be paid into
        "closed": payment.status not in OPEN and payment.status not in CAPTURED,
    }


@register.filter
def refund_account_shown(payment) -> str:
    """The saved refund account as its owner sees it: bank and the number's last 4 digits."""
    account = payment.refund_account or {}
    if not account.get("number"):
        return ""
    bank = banks.find(account.get("bank", ""))
    return f"{bank.name if bank else ''} ****{account['number'][-4:]} {account.get('holder', '')}".strip()


@register.filter
def wants_refund_account(payment) -> bool:
    """A bank-deposit payment with money at the provider: its refund goes to an account the buyer gives."""
    return payment.method == Method.VBANK and payment.status in CAPTURED and payment.status != "refunded"


@register.simple_tag
def bank_choices() -> list[tuple[str, str]]:
    return banks.choices()

"""Payment reads shared by pages, the API and the admin. A buyer sees their own payments; staff see all."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from . import providers
from .models import Payment, PaymentEvent, Refund

# What a buyer may see of the log: outcomes, not provider calls and payloads.
BUYER_EVENTS = [PaymentEvent.Type.STATUS, PaymentEvent.Type.CAPTURED, PaymentEvent.Type.REFUNDED, PaymentEvent.Type.MISMATCH]


@dataclass
class Choice:
    provider: str
    label: str
    methods: tuple[str, ...]
    amount: str = ""  # what paying `order` with it charges, in words: "$19.29 (27,000원)" where it converts


def charge_label(provider: str, amount: int, currency: str) -> str:
    """The amount a buyer pays with `provider`: the shop's amount, or where the provider charges another
    currency, the converted amount first and the shop's in brackets (services.charge_in converts)."""
    from bidcart.catalog.templatetags.shop import format_money

    from .services import charge_in

    charged, charged_in = charge_in(provider, amount, currency)
    if charged_in == currency:
        return format_money(amount, currency)
    return f"{format_money(charged, charged_in)} ({format_money(amount, currency)})"


def choices(order=None) -> list[Choice]:
    out = []
    for name in providers.enabled():
        cls = providers.adapter_class(name)
        amount = charge_label(name, order.total, order.currency) if order is not None else ""
        out.append(Choice(name, cls.label or name, cls.methods, amount))
    return out


def visible_payment(user, merchant_uid: str) -> Payment | None:
    qs = Payment.objects.select_related("order")
    if not user.is_staff:
        qs = qs.filter(buyer=user)
    return qs.filter(merchant_uid=merchant_uid).first()


def order_payments(order) -> list[Payment]:
    return list(order.payments.prefetch_related("refunds").order_by("created_at", "id"))


def buyer_events(payment: Payment) -> QuerySet:
    return payment.events.filter(type__in=BUYER_EVENTS).order_by("created_at", "id")


def refunds(payment: Payment) -> QuerySet:
    return Refund.objects.filter(payment=payment).order_by("created_at", "id")


def saved_methods(user):
    """The buyer's saved cards (billing keys) that are registered or being registered, default first."""
    from .models import SavedPaymentMethod

    return SavedPaymentMethod.objects.filter(user=user).exclude(state=SavedPaymentMethod.State.DELETED)


def saved_method(user, method_id: int):
    return saved_methods(user).filter(pk=method_id).first()

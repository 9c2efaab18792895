"""Payment reads shared by pages, the API and the admin. A buyer sees their own payments; staff see all."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from . import providers
from .models import Payment, PaymentEvent, Refund

# What a buyer may see of the log: outcomes, not provider calls and payloads.
BUYER_EVENTS = [
    PaymentEvent.Type.STATUS,
    PaymentEvent.Type.CAPTURED,
    PaymentEvent.Type.REFUNDED,
    PaymentEvent.Type.MISMATCH,
]


@dataclass
class Choice:
    """One way to pay as the buyer sees it: a type of payment (카드, 카카오페이, ...), never a PG's name; the
    provider and method behind it are what the form posts."""

    kind: str
    label: str
    provider: str
    method: str
    amount: str = ""  # what paying `order` with it charges, in words: "$19.29 (27,000원)" where it converts


# The Korean card PGs, in the order the card choice prefers them when PAYMENT_CARD_PROVIDER leaves it open.
CARD_PROVIDERS = ("portone_v2", "portone")


def card_provider() -> str | None:
    """Which enabled provider serves 카드 (and 무통장입금/가상계좌): PAYMENT_CARD_PROVIDER when it names an
    enabled one, else the first enabled of CARD_PROVIDERS (settings.py refuses a name that is not enabled)."""
    enabled = providers.enabled()
    configured = getattr(settings, "PAYMENT_CARD_PROVIDER", "")
    if configured in enabled:
        return configured
    return next((name for name in CARD_PROVIDERS if name in enabled), None)


def _types() -> list[tuple[str, str, str | None, str]]:
    """(kind, label, provider or None when nothing enabled serves it, method), in the order the page lists them."""
    enabled = providers.enabled()
    card = card_provider()

    def only(name):
        return name if name in enabled else None

    return [
        ("card", _("Card"), card, "card"),
        ("kakaopay", _("KakaoPay"), only("kakaopay"), "card"),
        (
            "vbank",
            _("Bank deposit / virtual account"),
            card if card and "vbank" in providers.adapter_class(card).methods else None,
            "vbank",
        ),
        ("paypal", "PayPal", only("paypal"), "card"),
    ]


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
    """The pay page's choices by type. A provider no type names (a plug-in) is offered under its own label;
    the other card PG, when both PortOne versions are enabled, stays reachable through the API only."""
    picked = [(kind, label, name, method) for kind, label, name, method in _types() if name]
    served = set(CARD_PROVIDERS) | {"kakaopay", "paypal"}
    for name in providers.enabled():
        if name not in served:
            cls = providers.adapter_class(name)
            picked += [(f"{name}-{method}", cls.label or name, name, method) for method in cls.methods]
    amounts = {}
    out = []
    for kind, label, name, method in picked:
        if order is not None and name not in amounts:
            amounts[name] = charge_label(name, order.total, order.currency)
        out.append(Choice(kind, str(label), name, method, amounts.get(name, "")))
    return out


def visible_payment(user, merchant_uid: str) -> Payment | None:
    qs = Payment.objects.select_related("order")
    if not user.is_staff:
        qs = qs.filter(buyer=user)
    return qs.filter(merchant_uid=merchant_uid).first()


def payment_order_number(merchant_uid: str) -> str | None:
    """The number of the order a payment is for (where the buyer's pages send them back)."""
    return Payment.objects.filter(merchant_uid=merchant_uid).values_list("order__number", flat=True).first()


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

"""Subscriptions as a buyer makes them: a seller's product offered weekly (and monthly), a card registered on
PortOne's window (the payment simulator, over real HTTP), a subscription starting tomorrow in Seoul."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core import mail

from bidcart.payments import billing
from bidcart.payments.models import SavedPaymentMethod
from bidcart.subscriptions import services
from bidcart.subscriptions.models import Subscription
from tests.catalog.factories import make_product
from tests.payments.fixtures import ADDRESS, pay_in_portone_window

GOOD_CARD = "9100200000000005"
DECLINING_CARD = "4000000000000002"  # pgsim: issued, every charge declined for insufficient funds
PRICE, SHIPPING = 30_000, 3_000  # under 50,000원 shipping is charged (orders/shipping.py)


def card(user, number: str = GOOD_CARD) -> SavedPaymentMethod:
    method, nxt = billing.start_saving_method(user, provider="portone")
    pay_in_portone_window(nxt.script, {**nxt.params, "card_number": number})
    return billing.confirm_saved_method(user, method.pk)


def offered(seller, *, intervals=("1w", "1m"), stock=10, price=PRICE, name="원두 커피 1kg"):
    product = make_product(seller, name=name, price=price, stock=stock)
    services.set_plan(seller, product.pk, list(intervals))
    return product


def subscribe(buyer, product, method, *, interval="1w", quantity=1, days_ahead=1) -> Subscription:
    return services.subscribe(
        buyer,
        variant_id=product.variants.get().pk,
        quantity=quantity,
        interval=interval,
        method_id=method.pk,
        shipping_address=ADDRESS,
        first_date=services.seoul_today() + timedelta(days=days_ahead),
    )


def due(sub: Subscription, *, after: timedelta = timedelta(minutes=1)) -> datetime:
    """A moment just after the subscription's next cycle is due."""
    sub.refresh_from_db()
    return sub.next_at + after


def subjects(to: str | None = None) -> list[str]:
    return [m.subject for m in mail.outbox if to is None or to in m.to]


def charged_at_portone(sim, method: SavedPaymentMethod, status: str = "paid") -> list[dict]:
    return [
        p
        for p in sim.ledger()["iamport_payments"].values()
        if p.get("customer_uid") == method.reference and p["status"] == status
    ]

"""Subscription cycles on PostgreSQL with two sweeps (and a retried charging task) racing on their own
connections at every moment, against the payment simulator over real HTTP: each cycle is one order and one
charge, the declined one is retried once, and every email goes out once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from bidcart.orders.models import Order
from bidcart.orders.models import Status as OrderStatus
from bidcart.payments.models import Payment
from bidcart.subscriptions import services
from bidcart.subscriptions.models import Cycle
from tests.catalog.factories import make_user
from tests.services.test_store_concurrency import race_on_own_connections
from tests.subscriptions.helpers import card, charged_at_portone, due, offered, subscribe

SUBSCRIBERS = 4
WEEK, DAY, MINUTE = timedelta(weeks=1), timedelta(days=1), timedelta(minutes=1)


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_charge_each_cycle_exactly_once(sim, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    seller = make_user("sub-race-seller@example.com", seller=True)
    product = offered(seller, stock=100)
    subs, methods = [], []
    for i in range(SUBSCRIBERS):
        buyer = make_user(f"sub-racer-{i}@example.com")
        methods.append(card(buyer))
        subs.append(subscribe(buyer, product, methods[-1]))
    t = due(subs[0])
    # cycle 1; cycle 2 with one card declined by PortOne (out of funds); its retry a day later; cycle 3
    moments = [("cycle 1", t), ("cycle 2", t + WEEK), ("retry", t + WEEK + DAY + MINUTE), ("cycle 3", t + 2 * WEEK)]
    for label, now in moments:
        if label == "cycle 2":
            sim.next_outcome("iamport", "insufficient_funds")
        _, errors = race_on_own_connections(
            [
                lambda now=now: services.run_cycles(now=now),
                lambda now=now: services.run_cycles(now=now),  # a second worker's sweep
                lambda now=now: services.charge_open_cycles(now),  # a retried charging task
            ]
        )
        assert not errors, (label, errors)

    cycles = Cycle.objects.filter(subscription__in=subs)
    assert cycles.count() == 3 * SUBSCRIBERS and {c.state for c in cycles} == {"paid"}
    assert sorted(c.attempts for c in cycles) == [0] * (3 * SUBSCRIBERS - 1) + [1]
    orders = Order.objects.filter(subscription_cycle__in=cycles)
    assert orders.count() == 3 * SUBSCRIBERS and {o.status for o in orders} == {OrderStatus.PAID}
    for order in orders:
        assert Payment.objects.filter(order=order, status="paid").count() == 1
    assert Payment.objects.filter(order__in=orders, status="failed").count() == 1
    for method in methods:
        assert len(charged_at_portone(sim, method)) == 3
    assert sum(len(charged_at_portone(sim, method, "failed")) for method in methods) == 1  # the one decline
    charged = [m for m in mail.outbox if "정기배송 결제가 완료되었습니다" in m.subject]
    declined = [m for m in mail.outbox if "카드 결제가 거절되었습니다" in m.subject]
    assert (len(charged), len(declined)) == (3 * SUBSCRIBERS, 1)
    assert product.variants.get().stock == 100 - 3 * SUBSCRIBERS

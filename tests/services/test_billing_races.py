"""Charging a saved card on PostgreSQL with racers on their own connections (a retried task, a second worker,
a second key for the same order), against a real payment simulator: the order is charged exactly once."""

from __future__ import annotations

import pytest

from bidcart.core.errors import DomainError
from bidcart.orders.models import Status as OrderStatus
from bidcart.payments import billing
from bidcart.payments.models import Payment, PaymentEvent, Status
from tests.cast import save_card
from tests.factories import make_user
from tests.payments.fixtures import make_order
from tests.services.test_store_concurrency import race_on_own_connections

ROUNDS = 5


@pytest.mark.django_db(transaction=True)
def test_racing_charges_of_one_order_take_the_money_once(sim):
    buyer = make_user("billing-racer@example.com")
    method = save_card(buyer)
    for round_ in range(ROUNDS):
        order = make_order(buyer)
        _, errors = race_on_own_connections(
            [
                lambda: billing.charge_saved_method(order, method, key=f"cycle-{round_}"),
                lambda: billing.charge_saved_method(order, method, key=f"cycle-{round_}"),  # the retried task
                lambda: billing.charge_saved_method(order, method, key=f"other-{round_}"),  # another key, same order
            ]
        )
        assert all(isinstance(e, DomainError) for e in errors), errors
        payments = Payment.objects.filter(order=order)
        assert [p.status for p in payments] == [Status.PAID]
        assert PaymentEvent.objects.filter(payment__order=order, type=PaymentEvent.Type.CAPTURED).count() == 1
        at_portone = [
            p
            for p in sim.ledger()["iamport_payments"].values()
            if p["merchant_uid"] in {p.merchant_uid for p in payments}
        ]
        assert len(at_portone) == 1
        order.refresh_from_db()
        assert order.status == OrderStatus.PAID

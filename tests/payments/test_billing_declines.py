"""A card that charged fine is declined once, as a real card runs out of funds between two charges: the
simulator's control API queues a decline for a provider's next billing-key charge (docs/pgsim.md), and
bidcart sees it as the provider's decline, then charges the same key again. PortOne V1's case runs in
tests/subscriptions/test_cycles.py (a subscription's cycle declined, then retried)."""

from __future__ import annotations

import pytest

from bidcart.orders.models import Status as OrderStatus
from bidcart.payments import billing, outcomes
from bidcart.payments.models import Status
from tests.payments.billing_helpers import saved
from tests.payments.fixtures import make_order

pytestmark = pytest.mark.django_db

SIMULATED = {"portone_v2": "portone", "kakaopay": "kakaopay", "paypal": "paypal"}  # bidcart's name → pgsim's


@pytest.mark.parametrize("provider", list(SIMULATED))
@pytest.mark.parametrize("reason", ["insufficient_funds", "expired_card"])
def test_a_good_card_declined_once_fails_that_charge_and_the_next_one_pays(sim, buyer, provider, reason):
    method = saved(buyer, provider)
    order = make_order(buyer)
    sim.next_outcome(SIMULATED[provider], reason)
    declined = billing.charge_saved_method(order, method, key="try-1")
    assert declined.status == Status.FAILED and declined.buyer_message == str(outcomes.DECLINED)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    paid = billing.charge_saved_method(order, method, key="try-2")
    assert paid.status == Status.PAID
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID

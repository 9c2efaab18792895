"""Payment races on PostgreSQL: the browser's return (twice: a double click), the provider's webhook and
the reconciliation sweep arrive for one payment at the same instant, each on its own connection, against
a real payment simulator. Exactly one paid transition, one capture at the simulator; concurrent refunds
never give back more than was captured."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bidcart.core.errors import DomainError
from bidcart.orders.models import Status as OrderStatus
from bidcart.payments import services
from bidcart.payments.models import Payment, PaymentEvent, Refund, Status
from tests.factories import make_user
from tests.payments.fixtures import make_order
from tests.services.test_store_concurrency import race_on_own_connections

ROUNDS = 8


def approved_paypal_payment(sim, buyer, recorder):
    """A PayPal payment the buyer approved on PayPal's page; its browser return and the approval webhook
    are both in hand, not yet delivered to the shop."""
    order = make_order(buyer)
    payment, nxt = services.start_payment(buyer, order, provider="paypal", site_url="http://shop.test")
    seen = len(recorder.deliveries)
    sim.next_outcome("paypal", "approve")
    location = httpx.get(nxt.url, follow_redirects=False, timeout=10).headers["location"]
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    deadline = time.monotonic() + 10
    while len(recorder.deliveries) == seen:
        assert time.monotonic() < deadline, "the simulator sent no CHECKOUT.ORDER.APPROVED webhook"
        time.sleep(0.05)
    return payment, params, recorder.deliveries[-1]


@pytest.mark.django_db(transaction=True)
def test_return_webhook_and_reconciliation_racing_capture_exactly_once(sim, webhook_recorder, settings, pgsim_app):
    settings.PAYMENT_RECONCILE_AFTER_MINUTES = 0
    buyer = make_user("racing-buyer@example.com")
    for _ in range(ROUNDS):
        payment, params, delivery = approved_paypal_payment(sim, buyer, webhook_recorder)
        uid = payment.merchant_uid

        def webhook():
            stored = services.receive_webhook(
                "paypal", headers=delivery["headers"], body=delivery["body"], remote_ip="127.0.0.1"
            )
            services.process_webhook(stored)

        _, errors = race_on_own_connections(
            [
                lambda: services.confirm_payment(uid, params),
                lambda: services.confirm_payment(uid, params),  # the double click
                webhook,
                lambda: services.reconcile_payment(uid),
            ]
        )
        assert not errors, errors
        payment = Payment.objects.get(merchant_uid=uid)
        assert payment.status == Status.PAID
        assert payment.events.filter(type=PaymentEvent.Type.CAPTURED).count() == 1
        assert payment.events.filter(type=PaymentEvent.Type.STATUS, to_status=Status.PAID).count() == 1
        assert payment.order.events.filter(to_status=OrderStatus.PAID).count() == 1
        captures = [c for c in sim.ledger()["paypal_captures"].values() if c["order_id"] == payment.psp["order_id"]]
        assert len(captures) == 1, "the simulator charged the buyer more than once"


@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_never_exceed_the_captured_amount(sim, webhook_recorder, settings):
    buyer = make_user("refund-buyer@example.com")
    payment, params, _delivery = approved_paypal_payment(sim, buyer, webhook_recorder)
    services.confirm_payment(payment.merchant_uid, params)
    payment.refresh_from_db()
    assert payment.status == Status.PAID and payment.amount == 28000
    staff = make_user("refund-staff@example.com", staff=True)
    refused = []

    def refund():
        try:
            services.refund_payment(payment.merchant_uid, amount=10000, reason="race", actor=staff)
        except DomainError as error:
            refused.append(error.code)

    _, errors = race_on_own_connections([refund] * 8)
    assert not errors, errors
    payment.refresh_from_db()
    succeeded = Refund.objects.filter(payment=payment, status=Refund.Status.SUCCEEDED)
    assert succeeded.count() == 2 and payment.totals()["refunded"] == 20000
    assert refused == ["refund_exceeds_captured"] * 6
    assert payment.status == Status.PARTIALLY_REFUNDED


def portone_attempt_paid_at_provider(sim, buyer, order):
    """A PortOne V1 card attempt on `order` that the buyer approved in PortOne's window (the provider
    holds the money); the shop has heard nothing yet."""
    from tests.payments.fixtures import pay_in_portone_window

    payment, nxt = services.start_payment(buyer, order, provider="portone", site_url="http://shop.test")
    location = pay_in_portone_window(nxt.script, nxt.params, "approve")
    return payment, {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.mark.django_db(transaction=True)
def test_two_attempts_paid_at_the_provider_and_racing_every_path_pay_the_order_once_and_refund_the_other(sim, settings):
    """Both attempts of one order were approved at PortOne; their returns, cancel landings and the sweep
    all arrive at once. The order is paid exactly once; the other attempt's money goes back, once."""
    settings.PAYMENT_RECONCILE_AFTER_MINUTES = 0
    buyer = make_user("two-attempts@example.com")
    for _ in range(ROUNDS // 2):
        order = make_order(buyer)
        (one, one_params), (two, two_params) = (portone_attempt_paid_at_provider(sim, buyer, order) for _ in range(2))
        _, errors = race_on_own_connections(
            [
                lambda: services.confirm_payment(one.merchant_uid, one_params),
                lambda: services.confirm_payment(two.merchant_uid, two_params),
                lambda: services.abandon_payment(one.merchant_uid, failed=False),  # a cancel landing racing the return
                lambda: services.abandon_payment(two.merchant_uid, failed=True),
                lambda: services.reconcile(),
            ]
        )
        assert not errors, errors
        order.refresh_from_db()
        payments = sorted(Payment.objects.filter(order=order), key=lambda p: p.status)
        assert order.status == OrderStatus.PAID
        assert order.events.filter(to_status=OrderStatus.PAID).count() == 1
        assert [p.status for p in payments] == [Status.PAID, Status.REFUNDED]
        for payment in payments:
            assert payment.events.filter(type=PaymentEvent.Type.CAPTURED).count() == 1
        refunded = payments[1]
        assert Refund.objects.filter(payment=refunded, status=Refund.Status.SUCCEEDED).count() == 1
        held = services._adapter(refunded, "test").fetch(refunded)
        assert held.refunded == held.amount  # given back at PortOne, exactly once

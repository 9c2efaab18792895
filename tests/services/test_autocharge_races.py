"""A win charged to a saved card at the close (issue #17 item 4) on PostgreSQL, with racers on their own
connections — two closing sweeps and the retry sweep at once — against a real payment simulator: the winner's
card is charged once, the order is paid once and the buyer hears of it once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction

from bidcart.auctions import services
from bidcart.auctions.models import Win
from bidcart.auctions.services import autocharge
from bidcart.orders import services as order_services
from bidcart.orders.models import Status as OrderStatus
from bidcart.payments.models import Payment, PaymentEvent
from bidcart.payments.models import Status as PaymentStatus
from tests.auctions.factories import bidder, end_now, make_lot
from tests.cast import save_card
from tests.payments.fixtures import ADDRESS
from tests.services.test_store_concurrency import race_on_own_connections

ROUNDS = 3


@pytest.mark.django_db(transaction=True)
def test_two_closers_and_the_retry_sweep_charge_a_winners_card_once(sim, mailoutbox, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    buyer = bidder("autocharge-racer@example.com", language="en")
    save_card(buyer)
    order_services.save_address(buyer, ADDRESS, default=True)
    for _round in range(ROUNDS):
        lot = make_lot(start=20_000)
        services.place_bid(buyer, lot.pk, 25_000, pay_with_saved_method=True)
        end_now(lot)
        mailoutbox.clear()
        _, errors = race_on_own_connections(
            [
                lambda: services.close_lot(lot.pk),
                lambda: services.close_lot(lot.pk),
                lambda: autocharge.retry_due_charges(older_than=timedelta(0)),
            ]
        )
        assert errors == []
        win = Win.objects.select_related("order").get(lot=lot)
        assert win.charge == Win.Charge.PAID and win.order.status == OrderStatus.PAID
        payments = list(Payment.objects.filter(order=win.order))
        assert [p.status for p in payments] == [PaymentStatus.PAID]
        assert PaymentEvent.objects.filter(payment__order=win.order, type=PaymentEvent.Type.CAPTURED).count() == 1
        at_portone = [
            p for p in sim.ledger()["iamport_payments"].values() if p["merchant_uid"] == payments[0].merchant_uid
        ]
        assert len(at_portone) == 1
        assert len([m for m in mailoutbox if "it is paid" in m.subject]) == 1


@pytest.mark.django_db(transaction=True)
def test_racing_charges_of_a_due_win_charge_once_and_email_once(sim, mailoutbox, settings):
    """The closer stopped right after its commit (the charge still due): the retry sweep and two more workers
    charge the win at once, the provider answering slowly — one charge, one paid order, one email."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    buyer = bidder("autocharge-due-racer@example.com", language="en")
    save_card(buyer)
    order_services.save_address(buyer, ADDRESS, default=True)
    lot = make_lot(start=20_000)
    services.place_bid(buyer, lot.pk, 25_000, pay_with_saved_method=True)
    end_now(lot)
    with transaction.atomic():
        assert services.close_lot(lot.pk) == "sold"
        connection.run_on_commit = []  # the closer dies after its commit: nothing it meant to do after it runs
    win = Win.objects.get(lot=lot)
    assert win.charge == Win.Charge.DUE and not Payment.objects.filter(order=win.order).exists()
    sim.fault("/iamport/subscribe/payments/again", method="POST", latency_ms=800)
    _, errors = race_on_own_connections(
        [
            lambda: autocharge.charge_win(win.pk),
            lambda: autocharge.charge_win(win.pk),
            lambda: autocharge.retry_due_charges(older_than=timedelta(0)),
        ]
    )
    sim.clear_faults()
    assert errors == []
    win.refresh_from_db()
    assert win.charge == Win.Charge.PAID
    payments = list(Payment.objects.filter(order=win.order))
    assert [p.status for p in payments] == [PaymentStatus.PAID]
    assert (
        len([p for p in sim.ledger()["iamport_payments"].values() if p["merchant_uid"] == payments[0].merchant_uid])
        == 1
    )
    assert len([m for m in mailoutbox if "it is paid" in m.subject]) == 1

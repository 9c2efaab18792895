"""A subscription's cycles run by the sweep against the payment simulator over real HTTP (PortOne V1 billing
keys): each cycle is one order with its stock allocated and one charge of the saved card; a decline is
retried after 1 and 3 days, then the delivery is cancelled and the subscription paused, with emails."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from bidcart.catalog.models import Variant
from bidcart.orders.models import Order
from bidcart.orders.models import Status as OrderStatus
from bidcart.payments import billing, outcomes
from bidcart.payments.models import Payment
from bidcart.payments.models import Status as PaymentStatus
from bidcart.subscriptions import services
from bidcart.subscriptions.models import Cycle, Subscription
from tests.subscriptions.helpers import (
    DECLINING_CARD,
    PRICE,
    card,
    charged_at_portone,
    due,
    offered,
    subjects,
    subscribe,
)

pytestmark = pytest.mark.django_db(transaction=True)  # the emails go out on commit
DAY = timedelta(days=1)
CHARGE = "/iamport/subscribe/payments/again"


def test_three_cycles_with_one_declined_then_retried_make_three_orders_and_three_charges(sim, seller, buyer):
    product = offered(seller, stock=10)
    method = card(buyer)
    sub = subscribe(buyer, product, method, quantity=2)

    # cycle 1, on its date: ordered, two units allocated, charged once; a second sweep finds nothing to do
    t1 = due(sub)
    assert services.run_cycles(now=t1) == {"opened": 1, "charged": 1, "reminded": 0}
    assert services.run_cycles(now=t1) == {"opened": 0, "charged": 0, "reminded": 0}
    assert Variant.objects.get(product=product).stock == 8

    # cycle 2: the card has run out of funds; PortOne answers the charge as declined (status failed, with
    # its reason); the order stays reserved and the card is tried a day later
    t2 = due(sub)
    sim.next_outcome("iamport", "insufficient_funds")
    services.run_cycles(now=t2)
    cycle2 = Cycle.objects.get(subscription=sub, number=2)
    assert (cycle2.state, cycle2.attempts, cycle2.next_attempt_at) == (Cycle.State.RETRYING, 1, t2 + DAY)
    assert "잔액이 부족" in cycle2.note  # PortOne's reason, for staff
    assert len(charged_at_portone(sim, method, "failed")) == 1
    assert cycle2.order.status == OrderStatus.PENDING_PAYMENT and cycle2.order.payment_due_at >= t2 + 2 * DAY
    assert services.run_cycles(now=t2 + DAY - timedelta(minutes=5))["charged"] == 0  # not before its time
    services.run_cycles(now=t2 + DAY + timedelta(minutes=1))
    cycle2.refresh_from_db()
    assert (cycle2.state, cycle2.attempts) == (Cycle.State.PAID, 1)

    # cycle 3, a week after cycle 2's date
    t3 = due(sub)
    assert t3 - t2 == timedelta(weeks=1)
    services.run_cycles(now=t3)
    services.run_cycles(now=t3)

    cycles = list(Cycle.objects.filter(subscription=sub).order_by("number"))
    assert [(c.number, c.state) for c in cycles] == [(1, "paid"), (2, "paid"), (3, "paid")]
    orders = Order.objects.filter(subscription_cycle__subscription=sub)
    assert orders.count() == 3 and {o.status for o in orders} == {OrderStatus.PAID}
    assert {o.total for o in orders} == {2 * PRICE}  # 60,000원: shipping is free from 50,000원
    assert Variant.objects.get(product=product).stock == 4
    payments = Payment.objects.filter(order__in=orders)
    assert sorted(p.status for p in payments) == ["failed", "paid", "paid", "paid"]
    assert len(charged_at_portone(sim, method)) == 3
    assert sum(p["amount"] for p in charged_at_portone(sim, method)) == 3 * 2 * PRICE
    name = product.name
    assert subjects(buyer.email).count(f"[bidcart] {name} 정기배송 결제가 완료되었습니다") == 3
    assert subjects(buyer.email).count(f"[bidcart] {name} 정기배송 카드 결제가 거절되었습니다") == 1


def test_a_charge_portone_refuses_outright_is_retried_like_a_decline(sim, seller, buyer):
    """Not a decline but an error answer (HTTP 400 from the charge call): the money did not move, so the cycle
    is retried on the same schedule."""
    product = offered(seller, stock=10)
    method = card(buyer)
    sub = subscribe(buyer, product, method)
    t = due(sub)
    sim.fault(CHARGE, status=400, count=1)
    services.run_cycles(now=t)
    cycle = Cycle.objects.get(subscription=sub, number=1)
    assert (cycle.state, cycle.attempts, cycle.next_attempt_at) == (Cycle.State.RETRYING, 1, t + DAY)
    services.run_cycles(now=t + DAY + timedelta(minutes=1))
    cycle.refresh_from_db()
    assert cycle.state == Cycle.State.PAID and len(charged_at_portone(sim, method)) == 1


def test_a_card_declined_three_times_cancels_the_delivery_and_pauses_the_subscription(sim, seller, buyer):
    product = offered(seller, stock=5)
    method = card(buyer, DECLINING_CARD)
    sub = subscribe(buyer, product, method)
    t = due(sub)
    services.run_cycles(now=t)  # declined: retry after a day
    services.run_cycles(now=t + DAY + timedelta(minutes=1))  # declined: retry two days later (3 days after the first)
    cycle = Cycle.objects.get(subscription=sub, number=1)
    assert (cycle.state, cycle.attempts, cycle.next_attempt_at) == ("retrying", 2, t + 3 * DAY + timedelta(minutes=1))
    declined = [m.body for m in mail.outbox if "거절" in m.subject]
    assert "잔액이 부족" in cycle.note or "거절" in cycle.note  # why, for staff
    assert str(outcomes.DECLINED) in declined[0]  # and for the buyer, in their words
    services.run_cycles(now=t + 3 * DAY + timedelta(minutes=2))  # the last try

    cycle.refresh_from_db()
    sub.refresh_from_db()
    assert (cycle.state, cycle.attempts) == ("failed", 3)
    assert cycle.order.status == OrderStatus.CANCELLED
    assert Variant.objects.get(product=product).stock == 5  # the unit went back
    assert (sub.state, sub.pause_reason) == ("paused", "declined")
    assert len(charged_at_portone(sim, method, "failed")) == 3 and not charged_at_portone(sim, method)
    name = product.name
    assert subjects(buyer.email).count(f"[bidcart] {name} 정기배송 카드 결제가 거절되었습니다") == 2
    assert subjects(buyer.email).count(f"[bidcart] {name} 정기배송이 일시정지되었습니다") == 1
    # paused: the next weeks make no order and no charge
    services.run_cycles(now=t + 14 * DAY)
    assert Cycle.objects.filter(subscription=sub).count() == 1
    assert len(charged_at_portone(sim, method, "failed")) == 3


def test_after_a_decline_the_retry_charges_the_card_the_buyer_chose_meanwhile(sim, seller, buyer):
    product = offered(seller)
    declining, good = card(buyer, DECLINING_CARD), card(buyer)
    sub = subscribe(buyer, product, declining)
    t = due(sub)
    services.run_cycles(now=t)
    services.change_method(buyer, sub.pk, good.pk)
    services.run_cycles(now=t + DAY + timedelta(minutes=1))
    cycle = Cycle.objects.get(subscription=sub)
    assert (cycle.state, cycle.order.status) == ("paid", OrderStatus.PAID)
    assert len(charged_at_portone(sim, good)) == 1 and len(charged_at_portone(sim, declining, "failed")) == 1


def test_out_of_stock_skips_that_delivery_with_an_email_and_the_subscription_goes_on(sim, seller, buyer):
    product = offered(seller, stock=1)
    method = card(buyer)
    sub = subscribe(buyer, product, method, quantity=2)
    t = due(sub)
    services.run_cycles(now=t)
    cycle = Cycle.objects.get(subscription=sub)
    sub.refresh_from_db()
    assert (cycle.state, cycle.order) == ("out_of_stock", None)
    assert sub.state == "active" and sub.next_at == t - timedelta(minutes=1) + timedelta(weeks=1)
    assert Variant.objects.get(product=product).stock == 1 and not charged_at_portone(sim, method)
    assert f"[bidcart] 품절로 이번 {product.name} 배송을 건너뜁니다" in subjects(buyer.email)
    Variant.objects.filter(product=product).update(stock=10)  # restocked: the next cycle is delivered
    services.run_cycles(now=due(sub))
    assert Cycle.objects.get(subscription=sub, number=2).state == "paid"


def test_a_product_no_longer_sold_pauses_the_subscription(sim, seller, buyer):
    product = offered(seller)
    sub = subscribe(buyer, product, card(buyer))
    product.active = False
    product.save()
    services.run_cycles(now=due(sub))
    sub.refresh_from_db()
    assert (sub.state, sub.pause_reason) == ("paused", "unavailable")
    assert not Cycle.objects.filter(subscription=sub).exists()
    assert f"[bidcart] {product.name} 정기배송이 일시정지되었습니다" in subjects(buyer.email)


def test_a_deleted_card_pauses_the_subscription_before_any_order(sim, seller, buyer):
    product = offered(seller)
    method = card(buyer)
    sub = subscribe(buyer, product, method)
    billing.delete_saved_method(buyer, method.pk)
    services.run_cycles(now=due(sub))
    sub.refresh_from_db()
    assert (sub.state, sub.pause_reason) == ("paused", "method")
    assert not Order.objects.filter(user=buyer).exists()


def test_a_sweep_that_died_mid_charge_is_retried_with_the_same_key_and_charges_once(sim, seller, buyer):
    """The worker charged PortOne and died before recording it: its claim lapses, the next sweep charges the same
    key, PortOne refuses the merchant_uid twice, and the first charge is read back."""
    product = offered(seller)
    method = card(buyer)
    sub = subscribe(buyer, product, method)
    t = due(sub)
    services.open_due_cycles(t)
    cycle = Cycle.objects.get(subscription=sub)
    Cycle.objects.filter(pk=cycle.pk).update(claimed_until=t + services.CLAIM)  # the dead worker's claim
    payment = billing.charge_saved_method(cycle.order, method, key=cycle.charge_key())  # it charged…
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.CREATED, paid_at=None)  # …and never wrote it
    assert services.charge_open_cycles(t + timedelta(minutes=1)) == 0  # its claim still holds
    assert services.charge_open_cycles(t + services.CLAIM + timedelta(seconds=1)) == 1
    cycle.refresh_from_db()
    assert cycle.state == "paid" and Payment.objects.filter(order=cycle.order).count() == 1
    assert len(charged_at_portone(sim, method)) == 1


def test_the_renewal_email_goes_out_once_per_cycle_a_few_days_before(sim, seller, buyer):
    product = offered(seller)
    sub = subscribe(buyer, product, card(buyer), days_ahead=10)
    renewal = f"[bidcart] {product.name} 정기배송 결제 예정 안내"
    next_at = due(sub, after=timedelta(0))
    assert services.send_reminders(next_at - 4 * DAY) == 0
    assert services.send_reminders(next_at - 3 * DAY + timedelta(minutes=1)) == 1
    assert services.send_reminders(next_at - 2 * DAY) == 0
    services.change_next_date(buyer, sub.pk, services.seoul_today() + timedelta(days=12))  # moved: still once
    assert services.send_reminders(next_at - DAY) == 0
    assert subjects(buyer.email).count(renewal) == 1
    body = next(m.body for m in __import__("django.core.mail", fromlist=["outbox"]).outbox if m.subject == renewal)
    assert "33,000원" in body  # today's price and shipping, said in the buyer's words


def test_skipping_the_next_delivery_moves_to_the_one_after(sim, seller, buyer):
    product = offered(seller)
    method = card(buyer)
    sub = subscribe(buyer, product, method)
    first = due(sub, after=timedelta(0))
    services.skip_next(buyer, sub.pk)
    sub.refresh_from_db()
    assert sub.next_at == first + timedelta(weeks=1) and sub.next_cycle == 2
    services.run_cycles(now=first + timedelta(minutes=1))
    assert not Order.objects.filter(user=buyer).exists()
    assert [(c.number, c.state) for c in Cycle.objects.filter(subscription=sub)] == [(1, "skipped")]


def test_pausing_during_a_retry_cancels_that_delivery_and_resuming_starts_at_the_next_date(sim, seller, buyer):
    product = offered(seller, stock=3)
    sub = subscribe(buyer, product, card(buyer, DECLINING_CARD))
    t = due(sub)
    services.run_cycles(now=t)
    services.pause(buyer, sub.pk)
    cycle = Cycle.objects.get(subscription=sub)
    assert cycle.state == "cancelled" and cycle.order.status == OrderStatus.CANCELLED
    assert Variant.objects.get(product=product).stock == 3
    services.run_cycles(now=t + DAY + timedelta(minutes=1))  # no retry of a paused subscription
    assert Payment.objects.filter(order=cycle.order).count() == 1
    services.resume(buyer, sub.pk, method_id=card(buyer).pk, now=t + 10 * DAY)
    sub.refresh_from_db()
    assert sub.state == "active" and sub.next_at > t + 10 * DAY


def test_cancelling_ends_the_schedule(sim, seller, buyer):
    product = offered(seller)
    sub = subscribe(buyer, product, card(buyer))
    services.cancel(buyer, sub.pk)
    services.run_cycles(now=due(sub))
    assert Subscription.objects.get(pk=sub.pk).state == "cancelled"
    assert not Cycle.objects.filter(subscription=sub).exists()


def test_monthly_keeps_to_its_day_through_short_months():
    from datetime import date

    day = date(2027, 1, 31)
    dates = []
    for _ in range(3):
        day = services.following(day, "1m", 31)
        dates.append(day)
    assert dates == [date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]


def test_the_sweep_runs_from_the_job_loop_and_celery_beat(sim, seller, buyer, settings):
    """`core.jobs.tick()` (the in-process loop each second, or beat's `bidcart.tick`) runs the cycles."""
    from django.core.cache import cache

    from bidcart.core import jobs

    jobs.autodiscover()
    assert "bidcart.subscriptions.tasks.run_subscription_cycles" in {s.name for s in jobs.registered()}
    product = offered(seller)
    sub = subscribe(buyer, product, card(buyer), days_ahead=1)
    sub.next_at = sub.created_at - timedelta(minutes=1)  # due already
    sub.save()
    cache.delete("bidcart:jobs:due:bidcart.subscriptions.tasks.run_subscription_cycles")
    assert "bidcart.subscriptions.tasks.run_subscription_cycles" in jobs.tick()
    assert Cycle.objects.get(subscription=sub).state == "paid"


def test_an_english_speaking_buyer_is_written_to_in_english(sim, seller):
    from tests.catalog.factories import make_user

    buyer = make_user("english@example.com", language="en")
    product = offered(seller, name="Coffee beans 1kg")
    sub = subscribe(buyer, product, card(buyer))
    services.run_cycles(now=due(sub))
    charged = [
        m
        for m in __import__("django.core.mail", fromlist=["outbox"]).outbox
        if "english@example.com" in m.to and "subscription" in m.subject
    ]  # the order's receipt goes out too
    assert [m.subject for m in charged] == ["[bidcart] Your Coffee beans 1kg subscription was charged"]
    assert "₩33,000 was charged to your card" in charged[0].body

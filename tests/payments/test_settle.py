"""Money that reached a provider is always settled, for every provider, over real HTTP against pgsim.

The shop may have closed a payment locally (a cancel/fail landing, the reconciliation sweep expiring it)
while the provider can still take the money: PortOne's window approves on its own, a bank deposit lands
in an account the shop gave up on, a second attempt on the same order is paid too. Whatever the provider
then reports as paid is adopted by the order if it can still be paid (once), otherwise refunded at the
provider with an event in the log and an email to the buyer.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from bidcart.orders import services as orders
from bidcart.orders.models import Status as OrderStatus
from bidcart.payments import services
from bidcart.payments.models import Payment, PaymentEvent, Refund, Status

from .test_flows import back_to_shop, start, through_page, through_window

pytestmark = pytest.mark.django_db

PROVIDERS = ["kakaopay", "portone", "portone_v2", "paypal"]
# providers whose page completes the payment without a call from the shop (PortOne's window)
SELF_COMPLETING = ["portone", "portone_v2"]


@pytest.fixture
def browser(client, buyer):
    client.force_login(buyer)
    return client


@pytest.fixture
def swept(settings):
    """The sweep looks at every payment at once (no waiting period)."""
    settings.PAYMENT_RECONCILE_AFTER_MINUTES = 0
    return settings


def approve_at_provider(sim, started, provider) -> str:
    """The buyer approves on the provider's page; answers where the browser is sent back to."""
    if provider in SELF_COMPLETING:
        return through_window(started)
    return through_page(sim, provider, started["next"]["url"], "approve")


def held_at_provider(payment) -> int:
    """What the provider holds for this payment right now (paid minus given back), provider minor units."""
    snap = services._adapter(payment, "test").fetch(payment)
    return snap.amount - snap.refunded if snap.state == "paid" else 0


def expire_locally(order, *, order_too: bool):
    """The order's time to pay passes and the sweep closes its open attempts (and, with `order_too`,
    the orders sweep expires the order)."""
    order.payment_due_at = timezone.now() - timezone.timedelta(minutes=1)
    order.save(update_fields=["payment_due_at"])
    if order_too:
        assert orders.expire_unpaid() == 1
    services.reconcile()


def refund_mail(buyer, order):
    return [
        m for m in mail.outbox if m.to == [buyer.email] and order.number in m.subject and "환불" in m.subject + m.body
    ]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_cancel_landing_before_the_approval_leaves_the_payment_open_and_the_approval_pays_the_order(
    sim, buyer, order, browser, provider
):
    started = start(buyer, order, provider)
    uid = started["merchant_uid"]
    # the cancel URL is opened first: by the buyer's back button, or by anyone who has the link
    landing = Client().get(f"/payments/cancel/{uid}/")
    assert landing.status_code == 302
    payment = Payment.objects.get(merchant_uid=uid)
    assert payment.status == Status.PENDING  # the provider can still complete it
    assert payment.events.filter(type=PaymentEvent.Type.NOTE, message__contains="cancel URL").exists()

    back_to_shop(browser, approve_at_provider(sim, started, provider))
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Status.PAID and order.status == OrderStatus.PAID
    assert payment.totals() == {"captured": 28000, "refunded": 0, "refundable": 28000}
    assert order.events.filter(to_status=OrderStatus.PAID).count() == 1
    assert held_at_provider(payment) == payment.provider_amount


@pytest.mark.parametrize("provider", SELF_COMPLETING)
def test_a_portone_payment_approved_after_the_shop_closed_it_is_adopted_while_the_order_can_still_be_paid(
    sim, buyer, order, browser, provider, swept, django_capture_on_commit_callbacks
):
    started = start(buyer, order, provider)
    expire_locally(order, order_too=False)  # the attempt is closed, the order not yet
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    assert payment.status == Status.EXPIRED

    with django_capture_on_commit_callbacks(execute=True):
        back_to_shop(browser, approve_at_provider(sim, started, provider))
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Status.PAID and order.status == OrderStatus.PAID
    assert payment.totals()["captured"] == 28000 and not payment.refunds.exists()
    assert payment.events.filter(type=PaymentEvent.Type.NOTE, message__contains="closed here as expired").exists()
    assert any(order.number in m.subject for m in mail.outbox)  # the "paid" email


@pytest.mark.parametrize("provider", SELF_COMPLETING)
def test_a_portone_payment_approved_after_the_order_expired_is_refunded_by_the_sweep_and_the_buyer_told(
    sim, buyer, order, provider, swept, django_capture_on_commit_callbacks
):
    started = start(buyer, order, provider)
    expire_locally(order, order_too=True)
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    assert payment.status == Status.EXPIRED

    approve_at_provider(sim, started, provider)  # the buyer approves and closes the tab: no return
    assert held_at_provider(payment) == payment.provider_amount
    with django_capture_on_commit_callbacks(execute=True):
        services.reconcile()  # the sweep reads recently closed payments too

    payment.refresh_from_db()
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED  # not paid by it
    assert payment.status == Status.REFUNDED
    assert payment.totals() == {"captured": 28000, "refunded": 28000, "refundable": 0}
    assert Refund.objects.get(payment=payment).status == Refund.Status.SUCCEEDED
    assert held_at_provider(payment) == 0  # given back at the provider
    assert refund_mail(buyer, order)
    services.reconcile()  # nothing more to do: no second refund
    assert Refund.objects.filter(payment=payment).count() == 1


@pytest.mark.parametrize("provider", ["kakaopay", "paypal"])
def test_an_approval_after_the_shop_expired_the_payment_is_never_captured_where_the_shop_must_capture(
    sim, buyer, order, browser, provider, swept
):
    started = start(buyer, order, provider)
    location = approve_at_provider(sim, started, provider)  # approved on the page, not yet returned
    expire_locally(order, order_too=True)
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    assert payment.status == Status.EXPIRED

    page = back_to_shop(browser, location)  # the buyer's browser comes back late
    calls = payment.events.filter(type=PaymentEvent.Type.REQUEST).count()
    services.reconcile()
    assert (
        payment.events.filter(type=PaymentEvent.Type.REQUEST).count() == calls
    )  # nothing to re-read: only the shop charges
    payment.refresh_from_db()
    assert payment.status == Status.EXPIRED and payment.totals()["captured"] == 0
    assert held_at_provider(payment) == 0  # KakaoPay's approve / PayPal's capture was never called
    text = browser.get(page.url).content.decode()
    assert "기한 안에 결제가 완료되지 않았습니다" in text


@pytest.mark.parametrize("provider", SELF_COMPLETING)
def test_a_bank_deposit_after_the_order_expired_is_refunded(
    sim, buyer, order, browser, provider, swept, django_capture_on_commit_callbacks
):
    started = start(buyer, order, provider, method="vbank")
    back_to_shop(browser, through_window(started))
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    assert payment.status == Status.AWAITING_DEPOSIT
    # closing the account at the provider fails this time, so a deposit can still land in it
    if provider == "portone":
        sim.fault("/iamport/vbanks/", method="DELETE", status=500)
    else:
        sim.fault(f"/portone/payments/{payment.merchant_uid}/virtual-account/close", method="POST", status=500)
    expire_locally(order, order_too=True)
    payment.refresh_from_db()
    assert payment.status == Status.EXPIRED

    sim.deposit(
        **({"imp_uid": payment.psp["imp_uid"]} if provider == "portone" else {"paymentId": payment.merchant_uid})
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.reconcile()
    payment.refresh_from_db()
    # a deposit goes back by bank transfer: the money is owed until the buyer names an account
    assert payment.status == Status.PAID and payment.cancel_owed and held_at_provider(payment) == 28000
    services.set_refund_account(buyer, payment.merchant_uid, bank="SHINHAN", number="110-123-456789", holder="홍환불")
    with django_capture_on_commit_callbacks(execute=True):
        services.reconcile()
    payment.refresh_from_db()
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert payment.status == Status.REFUNDED and not payment.cancel_owed
    assert payment.totals() == {"captured": 28000, "refunded": 28000, "refundable": 0}
    assert held_at_provider(payment) == 0
    assert refund_mail(buyer, order)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_two_attempts_on_one_order_both_paid_pay_the_order_once_and_the_other_is_refunded(
    sim, buyer, order, browser, provider, swept, django_capture_on_commit_callbacks
):
    first = start(buyer, order, provider)
    Client().get(f"/payments/cancel/{first['merchant_uid']}/")  # a cancel landing on the first attempt
    late = approve_at_provider(sim, first, provider)  # ...which the buyer approves after all, in another tab
    second = start(buyer, order, provider)
    back_to_shop(browser, approve_at_provider(sim, second, provider))
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID

    with django_capture_on_commit_callbacks(execute=True):
        landing = back_to_shop(browser, late)
        services.reconcile()
    told = browser.get(landing.url).content.decode()
    assert "결제 금액 전액을 환불해 드립니다" in told  # not "payment complete"
    one, two = (Payment.objects.get(merchant_uid=s["merchant_uid"]) for s in (first, second))
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.events.filter(to_status=OrderStatus.PAID).count() == 1
    assert two.status == Status.PAID and held_at_provider(two) == two.provider_amount
    assert one.status == Status.REFUNDED and held_at_provider(one) == 0
    assert one.totals() == {"captured": 28000, "refunded": 28000, "refundable": 0}
    assert len(refund_mail(buyer, order)) == 1


def test_an_automatic_refund_the_provider_refuses_is_owed_and_retried_by_the_sweep(
    sim, buyer, order, swept, django_capture_on_commit_callbacks
):
    started = start(buyer, order, "portone_v2")
    expire_locally(order, order_too=True)
    approve_at_provider(sim, started, "portone_v2")
    sim.fault("/portone/payments/", method="POST", status=500)  # the refund fails, retries too
    services.reconcile()
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    assert payment.status == Status.PAID and payment.cancel_owed
    assert held_at_provider(payment) == payment.provider_amount

    sim.clear_faults()
    with django_capture_on_commit_callbacks(execute=True):
        services.reconcile()
    payment.refresh_from_db()
    assert payment.status == Status.REFUNDED and not payment.cancel_owed
    assert held_at_provider(payment) == 0
    assert refund_mail(buyer, order)


def test_the_sweep_leaves_closed_payments_alone_after_the_recheck_window(sim, buyer, order, swept):
    started = start(buyer, order, "portone")
    expire_locally(order, order_too=True)
    approve_at_provider(sim, started, "portone")
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    Payment.objects.filter(pk=payment.pk).update(
        created_at=timezone.now() - timezone.timedelta(hours=swept.PAYMENT_RECHECK_CLOSED_HOURS, minutes=1)
    )
    services.reconcile()
    payment.refresh_from_db()
    assert payment.status == Status.EXPIRED  # older than the window: staff settle it from the log


def test_money_given_back_for_a_second_attempt_never_moves_the_order_the_first_attempt_paid(
    sim, buyer, order, browser, swept
):
    first, second = start(buyer, order, "portone"), start(buyer, order, "portone")
    back_to_shop(browser, approve_at_provider(sim, first, "portone"))
    late = approve_at_provider(sim, second, "portone")
    sim.fault("/iamport/payments/cancel", method="POST", status=500)  # the automatic refund fails...
    back_to_shop(browser, late)
    orphan = Payment.objects.get(merchant_uid=second["merchant_uid"])
    assert orphan.status == Status.PAID and orphan.cancel_owed
    sim.clear_faults()
    adapter = services._adapter(orphan, "test")  # ...and staff give it back in PortOne's console instead
    adapter.refund(orphan, amount=orphan.provider_amount, refundable=orphan.provider_amount, reason="console", key="")

    services.reconcile()  # the sweep finds the refund made at the provider
    orphan.refresh_from_db()
    order.refresh_from_db()
    assert orphan.status == Status.REFUNDED and not orphan.cancel_owed
    assert held_at_provider(orphan) == 0
    assert order.status == OrderStatus.PAID  # still paid by the first attempt
    assert Payment.objects.get(merchant_uid=first["merchant_uid"]).status == Status.PAID

"""Webhooks end to end: the whole product on one real server, the simulator mounted in it delivering
signed webhooks to the shop's inbox over real HTTP, as a provider would."""

from __future__ import annotations

import time

import httpx
import pytest
from django.core.management import call_command

from bidcart.orders.models import Status as OrderStatus
from bidcart.payments import services
from bidcart.payments.models import PaymentEvent, Status, WebhookDelivery
from tests.factories import make_user

from .fixtures import make_order

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def paypal_approved_then_browser_closed(url, control, buyer):
    """The buyer approves on PayPal's page and closes the browser before coming back to the shop."""
    order = make_order(buyer)
    payment, nxt = services.start_payment(buyer, order, provider="paypal", site_url=url)
    control.next_outcome("paypal", "approve")
    response = httpx.get(nxt.url, follow_redirects=False, timeout=10)
    assert response.status_code in (302, 303)  # the redirect back is never followed
    return payment, order


def test_paypal_approval_webhook_completes_a_payment_whose_buyer_closed_the_browser(live_shop):
    url, control = live_shop
    payment, order = paypal_approved_then_browser_closed(url, control, make_user())
    delivery = wait_for(
        lambda: WebhookDelivery.objects.filter(payment=payment, state=WebhookDelivery.State.PROCESSED).first(),
        what="the webhook to capture",
    )
    payment.refresh_from_db()
    assert payment.status == Status.PAID
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert delivery.body and delivery.headers and delivery.event_id
    assert payment.events.filter(type=PaymentEvent.Type.CAPTURED).count() == 1


def test_duplicate_webhooks_are_processed_once(live_shop):
    url, control = live_shop
    control.webhooks(duplicate=True)
    payment, _order = paypal_approved_then_browser_closed(url, control, make_user())
    wait_for(lambda: WebhookDelivery.objects.filter(payment=payment).count() >= 2, what="both deliveries")
    wait_for(
        lambda: WebhookDelivery.objects.filter(payment=payment, state=WebhookDelivery.State.DUPLICATE).exists(),
        what="a duplicate",
    )
    assert payment.events.filter(type=PaymentEvent.Type.CAPTURED).count() == 1
    assert payment.events.filter(type=PaymentEvent.Type.WEBHOOK).count() == len(
        {d.event_id for d in WebhookDelivery.objects.filter(payment=payment)}
    )


def test_a_forged_webhook_is_stored_rejected_and_changes_nothing(live_shop):
    url, control = live_shop
    buyer = make_user()
    order = make_order(buyer)
    payment, _nxt = services.start_payment(buyer, order, provider="paypal", site_url=url)
    forged = {
        "id": "WH-FORGED",
        "event_type": "CHECKOUT.ORDER.APPROVED",
        "resource_type": "checkout-order",
        "resource": {"id": payment.psp["order_id"], "status": "APPROVED"},
    }
    headers = {
        "PAYPAL-TRANSMISSION-ID": "x",
        "PAYPAL-TRANSMISSION-TIME": "2026-01-01T00:00:00Z",
        "PAYPAL-TRANSMISSION-SIG": "bm9wZQ==",
        "PAYPAL-CERT-URL": f"{url}/pgsim/paypal/v1/notifications/certs/pgsim",
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
    }
    response = httpx.post(f"{url}/payments/webhooks/paypal/", json=forged, headers=headers, timeout=10)
    assert response.status_code == 400 and response.json()["code"] == "rejected"
    delivery = WebhookDelivery.objects.latest("id")
    assert delivery.state == WebhookDelivery.State.REJECTED and "WH-FORGED" in delivery.body
    payment.refresh_from_db()
    assert payment.status == Status.PENDING


def test_a_webhook_that_fails_is_answered_503_and_succeeds_when_the_provider_retries(live_shop):
    url, control = live_shop
    # the shop's re-fetch of the order fails twice: the first delivery gets 503, the retry succeeds
    control.fault("/paypal/v2/checkout/orders", method="GET", status=500, count=3)
    payment, _order = paypal_approved_then_browser_closed(url, control, make_user())
    wait_for(
        lambda: WebhookDelivery.objects.filter(payment=payment, state=WebhookDelivery.State.PROCESSED).exists(),
        timeout=20,
        what="the retried webhook",
    )
    payment.refresh_from_db()
    assert payment.status == Status.PAID
    assert WebhookDelivery.objects.filter(payment=payment, state=WebhookDelivery.State.FAILED).exists()
    attempts = control.webhooks()["attempts"]
    assert any(a.get("status_code") == 503 for a in attempts)


def test_replay_webhooks_command_processes_deliveries_that_failed(live_shop, capsys):
    url, control = live_shop
    # the provider's API is down while its webhooks arrive: every delivery fails and the simulator gives up
    control.fault("/paypal/v2/checkout/orders", method="GET", status=500, count=1000)
    payment, order = paypal_approved_then_browser_closed(url, control, make_user())
    wait_for(
        lambda: WebhookDelivery.objects.filter(payment=payment, state=WebhookDelivery.State.FAILED).count() >= 2,
        what="failed deliveries",
    )
    wait_for(
        lambda: all(d["state"] in ("delivered", "failed") for d in control.webhooks()["deliveries"]),
        what="the simulator to give up",
    )
    payment.refresh_from_db()
    assert payment.status == Status.PENDING
    control.clear_faults()
    call_command("replay_webhooks", "--failed")
    assert "replayed" in capsys.readouterr().out
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Status.PAID and order.status == OrderStatus.PAID
    assert payment.events.filter(type=PaymentEvent.Type.CAPTURED).count() == 1
    assert not WebhookDelivery.objects.filter(payment=payment, state=WebhookDelivery.State.FAILED).exists()


@pytest.mark.parametrize("provider", ["portone", "portone_v2"])
def test_vbank_deposit_pays_the_order_by_webhook_after_the_browser_closed(live_shop, provider):
    from tests.payments.test_flows import through_window

    url, control = live_shop
    buyer = make_user()
    order = make_order(buyer)
    payment, nxt = services.start_payment(buyer, order, provider=provider, method="vbank", site_url=url)
    # the buyer gets an account number in the window and closes the browser: the return never comes
    through_window({"next": {"type": nxt.type, "script": nxt.script, "params": nxt.params}})
    wait_for(
        lambda: payment.__class__.objects.get(pk=payment.pk).status == Status.AWAITING_DEPOSIT,
        what="the issued-account webhook",
    )

    control.deposit(
        **(
            {"imp_uid": payment.__class__.objects.get(pk=payment.pk).psp["imp_uid"]}
            if provider == "portone"
            else {"paymentId": payment.merchant_uid}
        )
    )
    wait_for(lambda: payment.__class__.objects.get(pk=payment.pk).status == Status.PAID, what="the deposit webhook")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert WebhookDelivery.objects.filter(payment=payment, state=WebhookDelivery.State.PROCESSED).count() >= 2


def test_reordered_webhooks_settle_on_the_providers_truth(live_shop):
    """The 'paid' notice arrives before the 'account issued' one: each is only a hint, the shop reads the
    provider's state, and a late 'ready' never takes a paid payment back."""
    from tests.payments.test_flows import through_window

    url, control = live_shop
    control.webhooks(reorder=2)  # hold two deliveries, then send them newest first
    buyer = make_user()
    order = make_order(buyer)
    payment, nxt = services.start_payment(buyer, order, provider="portone", method="vbank", site_url=url)
    through_window({"next": {"type": nxt.type, "script": nxt.script, "params": nxt.params}})
    imp_uid = wait_for(lambda: _imp_uid_at_simulator(control, payment.merchant_uid), what="the issued account")
    control.deposit(imp_uid=imp_uid)
    wait_for(
        lambda: WebhookDelivery.objects.filter(provider="portone", state__in=["processed", "duplicate"]).count() >= 2,
        what="both notices",
    )
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Status.PAID and order.status == OrderStatus.PAID
    assert payment.events.filter(type=PaymentEvent.Type.CAPTURED).count() == 1


def _imp_uid_at_simulator(control, merchant_uid):
    for imp_uid, p in control.ledger()["iamport_payments"].items():
        if p["merchant_uid"] == merchant_uid and p.get("vbank_num"):
            return imp_uid
    return None


def _approve_in_window_and_close_the_browser(nxt):
    from tests.payments.test_flows import through_window

    through_window(
        {"next": {"type": nxt.type, "script": nxt.script, "params": nxt.params}}
    )  # the return is never followed


@pytest.mark.parametrize("provider", ["portone", "portone_v2"])
def test_an_anonymous_cancel_landing_then_an_approval_is_paid_by_the_webhook(live_shop, provider):
    """The reproduction: the cancel URL is opened (by anyone), then the buyer approves in PortOne's
    window and closes the browser. The paid webhook pays the order; the money is not left at PortOne."""
    url, control = live_shop
    buyer = make_user()
    order = make_order(buyer)
    payment, nxt = services.start_payment(buyer, order, provider=provider, site_url=url)
    assert (
        httpx.get(f"{url}/payments/cancel/{payment.merchant_uid}/", timeout=10).status_code == 302
    )  # anonymous: to the home page
    payment.refresh_from_db()
    assert payment.status == Status.PENDING

    _approve_in_window_and_close_the_browser(nxt)
    wait_for(lambda: payment.__class__.objects.get(pk=payment.pk).status == Status.PAID, what="the paid webhook")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert payment.events.filter(type=PaymentEvent.Type.CAPTURED).count() == 1


@pytest.mark.parametrize("provider", ["portone", "portone_v2"])
def test_a_paid_webhook_for_a_payment_the_shop_expired_refunds_it_and_tells_the_buyer(live_shop, provider, settings):
    from django.core import mail

    from bidcart.orders import services as orders
    from bidcart.payments.models import Refund

    url, control = live_shop
    settings.PAYMENT_RECONCILE_AFTER_MINUTES = 0
    buyer = make_user()
    order = make_order(buyer)
    payment, nxt = services.start_payment(buyer, order, provider=provider, site_url=url)
    order.payment_due_at = order.created_at
    order.save(update_fields=["payment_due_at"])
    orders.expire_unpaid()
    services.reconcile()
    payment.refresh_from_db()
    assert payment.status == Status.EXPIRED

    _approve_in_window_and_close_the_browser(nxt)  # the buyer had the window open all along
    wait_for(
        lambda: payment.__class__.objects.get(pk=payment.pk).status == Status.REFUNDED, what="the webhook to refund it"
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert Refund.objects.get(payment=payment).status == Refund.Status.SUCCEEDED
    assert WebhookDelivery.objects.filter(payment=payment, state=WebhookDelivery.State.PROCESSED).exists()
    wait_for(
        lambda: any(order.number in m.subject and m.to == [buyer.email] for m in mail.outbox), what="the refund email"
    )

"""Payment flows end to end over real HTTP: the shop's API and return pages (Django test client) and a
real payment simulator (pgsim in a thread). The buyer's trip through the provider's page is played by
following the simulator's redirects, with the outcome queued through its control API."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from django.core import mail

from bidcart.catalog.models import Variant
from bidcart.orders.models import Status as OrderStatus
from bidcart.payments import services
from bidcart.payments.models import Payment, PaymentEvent, Refund, Status
from tests.factories import api_for, make_user

from .fixtures import make_order, pay_in_portone_window

pytestmark = pytest.mark.django_db


def start(buyer, order, provider="kakaopay", method="card"):
    response = api_for(buyer).post(
        f"/api/v1/orders/{order.number}/payments/", {"provider": provider, "method": method}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def through_page(sim, provider, url, outcome, **extra) -> str:
    """The buyer opens the provider's page and it ends with `outcome`: answers where the browser goes."""
    sim.next_outcome(provider, outcome, **extra)
    response = httpx.get(url, follow_redirects=False, timeout=10)
    assert response.status_code in (302, 303), response.text[:300]
    return response.headers["location"]


def back_to_shop(client, location: str):
    """The browser follows the provider's redirect back to this shop."""
    parts = urlsplit(location)
    assert parts.netloc == "shop.test", location
    return client.get(parts.path + ("?" + parts.query if parts.query else ""))


def provider_calls(payment) -> int:
    return payment.events.filter(type=PaymentEvent.Type.REQUEST).count()


@pytest.fixture
def browser(client, buyer):
    client.force_login(buyer)
    return client


@pytest.mark.parametrize("provider", ["kakaopay", "paypal"])
def test_buyer_pays_on_the_providers_page_and_the_order_is_paid_once(
    sim, buyer, order, browser, provider, django_capture_on_commit_callbacks
):
    started = start(buyer, order, provider)
    assert started["status"] == "pending" and started["amount"] == order.total == 28000
    assert started["next"]["type"] == "redirect"

    with django_capture_on_commit_callbacks(execute=True):
        landing = back_to_shop(browser, through_page(sim, provider, started["next"]["url"], "approve"))
    assert landing.status_code == 302 and landing.url == f"/orders/{order.number}/"

    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    order.refresh_from_db()
    assert payment.status == Status.PAID and order.status == OrderStatus.PAID
    assert payment.totals() == {"captured": 28000, "refunded": 0, "refundable": 28000}
    assert any(order.number in m.subject for m in mail.outbox)  # the "paid" email went out
    calls = provider_calls(payment)

    # the browser comes back twice (reload, back button): nothing is charged or recorded again
    again = back_to_shop(browser, through_page_location(payment))
    assert again.status_code == 302
    payment.refresh_from_db()
    assert provider_calls(payment) == calls
    assert payment.events.filter(type=PaymentEvent.Type.CAPTURED).count() == 1
    assert order.events.filter(to_status=OrderStatus.PAID).count() == 1


def through_page_location(payment) -> str:
    order_id = payment.psp.get("order_id", "")
    return f"http://shop.test/payments/return/{payment.merchant_uid}/?pg_token=again&token={order_id}"


def test_paypal_charges_krw_orders_in_the_configured_currency(sim, buyer, order, browser, settings):
    settings.PAYPAL = {**settings.PAYPAL, "currency": "USD", "krw_rate": "1400"}
    started = start(buyer, order, "paypal")
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    assert (payment.amount, payment.currency) == (28000, "KRW")
    assert (payment.provider_amount, payment.provider_currency) == (2000, "USD")  # $20.00
    back_to_shop(browser, through_page(sim, "paypal", started["next"]["url"], "approve"))
    payment.refresh_from_db()
    assert payment.status == Status.PAID


# --- #12 item 4: PayPal amounts as PayPal defines them ---------------------------------------------------


def test_paypal_charges_huf_in_whole_forints_as_paypal_counts_them(sim, buyer, order, browser, settings):
    # ISO 4217 gives HUF two decimals, PayPal none: "7368.42" HUF is refused (DECIMAL_PRECISION).
    settings.PAYPAL = {**settings.PAYPAL, "currency": "HUF", "krw_rate": "3.8"}
    started = start(buyer, order, "paypal")
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    assert (payment.provider_amount, payment.provider_currency) == (7368, "HUF")  # 28000 / 3.8 = 7368.42
    back_to_shop(browser, through_page(sim, "paypal", started["next"]["url"], "approve"))
    payment.refresh_from_db()
    assert payment.status == Status.PAID
    services.refund_payment(payment.merchant_uid, amount=14000, reason="half", actor=None)
    payment.refresh_from_db()
    assert payment.status == Status.PARTIALLY_REFUNDED
    assert payment.refunds.get().provider_amount == 3684


def test_an_amount_that_converts_to_nothing_at_paypal_is_refused_with_a_clear_400(sim, buyer, settings):
    # The reproduction: a 1원 order (an auction won at 1원) paid by PayPal was a 500.
    settings.ORDER_SHIPPING_FEE = 0
    tiny = make_order(buyer, price=1)
    assert tiny.total == 1
    response = api_for(buyer).post(f"/api/v1/orders/{tiny.number}/payments/", {"provider": "paypal"}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "amount_too_small" and "PayPal" in body["detail"]
    assert not Payment.objects.filter(order=tiny).exists()  # nothing half-written
    assert start(buyer, tiny, "kakaopay")["status"] == "pending"  # another method still pays it


def test_paypal_is_never_asked_to_charge_krw(sim, buyer, order, settings):
    settings.PAYPAL = {**settings.PAYPAL, "currency": "KRW"}  # refused by `check` too (E013)
    response = api_for(buyer).post(f"/api/v1/orders/{order.number}/payments/", {"provider": "paypal"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "currency_unavailable"
    assert not Payment.objects.filter(order=order).exists()


@pytest.mark.parametrize("provider,closed", [("kakaopay", True), ("paypal", False)])
def test_buyer_cancels_on_the_providers_page(sim, buyer, order, browser, provider, closed):
    started = start(buyer, order, provider)
    landing = back_to_shop(browser, through_page(sim, provider, started["next"]["url"], "cancel"))
    assert landing.status_code == 302
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    order.refresh_from_db()
    # KakaoPay closes the tid (QUIT_PAYMENT); a PayPal order stays open at PayPal until it lapses, so
    # the shop keeps it open too (the sweep closes it) and only notes what the buyer did
    assert (payment.status in (Status.CANCELLED, Status.FAILED)) is closed
    assert payment.events.filter(type=PaymentEvent.Type.NOTE, message__contains="cancel URL").exists()
    page = browser.get(landing.url).content.decode()
    assert "결제를 취소하셨습니다" in page  # in the buyer's words (Korean by default)
    assert "QUIT_PAYMENT" not in page
    assert order.status == OrderStatus.PENDING_PAYMENT  # the buyer may try again
    assert start(buyer, order, provider)["status"] == "pending"


def test_the_buyer_lists_an_orders_payment_attempts_and_nobody_else_can(
    sim, buyer, order, browser, django_assert_num_queries
):
    started = start(buyer, order, "kakaopay")
    back_to_shop(browser, through_page(sim, "kakaopay", started["next"]["url"], "fail"))
    second = start(buyer, order, "paypal")
    api = api_for(buyer)
    with django_assert_num_queries(4):  # the user, the order, its payments, their refunds (fixed, however many)
        listed = api.get(f"/api/v1/orders/{order.number}/payments/")
    assert listed.status_code == 200
    assert [(p["merchant_uid"], p["provider"], p["status"]) for p in listed.json()] == [
        (started["merchant_uid"], "kakaopay", "failed"),
        (second["merchant_uid"], "paypal", "pending"),
    ]
    assert listed.json()[0]["amount"] == order.total and listed.json()[0]["currency"] == "KRW"
    stranger = api_for(make_user())
    assert stranger.get(f"/api/v1/orders/{order.number}/payments/").status_code == 404


def test_a_declined_card_fails_the_payment_and_the_order_stays_payable(sim, buyer, order, browser):
    started = start(buyer, order, "kakaopay")
    back_to_shop(browser, through_page(sim, "kakaopay", started["next"]["url"], "fail"))
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    order.refresh_from_db()
    assert payment.status == Status.FAILED
    assert order.status == OrderStatus.PENDING_PAYMENT


@pytest.mark.parametrize("provider,tampered", [("kakaopay", 100), ("paypal", "0.07")])
def test_a_tampered_amount_is_refused_and_cancelled_at_the_provider(sim, buyer, order, browser, provider, tampered):
    started = start(buyer, order, provider)
    landing = back_to_shop(browser, through_page(sim, provider, started["next"]["url"], "amount", amount=tampered))
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    order.refresh_from_db()
    assert payment.status == Status.FAILED
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert payment.events.filter(type=PaymentEvent.Type.MISMATCH).exists()
    assert payment.totals()["captured"] == 0
    # the buyer is told on the order page
    page = browser.get(landing.url)
    assert "did not match" in page.content.decode() or "일치" in page.content.decode()


@pytest.mark.parametrize("provider,tampered", [("kakaopay", 100), ("paypal", "0.07")])
def test_a_refused_payment_whose_cancel_failed_is_given_back_by_reconciliation(
    sim, buyer, order, browser, provider, tampered
):
    refund_path = {"kakaopay": "/kakaopay/online/v1/payment/cancel", "paypal": "/paypal/v2/payments/captures/"}[
        provider
    ]
    sim.fault(refund_path, method="POST", status=500)  # the provider fails the give-back, and any retry of it
    started = start(buyer, order, provider)
    back_to_shop(browser, through_page(sim, provider, started["next"]["url"], "amount", amount=tampered))
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    adapter = services._adapter(payment, "test")
    held = adapter.fetch(payment)
    assert payment.status == Status.FAILED and payment.cancel_owed
    assert held.state == "paid" and held.refunded == 0  # the buyer's money still sits at the provider
    services.reconcile()
    payment.refresh_from_db()
    assert payment.cancel_owed  # still failing: still owed

    sim.clear_faults()  # the provider recovers
    services.reconcile()
    payment.refresh_from_db()
    back = adapter.fetch(payment)
    assert not payment.cancel_owed
    assert back.refunded == back.amount  # given back whole
    services.reconcile()  # nothing more owed: no second give-back
    assert adapter.fetch(payment).refunded == back.amount
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT


def test_partial_then_full_refund_follows_the_order_and_restocks(
    sim, buyer, order, browser, django_capture_on_commit_callbacks
):
    started = start(buyer, order, "kakaopay")
    back_to_shop(browser, through_page(sim, "kakaopay", started["next"]["url"], "approve"))
    uid = started["merchant_uid"]
    staff = api_for(make_user(staff=True))
    variant = Variant.objects.get(pk=order.lines.get().variant_id)
    stock_before = variant.stock

    partial = staff.post(f"/api/v1/payments/{uid}/refunds/", {"amount": 3000, "reason": "late delivery"}, format="json")
    assert partial.status_code == 201, partial.content
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_REFUNDED

    over = staff.post(f"/api/v1/payments/{uid}/refunds/", {"amount": 25001, "reason": "too much"}, format="json")
    assert over.status_code == 409 and over.json()["code"] == "refund_exceeds_captured"

    with django_capture_on_commit_callbacks(execute=True):
        rest = staff.post(
            f"/api/v1/payments/{uid}/refunds/", {"amount": 25000, "reason": "returned", "restock": True}, format="json"
        )
    assert rest.status_code == 201, rest.content
    payment = Payment.objects.get(merchant_uid=uid)
    order.refresh_from_db()
    variant.refresh_from_db()
    assert payment.status == Status.REFUNDED and order.status == OrderStatus.REFUNDED
    assert payment.totals() == {"captured": 28000, "refunded": 28000, "refundable": 0}
    assert variant.stock == stock_before + 1
    refund_mail = [m for m in mail.outbox if order.number in m.subject and m.to == [buyer.email]][-1]
    assert "25,000" in refund_mail.body and "returned" in refund_mail.body

    # the buyer sees it in the API; another buyer does not
    mine = api_for(buyer).get(f"/api/v1/payments/{uid}/").json()
    assert mine["refunded"] == 28000 and [r["amount"] for r in mine["refunds"]] == [3000, 25000]
    assert all(e["type"] != "request" for e in mine["events"])  # provider calls are staff-only
    assert api_for(make_user()).get(f"/api/v1/payments/{uid}/").status_code == 404
    # a buyer cannot refund
    assert (
        api_for(buyer).post(f"/api/v1/payments/{uid}/refunds/", {"amount": 1, "reason": "x"}, format="json").status_code
        == 403
    )


def test_capture_failing_with_5xx_leaves_the_payment_pending_until_reconciliation_captures_it(
    sim, buyer, order, browser, settings
):
    started = start(buyer, order, "paypal")
    location = through_page(sim, "paypal", started["next"]["url"], "approve")
    sim.fault("/paypal/v2/checkout/orders", method="POST", status=500, count=5)
    back_to_shop(browser, location)
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    assert payment.status == Status.PENDING
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT

    sim.clear_faults()
    settings.PAYMENT_RECONCILE_AFTER_MINUTES = 0
    services.reconcile()
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Status.PAID and order.status == OrderStatus.PAID
    assert payment.events.filter(type=PaymentEvent.Type.CAPTURED).count() == 1


def test_reconciliation_expires_an_abandoned_payment(sim, buyer, order, settings):
    started = start(buyer, order, "kakaopay")
    httpx.get(started["next"]["url"], timeout=10)  # the buyer opened the page, then closed the tab
    settings.PAYMENT_RECONCILE_AFTER_MINUTES = 0
    order.payment_due_at = order.created_at  # the order's window passed
    order.save(update_fields=["payment_due_at"])
    services.reconcile()
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    assert payment.status == Status.EXPIRED
    # and a late return from the provider can no longer charge it
    services.confirm_payment(payment.merchant_uid, {"pg_token": "late"})
    payment.refresh_from_db()
    assert payment.status == Status.EXPIRED and payment.totals()["captured"] == 0


def test_a_payment_completed_after_the_order_expired_is_refunded(sim, buyer, order, browser):
    started = start(buyer, order, "kakaopay")
    location = through_page(sim, "kakaopay", started["next"]["url"], "approve")
    from bidcart.orders import services as orders

    orders.transition(order, OrderStatus.EXPIRED, note="window passed")
    back_to_shop(browser, location)
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert payment.status == Status.REFUNDED
    assert payment.totals() == {"captured": 28000, "refunded": 28000, "refundable": 0}
    assert Refund.objects.get(payment=payment).status == Refund.Status.SUCCEEDED


def test_start_refuses_what_it_must(sim, buyer, order):
    api = api_for(buyer)
    bad = api.post(f"/api/v1/orders/{order.number}/payments/", {"provider": "bitcoin"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    extra = api.post(f"/api/v1/orders/{order.number}/payments/", {"provider": "kakaopay", "amount": 1}, format="json")
    assert extra.status_code == 400  # the browser never sends the amount
    vbank = api.post(
        f"/api/v1/orders/{order.number}/payments/", {"provider": "kakaopay", "method": "vbank"}, format="json"
    )
    assert vbank.status_code == 400 and vbank.json()["code"] == "method_unavailable"
    other = api_for(make_user()).post(
        f"/api/v1/orders/{order.number}/payments/", {"provider": "kakaopay"}, format="json"
    )
    assert other.status_code == 404
    assert Payment.objects.count() == 0


def test_a_paid_order_cannot_be_paid_again(sim, buyer, browser):
    order = make_order(buyer)
    started = start(buyer, order, "kakaopay")
    back_to_shop(browser, through_page(sim, "kakaopay", started["next"]["url"], "approve"))
    again = api_for(buyer).post(f"/api/v1/orders/{order.number}/payments/", {"provider": "paypal"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "order_not_payable"


def test_provider_down_at_start_answers_502_and_records_the_attempt(sim, buyer, order):
    sim.fault("/kakaopay/online/v1/payment/ready", status=503, count=3)
    response = api_for(buyer).post(f"/api/v1/orders/{order.number}/payments/", {"provider": "kakaopay"}, format="json")
    assert response.status_code == 502 and response.json()["code"] == "provider_error"
    payment = Payment.objects.get()
    assert payment.events.filter(type=PaymentEvent.Type.ERROR).exists()
    assert payment.status in (Status.CREATED, Status.FAILED)


# --- PortOne: the browser pays in the provider's window (IMP.request_pay / PortOne.requestPayment) ---


def through_window(started, action="approve", tamper_amount="") -> str:
    """What pay.js does with the client parameters: the provider's window, then back to the shop."""
    nxt = started["next"]
    assert nxt["type"] == "client" and nxt["script"]
    return pay_in_portone_window(nxt["script"], nxt["params"], action, tamper_amount)


@pytest.mark.parametrize("provider", ["portone", "portone_v2"])
def test_portone_card_payment_is_verified_on_the_server(sim, buyer, order, browser, provider):
    started = start(buyer, order, provider)
    assert (
        started["next"]["params"]["merchant_uid" if provider == "portone" else "paymentId"] == started["merchant_uid"]
    )
    landing = back_to_shop(browser, through_window(started))
    assert landing.status_code == 302
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    order.refresh_from_db()
    assert payment.status == Status.PAID and order.status == OrderStatus.PAID
    assert payment.totals()["captured"] == 28000


@pytest.mark.parametrize("provider", ["portone", "portone_v2"])
def test_portone_browser_claiming_success_for_a_failed_payment_is_not_believed(sim, buyer, order, browser, provider):
    started = start(buyer, order, provider)
    location = through_window(started, action="fail")
    # a forged return: the browser says it succeeded
    forged = location.replace("imp_success=false", "imp_success=true").replace("success=false", "success=true")
    back_to_shop(browser, forged)
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    order.refresh_from_db()
    assert payment.status == Status.FAILED and order.status == OrderStatus.PENDING_PAYMENT


def test_portone_v2_tampered_amount_is_refused(sim, buyer, order, browser):
    started = start(buyer, order, "portone_v2")
    location = through_window(started, action="amount", tamper_amount=100)
    back_to_shop(browser, location)
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    order.refresh_from_db()
    assert payment.status == Status.FAILED and order.status == OrderStatus.PENDING_PAYMENT
    assert payment.totals()["captured"] == 0


@pytest.mark.parametrize("provider", ["portone", "portone_v2"])
def test_vbank_issues_an_account_then_the_deposit_pays_the_order(sim, buyer, order, browser, provider):
    started = start(buyer, order, provider, method="vbank")
    back_to_shop(browser, through_window(started))
    payment = Payment.objects.get(merchant_uid=started["merchant_uid"])
    assert payment.status == Status.AWAITING_DEPOSIT
    assert payment.vbank["account"] and payment.vbank["bank"]
    window = order.payment_due_at
    order.refresh_from_db()
    assert order.payment_due_at - window > timedelta(hours=24)  # reserved while the deposit is awaited
    page = browser.get(f"/orders/{order.number}/").content.decode()
    assert payment.vbank["account"] in page  # the buyer sees where to deposit

    sim.deposit(
        **({"imp_uid": payment.psp["imp_uid"]} if provider == "portone" else {"paymentId": payment.merchant_uid})
    )
    # no webhook reaches this test shop: reconciliation finds the deposit
    from django.conf import settings

    settings.PAYMENT_RECONCILE_AFTER_MINUTES = 0
    services.reconcile()
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Status.PAID and order.status == OrderStatus.PAID


def test_the_event_log_is_append_only(sim, buyer, order):
    started = start(buyer, order, "kakaopay")
    event = Payment.objects.get(merchant_uid=started["merchant_uid"]).events.first()
    event.message = "rewritten"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()

"""Saved payment methods with PayPal's vault (issue #17), against the payment simulator over real HTTP: the
buyer approves saving PayPal on PayPal's page, bidcart vaults the setup token it started (never one the
browser names), charges the payment token with Orders v2 once per key, sees declines as declines, and
deleting deletes the token at PayPal. Every call is checked against PayPal's published specs."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from bidcart.core.errors import DomainError
from bidcart.orders.models import Status as OrderStatus
from bidcart.payments import billing, outcomes, providers, services
from bidcart.payments.models import Payment, PaymentEvent, SavedPaymentMethod, Status
from tests import contract
from tests.payments.billing_helpers import register, saved
from tests.payments.fixtures import make_order
from tests.payments.test_webhooks import wait_for

pytestmark = pytest.mark.django_db


def test_paypal_approved_on_its_page_is_saved_under_the_payment_token(sim, buyer):
    method, query = register(buyer, "paypal")
    setup = SavedPaymentMethod.objects.get(pk=method.pk).registration["setup_token"]
    assert query["approval_token_id"] == setup
    method = billing.confirm_saved_method(buyer, method.pk, params=query)
    assert (method.state, method.brand, method.last4, method.is_default) == ("active", "PayPal", "", True)
    assert method.reference in sim.ledger()["paypal_payment_tokens"]
    assert sim.ledger()["paypal_setup_tokens"][setup]["payment_token"] == method.reference


def test_another_registrations_setup_token_is_not_vaulted(sim, buyer, other):
    _theirs, their_query = register(other, "paypal")
    mine, _query = register(buyer, "paypal", action="cancel")
    with pytest.raises(DomainError) as refused:
        billing.confirm_saved_method(buyer, mine.pk, params=their_query)
    assert refused.value.code == "card_not_registered"
    assert sim.ledger()["paypal_payment_tokens"] == {}


def test_a_charge_pays_the_order_once_per_key(sim, buyer):
    method = saved(buyer, "paypal")
    order = make_order(buyer)
    payment = billing.charge_saved_method(order, method, key="cycle-1")
    assert payment.status == Status.PAID and payment.psp["order_id"] and payment.psp["capture_id"]
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    Payment.objects.filter(pk=payment.pk).update(status=Status.CREATED, paid_at=None)  # the answer never written
    assert billing.charge_saved_method(order, method, key="cycle-1").status == Status.PAID
    orders = [
        o for o in sim.ledger()["paypal_orders"].values() if o["purchase_unit"].get("custom_id") == payment.merchant_uid
    ]
    assert len(orders) == 1 and orders[0]["vault"] == ["paypal", method.reference]
    assert PaymentEvent.objects.filter(payment=payment, type=PaymentEvent.Type.CAPTURED).count() == 1


@pytest.mark.parametrize("card", ["4000000000000002", "4000000000000069"], ids=["insufficient funds", "expired card"])
def test_a_declined_charge_is_a_failed_payment_and_the_order_stays_payable(sim, buyer, card):
    method = saved(buyer, "paypal", card=card)
    order = make_order(buyer)
    payment = billing.charge_saved_method(order, method, key="try-1")
    assert payment.status == Status.FAILED and payment.buyer_message == str(outcomes.DECLINED)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT


def test_deleting_deletes_the_token_at_paypal(sim, buyer):
    method = saved(buyer, "paypal")
    billing.delete_saved_method(buyer, method.pk)
    assert method.reference not in sim.ledger()["paypal_payment_tokens"]
    assert providers.get("paypal").fetch_billing_key(method.reference) is None
    providers.get("paypal").delete_billing_key(method.reference, reason="again")  # gone already: fine


def test_a_vaulted_cards_decline_is_a_declined_capture_with_the_processors_code(sim, buyer, pgsim_url):
    """Card vaulting through the API (what PayPal's card fields do): the capture is DECLINED, still HTTP 201."""
    calls: list = []
    adapter = providers.get("paypal", on_call=calls.append)
    setup = adapter._api(
        "POST",
        "/v3/vault/setup-tokens",
        body={"payment_source": {"card": {"number": "4000000000000002", "expiry": "2099-01", "name": "Kim Buyer"}}},
    )
    token = adapter._api(
        "POST",
        "/v3/vault/payment-tokens",
        body={"payment_source": {"token": {"id": setup["id"], "type": "SETUP_TOKEN"}}},
    )
    key = adapter.fetch_billing_key(token["id"])
    assert (key.brand, key.last4) == ("Visa", "0002")
    payment = Payment.objects.create(
        order=make_order(buyer),
        buyer=buyer,
        provider="paypal",
        amount=28000,
        currency="KRW",
        provider_amount=2000,
        provider_currency="USD",
    )
    snap = adapter.charge_billing_key(payment, token["id"])
    assert snap.state == "failed" and "DECLINED" in snap.failure
    capture = snap.raw["purchase_units"][0]["payments"]["captures"][0]
    assert capture["processor_response"]["response_code"] == "5120"
    with pytest.raises(providers.ProviderError) as expired:
        adapter._api(
            "POST",
            "/v3/vault/setup-tokens",
            body={"payment_source": {"card": {"number": "4111111111111111", "expiry": "2001-01"}}},
        )
    assert expired.value.code == "CARD_EXPIRED"
    checked = [c for c in calls if "/oauth2/token" not in c.url]
    assert [
        p
        for c in checked
        for p in contract.check(f"{pgsim_url}/paypal", c.method, c.url, c.status, c.request, c.response)
    ] == []


def test_the_adapters_vault_calls_match_paypals_specs(sim, buyer, pgsim_url, webhook_recorder):
    method = saved(buyer, "paypal")
    declining = saved(buyer, "paypal", card="4000000000000002")
    calls: list = []
    adapter = providers.get("paypal", on_call=calls.append)
    adapter.fetch_billing_key(method.reference)
    for reference in (method.reference, declining.reference):
        payment = Payment.objects.create(
            order=make_order(buyer),
            buyer=buyer,
            provider="paypal",
            amount=28000,
            currency="KRW",
            provider_amount=2000,
            provider_currency="USD",
        )
        adapter.charge_billing_key(payment, reference)
    adapter.delete_billing_key(method.reference, reason="test")
    first, _query = register(buyer, "paypal")  # the setup token's create, through the adapter too
    base = f"{pgsim_url}/paypal"
    checked = [c for c in calls if "/oauth2/token" not in c.url]
    problems = [p for c in checked for p in contract.check(base, c.method, c.url, c.status, c.request, c.response)]
    assert problems == []
    assert {(c.method, urlsplit(c.url).path.removeprefix("/paypal"), c.status) for c in checked} >= {
        ("GET", f"/v3/vault/payment-tokens/{method.reference}", 200),
        ("POST", "/v2/checkout/orders", 201),
        ("POST", "/v2/checkout/orders", 422),
        ("DELETE", f"/v3/vault/payment-tokens/{method.reference}", 204),
    }
    sim.flush_webhooks()
    # flush skips a delivery the simulator's own sender has in hand at that moment: wait for it to land
    expected = {
        "VAULT.PAYMENT-TOKEN.CREATED",
        "VAULT.PAYMENT-TOKEN.DELETED",
        "PAYMENT.CAPTURE.COMPLETED",
        "PAYMENT.CAPTURE.DECLINED",
    }
    wait_for(
        lambda: expected <= {json.loads(d["body"])["event_type"] for d in webhook_recorder.deliveries},
        what="PayPal's vault and capture webhooks",
    )


def paypal_orders_for(sim, payment) -> list[dict]:
    return [
        o for o in sim.ledger()["paypal_orders"].values() if o["purchase_unit"].get("custom_id") == payment.merchant_uid
    ]


def test_a_charge_whose_answer_was_lost_is_read_back_by_its_request_id_and_pays_once(sim, buyer):
    """PayPal charged the card and the connection dropped before its answer (every retry's answer lost too):
    the payment stays pending; the reconciliation sweep sends the same request under the same
    PayPal-Request-Id, PayPal answers with the order it made, and the order is paid — one charge at PayPal."""
    method = saved(buyer, "paypal")
    order = make_order(buyer)
    sim.fault("/paypal/v2/checkout/orders", method="POST", lose_answer=True)
    payment = billing.charge_saved_method(order, method, key="cycle-1")
    assert payment.status == Status.PENDING and not payment.psp.get("order_id")
    assert [o["status"] for o in paypal_orders_for(sim, payment)] == ["COMPLETED"]  # the money moved
    sim.clear_faults()

    assert services.reconcile_payment(payment.merchant_uid, now=timezone.now() + timedelta(minutes=30))
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Status.PAID and order.status == OrderStatus.PAID
    assert len(paypal_orders_for(sim, payment)) == 1
    assert PaymentEvent.objects.filter(payment=payment, type=PaymentEvent.Type.CAPTURED).count() == 1


def test_a_lost_answer_older_than_paypals_request_id_memory_is_left_to_staff_never_charged_again(sim, buyer):
    method = saved(buyer, "paypal")
    order = make_order(buyer)
    sim.fault("/paypal/v2/checkout/orders", method="POST", lose_answer=True)
    payment = billing.charge_saved_method(order, method, key="cycle-1")
    sim.clear_faults()
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(hours=6))

    services.reconcile_payment(payment.merchant_uid, now=timezone.now())
    payment.refresh_from_db()
    assert payment.status == Status.PENDING  # for staff: the event log says why
    assert PaymentEvent.objects.filter(payment=payment, message__startswith="not_recoverable").exists()
    assert len(paypal_orders_for(sim, payment)) == 1

"""Saved cards with PortOne V2 billing keys (issue #17), against the payment simulator over real HTTP: the
buyer registers a card with the browser SDK's requestIssueBillingKey, bidcart takes the key only as PortOne
reports it, charges it once per key, sees declines as declines, and deleting deletes it at PortOne."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from bidcart.core.errors import DomainError
from bidcart.orders.models import Status as OrderStatus
from bidcart.payments import billing, outcomes, providers
from bidcart.payments.models import Payment, PaymentEvent, SavedPaymentMethod, Status
from tests import contract
from tests.payments.billing_helpers import register, saved
from tests.payments.fixtures import make_order

pytestmark = pytest.mark.django_db


def portone_payments(sim, merchant_uid: str) -> list[dict]:
    return [p for p in sim.ledger()["portone_payments"].values() if p["id"] == merchant_uid]


def test_a_card_registered_in_portones_window_is_saved_under_portones_key(sim, buyer):
    method, query = register(buyer, "portone_v2")
    assert query["transactionType"] == "ISSUE_BILLING_KEY" and query["billingKey"].startswith("billing-key-")
    method = billing.confirm_saved_method(buyer, method.pk, params=query)
    assert (method.state, method.brand, method.last4, method.is_default) == ("active", "BC카드", "0005", True)
    assert method.reference == query["billingKey"]  # PortOne names the key; bidcart charges that
    assert sim.ledger()["portone_billing_keys"][method.reference]["status"] == "ISSUED"


def test_a_billing_key_from_someone_elses_registration_is_not_taken(sim, buyer, other):
    _theirs, their_query = register(other, "portone_v2")
    mine, _query = register(buyer, "portone_v2", action="cancel")
    with pytest.raises(DomainError) as refused:
        billing.confirm_saved_method(buyer, mine.pk, params=their_query)  # the browser hands in their key
    assert refused.value.code == "card_not_registered"
    assert SavedPaymentMethod.objects.get(pk=mine.pk).state == SavedPaymentMethod.State.PENDING


def test_an_expired_card_is_refused_in_the_window_and_not_saved(sim, buyer):
    method, query = register(buyer, "portone_v2", expiry="2001-01")
    assert query["code"] and "billingKey" not in query
    with pytest.raises(DomainError) as refused:
        billing.confirm_saved_method(buyer, method.pk, params=query)
    assert refused.value.code == "card_not_registered"


def test_a_charge_pays_the_order_once_per_key(sim, buyer):
    method = saved(buyer, "portone_v2")
    order = make_order(buyer)
    payment = billing.charge_saved_method(order, method, key="order-1:first")
    assert payment.status == Status.PAID
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert billing.charge_saved_method(order, method, key="order-1:first").pk == payment.pk
    Payment.objects.filter(pk=payment.pk).update(status=Status.CREATED, paid_at=None)  # the answer never written
    assert billing.charge_saved_method(order, method, key="order-1:first").status == Status.PAID
    at_portone = portone_payments(sim, payment.merchant_uid)
    assert len(at_portone) == 1 and at_portone[0]["totalAmount"] == order.total
    assert at_portone[0]["billingKey"] == method.reference
    assert PaymentEvent.objects.filter(payment=payment, type=PaymentEvent.Type.CAPTURED).count() == 1


@pytest.mark.parametrize("card", ["4000000000000002", "4000000000000069"], ids=["insufficient funds", "expired card"])
def test_a_declined_charge_is_a_failed_payment_and_the_order_stays_payable(sim, buyer, card):
    method = saved(buyer, "portone_v2", card=card)
    order = make_order(buyer)
    payment = billing.charge_saved_method(order, method, key="try-1")
    assert payment.status == Status.FAILED and payment.buyer_message == str(outcomes.DECLINED)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert portone_payments(sim, payment.merchant_uid)[0]["status"] == "FAILED"
    assert billing.charge_saved_method(order, method, key="try-1").pk == payment.pk  # the same decline
    assert billing.charge_saved_method(order, method, key="try-2").status == Status.FAILED


def test_deleting_a_card_deletes_the_key_at_portone(sim, buyer):
    method = saved(buyer, "portone_v2")
    billing.delete_saved_method(buyer, method.pk)
    assert sim.ledger()["portone_billing_keys"][method.reference]["status"] == "DELETED"
    assert providers.get("portone_v2").fetch_billing_key(method.reference) is None
    providers.get("portone_v2").delete_billing_key(method.reference, reason="again")  # gone already: fine


def test_portone_sends_billing_key_webhooks(sim, buyer):
    method = saved(buyer, "portone_v2")
    billing.delete_saved_method(buyer, method.pk)
    deliveries = sorted(sim.webhooks()["deliveries"], key=lambda d: d["created_at"])
    events = [json.loads(d["body"]) for d in deliveries if d["provider"] == "portone"]
    assert [(e["type"], e["data"]["billingKey"]) for e in events] == [
        ("BillingKey.Issued", method.reference),
        ("BillingKey.Deleted", method.reference),
    ]


def test_the_adapters_billing_calls_match_portones_spec(sim, buyer, pgsim_url):
    calls: list = []
    adapter = providers.get("portone_v2", on_call=calls.append)
    method = saved(buyer, "portone_v2")
    declining = saved(buyer, "portone_v2", card="4000000000000002")
    assert adapter.fetch_billing_key(method.reference).last4 == "0005"
    for reference in (method.reference, declining.reference):
        payment = Payment.objects.create(
            order=make_order(buyer),
            buyer=buyer,
            provider="portone_v2",
            amount=28000,
            currency="KRW",
            provider_amount=28000,
            provider_currency="KRW",
        )
        adapter.charge_billing_key(payment, reference, notify="")
        adapter.charge_billing_key(payment, reference, notify="")  # the repeat: answered, read back
    adapter.delete_billing_key(method.reference, reason="test")
    adapter.delete_billing_key(method.reference, reason="test")
    base = f"{pgsim_url}/portone"
    problems = [p for c in calls for p in contract.check(base, c.method, c.url, c.status, c.request, c.response)]
    assert problems == []
    paths = {(c.method, urlsplit(c.url).path.removeprefix(urlsplit(base).path), c.status) for c in calls}
    assert {
        ("GET", f"/billing-keys/{method.reference}", 200),
        ("DELETE", f"/billing-keys/{method.reference}", 200),
        ("DELETE", f"/billing-keys/{method.reference}", 409),
    } <= paths
    assert {status for m, path, status in paths if path.endswith("/billing-key")} == {200, 502}

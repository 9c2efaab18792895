"""Saved cards (billing keys, issue #17 item 1-2) with PortOne V1, against the payment simulator over real HTTP:
the buyer registers a card on PortOne's window, bidcart keeps only its brand and last digits, charges it
once per key through the payment ledger, sees declines as declines, and deleting deletes it at PortOne."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from bidcart.core.errors import DomainError
from bidcart.orders.models import Status as OrderStatus
from bidcart.payments import billing, outcomes, providers
from bidcart.payments.models import Payment, PaymentEvent, SavedPaymentMethod, Status
from tests import contract
from tests.payments.fixtures import make_order, pay_in_portone_window

pytestmark = pytest.mark.django_db


def register(user, *, card="", expiry="", action="approve") -> tuple[SavedPaymentMethod, dict]:
    """The buyer on PortOne's window in key-issuing mode (what iamport.js opens); test cards as the
    window's form fields. Answers the pending method and the query the browser comes back with."""
    method, nxt = billing.start_saving_method(user, provider="portone")
    assert nxt.type == "client" and nxt.params["customer_uid"] == method.reference and nxt.params["amount"] == 0
    params = {**nxt.params, **({"card_number": card} if card else {}), **({"expiry": expiry} if expiry else {})}
    location = pay_in_portone_window(nxt.script, params, action)
    assert location.startswith(nxt.params["m_redirect_url"])
    return method, dict(parse_qsl(urlsplit(location).query))


def saved(user, **card) -> SavedPaymentMethod:
    method, _query = register(user, **card)
    return billing.confirm_saved_method(user, method.pk)


def test_a_card_registered_on_the_window_is_saved_with_brand_and_last_digits_only(sim, buyer):
    method, query = register(buyer)
    assert query["imp_success"] == "true"
    assert SavedPaymentMethod.objects.get(pk=method.pk).state == SavedPaymentMethod.State.PENDING
    method = billing.confirm_saved_method(buyer, method.pk)
    assert (method.state, method.brand, method.last4, method.is_default) == ("active", "BC카드", "0005", True)
    assert billing.confirm_saved_method(buyer, method.pk) == method  # coming back twice changes nothing


def test_an_expired_card_is_not_saved(sim, buyer):
    method, query = register(buyer, expiry="2001-01")
    assert query["imp_success"] == "false"
    with pytest.raises(DomainError) as refused:
        billing.confirm_saved_method(buyer, method.pk)
    assert refused.value.code == "card_not_registered"
    assert SavedPaymentMethod.objects.get(pk=method.pk).state == SavedPaymentMethod.State.PENDING


def test_the_browser_saying_success_counts_for_nothing(sim, buyer):
    """A pending method whose key PortOne does not have stays pending, whatever the query said."""
    method, _nxt = billing.start_saving_method(buyer, provider="portone")
    with pytest.raises(DomainError):
        billing.confirm_saved_method(buyer, method.pk)


def test_a_charge_pays_the_order_once_per_key(sim, buyer):
    method = saved(buyer)
    order = make_order(buyer)
    payment = billing.charge_saved_method(order, method, key="order-1:first")
    assert payment.status == Status.PAID and payment.saved_method == method
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    again = billing.charge_saved_method(order, method, key="order-1:first")  # a retried task
    assert again.pk == payment.pk and again.status == Status.PAID
    assert Payment.objects.filter(order=order).count() == 1
    captured = PaymentEvent.objects.filter(payment=payment, type=PaymentEvent.Type.CAPTURED)
    assert [e.amount for e in captured] == [order.total]
    at_portone = [p for p in sim.ledger()["iamport_payments"].values() if p["merchant_uid"] == payment.merchant_uid]
    assert len(at_portone) == 1 and at_portone[0]["amount"] == order.total
    with pytest.raises(DomainError) as paid:  # another key cannot pay a paid order twice
        billing.charge_saved_method(order, method, key="order-1:second")
    assert paid.value.code == "order_not_payable"


def test_a_charge_whose_row_was_left_created_is_not_charged_twice(sim, buyer):
    """The worker died after PortOne charged and before the answer was written: the same key is refused by
    PortOne as a duplicate merchant_uid, and the first charge is read back and settled."""
    method = saved(buyer)
    order = make_order(buyer)
    payment = billing.charge_saved_method(order, method, key="k")
    Payment.objects.filter(pk=payment.pk).update(status=Status.CREATED, paid_at=None)  # the answer never written
    payment = billing.charge_saved_method(order, method, key="k")
    assert payment.status == Status.PAID
    assert len([p for p in sim.ledger()["iamport_payments"].values() if p["merchant_uid"] == payment.merchant_uid]) == 1
    assert PaymentEvent.objects.filter(payment=payment, type=PaymentEvent.Type.CAPTURED).count() == 1


def test_insufficient_funds_is_a_declined_payment_and_the_order_stays_payable(sim, buyer):
    method = saved(buyer, card="4000000000000002")
    order = make_order(buyer)
    payment = billing.charge_saved_method(order, method, key="try-1")
    assert payment.status == Status.FAILED
    assert payment.buyer_message == str(outcomes.DECLINED)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert not PaymentEvent.objects.filter(payment=payment, type=PaymentEvent.Type.CAPTURED).exists()
    # the same key answers the same decline; a retry is a new key
    assert billing.charge_saved_method(order, method, key="try-1").pk == payment.pk
    assert billing.charge_saved_method(order, method, key="try-2").status == Status.FAILED


def test_deleting_a_card_deletes_the_key_at_portone_and_the_next_card_becomes_default(sim, buyer):
    first, second = saved(buyer), saved(buyer, card="4111111111111111")
    assert first.is_default and not second.is_default
    billing.delete_saved_method(buyer, first.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == "deleted" and first.deleted_at is not None and second.is_default
    assert providers.get("portone").fetch_billing_key(first.reference) is None
    with pytest.raises(DomainError):
        billing.charge_saved_method(make_order(buyer), first, key="after-delete")


def test_set_default_keeps_one_default(sim, buyer):
    first, second = saved(buyer), saved(buyer)
    billing.set_default_method(buyer, second.pk)
    assert list(SavedPaymentMethod.objects.filter(user=buyer, is_default=True)) == [second]
    billing.set_default_method(buyer, first.pk)
    assert list(SavedPaymentMethod.objects.filter(user=buyer, is_default=True)) == [first]


def test_another_buyers_card_is_not_found(sim, buyer, other):
    method = saved(buyer)
    for call in (billing.set_default_method, billing.delete_saved_method, billing.confirm_saved_method):
        with pytest.raises(DomainError) as missing:
            call(other, method.pk)
        assert missing.value.code == "not_found"
    with pytest.raises(DomainError):
        billing.charge_saved_method(make_order(other), method, key="theirs")


def test_the_adapters_billing_calls_match_portones_spec(sim, buyer, pgsim_url):
    calls: list = []
    adapter = providers.get("portone", on_call=calls.append)
    method = saved(buyer)
    assert adapter.fetch_billing_key(method.reference).last4 == "0005"
    payment = Payment.objects.create(
        order=make_order(buyer),
        buyer=buyer,
        provider="portone",
        amount=28000,
        currency="KRW",
        provider_amount=28000,
        provider_currency="KRW",
    )
    assert adapter.charge_billing_key(payment, method.reference, notify="").state == "paid"
    assert adapter.charge_billing_key(payment, method.reference, notify="").state == "paid"  # refused repeat, read back
    adapter.delete_billing_key(method.reference, reason="test")
    adapter.delete_billing_key(method.reference, reason="test")  # gone already: fine
    base = f"{pgsim_url}/iamport"
    problems = [
        p
        for c in calls
        if "/users/getToken" not in c.url
        for p in contract.check(base, c.method, c.url, c.status, c.request, c.response)
    ]
    assert problems == []
    assert {(c.method, urlsplit(c.url).path.removeprefix(urlsplit(base).path)) for c in calls} >= {
        ("GET", f"/subscribe/customers/{method.reference}"),
        ("POST", "/subscribe/payments/again"),
        ("DELETE", f"/subscribe/customers/{method.reference}"),
    }

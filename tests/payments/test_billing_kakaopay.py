"""Saved cards with KakaoPay 정기결제 (issue #17), against the payment simulator over real HTTP, with both API
generations: registering is the subscription CID's first payment (₩0) whose approve issues the sid, later
charges go to /payment/subscription with it, declines are declines, and deleting inactivates the sid."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from bidcart.core.errors import DomainError
from bidcart.orders.models import Status as OrderStatus
from bidcart.payments import billing, outcomes, providers
from bidcart.payments.models import Payment, PaymentEvent, SavedPaymentMethod, Status
from tests.payments.billing_helpers import register, saved
from tests.payments.fixtures import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["new", "legacy"])
def api(request, settings):
    settings.KAKAOPAY = {**settings.KAKAOPAY, "api": request.param}
    return {"new": "/kakaopay/online/v1/payment/", "legacy": "/kakaopay/v1/payment/"}[request.param]


def test_a_card_registered_on_kakaopays_page_is_saved_under_its_sid(sim, buyer, api):
    method, query = register(buyer, "kakaopay")
    assert "pg_token" in query
    tid = SavedPaymentMethod.objects.get(pk=method.pk).registration["tid"]
    ready = sim.ledger()["kakaopay"][tid]
    assert (ready["cid"], ready["amount"]["total"], ready["partner_order_id"]) == ("TCSUBSCRIP", 0, method.reference)
    method = billing.confirm_saved_method(buyer, method.pk, params=query)
    assert method.state == "active" and method.reference.startswith("S") and len(method.reference) == 20
    assert (method.brand, method.last4, method.is_default) == ("신한카드", "", True)  # KakaoPay tells no digits
    assert sim.ledger()["kakaopay_sids"][method.reference]["status"] == "ACTIVE"


def test_a_card_refused_on_kakaopays_page_is_not_saved(sim, buyer, api):
    method, query = register(buyer, "kakaopay", expiry="2001-01")
    assert "pg_token" not in query
    with pytest.raises(DomainError) as refused:
        billing.confirm_saved_method(buyer, method.pk, params=query)
    assert refused.value.code == "card_not_registered"


def test_a_charge_with_the_sid_pays_the_order_once_per_key(sim, buyer, api):
    method = saved(buyer, "kakaopay")
    order = make_order(buyer)
    payment = billing.charge_saved_method(order, method, key="cycle-1")
    assert payment.status == Status.PAID and payment.psp["tid"] and payment.psp["aid"]
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert billing.charge_saved_method(order, method, key="cycle-1").pk == payment.pk
    charges = [
        p for p in sim.ledger()["kakaopay"].values() if p.get("sid") == method.reference and p["amount"]["total"]
    ]
    assert [(c["partner_order_id"], c["amount"]["total"], c["status"]) for c in charges] == [
        (payment.merchant_uid, order.total, "SUCCESS_PAYMENT")
    ]
    assert providers.get("kakaopay").fetch(payment).state == "paid"  # /order reads the charge by its tid
    assert PaymentEvent.objects.filter(payment=payment, type=PaymentEvent.Type.CAPTURED).count() == 1


@pytest.mark.parametrize("card", ["4000000000000002", "4000000000000069"], ids=["insufficient funds", "expired card"])
def test_a_declined_charge_is_a_failed_payment_and_the_order_stays_payable(sim, buyer, api, card):
    method = saved(buyer, "kakaopay", card=card)  # registering charges nothing, so it succeeds
    order = make_order(buyer)
    payment = billing.charge_saved_method(order, method, key="try-1")
    assert payment.status == Status.FAILED and payment.buyer_message == str(outcomes.DECLINED)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert billing.charge_saved_method(order, method, key="try-2").status == Status.FAILED


def test_deleting_a_card_inactivates_the_sid_and_it_charges_no_more(sim, buyer, api):
    method = saved(buyer, "kakaopay")
    billing.delete_saved_method(buyer, method.pk)
    sid = sim.ledger()["kakaopay_sids"][method.reference]
    assert sid["status"] == "INACTIVE" and sid["inactivated_at"]
    adapter = providers.get("kakaopay")
    assert adapter.fetch_billing_key(method.reference) is None
    adapter.delete_billing_key(method.reference, reason="again")  # inactive already: fine
    payment = Payment.objects.create(
        order=make_order(buyer),
        buyer=buyer,
        provider="kakaopay",
        amount=28000,
        currency="KRW",
        provider_amount=28000,
        provider_currency="KRW",
    )
    with pytest.raises(providers.ProviderError) as refused:
        adapter.charge_billing_key(payment, method.reference)
    assert refused.value.code == "-723"


def test_the_adapter_speaks_kakaopays_subscription_api(sim, buyer, api):
    calls: list = []
    method = saved(buyer, "kakaopay")
    adapter = providers.get("kakaopay", on_call=calls.append)
    assert adapter.fetch_billing_key(method.reference).reference == method.reference
    payment = Payment.objects.create(
        order=make_order(buyer),
        buyer=buyer,
        provider="kakaopay",
        amount=28000,
        currency="KRW",
        provider_amount=28000,
        provider_currency="KRW",
    )
    adapter.charge_billing_key(payment, method.reference)
    adapter.delete_billing_key(method.reference, reason="test")
    assert [urlsplit(c.url).path.split("/kakaopay", 1)[1] for c in calls] == [
        api.removeprefix("/kakaopay") + op
        for op in ("manage/subscription/status", "subscription", "manage/subscription/inactive")
    ]
    assert all(c.request["cid"] == "TCSUBSCRIP" and c.status == 200 for c in calls)
    charge = calls[1].request
    assert {
        k: charge[k]
        for k in ("sid", "partner_order_id", "partner_user_id", "quantity", "total_amount", "tax_free_amount")
    } == {
        "sid": method.reference,
        "partner_order_id": payment.merchant_uid,
        "partner_user_id": str(buyer.pk),
        "quantity": 1,
        "total_amount": 28000,
        "tax_free_amount": 0,
    }

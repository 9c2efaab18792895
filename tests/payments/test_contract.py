"""Contract tests (issue #12 item 6): the shop's adapters drive every flow they run in production against
pgsim, and every request they send and every answer pgsim gives is validated against the provider's own
published spec (tests/data/specs, see PROVENANCE.md there; tests/contract.py does the checking).

KakaoPay publishes no machine-readable spec, so its calls are not covered here; PayPal's OAuth token call
is in none of PayPal's spec files either (both are listed, not silently skipped).
"""

from __future__ import annotations

import httpx
import pytest

from bidcart.payments import providers
from bidcart.payments.models import Payment
from tests import contract
from tests.payments import test_adapter_paypal as paypal_flow
from tests.payments import test_adapter_portone as v1_flow
from tests.payments import test_adapter_portone_v2 as v2_flow
from tests.payments.fixtures import make_order

NOT_SPECIFIED = {("POST", "/v1/oauth2/token")}  # PayPal's OAuth call: no spec file has it


def problems(calls, base: str) -> tuple[list[str], set[str]]:
    """Every spec problem of the calls an adapter made to pgsim at `base`, and the operations they covered."""
    found, covered = [], set()
    for call in calls:
        path = call.url[len(base.rstrip("/")) :].split("?")[0]
        if (call.method, path) in NOT_SPECIFIED:
            continue
        found += contract.check(base, call.method, call.url, call.status, call.request, call.response)
        op = contract.operation(base.rstrip("/").rsplit("/", 1)[-1], call.method, path)
        covered.add(f"{call.method} {op[1] if op else path} {call.status}")
    return found, covered


def test_portone_v2_flows_match_portones_openapi(sim, order, buyer, settings, pgsim_url):
    calls: list = []
    settings.PORTONE_V2 = {
        **settings.PORTONE_V2,
        "webhook_secret": sim.http.get("/").json()["portone"]["webhook_secret"],
    }
    adapter = providers.get("portone_v2", on_call=calls.append)
    payment = v2_flow.new_payment(order)
    v2_flow.paid(adapter, payment)
    adapter.fetch(payment)
    adapter.refund(payment, amount=10000, refundable=28000, reason="one item back", key="c-1")
    adapter.refund(payment, amount=18000, refundable=18000, reason="the rest", key="c-2")
    failed = v2_flow.new_payment(make_order(buyer))
    nxt = adapter.start(failed, urls=v2_flow.URLS, mobile=False)
    v2_flow.pay_in_portone_window(nxt.script, nxt.params, "fail")
    adapter.fetch(failed)
    vbank = v2_flow.new_payment(make_order(buyer), method="vbank")
    ret = v2_flow.pay_on_window(adapter.start(vbank, urls=v2_flow.URLS, mobile=False))
    adapter.confirm(vbank, ret)
    sim.deposit(paymentId=vbank.merchant_uid)
    adapter.fetch(vbank)
    unpaid = v2_flow.new_payment(make_order(buyer))
    adapter.start(unpaid, urls=v2_flow.URLS, mobile=False)
    adapter.cancel(unpaid, reason="abandoned")
    with pytest.raises(providers.ProviderError):
        adapter.refund(payment, amount=1, refundable=1, reason="over", key="c-4")

    found, covered = problems(calls, f"{pgsim_url}/portone")
    assert not found, "\n".join(found)
    assert {
        "GET /payments/{paymentId} 200",
        "POST /payments/{paymentId}/pre-register 200",
        "POST /payments/{paymentId}/cancel 200",
    } <= covered, covered
    assert any(c.startswith("POST /payments/{paymentId}/cancel 4") for c in covered), covered


def test_portone_v1_flows_match_portones_swagger(sim, order, buyer, pgsim_url):
    calls: list = []
    adapter = providers.get("portone", on_call=calls.append)
    payment = v1_flow.new_payment(order)
    v1_flow.paid(adapter, payment)
    adapter.fetch(payment)
    adapter.refund(payment, amount=10000, refundable=28000, reason="one item back", key="r-1")
    adapter.refund(payment, amount=18000, refundable=18000, reason="the rest", key="r-2")
    vbank = v1_flow.new_payment(make_order(buyer), method="vbank")
    ret = v1_flow.pay_on_window(adapter.start(vbank, urls=v1_flow.URLS, mobile=False))
    v1_flow.remember(vbank, adapter.confirm(vbank, ret))
    sim.deposit(imp_uid=ret["imp_uid"])
    adapter.fetch(vbank)
    unpaid_vbank = v1_flow.new_payment(make_order(buyer), method="vbank")
    ret = v1_flow.pay_on_window(adapter.start(unpaid_vbank, urls=v1_flow.URLS, mobile=False))
    v1_flow.remember(unpaid_vbank, adapter.confirm(unpaid_vbank, ret))
    adapter.cancel(unpaid_vbank, reason="abandoned")
    unpaid = v1_flow.new_payment(make_order(buyer))
    adapter.start(unpaid, urls=v1_flow.URLS, mobile=False)
    adapter.fetch(unpaid)

    found, covered = problems(calls, f"{pgsim_url}/iamport")
    assert not found, "\n".join(found)
    assert {
        "POST /users/getToken 200",
        "POST /payments/prepare 200",
        "GET /payments/{imp_uid} 200",
        "POST /payments/cancel 200",
    } <= covered, covered


def test_paypal_flows_match_paypals_openapi(sim, order, buyer, pgsim_url):
    calls: list = []
    payment = Payment.objects.create(
        order=order,
        buyer=buyer,
        provider="paypal",
        amount=order.total,
        currency=order.currency,
        provider_amount=2000,
        provider_currency="USD",
    )
    paypal_flow.pay(payment, calls)
    adapter = paypal_flow.adapter(calls)
    adapter.fetch(payment)
    adapter.refund(payment, amount=500, refundable=2000, reason="one item back", key="p-1")
    adapter.refund(payment, amount=1500, refundable=1500, reason="the rest", key="p-2")
    adapter.fetch(payment)

    found, covered = problems(calls, f"{pgsim_url}/paypal")
    assert not found, "\n".join(found)
    assert {
        "POST /v2/checkout/orders 201",
        "POST /v2/checkout/orders/{id}/capture 201",
        "POST /v2/payments/captures/{capture_id}/refund 201",
    } <= covered, covered


def test_pgsims_error_answers_match_the_specs(sim, pgsim_url):
    """Answers the flows meet when something is wrong: unknown payments, a bad token, an over-refund."""
    portone = httpx.Client(base_url=f"{pgsim_url}/portone", headers={"Authorization": "PortOne bidcart-portone-secret"})
    iamport = httpx.Client(base_url=f"{pgsim_url}/iamport")
    found = []
    for client, method, path, body in [
        (portone, "GET", "/payments/nope", None),
        (portone, "POST", "/payments/nope/cancel", {"reason": "x"}),
        (iamport, "GET", "/payments/imp_000000000000", None),
        (iamport, "POST", "/users/getToken", {"imp_key": "wrong", "imp_secret": "wrong"}),
    ]:
        answer = client.request(method, path, json=body)
        assert answer.status_code >= 400
        found += contract.check(str(client.base_url), method, str(answer.url), answer.status_code, body, answer.json())
    assert not found, "\n".join(found)


def test_paypal_webhook_verification_matches_the_spec(sim, pgsim_url):
    """The verify call the shop makes with pgsim's webhook id (alphanumeric, as PayPal's), and its answer."""
    from bidcart.pgsim.config import SimConfig

    base = f"{pgsim_url}/paypal"
    token = httpx.post(
        f"{base}/v1/oauth2/token",
        auth=("bidcart-paypal-client", "bidcart-paypal-secret"),
        data={"grant_type": "client_credentials"},
    ).json()["access_token"]
    body = {
        "auth_algo": "SHA256withRSA",
        "cert_url": f"{base}/v1/notifications/certs/pgsim",
        "transmission_id": "69cd13f0-d67a-11e5-baa3-778b53f4ae55",
        "transmission_sig": "c2lnbmF0dXJl",
        "transmission_time": "2026-12-04T00:00:00Z",
        "webhook_id": SimConfig().paypal_webhook_id,
        "webhook_event": {"id": "WH-0", "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": {}},
    }
    answer = httpx.post(
        f"{base}/v1/notifications/verify-webhook-signature", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.json() == {"verification_status": "FAILURE"}  # never sent by pgsim
    url = f"{base}/v1/notifications/verify-webhook-signature"
    assert contract.check(base, "POST", url, answer.status_code, body, answer.json()) == []
    assert contract.check(
        base, "POST", url, 200, {**body, "webhook_id": "WH-BIDCART-PGSIM"}, answer.json()
    )  # the old id

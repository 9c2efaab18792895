"""PortOne V2 adapter against the payment simulator over real HTTP.

The buyer's part (`PortOne.requestPayment` in the browser) is played by sending the simulator's hosted
payment window the query its browser-sdk.js shim builds, then following the redirect back to the shop.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from bidcart.payments import providers
from bidcart.payments.models import Payment
from bidcart.payments.providers import ProviderError, Urls, WebhookRejected
from bidcart.pgsim.webhooks import standard_webhooks_signature
from tests.payments.fixtures import make_order, pay_in_portone_window, portone_window

URLS = Urls(
    approve="http://shop.test/payments/return/",
    cancel="http://shop.test/payments/cancel/",
    fail="http://shop.test/payments/fail/",
    notify="http://127.0.0.1:9/payments/webhooks/portone_v2/",
)


def new_payment(order, method="card") -> Payment:
    return Payment.objects.create(
        order=order,
        buyer=order.user,
        provider="portone_v2",
        method=method,
        amount=order.total,
        currency="KRW",
        provider_amount=order.total,
        provider_currency="KRW",
    )


def pay_on_window(nxt, action="approve", tamper_amount="") -> dict:
    """The buyer on PortOne's payment window: answers the redirect's query."""
    checkout, fields = portone_window(nxt.script, nxt.params)
    page = httpx.get(checkout, params=fields)
    assert page.status_code == 200 and f"{nxt.params['totalAmount']} KRW" in page.text
    location = pay_in_portone_window(nxt.script, nxt.params, action, tamper_amount)
    assert location.startswith(URLS.approve + "?")
    return dict(parse_qsl(urlsplit(location).query))


@pytest.fixture
def calls():
    return []


@pytest.fixture
def whsec(sim):
    """The simulator's webhook secret, configured as the shop's (they share it, as in production)."""
    return sim.http.get("/").json()["portone"]["webhook_secret"]


@pytest.fixture
def adapter(sim, calls, settings, whsec):
    settings.PORTONE_V2 = {**settings.PORTONE_V2, "webhook_secret": whsec}
    return providers.get("portone_v2", on_call=calls.append)


@pytest.fixture
def payment(order):
    return new_payment(order)


def paid(adapter, payment) -> dict:
    ret = pay_on_window(adapter.start(payment, urls=URLS, mobile=False))
    snap = adapter.confirm(payment, ret)
    assert snap.state == "paid"
    return ret


def test_card_payment_is_verified_by_reading_it_from_portone(sim, adapter, payment, calls, pgsim_url):
    nxt = adapter.start(payment, urls=URLS, mobile=False)

    assert nxt.type == "client" and nxt.script == f"{pgsim_url}/portone/browser-sdk.js"
    assert nxt.psp == {"payment_id": payment.merchant_uid}
    assert nxt.params == {
        "storeId": "store-bidcart",
        "channelKey": "channel-key-pgsim",
        "paymentId": payment.merchant_uid,
        "orderName": "무선 이어폰",
        "totalAmount": 28000,
        "currency": "KRW",
        "payMethod": "CARD",
        "redirectUrl": URLS.approve,
        "noticeUrls": [URLS.notify],
        "customer": {"fullName": "김구매", "email": "buyer1@example.com", "phoneNumber": "010-1234-5678"},
    }
    assert sim.ledger()["portone_prepared"][payment.merchant_uid]["totalAmount"] == 28000

    ret = pay_on_window(nxt)
    assert ret["paymentId"] == payment.merchant_uid and "code" not in ret
    snap = adapter.confirm(payment, ret)

    assert (snap.state, snap.amount, snap.currency, snap.refunded) == ("paid", 28000, "KRW", 0)
    assert snap.merchant_uid == payment.merchant_uid
    assert snap.psp == {"payment_id": payment.merchant_uid, "transaction_id": ret["txId"]}
    log = [call.as_payload() for call in calls]
    assert [(c["method"], c["url"].rsplit("/portone", 1)[1]) for c in log] == [
        ("POST", f"/payments/{payment.merchant_uid}/pre-register"),
        ("GET", f"/payments/{payment.merchant_uid}"),
    ]
    assert log[0]["request"]["storeId"] == "store-bidcart"
    assert "bidcart-portone-secret" not in json.dumps(log, ensure_ascii=False)


def test_buyer_cancelling_or_a_declined_card_ends_failed_whatever_the_browser_says(sim, adapter, order, buyer):
    cancelled = new_payment(order)
    ret = pay_on_window(adapter.start(cancelled, urls=URLS, mobile=False), action="cancel")
    assert ret["code"] == "FAILURE_TYPE_PG"
    forged = {k: v for k, v in ret.items() if k not in ("code", "message")}  # success, says the browser
    snap = adapter.confirm(cancelled, forged)
    assert snap.state == "failed" and snap.failure == "사용자가 결제를 취소하였습니다."

    declined = new_payment(make_order(buyer))
    snap = adapter.confirm(declined, pay_on_window(adapter.start(declined, urls=URLS, mobile=False), action="fail"))
    assert snap.state == "failed" and "거절" in snap.failure


def test_nothing_at_portone_yet_is_pending(sim, adapter, payment):
    adapter.start(payment, urls=URLS, mobile=False)
    snap = adapter.confirm(payment, {"paymentId": payment.merchant_uid, "code": "FAILURE_TYPE_PG", "message": "closed"})
    assert (snap.state, snap.amount, snap.currency, snap.merchant_uid) == ("pending", 28000, "KRW", None)


def test_a_tampered_amount_is_refused_by_the_window(sim, adapter, payment):
    ret = pay_on_window(adapter.start(payment, urls=URLS, mobile=False), action="amount", tamper_amount=100)
    assert ret["code"] == "PG_PROVIDER"

    snap = adapter.confirm(payment, ret)
    assert snap.state == "failed" and "사전 등록된 금액(28000)" in snap.failure


def test_starting_again_is_answered_from_the_idempotency_key(sim, adapter, payment, calls):
    adapter.start(payment, urls=URLS, mobile=False)
    adapter.start(payment, urls=URLS, mobile=False)
    assert [c.status for c in calls] == [200, 200]

    payment.provider_amount = 1000  # the same key for another amount is a bug, not a new registration
    with pytest.raises(ProviderError) as exc:
        adapter.start(payment, urls=URLS, mobile=False)
    assert exc.value.code == "INVALID_REQUEST" and exc.value.http_status == 400


def test_an_unregistered_payment_of_another_amount_is_reported_and_can_be_cancelled(sim, adapter, payment):
    """A payment that skipped pre-registration: the adapter reports what PortOne has, and the
    services' cancel gives all of it back."""
    nxt = adapter.start(payment, urls=URLS, mobile=False)
    sim.reset()  # PortOne forgot the registration
    pay_on_window(nxt, action="amount", tamper_amount=100)

    snap = adapter.fetch(payment)
    assert (snap.state, snap.amount) == ("paid", 100)
    after = adapter.cancel(payment, reason="amount mismatch")
    assert (after.state, after.amount, after.refunded) == ("paid", 100, 100)
    assert adapter.cancel(payment, reason="again").refunded == 100


def test_cancel_of_an_unpaid_payment_voids_nothing(sim, adapter, payment, calls):
    adapter.start(payment, urls=URLS, mobile=False)
    calls.clear()
    assert adapter.cancel(payment, reason="abandoned").state == "pending"
    assert [c.method for c in calls] == ["GET"]


def test_virtual_account_is_issued_then_paid_by_deposit(sim, adapter, order):
    payment = new_payment(order, method="vbank")
    nxt = adapter.start(payment, urls=URLS, mobile=False)
    assert nxt.params["payMethod"] == "VIRTUAL_ACCOUNT"
    pay_on_window(nxt)

    snap = adapter.fetch(payment)
    assert snap.state == "awaiting_deposit" and snap.amount == 28000
    assert snap.vbank["bank"] == "KOOKMIN" and snap.vbank["account"].startswith("pgsim")
    assert snap.vbank["holder"] == "(주)비드카트"
    due = datetime.fromisoformat(snap.vbank["due"])
    assert due.utcoffset() == timedelta(0)
    assert timedelta(days=2) < due - datetime.now(timezone.utc) < timedelta(days=4)

    sim.deposit(paymentId=payment.merchant_uid)
    assert (adapter.fetch(payment).state, adapter.fetch(payment).amount) == ("paid", 28000)


def test_cancelling_an_unpaid_virtual_account_closes_it(sim, adapter, order):
    payment = new_payment(order, method="vbank")
    pay_on_window(adapter.start(payment, urls=URLS, mobile=False))
    assert adapter.cancel(payment, reason="abandoned").state == "cancelled"  # virtual-account/close
    with pytest.raises(httpx.HTTPStatusError):
        sim.deposit(paymentId=payment.merchant_uid)  # nobody can pay into it any more
    assert adapter.cancel(payment, reason="again").state == "cancelled"  # closing twice is no error


def test_partial_refund_then_the_rest(sim, adapter, payment):
    paid(adapter, payment)

    first = adapter.refund(
        payment, amount=10000, refundable=28000, reason="one item back", key=f"refund-{payment.merchant_uid}-1"
    )
    assert first.refunded_total == 10000 and first.psp_reference.startswith("cancel-")
    assert (adapter.fetch(payment).state, adapter.fetch(payment).refunded) == ("paid", 10000)

    rest = adapter.refund(
        payment, amount=18000, refundable=18000, reason="the rest", key=f"refund-{payment.merchant_uid}-2"
    )
    assert rest.refunded_total == 28000 and rest.psp_reference != first.psp_reference
    snap = adapter.fetch(payment)
    assert (snap.state, snap.refunded) == ("paid", 28000)  # CANCELLED at PortOne after a payment


def test_a_retried_refund_gives_money_back_once(sim, adapter, payment):
    paid(adapter, payment)
    key = f"refund-{payment.merchant_uid}-1"
    first = adapter.refund(payment, amount=5000, refundable=28000, reason="r", key=key)
    again = adapter.refund(payment, amount=5000, refundable=28000, reason="r", key=key)
    assert again.psp_reference == first.psp_reference and again.refunded_total == 5000


def test_refunds_beyond_the_balance_or_from_a_stale_balance_are_refused(sim, adapter, payment):
    paid(adapter, payment)
    with pytest.raises(ProviderError) as exc:
        adapter.refund(payment, amount=30000, refundable=28000, reason="too much", key="refund-over-the-cap-1")
    assert exc.value.code == "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT" and not exc.value.outcome_unknown

    adapter.refund(payment, amount=8000, refundable=28000, reason="one", key="refund-stale-balance-1")
    with pytest.raises(ProviderError) as exc:
        adapter.refund(payment, amount=8000, refundable=28000, reason="one", key="refund-stale-balance-2")
    assert exc.value.code == "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN"
    assert adapter.fetch(payment).refunded == 8000


def test_provider_errors_on_lookups_are_retried_then_reported_as_unknown(sim, adapter, payment, calls):
    sim.fault("/portone/payments", method="GET", status=503)
    with pytest.raises(ProviderError) as exc:
        adapter.fetch(payment)
    assert exc.value.outcome_unknown and exc.value.http_status == 503
    assert [(c.method, c.status) for c in calls] == [("GET", 503)] * 3

    sim.clear_faults()
    assert adapter.fetch(payment).state == "pending"


# --- webhooks -------------------------------------------------------------------------------------


def signed(secret: str, body: str, *, msg_id: str | None = None, timestamp: int | None = None) -> dict:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": standard_webhooks_signature(secret, msg_id, timestamp, body),
    }


def event(payment_id: str, type_: str = "Transaction.Paid") -> str:
    return json.dumps(
        {
            "type": type_,
            "timestamp": "2025-01-01T00:00:00Z",
            "data": {"storeId": "store-bidcart", "paymentId": payment_id, "transactionId": "tx-1"},
        },
        separators=(",", ":"),
    )


def received(recorder, path: str) -> dict:
    deadline = time.monotonic() + 5
    while not [d for d in recorder.deliveries if d["path"] == path]:
        assert time.monotonic() < deadline, f"nothing delivered to {path}"
        time.sleep(0.05)
    return next(d for d in recorder.deliveries if d["path"] == path)


def test_a_webhook_portone_sent_is_accepted(sim, adapter, payment, webhook_recorder):
    urls = dataclasses.replace(URLS, notify=f"{webhook_recorder.url}/portone_v2")
    ret = pay_on_window(adapter.start(payment, urls=urls, mobile=False))
    delivery = received(webhook_recorder, "/portone_v2")

    notice = adapter.parse_webhook(headers=delivery["headers"], body=delivery["body"])
    assert notice.event_id == delivery["headers"]["webhook-id"]
    assert (notice.event_type, notice.merchant_uid) == ("Transaction.Paid", payment.merchant_uid)
    assert notice.psp == {"payment_id": payment.merchant_uid, "transaction_id": ret["txId"]}


def test_a_signed_webhook_is_accepted_in_any_header_case_and_beside_other_signatures(adapter, whsec):
    body = event("pay_1")
    headers = signed(whsec, body, msg_id="msg_1")
    rotated = {k.title(): v for k, v in headers.items()}
    rotated["Webhook-Signature"] = "v1,AAAA v2,xyz " + headers["webhook-signature"]  # old secret's entry first
    notice = adapter.parse_webhook(headers=rotated, body=body.encode())
    assert (notice.event_id, notice.event_type, notice.merchant_uid) == ("msg_1", "Transaction.Paid", "pay_1")


@pytest.mark.parametrize("case", ["tampered body", "other secret", "no signature", "stale", "future", "no id"])
def test_webhooks_that_cannot_be_verified_are_rejected(adapter, whsec, case):
    body = event("pay_1")
    headers = signed(whsec, body)
    if case == "tampered body":
        body = event("pay_2")
    elif case == "other secret":
        headers = signed("whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY", body)
    elif case == "no signature":
        headers["webhook-signature"] = "v1,"
    elif case == "stale":
        headers = signed(whsec, body, timestamp=int(time.time()) - 301)
    elif case == "future":
        headers = signed(whsec, body, timestamp=int(time.time()) + 301)
    elif case == "no id":
        del headers["webhook-id"]
    with pytest.raises(WebhookRejected):
        adapter.parse_webhook(headers=headers, body=body.encode())


def test_signed_but_malformed_webhooks_are_rejected(adapter, whsec):
    for body in ("not json", "[]", '{"type": "Transaction.Paid"}', '{"type": 1, "data": {}}'):
        with pytest.raises(WebhookRejected):
            adapter.parse_webhook(headers=signed(whsec, body), body=body.encode())


def test_without_a_webhook_secret_deliveries_fail_for_a_retry(sim, settings):
    """A missing secret is the shop's misconfiguration, not a forgery: the delivery is not rejected
    for good but fails, so PortOne retries it once the secret is set."""
    settings.PORTONE_V2 = {**settings.PORTONE_V2, "webhook_secret": "not base64!"}
    body = event("pay_1")
    with pytest.raises(ProviderError):
        providers.get("portone_v2").parse_webhook(headers=signed("whsec_QUJD", body), body=body.encode())

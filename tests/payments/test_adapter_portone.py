"""PortOne V1 adapter against the payment simulator over real HTTP.

The buyer's part (`IMP.request_pay` in the browser) is played by posting the simulator's hosted
payment window the way the SDK shim sends it there, then following its redirect back to the shop.
"""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from bidcart.payments import providers
from bidcart.payments.models import Payment
from bidcart.payments.providers import ProviderError, Urls, WebhookRejected
from tests.payments.fixtures import make_order, pay_in_portone_window, portone_window

# The shop's URLs for the payment; webhooks go to a closed port (their bodies are read from the
# simulator's outbox instead).
URLS = Urls(
    approve="http://shop.test/payments/return/",
    cancel="http://shop.test/payments/cancel/",
    fail="http://shop.test/payments/fail/",
    notify="http://127.0.0.1:9/payments/webhooks/portone/",
)


def new_payment(order, method="card") -> Payment:
    return Payment.objects.create(
        order=order,
        buyer=order.user,
        provider="portone",
        method=method,
        amount=order.total,
        currency="KRW",
        provider_amount=order.total,
        provider_currency="KRW",
    )


def remember(payment: Payment, snap) -> None:
    """What the services do with a snapshot's references."""
    payment.psp = {**payment.psp, **snap.psp}
    payment.save(update_fields=["psp"])


def pay_on_window(nxt, action="approve", tamper_amount="", urls=URLS) -> dict:
    """The buyer on PortOne's payment window (what iamport.js opens): answers the return's query."""
    checkout, fields = portone_window(nxt.script, nxt.params)
    page = httpx.get(checkout, params=fields)
    assert page.status_code == 200 and f"{nxt.params['amount']} KRW" in page.text
    location = pay_in_portone_window(nxt.script, nxt.params, action, tamper_amount)
    assert location.startswith(urls.approve + "?")
    return dict(parse_qsl(urlsplit(location).query))


@pytest.fixture
def calls():
    return []


@pytest.fixture
def adapter(sim, calls):
    return providers.get("portone", on_call=calls.append)


@pytest.fixture
def payment(order):
    return new_payment(order)


def paid(adapter, payment) -> dict:
    ret = pay_on_window(adapter.start(payment, urls=URLS, mobile=False))
    snap = adapter.confirm(payment, ret)
    assert snap.state == "paid"
    remember(payment, snap)
    return ret


def test_card_payment_is_verified_by_reading_it_from_portone(sim, adapter, payment, calls, pgsim_url):
    nxt = adapter.start(payment, urls=URLS, mobile=False)

    assert nxt.type == "client" and nxt.script == f"{pgsim_url}/iamport/v1/iamport.js" and nxt.psp == {}
    assert nxt.params == {
        "imp_code": "imp00000000",
        "pg": "html5_inicis",
        "pay_method": "card",
        "merchant_uid": payment.merchant_uid,
        "name": "무선 이어폰",
        "amount": 28000,
        "currency": "KRW",
        "buyer_email": "buyer1@example.com",
        "buyer_name": "김구매",
        "buyer_tel": "010-1234-5678",
        "buyer_addr": "서울 강남구 테헤란로 152 12층",
        "buyer_postcode": "06236",
        "m_redirect_url": URLS.approve,
        "notice_url": URLS.notify,
    }
    # the amount is registered before the window opens
    assert sim.ledger()["iamport_prepared"][payment.merchant_uid]["amount"] == 28000

    ret = pay_on_window(nxt)
    assert ret["imp_success"] == "true" and ret["merchant_uid"] == payment.merchant_uid
    snap = adapter.confirm(payment, ret)

    assert (snap.state, snap.amount, snap.currency, snap.refunded) == ("paid", 28000, "KRW", 0)
    assert snap.merchant_uid == payment.merchant_uid
    assert snap.psp == {"imp_uid": ret["imp_uid"]}
    # one token for the whole conversation, never logged in clear
    log = [call.as_payload() for call in calls]
    assert [c["url"].rsplit("/iamport", 1)[1] for c in log] == [
        "/users/getToken",
        "/payments/prepare",
        f"/payments/{ret['imp_uid']}",
    ]
    assert log[0]["request"]["imp_secret"] == "***" and log[0]["response"]["response"]["access_token"] == "***"
    dumped = json.dumps(log, ensure_ascii=False)
    assert "bidcart-imp-secret" not in dumped and adapter._token not in dumped


def test_buyer_cancelling_or_a_declined_card_ends_failed_whatever_the_browser_says(sim, adapter, order, buyer):
    cancelled = new_payment(order)
    ret = pay_on_window(adapter.start(cancelled, urls=URLS, mobile=False), action="cancel")
    assert ret["imp_success"] == "false"
    snap = adapter.confirm(cancelled, {**ret, "imp_success": "true"})  # a forged success flag changes nothing
    assert snap.state == "failed" and snap.failure == "사용자가 결제를 취소하셨습니다"

    declined = new_payment(make_order(buyer))
    ret = pay_on_window(adapter.start(declined, urls=URLS, mobile=False), action="fail")
    snap = adapter.confirm(declined, ret)
    assert snap.state == "failed" and "거절" in snap.failure


def test_buyer_who_closed_the_window_comes_back_pending(sim, adapter, payment):
    adapter.start(payment, urls=URLS, mobile=False)
    snap = adapter.confirm(payment, {"merchant_uid": payment.merchant_uid, "imp_success": "false"})
    assert (snap.state, snap.amount, snap.merchant_uid) == ("pending", 28000, None)
    assert adapter.fetch(payment).state == "pending"


def test_a_tampered_amount_is_refused_by_the_window(sim, adapter, payment):
    ret = pay_on_window(adapter.start(payment, urls=URLS, mobile=False), action="amount", tamper_amount=100)
    assert ret["imp_success"] == "false" and "[결제검증]" in ret["error_msg"]

    snap = adapter.confirm(payment, ret)
    assert snap.state == "failed" and "[결제검증]" in snap.failure
    assert not [p for p in sim.ledger()["iamport_payments"].values() if p["status"] == "paid"]


def test_starting_twice_reuses_the_registration_but_never_another_amount(sim, adapter, payment):
    adapter.start(payment, urls=URLS, mobile=False)
    again = adapter.start(payment, urls=URLS, mobile=False)  # "already registered" with the same amount
    assert again.params["amount"] == 28000

    payment.provider_amount = 1000
    with pytest.raises(ProviderError) as exc:
        adapter.start(payment, urls=URLS, mobile=False)
    assert exc.value.code == "prepared_amount_differs" and not exc.value.outcome_unknown


def test_a_failed_prepare_is_not_sent_twice(sim, adapter, payment, calls):
    sim.fault("/iamport/payments/prepare", method="POST", status=500, count=1)
    with pytest.raises(ProviderError) as exc:
        adapter.start(payment, urls=URLS, mobile=False)
    assert exc.value.outcome_unknown
    posts = [c for c in calls if c.method == "POST" and c.url.endswith("/payments/prepare")]
    assert [c.status for c in posts] == [500]
    # the start can simply be tried again
    assert adapter.start(payment, urls=URLS, mobile=False).params["amount"] == 28000


def test_a_reopened_window_after_paying_does_not_hide_the_payment(sim, adapter, payment):
    first = paid(adapter, payment)
    nxt = adapter.start(payment, urls=URLS, mobile=False)
    second = pay_on_window(nxt)  # PortOne refuses a second payment for the merchant_uid
    assert second["imp_success"] == "false"

    snap = adapter.confirm(payment, second)
    assert snap.state == "paid" and snap.psp == {"imp_uid": first["imp_uid"]}

    payment.psp = {}  # even knowing no imp_uid, the payment that took the money is the one found
    assert adapter.fetch(payment).psp == {"imp_uid": first["imp_uid"]}
    after = adapter.cancel(payment, reason="amount mismatch")
    assert (after.state, after.refunded, after.psp) == ("paid", 28000, {"imp_uid": first["imp_uid"]})


def test_an_imp_uid_of_another_payment_is_reported_but_never_adopted(sim, adapter, payment, buyer):
    ret = paid(adapter, payment)
    other = new_payment(make_order(buyer))
    adapter.start(other, urls=URLS, mobile=False)

    snap = adapter.confirm(
        other, {"imp_uid": ret["imp_uid"], "merchant_uid": other.merchant_uid, "imp_success": "true"}
    )
    assert snap.merchant_uid == payment.merchant_uid != other.merchant_uid  # the services see the mismatch
    assert snap.psp == {}
    assert adapter.cancel(other, reason="amount mismatch").state == "pending"
    assert adapter.fetch(payment).refunded == 0  # the other buyer's payment was left alone


def test_virtual_account_is_issued_then_paid_by_deposit(sim, adapter, order):
    payment = new_payment(order, method="vbank")
    nxt = adapter.start(payment, urls=URLS, mobile=False)
    assert nxt.params["pay_method"] == "vbank"
    ret = pay_on_window(nxt)

    snap = adapter.confirm(payment, ret)
    assert snap.state == "awaiting_deposit" and snap.amount == 28000
    assert snap.vbank["bank"] == "KB국민은행" and snap.vbank["account"].startswith("pgsim")
    assert snap.vbank["holder"] == "(주)비드카트"
    due = datetime.fromisoformat(snap.vbank["due"])
    assert due.utcoffset() == timedelta(0)
    assert timedelta(days=2) < due - datetime.now(timezone.utc) < timedelta(days=4)
    remember(payment, snap)

    sim.deposit(imp_uid=ret["imp_uid"])
    snap = adapter.fetch(payment)
    assert (snap.state, snap.amount, snap.refunded) == ("paid", 28000, 0)


def test_cancelling_an_unpaid_virtual_account_closes_it(sim, adapter, order):
    payment = new_payment(order, method="vbank")
    ret = pay_on_window(adapter.start(payment, urls=URLS, mobile=False))
    remember(payment, adapter.confirm(payment, ret))

    assert adapter.cancel(payment, reason="abandoned").state == "cancelled"
    with pytest.raises(httpx.HTTPStatusError):
        sim.deposit(imp_uid=ret["imp_uid"])  # nobody can pay into it any more


def test_cancel_gives_a_paid_payment_back_and_leaves_an_unpaid_one(sim, adapter, payment, buyer):
    paid(adapter, payment)
    snap = adapter.cancel(payment, reason="amount mismatch")
    assert (snap.state, snap.refunded) == ("paid", 28000)  # money captured, all of it returned
    assert adapter.cancel(payment, reason="again").refunded == 28000  # nothing more to give back

    unpaid = new_payment(make_order(buyer))
    adapter.start(unpaid, urls=URLS, mobile=False)
    assert adapter.cancel(unpaid, reason="abandoned").state == "pending"


def test_partial_refund_then_the_rest(sim, adapter, payment):
    paid(adapter, payment)

    first = adapter.refund(payment, amount=10000, refundable=28000, reason="one item back", key="refund-1")
    assert first.refunded_total == 10000 and first.psp_reference
    history = sim.ledger()["iamport_payments"][payment.psp["imp_uid"]]["cancel_history"]
    assert first.psp_reference == history[-1]["cancellation_id"]
    assert (adapter.fetch(payment).state, adapter.fetch(payment).refunded) == ("paid", 10000)

    rest = adapter.refund(payment, amount=18000, refundable=18000, reason="the rest", key="refund-2")
    assert rest.refunded_total == 28000 and rest.psp_reference != first.psp_reference
    snap = adapter.fetch(payment)
    assert (snap.state, snap.refunded) == ("paid", 28000)


def test_refunds_beyond_the_balance_or_from_a_stale_balance_are_refused(sim, adapter, payment):
    paid(adapter, payment)
    with pytest.raises(ProviderError) as exc:
        adapter.refund(payment, amount=30000, refundable=28000, reason="too much", key="refund-1")
    assert exc.value.code == "1" and not exc.value.outcome_unknown

    adapter.refund(payment, amount=8000, refundable=28000, reason="one", key="refund-2")
    with pytest.raises(ProviderError) as exc:  # the same refund again: PortOne's balance moved on
        adapter.refund(payment, amount=8000, refundable=28000, reason="one", key="refund-2")
    assert exc.value.code == "1"
    assert adapter.fetch(payment).refunded == 8000


def test_provider_errors_on_lookups_are_retried_then_reported_as_unknown(sim, adapter, payment, calls):
    adapter.start(payment, urls=URLS, mobile=False)
    sim.fault("/iamport/payments/find", status=500)
    calls.clear()
    with pytest.raises(ProviderError) as exc:
        adapter.fetch(payment)
    assert exc.value.outcome_unknown and exc.value.http_status == 500
    assert [(c.method, c.status) for c in calls] == [("GET", 500)] * 3

    sim.clear_faults()
    assert adapter.fetch(payment).state == "pending"


def test_an_expired_token_is_renewed(sim, adapter, payment, calls):
    adapter.start(payment, urls=URLS, mobile=False)
    sim.advance_clock(1800 + 400)  # past the token's 30 minutes
    calls.clear()
    assert adapter.fetch(payment).state == "pending"
    assert [(c.url.rsplit("/iamport", 1)[1].split("/")[1], c.status) for c in calls][:3] == [
        ("payments", 401),
        ("users", 200),
        ("payments", 404),
    ]


def test_notifications_are_parsed_from_json_and_form_bodies(sim, adapter, payment, webhook_recorder):
    urls = dataclasses.replace(URLS, notify=f"{webhook_recorder.url}/portone")
    ret = pay_on_window(adapter.start(payment, urls=urls, mobile=False), urls=urls)
    deadline = time.monotonic() + 5
    while not webhook_recorder.deliveries:
        assert time.monotonic() < deadline, "PortOne sent no notification"
        time.sleep(0.05)
    delivery = webhook_recorder.deliveries[0]
    notice = adapter.parse_webhook(headers=delivery["headers"], body=delivery["body"])
    assert (notice.event_type, notice.merchant_uid, notice.psp) == (
        "paid",
        payment.merchant_uid,
        {"imp_uid": ret["imp_uid"]},
    )

    form = f"imp_uid={ret['imp_uid']}&merchant_uid={payment.merchant_uid}&status=paid".encode()
    as_form = adapter.parse_webhook(headers={"content-type": "application/x-www-form-urlencoded"}, body=form)
    assert as_form == notice  # the same event however it is encoded: a redelivery dedupes

    refund = adapter.refund(payment, amount=1000, refundable=28000, reason="r", key="refund-1")
    cancelled = json.dumps(
        {
            "imp_uid": ret["imp_uid"],
            "merchant_uid": payment.merchant_uid,
            "status": "cancelled",
            "cancellation_id": refund.psp_reference,
        }
    ).encode()
    later = adapter.parse_webhook(headers={"content-type": "application/json"}, body=cancelled)
    assert later.event_type == "cancelled" and later.event_id != notice.event_id


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json {",
        b"[1, 2]",
        b'{"imp_uid": "imp_1"}',
        b'{"merchant_uid": "pay_1", "status": "paid"}',
        b'{"imp_uid": 5, "merchant_uid": "pay_1"}',
        b"imp_uid=&merchant_uid=pay_1",
        b"\xff\xfe",
    ],
)
def test_malformed_notifications_are_rejected(adapter, body):
    with pytest.raises(WebhookRejected):
        adapter.parse_webhook(headers={"content-type": "application/json"}, body=body)

"""The KakaoPay adapter against the payment simulator, over real HTTP, in both API generations.

The tests play the services' part: store what the adapter returns in `payment.psp`, send the
"browser" through the hosted page, and pass the return's query string to confirm.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from bidcart.payments import providers
from bidcart.payments.models import Payment
from bidcart.payments.providers import ProviderError, Urls, WebhookRejected

NEW, LEGACY = "/kakaopay/online/v1/payment/", "/kakaopay/v1/payment/"


@pytest.fixture(params=["new", "legacy"])
def api(request, settings):
    settings.KAKAOPAY = {**settings.KAKAOPAY, "api": request.param}
    return request.param


@pytest.fixture
def payment(order, buyer):
    return Payment.objects.create(
        order=order,
        buyer=buyer,
        provider="kakaopay",
        amount=order.total,
        currency=order.currency,
        provider_amount=order.total,
        provider_currency="KRW",
    )


def urls_for(payment) -> Urls:
    shop = f"http://shop.test/payments/kakaopay/{payment.merchant_uid}"
    return Urls(
        approve=f"{shop}/approve/",
        cancel=f"{shop}/cancel/",
        fail=f"{shop}/fail/",
        notify="http://shop.test/payments/webhooks/kakaopay/",
    )


def adapter(calls: list):
    """A fresh adapter, as the services build one per use: nothing survives in process memory."""
    return providers.get("kakaopay", on_call=calls.append)


def keep(payment, psp: dict) -> None:
    """What the services do with Next.psp / Snapshot.psp."""
    payment.psp = {**payment.psp, **psp}
    payment.save(update_fields=["psp"])


def start(payment, calls, *, mobile=False):
    next_ = adapter(calls).start(payment, urls=urls_for(payment), mobile=mobile)
    keep(payment, next_.psp)
    return next_


def click(url: str, action: str, **form) -> str:
    """Press a button on KakaoPay's hosted page; answer where the browser is sent."""
    answer = httpx.post(url, data={"action": action, **form})
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def open_page(url: str) -> str:
    """Open the hosted page in a browser that does not click (the outcome was queued or is magic)."""
    answer = httpx.get(url)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def query(location: str) -> dict:
    return dict(parse_qsl(urlsplit(location).query))


def trail(calls) -> list[str]:
    """Every attempt the adapter made, in order, as 'operation status'."""
    return [f"{urlsplit(c.url).path.rsplit('/', 1)[-1]} {c.status}" for c in calls]


def test_pay_then_refund_in_parts(sim, payment, order, buyer, api):
    calls: list = []
    next_ = start(payment, calls)
    assert next_.type == "redirect" and next_.url.endswith("?view=pc")
    assert next_.psp["tid"].startswith("T")
    waiting = adapter(calls).fetch(payment)
    assert (waiting.state, waiting.amount, waiting.currency) == ("pending", order.total, "KRW")
    assert waiting.merchant_uid == payment.merchant_uid

    location = click(next_.url, "approve")
    assert location.startswith(urls_for(payment).approve)
    paid = adapter(calls).confirm(payment, query(location))
    assert (paid.state, paid.amount, paid.currency, paid.refunded) == ("paid", order.total, "KRW", 0)
    assert paid.merchant_uid == payment.merchant_uid
    assert paid.psp["tid"] == payment.psp["tid"] and paid.psp["aid"].startswith("A")
    keep(payment, paid.psp)
    tid = sim.ledger()["kakaopay"][payment.psp["tid"]]  # KakaoPay has what the shop sent, in this generation
    assert (tid["partner_user_id"], tid["item_name"]) == (str(buyer.pk), "무선 이어폰")
    assert tid["api"] == {"new": "online", "legacy": "legacy"}[api]

    # The buyer reloads the return page: approving again is refused, the truth is still "paid".
    with pytest.raises(ProviderError) as twice:
        adapter(calls).confirm(payment, query(location))
    assert twice.value.code == "-702" and not twice.value.outcome_unknown
    assert adapter(calls).fetch(payment).state == "paid"

    first = adapter(calls).refund(payment, amount=10000, refundable=order.total, reason="one item back", key="r1")
    assert first.refunded_total == 10000 and first.psp_reference.startswith("A")
    # A stale "what is left" (another refund got there first) is refused, not refunded twice.
    with pytest.raises(ProviderError) as stale:
        adapter(calls).refund(payment, amount=10000, refundable=order.total, reason="again", key="r2")
    assert stale.value.code == "-781"
    partly = adapter(calls).fetch(payment)
    assert (partly.state, partly.amount, partly.refunded) == ("paid", order.total, 10000)

    left = order.total - 10000
    rest = adapter(calls).refund(payment, amount=left, refundable=left, reason="rest", key="r3")
    assert rest.refunded_total == order.total and rest.psp_reference != first.psp_reference
    # Fully refunded: money was captured, all of it came back.
    done = adapter(calls).fetch(payment)
    assert (done.state, done.amount, done.refunded) == ("paid", order.total, order.total)
    assert done.psp == paid.psp
    with pytest.raises(ProviderError) as over:
        adapter(calls).refund(payment, amount=1, refundable=0, reason="too much", key="r4")
    assert over.value.code == "-781"

    # Every call went through the call log, in the configured generation, with no key in it.
    assert trail(calls) == [
        "ready 200",
        "order 200",
        "approve 200",
        "approve 400",
        "order 200",
        "cancel 200",
        "cancel 400",
        "order 200",
        "cancel 200",
        "order 200",
        "cancel 400",
    ]
    prefix = LEGACY if api == "legacy" else NEW
    assert all(urlsplit(c.url).path.startswith(prefix) for c in calls)
    sent = calls[0].as_payload()["request"]
    assert sent["partner_order_id"] == payment.merchant_uid and str(sent["total_amount"]) == str(order.total)
    logged = json.dumps([c.as_payload() for c in calls], ensure_ascii=False)
    conf = providers.config("kakaopay")
    assert conf["secret_key"] not in logged and conf["admin_key"] not in logged


def test_buyer_cancels_on_the_page(sim, payment, api):
    calls: list = []
    next_ = start(payment, calls, mobile=True)
    assert next_.url.endswith("?view=mobile")
    assert click(next_.url, "cancel") == urls_for(payment).cancel
    quit_ = adapter(calls).fetch(payment)
    assert quit_.state == "failed" and "QUIT_PAYMENT" in quit_.failure
    assert adapter(calls).cancel(payment, reason="buyer left").state == "failed"
    assert trail(calls) == ["ready 200", "order 200", "order 200"]  # nothing to cancel at KakaoPay


def test_page_fails(sim, payment):
    calls: list = []
    next_ = start(payment, calls)
    sim.next_outcome("kakaopay", "fail")
    assert open_page(next_.url) == urls_for(payment).fail
    failed = adapter(calls).fetch(payment)
    assert failed.state == "failed" and "FAIL_AUTH_PASSWORD" in failed.failure


def test_declined_at_approve(sim, payment, order, api):
    order.lines.update(product_name="무선 이어폰 pgsim:decline")
    calls: list = []
    next_ = start(payment, calls)
    sim.next_outcome("kakaopay", "approve")
    declined = adapter(calls).confirm(payment, query(open_page(next_.url)))
    assert declined.state == "failed" and "approval failure" in declined.failure
    after = adapter(calls).fetch(payment)
    assert after.state == "failed" and "FAIL_PAYMENT" in after.failure
    with pytest.raises(ProviderError) as nothing_to_refund:
        adapter(calls).refund(payment, amount=1000, refundable=order.total, reason="x", key="r")
    assert nothing_to_refund.value.code == "-781"


def test_tampered_amount_is_reported_and_cancelled_whole(sim, payment, order):
    calls: list = []
    next_ = start(payment, calls)
    location = click(next_.url, "amount", tamper_amount="1000")  # the buyer paid ₩1,000 instead
    paid = adapter(calls).confirm(payment, query(location))
    assert paid.state == "paid" and paid.amount == 1000 != payment.provider_amount
    keep(payment, paid.psp)
    cancelled = adapter(calls).cancel(payment, reason="amount mismatch")
    assert (cancelled.state, cancelled.amount, cancelled.refunded) == ("paid", 1000, 1000)
    assert trail(calls)[-3:] == ["order 200", "cancel 200", "order 200"]
    assert calls[-2].request["cancel_amount"] == 1000 and calls[-2].request["cancel_available_amount"] == 1000


def test_cancel_before_approve_leaves_the_tid_to_expire(sim, payment):
    calls: list = []
    next_ = start(payment, calls)
    location = click(next_.url, "approve")  # the buyer approved, but the shop gave up before approving
    # Only the browser's return carries the pg_token: the server can't finish this one by itself.
    assert adapter(calls).fetch(payment).approved is False
    still = adapter(calls).cancel(payment, reason="order expired")
    assert still.state == "pending"
    assert "cancel" not in " ".join(trail(calls))
    sim.advance_clock(15 * 60 + 1)
    expired = adapter(calls).fetch(payment)
    assert expired.state == "failed"
    with pytest.raises(ProviderError) as late:
        adapter(calls).confirm(payment, query(location))
    assert late.value.code == "-703"


def test_server_errors_on_lookup_are_retried_then_unknown(sim, payment, api):
    calls: list = []
    start(payment, calls)
    prefix = LEGACY if api == "legacy" else NEW
    sim.fault(f"{prefix}order", status=500, count=1)
    assert adapter(calls).fetch(payment).state == "pending"  # one 500, retried, answered
    sim.fault(f"{prefix}order", status=503)
    with pytest.raises(ProviderError) as down:
        adapter(calls).fetch(payment)
    assert down.value.outcome_unknown and down.value.http_status == 503
    assert trail(calls) == ["ready 200", "order 500", "order 200", "order 503", "order 503", "order 503"]


def test_approve_is_sent_once_even_when_the_answer_is_lost(sim, payment, order):
    calls: list = []
    next_ = start(payment, calls)
    params = query(click(next_.url, "approve"))
    sim.fault(f"{NEW}approve", status=502, count=1)
    with pytest.raises(ProviderError) as lost:
        adapter(calls).confirm(payment, params)
    assert lost.value.outcome_unknown
    assert trail(calls) == ["ready 200", "approve 502"]  # not retried: it might have charged
    # Reconciliation reads the truth (not charged here), and the approve can still go through.
    assert adapter(calls).fetch(payment).state == "pending"
    assert adapter(calls).confirm(payment, params).state == "paid"


def test_wrong_key_is_a_provider_error(sim, payment, settings):
    settings.KAKAOPAY = {**settings.KAKAOPAY, "secret_key": "not-the-key"}
    with pytest.raises(ProviderError) as refused:
        start(payment, [])
    assert refused.value.code == "-401" and refused.value.http_status == 401 and not refused.value.outcome_unknown


def test_confirm_needs_pg_token_and_a_started_payment(sim, payment):
    with pytest.raises(ProviderError) as no_token:
        adapter([]).confirm(payment, {})
    assert no_token.value.code == "no_pg_token"
    with pytest.raises(ProviderError) as never_started:
        adapter([]).confirm(payment, {"pg_token": "abc"})
    assert never_started.value.code == "no_tid"


def test_no_webhooks(sim):
    with pytest.raises(WebhookRejected):
        adapter([]).parse_webhook(headers={}, body=b"{}")

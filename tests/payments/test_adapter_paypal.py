"""The PayPal adapter against the payment simulator, over real HTTP.

The tests play the services' part: the order is ₩28,000, PayPal is asked for USD 20.00 (the services'
conversion), references go into `payment.psp`, the "browser" goes through the hosted page and its
return query string is passed to confirm. Webhooks come from a second simulator that delivers to a
tiny receiver, so the deliveries are genuine transmissions PayPal's verify API knows.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bidcart.payments import providers
from bidcart.payments.models import Payment
from bidcart.payments.providers import ProviderError, Urls, WebhookRejected
from bidcart.pgsim.app import create_app
from bidcart.pgsim.config import SimConfig
from tests.livesrv import running_server
from tests.payments.fixtures import SimControl


@pytest.fixture
def payment(order, buyer):
    return Payment.objects.create(
        order=order,
        buyer=buyer,
        provider="paypal",
        amount=order.total,
        currency=order.currency,
        provider_amount=2000,
        provider_currency="USD",
    )


def urls_for(payment) -> Urls:
    shop = f"http://shop.test/payments/paypal/{payment.merchant_uid}"
    return Urls(
        approve=f"{shop}/approve/",
        cancel=f"{shop}/cancel/",
        fail=f"{shop}/fail/",
        notify="http://shop.test/payments/webhooks/paypal/",
    )


def adapter(calls: list):
    """A fresh adapter, as the services build one per use: nothing survives in process memory."""
    return providers.get("paypal", on_call=calls.append)


def keep(payment, psp: dict) -> None:
    """What the services do with Next.psp / Snapshot.psp."""
    payment.psp = {**payment.psp, **psp}
    payment.save(update_fields=["psp"])


def start(payment, calls):
    next_ = adapter(calls).start(payment, urls=urls_for(payment), mobile=False)
    keep(payment, next_.psp)
    return next_


def click(url: str, action: str, **form) -> str:
    """Press a button on PayPal's hosted page; answer where the browser is sent."""
    answer = httpx.post(url, data={"action": action, **form})
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def query(location: str) -> dict:
    return dict(parse_qsl(urlsplit(location).query))


def trail(calls, payment) -> list[str]:
    """Every attempt the adapter made, in order, ids replaced by what they stand for."""
    lines = []
    for call in calls:
        path = urlsplit(call.url).path.split("/paypal", 1)[-1]
        for name in ("order_id", "capture_id"):
            if payment.psp.get(name):
                path = path.replace(payment.psp[name], "{%s}" % name.split("_")[0])
        lines.append(f"{call.method} {path} {call.status}")
    return lines


def pay(payment, calls) -> dict:
    """Start, approve on the page, capture; answer the return's query string."""
    params = query(click(start(payment, calls).url, "approve"))
    keep(payment, adapter(calls).confirm(payment, params).psp)
    return params


def test_pay_then_refund_in_parts(sim, payment, order):
    calls: list = []
    next_ = start(payment, calls)
    assert next_.type == "redirect" and "/paypal/checkoutnow?token=" in next_.url
    order_id = next_.psp["order_id"]
    assert next_.url.endswith(order_id)
    waiting = adapter(calls).fetch(payment)
    assert (waiting.state, waiting.amount, waiting.currency) == ("pending", 2000, "USD")
    assert waiting.merchant_uid == payment.merchant_uid and waiting.psp == {"order_id": order_id}
    unit = sim.ledger()["paypal_orders"][order_id]["purchase_unit"]
    assert unit["description"] == "무선 이어폰"
    assert unit["invoice_id"] == unit["reference_id"] == payment.merchant_uid

    location = click(next_.url, "approve")
    assert location.startswith(urls_for(payment).approve)
    params = query(location)
    assert params["token"] == order_id and params["PayerID"]
    paid = adapter(calls).confirm(payment, params)
    assert (paid.state, paid.amount, paid.currency, paid.refunded) == ("paid", 2000, "USD", 0)
    assert paid.merchant_uid == payment.merchant_uid and paid.psp["order_id"] == order_id
    keep(payment, paid.psp)
    # The buyer reloads the return page: the same PayPal-Request-Id replays the capture, no second one.
    assert adapter(calls).confirm(payment, params).psp == paid.psp
    assert len(sim.ledger()["paypal_captures"]) == 1

    first = adapter(calls).refund(payment, amount=500, refundable=2000, reason="one item back", key="refund-1")
    assert first.refunded_total == 500
    retried = adapter(calls).refund(payment, amount=500, refundable=2000, reason="one item back", key="refund-1")
    assert retried == first  # same key: the same refund, not another one
    with pytest.raises(ProviderError) as over:
        adapter(calls).refund(payment, amount=1501, refundable=1500, reason="too much", key="refund-2")
    assert over.value.code == "REFUND_AMOUNT_EXCEEDED" and not over.value.outcome_unknown
    partly = adapter(calls).fetch(payment)
    assert (partly.state, partly.amount, partly.refunded) == ("paid", 2000, 500)

    rest = adapter(calls).refund(payment, amount=1500, refundable=1500, reason="the rest", key="refund-3")
    assert rest.refunded_total == 2000 and rest.psp_reference != first.psp_reference
    # Fully refunded: money was captured, all of it came back.
    done = adapter(calls).fetch(payment)
    assert (done.state, done.amount, done.refunded) == ("paid", 2000, 2000)
    with pytest.raises(ProviderError) as nothing_left:
        adapter(calls).refund(payment, amount=1, refundable=0, reason="again", key="refund-4")
    assert nothing_left.value.code == "CAPTURE_FULLY_REFUNDED"

    # Every call went through the call log; one token per adapter; no secret in the log.
    token, order_, capture = (
        "POST /v1/oauth2/token 200",
        "/v2/checkout/orders/{order}",
        "/v2/payments/captures/{capture}",
    )
    assert trail(calls, payment) == [
        token,
        "POST /v2/checkout/orders 201",
        token,
        f"GET {order_} 200",
        token,
        f"POST {order_}/capture 201",
        token,
        f"POST {order_}/capture 200",
        token,
        f"POST {capture}/refund 201",
        token,
        f"POST {capture}/refund 200",
        token,
        f"POST {capture}/refund 422",
        token,
        f"GET {order_} 200",
        token,
        f"POST {capture}/refund 201",
        token,
        f"GET {order_} 200",
        token,
        f"POST {capture}/refund 422",
    ]
    sent = calls[1].as_payload()["request"]["purchase_units"][0]
    assert sent["amount"] == {"currency_code": "USD", "value": "20.00"} and sent["custom_id"] == payment.merchant_uid
    assert calls[9].request["amount"] == {"currency_code": "USD", "value": "5.00"}
    logged = json.dumps([c.as_payload() for c in calls], ensure_ascii=False)
    issued = [t for t in sim.ledger()["paypal_tokens"]]
    assert issued and not any(t in logged for t in issued)
    assert providers.config("paypal")["client_secret"] not in logged


def test_buyer_cancels_on_the_page(sim, payment):
    calls: list = []
    next_ = start(payment, calls)
    location = click(next_.url, "cancel")
    assert location.startswith(urls_for(payment).cancel) and query(location)["token"] == payment.psp["order_id"]
    assert adapter(calls).fetch(payment).state == "pending"  # nothing to void: the order is never captured
    assert adapter(calls).cancel(payment, reason="buyer left").state == "pending"
    assert not any("/capture" in c.url for c in calls)


@pytest.mark.parametrize("how", ["page fails", "pgsim:decline"])
def test_declined_at_capture(sim, payment, order, how):
    calls: list = []
    if how == "page fails":
        sim.next_outcome("paypal", "fail")  # the buyer approves; the instrument is declined at capture
    else:
        order.lines.update(product_name="무선 이어폰 pgsim:decline")
        sim.next_outcome("paypal", "approve")
    answer = httpx.get(start(payment, calls).url)
    assert answer.status_code == 303
    declined = adapter(calls).confirm(payment, query(answer.headers["location"]))
    assert (declined.state, declined.amount, declined.currency) == ("failed", 2000, "USD")
    assert "INSTRUMENT_DECLINED" in declined.failure
    assert not sim.ledger()["paypal_captures"]


def test_tampered_amount_is_reported_and_refunded_whole(sim, payment):
    calls: list = []
    params = query(click(start(payment, calls).url, "amount", tamper_amount="5.00"))
    paid = adapter(calls).confirm(payment, params)
    assert paid.state == "paid" and paid.amount == 500 != payment.provider_amount
    keep(payment, paid.psp)
    cancelled = adapter(calls).cancel(payment, reason="amount mismatch")
    assert (cancelled.state, cancelled.amount, cancelled.refunded) == ("paid", 500, 500)
    refunds = [c for c in calls if c.url.endswith("/refund")]
    assert [c.request["amount"]["value"] for c in refunds] == ["5.00"]


def test_buyer_approved_and_left_the_server_finishes_it(sim, payment):
    calls: list = []
    next_ = start(payment, calls)
    assert adapter(calls).fetch(payment).approved is False  # not approved yet: nothing to finish
    click(next_.url, "approve")  # ...and the browser never comes back
    approved = adapter(calls).fetch(payment)
    assert approved.state == "pending" and approved.approved
    paid = adapter(calls).confirm(payment, {})  # reconciliation or the APPROVED webhook, no browser params
    assert (paid.state, paid.amount, paid.approved) == ("paid", 2000, False)
    assert [c.status for c in calls if c.url.endswith("/capture")] == [201]


def test_return_for_another_order_is_refused(sim, payment):
    calls: list = []
    start(payment, calls)
    with pytest.raises(ProviderError) as mismatch:
        adapter(calls).confirm(payment, {"token": "SOMEONEELSE", "PayerID": "X"})
    assert mismatch.value.code == "token_mismatch"
    assert not any("/capture" in c.url for c in calls)


def test_not_approved_yet(sim, payment):
    calls: list = []
    start(payment, calls)
    with pytest.raises(ProviderError) as early:
        adapter(calls).confirm(payment, {"token": payment.psp["order_id"]})
    assert early.value.code == "ORDER_NOT_APPROVED"


def test_captured_elsewhere_reads_the_truth(sim, payment, pgsim_url):
    """A capture that another worker made (another request id): confirm reports it instead of failing."""
    calls: list = []
    params = query(click(start(payment, calls).url, "approve"))
    conf = providers.config("paypal")
    token = httpx.post(
        f"{pgsim_url}/paypal/v1/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(conf["client_id"], conf["client_secret"]),
    ).json()["access_token"]
    elsewhere = httpx.post(
        f"{pgsim_url}/paypal/v2/checkout/orders/{params['token']}/capture",
        json={},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert elsewhere.status_code == 201
    paid = adapter(calls).confirm(payment, params)
    assert paid.state == "paid" and paid.amount == 2000 and paid.psp["capture_id"]
    assert [c.status for c in calls if "/capture" in c.url] == [422]


def test_server_errors(sim, payment):
    calls: list = []
    start(payment, calls)
    order_path = f"/paypal/v2/checkout/orders/{payment.psp['order_id']}"
    sim.fault(order_path, method="GET", status=503)
    with pytest.raises(ProviderError) as down:
        adapter(calls).fetch(payment)
    assert down.value.outcome_unknown and down.value.http_status == 503
    assert [c.status for c in calls if c.method == "GET"] == [503, 503, 503]  # a lookup: retried
    sim.clear_faults()

    # The capture carries a PayPal-Request-Id, so a lost answer is sent again safely.
    params = query(click(f"{sim.base}/paypal/checkoutnow?token={payment.psp['order_id']}", "approve"))
    sim.fault(f"{order_path}/capture", status=500, count=1)
    paid = adapter(calls).confirm(payment, params)
    assert paid.state == "paid"
    assert [c.status for c in calls if c.url.endswith("/capture")] == [500, 201]
    assert len(sim.ledger()["paypal_captures"]) == 1


def test_wrong_credentials(sim, payment, settings):
    settings.PAYPAL = {**settings.PAYPAL, "client_secret": "wrong"}
    with pytest.raises(ProviderError) as refused:
        start(payment, [])
    assert refused.value.code == "invalid_client" and not refused.value.outcome_unknown


# --- webhooks ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hooked():
    """A simulator whose PayPal webhooks go to a receiver that keeps (headers, body) as sent."""
    received: list[tuple[dict, bytes]] = []

    async def inbox(request: Request) -> Response:
        received.append((dict(request.headers), await request.body()))
        return Response(status_code=200)

    with running_server(Starlette(routes=[Route("/hook", inbox, methods=["POST"])])) as receiver:
        config = SimConfig(
            control=True, paypal_webhook_url=f"{receiver}/hook", webhook_backoff=(0.2,), allowed_origins=("*",)
        )
        with running_server(create_app(config)) as url:
            yield url, received


class Hooked(SimControl):
    def __init__(self, base: str, received: list):
        super().__init__(base)
        self.received = received


@pytest.fixture
def webhooks(hooked, settings):
    """That simulator, reset, with the shop's providers pointed at it."""
    url, received = hooked
    settings.PGSIM_URL = url
    control = Hooked(url, received)
    control.reset()
    received.clear()
    yield control
    control.reset()


def delivered(webhooks: Hooked, event_type: str, timeout=5.0) -> tuple[dict, bytes]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for headers, body in webhooks.received:
            if json.loads(body)["event_type"] == event_type:
                return headers, body
        time.sleep(0.05)
    raise AssertionError(f"no {event_type} delivered")


def as_paypal_sends(headers: dict) -> dict:
    """PayPal's header spelling; the adapter must not care about case."""
    return {k.upper() if k.startswith("paypal-") else k: v for k, v in headers.items()}


def test_webhooks_verified_and_mapped(webhooks, payment):
    calls: list = []
    pay(payment, calls)
    adapter(calls).refund(payment, amount=700, refundable=2000, reason="partial", key="refund-1")
    uid, order_id = payment.merchant_uid, payment.psp["order_id"]

    notices = {}
    for event_type in ("CHECKOUT.ORDER.APPROVED", "PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.REFUNDED"):
        headers, body = delivered(webhooks, event_type)
        notices[event_type] = adapter(calls).parse_webhook(headers=as_paypal_sends(headers), body=body)
        assert notices[event_type].event_id == json.loads(body)["id"] and notices[event_type].event_type == event_type
    assert notices["CHECKOUT.ORDER.APPROVED"].merchant_uid == uid
    assert notices["CHECKOUT.ORDER.APPROVED"].psp == {"order_id": order_id}
    assert notices["PAYMENT.CAPTURE.COMPLETED"].merchant_uid == uid
    assert notices["PAYMENT.CAPTURE.COMPLETED"].psp == {"order_id": order_id}
    assert notices["PAYMENT.CAPTURE.REFUNDED"].merchant_uid == uid  # bidcart's refunds carry it in custom_id
    assert notices["PAYMENT.CAPTURE.REFUNDED"].psp == {"capture_id": payment.psp["capture_id"]}
    verified = [c for c in calls if c.url.endswith("/verify-webhook-signature")]
    assert len(verified) == 3 and all(c.response == {"verification_status": "SUCCESS"} for c in verified)
    assert verified[0].request["webhook_id"] == providers.config("paypal")["webhook_id"]


def test_declined_capture_webhook_names_the_order(webhooks, payment):
    calls: list = []
    webhooks.next_outcome("paypal", "fail")
    answer = httpx.get(start(payment, calls).url)
    assert adapter(calls).confirm(payment, query(answer.headers["location"])).state == "failed"
    headers, body = delivered(webhooks, "PAYMENT.CAPTURE.DECLINED")
    notice = adapter(calls).parse_webhook(headers=headers, body=body)
    assert notice.psp == {"order_id": payment.psp["order_id"]}


def test_forged_webhooks_are_rejected(webhooks, payment):
    calls: list = []
    pay(payment, calls)
    headers, body = delivered(webhooks, "PAYMENT.CAPTURE.COMPLETED")
    event = json.loads(body)
    event["resource"]["amount"]["value"] = "0.01"  # tampered on the way
    with pytest.raises(WebhookRejected):
        adapter(calls).parse_webhook(headers=headers, body=json.dumps(event).encode())
    with pytest.raises(WebhookRejected):  # a signature that PayPal never sent
        adapter(calls).parse_webhook(headers={**headers, "paypal-transmission-sig": "Zm9yZ2Vk"}, body=body)
    with pytest.raises(WebhookRejected):  # not from PayPal at all: no verify call needed
        adapter(calls).parse_webhook(headers={"content-type": "application/json"}, body=body)
    with pytest.raises(WebhookRejected):
        adapter(calls).parse_webhook(headers=headers, body=b"not json")
    verdicts = [c.response for c in calls if c.url.endswith("/verify-webhook-signature")]
    assert verdicts == [{"verification_status": "FAILURE"}] * 2
    # ...while the genuine delivery still verifies
    assert adapter(calls).parse_webhook(headers=headers, body=body).psp == {"order_id": payment.psp["order_id"]}


def test_verify_api_down_is_not_a_rejection(webhooks, payment):
    """If PayPal can't say, the delivery must be answered non-2xx and come again, not thrown away."""
    calls: list = []
    pay(payment, calls)
    headers, body = delivered(webhooks, "PAYMENT.CAPTURE.COMPLETED")
    webhooks.fault("/paypal/v1/notifications/verify-webhook-signature", status=500)
    with pytest.raises(ProviderError) as unknown:
        adapter(calls).parse_webhook(headers=headers, body=body)
    assert unknown.value.outcome_unknown

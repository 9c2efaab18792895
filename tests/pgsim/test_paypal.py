"""PayPal: OAuth, orders, approval page, capture, refunds, PayPal-Request-Id, errors, webhooks."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlsplit

from .conftest import flush

BASIC = "Basic " + base64.b64encode(b"bidcart-paypal-client:bidcart-paypal-secret").decode()
DEBUG_ID = re.compile(r"^[0-9a-f]{13}$")


async def bearer(client) -> dict:
    r = await client.post(
        "/paypal/v1/oauth2/token", data={"grant_type": "client_credentials"}, headers={"Authorization": BASIC}
    )
    assert r.status_code == 200
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def order_body(value="10.00", **unit):
    return {
        "intent": "CAPTURE",
        "purchase_units": [{"reference_id": "o-1", "amount": {"currency_code": "USD", "value": value}, **unit}],
        "application_context": {"return_url": "http://shop.test/pp/return", "cancel_url": "http://shop.test/pp/cancel"},
    }


async def create(client, h, **kw) -> dict:
    r = await client.post("/paypal/v2/checkout/orders", json=order_body(**kw), headers=h)
    assert r.status_code == 201, r.text
    return r.json()


async def approve(client, order, action="approve", **extra) -> str:
    href = next(l["href"] for l in order["links"] if l["rel"] == "approve")
    assert href.startswith("http://pgsim.test/paypal/checkoutnow?token=")
    page = await client.get(href)
    assert page.status_code == 200 and "Approve payment" in page.text
    r = await client.post(href, data={"action": action, **extra})
    assert r.status_code == 303
    return r.headers["location"]


def assert_error(r, status, name, issue=None):
    body = r.json()
    assert r.status_code == status and body["name"] == name and body["message"] and DEBUG_ID.match(body["debug_id"])
    if issue:
        assert body["details"][0]["issue"] == issue
        assert body["links"][0]["rel"] == "information_link"


async def test_oauth_token_and_errors(client):
    r = await client.post(
        "/paypal/v1/oauth2/token", data={"grant_type": "client_credentials"}, headers={"Authorization": BASIC}
    )
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 32400 and body["access_token"] and body["app_id"]
    bad = "Basic " + base64.b64encode(b"bidcart-paypal-client:wrong").decode()
    r = await client.post(
        "/paypal/v1/oauth2/token", data={"grant_type": "client_credentials"}, headers={"Authorization": bad}
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = await client.post("/paypal/v1/oauth2/token", data={"grant_type": "password"}, headers={"Authorization": BASIC})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    assert_error(await client.get("/paypal/v2/checkout/orders/X"), 401, "AUTHENTICATION_FAILURE")


async def test_create_approve_capture_refund(client, receiver):
    h = await bearer(client)
    order = await create(client, h)
    assert set(order) == {"id", "status", "links"} and order["status"] == "CREATED"  # return=minimal
    location = await approve(client, order)
    q = parse_qs(urlsplit(location).query)
    assert location.startswith("http://shop.test/pp/return?") and q["token"] == [order["id"]] and q["PayerID"][0]
    full = (await client.get(f"/paypal/v2/checkout/orders/{order['id']}", headers=h)).json()
    assert full["status"] == "APPROVED" and full["payer"]["payer_id"] == q["PayerID"][0]
    assert full["purchase_units"][0]["amount"] == {"currency_code": "USD", "value": "10.00"}

    r = await client.post(
        f"/paypal/v2/checkout/orders/{order['id']}/capture", headers={**h, "Content-Type": "application/json"}
    )
    assert r.status_code == 201
    captured = r.json()
    assert captured["status"] == "COMPLETED"
    capture = captured["purchase_units"][0]["payments"]["captures"][0]
    assert (
        capture["status"] == "COMPLETED" and capture["amount"]["value"] == "10.00" and capture["final_capture"] is True
    )
    b = capture["seller_receivable_breakdown"]
    assert (
        b["gross_amount"]["value"] == "10.00"
        and b["paypal_fee"]["value"] == "0.84"
        and b["net_amount"]["value"] == "9.16"
    )
    assert {l["rel"] for l in capture["links"]} == {"self", "refund", "up"}
    assert_error(
        await client.post(f"/paypal/v2/checkout/orders/{order['id']}/capture", headers=h),
        422,
        "UNPROCESSABLE_ENTITY",
        "ORDER_ALREADY_CAPTURED",
    )

    r = await client.post(
        f"/paypal/v2/payments/captures/{capture['id']}/refund",
        json={"amount": {"currency_code": "USD", "value": "2.50"}},
        headers={**h, "Prefer": "return=representation"},
    )
    assert r.status_code == 201 and r.json()["status"] == "COMPLETED" and r.json()["amount"]["value"] == "2.50"
    cap = (await client.get(f"/paypal/v2/payments/captures/{capture['id']}", headers=h)).json()
    assert cap["status"] == "PARTIALLY_REFUNDED"
    assert_error(
        await client.post(
            f"/paypal/v2/payments/captures/{capture['id']}/refund",
            json={"amount": {"currency_code": "USD", "value": "7.51"}},
            headers=h,
        ),
        422,
        "UNPROCESSABLE_ENTITY",
        "REFUND_AMOUNT_EXCEEDED",
    )
    assert_error(
        await client.post(
            f"/paypal/v2/payments/captures/{capture['id']}/refund",
            json={"amount": {"currency_code": "EUR", "value": "1.00"}},
            headers=h,
        ),
        422,
        "UNPROCESSABLE_ENTITY",
        "REFUND_CAPTURE_CURRENCY_MISMATCH",
    )
    rest = await client.post(f"/paypal/v2/payments/captures/{capture['id']}/refund", json={}, headers=h)
    assert rest.status_code == 201 and set(rest.json()) == {"id", "status", "links"}
    refund = (await client.get(f"/paypal/v2/payments/refunds/{rest.json()['id']}", headers=h)).json()
    assert (
        refund["amount"]["value"] == "7.50"
        and refund["seller_payable_breakdown"]["total_refunded_amount"]["value"] == "10.00"
    )
    assert (await client.get(f"/paypal/v2/payments/captures/{capture['id']}", headers=h)).json()["status"] == "REFUNDED"
    assert_error(
        await client.post(f"/paypal/v2/payments/captures/{capture['id']}/refund", json={}, headers=h),
        422,
        "UNPROCESSABLE_ENTITY",
        "CAPTURE_FULLY_REFUNDED",
    )

    await flush(client)
    types = [d["json"]["event_type"] for d in receiver.for_path("/hooks/paypal")]
    assert types == [
        "CHECKOUT.ORDER.APPROVED",
        "PAYMENT.CAPTURE.COMPLETED",
        "PAYMENT.CAPTURE.REFUNDED",
        "PAYMENT.CAPTURE.REFUNDED",
    ]


async def test_validation_and_not_found_errors(client):
    h = await bearer(client)
    assert_error(
        await client.post("/paypal/v2/checkout/orders", json={"purchase_units": []}, headers=h),
        400,
        "INVALID_REQUEST",
        "MISSING_REQUIRED_PARAMETER",
    )
    assert_error(
        await client.post("/paypal/v2/checkout/orders", json=order_body(value=10), headers=h),
        400,
        "INVALID_REQUEST",
        "INVALID_PARAMETER_SYNTAX",
    )  # value must be a string
    assert_error(
        await client.post("/paypal/v2/checkout/orders", json=order_body(value="1.005"), headers=h),
        422,
        "UNPROCESSABLE_ENTITY",
        "DECIMAL_PRECISION",
    )
    mismatch = order_body()
    mismatch["purchase_units"][0]["amount"]["breakdown"] = {"item_total": {"currency_code": "USD", "value": "9.00"}}
    assert_error(
        await client.post("/paypal/v2/checkout/orders", json=mismatch, headers=h),
        422,
        "UNPROCESSABLE_ENTITY",
        "AMOUNT_MISMATCH",
    )
    assert_error(
        await client.get("/paypal/v2/checkout/orders/NOPE", headers=h), 404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID"
    )
    order = await create(client, h)
    assert_error(
        await client.post(f"/paypal/v2/checkout/orders/{order['id']}/capture", headers=h),
        422,
        "UNPROCESSABLE_ENTITY",
        "ORDER_NOT_APPROVED",
    )


async def test_orders_in_a_currency_paypal_does_not_take_or_for_nothing_are_refused(client):
    h = await bearer(client)
    krw = order_body(value="28000")
    krw["purchase_units"][0]["amount"]["currency_code"] = "KRW"
    r = await client.post("/paypal/v2/checkout/orders", json=krw, headers=h)
    assert_error(r, 422, "UNPROCESSABLE_ENTITY", "INVALID_CURRENCY_CODE")
    assert r.json()["details"][0]["field"].endswith("/amount/currency_code")
    assert_error(
        await client.post("/paypal/v2/checkout/orders", json=order_body(value="0.00"), headers=h),
        422,
        "UNPROCESSABLE_ENTITY",
        "CANNOT_BE_ZERO_OR_NEGATIVE",
    )
    huf = order_body(value="7368.42")
    huf["purchase_units"][0]["amount"]["currency_code"] = "HUF"  # no decimals at PayPal
    assert_error(
        await client.post("/paypal/v2/checkout/orders", json=huf, headers=h),
        422,
        "UNPROCESSABLE_ENTITY",
        "DECIMAL_PRECISION",
    )


async def test_paypal_request_id_replays(client):
    h = await bearer(client)
    rid = {**h, "PayPal-Request-Id": "req-123"}
    a = await client.post("/paypal/v2/checkout/orders", json=order_body(), headers=rid)
    b = await client.post("/paypal/v2/checkout/orders", json=order_body(), headers=rid)
    assert a.status_code == 201 and b.status_code == 200 and a.json()["id"] == b.json()["id"]
    c = await client.post("/paypal/v2/checkout/orders", json=order_body(), headers=h)
    assert c.json()["id"] != a.json()["id"]  # no header: a new order
    await approve(client, a.json())
    cap = {**h, "PayPal-Request-Id": "cap-1"}
    first = await client.post(f"/paypal/v2/checkout/orders/{a.json()['id']}/capture", headers=cap)
    again = await client.post(f"/paypal/v2/checkout/orders/{a.json()['id']}/capture", headers=cap)
    assert first.status_code == 201 and again.status_code == 200 and first.json() == again.json()


async def test_payer_action_required_with_experience_context(client):
    h = await bearer(client)
    body = order_body()
    del body["application_context"]
    body["payment_source"] = {
        "paypal": {"experience_context": {"return_url": "http://shop.test/r", "cancel_url": "http://shop.test/c"}}
    }
    r = (await client.post("/paypal/v2/checkout/orders", json=body, headers=h)).json()
    assert r["status"] == "PAYER_ACTION_REQUIRED" and any(l["rel"] == "payer-action" for l in r["links"])


async def test_cancel_fail_and_different_amount_buttons(client):
    h = await bearer(client)
    order = await create(client, h)
    assert await approve(client, order, "cancel") == f"http://shop.test/pp/cancel?token={order['id']}"
    order = await create(client, h)
    await approve(client, order, "fail")
    assert_error(
        await client.post(f"/paypal/v2/checkout/orders/{order['id']}/capture", headers=h),
        422,
        "UNPROCESSABLE_ENTITY",
        "INSTRUMENT_DECLINED",
    )
    order = await create(client, h)
    await approve(client, order, "amount", tamper_amount="0.01")
    captured = (await client.post(f"/paypal/v2/checkout/orders/{order['id']}/capture", headers=h)).json()
    assert captured["purchase_units"][0]["payments"]["captures"][0]["amount"]["value"] == "0.01"


async def test_verify_webhook_signature_only_for_real_deliveries(client, receiver):
    h = await bearer(client)
    order = await create(client, h)
    await approve(client, order)
    await flush(client)
    [hook] = receiver.for_path("/hooks/paypal")
    hdr = hook["headers"]
    assert hdr["paypal-auth-algo"] == "SHA256withRSA" and hdr["paypal-cert-url"].startswith("http://pgsim.test/paypal/")
    payload = {
        "auth_algo": hdr["paypal-auth-algo"],
        "cert_url": hdr["paypal-cert-url"],
        "transmission_id": hdr["paypal-transmission-id"],
        "transmission_sig": hdr["paypal-transmission-sig"],
        "transmission_time": hdr["paypal-transmission-time"],
        "webhook_id": "1PGSIMBIDCART0WEBHOOK000",
        "webhook_event": hook["json"],
    }

    async def status(p):
        r = await client.post("/paypal/v1/notifications/verify-webhook-signature", json=p, headers=h)
        assert r.status_code == 200
        return r.json()["verification_status"]

    assert await status(payload) == "SUCCESS"
    tampered = dict(payload, webhook_event={**hook["json"], "summary": "forged"})
    assert await status(tampered) == "FAILURE"
    assert await status(dict(payload, transmission_sig="AAAA")) == "FAILURE"
    assert await status(dict(payload, transmission_id="forged-id")) == "FAILURE"
    assert await status(dict(payload, webhook_id="WH-OTHER")) == "FAILURE"
    assert await status(dict(payload, transmission_time="2020-01-01T00:00:00Z")) == "FAILURE"
    missing = dict(payload)
    del missing["webhook_event"]
    assert_error(
        await client.post("/paypal/v1/notifications/verify-webhook-signature", json=missing, headers=h),
        400,
        "INVALID_REQUEST",
        "MISSING_REQUIRED_PARAMETER",
    )


async def test_magic_decline(client):
    h = await bearer(client)
    order = await create(client, h, description="Lot pgsim:decline")
    await approve(client, order)
    assert_error(
        await client.post(f"/paypal/v2/checkout/orders/{order['id']}/capture", headers=h),
        422,
        "UNPROCESSABLE_ENTITY",
        "INSTRUMENT_DECLINED",
    )

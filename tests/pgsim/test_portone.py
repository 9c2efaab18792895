"""PortOne V2: auth, payment union, pre-register, cancel, Idempotency-Key, webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from urllib.parse import parse_qs, urlsplit

from bidcart.pgsim.webhooks import standard_webhooks_signature

from .conftest import flush

AUTH = {"Authorization": "PortOne bidcart-portone-secret"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
COMMON = {
    "status",
    "id",
    "transactionId",
    "merchantId",
    "storeId",
    "version",
    "requestedAt",
    "updatedAt",
    "statusChangedAt",
    "orderName",
    "amount",
    "currency",
    "customer",
    "origin",
}


async def pay(client, payment_id="pay-1", total=12000, action="approve", **extra) -> dict:
    params = {
        "storeId": "store-bidcart",
        "paymentId": payment_id,
        "orderName": "Lot #9",
        "totalAmount": total,
        "currency": "KRW",
        "redirectUrl": "http://shop.test/pay/portone/return",
        **extra,
    }
    page = await client.get("/portone/checkout", params=params)
    assert page.status_code == 200, page.text
    form = {**{k: str(v) for k, v in params.items()}, "action": action}
    r = await client.post("/portone/checkout", data=form)
    assert r.status_code == 303
    assert r.headers["location"].startswith("http://shop.test/pay/portone/return?")
    return {k: v[0] for k, v in parse_qs(urlsplit(r.headers["location"]).query).items()}


async def get(client, payment_id):
    return await client.get(f"/portone/payments/{payment_id}", headers=AUTH)


async def test_auth_errors(client):
    r = await client.get("/portone/payments/x", headers={"Authorization": "PortOne wrong"})
    assert r.status_code == 401 and r.json()["type"] == "UNAUTHORIZED" and r.json()["message"]
    assert (await client.get("/portone/payments/x")).status_code == 401
    login = await client.post("/portone/login/api-secret", json={"apiSecret": "bidcart-portone-secret"})
    assert set(login.json()) == {"accessToken", "refreshToken"}
    r = await client.get("/portone/payments/x", headers={"Authorization": f"Bearer {login.json()['accessToken']}"})
    assert r.status_code == 404 and r.json()["type"] == "PAYMENT_NOT_FOUND"
    r = await client.get("/portone/payments/x", params={"storeId": "store-other"}, headers=AUTH)
    assert r.status_code == 403 and r.json()["type"] == "FORBIDDEN"


async def test_paid_payment_object(client):
    result = await pay(client)
    assert result["paymentId"] == "pay-1" and result["transactionType"] == "PAYMENT" and "code" not in result
    r = await get(client, "pay-1")
    assert r.status_code == 200
    p = r.json()
    assert COMMON <= set(p) and {"channel", "paidAt", "disputes"} <= set(p)
    assert p["status"] == "PAID" and p["id"] == "pay-1" and p["transactionId"] == result["txId"]
    assert p["version"] == "V2" and p["storeId"] == "store-bidcart" and p["disputes"] == []
    assert p["amount"] == {
        "total": 12000,
        "taxFree": 0,
        "vat": 1091,
        "supply": 10909,
        "discount": 0,
        "paid": 12000,
        "cancelled": 0,
        "cancelledTaxFree": 0,
    }
    for key in ("requestedAt", "updatedAt", "statusChangedAt", "paidAt"):
        assert RFC3339.match(p[key])
    assert p["channel"]["type"] == "TEST" and p["method"]["type"] == "PaymentMethodCard"
    assert None not in p.values()  # optional fields are omitted, never null


async def test_failed_payment_object_and_cancel_button(client):
    result = await pay(client, "pay-f", action="fail")
    assert result["code"] == "FAILURE_TYPE_PG" and result["message"]
    p = (await get(client, "pay-f")).json()
    assert p["status"] == "FAILED" and RFC3339.match(p["failedAt"]) and p["failure"]["reason"]
    assert "channel" not in p
    result = await pay(client, "pay-q", action="cancel")
    assert result["code"] == "FAILURE_TYPE_PG"


async def test_pre_register_blocks_other_amount_and_already_paid(client):
    r = await client.post(
        "/portone/payments/pay-p/pre-register", json={"totalAmount": 5000, "currency": "KRW"}, headers=AUTH
    )
    assert r.status_code == 200 and r.json() == {}
    result = await pay(client, "pay-p", 5000, action="amount", tamper_amount="10")
    # the tampered amount is refused at the gateway because it differs from the registered one
    assert result["code"] and (await get(client, "pay-p")).json()["status"] == "FAILED"
    result = await pay(client, "pay-p", 5000)
    assert "code" not in result and (await get(client, "pay-p")).json()["status"] == "PAID"
    r = await client.post("/portone/payments/pay-p/pre-register", json={"totalAmount": 5000}, headers=AUTH)
    assert r.status_code == 409 and r.json()["type"] == "ALREADY_PAID"
    r = await client.post("/portone/payments/pay-x/pre-register", json={"totalAmount": "abc"}, headers=AUTH)
    assert r.status_code == 400 and r.json()["type"] == "INVALID_REQUEST"


async def test_cancel_partial_full_and_errors(client):
    await pay(client, "pay-c", 10000)
    r = await client.post("/portone/payments/pay-c/cancel", json={"amount": 1000}, headers=AUTH)
    assert r.status_code == 400 and r.json()["type"] == "INVALID_REQUEST"  # reason is required
    r = await client.post(
        "/portone/payments/pay-c/cancel",
        json={"reason": "r", "amount": 1000, "currentCancellableAmount": 9999},
        headers=AUTH,
    )
    assert r.status_code == 409 and r.json()["type"] == "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN"
    r = await client.post("/portone/payments/pay-c/cancel", json={"reason": "r", "amount": 10001}, headers=AUTH)
    assert r.status_code == 409 and r.json()["type"] == "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT"
    r = await client.post(
        "/portone/payments/pay-c/cancel",
        json={"reason": "size", "amount": 4000, "currentCancellableAmount": 10000},
        headers=AUTH,
    )
    assert r.status_code == 200
    c = r.json()["cancellation"]
    assert c["status"] == "SUCCEEDED" and c["totalAmount"] == 4000 and c["vatAmount"] == 364 and c["reason"] == "size"
    assert RFC3339.match(c["requestedAt"]) and RFC3339.match(c["cancelledAt"])
    p = (await get(client, "pay-c")).json()
    assert p["status"] == "PARTIAL_CANCELLED" and p["amount"]["cancelled"] == 4000 and len(p["cancellations"]) == 1
    r = await client.post("/portone/payments/pay-c/cancel", json={"reason": "rest"}, headers=AUTH)
    assert r.json()["cancellation"]["totalAmount"] == 6000
    p = (await get(client, "pay-c")).json()
    assert p["status"] == "CANCELLED" and RFC3339.match(p["cancelledAt"])
    r = await client.post("/portone/payments/pay-c/cancel", json={"reason": "again"}, headers=AUTH)
    assert r.status_code == 409 and r.json()["type"] == "PAYMENT_ALREADY_CANCELLED"
    await pay(client, "pay-nf", action="fail")
    r = await client.post("/portone/payments/pay-nf/cancel", json={"reason": "x"}, headers=AUTH)
    assert r.status_code == 409 and r.json()["type"] == "PAYMENT_NOT_PAID"
    r = await client.post("/portone/payments/none/cancel", json={"reason": "x"}, headers=AUTH)
    assert r.status_code == 404 and r.json()["type"] == "PAYMENT_NOT_FOUND"


async def test_idempotency_key_replays_the_first_answer(client):
    await pay(client, "pay-i", 10000)
    headers = {**AUTH, "Idempotency-Key": '"key-0123456789abcdef"'}
    first = await client.post("/portone/payments/pay-i/cancel", json={"reason": "r", "amount": 1000}, headers=headers)
    second = await client.post("/portone/payments/pay-i/cancel", json={"reason": "r", "amount": 1000}, headers=headers)
    assert first.status_code == second.status_code == 200 and first.json() == second.json()
    p = (await get(client, "pay-i")).json()
    assert p["amount"]["cancelled"] == 1000  # cancelled once, not twice
    other = await client.post("/portone/payments/pay-i/cancel", json={"reason": "r", "amount": 2000}, headers=headers)
    assert other.status_code == 400
    # errors are replayed too
    bad = {**AUTH, "Idempotency-Key": "key-bad-0123456789"}
    a = await client.post("/portone/payments/none/cancel", json={"reason": "r"}, headers=bad)
    b = await client.post("/portone/payments/none/cancel", json={"reason": "r"}, headers=bad)
    assert a.status_code == b.status_code == 404 and a.json() == b.json()


async def test_virtual_account_issued_then_deposit(client, receiver):
    await pay(client, "pay-v", 30000, payMethod="VIRTUAL_ACCOUNT")
    p = (await get(client, "pay-v")).json()
    assert p["status"] == "VIRTUAL_ACCOUNT_ISSUED" and p["method"]["type"] == "PaymentMethodVirtualAccount"
    assert p["method"]["accountNumber"]
    assert (await client.post("/_control/vbank/deposit", json={"paymentId": "pay-v"})).json()["status"] == "PAID"
    assert (await get(client, "pay-v")).json()["status"] == "PAID"
    await flush(client)
    assert [d["json"]["type"] for d in receiver.for_path("/hooks/portone")] == [
        "Transaction.VirtualAccountIssued",
        "Transaction.Paid",
    ]


def verify(secret: str, headers: dict, body: str, now: int, tolerance: int = 300) -> bool:
    """An independent Standard Webhooks verifier (what a shop would write)."""
    if abs(now - int(headers["webhook-timestamp"])) > tolerance:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(part.split(",", 1)[1], expected)
        for part in headers["webhook-signature"].split()
        if part.startswith("v1,")
    )


async def test_webhooks_are_signed_with_standard_webhooks(client, receiver, app):
    await pay(client, "pay-w", 1000)
    await client.post("/portone/payments/pay-w/cancel", json={"reason": "r", "amount": 400}, headers=AUTH)
    await client.post("/portone/payments/pay-w/cancel", json={"reason": "r", "skipWebhook": True}, headers=AUTH)
    await flush(client)
    hooks = receiver.for_path("/hooks/portone")
    assert [h["json"]["type"] for h in hooks] == ["Transaction.Paid", "Transaction.PartialCancelled"]
    paid, partial = hooks
    assert paid["json"]["data"] == {
        "storeId": "store-bidcart",
        "paymentId": "pay-w",
        "transactionId": paid["json"]["data"]["transactionId"],
    }
    assert RFC3339.match(paid["json"]["timestamp"]) and partial["json"]["data"]["cancellationId"]
    secret = (await client.get("/_control/")).json()["portone"]["webhook_secret"]
    assert secret.startswith("whsec_")
    now = int(app.sim.state.now())
    assert verify(secret, paid["headers"], paid["raw"], now)
    assert not verify(secret, paid["headers"], paid["raw"].replace("pay-w", "pay-x"), now)  # tampered body
    assert not verify(secret, paid["headers"], paid["raw"], now + 301)  # stale timestamp
    wrong = "whsec_" + base64.b64encode(b"another-secret-of-24-bytes").decode()
    assert not verify(wrong, paid["headers"], paid["raw"], now)  # wrong secret
    # the simulator's signer agrees with the independent verifier
    h = paid["headers"]
    assert h["webhook-signature"] == standard_webhooks_signature(
        secret, h["webhook-id"], h["webhook-timestamp"], paid["raw"]
    )


async def test_hosted_page_refuses_paid_payment_and_serves_browser_sdk(client):
    await pay(client, "pay-d", 1000)
    r = await client.get("/portone/checkout", params={"paymentId": "pay-d", "orderName": "x", "totalAmount": 1000})
    assert r.status_code == 409
    js = await client.get("/portone/browser-sdk.js")
    assert js.status_code == 200 and "requestPayment" in js.text

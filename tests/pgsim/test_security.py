"""pgsim under attack: reflected markup stays text, its responses carry strict headers, it sends browsers
and webhooks only to allowed origins, and it does not read a body past its limit (issue #13, items 1, 4,
5 and 11)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

from bidcart.pgsim import targets
from bidcart.pgsim.app import create_app
from bidcart.pgsim.config import SimConfig

from .conftest import BASE
from .test_paypal import bearer

PAYLOAD = "x'\"><script>alert(document.domain)</script><img src=x onerror=alert(1)><a x='"
KAKAO = {"Authorization": "SECRET_KEY bidcart-kakaopay-secret"}
ISSUE_URL = (
    "/portone/checkout?paymentId=x'><script>alert(1)</script><a x='"
    "&orderName=pgsim:approve&totalAmount=1&payMethod=VIRTUAL_ACCOUNT"
)


class Markup(HTMLParser):
    """What a browser would build from the page: its elements and their attributes."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def assert_inert(response: httpx.Response) -> None:
    """No element or attribute came from the payload: only the page's own nonce'd script, no <img>,
    no event-handler attribute, no stray <a x=...>."""
    nonce = re.search(r"script-src 'nonce-([^']+)'", response.headers["content-security-policy"]).group(1)
    for tag, attrs in Markup(response.text).tags:
        assert tag not in ("img", "iframe", "object", "embed"), (tag, attrs)
        if tag == "script":
            assert attrs.get("nonce") == nonce and "src" not in attrs, attrs
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "x" not in attrs, (tag, attrs)
    assert "<script>alert" not in response.text


# --- #13.1: reflected XSS ------------------------------------------------------------------------------


async def test_the_issues_url_reflects_the_payment_id_as_text(client):
    page = await client.get(ISSUE_URL)
    assert page.status_code == 200
    assert_inert(page)
    assert "\\u003cscript\\u003e" in page.text  # in the result handed to the opener: JSON, escaped for HTML
    deposit = [a for tag, a in Markup(page.text).tags if tag == "a"]
    assert deposit and deposit[0]["href"].endswith(
        "/portone/vbank/x%27%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E%3Ca%20x%3D%27"
    )


PORTONE = {
    "storeId": "store-bidcart",
    "paymentId": "p-1",
    "orderName": "Lot",
    "totalAmount": "1000",
    "currency": "KRW",
    "payMethod": "CARD",
    "customer.fullName": "Kim",
    "customData": "{}",
}
IAMPORT = {
    "merchant_uid": "m-1",
    "name": "Lot",
    "amount": "1000",
    "currency": "KRW",
    "pay_method": "card",
    "pg": "html5_inicis",
    "buyer_name": "Kim",
    "buyer_email": "k@example.com",
    "buyer_tel": "010",
    "buyer_addr": "Seoul",
    "buyer_postcode": "06236",
    "custom_data": "{}",
    "imp_code": "imp0",
}


@pytest.mark.parametrize("field", [k for k in PORTONE if k not in ("totalAmount", "storeId")])
async def test_portone_checkout_page_reflects_every_parameter_as_text(client, field):
    page = await client.get("/portone/checkout", params={**PORTONE, field: PAYLOAD})
    assert page.status_code in (200, 400), page.text
    assert_inert(page)


@pytest.mark.parametrize("field", [k for k in IAMPORT if k != "amount"])
async def test_iamport_checkout_page_reflects_every_parameter_as_text(client, field):
    page = await client.get("/iamport/checkout", params={**IAMPORT, field: PAYLOAD})
    assert page.status_code == 200, page.text
    assert_inert(page)


@pytest.mark.parametrize("outcome", ["approve", "fail"])
async def test_result_pages_keep_reflected_values_inert(client, outcome):
    """The popup's result page hands the result to the opener in a script: still no breaking out of it."""
    page = await client.post(
        "/iamport/checkout", data={**IAMPORT, "name": PAYLOAD + "</script>", "action": outcome, "pay_method": "vbank"}
    )
    assert page.status_code == 200
    assert_inert(page)
    page = await client.post(
        "/portone/checkout",
        data={**PORTONE, "paymentId": PAYLOAD, "orderName": PAYLOAD, "action": outcome, "payMethod": "VIRTUAL_ACCOUNT"},
    )
    assert page.status_code == 200
    assert_inert(page)


async def test_kakaopay_and_paypal_pages_reflect_api_values_as_text(client):
    ready = await client.post(
        "/kakaopay/online/v1/payment/ready",
        headers=KAKAO,
        json={
            "cid": "TC0ONETIME",
            "partner_order_id": PAYLOAD,
            "partner_user_id": "u",
            "item_name": PAYLOAD,
            "quantity": 1,
            "total_amount": 1000,
            "tax_free_amount": 0,
            "approval_url": "http://shop.test/a",
            "cancel_url": "http://shop.test/c",
            "fail_url": "http://shop.test/f",
        },
    )
    page = await client.get(ready.json()["next_redirect_pc_url"])
    assert page.status_code == 200
    assert_inert(page)
    order = await client.post(
        "/paypal/v2/checkout/orders",
        headers=await bearer(client),
        json={
            "intent": "CAPTURE",
            "purchase_units": [{"description": PAYLOAD, "amount": {"currency_code": "USD", "value": "1.00"}}],
        },
    )
    page = await client.get("/paypal/checkoutnow", params={"token": order.json()["id"]})
    assert page.status_code == 200
    assert_inert(page)


async def test_pages_and_api_answers_carry_strict_headers(client):
    page = await client.get("/iamport/checkout", params=IAMPORT)
    api = await client.get("/portone/payments/nope", headers={"Authorization": "PortOne bidcart-portone-secret"})
    script = await client.get("/iamport/v1/iamport.js")
    for response in (page, api, script):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'nonce-" in csp and "'unsafe-inline'" not in csp
    assert page.headers["cache-control"] == "no-store"
    assert script.headers["content-type"].startswith("application/javascript")


async def test_the_result_page_posts_the_result_only_to_allowed_origins(client):
    page = await client.post("/iamport/checkout", data={**IAMPORT, "action": "approve"})
    assert "postMessage(result, origin)" in page.text
    assert '"http://shop.test"' in page.text and "'*'" not in page.text


# --- #13.11: open redirects ----------------------------------------------------------------------------

EVIL = [
    "https://evil.example/",
    "//evil.example/x",
    "https://shop.test@evil.example/",
    "javascript:alert(1)",
    "http://shop.test.evil.example/",
    "https://evil.example\\@shop.test/",
    "http://shop.test:8080/",
]


@pytest.mark.parametrize("url", EVIL)
async def test_portone_redirect_url_must_be_an_allowed_origin(client, url):
    for method in ("get", "post"):
        kwargs = (
            {"params": {**PORTONE, "orderName": "pgsim:approve", "redirectUrl": url}}
            if method == "get"
            else {"data": {**PORTONE, "redirectUrl": url, "action": "approve"}}
        )
        r = await getattr(client, method)("/portone/checkout", **kwargs)
        assert r.status_code == 400 and "location" not in r.headers
        assert "not an allowed origin" in r.text
    ledger = (await client.get("/_control/ledger")).json()
    assert ledger["portone_payments"] == {}  # nothing paid on the way


@pytest.mark.parametrize("url", EVIL)
async def test_iamport_m_redirect_url_must_be_an_allowed_origin(client, url):
    r = await client.post("/iamport/checkout", data={**IAMPORT, "m_redirect_url": url, "action": "approve"})
    assert r.status_code == 400 and "location" not in r.headers
    assert (await client.get("/_control/ledger")).json()["iamport_payments"] == {}


async def test_kakaopay_and_paypal_refuse_return_urls_elsewhere(client):
    ready = await client.post(
        "/kakaopay/online/v1/payment/ready",
        headers=KAKAO,
        json={
            "cid": "TC0ONETIME",
            "partner_order_id": "o",
            "partner_user_id": "u",
            "item_name": "i",
            "quantity": 1,
            "total_amount": 1000,
            "tax_free_amount": 0,
            "approval_url": "https://evil.example/a",
            "cancel_url": "http://shop.test/c",
            "fail_url": "http://shop.test/f",
        },
    )
    assert ready.status_code == 400 and "evil.example" in ready.json()["error_message"]
    order = await client.post(
        "/paypal/v2/checkout/orders",
        headers=await bearer(client),
        json={
            "intent": "CAPTURE",
            "purchase_units": [{"amount": {"currency_code": "USD", "value": "1.00"}}],
            "application_context": {"return_url": "http://shop.test/r", "cancel_url": "https://evil.example/c"},
        },
    )
    assert order.status_code == 422
    assert order.json()["details"][0]["field"] == "/application_context/cancel_url"


async def test_allowed_return_urls_still_redirect(client):
    r = await client.post(
        "/portone/checkout", data={**PORTONE, "redirectUrl": "http://shop.test/back", "action": "approve"}
    )
    assert r.status_code == 303 and r.headers["location"].startswith("http://shop.test/back?")


# --- #13.4: SSRF through notice URLs -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:6379/",
        "http://shop.test@10.0.0.1/",
        "http://shop.test.evil.example/hook",
    ],
)
async def test_notice_urls_elsewhere_are_refused_and_nothing_is_sent(client, receiver, url):
    r = await client.get(
        "/portone/checkout",
        params={**PORTONE, "orderName": "pgsim:approve", "noticeUrls": f"http://shop.test/hooks/portone,{url}"},
    )
    assert r.status_code == 400
    r = await client.post("/portone/checkout", json=None, data={**PORTONE, "noticeUrls": url, "action": "approve"})
    assert r.status_code == 400
    r = await client.get("/iamport/checkout", params={**IAMPORT, "name": "pgsim:approve", "notice_url": url})
    assert r.status_code == 400
    hooks = (await client.get("/_control/webhooks")).json()
    assert hooks["deliveries"] == [] and receiver.deliveries == []


async def test_allowed_notice_urls_are_delivered(client, receiver):
    r = await client.post(
        "/portone/checkout", data={**PORTONE, "noticeUrls": "http://shop.test/own/hook", "action": "approve"}
    )
    assert r.status_code == 200
    await client.post("/_control/webhooks/flush")
    assert [d["path"] for d in receiver.deliveries] == ["/own/hook"]


async def test_an_explicit_allow_list_opens_other_origins_standalone_only(receiver):
    config = SimConfig(control=True, allowed_origins=("https://shop.example:8443",))
    assert targets.is_allowed("https://shop.example:8443/return", config)
    assert not targets.is_allowed("https://shop.example/return", config)
    assert targets.is_allowed("https://anything.example/", SimConfig(allowed_origins=("*",)))
    mounted = SimConfig(allowed_origins=("*",), shop_origins=lambda scope: ["http://127.0.0.1:8000"])
    assert not targets.is_allowed("https://anything.example/", mounted, {})
    assert targets.is_allowed("http://127.0.0.1:8000/payments/x/", mounted, {})
    assert SimConfig.from_env({"PGSIM_ALLOWED_ORIGINS": "http://a.test, https://b.test:1"}).allowed_origins == (
        "http://a.test",
        "https://b.test:1",
    )


# --- #13.5: body limit ---------------------------------------------------------------------------------


@pytest.fixture
async def small_client(config):
    config.max_body_bytes = 1024
    app = create_app(config)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield client
    await app.sim.outbox.stop()


async def test_a_body_over_the_limit_is_refused_with_413(small_client):
    big = b"x" * 5000
    r = await small_client.post(
        "/portone/payments/p/cancel",
        content=big,
        headers={"Authorization": "PortOne bidcart-portone-secret", "content-type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["error"] == "request_too_large"
    assert r.headers["x-content-type-options"] == "nosniff"

    async def chunks():  # no Content-Length: counted as it arrives
        for _ in range(10):
            yield b"y" * 500

    r = await small_client.post(
        "/iamport/checkout", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 413
    ok = await small_client.post("/portone/login/api-secret", json={"apiSecret": "bidcart-portone-secret"})
    assert ok.status_code == 200

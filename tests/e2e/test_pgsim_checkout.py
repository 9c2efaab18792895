"""Click through each provider's hosted checkout in Chromium, with pgsim mounted under
/pgsim next to a tiny stand-in shop on a real uvicorn server (the way `bidcart run`
mounts it). Server-to-server calls are made with httpx, as a shop's backend would."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route

from bidcart.pgsim.app import create_app
from bidcart.pgsim.config import SimConfig
from tests.livesrv import running_server

pytestmark = pytest.mark.e2e

IAMPORT_SHOP = """<!doctype html><html><head><meta charset="utf-8"><title>shop</title>
<script src="/pgsim/iamport/v1/iamport.js"></script></head><body>
<button id="pay" onclick="IMP.init('imp00000000'); IMP.request_pay(
  {pg: 'html5_inicis', pay_method: 'card', merchant_uid: 'e2e-popup-1', name: 'Camera', amount: 15000},
  function (rsp) { document.getElementById('result').textContent = JSON.stringify(rsp); })">Pay</button>
<pre id="result"></pre></body></html>"""


async def shop_page(request: Request) -> HTMLResponse:
    return HTMLResponse(IAMPORT_SHOP)


async def return_page(request: Request) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><pre id='query'>{json.dumps(dict(request.query_params))}</pre>")


@pytest.fixture(scope="module")
def site():
    pgsim = create_app(SimConfig(control=True))
    app = Starlette(
        routes=[Route("/shop/iamport", shop_page), Route("/return", return_page), Mount("/pgsim", app=pgsim)]
    )
    with running_server(app=app) as url:
        pgsim.sim.config.allowed_origins = (url,)  # the stand-in shop's origin, known once it listens
        yield url


def returned(page) -> dict:
    return json.loads(page.locator("#query").text_content())


def test_kakaopay_hosted_page_approve(page, site):
    api = httpx.Client(
        base_url=f"{site}/pgsim/kakaopay", headers={"Authorization": "SECRET_KEY bidcart-kakaopay-secret"}
    )
    ready = api.post(
        "/online/v1/payment/ready",
        json={
            "cid": "TC0ONETIME",
            "partner_order_id": "e2e-k1",
            "partner_user_id": "u1",
            "item_name": "Camera",
            "quantity": 1,
            "total_amount": 22000,
            "tax_free_amount": 0,
            "approval_url": f"{site}/return?step=approve",
            "cancel_url": f"{site}/return?step=cancel",
            "fail_url": f"{site}/return?step=fail",
        },
    ).json()
    assert ready["next_redirect_pc_url"].startswith(f"{site}/pgsim/kakaopay/checkout/")
    page.goto(ready["next_redirect_pc_url"])
    assert page.get_by_text("22000").is_visible()
    page.get_by_role("button", name="Approve payment").click()
    page.wait_for_url(f"{site}/return?**")
    query = returned(page)
    assert query["step"] == "approve" and len(query["pg_token"]) == 20
    approved = api.post(
        "/online/v1/payment/approve",
        json={
            "cid": "TC0ONETIME",
            "tid": ready["tid"],
            "partner_order_id": "e2e-k1",
            "partner_user_id": "u1",
            "pg_token": query["pg_token"],
        },
    )
    assert approved.status_code == 200 and approved.json()["amount"]["total"] == 22000


def test_kakaopay_hosted_page_cancel(page, site):
    api = httpx.Client(base_url=f"{site}/pgsim/kakaopay", headers={"Authorization": "KakaoAK bidcart-kakao-admin-key"})
    ready = api.post(
        "/v1/payment/ready",
        data={
            "cid": "TC0ONETIME",
            "partner_order_id": "e2e-k2",
            "partner_user_id": "u1",
            "item_name": "Lens",
            "quantity": "1",
            "total_amount": "5000",
            "tax_free_amount": "0",
            "approval_url": f"{site}/return?step=approve",
            "cancel_url": f"{site}/return?step=cancel",
            "fail_url": f"{site}/return?step=fail",
        },
    ).json()
    page.goto(ready["next_redirect_pc_url"])
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url(f"{site}/return?**")
    assert returned(page) == {"step": "cancel"}


def iamport_api(site) -> httpx.Client:
    token = httpx.post(
        f"{site}/pgsim/iamport/users/getToken", json={"imp_key": "bidcart-imp-key", "imp_secret": "bidcart-imp-secret"}
    ).json()
    return httpx.Client(
        base_url=f"{site}/pgsim/iamport", headers={"Authorization": f"Bearer {token['response']['access_token']}"}
    )


def test_iamport_request_pay_popup_calls_back(page, site):
    page.goto(f"{site}/shop/iamport")
    with page.expect_popup() as popup_info:
        page.get_by_role("button", name="Pay").click()
    popup = popup_info.value
    popup.get_by_role("button", name="Approve payment").click()
    page.wait_for_function("document.getElementById('result').textContent.length > 0")
    rsp = json.loads(page.locator("#result").text_content())
    assert rsp["success"] is True and rsp["merchant_uid"] == "e2e-popup-1" and rsp["imp_uid"].startswith("imp_")
    payment = iamport_api(site).get(f"/payments/{rsp['imp_uid']}").json()["response"]
    assert payment["status"] == "paid" and payment["amount"] == 15000


def test_iamport_shim_takes_the_result_only_from_its_own_popup(page, site):
    """A result posted by any other window (here the page itself, as a script on a framed or opened page
    could) is ignored; the popup's own one is taken, and the popup posted it to this origin only."""
    page.goto(f"{site}/shop/iamport")
    with page.expect_popup() as popup_info:
        page.get_by_role("button", name="Pay").click()
    page.evaluate("window.postMessage({pgsim: 'iamport', rsp: {success: true, imp_uid: 'forged'}}, '*')")
    page.wait_for_timeout(300)
    assert page.locator("#result").text_content() == ""
    popup_info.value.get_by_role("button", name="Approve payment").click()
    page.wait_for_function("document.getElementById('result').textContent.length > 0")
    assert json.loads(page.locator("#result").text_content())["imp_uid"].startswith("imp_")


def test_iamport_redirect_with_a_different_amount(page, site):
    page.goto(
        f"{site}/pgsim/iamport/checkout?merchant_uid=e2e-t1&amount=15000&name=Camera&m_redirect_url={site}/return"
    )
    page.get_by_label("Amount").fill("150")
    page.get_by_role("button", name="Pay a different amount").click()
    page.wait_for_url(f"{site}/return?**")
    query = returned(page)
    assert query["imp_success"] == "true" and query["merchant_uid"] == "e2e-t1"
    payment = iamport_api(site).get(f"/payments/{query['imp_uid']}").json()["response"]
    assert payment["amount"] == 150  # what a shop must notice and refuse


def test_iamport_vbank_deposit_page(page, site):
    page.goto(f"{site}/pgsim/iamport/checkout?merchant_uid=e2e-v1&amount=30000&name=Desk&pay_method=vbank")
    page.get_by_role("button", name="Issue virtual account").click()
    page.get_by_role("link", name="Deposit page").click()
    page.get_by_role("button", name="Deposit now").click()
    assert page.get_by_text("Deposit received").is_visible()
    payment = iamport_api(site).get("/payments/find/e2e-v1").json()["response"]
    assert payment["status"] == "paid" and payment["pay_method"] == "vbank"


def test_portone_v2_hosted_page_fail(page, site):
    page.goto(
        f"{site}/pgsim/portone/checkout?storeId=store-bidcart&paymentId=e2e-v2-1&orderName=Chair"
        f"&totalAmount=9000&currency=KRW&redirectUrl={site}/return"
    )
    page.get_by_role("button", name="Fail (card declined)").click()
    page.wait_for_url(f"{site}/return?**")
    query = returned(page)
    assert query["paymentId"] == "e2e-v2-1" and query["code"] == "FAILURE_TYPE_PG"
    payment = httpx.get(
        f"{site}/pgsim/portone/payments/e2e-v2-1", headers={"Authorization": "PortOne bidcart-portone-secret"}
    ).json()
    assert payment["status"] == "FAILED"


def test_paypal_approve_then_capture(page, site):
    basic = base64.b64encode(b"bidcart-paypal-client:bidcart-paypal-secret").decode()
    token = httpx.post(
        f"{site}/pgsim/paypal/v1/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    ).json()["access_token"]
    api = httpx.Client(base_url=f"{site}/pgsim/paypal", headers={"Authorization": f"Bearer {token}"})
    order = api.post(
        "/v2/checkout/orders",
        json={
            "intent": "CAPTURE",
            "purchase_units": [{"amount": {"currency_code": "USD", "value": "19.99"}}],
            "application_context": {
                "return_url": f"{site}/return?step=pp",
                "cancel_url": f"{site}/return?step=ppcancel",
            },
        },
    ).json()
    approve = next(link["href"] for link in order["links"] if link["rel"] == "approve")
    page.goto(approve)
    page.get_by_role("button", name="Approve payment").click()
    page.wait_for_url(f"{site}/return?**")
    query = returned(page)
    assert query["token"] == order["id"] and query["PayerID"]
    captured = api.post(f"/v2/checkout/orders/{order['id']}/capture")
    assert captured.status_code == 201 and captured.json()["status"] == "COMPLETED"


def test_the_reflected_xss_url_runs_no_script_on_the_shops_origin(page, shop):
    """Issue #13's URL against the real shop with pgsim mounted: the payload is shown as text, never run."""
    payload = "x'><script>window.pwned=1</script><img src=x onerror=window.pwned=2><a x='"
    page.goto(f"{shop}/pgsim/portone/checkout?paymentId={payload}&orderName=Camera&totalAmount=1000&payMethod=CARD")
    assert page.get_by_role("button", name="Approve payment").is_visible()
    assert page.locator("[data-field=paymentId]").text_content() == payload
    assert page.evaluate("window.pwned") is None and page.locator("img").count() == 0
    page.goto(
        f"{shop}/pgsim/portone/checkout?paymentId={payload}&orderName=pgsim:approve&totalAmount=1"
        "&payMethod=VIRTUAL_ACCOUNT"
    )
    assert page.evaluate("window.pwned") is None  # before the fix: 1, the script ran as the shop
    assert page.get_by_role("link", name="Deposit page").is_visible()

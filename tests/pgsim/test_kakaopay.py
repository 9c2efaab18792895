"""KakaoPay: both API generations, hosted page, approve, order, cancel, errors, expiry."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

NEW = {"Authorization": "SECRET_KEY bidcart-kakaopay-secret"}
LEGACY = {"Authorization": "KakaoAK bidcart-kakao-admin-key"}
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")


def ready_body(**overrides):
    body = {
        "cid": "TC0ONETIME",
        "partner_order_id": "order-1",
        "partner_user_id": "user-1",
        "item_name": "Vintage camera",
        "quantity": 1,
        "total_amount": 22000,
        "tax_free_amount": 0,
        "approval_url": "http://shop.test/pay/kakao/approve?o=1",
        "cancel_url": "http://shop.test/pay/kakao/cancel",
        "fail_url": "http://shop.test/pay/kakao/fail",
    }
    body.update(overrides)
    return body


async def ready(client, **overrides):
    response = await client.post("/kakaopay/online/v1/payment/ready", json=ready_body(**overrides), headers=NEW)
    assert response.status_code == 200, response.text
    return response.json()


async def click(client, url, action, **extra):
    """Open the hosted page and press a button; returns the redirect Location."""
    page = await client.get(url)
    assert page.status_code == 200 and "Approve payment" in page.text
    response = await client.post(url, data={"action": action, **extra})
    assert response.status_code == 303
    return response.headers["location"]


async def approved(client, **overrides):
    r = await ready(client, **overrides)
    location = await click(client, r["next_redirect_pc_url"], "approve")
    pg_token = parse_qs(urlsplit(location).query)["pg_token"][0]
    body = {
        "cid": "TC0ONETIME",
        "tid": r["tid"],
        "partner_order_id": "order-1",
        "partner_user_id": "user-1",
        "pg_token": pg_token,
    }
    response = await client.post("/kakaopay/online/v1/payment/approve", json=body, headers=NEW)
    assert response.status_code == 200, response.text
    return response.json()


async def test_ready_response_shape(client):
    r = await ready(client)
    assert re.fullmatch(r"T[A-Z0-9]{19}", r["tid"])
    assert r["tms_result"] is False
    assert TIME_RE.match(r["created_at"])
    for key in ("next_redirect_pc_url", "next_redirect_mobile_url", "next_redirect_app_url"):
        assert r[key].startswith(f"http://pgsim.test/kakaopay/checkout/{r['tid']}")
    assert r["android_app_scheme"].startswith("kakaotalk://kakaopay/pg?url=")


async def test_full_flow_approve_order_partial_and_full_cancel(client):
    a = await approved(client)
    assert re.fullmatch(r"A[A-Z0-9]{19}", a["aid"])
    assert a["amount"] == {"total": 22000, "tax_free": 0, "vat": 2000, "point": 0, "discount": 0, "green_deposit": 0}
    assert a["payment_method_type"] == "CARD" and a["card_info"]["install_month"] == "00"
    assert TIME_RE.match(a["approved_at"]) and a["partner_order_id"] == "order-1"

    order = (
        await client.post("/kakaopay/online/v1/payment/order", json={"cid": "TC0ONETIME", "tid": a["tid"]}, headers=NEW)
    ).json()
    assert order["status"] == "SUCCESS_PAYMENT"
    assert order["cancel_available_amount"]["total"] == 22000
    assert [d["payment_action_type"] for d in order["payment_action_details"]] == ["PAYMENT"]

    cancel = {
        "cid": "TC0ONETIME",
        "tid": a["tid"],
        "cancel_amount": 2000,
        "cancel_tax_free_amount": 0,
        "cancel_available_amount": 22000,
    }
    part = await client.post("/kakaopay/online/v1/payment/cancel", json=cancel, headers=NEW)
    assert part.status_code == 200
    part = part.json()
    assert part["status"] == "PART_CANCEL_PAYMENT"
    assert part["approved_cancel_amount"]["total"] == 2000 and part["approved_cancel_amount"]["vat"] == 182
    assert part["canceled_amount"]["total"] == 2000 and part["cancel_available_amount"]["total"] == 20000

    # a stale cancel_available_amount is refused (the double-cancel guard)
    stale = await client.post("/kakaopay/online/v1/payment/cancel", json=cancel, headers=NEW)
    assert stale.status_code == 400 and stale.json()["error_code"] == -781

    too_much = dict(cancel, cancel_amount=20001, cancel_available_amount=20000)
    r = await client.post("/kakaopay/online/v1/payment/cancel", json=too_much, headers=NEW)
    assert r.status_code == 400 and r.json()["error_code"] == -781

    rest = dict(cancel, cancel_amount=20000, cancel_available_amount=20000)
    full = (await client.post("/kakaopay/online/v1/payment/cancel", json=rest, headers=NEW)).json()
    assert full["status"] == "CANCEL_PAYMENT"
    assert full["canceled_amount"]["total"] == 22000 and full["cancel_available_amount"]["total"] == 0
    order = (
        await client.post("/kakaopay/online/v1/payment/order", json={"cid": "TC0ONETIME", "tid": a["tid"]}, headers=NEW)
    ).json()
    assert [d["payment_action_type"] for d in order["payment_action_details"]] == ["PAYMENT", "CANCEL", "CANCEL"]


async def test_legacy_form_and_query_with_kakaoak(client):
    form = {k: str(v) for k, v in ready_body().items()}
    r = await client.post("/kakaopay/v1/payment/ready", data=form, headers=LEGACY)
    assert r.status_code == 200 and r.json()["tid"].startswith("T")
    r = await client.post("/kakaopay/v1/payment/ready", params=form, headers=LEGACY)
    assert r.status_code == 200
    # legacy error shape: code / msg
    r = await client.post(
        "/kakaopay/v1/payment/order", data={"cid": "TC0ONETIME", "tid": "T0000000000000000000"}, headers=LEGACY
    )
    assert r.status_code == 400 and set(r.json()) == {"code", "msg"} and r.json()["code"] < 0


async def test_wrong_credentials_get_401_in_each_shape(client):
    r = await client.post(
        "/kakaopay/online/v1/payment/ready", json=ready_body(), headers={"Authorization": "SECRET_KEY nope"}
    )
    assert r.status_code == 401 and r.json()["error_code"] == -401 and "error_message" in r.json()
    # the legacy key does not work on the new API and vice versa
    r = await client.post("/kakaopay/online/v1/payment/ready", json=ready_body(), headers=LEGACY)
    assert r.status_code == 401
    r = await client.post("/kakaopay/v1/payment/ready", data=ready_body(), headers=NEW)
    assert r.status_code == 401 and r.json()["code"] == -401


async def test_validation_errors(client):
    body = ready_body()
    del body["total_amount"]
    r = await client.post("/kakaopay/online/v1/payment/ready", json=body, headers=NEW)
    assert r.status_code == 400 and r.json()["error_code"] == -2 and "total_amount" in r.json()["error_message"]
    r = await client.post("/kakaopay/online/v1/payment/ready", json=ready_body(cid="TCBOGUS000"), headers=NEW)
    assert r.status_code == 400
    r = await client.post("/kakaopay/online/v1/payment/ready", json=ready_body(total_amount="12.5"), headers=NEW)
    assert r.status_code == 400


async def test_approve_errors(client):
    r = await ready(client)
    base = {
        "cid": "TC0ONETIME",
        "tid": r["tid"],
        "partner_order_id": "order-1",
        "partner_user_id": "user-1",
        "pg_token": "x",
    }
    early = await client.post("/kakaopay/online/v1/payment/approve", json=base, headers=NEW)
    assert early.status_code == 400 and early.json()["error_code"] == -701
    location = await click(client, r["next_redirect_pc_url"], "approve")
    token = parse_qs(urlsplit(location).query)["pg_token"][0]
    assert location.startswith("http://shop.test/pay/kakao/approve?o=1&pg_token=")
    other_user = await client.post(
        "/kakaopay/online/v1/payment/approve", json=dict(base, pg_token=token, partner_user_id="u2"), headers=NEW
    )
    assert other_user.json()["error_code"] == -707
    ok = await client.post("/kakaopay/online/v1/payment/approve", json=dict(base, pg_token=token), headers=NEW)
    assert ok.status_code == 200
    again = await client.post("/kakaopay/online/v1/payment/approve", json=dict(base, pg_token=token), headers=NEW)
    assert again.status_code == 400 and again.json()["error_code"] == -702


async def test_cancel_and_fail_buttons_redirect(client):
    r = await ready(client)
    assert await click(client, r["next_redirect_pc_url"], "cancel") == "http://shop.test/pay/kakao/cancel"
    order = (
        await client.post("/kakaopay/online/v1/payment/order", json={"cid": "TC0ONETIME", "tid": r["tid"]}, headers=NEW)
    ).json()
    assert order["status"] == "QUIT_PAYMENT"
    r = await ready(client)
    assert await click(client, r["next_redirect_pc_url"], "fail") == "http://shop.test/pay/kakao/fail"


async def test_pay_a_different_amount_is_reported_by_approve(client):
    r = await ready(client)
    location = await click(client, r["next_redirect_pc_url"], "amount", tamper_amount="100")
    token = parse_qs(urlsplit(location).query)["pg_token"][0]
    body = {
        "cid": "TC0ONETIME",
        "tid": r["tid"],
        "partner_order_id": "order-1",
        "partner_user_id": "user-1",
        "pg_token": token,
    }
    a = (await client.post("/kakaopay/online/v1/payment/approve", json=body, headers=NEW)).json()
    assert a["amount"]["total"] == 100


async def test_magic_decline_and_auto_approve(client):
    r = await ready(client, item_name="Camera pgsim:approve")
    page = await client.get(r["next_redirect_pc_url"])  # no click needed
    assert page.status_code == 303 and "pg_token=" in page.headers["location"]

    r = await ready(client, item_name="Camera pgsim:decline")
    location = await click(client, r["next_redirect_pc_url"], "approve")
    token = parse_qs(urlsplit(location).query)["pg_token"][0]
    body = {
        "cid": "TC0ONETIME",
        "tid": r["tid"],
        "partner_order_id": "order-1",
        "partner_user_id": "user-1",
        "pg_token": token,
    }
    d = await client.post("/kakaopay/online/v1/payment/approve", json=body, headers=NEW)
    assert d.status_code == 400
    assert d.json() == {
        "error_code": -780,
        "error_message": "approval failure!",
        "extras": {
            "method_result_code": "USER_LOCKED",
            "method_result_message": d.json()["extras"]["method_result_message"],
        },
    }


async def test_tid_expires_after_15_minutes(client):
    r = await ready(client)
    await client.post("/_control/clock", json={"advance": 15 * 60 + 1})
    order = (
        await client.post("/kakaopay/online/v1/payment/order", json={"cid": "TC0ONETIME", "tid": r["tid"]}, headers=NEW)
    ).json()
    assert order["status"] == "QUIT_PAYMENT"
    page = await client.get(r["next_redirect_pc_url"])
    assert page.status_code == 409

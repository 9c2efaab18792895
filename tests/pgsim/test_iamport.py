"""PortOne V1: token lifetime, envelope, lookups, prepare, checkout, cancel, vbank, webhooks."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from .conftest import flush

CREDS = {"imp_key": "bidcart-imp-key", "imp_secret": "bidcart-imp-secret"}


async def token(client) -> dict:
    r = await client.post("/iamport/users/getToken", json=CREDS)
    assert r.status_code == 200
    return r.json()["response"]


async def auth(client) -> dict:
    return {"Authorization": f"Bearer {(await token(client))['access_token']}"}


async def pay(client, merchant_uid="mid-1", amount=15000, action="approve", **extra) -> dict:
    """Drive the hosted checkout the way IMP.request_pay does (m_redirect_url mode)."""
    params = {
        "merchant_uid": merchant_uid,
        "amount": amount,
        "name": "Lot #7",
        "pay_method": "card",
        "m_redirect_url": "http://shop.test/pay/iamport/return",
        **extra,
    }
    page = await client.get("/iamport/checkout", params=params)
    assert page.status_code == 200 and ("Approve payment" in page.text or "Issue virtual account" in page.text)
    r = await client.post(
        "/iamport/checkout",
        data={
            **{k: str(v) for k, v in params.items()},
            "action": action,
            "tamper_amount": str(extra.get("tamper_amount", "")),
        },
    )
    assert r.status_code == 303
    q = parse_qs(urlsplit(r.headers["location"]).query)
    assert r.headers["location"].startswith("http://shop.test/pay/iamport/return?")
    return {k: v[0] for k, v in q.items()}


async def test_get_token_shape_reuse_and_extension(client):
    first = await token(client)
    assert set(first) == {"access_token", "now", "expired_at"}
    assert isinstance(first["now"], int) and first["expired_at"] - first["now"] == 1800
    assert (await token(client))["access_token"] == first["access_token"]  # reused while valid
    await client.post("/_control/clock", json={"advance": 1800 - 30})  # last minute: +5 minutes
    extended = await token(client)
    assert extended["access_token"] == first["access_token"]
    assert extended["expired_at"] == first["expired_at"] + 300
    await client.post("/_control/clock", json={"advance": 400})  # now expired: a new token
    r = await client.get("/iamport/payments/imp_000", headers={"Authorization": first["access_token"]})
    assert r.status_code == 401 and r.json() == {"code": -1, "message": "Unauthorized", "response": None}
    assert (await token(client))["access_token"] != first["access_token"]


async def test_bad_credentials_and_missing_token(client):
    r = await client.post("/iamport/users/getToken", data={"imp_key": "x", "imp_secret": "y"})
    assert r.status_code == 401 and r.json()["code"] == -1 and r.json()["response"] is None
    r = await client.get("/iamport/payments/imp_1")
    assert r.status_code == 401


async def test_token_in_any_header_form(client):
    t = (await token(client))["access_token"]
    for headers in ({"Authorization": f"Bearer {t}"}, {"Authorization": t}, {"X-ImpTokenHeader": t}):
        r = await client.get("/iamport/payments/imp_nope", headers=headers)
        assert r.status_code == 404 and r.json() == {
            "code": -1,
            "message": "존재하지 않는 결제정보입니다.",
            "response": None,
        }


async def test_checkout_paid_then_lookups(client, receiver):
    h = await auth(client)
    rsp = await pay(client)
    assert rsp["imp_success"] == "true" and rsp["success"] == "true" and rsp["merchant_uid"] == "mid-1"
    p = (await client.get(f"/iamport/payments/{rsp['imp_uid']}", headers=h)).json()
    assert p["code"] == 0 and p["message"] is None
    p = p["response"]
    assert p["status"] == "paid" and p["amount"] == 15000 and p["cancel_amount"] == 0 and p["currency"] == "KRW"
    assert isinstance(p["paid_at"], int) and p["paid_at"] > 0 and p["failed_at"] == 0 and p["cancelled_at"] == 0
    assert p["sandbox"] is False and p["pay_method"] == "card" and p["cancel_history"] == []
    found = (await client.get("/iamport/payments/find/mid-1", headers=h)).json()["response"]
    assert found["imp_uid"] == rsp["imp_uid"]
    assert (await client.get("/iamport/payments/find/mid-1/paid", headers=h)).status_code == 200
    assert (await client.get("/iamport/payments/find/mid-1/cancelled", headers=h)).status_code == 404
    assert (await client.get("/iamport/payments/find/nope", headers=h)).status_code == 404
    multi = (await client.get("/iamport/payments", params={"imp_uid[]": rsp["imp_uid"]}, headers=h)).json()
    assert [x["imp_uid"] for x in multi["response"]] == [rsp["imp_uid"]]
    await flush(client)
    [hook] = receiver.for_path("/hooks/iamport")
    assert hook["json"] == {"imp_uid": rsp["imp_uid"], "merchant_uid": "mid-1", "status": "paid"}
    assert hook["headers"]["content-type"] == "application/json"


async def test_prepare_blocks_a_different_amount(client):
    h = await auth(client)
    r = await client.post("/iamport/payments/prepare", json={"merchant_uid": "mid-p", "amount": 5000}, headers=h)
    assert r.json() == {
        "code": 0,
        "message": None,
        "response": {"merchant_uid": "mid-p", "amount": 5000, "currency": None},
    }
    dup = await client.post("/iamport/payments/prepare", json={"merchant_uid": "mid-p", "amount": 5000}, headers=h)
    assert dup.status_code == 200 and dup.json()["code"] == 1 and "이미 등록된" in dup.json()["message"]
    got = (await client.get("/iamport/payments/prepare/mid-p", headers=h)).json()["response"]
    assert got["amount"] == 5000
    assert (await client.get("/iamport/payments/prepare/none", headers=h)).status_code == 404
    put = await client.put("/iamport/payments/prepare", data={"merchant_uid": "mid-p", "amount": "6000"}, headers=h)
    assert put.json()["response"]["amount"] == 6000
    rsp = await pay(client, "mid-p", 6000, action="amount", tamper_amount=100)
    assert rsp["success"] == "false" and "사전등록" in rsp["error_msg"]
    p = (await client.get(f"/iamport/payments/{rsp['imp_uid']}", headers=h)).json()["response"]
    assert p["status"] == "failed" and p["failed_at"] > 0
    assert (await pay(client, "mid-p", 6000))["success"] == "true"


async def test_tampered_amount_without_prepare_is_paid_with_that_amount(client):
    h = await auth(client)
    rsp = await pay(client, "mid-t", 15000, action="amount", tamper_amount=10)
    p = (await client.get(f"/iamport/payments/{rsp['imp_uid']}", headers=h)).json()["response"]
    assert p["status"] == "paid" and p["amount"] == 10


async def test_cancel_partial_full_checksum_and_errors(client, receiver):
    h = await auth(client)
    rsp = await pay(client, "mid-c", 10000)
    bad = await client.post(
        "/iamport/payments/cancel", json={"imp_uid": rsp["imp_uid"], "amount": 1000, "checksum": 9999}, headers=h
    )
    assert bad.status_code == 200 and bad.json()["code"] == 1 and "checksum" in bad.json()["message"]
    part = (
        await client.post(
            "/iamport/payments/cancel",
            json={"imp_uid": rsp["imp_uid"], "amount": 3000, "checksum": 10000, "reason": "size"},
            headers=h,
        )
    ).json()
    assert part["code"] == 0
    p = part["response"]
    assert p["status"] == "paid" and p["cancel_amount"] == 3000 and p["cancel_history"][0]["amount"] == 3000
    assert p["cancel_history"][0]["reason"] == "size" and p["cancel_history"][0]["cancellation_id"]
    over = (
        await client.post("/iamport/payments/cancel", json={"merchant_uid": "mid-c", "amount": 7001}, headers=h)
    ).json()
    assert over["code"] == 1
    full = (
        await client.post("/iamport/payments/cancel", json={"merchant_uid": "mid-c", "enable_webhook": True}, headers=h)
    ).json()
    assert full["response"]["status"] == "cancelled" and full["response"]["cancel_amount"] == 10000
    again = (await client.post("/iamport/payments/cancel", json={"imp_uid": rsp["imp_uid"]}, headers=h)).json()
    assert again == {"code": 1, "message": "이미 전액취소된 주문입니다.", "response": None}
    missing = (await client.post("/iamport/payments/cancel", json={"imp_uid": "imp_404"}, headers=h)).json()
    assert missing == {"code": 1, "message": "취소할 결제건이 존재하지 않습니다.", "response": None}
    await flush(client)
    statuses = [d["json"]["status"] for d in receiver.for_path("/hooks/iamport")]
    assert statuses == ["paid", "cancelled"]  # the partial cancel had no enable_webhook
    assert "cancellation_id" in receiver.for_path("/hooks/iamport")[1]["json"]


async def test_failed_and_cancelled_checkout_send_no_webhook(client, receiver):
    assert (await pay(client, "mid-f", 1000, action="fail"))["error_msg"]
    rsp = await pay(client, "mid-q", 1000, action="cancel")
    assert rsp["success"] == "false" and rsp["error_msg"] == "사용자가 결제를 취소하셨습니다"
    await flush(client)
    assert receiver.for_path("/hooks/iamport") == []


async def test_vbank_issued_then_deposit_by_control_and_by_page(client, receiver):
    h = await auth(client)
    rsp = await pay(client, "mid-v", 30000, pay_method="vbank")
    p = (await client.get(f"/iamport/payments/{rsp['imp_uid']}", headers=h)).json()["response"]
    assert p["status"] == "ready" and p["vbank_num"] and p["vbank_date"] > p["vbank_issued_at"] > 0
    r = await client.post("/_control/vbank/deposit", json={"merchant_uid": "mid-v"})
    assert r.json() == {"deposited": True, "status": "paid"}
    rsp2 = await pay(client, "mid-v2", 1000, pay_method="vbank")
    page = await client.get(f"/iamport/vbank/{rsp2['imp_uid']}")
    assert "Deposit now" in page.text
    assert (await client.post(f"/iamport/vbank/{rsp2['imp_uid']}")).status_code == 200
    assert (await client.post("/_control/vbank/deposit", json={"imp_uid": rsp2["imp_uid"]})).status_code == 409
    await flush(client)
    assert [(d["json"]["merchant_uid"], d["json"]["status"]) for d in receiver.for_path("/hooks/iamport")] == [
        ("mid-v", "ready"),
        ("mid-v", "paid"),
        ("mid-v2", "ready"),
        ("mid-v2", "paid"),
    ]


async def test_notice_url_overrides_configured_url(client, receiver):
    await pay(client, "mid-n", 1000, notice_url="http://shop.test/hooks/other")
    await flush(client)
    assert len(receiver.for_path("/hooks/other")) == 1 and receiver.for_path("/hooks/iamport") == []


async def test_popup_mode_posts_result_to_opener_and_script_is_served(client):
    r = await client.post("/iamport/checkout", data={"merchant_uid": "mid-js", "amount": "1000", "action": "approve"})
    assert r.status_code == 200 and "window.opener.postMessage" in r.text and '"pgsim": "iamport"' in r.text
    js = await client.get("/iamport/v1/iamport.js")
    assert (
        js.status_code == 200
        and "request_pay" in js.text
        and js.headers["content-type"].startswith("application/javascript")
    )


async def test_magic_value_finishes_checkout_without_a_click(client):
    r = await client.get(
        "/iamport/checkout",
        params={
            "merchant_uid": "mid-m",
            "amount": 1000,
            "name": "x pgsim:fail",
            "m_redirect_url": "http://shop.test/r",
        },
    )
    assert r.status_code == 303 and "imp_success=false" in r.headers["location"]

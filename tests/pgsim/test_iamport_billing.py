"""PortOne V1 billing keys in pgsim: issue, read, charge (paid, declined), refuse a repeat, delete, notify;
every answer checked against PortOne's published spec (tests/data/specs/portone-v1-subscribe.swagger.json)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests import contract

from .conftest import flush
from .test_iamport import auth

BASE = "http://pgsim.test/iamport"


def conforms(method: str, path: str, r, request=None) -> None:
    assert contract.check(BASE, method, f"{BASE}{path}", r.status_code, request, r.json()) == []


async def issue(client, headers, customer_uid="cu-1", card="9100-2000-0000-0005", expiry="2099-12"):
    body = {"card_number": card, "expiry": expiry, "birth": "900101", "pwd_2digit": "00", "channel_key": "ch-1"}
    r = await client.post(f"/iamport/subscribe/customers/{customer_uid}", data=body, headers=headers)
    conforms("POST", f"/subscribe/customers/{customer_uid}", r, body)
    return r.json()


async def again(client, headers, merchant_uid="bill-1", customer_uid="cu-1", name="월간 구독", amount=9900):
    body = {
        "customer_uid": customer_uid,
        "merchant_uid": merchant_uid,
        "amount": amount,
        "name": name,
        "notice_url": "http://shop.test/hooks/iamport",
    }
    r = await client.post("/iamport/subscribe/payments/again", json=body, headers=headers)
    assert r.status_code == 200
    conforms("POST", "/subscribe/payments/again", r, body)
    return r.json()


async def test_a_key_is_issued_with_the_card_masked_and_read_back(client):
    headers = await auth(client)
    issued = await issue(client, headers)
    assert issued["code"] == 0
    key = issued["response"]
    assert key["customer_uid"] == "cu-1" and key["card_name"] == "BC카드"
    assert key["card_number"] == "910020******0005"  # never the whole number
    r = await client.get("/iamport/subscribe/customers/cu-1", headers=headers)
    conforms("GET", "/subscribe/customers/cu-1", r)
    assert r.json()["response"] == key


async def test_an_expired_card_is_refused_at_issuance(client):
    headers = await auth(client)
    refused = await issue(client, headers, expiry="2020-01")
    assert refused["code"] == 1 and "유효기간" in refused["message"] and refused["response"] is None
    r = await client.get("/iamport/subscribe/customers/cu-1", headers=headers)
    assert r.status_code == 404 and r.json()["code"] == -1


async def test_a_charge_is_paid_once_per_merchant_uid_and_notified(client, receiver):
    headers = await auth(client)
    await issue(client, headers)
    paid = await again(client, headers)
    assert paid["code"] == 0
    payment = paid["response"]
    assert payment["status"] == "paid" and payment["amount"] == 9900 and payment["customer_uid"] == "cu-1"
    assert payment["customer_uid_usage"] == "payment" and payment["card_number"] == "910020******0005"
    repeat = await again(client, headers)
    assert repeat["code"] == 1 and repeat["response"] is None  # never charged twice
    found = await client.get("/iamport/payments/findAll/bill-1", headers=headers)
    assert found.json()["response"]["total"] == 1
    await flush(client)
    assert [d["json"] for d in receiver.for_path("/hooks/iamport")] == [
        {"imp_uid": payment["imp_uid"], "merchant_uid": "bill-1", "status": "paid"}
    ]


async def test_declines_are_a_failed_payment_not_an_envelope_error(client):
    headers = await auth(client)
    await issue(client, headers, customer_uid="poor", card="4000000000000002")  # insufficient funds, every time
    declined = await again(client, headers, customer_uid="poor")
    assert declined["code"] == 0
    assert declined["response"]["status"] == "failed" and "잔액" in declined["response"]["fail_reason"]
    await issue(client, headers)
    one_off = await again(client, headers, merchant_uid="bill-2", name="월간 구독 pgsim:decline")
    assert one_off["response"]["status"] == "failed"
    assert (await again(client, headers, merchant_uid="bill-3"))["response"]["status"] == "paid"


async def test_a_deleted_key_is_gone_and_cannot_be_charged(client):
    headers = await auth(client)
    await issue(client, headers)
    r = await client.delete("/iamport/subscribe/customers/cu-1", params={"reason": "buyer"}, headers=headers)
    conforms("DELETE", "/subscribe/customers/cu-1", r)
    assert r.json()["response"]["customer_uid"] == "cu-1"
    assert (await client.delete("/iamport/subscribe/customers/cu-1", headers=headers)).status_code == 404
    refused = await again(client, headers)
    assert refused["code"] == 1


async def test_billing_calls_need_a_token(client):
    assert (await client.get("/iamport/subscribe/customers/cu-1")).status_code == 401
    assert (await client.post("/iamport/subscribe/payments/again", json={})).status_code == 401


async def test_the_payment_window_issues_a_key_for_amount_zero(client):
    params = {
        "customer_uid": "cu-w",
        "merchant_uid": "cu-w",
        "amount": "0",
        "name": "카드 등록",
        "pay_method": "card",
        "m_redirect_url": "http://shop.test/payments/methods/1/return/",
    }
    page = await client.get("/iamport/checkout", params=params)
    assert page.status_code == 200 and "Register card" in page.text
    r = await client.post("/iamport/checkout", data={**params, "action": "approve", "card_number": "4000000000000002"})
    assert r.status_code == 303
    query = parse_qs(urlsplit(r.headers["location"]).query)
    assert query["imp_success"] == ["true"] and query["customer_uid"] == ["cu-w"]
    key = (await client.get("/iamport/subscribe/customers/cu-w", headers=await auth(client))).json()["response"]
    assert key["card_number"].endswith("0002")
    r = await client.post(
        "/iamport/checkout", data={**params, "customer_uid": "cu-x", "action": "approve", "expiry": "2001-01"}
    )
    query = parse_qs(urlsplit(r.headers["location"]).query)
    assert query["imp_success"] == ["false"] and "유효기간" in query["error_msg"][0]


async def schedule(client, headers, *entries, customer_uid="cu-1"):
    body = {"customer_uid": customer_uid, "schedules": list(entries)}
    r = await client.post("/iamport/subscribe/payments/schedule", json=body, headers=headers)
    conforms("POST", "/subscribe/payments/schedule", r, body)
    return r.json()


async def test_a_scheduled_payment_runs_once_when_its_time_comes_and_is_notified(client, receiver):
    headers = await auth(client)
    await issue(client, headers)
    await issue(client, headers, customer_uid="poor", card="4000000000000002")
    now = int((await client.post("/_control/clock", json={"advance": 0})).json()["now"])
    made = await schedule(
        client,
        headers,
        {
            "merchant_uid": "cycle-1",
            "schedule_at": now + 600,
            "amount": 9900,
            "currency": "KRW",
            "name": "월간 구독 1회차",
            "notice_url": "http://shop.test/hooks/iamport",
        },
    )
    assert made["code"] == 0 and made["response"][0]["schedule_status"] == "scheduled"
    await schedule(
        client,
        headers,
        {
            "merchant_uid": "cycle-poor",
            "schedule_at": now + 600,
            "amount": 9900,
            "currency": "KRW",
            "name": "월간 구독",
        },
        customer_uid="poor",
    )
    early = await client.get("/iamport/subscribe/payments/schedule/cycle-1", headers=headers)
    conforms("GET", "/subscribe/payments/schedule/cycle-1", early)
    assert early.json()["response"]["imp_uid"] is None

    await client.post("/_control/clock", json={"advance": 601})
    headers = await auth(client)  # the old token lapsed meanwhile, perhaps
    for _ in range(2):  # asking twice runs it once
        ran = (await client.get("/iamport/subscribe/payments/schedule/cycle-1", headers=headers)).json()["response"]
    assert (ran["schedule_status"], ran["payment_status"]) == ("executed", "paid") and ran["imp_uid"]
    assert (await client.get("/iamport/payments/findAll/cycle-1", headers=headers)).json()["response"]["total"] == 1
    poor = (await client.get("/iamport/subscribe/payments/schedule/cycle-poor", headers=headers)).json()["response"]
    assert poor["payment_status"] == "failed" and "잔액" in poor["fail_reason"]
    await flush(client)
    assert {"imp_uid": ran["imp_uid"], "merchant_uid": "cycle-1", "status": "paid"} in [
        d["json"] for d in receiver.for_path("/hooks/iamport")
    ]


async def test_schedules_are_refused_whole_and_revoked_before_they_run(client):
    headers = await auth(client)
    await issue(client, headers)
    now = int((await client.post("/_control/clock", json={"advance": 0})).json()["now"])
    entry = {"merchant_uid": "c-1", "schedule_at": now + 600, "amount": 9900, "currency": "KRW", "name": "구독"}
    past = await schedule(client, headers, entry, {**entry, "merchant_uid": "c-2", "schedule_at": now - 1})
    assert past["code"] == 1 and past["response"] is None
    assert (await client.get("/iamport/subscribe/payments/schedule/c-1", headers=headers)).status_code == 404
    assert (await schedule(client, headers, entry))["code"] == 0
    assert (await schedule(client, headers, entry))["code"] == 1  # the merchant_uid is taken
    assert (await schedule(client, headers, entry, customer_uid="nobody"))["code"] == 1
    body = {"customer_uid": "cu-1", "merchant_uid": ["c-1"]}
    r = await client.post("/iamport/subscribe/payments/unschedule", json=body, headers=headers)
    conforms("POST", "/subscribe/payments/unschedule", r, body)
    assert r.json()["response"][0]["schedule_status"] == "revoked"
    again_ = await client.post("/iamport/subscribe/payments/unschedule", json=body, headers=headers)
    assert again_.json()["code"] == 1  # nothing left to revoke
    await client.post("/_control/clock", json={"advance": 601})
    headers = await auth(client)
    revoked = (await client.get("/iamport/subscribe/payments/schedule/c-1", headers=headers)).json()["response"]
    assert revoked["schedule_status"] == "revoked" and revoked["imp_uid"] is None

"""`iamport-rest-client` (PortOne V1) against pgsim via `imp_url=`."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from iamport import Iamport


@pytest.fixture
def iamport(pgsim):
    return Iamport(imp_key="bidcart-imp-key", imp_secret="bidcart-imp-secret", imp_url=f"{pgsim}/iamport/")


def browser_pays(pgsim, merchant_uid, amount, **extra) -> str:
    """What IMP.request_pay does in a browser: the hosted checkout, then the redirect."""
    params = {
        "merchant_uid": merchant_uid,
        "amount": str(amount),
        "name": "SDK order",
        "m_redirect_url": "http://shop.example/return",
        **extra,
    }
    r = httpx.post(f"{pgsim}/iamport/checkout", data={**params, "action": "approve"})
    assert r.status_code == 303
    return parse_qs(urlsplit(r.headers["location"]).query)["imp_uid"][0]


def test_token_prepare_find_cancel(iamport, pgsim, receiver):
    iamport.prepare(merchant_uid="sdk-v1-1", amount=12000)
    assert iamport.prepare_validate(merchant_uid="sdk-v1-1", amount=12000) is True
    assert iamport.prepare_validate(merchant_uid="sdk-v1-1", amount=1) is False
    with pytest.raises(Iamport.ResponseError) as dup:
        iamport.prepare(merchant_uid="sdk-v1-1", amount=12000)
    assert dup.value.code == 1

    imp_uid = browser_pays(pgsim, "sdk-v1-1", 12000)
    found = iamport.find(merchant_uid="sdk-v1-1")
    assert found["imp_uid"] == imp_uid and found["status"] == "paid" and found["amount"] == 12000
    assert iamport.find(imp_uid=imp_uid)["merchant_uid"] == "sdk-v1-1"
    assert iamport.is_paid(12000, merchant_uid="sdk-v1-1") is True
    assert iamport.is_paid(9999, imp_uid=imp_uid) is False

    part = iamport.cancel("partial", imp_uid=imp_uid, amount=2000, checksum=12000)
    assert part["cancel_amount"] == 2000 and part["status"] == "paid"
    with pytest.raises(Iamport.ResponseError) as bad_checksum:
        iamport.cancel("stale", imp_uid=imp_uid, amount=1000, checksum=12000)
    assert bad_checksum.value.code == 1
    full = iamport.cancel("rest", merchant_uid="sdk-v1-1")
    assert full["status"] == "cancelled" and full["cancel_amount"] == 12000
    with pytest.raises(Iamport.ResponseError) as again:
        iamport.cancel("again", imp_uid=imp_uid)
    assert again.value.message == "이미 전액취소된 주문입니다."

    [hook] = receiver.wait_for("/iamport", where=lambda body: body["merchant_uid"] == "sdk-v1-1")
    assert hook["json"] == {"imp_uid": imp_uid, "merchant_uid": "sdk-v1-1", "status": "paid"}


def test_errors_map_to_sdk_exceptions(iamport, pgsim):
    with pytest.raises(Iamport.HttpError) as missing:
        iamport.find(imp_uid="imp_000000000000")
    assert missing.value.code == 404
    bad = Iamport(imp_key="bidcart-imp-key", imp_secret="wrong", imp_url=f"{pgsim}/iamport/")
    with pytest.raises(Iamport.HttpError) as unauthorized:
        bad.find(merchant_uid="x")
    assert unauthorized.value.code == 401


def test_vbank_revoke(iamport, pgsim):
    # KCP: closing an Inicis account needs Inicis's pg_api_key, which the SDK's revoke call does not send
    imp_uid = browser_pays(pgsim, "sdk-v1-vbank", 5000, pay_method="vbank", pg="kcp")
    assert iamport.find(imp_uid=imp_uid)["status"] == "ready"
    revoked = iamport.revoke_vbank_by_imp_uid(imp_uid)
    assert revoked["status"] == "cancelled"


def test_billing_key_issue_charge_decline_delete(iamport):
    """The SDK's 비인증결제 calls: customer_create / customer_get / pay_again / customer_delete."""
    key = iamport.customer_create(
        customer_uid="sdk-bk-1", card_number="9100-2000-0000-0005", expiry="2099-12", birth="800101", pwd_2digit="00"
    )
    assert key["customer_uid"] == "sdk-bk-1" and key["card_number"].endswith("0005")
    assert iamport.customer_get("sdk-bk-1")["card_name"]
    paid = iamport.pay_again(customer_uid="sdk-bk-1", merchant_uid="sdk-bk-pay-1", amount=9900, name="정기결제 1회차")
    assert paid["status"] == "paid" and paid["amount"] == 9900 and paid["customer_uid"] == "sdk-bk-1"
    with pytest.raises(Iamport.ResponseError):  # a merchant_uid paid already is refused: never charged twice
        iamport.pay_again(customer_uid="sdk-bk-1", merchant_uid="sdk-bk-pay-1", amount=9900, name="again")

    iamport.customer_create(
        customer_uid="sdk-bk-poor", card_number="4000000000000002", expiry="2099-12", birth="800101"
    )
    declined = iamport.pay_again(customer_uid="sdk-bk-poor", merchant_uid="sdk-bk-pay-2", amount=9900, name="정기결제")
    assert declined["status"] == "failed" and "잔액" in declined["fail_reason"]
    with pytest.raises(Iamport.ResponseError):  # an expired card gets no key
        iamport.customer_create(
            customer_uid="sdk-bk-old", card_number="4111111111111111", expiry="2001-01", birth="800101"
        )

    assert iamport.customer_delete("sdk-bk-1")["customer_uid"] == "sdk-bk-1"
    with pytest.raises(Iamport.HttpError):
        iamport.customer_get("sdk-bk-1")


def test_scheduled_payments_run_when_due_and_can_be_revoked(iamport, pgsim):
    """pay_schedule / pay_schedule_get / pay_unschedule; the schedule runs on pgsim's clock."""
    iamport.customer_create(customer_uid="sdk-sched", card_number="9100200000000005", expiry="2099-12", birth="800101")
    now = int(httpx.post(f"{pgsim}/_control/clock", json={"advance": 0}).json()["now"])
    made = iamport.pay_schedule(
        customer_uid="sdk-sched",
        schedules=[
            {
                "merchant_uid": "sdk-sched-1",
                "schedule_at": now + 60,
                "amount": 9900,
                "currency": "KRW",
                "name": "구독 1회차",
            },
            {
                "merchant_uid": "sdk-sched-2",
                "schedule_at": now + 3600,
                "amount": 9900,
                "currency": "KRW",
                "name": "구독 2회차",
            },
        ],
    )
    assert [s["schedule_status"] for s in made] == ["scheduled", "scheduled"]
    revoked = iamport.pay_unschedule(customer_uid="sdk-sched", merchant_uid=["sdk-sched-2"])
    assert [s["merchant_uid"] for s in revoked] == ["sdk-sched-2"]
    httpx.post(f"{pgsim}/_control/clock", json={"advance": 61})
    ran = iamport.pay_schedule_get("sdk-sched-1")
    assert (ran["schedule_status"], ran["payment_status"]) == ("executed", "paid")
    assert iamport.find_by_merchant_uid("sdk-sched-1")["status"] == "paid"
    assert iamport.pay_schedule_get("sdk-sched-2")["schedule_status"] == "revoked"
